/**
 * Digest AKA glue: the password AKA feeds into Digest, the AKA nonce and the `auts` parameter.
 *
 * - RFC 3310 §3.2: `nonce = base64(RAND ‖ AUTN ‖ server data)`, RAND and AUTN 16 octets each.
 * - RFC 3310 §3.3: AKAv1 — the Digest password is RES itself, as raw octets (4–16 of them,
 *   TS 33.102 §6.3.2; it may contain 0x00 bytes and is neither a C string nor hex).
 * - RFC 4169 §3: AKAv2 — the password is `base64(PRF(RES ‖ IK ‖ CK, "http-digest-akav2-password"))`
 *   with PRF = HMAC-MD5 for AKAv2-MD5, keyed with RES ‖ IK ‖ CK over the ASCII label. The same
 *   construction (key = RES‖IK‖CK, data = label, then base64 of the 16-byte MAC) is what pjsip
 *   (pjsip/pjproject, pjsip/src/pjsip/sip_auth_aka.c) and Metaswitch sprout
 *   (src/authenticationsproutlet.cpp) implement.
 * - RFC 3310 §3.4: on a synchronisation failure the client sends `auts="base64(AUTS)"`,
 *   AUTS = SQN_MS ⊕ AK* ‖ MAC-S (14 octets), with an empty password.
 */
import { createHmac } from 'node:crypto';
import { InvalidArgumentError, concatBytes, toBase64 } from '../../common/index.js';
import { DigestParseError } from './errors.js';
import { decodeBase64Loose } from './values.js';

const AKAV2_LABEL = 'http-digest-akav2-password';
const AUTS_LEN = 14;

function checkLen(b: Uint8Array, min: number, max: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length < min || b.length > max) {
    throw new InvalidArgumentError(min === max ? `${what} must be ${min} bytes` : `${what} must be ${min}..${max} bytes`, what);
  }
}

/**
 * The Digest password for Digest AKA, as the bytes that go into A1.
 * Version 1 (RFC 3310 §3.3): RES. Version 2 (RFC 4169 §3): the ASCII of
 * base64(HMAC-MD5(RES ‖ IK ‖ CK, "http-digest-akav2-password")). Works the same with XRES.
 */
export function akaPassword(version: 1 | 2, res: Uint8Array, ik?: Uint8Array, ck?: Uint8Array): Uint8Array {
  checkLen(res, 4, 16, 'RES');
  if (version === 1) return res.slice();
  if (version !== 2) throw new InvalidArgumentError('AKA version must be 1 or 2', 'version');
  if (ik === undefined || ck === undefined) throw new InvalidArgumentError('AKAv2 needs IK and CK', 'ik');
  checkLen(ik, 16, 16, 'IK');
  checkLen(ck, 16, 16, 'CK');
  const prf = createHmac('md5', concatBytes(res, ik, ck)).update(AKAV2_LABEL, 'latin1').digest();
  return new Uint8Array(Buffer.from(prf.toString('base64'), 'latin1'));
}

export interface AkaNonce {
  rand: Uint8Array;
  autn: Uint8Array;
  /** Opaque server data after AUTN (may be empty). */
  serverData: Uint8Array;
}

/** RFC 3310 §3.2: nonce = base64(RAND ‖ AUTN ‖ server data). */
export function buildAkaNonce(rand: Uint8Array, autn: Uint8Array, serverData: Uint8Array = new Uint8Array(0)): string {
  checkLen(rand, 16, 16, 'RAND');
  checkLen(autn, 16, 16, 'AUTN');
  return toBase64(concatBytes(rand, autn, serverData));
}

/** Splits an AKA nonce; throws {@link DigestParseError} unless it is base64 of at least 32 bytes. */
export function parseAkaNonce(nonce: string): AkaNonce {
  const b = decodeBase64Loose(nonce);
  if (b === undefined) throw new DigestParseError('AKA nonce is not base64', 0);
  if (b.length < 32) throw new DigestParseError(`AKA nonce holds ${b.length} bytes, RAND and AUTN need 32`, 0);
  return { rand: b.slice(0, 16), autn: b.slice(16, 32), serverData: b.slice(32) };
}

/** RFC 3310 §3.4: decodes the `auts` parameter value (base64 of 14 bytes). */
export function parseAuts(value: string): Uint8Array {
  const b = decodeBase64Loose(value);
  if (b === undefined || b.length !== AUTS_LEN) throw new DigestParseError('auts is not base64 of 14 bytes', 0);
  return b;
}

/** RFC 3310 §3.4: encodes AUTS (14 bytes) for the `auts` parameter. */
export function formatAuts(auts: Uint8Array): string {
  checkLen(auts, AUTS_LEN, AUTS_LEN, 'AUTS');
  return toBase64(auts);
}
