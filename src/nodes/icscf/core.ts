/**
 * The I-CSCF's procedures (TS 24.229 §5.3; TS 29.228 §6.1.1, §6.1.4; R-REG-1, R-HIDE-1) over
 * injected ports: the Cx queries (UAR, LIR), the proxy send (a client transaction that resolves
 * with the final response), an Rng for THIG IVs and a logger. No sockets and no timers of its own:
 * time-outs come back from the ports as typed errors. src/nodes/icscf/wire.ts binds the ports to
 * the SIP stack and the Diameter node.
 *
 * Every request the stack hands over gets exactly one final response from {@link IcscfCore.handle}:
 * 1. Max-Forwards 0 → 483 (RFC 3261 §16.3 step 3); from outside the trust domain, the
 *    trust-domain header fields are removed (RFC 3325 §5, TS 24.229 §4.4).
 * 2. THIG: tokens of our network in Route/Via/Record-Route/Path are opened (R-HIDE-1); a token
 *    that does not open → 403.
 * 3. Route entries naming this I-CSCF are removed (loose routing, RFC 3261 §16.4).
 * 4. A remaining Route → proxied there. Else REGISTER → registration (§5.3.1); a Request-URI in
 *    a home domain (or tel:) → the user's S-CSCF by LIR (§5.3.2); anything else → proxied to the
 *    Request-URI (leaving the network).
 * 5. Whatever leaves the home network (next hop neither home nor trusted) is hidden; whatever
 *    comes back is revealed, so the response the previous hop gets carries its own Vias.
 */
import { noopLogger, type Logger } from '../../common/index.js';
import { UserAuthorizationType } from '../../diameter/index.js';
import {
  createResponse,
  formatUri,
  maxForwardsOf,
  parseUri,
  routesOf,
  topVia,
  toTag,
  cloneMessage,
  type SipRequest,
  type SipResponse,
} from '../../sip/index.js';
import { locationDecision, registrationDecision, type CxOutcome, type RoutingDecision } from './cx-decisions.js';
import { ThigError } from './errors.js';
import { registerQuery, RequestInfoError, targetIdentity, type RegisterQuery } from './request-info.js';
import { rankScscfs, sameServer } from './select.js';
import { hideTopology, revealTopology } from './thig.js';
import { stripAkaKeys, stripUntrusted } from '../common/index.js';
import type { ForwardHooks, IcscfCoreOptions, IcscfCounters, IcscfPorts, Source } from './core-types.js';

export type { ForwardHooks, IcscfCoreOptions, IcscfCounters, IcscfPorts, Source } from './core-types.js';

/** Per-request plumbing threaded through the procedures. */
interface Io {
  onProvisional?: (resp: SipResponse) => void;
  context?: unknown;
}

type ForwardResult = { kind: 'response'; resp: SipResponse } | { kind: 'failure'; failure: 'timeout' | 'unreachable' | 'unresolvable'; detail: string };

const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

export class IcscfCore {
  readonly counters: IcscfCounters = { requests: 0, uar: 0, lir: 0, forwarded: 0, generated: {}, tokensWritten: 0, tokensOpened: 0, tokensRefused: 0, untrustedStripped: 0 };
  private readonly log: Logger;
  /** Turns among equal S-CSCFs for first registrations (select.ts step 5). */
  private turn = 0;

  constructor(
    private readonly opts: IcscfCoreOptions,
    private readonly ports: IcscfPorts,
  ) {
    this.log = ports.log ?? noopLogger;
  }

