/**
 * The stateful proxy core of RFC 3261 §16, shared by the P-CSCF, I-CSCF and S-CSCF: one
 * response context per server transaction (§16.6 "response context"), its branches (one client
 * transaction each, §16.6 step 10), the response processing of §16.7 and the CANCEL processing
 * of §16.10 / §9.1. No sockets and no transactions of its own: it sends through injected
 * {@link ProxyPorts} (the SipStack's transaction layer), hears back through
 * {@link ProxyCore.onResponse} and {@link ProxyCore.onClientEnd}, and answers upstream through
 * the {@link Upstream} of each context. Its one timer, on the injected clock, is §9.1's: a branch
 * cancelled and still without a final response 64·T1 later is given up as 487.
 *
 * A node keeps its own routing (Request-URI, Route, Record-Route: §16.6 steps 2, 4–6) and hands
 * the request to {@link ProxyContext.forward}; the promise resolves with the best final response
 * of the branches it made (§16.7 step 6), without our Via (step 3), and the node answers through
 * {@link ProxyContext.respond}, which forwards one final response upstream (step 5) and cancels
 * what is still pending (step 10). Lookups are by branch and by server transaction key, both O(1);
 * a context is forgotten once its server transaction and each of its client transactions have
 * terminated ("The proxy MUST maintain the response context until all of its associated
 * transactions have been terminated, even after forwarding a final response"), so a CANCEL that
 * comes after the final response still finds it and gets its 200 (§9.2).
 *
 * What a context keeps after that point depends on its method. An INVITE's keeps everything: a
 * CANCEL may still come (§16.10), and so may further 2xx to relay (RFC 6026 §8.4). Any other
 * request's, once its final response went upstream and its branches ended, has nothing left to
 * do (§16.7 step 5: no other response goes upstream after a final one; §9.1: a CANCEL is for an
 * INVITE) but wait for its server transaction's Timer J (64·T1 over UDP): it lets the request,
 * the responses and the way upstream go and keeps its key and origin, so that what a proxy holds
 * for the 32 s of every non-INVITE transaction it forwarded is a few hundred bytes, not the
 * messages.
 */
import { noopLogger, type Clock, type Logger, type Rng, type TimerHandle } from '../../common/index.js';
import { cseqOf, topVia, viaBranch } from '../headers/index.js';
import { cloneMessage, createResponse, type SipRequest, type SipResponse } from '../message/index.js';
import { SipTransportError } from '../transport/errors.js';
import type { Destination } from '../transport/types.js';
import { newBranch } from './ids.js';
import { bestResponse, cancelFor, proxyCopy, type ProxyBranch } from './proxy-branches.js';

/** What the core drives (the SipStack implements it over its transaction layer). */
export interface ProxyPorts {
  /**
   * §16.6 step 10: sends `req` (our Via on top, branch `branch`) through a new client transaction
   * to `dest`. Its responses come back through {@link ProxyCore.onResponse}, its end through
   * {@link ProxyCore.onClientEnd}. Throws when it cannot be sent at all.
   */
  send(req: SipRequest, dest: Destination, branch: string): void;
  /** §9.1: sends a CANCEL through a client transaction of its own; its answer ends at this hop (§16.7 step 3). */
  cancel(req: SipRequest, dest: Destination): void;
  /** §9.1: "SHOULD destroy the client transaction handling the original request" (the branch given up). */
  abandon(req: SipRequest): void;
}

/** The server transaction side of a response context. */
export interface Upstream {
  /** §16.7 step 9: "The proxy MUST pass the response to the server transaction". */
  respond(resp: SipResponse): void;
  /** §16.7 step 9: sends statelessly, for a late 2xx when the server transaction may be gone. */
  relay(resp: SipResponse): void;
}

export interface ProxyCoreOptions {
  readonly clock: Clock;
  /** Branch parameters (§8.1.1.7) and the To tag of a 487 made here. */
  readonly rng: Rng;
  /** Put after the branch's magic cookie ({@link newBranch}). */
  readonly branchTag?: string;
  /** T1 (§17.1.1.1): a cancelled branch is given up 64·T1 after its CANCEL (§9.1). */
  readonly t1: number;
  readonly ports: ProxyPorts;
  readonly logger?: Logger;
}

/** What a node may do with the responses of a forward before they go upstream. */
export interface ForwardHooks {
  /** Each provisional response but 100, without our Via (§16.7 step 5). Default: relayed upstream as is. */
  onProvisional?(resp: SipResponse): void;
  /** A 2xx after the first on an INVITE branch (RFC 6026 §8.4; §16.7 step 5). Default: relayed upstream statelessly. */
  onAdditional2xx?(resp: SipResponse): void;
}

