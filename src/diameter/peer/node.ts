/**
 * DiameterNode: a Diameter node (RFC 6733) that listens and/or connects to a set of known peers,
 * drives one peer state machine (§5.6, `psm.ts`) and one RFC 3539 watchdog (`watchdog.ts`) per
 * peer, routes requests by realm (`router.ts`), matches answers by Hop-by-Hop Identifier, times out
 * requests (DIAMETER_TIMEOUT), fails requests over to another peer when a connection goes down
 * (RFC 3539 §3.4, 'T' bit), reconnects with exponential backoff (Tc, RFC 6733 §2.1), and answers
 * requests with unknown mandatory AVPs with DIAMETER_AVP_UNSUPPORTED (§4.1). Sockets come from an
 * injected {@link DiameterTransport}; time from a {@link Clock}; randomness from an {@link Rng}.
 *
 * ```ts
 * const hss = new DiameterNode({ originHost: 'hss.ims.lab', originRealm: 'ims.lab', hostIpAddresses: ['127.0.0.1'],
 *   listen: { host: '127.0.0.1', port: 3868 }, peers: [{ host: 'scscf.ims.lab', realm: 'ims.lab' }] });
 * hss.onRequest(async (req) => buildMaa(req, { ... }));
 * await hss.start();
 * ```
 */
import { type Clock, type Logger, type Rng, type TimerHandle, cryptoRng, randomU32, silentLogger, systemClock } from '../../common/index.js';
import { type DiameterMessage, FLAG_RETRANSMIT, encodeMessage, isRequest } from '../codec/message.js';
import { DEFAULT_MAX_MESSAGE_SIZE, DiameterFramer } from '../codec/framer.js';
import { DisconnectCause, ResultCode } from '../dictionary/base.js';
import { type Dictionary, defaultDictionary, getValue } from '../dictionary/registry.js';
import { DiameterAvpError, DiameterParseError, DiameterPeerError, DiameterTimeoutError } from '../errors.js';
import { type DiameterNodeOptions, type DiameterTimers, type PeerConfig, type PeerStatus, type RequestHandler, type RequestOptions, type TraceCallback, localCapabilities, PRE_CER_DEFAULTS, resolveTimers } from './node-options.js';
import { answerRequest } from './serve.js';
import { tcpTransport } from '../transport/tcp.js';
import type { DiameterConnection, DiameterListener, DiameterTransport } from '../transport/types.js';
import { type Capabilities, buildCea, buildDwr, commonApplications, isPeerCommand, parseCer } from './base-messages.js';
import { buildErrorAnswer } from './error-answer.js';
import { EndToEndGenerator, HopByHopGenerator, SessionIdGenerator } from './ids.js';
import { type PsmAction, type PsmContext, type PsmEvent, type PsmState, type Side, initialPsmState, psmStep } from './psm.js';
import { Router } from './router.js';
import { type WatchdogAction, type WatchdogEvent, type WatchdogState, initialWatchdogState, watchdogInterval, watchdogStep } from './watchdog.js';

interface Pending {
  msg: DiameterMessage;
  resolve: (m: DiameterMessage) => void;
  reject: (e: Error) => void;
  timer: TimerHandle;
  peer: Peer;
  timeoutMs: number;
  fixedPeer: boolean;
}

/** Per-peer runtime state: PSM, watchdog, connections, pending requests. */
class Peer {
  psm: PsmState = initialPsmState;
  wd: WatchdogState = initialWatchdogState;
  iConn: DiameterConnection | undefined;
  /** Increments on each connect attempt so a late connect result can be recognised. */
  iGen = 0;
  rConns = new Map<number, DiameterConnection>();
  psmTimer: TimerHandle | undefined;
  wdTimer: TimerHandle | undefined;
  /** When SetWatchdog() last ran, and the Tw (with jitter) of the armed timer. */
  wdSetAt = 0;
  wdTw = 0;
  reconnectTimer: TimerHandle | undefined;
  backoffMs = 0;
  pending = new Map<number, Pending>();
  peerCaps: Capabilities | undefined;
  usable = false;
  status: PeerStatus = 'down';
  constructor(
    readonly cfg: PeerConfig,
    readonly realm: string,
  ) {}
  get host(): string {
    return this.cfg.host;
  }
  get open(): boolean {
    return this.psm.name === 'I-Open' || this.psm.name === 'R-Open';
  }
}