  /**
   * Handles one request (not an ACK) and resolves with the final response to send back through
   * the server transaction. Provisional responses from downstream go to `onProvisional`, already
   * revealed/hidden like the final one.
   */
  async handle(original: SipRequest, from: Source, onProvisional?: (resp: SipResponse) => void, context?: unknown): Promise<SipResponse> {
    this.counters.requests++;
    // 1.
    let mf: number | undefined;
    try {
      mf = maxForwardsOf(original);
    } catch {
      return this.generate(original, 400, 'Bad Max-Forwards');
    }
    if (mf === 0) return this.generate(original, 483, 'Too Many Hops');
    const outside = this.fromOutside(original, from);
    // 2.
    let req = original;
    if (this.opts.thig) {
      try {
        const r = revealTopology(req, this.opts.thig);
        req = r.msg;
        this.counters.tokensOpened += r.count;
      } catch (err) {
        if (!(err instanceof ThigError)) throw err;
        this.counters.tokensRefused++;
        this.log.warn({ reason: err.reason, method: original.method }, 'THIG token refused');
        return this.generate(original, 403, 'Forbidden');
      }
    }
    // 3.
    try {
      req = this.withoutOwnRoutes(req);
    } catch {
      return this.generate(original, 400, 'Bad Route');
    }
    const io: Io = { onProvisional: onProvisional && ((r: SipResponse) => onProvisional(this.outbound(r))), context };
    // 4.
    let resp: SipResponse;
    try {
      const route = routesOf(req, 'Route')[0];
      if (route) resp = await this.proxy(req, formatUri(route.uri), from, io);
      else if (req.method === 'REGISTER') resp = await this.register(req, from, io);
      else if (this.isHomeTarget(req.uri)) resp = await this.terminating(req, io);
      else resp = await this.proxy(req, req.uri, from, io);
    } catch (err) {
      if (err instanceof RequestInfoError) return this.generate(original, err.status, err.message);
      throw err;
    }
    // 5.
    const out = this.outbound(resp);
    // TS 33.203 §6.1, TS 24.229 §7.2A.4: IK and CK go to a P-CSCF of the domain, never outside.
    if (outside && stripAkaKeys(out)) this.log.warn({ method: original.method, from: from.address }, 'icscf: AKA keys removed from a response leaving the trust domain');
    return out;
  }

  /**
   * An ACK for a 2xx (RFC 3261 §13.2.2.4, §16.6) is proxied without a transaction: returns the
   * request to send and its target URI, or undefined when it cannot be routed (dropped).
   */
  routeStateless(ack: SipRequest): { msg: SipRequest; target: string } | undefined {
    try {
      let req = ack;
      if (this.opts.thig) {
        const r = revealTopology(req, this.opts.thig);
        req = r.msg;
        this.counters.tokensOpened += r.count;
      }
      req = this.withoutOwnRoutes(req);
      const route = routesOf(req, 'Route')[0];
      const target = route ? formatUri(route.uri) : req.uri;
      if (this.leaves(target)) req = this.hide(req, false);
      return { msg: req, target };
    } catch (err) {
      if (err instanceof ThigError) this.counters.tokensRefused++;
      this.log.debug({ err: (err as Error).message }, 'stateless request dropped');
      return undefined;
    }
  }

  // ---------------------------------------------------------------- procedures

  /**
   * RFC 3325 §5, TS 24.229 §4.4 and §5.3: a request from outside the trust domain loses its
   * P-Asserted-Identity and the other trust-domain header fields (in place) before anything else
   * looks at it, so the asserted identity that reaches a callee is always one the domain made.
   * Returns whether the request came from outside (its response must not carry AKA keys).
   */
  private fromOutside(req: SipRequest, from: Source): boolean {
    const trust = this.opts.trustDomain;
    if (trust === undefined || trust.has(from.address)) return false;
    const removed = stripUntrusted(req);
    if (removed.length > 0) {
      this.counters.untrustedStripped++;
      this.log.info({ method: req.method, from: from.address, removed }, 'icscf: trust-domain header fields from outside the trust domain removed (RFC 3325 §5)');
    }
    return true;
  }

  /** TS 24.229 §5.3.1.2–5.3.1.3: UAR, then the S-CSCF the HSS names or one chosen by capabilities. */
  private async register(req: SipRequest, from: Source, io: Io): Promise<SipResponse> {
    if (this.opts.trustedRegisterOnly && !this.inNetwork(from.address, from.port)) return this.generate(req, 403, 'Forbidden');
    const q = registerQuery(req, { defaultVisitedNetwork: this.opts.defaultVisitedNetwork, homeRealms: this.opts.homeDomains });
    let decision = await this.uar(q);
    const tried: string[] = [];
    let last: ForwardResult | undefined;
    for (let attempt = 0; attempt <= this.opts.scscfs.length + 1; attempt++) {
      if (decision.kind === 'reject') {
        if (last) break;
        return this.generate(req, decision.status, decision.reason, decision.detail);
      }
      let server: string | undefined;
      if (decision.kind === 'forward') {
        const named = decision.server;
        server = tried.some((t) => sameServer(t, named)) ? undefined : named;
      } else server = rankScscfs(this.opts.scscfs, decision.capabilities, tried, this.turn++)[0];
      if (server === undefined) {
        if (last) break;
        return this.generate(req, 600, 'Busy Everywhere', 'no S-CSCF fulfils the capabilities');
      }
      tried.push(server);
      this.log.info({ impu: q.impu, scscf: server, how: decision.kind }, 'REGISTER routed to S-CSCF');
      last = await this.forwardTo(req, server, io);
      if (last.kind === 'response' && !reselect(last.resp.status)) return last.resp;
      // §5.3.1.3: the S-CSCF did not answer (or answered 3xx/480): select another one.
      if (q.authorizationType !== UserAuthorizationType.REGISTRATION) break;
      if (decision.kind === 'forward') decision = await this.uar({ ...q, authorizationType: UserAuthorizationType.REGISTRATION_AND_CAPABILITIES });
    }
    return this.afterFailure(req, last);
  }

