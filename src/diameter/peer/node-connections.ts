/**
 * The connection side of a {@link DiameterNode} (RFC 6733 §2.1, §5.3): its configuration and
 * shared state, inbound connections waiting for their CER (capped, size-limited, timed), binding a
 * connection to a known peer, outbound connects, framing, writes and traces. The peer state
 * machines above it are driven in node-drivers.ts; requests and the public API in node.ts.
 */
import { type Clock, type Logger, type Rng, cryptoRng, systemClock } from '../../common/index.js';
import { silentLogger } from '../../common/log.js';
import { type DiameterMessage, encodeMessage, isRequest } from '../codec/message.js';
import { DEFAULT_MAX_MESSAGE_SIZE, DiameterFramer } from '../codec/framer.js';
import { ResultCode } from '../dictionary/base.js';
import { type Dictionary, defaultDictionary } from '../dictionary/registry.js';
import { DiameterAvpError, DiameterParseError, DiameterPeerError } from '../errors.js';
import { type DiameterNodeOptions, type DiameterTimers, type PeerStatus, type RequestHandler, type TraceCallback, localCapabilities, PRE_CER_DEFAULTS, resolveTimers } from './node-options.js';
import { tcpTransport } from '../transport/tcp.js';
import type { DiameterConnection, DiameterListener, DiameterTransport } from '../transport/types.js';
import { type Capabilities, buildCea, parseCer } from './base-messages.js';
import { buildErrorAnswer } from './error-answer.js';
import { EndToEndGenerator, HopByHopGenerator, SessionIdGenerator } from './ids.js';
import type { PsmEvent } from './psm.js';
import { Router } from './router.js';
import { fromAllowedAddress, Peer, type Unbound } from './peer-runtime.js';

/** Configuration, shared state and connections of a Diameter node (see {@link DiameterNode}). */
export abstract class NodeConnections {
  readonly local: Capabilities;
  protected readonly opts: DiameterNodeOptions;
  protected readonly clock: Clock;
  protected readonly rng: Rng;
  protected readonly transport: DiameterTransport;
  protected readonly log: Logger;
  protected readonly dict: Dictionary;
  protected readonly t: Required<DiameterTimers>;
  protected readonly peers = new Map<string, Peer>();
  protected readonly router: Router;
  protected readonly hbh: HopByHopGenerator;
  protected readonly e2e: EndToEndGenerator;
  protected readonly sids: SessionIdGenerator;
  protected listener: DiameterListener | undefined;
  protected handler: RequestHandler | undefined;
  protected readonly statusCbs: ((host: string, status: PeerStatus, detail?: string) => void)[] = [];
  protected readonly traceCbs: TraceCallback[] = [];
  protected readonly connPeer = new Map<number, Peer>();
  protected readonly unbound = new Map<number, Unbound>();
  protected stopping = false;
  protected refusedUnbound = 0;
  protected unboundCapLogged = false;

  constructor(opts: DiameterNodeOptions) {
    if (opts.hostIpAddresses.length === 0) throw new DiameterPeerError('hostIpAddresses must list at least one address (RFC 6733 §5.3.1)');
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.rng = opts.rng ?? cryptoRng;
    this.transport = opts.transport ?? tcpTransport;
    this.log = opts.logger ?? silentLogger;
    this.dict = opts.dictionary ?? defaultDictionary;
    this.t = resolveTimers(opts.timers);
    this.local = localCapabilities(opts, this.clock.now());
    const realms = new Map<string, string[]>();
    for (const pc of opts.peers) {
      const realm = (pc.realm ?? pc.host.slice(pc.host.indexOf('.') + 1)).toLowerCase();
      this.peers.set(pc.host.toLowerCase(), new Peer(pc, realm));
      realms.set(realm, [...(realms.get(realm) ?? []), pc.host]);
    }
    for (const r of opts.routes ?? []) realms.set(r.realm.toLowerCase(), [...(realms.get(r.realm.toLowerCase()) ?? []), ...r.peers]);
    this.router = new Router({ realms });
    this.hbh = new HopByHopGenerator(this.rng);
    this.e2e = new EndToEndGenerator(this.clock, this.rng);
    this.sids = new SessionIdGenerator(opts.originHost, this.clock);
  }

  // ---------------------------------------------------------------- public API