/** A connection accepted but not yet bound to a peer (waiting for its CER). */
interface Unbound {
  conn: DiameterConnection;
  framer: DiameterFramer;
  timer: TimerHandle;
}

export class DiameterNode {
  readonly local: Capabilities;
  private readonly opts: DiameterNodeOptions;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly transport: DiameterTransport;
  private readonly log: Logger;
  private readonly dict: Dictionary;
  private readonly t: Required<DiameterTimers>;
  private readonly peers = new Map<string, Peer>();
  private readonly router: Router;
  private readonly hbh: HopByHopGenerator;
  private readonly e2e: EndToEndGenerator;
  private readonly sids: SessionIdGenerator;
  private listener: DiameterListener | undefined;
  private handler: RequestHandler | undefined;
  private readonly statusCbs: ((host: string, status: PeerStatus, detail?: string) => void)[] = [];
  private readonly traceCbs: TraceCallback[] = [];
  private readonly connPeer = new Map<number, Peer>();
  private readonly unbound = new Map<number, Unbound>();
  private stopping = false;
  private refusedUnbound = 0;
  private unboundCapLogged = false;

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

  /** Starts listening (if configured) and connecting to every peer with a `connect` address. */
  async start(): Promise<void> {
    this.stopping = false;
    if (this.opts.listen) this.listener = await this.transport.listen(this.opts.listen.host, this.opts.listen.port, (c) => this.accept(c));
    for (const p of this.peers.values()) if (p.cfg.connect) this.psm(p, { kind: 'Start' });
  }

  /** The port actually bound (useful with port 0). */
  get listenPort(): number | undefined {
    return this.listener?.port;
  }

  /** Sends DPR to every open peer (RFC 6733 §5.4), waits for DPA or the timeout, closes everything. */
  async stop(cause: number = DisconnectCause.REBOOTING): Promise<void> {
    this.stopping = true;
    for (const p of this.peers.values()) {
      if (p.reconnectTimer) p.reconnectTimer.cancel();
      p.reconnectTimer = undefined;
      if (p.psm.name !== 'Closed') this.psm(p, { kind: 'Stop', disconnectCause: cause });
    }
    const deadline = this.t.dpaTimeoutMs + 200;
    await this.waitUntil(() => [...this.peers.values()].every((p) => p.psm.name === 'Closed'), deadline);
    for (const p of this.peers.values()) {
      p.iConn?.destroy();
      for (const c of p.rConns.values()) c.destroy();
      p.psmTimer?.cancel();
      p.wdTimer?.cancel();
      this.failAll(p, new DiameterPeerError(`node stopped; no answer from ${p.host}`));
    }
    for (const u of this.unbound.values()) {
      u.timer.cancel();
      u.conn.destroy();
    }
    this.unbound.clear();
    await this.listener?.close();
    this.listener = undefined;
  }

  /** Registers the handler for application requests (one handler; a later call replaces it). */
  onRequest(handler: RequestHandler): void {
    this.handler = handler;
  }

  /** Subscribes to peer status changes ('up' when usable, 'suspect', 'down'). */
  onPeerStatus(cb: (host: string, status: PeerStatus, detail?: string) => void): void {
    this.statusCbs.push(cb);
  }

  /**
   * Subscribes to every message sent ('out') or received ('in') on a peer connection, base peer
   * messages included (for logs, pcap recording and tests). Messages may carry secrets (CK, IK,
   * XRES in MAA): never log them whole.
   */
  onTrace(cb: TraceCallback): void {
    this.traceCbs.push(cb);
  }

