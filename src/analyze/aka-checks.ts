/**
 * The IMS AKA checks a capture allows once the HSS's vector is known (R-AKA-6, R-FAIL-1), and the
 * diagnosis of a registration that stalls after the 401 (R-FAIL-4): pure functions over what the
 * checker gathered.
 */
import { akaPassword, parseAkaNonce, verifyDigestResponse, type DigestAlgorithm, type DigestCredentials } from '../auth/index.js';
import { toHex } from '../common/index.js';
import type { KeyRing } from './key-ring.js';
import type { Challenge, SaSet } from './model.js';

export type DigestVerdict = { kind: 'verified' } | { kind: 'unchecked' } | { kind: 'failed'; detail: string };

/**
 * RFC 3310 §3.3 / RFC 4169 §3: the response computed with XRES (AKAv1) or its AKAv2 password, as
 * the S-CSCF does (RFC 2617 §3.2.2, qop auth or auth-int over the body). Unchecked when the MAA
 * with XRES is not in the capture.
 */
export function verifyAkaResponse(cr: DigestCredentials, body: Uint8Array, keys: KeyRing): DigestVerdict {
  let rand: string;
  try {
    rand = toHex(parseAkaNonce(cr.nonce).rand);
  } catch {
    return { kind: 'unchecked' };
  }
  const k = keys.akaFor(rand);
  const alg = (cr.algorithm ?? 'AKAv1-MD5') as DigestAlgorithm;
  if (!k?.xres || (alg !== 'AKAv1-MD5' && alg !== 'AKAv2-MD5')) return { kind: 'unchecked' };
  try {
    const password = akaPassword(alg === 'AKAv2-MD5' ? 2 : 1, k.xres, k.ik, k.ck);
    const qop = cr.qop === 'auth' || cr.qop === 'auth-int' ? cr.qop : undefined;
    const ok = verifyDigestResponse({ algorithm: alg, username: cr.username, realm: cr.realm, password, method: 'REGISTER', uri: cr.uri, nonce: cr.nonce, ...(qop ? { qop, nc: cr.nc, cnonce: cr.cnonce } : {}), body }, cr.response);
    return ok ? { kind: 'verified' } : { kind: 'failed', detail: `${alg}${qop ? `, qop=${qop}` : ''}; the MAA in frames ${k.frames.join(', ')}` };
  } catch {
    return { kind: 'unchecked' };
  }
}

/** Which observation points to why no protected REGISTER followed the 401 (issue [J] §4). */
export function stallCause(ch: Challenge, set: SaSet | undefined, ue: string): string {
  if (set && set.esp.icv > 0) return `ESP from the UE fails the integrity check (${set.esp.icv} packet(s)): UE and P-CSCF hold different keys or transforms (Annex I from IK/CK, alg ${set.alg}/${set.ealg})`;
  if (ch.unknownSpiFromUe > 0) return `ESP from the UE uses an SPI this sec-agree did not negotiate (${ch.unknownSpiFromUe} packet(s)): wrong SPI or port`;
  if (ch.clearAnswers > 0) return 'the UE answered in the clear: it set up no SA (check the Security-Server it got and its IPsec support)';
  if (set && set.esp.fromUe > 0) return `ESP from the UE verified (${set.esp.fromUe} packet(s)) but carried no REGISTER the analyser could read`;
  return `no ESP at all from the UE ${ue}: it did not accept the 401 (AUTN/MAC or SQN check, or the Security-Server) or its SAs were never installed`;
}
