/**
 * Contact bindings of a registration, the pure registrar rules (RFC 3261 §10.3 steps 6–8,
 * RFC 3327 Path, RFC 5626 §6 instance/reg-id, RFC 3680 §5.2 contact events):
 * - expiry: the contact's `expires`, else the Expires header, else the default; 0 removes the
 *   binding; below the minimum is refused with 423 and Min-Expires; above the maximum is cut;
 * - a binding is matched by +sip.instance (and reg-id) when both sides carry an instance, else by
 *   URI (§19.1.4): the same instance from a new address replaces its old binding;
 * - for an existing binding with the same Call-ID, a CSeq not higher than the stored one aborts
 *   the update (§10.3 step 7);
 * - `*` with Expires 0 removes every binding.
 * Every function returns new arrays and objects; nothing is mutated.
 */
import {
  contactExpires,
  contactInstance,
  contactQ,
  contactRegId,
  formatNameAddr,
  parseUri,
  uriEquals,
  formatUri,
  type ContactList,
  type NameAddr,
} from '../../sip/headers/index.js';
import { detached, internedList } from '../../common/index.js';
import type { ReginfoContactEvent } from '../../sip/index.js';
import type { StoredBinding } from '../../store/index.js';
import type { RegistrarPolicy } from './config.js';

/** What one REGISTER asks for. */
export interface ContactRequest {
  contacts: ContactList;
  /** The Expires header, when present. */
  expiresHeader?: number;
  callId: string;
  cseq: number;
  /** Path header values, top first. */
  path: string[];
  received?: StoredBinding['received'];
}

/** One binding that changed, with its RFC 3680 event. */
export interface BindingChange {
  binding: StoredBinding;
  state: 'active' | 'terminated';
  event: ReginfoContactEvent;
}

export type ApplyResult =
  | { ok: true; bindings: StoredBinding[]; changes: BindingChange[] }
  | { ok: false; status: number; reason: string; headers?: [string, string][] };

/** The expiry a contact asks for, in seconds, before the policy's cap (RFC 3261 §10.2.1.1). */
export function requestedExpiry(c: NameAddr, expiresHeader: number | undefined, policy: Pick<RegistrarPolicy, 'defaultExpires'>): number {
  return contactExpires(c) ?? expiresHeader ?? policy.defaultExpires;
}

/**
 * RFC 3261 §10.3 step 7: a non-zero expiry below the minimum → 423 (Interval Too Brief) with
 * Min-Expires. Checked before authentication so no vector is spent on a request that must fail.
 */
export function checkMinExpires(req: Pick<ContactRequest, 'contacts' | 'expiresHeader'>, policy: Pick<RegistrarPolicy, 'defaultExpires' | 'minExpires'>): ApplyResult | null {
  if (req.contacts === '*') return null;
  for (const c of req.contacts) {
    const e = requestedExpiry(c, req.expiresHeader, policy);
    if (e > 0 && e < policy.minExpires) return { ok: false, status: 423, reason: 'Interval Too Brief', headers: [['Min-Expires', String(policy.minExpires)]] };
  }
  return null;
}

/** True when the request removes bindings only (a de-registration). */
export function isDeregistration(req: Pick<ContactRequest, 'contacts' | 'expiresHeader'>, policy: Pick<RegistrarPolicy, 'defaultExpires'>): boolean {
  if (req.contacts === '*') return req.expiresHeader === 0;
  return req.contacts.length > 0 && req.contacts.every((c) => requestedExpiry(c, req.expiresHeader, policy) === 0);
}

/** The Contact text kept for a binding: the name-addr with its parameters but without `expires`. */
export function contactText(c: NameAddr): string {
  const params = c.params.clone();
  params.delete('expires');
  return formatNameAddr({ ...c, params });
}

/**
 * Whether a Contact names an existing binding. With `+sip.instance` on both, the instance (and the
 * reg-id, absent on both counting as equal) decides: the same UE instance registering again from a
 * new address or port replaces its old contact rather than leaving a stale one beside it
 * (RFC 5626 §6 for instance + reg-id; RFC 5627 §4.1 / TS 24.229 §5.4.1.2.2 for an instance
 * without reg-id, the UE of TS 24.229 §5.1.1.2 that does not use outbound). Otherwise the URI
 * decides (RFC 3261 §10.3 step 7, §19.1.4).
 */
function sameBinding(b: StoredBinding, c: NameAddr): boolean {
  const inst = contactInstance(c);
  if (inst !== undefined && b.instance !== undefined) return inst === b.instance && contactRegId(c) === b.regId;
  try {
    return uriEquals(parseUri(b.uri), c.uri);
  } catch {
    return false;
  }
}

/**
 * Applies one REGISTER's contacts to the current bindings (RFC 3261 §10.3 step 7). `newId` makes
 * the RFC 3680 id of a new binding. Expired bindings must have been removed by the caller.
 */
