/**
 * The soft UE's decisions, as pure functions over received messages: what a 401 asks for
 * (TS 24.229 §5.1.1.5.1, TS 33.203 §6.1 and §7.2), what a 200 to REGISTER grants (§5.1.1.2.1:
 * P-Associated-URI, Service-Route, expiry), when to re-register (§5.1.1.4.1, R-REG-3), what a
 * reg-event NOTIFY means for this UE (§5.1.1.3, RFC 3680, R-RR-5), and which responses may
 * arrive on the unprotected port (R-SA-5).
 */
import { parseAkaNonce, type DigestChallenge, type IsimResult } from '../../auth/index.js';
import { ueAcceptSecurityServer, type SecMechanism, type UeAcceptance } from '../../secagree/index.js';
import { contactExpires, contactsOf, cseqOf, expiresOf, formatNameAddr, formatUri, parsePAssociatedUri, parseRetryAfter, parseServiceRoute, parseUri, securityServerOf, wwwAuthenticateOf, type SipResponse, type Uri, canonicalAddress, type Reginfo, type ReginfoContactEvent } from '../../sip/index.js';
import type { Endpoint } from '../../sip/transport/index.js';
import type { ReRegisterPolicy } from './config.js';

/** What to do with a 401 (Unauthorized) to REGISTER. */
export type ChallengeOutcome =
  /** Authentic and fresh: answer with RES over new SAs keyed with IK/CK (R-SM-6). */
  | { kind: 'answer'; challenge: DigestChallenge; version: 1 | 2; res: Uint8Array; ck: Uint8Array; ik: Uint8Array; security: UeAcceptance }
  /** SQN out of range: report AUTS (R-FAIL-3, TS 33.102 §6.3.3). */
  | { kind: 'sync-failure'; challenge: DigestChallenge; auts: Uint8Array }
  /** MAC wrong: report network authentication failure (R-FAIL-2). */
  | { kind: 'mac-failure'; challenge: DigestChallenge }
  /** Stop without sending anything more: the Security-Server (R-SM-5) or the challenge is unusable. */
  | { kind: 'refuse'; reason: 'security-server' | 'bad-challenge'; detail: string };

/** The ISIM as {@link analyzeChallenge} needs it. */
export interface ChallengeIsim {
  authenticate(rand: Uint8Array, autn: Uint8Array): IsimResult;
}

/**
 * TS 24.229 §5.1.1.5.1 and TS 33.203 §7.2 on a 401:
 * 1. One Digest challenge with algorithm AKAv1-MD5 or AKAv2-MD5 whose nonce holds RAND ‖ AUTN
 *    (RFC 3310 §3.2), else refuse.
 * 2. The Security-Server must choose a mechanism the UE offered, with usable SPIs and ports
 *    (R-SM-5), else refuse — checked before the ISIM runs, so a refused challenge costs no SQN.
 * 3. The ISIM: MAC failure, synchronisation failure, or RES/CK/IK.
 */
export function analyzeChallenge(resp: SipResponse, offer: readonly SecMechanism[], isim: ChallengeIsim): ChallengeOutcome {
  // 1.
  let challenges: DigestChallenge[];
  try {
    challenges = wwwAuthenticateOf(resp);
  } catch (e) {
    return { kind: 'refuse', reason: 'bad-challenge', detail: `WWW-Authenticate does not parse: ${(e as Error).message}` };
  }
  const ch = challenges.find((c) => c.algorithm === 'AKAv1-MD5' || c.algorithm === 'AKAv2-MD5');
  if (!ch) return { kind: 'refuse', reason: 'bad-challenge', detail: 'no Digest AKAv1-MD5/AKAv2-MD5 challenge' };
  let rand: Uint8Array;
  let autn: Uint8Array;
  try {
    ({ rand, autn } = parseAkaNonce(ch.nonce));
  } catch (e) {
    return { kind: 'refuse', reason: 'bad-challenge', detail: (e as Error).message };
  }
  // 2.
  let server: SecMechanism[];
  try {
    server = securityServerOf(resp);
  } catch (e) {
    return { kind: 'refuse', reason: 'security-server', detail: `Security-Server does not parse: ${(e as Error).message}` };
  }
  const acceptance = ueAcceptSecurityServer(offer, server);
  if (!acceptance.ok) return { kind: 'refuse', reason: 'security-server', detail: acceptance.detail };
  // 3.
  const r = isim.authenticate(rand, autn);
  if (r.result === 'mac-failure') return { kind: 'mac-failure', challenge: ch };
  if (r.result === 'sync-failure') return { kind: 'sync-failure', challenge: ch, auts: r.auts };
  return { kind: 'answer', challenge: ch, version: ch.algorithm === 'AKAv2-MD5' ? 2 : 1, res: r.res, ck: r.ck, ik: r.ik, security: acceptance };
}

/** What a 200 (OK) to REGISTER granted. */
export interface Granted {
  /** P-Associated-URI: the implicitly registered set, default IMPU first (R-REG-2). */
  impus: string[];
  /** Service-Route entries as name-addr text, in order (TS 24.229 §5.1.1.2.1). */
  serviceRoute: string[];
  /** Seconds the registration lasts (0: de-registered). */
  expires: number;
}