/** The branches one {@link ProxyContext.forward} made and the promise waiting for them. */
interface Round {
  readonly branches: Branch[];
  readonly finals: SipResponse[];
  readonly errors: Error[];
  readonly hooks: ForwardHooks;
  settled: boolean;
  resolve(resp: SipResponse): void;
  reject(err: Error): void;
}

interface Branch extends ProxyBranch {
  readonly context: ProxyContext;
  readonly round: Round;
  /** The client transaction failed (time-out, transport error) without a final response. */
  failed?: Error;
  /** §9.1: the 64·T1 wait after our CANCEL. */
  wait?: TimerHandle;
}

/** What a context needs from its core. */
interface Env {
  readonly opts: ProxyCoreOptions;
  readonly log: Logger;
  track(b: Branch): void;
  untrack(b: Branch): void;
  release(c: ProxyContext): void;
}

/** One response context (RFC 3261 §16): a server transaction and the branches made for it. */
export class ProxyContext {
  /** A matching CANCEL came (§16.10): every pending branch is cancelled, no new one is made. */
  cancelled = false;
  /** A final response went upstream (or the server transaction ended). */
  finalSent = false;
  /** The server transaction ended (§17.2: Timer I, J or L, or a failure). */
  private serverGone = false;
  /** The branch set, by branch parameter. */
  readonly branches = new Map<string, Branch>();
  /** §16.7 step 4: "Final responses received are stored in the response context". */
  readonly finals: SipResponse[] = [];
  /** §16.7 step 5: after a 6xx "it MUST NOT create any new branches in this context". */
  private sixHundred = false;
  /** The way upstream; let go with the rest once a non-INVITE context only waits for its server transaction. */
  private upstream: Upstream | undefined;

  constructor(
    private readonly env: Env,
    /** The server transaction's key (§17.2.3). */
    readonly key: string,
    /** The method of the request as received. */
    readonly method: string,
    /** Where the request came from; a CANCEL must come from the same place. */
    readonly origin: string,
    upstream: Upstream,
  ) {
    this.upstream = upstream;
  }

  /**
   * §16.6: forwards `req` (routed by the node) to `dest` on a new branch, and resolves with the
   * best final response of the branches made (§16.7 step 6) without our Via — a 2xx at once.
   * Rejects with the client transaction's error (SipTimeoutError, SipTransportError, or
   * InvalidArgumentError for Max-Forwards 0) when no branch got a final response: §16.6 step 7
   * and §16.9 leave the 408 or 503 to the node. In a cancelled context no branch is made: the
   * answer is 487 at once.
   */
  forward(req: SipRequest, dest: Destination, hooks: ForwardHooks = {}): Promise<SipResponse> {
    if (this.cancelled) return Promise.resolve(createResponse(req, 487, 'Request Terminated', { rng: this.env.opts.rng }));
    if (this.sixHundred) return Promise.resolve(bestResponse(this.finals)!);
    return new Promise<SipResponse>((resolve, reject) => {
      const round: Round = { branches: [], finals: [], errors: [], hooks, settled: false, resolve, reject };
      // One target: a target set would open one branch per element here (§16.6).
      this.branch(round, req, dest);
      this.settle(round);
    });
  }

  /**
   * Sends a response upstream under §16.7 step 5: provisionals until a final response went, one
   * final response, and after it only further 2xx to an INVITE. A final response cancels every
   * pending branch (step 10).
   */
  respond(resp: SipResponse): void {
    if (resp.status < 200) {
      if (!this.finalSent) this.upstream?.respond(resp);
      return;
    }
    if (this.finalSent && !(resp.status < 300 && this.method === 'INVITE')) {
      this.env.log.debug({ status: resp.status, method: this.method }, 'proxy: a second final response is not forwarded (RFC 3261 §16.7 step 5)');
      return;
    }
    this.finalSent = true;
    this.upstream?.respond(resp);
    this.cancelPending();
    this.releaseIfDone();
  }

  /** §16.10: "A proxy MUST cancel any pending client transactions associated with a response context when it receives a matching CANCEL request." */
  cancel(): void {
    this.cancelled = true;
    this.cancelPending();
  }