  /** A fresh Session-Id (RFC 6733 §8.8). */
  newSessionId(optional?: string): string {
    return this.sids.take(optional);
  }

  /** Peer state for diagnostics and tests. */
  peerState(host: string): { psm: PsmState['name']; watchdog: WatchdogState['name']; usable: boolean; pending: number } | undefined {
    const p = this.peers.get(host.toLowerCase());
    return p && { psm: p.psm.name, watchdog: p.wd.name, usable: p.usable, pending: p.pending.size };
  }

  /** Resolves once `host` is usable (open and watchdog OKAY); rejects with DIAMETER_TIMEOUT. Uses real time. */
  async waitForPeer(host: string, timeoutMs = 5000): Promise<void> {
    const p = this.peers.get(host.toLowerCase());
    if (!p) throw new DiameterPeerError(`unknown peer ${host}`);
    if (!(await this.waitUntil(() => p.usable, timeoutMs))) throw new DiameterTimeoutError(`peer ${host} not up after ${timeoutMs} ms (state ${p.psm.name}/${p.wd.name})`, 0, timeoutMs);
  }

  /**
   * Sends a request and resolves with its answer (matched by Hop-by-Hop Identifier, RFC 6733 §6.2).
   * Hop-by-Hop is always assigned here; End-to-End when the message has 0.
   * @throws DiameterPeerError (3002 DIAMETER_UNABLE_TO_DELIVER) when no peer is usable,
   *   DiameterTimeoutError when no answer comes in time.
   */
  request(msg: DiameterMessage, opts: RequestOptions = {}): Promise<DiameterMessage> {
    if (!isRequest(msg)) return Promise.reject(new DiameterPeerError('request() needs a message with the R bit'));
    const timeoutMs = opts.timeoutMs ?? this.t.requestTimeoutMs;
    const out: DiameterMessage = { ...msg, endToEnd: msg.endToEnd || this.e2e.take() };
    return new Promise((resolve, reject) => {
      const peer = opts.peer !== undefined ? this.peers.get(opts.peer.toLowerCase()) : this.route(out)[0];
      if (!peer || !peer.usable) {
        reject(new DiameterPeerError(opts.peer !== undefined ? `peer ${opts.peer} is not usable` : `no usable peer for ${getValue(out.avps, 'Destination-Realm') ?? '(no Destination-Realm)'}`, ResultCode.DIAMETER_UNABLE_TO_DELIVER));
        return;
      }
      const pend: Pending = { msg: out, resolve, reject, timer: { cancel() {} }, peer, timeoutMs, fixedPeer: opts.peer !== undefined };
      this.sendPending(pend, out);
    });
  }

  // ---------------------------------------------------------------- requests and answers

  private route(msg: DiameterMessage): Peer[] {
    return this.router.candidates(msg, (h) => this.peers.get(h.toLowerCase())?.usable === true).map((h) => this.peers.get(h.toLowerCase()) as Peer);
  }

  private sendPending(pend: Pending, msg: DiameterMessage): void {
    const hbh = this.hbh.take();
    const m = { ...msg, hopByHop: hbh };
    pend.msg = m;
    pend.peer.pending.set(hbh, pend);
    pend.timer = this.clock.setTimeout(pend.timeoutMs, () => {
      if (pend.peer.pending.get(hbh) !== pend) return;
      pend.peer.pending.delete(hbh);
      pend.reject(new DiameterTimeoutError(`no answer from ${pend.peer.host} to command ${m.commandCode} within ${pend.timeoutMs} ms`, hbh, pend.timeoutMs));
    });
    this.psm(pend.peer, { kind: 'Send-Message', msg: m });
  }

