/**
 * The S-CSCF as notifier of the registration event package (RFC 3680, RFC 6665; TS 24.229
 * §5.4.2.1): SUBSCRIBE Event: reg from the UE (the subscriber is one of the registered
 * identities) or from the P-CSCF (the subscriber is in the Path of the registration) gets a 200
 * and at once a NOTIFY with the full state; every change of the registration (registered,
 * refreshed, shortened, expired, deactivated, unregistered, rejected) sends a NOTIFY to every
 * subscription; when the registration ends the subscriptions end too (Subscription-State:
 * terminated). Subscriptions live in memory; a restarted S-CSCF expects fresh SUBSCRIBEs.
 *
 * The bodies are built by {@link reginfoOf} (pure): one `<registration>` per identity of the
 * implicit set, each listing the same contacts (TS 24.229 §5.4.2.1.2).
 */
import { DeadlineQueue, detached, interned, internedList, randomToken, type Clock, type Logger, type Rng, noopLogger } from '../../common/index.js';
import { contactsOf, expiresOf, formatNameAddr, formatRoute, formatUri, fromOf, parsePAssertedIdentity, parseUri, routesOf, toOf, type SipUri } from '../../sip/headers/index.js';
import { SipRequest, SipHeaders, type SipResponse } from '../../sip/message/index.js';
import type { CreateResponseOptions } from '../../sip/message/index.js';
import type { Destination } from '../../sip/transport/index.js';
import type { StoredBinding, StoredRegistration } from '../../store/index.js';
import { impuKey, resolveSipUri, type HostTable } from '../common/index.js';
import { encodeReginfo, REGINFO_CONTENT_TYPE, type Reginfo, type ReginfoContact } from '../../sip/index.js';
import { secondsLeft, type BindingChange } from './bindings.js';
import type { RegEventPolicy } from './config.js';

/** FNV-1a 32-bit: a stable, short registration id per identity (RFC 3680 `id`). */
function registrationId(impu: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < impu.length; i++) {
    h ^= impu.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `r${h.toString(16).padStart(8, '0')}`;
}

function contactElement(b: StoredBinding, state: 'active' | 'terminated', event: ReginfoContact['event'], now: number): ReginfoContact {
  const c: ReginfoContact = {
    id: b.id,
    state,
    event,
    uri: b.uri,
    expires: state === 'active' ? secondsLeft(b, now) : 0,
    durationRegistered: Math.max(0, Math.floor((now - b.registeredAt) / 1000)),
    callId: b.callId,
    cseq: b.cseq,
  };
  if (b.q !== undefined) c.q = String(b.q);
  if (b.instance !== undefined) c.unknownParams = [{ name: '+sip.instance', value: `"${b.instance}"` }];
  return c;
}

/**
 * The reginfo document for a registration (RFC 3680 §5.3, full state): its active bindings, with
 * the event of this change where a binding changed (else "registered"), and the bindings this
 * change terminated. `bindings` are the registration's bindings after the change (empty when it
 * ended).
 */
export function reginfoOf(impus: readonly string[], bindings: readonly StoredBinding[], changes: readonly BindingChange[], version: number, now: number): Reginfo {
  const byId = new Map(changes.map((c) => [c.binding.id, c]));
  const contacts: ReginfoContact[] = bindings.map((b) => {
    const ch = byId.get(b.id);
    return contactElement(b, 'active', ch && ch.state === 'active' ? ch.event : 'registered', now);
  });
  const live = new Set(bindings.map((b) => b.id));
  for (const ch of changes) if (ch.state === 'terminated' && !live.has(ch.binding.id)) contacts.push(contactElement(ch.binding, 'terminated', ch.event, now));
  const state = bindings.length > 0 ? 'active' : 'terminated';
  return {
    version,
    state: 'full',
    registrations: impus.map((impu) => ({ aor: impu, id: registrationId(impu), state, contacts: contacts.map((c) => ({ ...c })) })),
  };
}