  /** A response of branch `b`'s client transaction (our Via still on top). */
  receive(b: Branch, resp: SipResponse): void {
    const out = cloneMessage(resp);
    out.headers.removeFirst('via'); // §16.7 step 3
    if (resp.status < 200) return this.provisional(b, resp.status, out);
    if (b.final !== undefined || b.failed !== undefined || b.round.settled) {
      // RFC 6026 §8.4, §16.7 step 5: a further 2xx to an INVITE goes upstream at once; nothing else does.
      if (resp.status < 300 && b.request.method === 'INVITE') (b.round.hooks.onAdditional2xx ?? ((r) => this.upstream?.relay(r)))(out);
      if (b.final === undefined && b.failed === undefined) this.store(b, out);
      return;
    }
    this.store(b, out);
    if (resp.status >= 600) {
      // §16.7 step 5: "the stateful proxy SHOULD cancel all client pending transactions".
      this.sixHundred = true;
      this.cancelPending();
    }
    this.settle(b.round);
  }

  /** The client transaction of `b` terminated (`error` when it failed: Timer B/F, transport error). */
  ended(b: Branch, error?: Error): void {
    b.wait?.cancel();
    b.wait = undefined;
    if (b.final === undefined && b.failed === undefined) {
      b.failed = error ?? new SipTransportError(`${b.request.method}: transaction ended without a final response`, b.dest);
      b.round.errors.push(b.failed);
      this.settle(b.round);
    }
    if (this.branches.delete(b.id)) this.env.untrack(b);
    this.releaseIfDone();
  }

  /** The server transaction ended: nothing more goes upstream through it. */
  serverEnded(): void {
    this.finalSent = true;
    this.serverGone = true;
    this.releaseIfDone();
  }

  /** Every §9.1 wait stopped (shutdown). */
  stop(): void {
    for (const b of this.branches.values()) b.wait?.cancel();
  }

  private branch(round: Round, req: SipRequest, dest: Destination): void {
    const id = newBranch(this.env.opts.rng, this.env.opts.branchTag);
    let sent: SipRequest;
    try {
      sent = proxyCopy(req, id);
    } catch (err) {
      round.errors.push(err as Error);
      return;
    }
    const b: Branch = { id, request: sent, source: req, dest, state: 'calling', cancel: 'none', context: this, round };
    round.branches.push(b);
    this.branches.set(id, b);
    this.env.track(b);
    try {
      this.env.opts.ports.send(sent, dest, id);
    } catch (err) {
      this.ended(b, err as Error);
    }
  }

  private provisional(b: Branch, status: number, out: SipResponse): void {
    if (b.final !== undefined || b.failed !== undefined) return;
    b.state = 'proceeding';
    // §9.1: "the client MUST wait for the arrival of a provisional response before sending" the CANCEL.
    if (b.cancel === 'wanted') this.sendCancel(b);
    // §16.7 step 5: "a stateful proxy MUST NOT forward any 100 (Trying) response".
    if (status === 100 || this.finalSent) return;
    (b.round.hooks.onProvisional ?? ((r) => this.respond(r)))(out);
  }

  private store(b: Branch, out: SipResponse): void {
    b.state = 'completed';
    b.final = out;
    b.wait?.cancel();
    b.wait = undefined;
    this.finals.push(out);
    b.round.finals.push(out);
  }

  /** Resolves a round once a 2xx came or every branch of it is done (§16.7 steps 5 and 6). */
  private settle(round: Round): void {
    if (round.settled) return;
    const ok = round.finals.find((r) => r.status < 300);
    if (ok === undefined && round.branches.some((b) => b.final === undefined && b.failed === undefined)) return;
    round.settled = true;
    const best = ok ?? bestResponse(round.finals);
    if (best !== undefined) round.resolve(best);
    else round.reject(round.errors[0] ?? new SipTransportError('no branch could be made'));
  }

  /**
   * §16.7 step 10: "A pending client transaction is one that has received a provisional
   * response, but no final response (it is in the proceeding state) and has not had an
   * associated CANCEL generated for it"; one still calling gets its CANCEL after its first
   * provisional response (§9.1). Only INVITEs are cancelled (§9.1: "SHOULD NOT be sent to cancel
   * a request other than INVITE").
   */
  private cancelPending(): void {
    for (const b of this.branches.values()) {
      if (b.final !== undefined || b.failed !== undefined || b.cancel !== 'none' || b.request.method !== 'INVITE') continue;
      if (b.state === 'calling') b.cancel = 'wanted';
      else this.sendCancel(b);
    }
  }

