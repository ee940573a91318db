/**
 * The P-CSCF's reg-event subscription (RFC 3680, RFC 6665, TS 24.229 §5.2.3): SUBSCRIBE to the
 * registered IMPU after the first registration, refresh it before it ends, and act on NOTIFYs:
 * a terminated registration or contact of the UE ends the registration (TS 24.229 §5.2.5.1,
 * R-SA-7) — its SAs go once what is in flight towards the UE (the 200 to its de-REGISTER, the
 * NOTIFY meant for it) has been delivered over them (TS 33.203 §7.4, PcscfState.endRegistration);
 * a shortened one shortens it (network-initiated re-authentication, R-RR-5).
 */
import { detached, interned, internedList, randomToken } from '../../common/index.js';
import { callIdOf, contentTypeOf, formatUri, mediaType, parseSubscriptionState, routesOf, toTag, type SipRequest, type SipResponse, decodeReginfo, REGINFO_CONTENT_TYPE } from '../../sip/index.js';
import type { RequestContext } from '../../sip/stack/index.js';
import { numberHeader, type CoreContext } from './ports.js';
import { DEREGISTRATION_GRACE_MS } from './state.js';
import { buildRegSubscribe, regEventOutcome } from './reg-event.js';
import { contactUriOf } from './register-rules.js';
import { nextHop } from './routing.js';
import type { RegSubscription, Registration } from './tables.js';

export class RegEventSubscriber {
  constructor(private readonly c: CoreContext) {
    c.state.onRefreshDue = (reg) => {
      const sub = reg.subscription;
      if (!sub || sub.state !== 'active') return;
      sub.cseq++;
      void this.sendSubscribe(reg);
    };
  }

  /** SUBSCRIBE to the reg event of the registration's default IMPU (TS 24.229 §5.2.3). */
  async subscribe(reg: Registration): Promise<void> {
    const impu = reg.impus[0];
    if (!impu) return;
    // Every property from the start, those the 2xx fills in too: none is added later (no
    // out-of-object store per registered UE).
    const sub: RegSubscription = { callId: this.c.o.sip.newCallId(this.c.o.face.host), fromTag: this.c.o.sip.newTag(), impu, toTag: undefined, routeSet: reg.serviceRoute, target: undefined, cseq: 1, state: 'subscribing', expiresAt: undefined };
    this.c.state.bindSubscription(reg, sub);
    reg.subscription = sub;
    await this.sendSubscribe(reg);
  }

  private async sendSubscribe(reg: Registration): Promise<void> {
    const sub = reg.subscription;
    if (!sub) return;
    const req = buildRegSubscribe({
      impu: sub.impu,
      self: this.c.selfUri,
      callId: sub.callId,
      fromTag: sub.fromTag,
      ...(sub.toTag ? { toTag: sub.toTag } : {}),
      cseq: sub.cseq,
      expires: this.c.o.regEvent.expires,
      routes: sub.routeSet,
      ...(sub.target ? { target: sub.target } : {}),
      icid: randomToken(this.c.o.rng, 16),
    });
    let resp: SipResponse;
    try {
      const dest = sub.routeSet.length > 0 ? nextHop(req, this.c.o.hosts) : this.c.o.icscf;
      resp = await this.c.o.sip.sendRequest(req, dest);
    } catch (err) {
      this.c.log.info({ impi: reg.impi, err: (err as Error).message }, 'pcscf: reg-event SUBSCRIBE failed');
      if (reg.subscription === sub) sub.state = 'terminated';
      return;
    }
    if (reg.subscription !== sub || this.c.state.regs.get(reg.impi) !== reg) return;
    if (resp.status < 200 || resp.status >= 300) {
      sub.state = 'terminated';
      this.c.log.info({ impi: reg.impi, status: resp.status }, 'pcscf: reg-event SUBSCRIBE refused');
      return;
    }
    try {
      // The dialog lives as long as the registration: its strings are its own, and the route and
      // target, alike for every UE behind one S-CSCF, the process's pool's (common/strings.ts).
      if (sub.toTag === undefined) {
        const tag = toTag(resp);
        if (tag !== undefined) sub.toTag = detached(tag);
      }
      if (sub.cseq === 1) {
        // RFC 3261 §12.1.2: the UAC's route set is the Record-Route in reverse.
        const rr = routesOf(resp, 'Record-Route').map((n) => `<${formatUri(n.uri)}>${n.params.toString()}`).reverse();
        if (rr.length > 0) sub.routeSet = internedList(rr);
        const c = contactUriOf(resp);
        if (c) sub.target = interned(formatUri(c));
      }
    } catch {
      // A malformed dialog header leaves the initial route; refreshes may fail and end it.
    }
    if (sub.state === 'subscribing') sub.state = 'active';
    const granted = numberHeader(resp, 'Expires') ?? this.c.o.regEvent.expires;
    sub.expiresAt = this.c.o.clock.now() + granted * 1000;
    // Refresh well before the end (RFC 6665 §4.1.2.1), at most every 30 s.
    this.c.state.refreshIn(reg, Math.max(30_000, Math.floor(granted * 1000 * 0.8)));
  }

  /** The registration whose subscription dialog a NOTIFY belongs to (Call-ID and our From tag). */
  subscriptionOf(req: SipRequest): Registration | undefined {
    let callId: string | undefined;
    let tag: string | undefined;
    try {
      callId = callIdOf(req);
      tag = toTag(req);
    } catch {
      return undefined;
    }
    if (callId === undefined || tag === undefined) return undefined;
    return this.c.state.subscriptionOf(callId, tag);
  }

  /** A NOTIFY in one of our subscriptions: answered 200, then acted on (RFC 3680 §5.3). */
  onNotify(req: SipRequest, ctx: RequestContext): void {
    const reg = this.subscriptionOf(req)!;
    const sub = reg.subscription!;
    this.c.counters.notifies++;
    ctx.reply(200, 'OK');
    try {
      const st = req.headers.get('Subscription-State');
      if (st && parseSubscriptionState(st).state.toLowerCase() === 'terminated') {
        sub.state = 'terminated';
        this.c.state.cancelRefresh(reg.impi);
      }
    } catch {
      // An unreadable Subscription-State does not end the subscription.
    }
    let outcome;
    try {
      const ct = contentTypeOf(req);
      if (!ct || mediaType(ct) !== REGINFO_CONTENT_TYPE || req.body.length === 0) return;
      outcome = regEventOutcome(decodeReginfo(req.body), reg);
    } catch (err) {
      this.c.log.info({ impi: reg.impi, err: (err as Error).message }, 'pcscf: unreadable reginfo');
      return;
    }
    if (reg.ending) return;
    if (outcome.kind === 'deregistered') {
      this.c.counters.deregistered++;
      this.c.state.endRegistration(reg.impi, 'deregistered', `reg-event: ${outcome.aor} ${outcome.event}`, this.c.o.deregistrationGraceMs ?? DEREGISTRATION_GRACE_MS);
    } else if (outcome.kind === 'shortened') {
      // R-RR-5: the network wants a re-authentication; the SAs end with the shortened binding.
      const ms = Math.max(1000, outcome.expires * 1000);
      this.c.state.expireIn(reg, ms, 'shortened registration over');
      for (const s of this.c.o.sa.sets({ impi: reg.impi })) if (s.state === 'active') this.c.o.sa.shorten(s.id, ms);
    }
  }
}
