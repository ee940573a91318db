/**
 * Who a request is from, and what the UE may learn (TS 33.203 §7.1 SA table, TS 24.229
 * §5.2.6.3.1 and §5.2.6.4, RFC 3325, RFC 3323). Pure functions over SIP messages.
 *
 * - R-SA-4: a protected request must name (in P-Preferred-Identity, else From) a public user
 *   identity bound to the SA it came in on; the P-CSCF then asserts it in P-Asserted-Identity
 *   (RFC 3325 §6) and removes P-Preferred-Identity.
 * - R-ANON-1 / R-ANON-2: towards the UE (the last hop of a terminating request) the identity is
 *   removed when the request asks for `Privacy: id` or the UE is outside the trust domain; a
 *   request marked `critical` whose privacy cannot be given is refused (RFC 3323 §4.2, §5.1).
 *   A pseudonym IMPU is an IMPU like any other: nothing here looks inside the user part.
 */
import { formatUri, fromOf, parsePPreferredIdentity, parsePrivacy, type SipRequest, type Uri } from '../../sip/index.js';
import { impuKey } from '../common/index.js';

/** The identities a UE request claims: P-Preferred-Identity values, else the From URI. Throws SipParseError. */
export function claimedIdentities(req: SipRequest): Uri[] {
  const ppi = req.headers.getLines('P-Preferred-Identity').flatMap((l) => parsePPreferredIdentity(l).map((n) => n.uri));
  if (ppi.length > 0) return ppi;
  const from = fromOf(req);
  return from ? [from.uri] : [];
}

export type IdentityCheck = { ok: true; asserted: Uri[] } | { ok: false; detail: string };

/**
 * R-SA-4 (TS 24.229 §5.2.6.3.1): every identity the request claims must be one of `impus`
 * (the IMPUs bound to the SA it came in on). The asserted identities are the claimed ones.
 * A P-Preferred-Identity that does not parse throws its SipParseError: the P-CSCF reads that
 * field, so the request gets 400 naming it (RFC 3261 §16.3 step 1), not the silent discard of a
 * well-formed identity that is not bound to the SA.
 */
export function checkIdentity(req: SipRequest, impus: readonly string[]): IdentityCheck {
  const claimed = claimedIdentities(req);
  if (claimed.length === 0) return { ok: false, detail: 'no identity in P-Preferred-Identity or From' };
  const bound = new Set(impus.map((i) => impuKey(i)).filter((k): k is string => k !== undefined));
  for (const u of claimed) {
    const k = impuKey(u);
    if (k === undefined || !bound.has(k)) return { ok: false, detail: `${formatUri(u)} is not bound to this SA` };
  }
  return { ok: true, asserted: claimed };
}

/** RFC 3325 §6: replace P-Preferred-Identity by P-Asserted-Identity with the checked identities. */
export function assertIdentity(req: SipRequest, asserted: readonly Uri[]): void {
  req.headers.remove('P-Preferred-Identity');
  req.headers.remove('P-Asserted-Identity');
  req.headers.append('P-Asserted-Identity', asserted.map((u) => `<${formatUri(u)}>`).join(', '));
}

/** Privacy values (RFC 3323 §4.2, RFC 3325 §9.3), lower-cased; empty when absent or unreadable. */
export function privacyOf(req: SipRequest): string[] {
  const out: string[] = [];
  for (const line of req.headers.getLines('Privacy')) {
    try {
      out.push(...parsePrivacy(line).map((v) => v.toLowerCase()));
    } catch {
      // An unreadable Privacy header asks for nothing we can act on.
    }
  }
  return out;
}

/**
 * Privacy levels the last-hop P-CSCF can honour itself: `id` (remove the asserted identity,
 * RFC 3325 §7), `user` (the originating UA's anonymisation of From, nothing to do here),
 * `none`, `critical` (a marker). `header` (obscuring Via, Record-Route, Contact) and `session`
 * (media anonymisation) need a privacy service this proxy is not (RFC 3323 §5).
 */
const HONOURED = new Set(['id', 'user', 'none', 'critical', 'history']);

export type PrivacyOutcome = { ok: true; removedIdentity: boolean } | { ok: false; status: number; reason: string; detail: string };

/**
 * R-ANON-1 for a request leaving towards the UE:
 * 1. `critical` with a level this P-CSCF cannot honour: refuse with 500 (RFC 3323 §5.1), the
 *    request is not delivered.
 * 2. `id`, or a UE outside the trust domain (RFC 3325 §5): remove P-Asserted-Identity and any
 *    P-Preferred-Identity.
 */
export function applyTerminatingPrivacy(req: SipRequest, opts: { ueTrusted: boolean }): PrivacyOutcome {
  const values = privacyOf(req);
  const unsupported = values.filter((v) => !HONOURED.has(v));
  if (values.includes('critical') && unsupported.length > 0) {
    return { ok: false, status: 500, reason: 'Privacy Unavailable', detail: `critical privacy ${unsupported.join(';')} cannot be provided` };
  }
  const strip = values.includes('id') || !opts.ueTrusted;
  const had = req.headers.has('P-Asserted-Identity') || req.headers.has('P-Preferred-Identity');
  if (strip) {
    req.headers.remove('P-Asserted-Identity');
    req.headers.remove('P-Preferred-Identity');
  }
  return { ok: true, removedIdentity: strip && had };
}