  private sendCancel(b: Branch): void {
    b.cancel = 'sent';
    this.env.opts.ports.cancel(cancelFor(b.request), b.dest);
    b.wait = this.env.opts.clock.setTimeout(64 * this.env.opts.t1, () => this.giveUp(b));
  }

  /**
   * §9.1: "If there is no final response for the original request in 64*T1 seconds …, the
   * client SHOULD then consider the original transaction cancelled and SHOULD destroy the client
   * transaction": the branch ends as a 487 made here, and its client transaction goes.
   */
  private giveUp(b: Branch): void {
    b.wait = undefined;
    if (b.final !== undefined || b.failed !== undefined) return;
    this.env.log.info({ branch: b.id }, 'proxy: no final response 64*T1 after CANCEL, branch given up as 487 (RFC 3261 §9.1)');
    this.store(b, createResponse(b.source, 487, 'Request Terminated', { rng: this.env.opts.rng }));
    this.settle(b.round);
    this.env.opts.ports.abandon(b.request);
    this.ended(b);
  }

  /**
   * §16.7 step 9: kept "until all of its associated transactions have been terminated", the
   * server's included; a non-INVITE context that only waits for its server transaction keeps no
   * messages meanwhile (see the top of this file).
   */
  private releaseIfDone(): void {
    if (this.branches.size > 0 || !this.finalSent) return;
    if (this.serverGone) this.env.release(this);
    else if (this.method !== 'INVITE') {
      this.upstream = undefined;
      // After a 6xx, forward() answers with the best of them (§16.7 step 5); otherwise none is read again.
      if (!this.sixHundred) this.finals.length = 0;
    }
  }
}

/** The response contexts of one SIP element, by server transaction and by branch. */
export class ProxyCore {
  private readonly contexts = new Map<string, ProxyContext>();
  private readonly byBranch = new Map<string, Branch>();
  private readonly env: Env;

  constructor(opts: ProxyCoreOptions) {
    this.env = {
      opts,
      log: opts.logger ?? noopLogger,
      track: (b) => this.byBranch.set(b.id, b),
      untrack: (b) => this.byBranch.delete(b.id),
      release: (c) => {
        if (this.contexts.get(c.key) === c) this.contexts.delete(c.key);
      },
    };
  }

  /** Live contexts and branches (tests, diagnostics). */
  get size(): { contexts: number; branches: number } {
    return { contexts: this.contexts.size, branches: this.byBranch.size };
  }

  /**
   * The response context of server transaction `key`, created when there is none. `key` is the
   * transaction's own (`ServerTransaction.key`): a flat copy that keeps no message text alive,
   * kept as is, so that the context and the transaction's lingering entry (Timer J) share it.
   */
  open(key: string, request: SipRequest, upstream: Upstream, origin = ''): ProxyContext {
    let c = this.contexts.get(key);
    if (!c) {
      c = new ProxyContext(this.env, key, request.method, origin, upstream);
      this.contexts.set(c.key, c);
    }
    return c;
  }

  get(key: string): ProxyContext | undefined {
    return this.contexts.get(key);
  }

  /**
   * §16.10: the context a CANCEL refers to — that of the INVITE server transaction `inviteKey`
   * (found by §9.2 matching), when the CANCEL came from where the INVITE came from.
   */
  find(inviteKey: string, origin: string): ProxyContext | undefined {
    const c = this.contexts.get(inviteKey);
    return c !== undefined && c.origin === origin ? c : undefined;
  }

  /** A response from a branch's client transaction; false when it is none of ours (§17.1.3: by branch and CSeq method). */
  onResponse(resp: SipResponse): boolean {
    let id: string | undefined;
    let method: string | undefined;
    try {
      const via = topVia(resp);
      id = via ? viaBranch(via) : undefined;
      method = cseqOf(resp)?.method;
    } catch {
      return false;
    }
    const b = id === undefined ? undefined : this.byBranch.get(id);
    if (!b || b.request.method !== method) return false;
    b.context.receive(b, resp);
    return true;
  }

  /** The client transaction of branch `id` terminated; `error` when it failed without a final response. */
  onClientEnd(id: string, error?: Error): void {
    const b = this.byBranch.get(id);
    if (b) b.context.ended(b, error);
  }

  /** The server transaction `key` ended. */
  serverEnded(key: string): void {
    this.contexts.get(key)?.serverEnded();
  }

  /** Stops every §9.1 wait and forgets every context (shutdown). */
  clear(): void {
    for (const c of this.contexts.values()) c.stop();
    this.contexts.clear();
    this.byBranch.clear();
  }
}
