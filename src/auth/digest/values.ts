/**
 * Value-level rules shared by the Digest header codecs: algorithm names (RFC 2617 §3.2.1,
 * RFC 7616 §3.3 and §6.1, RFC 3310 §3.1, RFC 4169 §4), qop values, the TS 24.229 §7.2A.1
 * `integrity-protected` values, and the lenient token reading that real phones need.
 */
import { DigestParseError } from './errors.js';
import { isToken, type RawAuthParam } from './auth-params.js';

/** Algorithms {@link digestResponse} computes. */
export const DIGEST_ALGORITHMS = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess', 'AKAv1-MD5', 'AKAv2-MD5'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

/** Names we recognise on the wire and re-emit in this spelling (matching is case-insensitive). */
const KNOWN_ALGORITHMS: readonly string[] = [
  ...DIGEST_ALGORITHMS,
  'SHA-512-256',
  'SHA-512-256-sess',
  'AKAv1-MD5-sess',
  'AKAv2-MD5-sess',
];
const ALGORITHM_BY_LOWER = new Map(KNOWN_ALGORITHMS.map((a) => [a.toLowerCase(), a]));

/** Canonical spelling of a known algorithm name; unknown names are returned as given. */
export function canonicalAlgorithm(name: string): string {
  return ALGORITHM_BY_LOWER.get(name.toLowerCase()) ?? name;
}

/** True when `name` (any case) is one of {@link DIGEST_ALGORITHMS}. */
export function isDigestAlgorithm(name: string): name is DigestAlgorithm {
  return (DIGEST_ALGORITHMS as readonly string[]).includes(name);
}

/** qop-value = "auth" / "auth-int" / token (RFC 3261 §25.1); the known ones are lowercased. */
export function canonicalQop(v: string): string {
  const l = v.toLowerCase();
  return l === 'auth' || l === 'auth-int' ? l : v;
}

/** TS 24.229 §7.2A.1.2: values of the `integrity-protected` auth-param (plus Rel-15 "tls-connected"). */
export const INTEGRITY_PROTECTED_VALUES = [
  'yes',
  'no',
  'tls-pending',
  'tls-yes',
  'ip-assoc-pending',
  'ip-assoc-yes',
  'auth-done',
  'tls-connected',
] as const;
export type IntegrityProtected = (typeof INTEGRITY_PROTECTED_VALUES)[number];

/** Reads an `integrity-protected` value (quoted or not, any case); an unknown value is a DigestParseError. */
export function parseIntegrityProtected(p: RawAuthParam): IntegrityProtected {
  const v = tokenish(p).toLowerCase();
  const hit = INTEGRITY_PROTECTED_VALUES.find((x) => x === v);
  if (!hit) throw new DigestParseError('unknown integrity-protected value', p.offset);
  return hit;
}

/**
 * The value of a parameter the ABNF makes a token. Real phones sometimes quote tokens
 * (`algorithm="AKAv1-MD5"`), so a quoted value is accepted when its content is a token.
 */
export function tokenish(p: RawAuthParam): string {
  if (!isToken(p.value)) throw new DigestParseError(`${p.name} must be a token`, p.offset);
  return p.value;
}

/** `*HEXDIG` (may be empty: the initial IMS REGISTER carries response=""). */
export function hexString(p: RawAuthParam, nonEmpty = false): string {
  if (!(nonEmpty ? /^[0-9A-Fa-f]+$/ : /^[0-9A-Fa-f]*$/).test(p.value)) throw new DigestParseError(`${p.name} must be hex`, p.offset);
  return p.value;
}

/** Rejects a second occurrence of a known directive (RFC 7616 §3.4: each at most once). */
export function once(seen: Set<string>, key: string, p: RawAuthParam): void {
  if (seen.has(key)) throw new DigestParseError(`duplicate ${key} parameter`, p.offset);
  seen.add(key);
}

/** Strict or unpadded base64 (RFC 4648 §4; some peers drop the padding). */
export function decodeBase64Loose(s: string): Uint8Array | undefined {
  const m = /^([A-Za-z0-9+/]*)(={0,2})$/.exec(s);
  if (!m) return undefined;
  const [, body, pad] = m;
  if (body.length % 4 === 1) return undefined;
  if (pad.length > 0 && (s.length % 4 !== 0 || body.length % 4 === 0)) return undefined;
  return new Uint8Array(Buffer.from(body, 'base64'));
}
