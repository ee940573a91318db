/**
 * The soft UE's subscription to its own registration state (TS 24.229 §5.1.1.3; RFC 3680, RFC
 * 6665): a dialog of its own, started after the first registration, refreshed inside the dialog
 * before it ends and replaced when the notifier forgot it. No socket and no timer of its own: the
 * host (UeCore) sends over the current SAs and lends its injected Clock.
 *
 * 1. SUBSCRIBE (Event reg, Route = the P-CSCF's protected URI then the Service-Route); its 2xx
 *    gives the dialog (RFC 3261 §12.1.2: To tag, Record-Route reversed, Contact) and Expires.
 * 2. The refresh is due 600 s before the end of a grant above 1200 s, else at its half
 *    (TS 24.229 §5.1.1.3), or earlier when a NOTIFY shortens the subscription (RFC 6665 §4.1.3).
 * 3. The refresh goes inside the dialog (next CSeq, the remote target, the route set whose first
 *    entry — the P-CSCF's protected face — names the P-CSCF's current protected port, which
 *    changes at every re-registration). 2xx → step 2; 481 → a new subscription; else it ends.
 */
import type { Clock, Logger, TimerHandle } from '../../common/index.js';
import { contactsOf, expiresOf, formatUri, routesOf, toTag, type SipResponse } from '../../sip/index.js';
import { reRegisterDelayMs } from './decide.js';

/** What the UE shows of its subscription. */
export type RegSubscriptionState = 'none' | 'pending' | 'active' | 'terminated';

/** The parts of one SUBSCRIBE the subscription decides (the host adds identity, Contact, Expires). */
export interface SubscribeParts {
  callId: string;
  fromTag: string;
  cseq: number;
  /** The notifier's tag (a refresh), absent on the first SUBSCRIBE. */
  toTag?: string;
  /** Request-URI of a refresh: the dialog's remote target (else the IMPU). */
  target?: string;
  /** Route header entries; undefined on the first SUBSCRIBE (the host preloads its route). */
  route?: string[];
}

/** What the subscription needs from the UE. */
export interface RegSubscriptionHost {
  clock: Clock;
  log: Logger;
  newCallId(): string;
  newTag(): string;
  /** Seconds asked for in Expires. */
  expires: number;
  /** The P-CSCF's current protected URI as a Route entry (`<sip:addr:port-s;lr>`), undefined when not registered. */
  pcscfRoute(): string | undefined;
  /** Whether a refresh may go now (registered, not de-registering, not stopped). */
  mayRefresh(): boolean;
  /** Builds the SUBSCRIBE and sends it over the current SAs; resolves with the final response. */
  send(parts: SubscribeParts): Promise<SipResponse>;
}

/** TS 24.229 §5.1.1.3: refresh 600 s before the end, or at half of a grant of 1200 s or less. */
const REFRESH_RULE = { fraction: 0.5, marginSeconds: 600 } as const;

interface Dialog {
  readonly callId: string;
  readonly fromTag: string;
  toTag?: string;
  cseq: number;
  /** Record-Route of the 2xx, reversed; its first entry is the P-CSCF's protected face. */
  routeSet: string[];
  target?: string;
  expiresAt?: number;
  refreshAt?: number;
  refresh?: TimerHandle;
}

/** The UE's reg-event subscription (see the module comment). */
export class RegEventSubscription {
  private current: RegSubscriptionState = 'none';
  private d: Dialog | undefined;

  constructor(private readonly h: RegSubscriptionHost) {}

  get state(): RegSubscriptionState {
    return this.current;
  }

  /** When the subscription ends (ms on the host's clock), once granted. */
  get expiresAt(): number | undefined {
    return this.d?.expiresAt;
  }

  /** When the next refresh goes, while one is scheduled. */
  get refreshAt(): number | undefined {
    return this.d?.refresh ? this.d.refreshAt : undefined;
  }