  /** One event for the peer state machine of `p` (node-drivers.ts). */
  protected abstract psm(p: Peer, e: PsmEvent): void;

  // ---------------------------------------------------------------- connections

  protected accept(conn: DiameterConnection): void {
    if (this.stopping) {
      conn.destroy();
      return;
    }
    // Unauthenticated connections are capped, and each may send only a small CER within the CER timer.
    const cap = this.opts.maxUnboundConnections ?? PRE_CER_DEFAULTS.maxUnboundConnections;
    if (this.unbound.size >= cap) {
      this.refusedUnbound++;
      if (!this.unboundCapLogged) {
        this.unboundCapLogged = true;
        this.log.warn({ limit: cap, remote: conn.remote }, `diameter: ${cap} connections are waiting for their CER: refusing new connections`);
      }
      conn.destroy();
      return;
    }
    const framer = new DiameterFramer({ maxMessageSize: this.opts.preCerMaxMessageSize ?? PRE_CER_DEFAULTS.maxMessageSize });
    const u: Unbound = {
      conn,
      framer,
      timer: this.clock.setTimeout(this.t.cerTimeoutMs, () => {
        this.dropUnbound(conn.id);
        conn.destroy();
      }),
    };
    this.unbound.set(conn.id, u);
    conn.onClose(() => {
      const ub = this.unbound.get(conn.id);
      if (ub) {
        ub.timer.cancel();
        this.dropUnbound(conn.id);
        return;
      }
      const p = this.connPeer.get(conn.id);
      if (p) {
        this.connPeer.delete(conn.id);
        p.rConns.delete(conn.id);
        this.psm(p, { kind: 'R-Peer-Disc', conn: conn.id });
      }
    });
    conn.onData((chunk) => {
      try {
        framer.push(
          chunk,
          (msg, raw) => this.onRMessage(conn, msg, raw),
          (err, raw) => this.onBadFrame(conn, err, raw),
        );
      } catch (e) {
        this.log.warn({ remote: conn.remote, err: (e as Error).message }, 'diameter: framing error, closing');
        conn.destroy();
      }
    });
  }

  protected onRMessage(conn: DiameterConnection, msg: DiameterMessage, raw: Uint8Array): void {
    const bound = this.connPeer.get(conn.id);
    this.trace('in', bound?.host ?? conn.remote, msg, raw);
    if (bound) {
      this.psm(bound, { kind: 'R-Rcv', conn: conn.id, msg });
      return;
    }
    const u = this.unbound.get(conn.id);
    if (!u) return;
    if (!(msg.applicationId === 0 && msg.commandCode === 257 && isRequest(msg))) {
      // RFC 6733 §5.3: the first message on a new connection must be a CER.
      u.timer.cancel();
      this.dropUnbound(conn.id);
      conn.destroy();
      return;
    }
    u.timer.cancel();
    this.dropUnbound(conn.id);
    let originHost: string;
    try {
      originHost = parseCer(msg).originHost;
    } catch (e) {
      const rc = e instanceof DiameterAvpError ? e.resultCode : ResultCode.DIAMETER_UNABLE_TO_COMPLY;
      this.writeTo(conn, buildCea(msg, this.local, rc, { errorMessage: (e as Error).message }));
      this.lingerClose(conn);
      return;
    }
    const known = this.peers.get(originHost.toLowerCase());
    const p = known && fromAllowedAddress(known.cfg.addresses, conn.remote) ? known : undefined;
    if (!p || this.stopping) {
      // RFC 6733 §5.3 / §7.1.3: a CER from a peer we do not know → DIAMETER_UNKNOWN_PEER, then close.
      this.log.warn({ originHost, remote: conn.remote }, 'diameter: CER from unknown peer refused');
      this.writeTo(conn, buildCea(msg, this.local, ResultCode.DIAMETER_UNKNOWN_PEER, { errorMessage: `unknown peer ${originHost}` }));
      this.lingerClose(conn);
      return;
    }
    this.connPeer.set(conn.id, p);
    p.rConns.set(conn.id, conn);
    u.framer.setMaxMessageSize(this.opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE);
    // Keep the framer: later messages on this connection come through onRMessage as bound.
    this.psm(p, { kind: 'R-Conn-CER', conn: conn.id, cer: msg });
  }