export function applyContacts(
  current: readonly StoredBinding[],
  req: ContactRequest,
  now: number,
  policy: Pick<RegistrarPolicy, 'defaultExpires' | 'minExpires' | 'maxExpires' | 'maxContacts'>,
  newId: () => string,
): ApplyResult {
  const cseqTooLow = (b: StoredBinding): boolean => b.callId === req.callId && req.cseq <= b.cseq;
  if (req.contacts === '*') {
    if (req.expiresHeader !== 0) return { ok: false, status: 400, reason: 'Invalid Request', headers: [['Warning', '399 - "Contact: * needs Expires: 0"']] };
    if (current.some(cseqTooLow)) return { ok: false, status: 500, reason: 'Server Internal Error', headers: [['Warning', '399 - "CSeq not higher than the stored one"']] };
    return { ok: true, bindings: [], changes: current.map((b) => ({ binding: b, state: 'terminated', event: 'unregistered' })) };
  }
  const bindings = current.map((b) => ({ ...b }));
  const changes: BindingChange[] = [];
  for (const c of req.contacts) {
    const e0 = requestedExpiry(c, req.expiresHeader, policy);
    if (e0 > 0 && e0 < policy.minExpires) return { ok: false, status: 423, reason: 'Interval Too Brief', headers: [['Min-Expires', String(policy.minExpires)]] };
    const e = Math.min(e0, policy.maxExpires);
    const i = bindings.findIndex((b) => sameBinding(b, c));
    if (i >= 0 && cseqTooLow(bindings[i])) return { ok: false, status: 500, reason: 'Server Internal Error', headers: [['Warning', '399 - "CSeq not higher than the stored one"']] };
    const uri = formatUri(c.uri);
    if (e === 0) {
      if (i >= 0) {
        changes.push({ binding: bindings[i], state: 'terminated', event: 'unregistered' });
        bindings.splice(i, 1);
      }
      continue;
    }
    // A binding lives for the registration: its strings are its own, not views of the REGISTER,
    // and the Path, alike for every UE behind one P-CSCF, the process's pool's (common/strings.ts).
    const instance = contactInstance(c);
    const fields = {
      uri: detached(uri),
      contact: detached(contactText(c)),
      expiresAt: now + e * 1000,
      path: internedList(req.path),
      callId: detached(req.callId),
      cseq: req.cseq,
      ...(instance !== undefined ? { instance: detached(instance) } : {}),
      ...(contactRegId(c) !== undefined ? { regId: contactRegId(c) } : {}),
      ...(contactQ(c) !== undefined ? { q: contactQ(c) } : {}),
      ...(req.received ? { received: req.received } : {}),
    };
    if (i >= 0 && bindings[i].uri === uri) {
      const b: StoredBinding = { id: bindings[i].id, registeredAt: bindings[i].registeredAt, ...fields };
      bindings[i] = b;
      changes.push({ binding: b, state: 'active', event: 'refreshed' });
    } else {
      if (i >= 0) {
        // RFC 5626 §6: the same instance and reg-id from a new address replaces the old flow.
        changes.push({ binding: bindings[i], state: 'terminated', event: 'unregistered' });
        bindings.splice(i, 1);
      }
      if (bindings.length >= policy.maxContacts) return { ok: false, status: 403, reason: 'Forbidden', headers: [['Warning', '399 - "too many contacts"']] };
      const b: StoredBinding = { id: newId(), registeredAt: now, ...fields };
      bindings.push(b);
      changes.push({ binding: b, state: 'active', event: 'registered' });
    }
  }
  return { ok: true, bindings, changes };
}

/** Splits off the bindings whose expiry has passed (RFC 3680 event "expired"). */
export function expireBindings(bindings: readonly StoredBinding[], now: number): { kept: StoredBinding[]; expired: BindingChange[] } {
  const kept: StoredBinding[] = [];
  const expired: BindingChange[] = [];
  for (const b of bindings) {
    if (b.expiresAt <= now) expired.push({ binding: b, state: 'terminated', event: 'expired' });
    else kept.push(b);
  }
  return { kept, expired };
}

/**
 * Network-initiated re-authentication (TS 24.229 §5.4.1.6): every binding's expiry becomes at
 * most `graceSeconds` from now (RFC 3680 event "shortened").
 */
export function shortenBindings(bindings: readonly StoredBinding[], now: number, graceSeconds: number): { bindings: StoredBinding[]; changes: BindingChange[] } {
  const out = bindings.map((b) => ({ ...b, expiresAt: Math.min(b.expiresAt, now + graceSeconds * 1000) }));
  return { bindings: out, changes: out.map((b) => ({ binding: b, state: 'active', event: 'shortened' })) };
}

/** Seconds left on a binding (rounded up, at least 0). */
export function secondsLeft(b: StoredBinding, now: number): number {
  return Math.max(0, Math.ceil((b.expiresAt - now) / 1000));
}

/** The Contact values of a 200 OK to REGISTER: every binding with its remaining expiry (RFC 3261 §10.3 step 8). */
export function contactHeaderValues(bindings: readonly StoredBinding[], now: number): string[] {
  return bindings.map((b) => `${b.contact};expires=${secondsLeft(b, now)}`);
}

/** The binding a terminating request goes to: highest q, then the most recently registered. */
export function preferredBinding(bindings: readonly StoredBinding[], now: number): StoredBinding | undefined {
  let best: StoredBinding | undefined;
  for (const b of bindings) {
    if (b.expiresAt <= now) continue;
    if (!best || (b.q ?? 1) > (best.q ?? 1) || ((b.q ?? 1) === (best.q ?? 1) && b.registeredAt > best.registeredAt)) best = b;
  }
  return best;
}
