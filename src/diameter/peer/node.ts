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
import { type DiameterMessage, FLAG_RETRANSMIT, isRequest } from '../codec/message.js';
import { DisconnectCause, ResultCode } from '../dictionary/base.js';
import { getValue } from '../dictionary/registry.js';
import { DiameterPeerError, DiameterTimeoutError } from '../errors.js';
import type { PeerStatus, RequestHandler, RequestOptions, TraceCallback } from './node-options.js';
import { answerRequest } from './serve.js';
import { NodeDrivers } from './node-drivers.js';
import type { Pending, Peer } from './peer-runtime.js';
import type { PsmState } from './psm.js';
import type { WatchdogState } from './watchdog.js';

export class DiameterNode extends NodeDrivers {
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

  protected answerArrived(p: Peer, ans: DiameterMessage): void {
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
  protected failover(p: Peer, why: string): void {
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

  protected async serveRequest(p: Peer, req: DiameterMessage): Promise<void> {
    const answer = await answerRequest(req, { local: this.local, peerCaps: p.peerCaps, peerHost: p.host, dictionary: this.dict, handler: this.handler, log: this.log });
    this.psm(p, { kind: 'Send-Message', msg: answer });
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
