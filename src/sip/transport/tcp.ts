/**
 * SIP over TCP (RFC 3261 §18, §18.3 framing), IPv4 or IPv6: a listening socket plus a pool of
 * connections keyed by the remote address and port. An outgoing message to an endpoint reuses the
 * connection to it — one we opened or one the peer opened to us — and responses go back on the
 * connection their request came in on (§18.2.2). A peer that sends bytes which cannot be framed
 * or parsed as SIP (garbage, an endless header) is disconnected and counted.
 *
 * Connection hygiene (RFC 3261 §18.3 leaves connection management to the implementation; RFC 5626
 * §3.5.1 has clients keep connections alive with CRLF pings well inside two minutes): a connection
 * idle for `idleTimeoutMs` is closed, a message must arrive whole within `partialTimeoutMs` of its
 * first byte (a peer trickling half a request holds nothing for long), and accepted connections
 * are capped per source address and in total — a connection beyond a cap is closed at once, with
 * one warning per episode in the log.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { InvalidArgumentError, systemClock, type Clock, type Logger, type TimerHandle } from '../../common/index.js';
import { silentLogger } from '../../common/log.js';
import { SipStreamFramer, type SipMessage } from '../message/index.js';
import { canonicalAddress, checkPort, endpointKey, formatEndpoint, ipFamily } from './endpoint.js';
import { SipTransportError } from './errors.js';
import { acceptInbound, handUp, serialize } from './inbound.js';
import { TCP_DEFAULTS, type TcpTransportOptions } from './tcp-options.js';
import { newCounters, observeWire, type Endpoint, type InboundMessage, type SendOptions, type SipTransport, type TransportCounters, type WireObserver } from './types.js';

interface Conn {
  readonly socket: Socket;
  readonly remote: Endpoint;
  readonly local: Endpoint;
  readonly framer: SipStreamFramer;
  /** Accepted from a peer (counted against the caps), not opened by us. */
  readonly accepted: boolean;
  idle?: TimerHandle;
  partial?: TimerHandle;
  /** The reset of a connection let go (abortive close). */
  abort?: TimerHandle;
}

export class TcpTransport implements SipTransport {
  readonly protocol = 'tcp' as const;
  readonly reliable = true;
  readonly family: 4 | 6;
  readonly counters: TransportCounters = newCounters();
  private readonly conns = new Map<string, Conn>();
  private readonly connecting = new Map<string, Promise<Conn>>();
  /** Open accepted connections per canonical source address, and in total. */
  private readonly perSource = new Map<string, number>();
  private acceptedCount = 0;
  /** Which cap has been reported in the log since it was last below its limit. */
  private capLogged = { total: false, source: false };
  private handler: ((m: InboundMessage) => void) | undefined;
  private closed = false;
  private boundPort = 0;
  private readonly clock: Clock;
  /** The wire observer (from the options; may be set later, e.g. by a recorder). */
  onWire: WireObserver | undefined;

  private constructor(
    private readonly server: Server,
    private readonly address: string,
    private readonly opts: TcpTransportOptions,
    private readonly log: Logger,
  ) {
    this.family = ipFamily(address) === 6 ? 6 : 4;
    this.clock = opts.clock ?? systemClock;
    this.onWire = opts.onWire;
  }