/** One reg-event subscription: a dialog in which the S-CSCF is the notifier (RFC 6665 §4.2). */
export interface RegSubscription {
  /** The registration watched (its aor). */
  aor: string;
  /** 'ue' (a registered identity) or 'pcscf' (in the Path). */
  subscriber: 'ue' | 'pcscf';
  callId: string;
  localTag: string;
  remoteTag: string;
  /** From of our NOTIFYs (the SUBSCRIBE's To, the watched identity). */
  localUri: string;
  /** To of our NOTIFYs (the SUBSCRIBE's From). */
  remoteUri: string;
  /** Request-URI of our NOTIFYs: the SUBSCRIBE's Contact (RFC 3261 §12.1.1). */
  remoteTarget: string;
  /** Record-Route of the SUBSCRIBE, in order (RFC 3261 §12.1.1). */
  routeSet: readonly string[];
  localCseq: number;
  /** reginfo version of the next NOTIFY (RFC 3680 §5.3). */
  version: number;
  expiresAt: number;
}

export interface RegEventDeps {
  clock: Clock;
  rng: Rng;
  hosts: HostTable;
  /** Contact of the S-CSCF in the dialogs (its SIP URI). */
  contactUri: string;
  policy: RegEventPolicy;
  /** The current registration with this aor, if any. */
  lookup: (aor: string) => StoredRegistration | undefined;
  /** Sends an in-dialog request; resolves with the final response. */
  send: (req: SipRequest, dest: Destination) => Promise<SipResponse>;
  logger?: Logger;
}

/** Answers a request through its server transaction (RequestContext.reply). */
export type Reply = (status: number, reason?: string, opts?: CreateResponseOptions) => void;

function hostPort(u: SipUri): string {
  return `${u.host.toLowerCase()}:${u.port ?? 5060}`;
}

export class RegEventNotifier {
  private readonly subs = new Map<string, RegSubscription>();
  /** Subscriptions by the aor they watch: a registration's change reaches its own in O(1), whatever the number of subscriptions. */
  private readonly byAor = new Map<string, RegSubscription[]>();
  /** Each subscription's end: one timer for all of them, none per subscription. */
  private readonly expiries: DeadlineQueue<RegSubscription>;
  private readonly log: Logger;
  /** NOTIFYs sent (for counters and tests). */
  notifies = 0;

  constructor(private readonly d: RegEventDeps) {
    this.log = d.logger ?? noopLogger;
    this.expiries = new DeadlineQueue(d.clock, (sub) => this.finish(sub, undefined, 'timeout'));
  }

  private key(callId: string, localTag: string, remoteTag: string): string {
    return `${callId}\u0000${localTag}\u0000${remoteTag}`;
  }

  /** Subscriptions to a registration. */
  subscriptionsOf(aor: string): RegSubscription[] {
    return [...(this.byAor.get(aor) ?? [])];
  }

  private add(k: string, sub: RegSubscription): void {
    this.subs.set(k, sub);
    const list = this.byAor.get(sub.aor);
    if (list) list.push(sub);
    else this.byAor.set(sub.aor, [sub]);
  }

  private remove(k: string): void {
    const sub = this.subs.get(k);
    if (!sub) return;
    this.subs.delete(k);
    const rest = (this.byAor.get(sub.aor) ?? []).filter((x) => x !== sub);
    if (rest.length > 0) this.byAor.set(sub.aor, rest);
    else this.byAor.delete(sub.aor);
  }

  get size(): number {
    return this.subs.size;
  }