  private answerArrived(p: Peer, ans: DiameterMessage): void {
    const pend = p.pending.get(ans.hopByHop);
    if (!pend) {
      this.log.debug({ peer: p.host, hopByHop: ans.hopByHop }, 'diameter: unexpected answer dropped');
      return;
    }
    p.pending.delete(ans.hopByHop);
    pend.timer.cancel();
    pend.resolve(ans);
  }

  /** RFC 3539 §3.4 Failover: move pending requests to another usable peer with the 'T' bit, or fail them. */
  private failover(p: Peer, why: string): void {
    const list = [...p.pending.values()];
    p.pending.clear();
    for (const pend of list) {
      pend.timer.cancel();
      const alt = pend.fixedPeer ? undefined : this.route(pend.msg).find((q) => q !== p);
      if (alt) {
        pend.peer = alt;
        this.sendPending(pend, { ...pend.msg, flags: pend.msg.flags | FLAG_RETRANSMIT });
      } else {
        pend.reject(new DiameterPeerError(`peer ${p.host} went down (${why}) before answering`, ResultCode.DIAMETER_UNABLE_TO_DELIVER));
      }
    }
  }

  private failAll(p: Peer, err: Error): void {
    for (const pend of p.pending.values()) {
      pend.timer.cancel();
      pend.reject(err);
    }
    p.pending.clear();
  }

  private async serveRequest(p: Peer, req: DiameterMessage): Promise<void> {
    const answer = await answerRequest(req, { local: this.local, peerCaps: p.peerCaps, peerHost: p.host, dictionary: this.dict, handler: this.handler, log: this.log });
    this.psm(p, { kind: 'Send-Message', msg: answer });
  }

  // ---------------------------------------------------------------- connections