  /** Starts listening and resolves once the socket is bound. */
  static async listen(opts: TcpTransportOptions): Promise<TcpTransport> {
    const fam = ipFamily(opts.address);
    if (fam === 0) throw new InvalidArgumentError(`TCP transport needs an IP literal, got ${opts.address}`, 'address');
    checkPort(opts.port ?? 0, true);
    // Abortive close: a peer's FIN does not close our side (no graceful close behind our back).
    const server = createServer({ noDelay: true, allowHalfOpen: opts.abortAfterMs !== undefined });
    const t = new TcpTransport(server, opts.address, opts, (opts.logger ?? silentLogger).child({ transport: 'tcp' }));
    server.on('connection', (s) => t.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: opts.address, port: opts.port ?? 0, ipv6Only: fam === 6, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      server.close();
      throw new SipTransportError(`cannot listen on TCP ${opts.address}:${opts.port ?? 0}`, undefined, { cause: err });
    });
    server.on('error', (err) => t.log.warn({ err: err.message }, 'tcp server error'));
    const a = server.address();
    t.boundPort = typeof a === 'object' && a ? a.port : 0;
    return t;
  }

  get local(): Endpoint {
    return { address: this.address, port: this.boundPort };
  }

  /** Number of open connections (for tests and the dashboard). */
  get connectionCount(): number {
    return this.conns.size;
  }

  /** Open connections accepted from one source address (for tests and the dashboard). */
  connectionsFrom(address: string): number {
    return this.perSource.get(canonicalAddress(address)) ?? 0;
  }

  /** Whether a connection to (or from) this remote endpoint is open. */
  hasConnection(remote: Endpoint): boolean {
    return this.conns.has(endpointKey(remote));
  }

  onMessage(handler: (m: InboundMessage) => void): void {
    this.handler = handler;
  }

  /**
   * Lets go of the connection with `remote` whose local port is `localPort`, if there is one:
   * what is queued still leaves for a while, then the connection is reset (with
   * {@link TcpTransportOptions.abortAfterMs}; closed at once without). For a connection whose
   * IPsec SAs are going: the kernel must not retransmit its data once they are gone (that would
   * be in the clear). Returns whether there was one.
   */
  closeFlow(remote: Endpoint, localPort: number): boolean {
    const c = this.conns.get(endpointKey(remote));
    if (!c || c.local.port !== localPort) return false;
    this.letGo(c);
    return true;
  }

  /** A connection we are done with: reset {@link TcpTransportOptions.abortAfterMs} later, or closed now. */
  private letGo(c: Conn): void {
    const ms = this.opts.abortAfterMs;
    if (ms === undefined) return void c.socket.destroy();
    c.abort ??= this.clock.setTimeout(ms, () => this.drop(c));
  }

  /** Closes a connection now: reset (abortive close) or destroyed. */
  private drop(c: Conn): void {
    c.abort?.cancel();
    if (c.socket.destroyed) return;
    // With abortive close no shutdown is ever started, so the reset is always allowed (libuv
    // refuses one while a shutdown is in flight).
    if (this.opts.abortAfterMs !== undefined && !c.socket.connecting) c.socket.resetAndDestroy();
    else c.socket.destroy();
  }

  async send(data: SipMessage | Uint8Array, dest: Endpoint, opts: SendOptions = {}): Promise<void> {
    if (this.closed) throw new SipTransportError('transport closed', dest);
    const bytes = data instanceof Uint8Array ? data : serialize(data);
    const key = endpointKey(dest);
    let conn = this.conns.get(key);
    // TS 33.203 §7.1: a connection we opened from another local port belongs to another SA pair
    // (an older port_uc/port_pc after a change-over): a new one leaves from the port asked for.
    if (conn && !conn.accepted && !opts.existingOnly && this.opts.localPortFor && conn.local.port !== (this.opts.localPortFor(dest) ?? conn.local.port)) conn = undefined;
    if (!conn) {
      if (opts.existingOnly) throw new SipTransportError(`no TCP connection to ${formatEndpoint(dest)}`, dest);
      conn = await this.open(dest, key);
    }
    const c = conn;
    if (this.onWire) observeWire(this.onWire, 'out', bytes, socketLocal(c.socket, c.local), c.remote, 'tcp');
    await new Promise<void>((resolve, reject) => {
      c.socket.write(bytes, (err) => {
        if (err) {
          this.counters.sendErrors++;
          reject(new SipTransportError(`TCP send to ${formatEndpoint(dest)} failed: ${err.message}`, dest, { cause: err }));
        } else {
          this.counters.sent++;
          resolve();
        }
      });
    });
    this.touch(c);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.conns.values()) this.drop(c);
    this.conns.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Opens (once, even for concurrent senders) a connection to dest from our local address. */
  private open(dest: Endpoint, key: string): Promise<Conn> {
    const pending = this.connecting.get(key);
    if (pending) return pending;
    const p = new Promise<Conn>((resolve, reject) => {
      let socket: Socket;
      try {
        const localPort = this.opts.localPortFor?.(dest);
        socket = connect({ host: canonicalAddress(dest.address), port: dest.port, localAddress: this.address, ...(localPort !== undefined ? { localPort } : {}), noDelay: true, allowHalfOpen: this.opts.abortAfterMs !== undefined });
      } catch (err) {
        // A bad port or address throws synchronously (ERR_SOCKET_BAD_PORT): still a transport error.
        this.counters.sendErrors++;
        reject(new SipTransportError(`cannot connect to ${formatEndpoint(dest)}: ${(err as Error).message}`, dest, { cause: err }));
        return;
      }
      const timer = this.clock.setTimeout(this.opts.connectTimeoutMs ?? 10_000, () => {
        socket.destroy();
        reject(new SipTransportError(`TCP connect to ${formatEndpoint(dest)} timed out`, dest));
      });
      socket.once('connect', () => {
        timer.cancel();
        socket.off('error', onError);
        resolve(this.adopt(socket));
      });
      const onError = (err: Error): void => {
        timer.cancel();
        this.counters.sendErrors++;
        reject(new SipTransportError(`TCP connect to ${formatEndpoint(dest)} failed: ${err.message}`, dest, { cause: err }));
      };
      socket.once('error', onError);
    });
    this.connecting.set(key, p);
    const clear = (): void => void this.connecting.delete(key);
    p.then(clear, clear);
    return p;
  }

  /** A connection a peer opened: refused (closed at once) beyond a cap, else adopted. */
  private accept(socket: Socket): void {
    const source = canonicalAddress(socket.remoteAddress ?? '');
    const fromSource = this.perSource.get(source) ?? 0;
    const maxTotal = this.opts.maxConnections ?? TCP_DEFAULTS.maxConnections;
    const maxSource = this.opts.maxConnectionsPerSource ?? TCP_DEFAULTS.maxConnectionsPerSource;
    const cap = this.acceptedCount >= maxTotal ? 'total' : fromSource >= maxSource ? 'source' : undefined;
    if (cap !== undefined || this.closed) {
      socket.on('error', () => undefined);
      socket.destroy();
      if (cap === undefined) return;
      this.counters.connectionsRefused++;
      if (!this.capLogged[cap]) {
        this.capLogged[cap] = true;
        const detail = cap === 'total' ? { limit: maxTotal } : { limit: maxSource, source };
        this.log.warn({ cap, ...detail, local: formatEndpoint(this.local) }, `tcp connection cap reached (${cap === 'total' ? `${maxTotal} in total` : `${maxSource} from ${source}`}): refusing new connections`);
      }
      return;
    }
    this.perSource.set(source, fromSource + 1);
    this.acceptedCount++;
    socket.once('close', () => {
      const n = (this.perSource.get(source) ?? 1) - 1;
      if (n <= 0) this.perSource.delete(source);
      else this.perSource.set(source, n);
      this.acceptedCount--;
      if (this.acceptedCount < maxTotal) this.capLogged.total = false;
      if (n < maxSource) this.capLogged.source = false;
    });
    this.adopt(socket, true);
  }

  /** Registers a connected socket (accepted or opened) and wires its input. */
  private adopt(socket: Socket, accepted = false): Conn {
    const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    // The connection's own local port: the listening port for an accepted one, the bound (or
    // OS-chosen) port for one we opened.
    const local = { address: this.address, port: socket.localPort ?? this.boundPort };
    // RFC 5626 §3.5.1: a double-CRLF "ping" is answered with a single-CRLF "pong".
    const framer = new SipStreamFramer(this.opts.limits, { onKeepAlive: (kind) => kind === 'ping' && !socket.destroyed && socket.write('\r\n') });
    const conn: Conn = { socket, remote, local, framer, accepted };
    if (this.closed) {
      socket.destroy();
      return conn;
    }
    const key = endpointKey(remote);
    const older = this.conns.get(key);
    if (older) this.letGo(older);
    this.conns.set(key, conn);
    this.counters.connectionsOpened++;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', (err) => this.log.debug({ err: err.message, remote: formatEndpoint(remote) }, 'tcp connection error'));
    // Abortive close: the peer's FIN lets the connection go (our side never closes gracefully).
    if (this.opts.abortAfterMs !== undefined) socket.on('end', () => this.letGo(conn));
    socket.on('close', () => {
      conn.idle?.cancel();
      conn.partial?.cancel();
      conn.abort?.cancel();
      if (this.conns.get(key) === conn) this.conns.delete(key);
      this.counters.connectionsClosed++;
    });
    this.touch(conn);
    return conn;
  }

  private onData(conn: Conn, chunk: Buffer): void {
    if (conn.socket.destroyed) return;
    this.touch(conn);
    if (this.onWire) observeWire(this.onWire, 'in', new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), socketLocal(conn.socket, conn.local), conn.remote, 'tcp');
    try {
      conn.framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), (bytes) => this.onFrame(conn, bytes));
      this.watchPartial(conn);
    } catch (err) {
      // The framer refuses garbage or an endless header: the stream cannot be resynchronised.
      const code = (err as { code?: string })?.code;
      this.counters.dropped[code === 'SIP_LIMIT' ? 'limit' : 'parse']++;
      this.disconnect(conn, `framing failed: ${(err as Error)?.message}`);
    }
  }

  private onFrame(conn: Conn, bytes: Uint8Array): void {
    if (conn.socket.destroyed) return;
    const r = acceptInbound(bytes, { protocol: 'tcp', local: conn.local, remote: conn.remote }, this.opts.limits, this.opts.requestCheck);
    switch (r.kind) {
      case 'keepalive':
        return;
      case 'drop':
        this.counters.dropped[r.reason]++;
        // A framed message that does not parse means the peer is not speaking SIP.
        if (r.reason === 'parse' || r.reason === 'limit') this.disconnect(conn, `unparseable message (${r.reason})`);
        return;
      case 'reject':
        this.counters.rejected++;
        this.send(r.response, conn.remote, { existingOnly: true }).catch(() => {});
        return;
      case 'message':
        this.counters.received++;
        handUp(this.handler, { msg: r.msg, transport: 'tcp', local: conn.local, remote: conn.remote, receivedOn: this }, this.counters, this.log);
    }
  }

  private disconnect(conn: Conn, why: string): void {
    this.counters.disconnectedForGarbage++;
    this.log.debug({ remote: formatEndpoint(conn.remote), why }, 'closing tcp connection');
    this.drop(conn);
  }

  private touch(conn: Conn): void {
    const ms = this.opts.idleTimeoutMs ?? TCP_DEFAULTS.idleTimeoutMs;
    if (ms <= 0) return;
    conn.idle?.cancel();
    conn.idle = this.clock.setTimeout(ms, () => {
      this.counters.idleClosed++;
      this.log.debug({ remote: formatEndpoint(conn.remote) }, 'closing idle tcp connection');
      this.drop(conn);
    });
  }

  /** Starts the partial-message timer at the first byte of an incomplete message; stops it once nothing is pending. */
  private watchPartial(conn: Conn): void {
    if (conn.framer.buffered === 0) {
      conn.partial?.cancel();
      conn.partial = undefined;
      return;
    }
    const ms = this.opts.partialTimeoutMs ?? TCP_DEFAULTS.partialTimeoutMs;
    if (ms <= 0 || conn.partial !== undefined) return;
    conn.partial = this.clock.setTimeout(ms, () => {
      this.counters.partialClosed++;
      this.log.debug({ remote: formatEndpoint(conn.remote), buffered: conn.framer.buffered }, 'closing tcp connection: message incomplete');
      this.drop(conn);
    });
  }
}

/** The real local end of a connection (an outgoing one has an ephemeral port, not the listening one). */
function socketLocal(socket: Socket, fallback: Endpoint): Endpoint {
  return socket.localPort === undefined ? fallback : { address: socket.localAddress ?? fallback.address, port: socket.localPort };
}