/** True when the URI names this endpoint (host compared canonically, port exact). */
export function uriNamesEndpoint(uri: Uri | string, e: Endpoint): boolean {
  let u: Uri;
  try {
    u = typeof uri === 'string' ? parseUri(uri) : uri;
  } catch {
    return false;
  }
  return u.kind === 'sip' && canonicalAddress(u.host) === canonicalAddress(e.address) && (u.port ?? 5060) === e.port;
}

/**
 * TS 24.229 §5.1.1.2.1 on a 200 to REGISTER: the expiry is the `expires` of our Contact in the
 * response, else the Expires header, else what was asked for; the implicit set is the
 * P-Associated-URI list (our IMPU when absent); Service-Route is kept in order.
 */
export function decideGranted(resp: SipResponse, contact: Endpoint, asked: number, impu: string): Granted {
  let expires: number | undefined;
  try {
    const cs = contactsOf(resp);
    if (cs !== undefined && cs !== '*') for (const c of cs) if (uriNamesEndpoint(c.uri, contact)) expires = contactExpires(c);
  } catch {
    expires = undefined;
  }
  if (expires === undefined) {
    try {
      expires = expiresOf(resp);
    } catch {
      expires = undefined;
    }
  }
  const impus: string[] = [];
  for (const line of resp.headers.getAll('p-associated-uri')) {
    try {
      for (const na of parsePAssociatedUri(line)) impus.push(formatUri(na.uri));
    } catch {
      // An unreadable entry is skipped; the default IMPU is still known.
    }
  }
  const serviceRoute: string[] = [];
  for (const line of resp.headers.getAll('service-route')) {
    try {
      for (const na of parseServiceRoute(line)) serviceRoute.push(formatNameAddr(na));
    } catch {
      // A Service-Route we cannot read cannot be used as a Route either.
    }
  }
  if (impus.length === 0) impus.push(impu);
  return { impus, serviceRoute, expires: expires ?? asked };
}

/**
 * R-REG-3, TS 24.229 §5.1.1.4.1: re-register 600 s before expiry when the registration lasts
 * more than 1200 s, else when half of it has passed — i.e. at max(E·fraction, E − margin),
 * never at or after the expiry itself.
 */
/**
 * The Retry-After of an error response in seconds (RFC 3261 §20.33, §21.5.4: a 503 "MAY indicate
 * when the client should retry"); undefined when absent or unreadable.
 */
export function retryAfterOf(resp: SipResponse): number | undefined {
  const v = resp.headers.get('Retry-After');
  if (v === undefined) return undefined;
  try {
    return parseRetryAfter(v).seconds;
  } catch {
    return undefined;
  }
}

export function reRegisterDelayMs(expiresSeconds: number, policy: Pick<ReRegisterPolicy, 'fraction' | 'marginSeconds'>): number {
  const e = expiresSeconds * 1000;
  const at = Math.max(e * policy.fraction, e - policy.marginSeconds * 1000);
  return at >= e ? e * policy.fraction : at;
}

/** What a reg-event NOTIFY means for this UE (TS 24.229 §5.1.1.5.1, §5.1.1.7; R-RR-5). */
export type NotifyOutcome =
  | { kind: 'none' }
  /** Network-initiated re-authentication: re-register within `expires` seconds. */
  | { kind: 'shortened'; expires: number }
  /** The registration is gone: clean up (deactivated, rejected, expired, unregistered, ...). */
  | { kind: 'terminated'; event: ReginfoContactEvent | 'registration-terminated' };

/**
 * Looks at the registrations of our public identities and at our own contact in them:
 * 1. our contact terminated (any event), or a registration of ours terminated → terminated;
 * 2. our contact active with event `shortened` → shortened (expires, default 0);
 * 3. anything else → none.
 */
export function decideOnNotify(info: Reginfo, impus: readonly string[], contact: Endpoint): NotifyOutcome {
  const ours = new Set(impus.map(normUri));
  let shortened: NotifyOutcome | undefined;
  for (const reg of info.registrations) {
    if (!ours.has(normUri(reg.aor))) continue;
    const mine = reg.contacts.filter((c) => uriNamesEndpoint(c.uri, contact));
    for (const c of mine) {
      if (c.state === 'terminated') return { kind: 'terminated', event: c.event };
      if (c.event === 'shortened') shortened ??= { kind: 'shortened', expires: c.expires ?? 0 };
    }
    if (reg.state === 'terminated' && (mine.length > 0 || reg.contacts.length === 0)) return { kind: 'terminated', event: 'registration-terminated' };
  }
  return shortened ?? { kind: 'none' };
}

function normUri(u: string): string {
  return u.trim().replace(/^<|>$/g, '').toLowerCase();
}

/**
 * R-SA-5, the UE's port rule: on its unprotected port the UE accepts only responses to the
 * REGISTERs it sent there (`branches`) and error responses (≥ 300); requests never.
 */
export function acceptOnUnprotectedPort(msg: { kind: 'request' } | SipResponse, branches: ReadonlySet<string>, branch: string | undefined): boolean {
  if (msg.kind === 'request') return false;
  if (msg.status >= 300) return true;
  let method: string | undefined;
  try {
    method = cseqOf(msg)?.method;
  } catch {
    return false;
  }
  return method === 'REGISTER' && branch !== undefined && branches.has(branch);
}