  /** Forgets an unbound connection; below the cap again, the next time it is reached is logged again. */
  protected dropUnbound(id: number): void {
    this.unbound.delete(id);
    if (this.unbound.size < (this.opts.maxUnboundConnections ?? PRE_CER_DEFAULTS.maxUnboundConnections)) this.unboundCapLogged = false;
  }

  /** Inbound connections not yet bound to a peer, and how many were refused at the cap (tests, diagnostics). */
  get unboundConnections(): { open: number; refused: number } {
    return { open: this.unbound.size, refused: this.refusedUnbound };
  }

  protected onBadFrame(conn: DiameterConnection, err: DiameterParseError, raw: Uint8Array): void {
    // A well-framed message whose AVPs do not parse: answer requests with the error (RFC 6733 §7.1.3/§7.1.5).
    const isReq = (raw[4] & 0x80) !== 0;
    this.log.debug({ remote: conn.remote, err: err.message }, 'diameter: undecodable message');
    if (!isReq) return;
    const hdr = { flags: raw[4], commandCode: (raw[5] << 16) | (raw[6] << 8) | raw[7], applicationId: 0, hopByHop: 0, endToEnd: 0, avps: [] };
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    hdr.applicationId = dv.getUint32(8);
    hdr.hopByHop = dv.getUint32(12);
    hdr.endToEnd = dv.getUint32(16);
    const ans = buildErrorAnswer(hdr, { originHost: this.local.originHost, originRealm: this.local.originRealm, resultCode: err.resultCode, errorMessage: err.message });
    this.writeTo(conn, ans);
  }

  protected writeTo(conn: DiameterConnection, msg: DiameterMessage): void {
    const m = isRequest(msg) ? { ...msg, hopByHop: msg.hopByHop || this.hbh.take(), endToEnd: msg.endToEnd || this.e2e.take() } : msg;
    const raw = encodeMessage(m);
    if (this.traceCbs.length) this.trace('out', this.connPeer.get(conn.id)?.host ?? this.peerOfIConn(conn) ?? conn.remote, m, raw);
    conn.write(raw);
  }

  protected peerOfIConn(conn: DiameterConnection): string | undefined {
    for (const p of this.peers.values()) if (p.iConn === conn) return p.host;
    return undefined;
  }

  protected trace(dir: 'in' | 'out', peer: string, msg: DiameterMessage, raw: Uint8Array): void {
    for (const cb of this.traceCbs) {
      try {
        cb(dir, peer, msg, raw);
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'diameter: trace callback failed');
      }
    }
  }

  protected lingerClose(conn: DiameterConnection, ms = this.t.lingerMs): void {
    conn.close();
    this.clock.setTimeout(ms, () => conn.destroy());
  }

  protected startConnect(p: Peer): void {
    const target = p.cfg.connect;
    if (!target) {
      this.psm(p, { kind: 'I-Rcv-Conn-Nack', reason: 'no address to connect to' });
      return;
    }
    const gen = ++p.iGen;
    this.transport.connect(target.host, target.port, this.t.ceaTimeoutMs).then(
      (conn) => {
        if (gen !== p.iGen || p.psm.name === 'Closed' || this.stopping) {
          conn.destroy();
          return;
        }
        p.iConn = conn;
        const framer = new DiameterFramer(this.opts.maxMessageSize !== undefined ? { maxMessageSize: this.opts.maxMessageSize } : {});
        conn.onData((chunk) => {
          try {
            framer.push(
              chunk,
              (msg, raw) => {
                if (p.iConn !== conn) return;
                this.trace('in', p.host, msg, raw);
                this.psm(p, { kind: 'I-Rcv', msg });
              },
              (err, raw) => this.onBadFrame(conn, err, raw),
            );
          } catch (e) {
            this.log.warn({ peer: p.host, err: (e as Error).message }, 'diameter: framing error, closing');
            conn.destroy();
          }
        });
        conn.onClose(() => {
          if (p.iConn !== conn) return;
          p.iConn = undefined;
          this.psm(p, { kind: 'I-Peer-Disc' });
        });
        this.psm(p, { kind: 'I-Rcv-Conn-Ack' });
      },
      (e: Error) => {
        if (gen !== p.iGen) return;
        this.psm(p, { kind: 'I-Rcv-Conn-Nack', reason: e.message });
      },
    );
  }
}