  /** TS 24.229 §5.3.2.1: LIR for the Request-URI, then the serving (or a selected) S-CSCF. */
  private async terminating(req: SipRequest, io: Io): Promise<SipResponse> {
    const identity = targetIdentity(req);
    this.counters.lir++;
    const decision = locationDecision(await outcome(this.ports.lir(identity)));
    if (decision.kind === 'reject') return this.generate(req, decision.status, decision.reason, decision.detail);
    const servers = decision.kind === 'forward' ? [decision.server] : rankScscfs(this.opts.scscfs, decision.capabilities);
    if (servers.length === 0) return this.generate(req, 600, 'Busy Everywhere', 'no S-CSCF fulfils the capabilities');
    let last: ForwardResult | undefined;
    for (const server of servers) {
      let routed: SipRequest;
      try {
        routed = withTopRoute(req, server);
      } catch {
        return this.generate(req, 500, 'Server Internal Error', `S-CSCF name ${server} is not a SIP URI`);
      }
      this.log.info({ target: identity, scscf: server, how: decision.kind }, 'request routed to S-CSCF');
      last = await this.forwardTo(routed, server, io);
      if (last.kind === 'response') return last.resp;
    }
    return this.afterFailure(req, last);
  }

  /** A plain proxy hop (a Route, or a Request-URI outside the home network). */
  private async proxy(req: SipRequest, target: string, from: Source, io: Io): Promise<SipResponse> {
    const out = this.leaves(target);
    let fwd = req;
    if (this.shouldRecordRoute(req, out, from)) {
      fwd = cloneMessage(req);
      fwd.headers.prepend('Record-Route', this.opts.recordRouteEntry);
    }
    if (out) fwd = this.hide(fwd, false);
    const r = await this.forwardTo(fwd, target, io);
    return r.kind === 'response' ? r.resp : this.afterFailure(req, r);
  }

  // ---------------------------------------------------------------- pieces

  private async uar(q: RegisterQuery): Promise<RoutingDecision> {
    this.counters.uar++;
    return registrationDecision(await outcome(this.ports.uar(q)));
  }

  /** Sends and reveals the response that comes back (a token that does not open gives 502). */
  private async forwardTo(req: SipRequest, target: string, io: Io): Promise<ForwardResult> {
    this.counters.forwarded++;
    const onProvisional = io.onProvisional;
    const hooks: ForwardHooks = { onProvisional: onProvisional && ((r: SipResponse) => r.status > 100 && this.safeReveal(r, req, onProvisional)), context: io.context };
    let resp: SipResponse;
    try {
      resp = await this.ports.forward(req, target, hooks);
    } catch (err) {
      const code = (err as { code?: string }).code;
      const detail = `${target}: ${(err as Error).message}`;
      if (code === 'SIP_TIMEOUT') return { kind: 'failure', failure: 'timeout', detail };
      if (code === 'SIP_RESOLVE' || code === 'INVALID_ARGUMENT' || code === 'SIP_PARSE') return { kind: 'failure', failure: 'unresolvable', detail };
      if (code === 'SIP_TRANSPORT') return { kind: 'failure', failure: 'unreachable', detail };
      throw err;
    }
    if (!this.opts.thig) return { kind: 'response', resp };
    try {
      const r = revealTopology(resp, this.opts.thig);
      this.counters.tokensOpened += r.count;
      return { kind: 'response', resp: r.msg };
    } catch (err) {
      if (!(err instanceof ThigError)) throw err;
      this.counters.tokensRefused++;
      this.log.warn({ reason: err.reason, status: resp.status }, 'THIG token in a response refused');
      return { kind: 'response', resp: this.generate(req, 502, 'Bad Gateway') };
    }
  }

  private safeReveal(r: SipResponse, req: SipRequest, onProvisional: (r: SipResponse) => void): void {
    if (!this.opts.thig) return onProvisional(r);
    try {
      onProvisional(revealTopology(r, this.opts.thig).msg);
    } catch (err) {
      this.counters.tokensRefused++;
      this.log.debug({ err: (err as Error).message, method: req.method }, 'provisional response with a bad THIG token dropped');
    }
  }