  /**
   * A SUBSCRIBE for Event: reg (TS 24.229 §5.4.2.1.1). `reg` is the registration whose implicit
   * set holds the Request-URI, or undefined.
   */
  subscribe(req: SipRequest, reply: Reply, reg: StoredRegistration | undefined): void {
    const now = this.d.clock.now();
    const callId = req.headers.get('call-id') ?? '';
    const from = fromOf(req);
    const to = toOf(req);
    const remoteTag = from?.params.get('tag');
    if (!from || !to || typeof remoteTag !== 'string') return reply(400, 'Bad Request', { headers: [['Warning', '399 - "SUBSCRIBE needs a From tag"']] });
    const toTag = to.params.get('tag');
    const expires = expiresOf(req) ?? this.d.policy.defaultExpires;
    if (expires > 0 && expires < this.d.policy.minExpires) return reply(423, 'Interval Too Brief', { headers: [['Min-Expires', String(this.d.policy.minExpires)]] });
    const granted = Math.min(expires, this.d.policy.maxExpires);
    let sub: RegSubscription | undefined;
    if (typeof toTag === 'string') {
      // A refresh (or an unsubscribe) inside the dialog (RFC 6665 §4.2.1.2).
      sub = this.subs.get(this.key(callId, toTag, remoteTag));
      if (!sub) return reply(481, 'Call/Transaction Does Not Exist');
    } else {
      if (!reg) return reply(404, 'Not Found', { headers: [['Warning', '399 - "identity not registered here"']] });
      const who = this.authorise(req, reg);
      if (who === undefined) return reply(403, 'Forbidden', { headers: [['Warning', '399 - "not authorised to watch this registration"']] });
      const contact = contactsOf(req);
      if (contact === '*' || contact.length !== 1) return reply(400, 'Bad Request', { headers: [['Warning', '399 - "SUBSCRIBE needs one Contact"']] });
      // The dialog lives as long as the subscription: its strings are its own, not views of the
      // SUBSCRIBE, and the route set (alike for every subscription through one P-CSCF) the
      // process's pool's (common/strings.ts).
      sub = {
        aor: reg.aor,
        subscriber: who,
        callId: detached(callId),
        localTag: randomToken(this.d.rng, 8),
        remoteTag: detached(remoteTag),
        localUri: detached(formatNameAddr({ ...to, params: to.params.clone() })),
        remoteUri: detached(req.headers.get('from') ?? ''),
        // The P-CSCF's contact is alike for all its subscriptions; a UE's is its own (not pooled: it
        // would only churn the pool).
        remoteTarget: who === 'pcscf' ? interned(formatUri(contact[0].uri)) : detached(formatUri(contact[0].uri)),
        routeSet: internedList(routesOf(req, 'Record-Route').map((r) => formatRoute([r]))),
        localCseq: 0,
        version: 0,
        expiresAt: now,
      };
      this.add(this.key(sub.callId, sub.localTag, sub.remoteTag), sub);
    }
    sub.expiresAt = now + granted * 1000;
    this.expiries.delete(sub);
    reply(200, 'OK', { toTag: sub.localTag, headers: [['Contact', `<${this.d.contactUri}>`], ['Expires', String(granted)]] });
    this.log.info({ aor: sub.aor, subscriber: sub.subscriber, expires: granted }, 'scscf: reg-event subscription');
    if (granted === 0) {
      this.finish(sub, reg, 'timeout');
      return;
    }
    this.expiries.set(sub, sub.expiresAt);
    this.send(sub, reg, [], undefined);
  }

  /**
   * TS 24.229 §5.4.2.1.1: the UE itself (P-Asserted-Identity, else From, is an identity of the
   * set) or the P-CSCF on the path to the UE (its URI's host and port are those of a Path entry).
   */
  private authorise(req: SipRequest, reg: StoredRegistration): 'ue' | 'pcscf' | undefined {
    let who = fromOf(req)?.uri;
    const pai = req.headers.get('p-asserted-identity');
    if (pai !== undefined) {
      try {
        who = parsePAssertedIdentity(pai)[0]?.uri ?? who;
      } catch {
        return undefined;
      }
    }
    if (!who) return undefined;
    const k = impuKey(who);
    if (k !== undefined && reg.impus.some((i) => impuKey(i) === k)) return 'ue';
    if (who.kind !== 'sip') return undefined;
    const hp = hostPort(who);
    for (const b of reg.bindings) {
      for (const p of b.path) {
        try {
          const u = parseUri(p.replace(/^[^<]*<([^>]*)>.*$/, '$1'));
          if (u.kind === 'sip' && hostPort(u) === hp) return 'pcscf';
        } catch {
          // a Path value we cannot read authorises nobody
        }
      }
    }
    return undefined;
  }