  private accept(conn: DiameterConnection): void {
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

  private onRMessage(conn: DiameterConnection, msg: DiameterMessage, raw: Uint8Array): void {
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
  private dropUnbound(id: number): void {
    this.unbound.delete(id);
    if (this.unbound.size < (this.opts.maxUnboundConnections ?? PRE_CER_DEFAULTS.maxUnboundConnections)) this.unboundCapLogged = false;
  }

  /** Inbound connections not yet bound to a peer, and how many were refused at the cap (tests, diagnostics). */
  get unboundConnections(): { open: number; refused: number } {
    return { open: this.unbound.size, refused: this.refusedUnbound };
  }

  private onBadFrame(conn: DiameterConnection, err: DiameterParseError, raw: Uint8Array): void {
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

  private writeTo(conn: DiameterConnection, msg: DiameterMessage): void {
    const m = isRequest(msg) ? { ...msg, hopByHop: msg.hopByHop || this.hbh.take(), endToEnd: msg.endToEnd || this.e2e.take() } : msg;
    const raw = encodeMessage(m);
    if (this.traceCbs.length) this.trace('out', this.connPeer.get(conn.id)?.host ?? this.peerOfIConn(conn) ?? conn.remote, m, raw);
    conn.write(raw);
  }

  private peerOfIConn(conn: DiameterConnection): string | undefined {
    for (const p of this.peers.values()) if (p.iConn === conn) return p.host;
    return undefined;
  }

  private trace(dir: 'in' | 'out', peer: string, msg: DiameterMessage, raw: Uint8Array): void {
    for (const cb of this.traceCbs) {
      try {
        cb(dir, peer, msg, raw);
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'diameter: trace callback failed');
      }
    }
  }

  private lingerClose(conn: DiameterConnection, ms = this.t.lingerMs): void {
    conn.close();
    this.clock.setTimeout(ms, () => conn.destroy());
  }

  private startConnect(p: Peer): void {
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

  // ---------------------------------------------------------------- state machine drivers

  private ctx(p: Peer): PsmContext {
    return {
      local: this.local,
      peerHost: p.host,
      ceaTimeoutMs: this.t.ceaTimeoutMs,
      dpaTimeoutMs: this.t.dpaTimeoutMs,
      lingerMs: this.t.lingerMs,
      checkCer: (caps) => {
        if (caps.originHost.toLowerCase() !== p.host.toLowerCase()) return { resultCode: ResultCode.DIAMETER_UNKNOWN_PEER, errorMessage: `unknown peer ${caps.originHost}` };
        if (this.opts.requireCommonApplication !== false && commonApplications(this.local, caps).length === 0) {
          return { resultCode: ResultCode.DIAMETER_NO_COMMON_APPLICATION, errorMessage: 'no common application' };
        }
        return { resultCode: ResultCode.DIAMETER_SUCCESS };
      },
    };
  }

  private psm(p: Peer, e: PsmEvent): void {
    const before = p.psm.name;
    const { state, actions } = psmStep(p.psm, e, this.ctx(p));
    p.psm = state;
    if (before !== state.name) this.log.debug({ peer: p.host, from: before, to: state.name, event: e.kind }, 'diameter: peer state');
    for (const a of actions) this.doPsm(p, a);
  }

  private connOf(p: Peer, side: Side, conn?: number): DiameterConnection | undefined {
    return side === 'I' ? p.iConn : p.rConns.get(conn as number);
  }

  private doPsm(p: Peer, a: PsmAction): void {
    switch (a.kind) {
      case 'connect':
        this.startConnect(p);
        return;
      case 'send': {
        const c = this.connOf(p, a.side, a.conn);
        if (c) this.writeTo(c, a.msg);
        return;
      }
      case 'disconnect': {
        const c = this.connOf(p, a.side, a.conn);
        if (!c) return;
        if (a.side === 'I') {
          p.iConn = undefined;
          p.iGen++;
        } else {
          p.rConns.delete(c.id);
          this.connPeer.delete(c.id);
        }
        if (a.lingerMs) this.lingerClose(c, a.lingerMs);
        else c.destroy();
        return;
      }
      case 'startTimer':
        p.psmTimer?.cancel();
        p.psmTimer = this.clock.setTimeout(a.ms, () => {
          p.psmTimer = undefined;
          this.psm(p, { kind: 'Timeout' });
        });
        return;
      case 'cancelTimer':
        p.psmTimer?.cancel();
        p.psmTimer = undefined;
        return;
      case 'open':
        p.peerCaps = a.peer;
        p.backoffMs = 0;
        this.log.info({ peer: p.host, side: a.side }, 'diameter: peer open');
        this.wd(p, { kind: 'connectionUp' });
        return;
      case 'closed':
        this.log.info({ peer: p.host, reason: a.reason }, 'diameter: peer closed');
        this.wd(p, { kind: 'connectionDown' });
        p.wdTimer?.cancel();
        p.wdTimer = undefined;
        this.setUsable(p, false, a.reason);
        this.failover(p, a.reason);
        this.scheduleReconnect(p);
        return;
      case 'deliver':
        if (isRequest(a.msg)) {
          if (isPeerCommand(a.msg)) return;
          void this.serveRequest(p, a.msg);
        } else this.answerArrived(p, a.msg);
        return;
      case 'watchdog':
        this.wd(p, { kind: a.event });
        return;
      case 'disconnecting':
        return;
    }
  }

  private wd(p: Peer, e: WatchdogEvent): void {
    const { state, actions } = watchdogStep(p.wd, e, this.t.reopenDwas);
    p.wd = state;
    for (const a of actions) this.doWd(p, a);
    // INITIAL → OKAY on the first connection makes the peer usable at once.
    if (e.kind === 'connectionUp' && state.name === 'OKAY') this.setUsable(p, true);
  }

  private doWd(p: Peer, a: WatchdogAction): void {
    switch (a.kind) {
      case 'setTimer': {
        if (p.wd.name === 'DOWN' || p.wd.name === 'INITIAL') {
          p.wdTimer?.cancel();
          p.wdTimer = undefined;
          return;
        }
        // RFC 3539 SetWatchdog() runs on every message. Re-arming an OS timer (and drawing jitter)
        // each time is costly, so the deadline moves and one timer checks it when it fires.
        p.wdSetAt = this.clock.now();
        if (!p.wdTimer) this.armWatchdog(p);
        return;
      }
      case 'sendDwr':
        if (p.open) this.psm(p, { kind: 'Send-Message', msg: buildDwr(this.local.originHost, this.local.originRealm, this.local.originStateId) });
        return;
      case 'failover':
        // RFC 3539: OKAY → SUSPECT (no DWA within Tw) or OKAY → DOWN (connection lost).
        if (p.wd.name === 'SUSPECT') this.setUsable(p, false, 'watchdog: no answer to DWR', 'suspect');
        this.failover(p, p.wd.name === 'SUSPECT' ? 'watchdog suspect' : 'connection down');
        return;
      case 'failback':
        this.setUsable(p, true);
        return;
      case 'closeConnection':
        // Close the open connection; the PSM then sees the disconnect and goes to Closed.
        if (p.psm.name === 'I-Open' && p.iConn) {
          const c = p.iConn;
          p.iConn = undefined;
          p.iGen++;
          c.destroy();
          this.psm(p, { kind: 'I-Peer-Disc' });
        } else if (p.psm.name === 'R-Open' && p.psm.rConn !== undefined) {
          const id = p.psm.rConn;
          const c = p.rConns.get(id);
          p.rConns.delete(id);
          this.connPeer.delete(id);
          c?.destroy();
          this.psm(p, { kind: 'R-Peer-Disc', conn: id });
        }
        return;
      case 'attemptOpen':
        return;
    }
  }

  private armWatchdog(p: Peer): void {
    const jitter = (randomU32(this.rng) % 4001) - 2000;
    p.wdTw = watchdogInterval(this.t.watchdogMs, jitter);
    const fire = (): void => {
      const due = p.wdSetAt + p.wdTw;
      const now = this.clock.now();
      if (now < due) {
        p.wdTimer = this.clock.setTimeout(due - now, fire);
        return;
      }
      p.wdTimer = undefined;
      this.wd(p, { kind: 'timer' });
    };
    p.wdTimer = this.clock.setTimeout(p.wdTw, fire);
  }

  private setUsable(p: Peer, usable: boolean, detail?: string, status: PeerStatus = usable ? 'up' : 'down'): void {
    p.usable = usable;
    if (p.status === status) return;
    p.status = status;
    for (const cb of this.statusCbs) cb(p.host, status, detail);
  }

  /** RFC 6733 §2.1 Tc: reconnect after a delay that doubles from reconnectMinMs up to reconnectMaxMs (with jitter). */
  private scheduleReconnect(p: Peer): void {
    if (this.stopping || !p.cfg.connect || p.reconnectTimer) return;
    p.backoffMs = p.backoffMs === 0 ? this.t.reconnectMinMs : Math.min(this.t.reconnectMaxMs, p.backoffMs * 2);
    const jitter = randomU32(this.rng) % Math.max(1, Math.floor(p.backoffMs / 4));
    p.reconnectTimer = this.clock.setTimeout(p.backoffMs + jitter, () => {
      p.reconnectTimer = undefined;
      if (!this.stopping && p.psm.name === 'Closed') this.psm(p, { kind: 'Start' });
    });
  }

  private async waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > until) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }
}

/** The address part of `address:port` (IPv6 or IPv4), IPv4-mapped IPv6 as IPv4, lower case. */
function addressOf(remote: string): string {
  const a = remote.slice(0, Math.max(0, remote.lastIndexOf(':'))).replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** Whether a connection from `remote` may belong to a peer configured with `addresses` (absent: any). */
function fromAllowedAddress(addresses: readonly string[] | undefined, remote: string): boolean {
  if (addresses === undefined) return true;
  const a = addressOf(remote);
  return addresses.some((x) => addressOf(`${x}:0`) === a);
}