  /** RFC 3261 §16.8 (time-out ≈ 408), §16.9 (transport error ≈ 503); an unroutable target → 404. */
  private afterFailure(req: SipRequest, last: ForwardResult | undefined): SipResponse {
    if (last?.kind === 'response') return last.resp;
    if (!last) return this.generate(req, 500, 'Server Internal Error');
    if (last.failure === 'timeout') return this.generate(req, 408, 'Request Timeout', last.detail);
    if (last.failure === 'unreachable') return this.generate(req, 503, 'Service Unavailable', last.detail);
    return this.generate(req, 404, 'Not Found', last.detail);
  }

  /** A response about to go back to the previous hop: hidden when that hop is outside the network. */
  private outbound(resp: SipResponse): SipResponse {
    if (!this.opts.thig) return resp;
    let via;
    try {
      via = topVia(resp);
    } catch {
      return resp;
    }
    if (!via || this.inNetwork(via.host, via.port)) return resp;
    return this.hide(resp, true);
  }

  private hide<M extends SipRequest | SipResponse>(msg: M, towardsUac: boolean): M {
    if (!this.opts.thig) return msg;
    const r = hideTopology(msg, this.opts.thig, this.ports.rng, { towardsUac });
    this.counters.tokensWritten += r.count;
    return r.msg;
  }

  private generate(req: SipRequest, status: number, reason: string, detail?: string): SipResponse {
    this.counters.generated[status] = (this.counters.generated[status] ?? 0) + 1;
    // A server error is worth a warning: it is what an operator looks for first.
    this.log[status >= 500 ? 'warn' : 'info']({ method: req.method, status, detail }, 'I-CSCF answers');
    return createResponse(req, status, reason, { rng: this.ports.rng });
  }

  private withoutOwnRoutes(req: SipRequest): SipRequest {
    let out = req;
    for (;;) {
      const top = routesOf(out, 'Route')[0];
      if (!top || top.uri.kind !== 'sip' || !this.opts.isSelf(top.uri.host, top.uri.port)) return out;
      if (out === req) out = cloneMessage(req);
      out.headers.removeFirst('route');
    }
  }

  private inNetwork(host: string, port?: number): boolean {
    return this.opts.home.has(host, port) || this.opts.trusted.has(host, port) || this.opts.isSelf(host, port);
  }

  /** True when `target` (a URI) is outside the home network and the trusted neighbours. */
  private leaves(target: string): boolean {
    try {
      const u = parseUri(target);
      return u.kind === 'sip' ? !this.inNetwork(u.host, u.port) : false;
    } catch {
      return false;
    }
  }

  private isHomeTarget(uri: string): boolean {
    try {
      const u = parseUri(uri, 'Request-URI');
      if (u.kind === 'tel') return true;
      if (u.kind !== 'sip') return false;
      const h = u.host.toLowerCase();
      return this.opts.homeDomains.some((d) => h === d.toLowerCase());
    } catch {
      return false;
    }
  }

  private shouldRecordRoute(req: SipRequest, out: boolean, from: Source): boolean {
    if (this.opts.recordRoute === 'never' || !DIALOG_CREATING.has(req.method)) return false;
    try {
      if (toTag(req) !== undefined) return false;
    } catch {
      return false;
    }
    if (this.opts.recordRoute === 'always') return true;
    if (!this.opts.thig) return false;
    let prevOut = !this.inNetwork(from.address, from.port);
    try {
      const v = topVia(req);
      if (v && this.inNetwork(v.host, v.port)) prevOut = false;
    } catch {
      /* an unparsable Via is the previous hop's problem */
    }
    return out || prevOut;
  }
}

/** TS 24.229 §5.3.1.3: a 3xx or 480 from the S-CSCF (or no answer) means: try another S-CSCF. */
function reselect(status: number): boolean {
  return (status >= 300 && status < 400) || status === 480;
}

function outcome<A>(p: Promise<A>): Promise<CxOutcome<A>> {
  return p.then(
    (answer) => ({ kind: 'answer', answer }),
    (error: unknown) => ({ kind: 'failure', error }),
  );
}

/** TS 24.229 §5.3.2.1: the S-CSCF's URI, with `lr`, as the topmost Route. */
function withTopRoute(req: SipRequest, server: string): SipRequest {
  const u = parseUri(server);
  if (u.kind !== 'sip') throw new Error('not a SIP URI');
  if (!u.params.has('lr')) u.params.set('lr');
  const out = cloneMessage(req);
  out.headers.prepend('Route', `<${formatUri(u)}>`);
  return out;
}