  /**
   * A change of a registration: NOTIFY every subscription with the new state; when `ended` the
   * registration is gone and the subscriptions end (Subscription-State: terminated;reason=…).
   */
  changed(reg: StoredRegistration, changes: readonly BindingChange[], ended?: 'deactivated' | 'rejected' | 'noresource'): void {
    for (const sub of this.subscriptionsOf(reg.aor)) {
      if (ended) this.finish(sub, reg, ended, changes);
      else this.send(sub, reg, changes, undefined);
    }
  }

  private finish(sub: RegSubscription, reg: StoredRegistration | undefined, reason: string, changes: readonly BindingChange[] = []): void {
    this.expiries.delete(sub);
    this.remove(this.key(sub.callId, sub.localTag, sub.remoteTag));
    this.send(sub, reg, changes, reason);
  }

  private send(sub: RegSubscription, reg: StoredRegistration | undefined, changes: readonly BindingChange[], terminated: string | undefined): void {
    const now = this.d.clock.now();
    const current = reg ?? this.d.lookup(sub.aor);
    const impus = current?.impus ?? [sub.aor];
    const bindings = terminated && terminated !== 'timeout' ? [] : (current?.bindings ?? []);
    const body = encodeReginfo(reginfoOf(impus, bindings, changes, sub.version++, now));
    const h = new SipHeaders();
    for (const r of sub.routeSet) h.append('Route', r);
    h.append('Max-Forwards', '70');
    h.append('From', `${sub.localUri};tag=${sub.localTag}`);
    h.append('To', sub.remoteUri);
    h.append('Call-ID', sub.callId);
    h.append('CSeq', `${++sub.localCseq} NOTIFY`);
    h.append('Contact', `<${this.d.contactUri}>`);
    h.append('Event', 'reg');
    h.append('Subscription-State', terminated ? `terminated;reason=${terminated}` : `active;expires=${Math.max(0, Math.ceil((sub.expiresAt - now) / 1000))}`);
    h.append('Content-Type', REGINFO_CONTENT_TYPE);
    const notify = new SipRequest('NOTIFY', sub.remoteTarget, h, body);
    let dest: Destination;
    try {
      const first = sub.routeSet.length > 0 ? routesOf(notify, 'Route')[0].uri : parseUri(sub.remoteTarget);
      dest = resolveSipUri(first, this.d.hosts);
    } catch (err) {
      this.log.warn({ aor: sub.aor, err: (err as Error).message }, 'scscf: NOTIFY has no destination');
      return;
    }
    this.notifies++;
    this.log.debug({ aor: sub.aor, to: `${dest.address}:${dest.port}`, state: terminated ?? 'active' }, 'scscf: NOTIFY reg');
    this.d.send(notify, dest).then(
      (resp) => {
        if (resp.status === 481 || resp.status === 404 || resp.status === 408) this.drop(sub, `NOTIFY answered ${resp.status}`);
      },
      (err: Error) => this.drop(sub, err.message),
    );
  }

  /** RFC 6665 §4.2.2: a NOTIFY that fails ends the subscription. */
  private drop(sub: RegSubscription, why: string): void {
    const k = this.key(sub.callId, sub.localTag, sub.remoteTag);
    if (this.subs.get(k) !== sub) return;
    this.expiries.delete(sub);
    this.remove(k);
    this.log.info({ aor: sub.aor, why }, 'scscf: reg-event subscription dropped');
  }

  /** Cancels every timer (stop). */
  clear(): void {
    this.expiries.clear();
    this.subs.clear();
    this.byAor.clear();
  }
}
