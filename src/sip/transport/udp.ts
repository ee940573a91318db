/**
 * SIP over UDP (RFC 3261 §18.1.1, §18.2.1), IPv4 or IPv6: one bound datagram socket. Every
 * datagram is one message; a datagram that is not SIP is counted and dropped, a request that
 * parses but fails the §8.2 checks is answered statelessly, and nothing a peer sends can throw
 * out of the socket handler.
 */
import { createSocket, type Socket } from 'node:dgram';
import { enlargeReceiveBuffer } from '../../common/udp-buffer.js';
import { InvalidArgumentError, type Logger } from '../../common/index.js';
import { silentLogger } from '../../common/log.js';
import type { SipMessage } from '../message/index.js';
import { canonicalAddress, checkPort, formatEndpoint, ipFamily } from './endpoint.js';
import { SipTransportError } from './errors.js';
import { acceptInbound, handUp, serialize, type InboundLimits, type RequestCheck } from './inbound.js';
import { newCounters, observeWire, type Endpoint, type InboundMessage, type SipTransport, type TransportCounters, type WireObserver } from './types.js';

/** RFC 768 + IPv4: the largest UDP payload (65535 - 8 - 20). */
export const MAX_UDP_PAYLOAD = 65507;

export interface UdpTransportOptions {
  /** Local IP literal to bind: 127.0.0.1, ::1, 0.0.0.0, :: … */
  readonly address: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly limits?: InboundLimits;
  /** The check every request must pass before it is handed up (default {@link transportCheck}). */
  readonly requestCheck?: RequestCheck;
  readonly logger?: Logger;
  /** Sees every datagram sent and received (pcap recording); see {@link WireObserver}. */
  readonly onWire?: WireObserver;
  /**
   * Share the socket with the other processes of a node:cluster (Node's cluster module then binds
   * it once, in the primary, and every worker reads and sends on the one socket). Default false.
   */
  readonly shared?: boolean;
  /**
   * Sees each message that passed the transport's checks before it is handed up; returning true
   * takes it (a worker that does not own the message passes it on to the one that does, which
   * hands it up with {@link UdpTransport.inject}).
   */
  readonly steer?: (msg: SipMessage, bytes: Uint8Array, remote: Endpoint) => boolean;
}

export class UdpTransport implements SipTransport {
  readonly protocol = 'udp' as const;
  readonly reliable = false;
  readonly family: 4 | 6;
  readonly counters: TransportCounters = newCounters();
  /** The wire observer (from the options; may be set later, e.g. by a recorder). */
  onWire: WireObserver | undefined;
  private handler: ((m: InboundMessage) => void) | undefined;
  private closed = false;
  private boundPort = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly address: string,
    private readonly opts: UdpTransportOptions,
    private readonly log: Logger,
  ) {
    this.family = ipFamily(address) === 6 ? 6 : 4;
    this.onWire = opts.onWire;
  }

  /** Binds a UDP socket and resolves once it is listening. */
  static async bind(opts: UdpTransportOptions): Promise<UdpTransport> {
    const fam = ipFamily(opts.address);
    if (fam === 0) throw new InvalidArgumentError(`UDP transport needs an IP literal, got ${opts.address}`, 'address');
    checkPort(opts.port ?? 0, true);
    const socket = createSocket({ type: fam === 6 ? 'udp6' : 'udp4', ipv6Only: fam === 6 });
    const t = new UdpTransport(socket, opts.address, opts, (opts.logger ?? silentLogger).child({ transport: 'udp' }));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: opts.address, port: opts.port ?? 0, exclusive: opts.shared !== true }, () => {
        socket.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      socket.close();
      throw new SipTransportError(`cannot bind UDP ${opts.address}:${opts.port ?? 0}`, undefined, { cause: err });
    });
    t.boundPort = socket.address().port;
    enlargeReceiveBuffer(socket);
    socket.on('message', (buf, rinfo) => t.onDatagram(buf, { address: rinfo.address, port: rinfo.port }));
    // ICMP errors and the like surface here; a transport never throws from a socket event.
    socket.on('error', (err) => t.log.warn({ err: err.message }, 'udp socket error'));
    return t;
  }

  get local(): Endpoint {
    return { address: this.address, port: this.boundPort };
  }

  onMessage(handler: (m: InboundMessage) => void): void {
    this.handler = handler;
  }

  send(data: SipMessage | Uint8Array, dest: Endpoint): Promise<void> {
    if (this.closed) return Promise.reject(new SipTransportError('transport closed', dest));
    const bytes = data instanceof Uint8Array ? data : serialize(data);
    if (bytes.length > MAX_UDP_PAYLOAD) {
      this.counters.sendErrors++;
      return Promise.reject(new SipTransportError(`message of ${bytes.length} bytes does not fit a UDP datagram`, dest));
    }
    return new Promise((resolve, reject) => {
      const failed = (err: Error): void => {
        this.counters.sendErrors++;
        reject(new SipTransportError(`UDP send to ${formatEndpoint(dest)} failed: ${err.message}`, dest, { cause: err }));
      };
      try {
        if (this.onWire) observeWire(this.onWire, 'out', bytes, this.local, { address: canonicalAddress(dest.address), port: dest.port }, 'udp');
        this.socket.send(bytes, dest.port, canonicalAddress(dest.address), (err) => {
          if (err) failed(err);
          else {
            this.counters.sent++;
            resolve();
          }
        });
      } catch (err) {
        // A bad port (0, > 65535) throws synchronously.
        failed(err as Error);
      }
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  /**
   * Hands up a datagram this socket's node received elsewhere as if it had arrived here from
   * `remote` (the message another worker of the node received on the shared socket), with no
   * {@link UdpTransportOptions.steer}.
   */
  inject(bytes: Uint8Array, remote: Endpoint): void {
    this.receive(bytes, remote, false);
  }

  private onDatagram(buf: Buffer, remote: Endpoint): void {
    this.receive(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), remote, true);
  }

  private receive(bytes: Uint8Array, remote: Endpoint, steer: boolean): void {
    if (this.closed) return;
    if (this.onWire) observeWire(this.onWire, 'in', bytes, this.local, remote, 'udp');
    const r = acceptInbound(bytes, { protocol: 'udp', local: this.local, remote }, this.opts.limits, this.opts.requestCheck);
    switch (r.kind) {
      case 'keepalive':
        return;
      case 'drop':
        this.counters.dropped[r.reason]++;
        this.log.debug({ reason: r.reason, remote: formatEndpoint(remote) }, 'datagram dropped');
        return;
      case 'reject':
        this.counters.rejected++;
        this.send(r.response, r.destination).catch(() => {});
        return;
      case 'message':
        if (steer && this.opts.steer?.(r.msg, bytes, remote)) return;
        this.counters.received++;
        this.deliver({ msg: r.msg, transport: 'udp', local: this.local, remote, receivedOn: this });
    }
  }

  private deliver(m: InboundMessage): void {
    handUp(this.handler, m, this.counters, this.log);
  }
}

