/**
 * IMS AKA at the S-CSCF, the pure parts (TS 33.203 §6.1, TS 24.229 §5.4.1.2, RFC 3310, RFC 4169):
 * which credentials a REGISTER carries and what they ask for, the 401 challenge built from one
 * vector, and the check of the response with XRES as the AKA password (constant time).
 */
import { akaPassword, buildAkaNonce, formatDigestChallenge, parseDigestCredentials, verifyDigestResponse, type DigestCredentials } from '../../auth/digest/index.js';
import { parseUri } from '../../sip/headers/index.js';
import type { SipRequest } from '../../sip/message/index.js';
import type { HeldVector } from './vectors.js';

/** The Digest algorithm name of an AKA version (RFC 3310 §3.1, RFC 4169 §4). */
export function akaAlgorithm(version: 1 | 2): 'AKAv1-MD5' | 'AKAv2-MD5' {
  return version === 2 ? 'AKAv2-MD5' : 'AKAv1-MD5';
}

/** The AKA version a SIP-Authentication-Scheme calls for (TS 29.229 §6.3.9); AKAv1 unless it says AKAv2. */
export function versionOfScheme(scheme: string | undefined): 1 | 2 {
  return scheme !== undefined && scheme.toLowerCase() === 'digest-akav2-md5' ? 2 : 1;
}

/**
 * How the P-CSCF marked the REGISTER (TS 24.229 §5.4.1.1, §7.2A.1.2):
 * - `protected`: integrity-protected "yes" (or "tls-yes", "ip-assoc-yes", "tls-connected"): it came over an SA;
 * - `unprotected`: "no" (or a *-pending value): it came on an unprotected port — always challenged (R-RR-4);
 * - `absent`: no indicator, so no P-CSCF vouches either way (a UA attached directly, e.g. SIPp):
 *   a response to a pending challenge is verified, but AKA is never skipped.
 */
export type Integrity = 'protected' | 'unprotected' | 'absent';

export function integrityOf(creds: DigestCredentials | undefined): Integrity {
  const ip = creds?.integrityProtected;
  if (ip === undefined) return 'absent';
  return ip === 'yes' || ip === 'tls-yes' || ip === 'ip-assoc-yes' || ip === 'tls-connected' ? 'protected' : 'unprotected';
}

/**
 * The Digest credentials of a REGISTER: the Authorization field whose realm is ours, else the
 * first Digest one; undefined when there is none. @throws DigestParseError when the one chosen
 * does not parse (the caller answers 400).
 */
export function credentialsOf(req: SipRequest, realm: string): DigestCredentials | undefined {
  const lines = req.headers.getAll('authorization').filter((l) => /^\s*digest(\s|$)/i.test(l));
  if (lines.length === 0) return undefined;
  if (lines.length === 1) return parseDigestCredentials(lines[0]);
  for (const l of lines) {
    try {
      const c = parseDigestCredentials(l);
      if (c.realm === realm) return c;
    } catch {
      // a broken field for another realm is not ours to judge
    }
  }
  return parseDigestCredentials(lines[0]);
}

/**
 * TS 24.229 §5.4.1.1 item 3: without an Authorization header the S-CSCF derives the private
 * identity from the public one (TS 23.003 §13.3 form `user@domain`).
 */
export function derivePrivateIdentity(impu: string): string {
  const u = parseUri(impu);
  if (u.kind === 'sip') return u.user !== undefined ? `${u.user}@${u.host}` : u.host;
  if (u.kind === 'tel') return u.number;
  return u.opaque;
}

/** What the S-CSCF remembers of a challenge it sent (reg-await-auth running). */
export interface PendingChallenge {
  impi: string;
  impu: string;
  nonce: string;
  realm: string;
  vector: HeldVector;
  /** When reg-await-auth started (clock ms). */
  sentAt: number;
}

/**
 * The WWW-Authenticate value of the 401 (TS 24.229 §5.4.1.2.1 step 5, RFC 3310 §3.1):
 * `Digest realm, nonce = base64(RAND‖AUTN), algorithm=AKAv1-MD5|AKAv2-MD5, qop="auth"`, and
 * `ik`, `ck` for the P-CSCF when `sendKeys` (R-AKA-6; the P-CSCF strips them).
 */
export function challengeFor(vector: HeldVector, realm: string, sendKeys: boolean): { nonce: string; header: string } {
  const nonce = buildAkaNonce(vector.rand, vector.autn);
  const header = formatDigestChallenge({
    realm,
    nonce,
    algorithm: akaAlgorithm(vector.version),
    qop: ['auth'],
    ...(sendKeys ? { ik: vector.ik, ck: vector.ck } : {}),
  });
  return { nonce, header };
}

/** Why a response does not verify (for logs and counters; never carries a secret). */
export type VerifyFailure = 'algorithm' | 'realm' | 'username' | 'qop' | 'response';

/**
 * Checks a challenge response (RFC 3310 §3.3 / RFC 4169 §3: XRES as the AKA password; RFC 2617
 * §3.2.2 digest; compared in constant time by {@link verifyDigestResponse}). The nonce must be
 * the pending challenge's (the caller matched it), the algorithm the one challenged, the realm and
 * username the challenge's.
 */
export function verifyChallengeResponse(creds: DigestCredentials, pending: PendingChallenge, method: string, body: Uint8Array): { ok: true } | { ok: false; why: VerifyFailure } {
  const algorithm = akaAlgorithm(pending.vector.version);
  if (creds.algorithm !== undefined && creds.algorithm !== algorithm) return { ok: false, why: 'algorithm' };
  if (creds.realm !== pending.realm) return { ok: false, why: 'realm' };
  if (creds.username !== pending.impi) return { ok: false, why: 'username' };
  const qop = creds.qop;
  if (qop !== undefined && qop !== 'auth' && qop !== 'auth-int') return { ok: false, why: 'qop' };
  if (qop !== undefined && (creds.cnonce === undefined || creds.nc === undefined)) return { ok: false, why: 'qop' };
  const v = pending.vector;
  const ok = verifyDigestResponse(
    {
      algorithm,
      username: creds.username,
      realm: creds.realm,
      password: akaPassword(v.version, v.xres, v.ik, v.ck),
      method,
      uri: creds.uri,
      nonce: creds.nonce,
      ...(qop !== undefined ? { qop, nc: creds.nc, cnonce: creds.cnonce, body } : {}),
    },
    creds.response,
  );
  return ok ? { ok: true } : { ok: false, why: 'response' };
}
