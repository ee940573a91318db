/**
 * The Digest computation (RFC 2617 §3.2.2, RFC 7616 §3.4.1, RFC 2069 §2.1.2 when there is no
 * qop), including Digest AKA (RFC 3310 §3.3, RFC 4169 §3: MD5 with the AKA password, see
 * {@link akaPassword}) and response-auth for Authentication-Info (RFC 2617 §3.2.3).
 *
 * ```
 * A1       = unq(username) ":" unq(realm) ":" passwd
 * A1 -sess = H(unq(username) ":" unq(realm) ":" passwd) ":" unq(nonce) ":" unq(cnonce)
 * A2       = Method ":" digest-uri [":" H(entity-body)]      ; the last part for qop=auth-int
 * response = KD(H(A1), unq(nonce) ":" nc ":" unq(cnonce) ":" qop ":" H(A2))   ; with qop
 * response = KD(H(A1), unq(nonce) ":" H(A2))                                  ; RFC 2069, no qop
 * KD(secret, data) = H(secret ":" data); H = MD5 or SHA-256, lowercase hex
 * ```
 * The password is raw bytes in A1: for AKAv1 it is RES, which may contain 0x00 bytes.
 * Strings (username, realm, uri...) are encoded as UTF-8.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError, constantTimeEqual } from '../../common/index.js';
import { canonicalAlgorithm, type DigestAlgorithm } from './values.js';

export interface DigestInput {
  /** Default MD5 (RFC 2617 §3.2.1: an absent algorithm means MD5). */
  algorithm?: DigestAlgorithm;
  username: string;
  realm: string;
  /** The password as it enters A1: a string (UTF-8) or raw bytes (RES for AKAv1). */
  password?: Uint8Array | string;
  /** Instead of `password`: H(username ":" realm ":" password), hex (e.g. from the HSS, TS 29.229 Digest-HA1). */
  ha1?: string;
  method: string;
  uri: string;
  nonce: string;
  /** nonce-count: a number becomes 8 lowercase hex digits; a string is used as sent. */
  nc?: string | number;
  cnonce?: string;
  /** Absent: the RFC 2069 form. */
  qop?: 'auth' | 'auth-int';
  /** Entity body for qop=auth-int (absent = empty). */
  body?: Uint8Array;
}

type Hash = 'md5' | 'sha256';

function hashOf(algorithm: string | undefined): { hash: Hash; sess: boolean } {
  switch (algorithm === undefined ? 'MD5' : canonicalAlgorithm(algorithm)) {
    case 'MD5':
    case 'AKAv1-MD5':
    case 'AKAv2-MD5':
      return { hash: 'md5', sess: false };
    case 'MD5-sess':
      return { hash: 'md5', sess: true };
    case 'SHA-256':
      return { hash: 'sha256', sess: false };
    case 'SHA-256-sess':
      return { hash: 'sha256', sess: true };
    default:
      throw new InvalidArgumentError('unsupported Digest algorithm', 'algorithm');
  }
}

function h(hash: Hash, ...parts: (string | Uint8Array)[]): string {
  const d = createHash(hash);
  parts.forEach((p, i) => {
    if (i > 0) d.update(':');
    d.update(p);
  });
  return d.digest('hex');
}

function ncString(nc: string | number | undefined): string {
  if (nc === undefined) throw new InvalidArgumentError('qop needs nc', 'nc');
  if (typeof nc === 'string') return nc;
  if (!Number.isInteger(nc) || nc < 1 || nc > 0xffffffff) throw new InvalidArgumentError('nc must be 1..2^32-1', 'nc');
  return nc.toString(16).padStart(8, '0');
}

/** H(A1) as lowercase hex (RFC 2617 §3.2.2.2), the session variant for *-sess algorithms. */
export function digestHA1(p: Pick<DigestInput, 'algorithm' | 'username' | 'realm' | 'password' | 'ha1' | 'nonce' | 'cnonce'>): string {
  const { hash, sess } = hashOf(p.algorithm);
  let ha1: string;
  if (p.ha1 !== undefined) {
    if (p.password !== undefined) throw new InvalidArgumentError('give password or ha1, not both', 'ha1');
    ha1 = p.ha1.toLowerCase();
  } else {
    if (p.password === undefined) throw new InvalidArgumentError('password or ha1 is required', 'password');
    ha1 = h(hash, p.username, p.realm, p.password);
  }
  if (!sess) return ha1;
  if (p.cnonce === undefined) throw new InvalidArgumentError('a -sess algorithm needs cnonce', 'cnonce');
  return h(hash, ha1, p.nonce, p.cnonce);
}

/** H(A2) as lowercase hex (RFC 2617 §3.2.2.3). */
export function digestHA2(p: Pick<DigestInput, 'algorithm' | 'method' | 'uri' | 'qop' | 'body'>): string {
  const { hash } = hashOf(p.algorithm);
  if (p.qop === 'auth-int') return h(hash, p.method, p.uri, h(hash, p.body ?? new Uint8Array(0)));
  return h(hash, p.method, p.uri);
}

function kd(p: DigestInput): string {
  const { hash } = hashOf(p.algorithm);
  const ha1 = digestHA1(p);
  const ha2 = digestHA2(p);
  if (p.qop === undefined) return h(hash, ha1, p.nonce, ha2);
  if (p.qop !== 'auth' && p.qop !== 'auth-int') throw new InvalidArgumentError('qop must be auth or auth-int', 'qop');
  if (p.cnonce === undefined) throw new InvalidArgumentError('qop needs cnonce', 'cnonce');
  return h(hash, ha1, p.nonce, ncString(p.nc), p.cnonce, p.qop, ha2);
}

/** request-digest (RFC 2617 §3.2.2.1; RFC 2069 form when `qop` is absent), lowercase hex. */
export function digestResponse(p: DigestInput): string {
  return kd(p);
}

/**
 * Server side: does `response` (from the credentials) match? Compared in constant time; hex
 * case is ignored. An empty or malformed response is simply false; inputs that cannot be
 * computed (qop without cnonce/nc, an unsupported algorithm or qop) throw InvalidArgumentError.
 */
export function verifyDigestResponse(p: DigestInput, response: string): boolean {
  const expected = Buffer.from(kd(p), 'latin1');
  return constantTimeEqual(expected, Buffer.from(response.toLowerCase(), 'latin1'));
}

/** response-auth for Authentication-Info (RFC 2617 §3.2.3): as the response, with A2 = ":" uri. */
export function digestRspauth(p: Omit<DigestInput, 'method'>): string {
  return kd({ ...p, method: '' });
}