  /** Step 1: a new subscription (replacing any earlier one of ours); resolves with the final status. */
  async subscribe(): Promise<number> {
    this.end();
    const d: Dialog = { callId: this.h.newCallId(), fromTag: this.h.newTag(), cseq: 1, routeSet: [] };
    this.d = d;
    this.current = 'pending';
    let resp: SipResponse;
    try {
      resp = await this.h.send({ callId: d.callId, fromTag: d.fromTag, cseq: d.cseq });
    } catch (e) {
      if (this.d === d) this.end('terminated');
      throw e;
    }
    if (this.d !== d) return resp.status;
    if (resp.status < 200 || resp.status >= 300) {
      if (this.current === 'pending') this.end('terminated');
      return resp.status;
    }
    try {
      d.toTag = toTag(resp);
      d.routeSet = routesOf(resp, 'Record-Route').map((n) => `<${formatUri(n.uri)}>${n.params.toString()}`).reverse();
      const c = contactsOf(resp);
      if (c !== '*' && c[0]) d.target = formatUri(c[0].uri);
    } catch (e) {
      this.h.log.info({ err: (e as Error).message }, 'reg-event 2xx with unreadable dialog headers: its refresh starts a new subscription');
    }
    if (this.current === 'pending') this.current = 'active';
    this.schedule(d, this.granted(resp));
    return resp.status;
  }

  /** A NOTIFY in the subscription: its Subscription-State (RFC 6665 §4.1.3). */
  onNotify(state: 'active' | 'terminated', expires: number | undefined): void {
    if (state === 'terminated') return this.end('terminated');
    if (this.current === 'pending') this.current = 'active';
    const d = this.d;
    // Step 2: the notifier may have shortened the subscription.
    if (d?.refresh && d.expiresAt !== undefined && expires !== undefined && this.h.clock.now() + expires * 1000 < d.expiresAt - 1000) this.schedule(d, expires);
  }

  /** Forgets the dialog and its refresh timer. */
  end(to: RegSubscriptionState = 'none'): void {
    this.d?.refresh?.cancel();
    this.d = undefined;
    this.current = to;
  }

  /** Step 3: the refresh inside the dialog. */
  private async refresh(d: Dialog): Promise<void> {
    d.refresh = undefined;
    const pcscf = this.h.pcscfRoute();
    if (this.d !== d || pcscf === undefined || !this.h.mayRefresh()) return;
    if (d.toTag === undefined || d.target === undefined) return this.resubscribe();
    d.cseq++;
    const route = d.routeSet.length > 0 ? [pcscf, ...d.routeSet.slice(1)] : [];
    let resp: SipResponse | undefined;
    try {
      resp = await this.h.send({ callId: d.callId, fromTag: d.fromTag, cseq: d.cseq, toTag: d.toTag, target: d.target, route });
    } catch (e) {
      this.h.log.info({ err: (e as Error).message }, 'reg-event refresh got no answer');
    }
    if (this.d !== d) return;
    if (resp && resp.status >= 200 && resp.status < 300) {
      this.h.log.debug({ cseq: d.cseq }, 'reg-event subscription refreshed');
      return this.schedule(d, this.granted(resp));
    }
    this.h.log.info({ status: resp?.status }, 'reg-event refresh refused: subscription ended');
    this.end('terminated');
    if (resp?.status === 481 && this.h.mayRefresh()) await this.resubscribe();
  }

  private async resubscribe(): Promise<void> {
    await this.subscribe().catch((e: unknown) => this.h.log.info({ err: (e as Error).message }, 'reg-event SUBSCRIBE failed'));
  }

  /** Expires of a 2xx to SUBSCRIBE (RFC 6665 §4.1.2.1: may be less than asked), else what was asked. */
  private granted(resp: SipResponse): number {
    try {
      return expiresOf(resp) ?? this.h.expires;
    } catch {
      return this.h.expires;
    }
  }

  private schedule(d: Dialog, seconds: number): void {
    d.refresh?.cancel();
    d.refresh = undefined;
    if (seconds <= 0) return this.end('terminated');
    const now = this.h.clock.now();
    const delay = reRegisterDelayMs(seconds, REFRESH_RULE);
    d.expiresAt = now + seconds * 1000;
    d.refreshAt = now + delay;
    d.refresh = this.h.clock.setTimeout(delay, () => void this.refresh(d));
  }
}
