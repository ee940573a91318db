/**
 * WWW-Authenticate / Proxy-Authenticate Digest challenge codec.
 *
 * RFC 3261 §25.1 (after RFC 2617 §3.2.1, extended by RFC 7616 §3.3):
 * ```
 * challenge   = "Digest" LWS digest-cln *(COMMA digest-cln)
 * digest-cln  = realm / domain / nonce / opaque / stale / algorithm / qop-options / auth-param
 * realm       = "realm" EQUAL quoted-string
 * domain      = "domain" EQUAL LDQUOT URI *( 1*SP URI ) RDQUOT
 * nonce       = "nonce" EQUAL quoted-string
 * opaque      = "opaque" EQUAL quoted-string
 * stale       = "stale" EQUAL ( "true" / "false" )
 * algorithm   = "algorithm" EQUAL ( "MD5" / "MD5-sess" / token )
 * qop-options = "qop" EQUAL LDQUOT qop-value *("," qop-value) RDQUOT
 * ```
 * TS 24.229 §7.2A.4 adds, on the S-CSCF → P-CSCF leg only (the P-CSCF removes them):
 * ```
 * ik-param = "ik" EQUAL LDQUOT *(HEXDIG) RDQUOT
 * ck-param = "ck" EQUAL LDQUOT *(HEXDIG) RDQUOT
 * ```
 */
import { InvalidArgumentError, toHex } from '../../common/index.js';
import { DigestParseError } from './errors.js';
import { formatAuthParam, parseDigestParams, quoteString, tokenValue, unknownParams, type AuthParam, type RawAuthParam } from './auth-params.js';
import { canonicalAlgorithm, canonicalQop, hexString, once, tokenish } from './values.js';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  /** Protection-space URIs (sent space-separated inside one quoted-string). */
  domain?: string[];
  opaque?: string;
  stale?: boolean;
  /** Canonical spelling for known names (`AKAv1-MD5`, `MD5`...); other tokens kept as sent. */
  algorithm?: string;
  /** qop-options, e.g. `['auth', 'auth-int']`. */
  qop?: string[];
  /** TS 24.229 §7.2A.4: integrity key, S-CSCF → P-CSCF only. Secret. */
  ik?: Uint8Array;
  /** TS 24.229 §7.2A.4: cipher key, S-CSCF → P-CSCF only. Secret. */
  ck?: Uint8Array;
  /** Unknown auth-params, in order. */
  params?: AuthParam[];
}

const KNOWN = new Set(['realm', 'domain', 'nonce', 'opaque', 'stale', 'algorithm', 'qop', 'ik', 'ck']);

function keyBytes(p: RawAuthParam): Uint8Array {
  const hex = hexString(p);
  if (hex.length % 2 !== 0) throw new DigestParseError(`${p.name} must have an even number of hex digits`, p.offset);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

function qopOptions(p: RawAuthParam): string[] {
  const out = p.value.split(',').map((v) => v.replace(/^[ \t]+|[ \t]+$/g, ''));
  for (const v of out) tokenish({ ...p, value: v });
  return out.map(canonicalQop);
}

/** Parses the value of a WWW-Authenticate or Proxy-Authenticate header holding one Digest challenge. */
export function parseDigestChallenge(value: string): DigestChallenge {
  const seen = new Set<string>();
  const params: AuthParam[] = [];
  let realm: string | undefined;
  let nonce: string | undefined;
  const ch: Partial<DigestChallenge> = {};
  for (const p of parseDigestParams(value)) {
    const key = p.name.toLowerCase();
    if (KNOWN.has(key)) once(seen, key, p);
    switch (key) {
      case 'realm':
        realm = p.value;
        break;
      case 'nonce':
        nonce = p.value;
        break;
      case 'domain':
        ch.domain = p.value.split(/[ \t]+/).filter((u) => u !== '');
        break;
      case 'opaque':
        ch.opaque = p.value;
        break;
      case 'stale':
        // RFC 2617 §3.2.1: anything other than TRUE (case-insensitive) means false.
        ch.stale = tokenish(p).toLowerCase() === 'true';
        break;
      case 'algorithm':
        ch.algorithm = canonicalAlgorithm(tokenish(p));
        break;
      case 'qop':
        ch.qop = qopOptions(p);
        break;
      case 'ik':
        ch.ik = keyBytes(p);
        break;
      case 'ck':
        ch.ck = keyBytes(p);
        break;
      default:
        params.push({ name: p.name, value: p.value, quoted: p.quoted });
    }
  }
  if (realm === undefined) throw new DigestParseError('challenge without realm', 0);
  if (nonce === undefined) throw new DigestParseError('challenge without nonce', 0);
  return { realm, nonce, ...ch, ...(params.length > 0 ? { params } : {}) };
}

/** Formats a Digest challenge (the header value, starting with `Digest `), in canonical form. */
export function formatDigestChallenge(ch: DigestChallenge): string {
  const out = [`realm=${quoteString(ch.realm, 'realm')}`];
  if (ch.domain !== undefined) {
    for (const u of ch.domain) if (u === '' || /[ \t]/.test(u)) throw new InvalidArgumentError('domain URI is empty or contains whitespace', 'domain');
    out.push(`domain=${quoteString(ch.domain.join(' '), 'domain')}`);
  }
  out.push(`nonce=${quoteString(ch.nonce, 'nonce')}`);
  if (ch.opaque !== undefined) out.push(`opaque=${quoteString(ch.opaque, 'opaque')}`);
  if (ch.stale !== undefined) out.push(`stale=${ch.stale ? 'true' : 'false'}`);
  if (ch.algorithm !== undefined) out.push(`algorithm=${tokenValue(ch.algorithm, 'algorithm')}`);
  if (ch.qop !== undefined) {
    if (ch.qop.length === 0) throw new InvalidArgumentError('qop-options must not be empty', 'qop');
    out.push(`qop="${ch.qop.map((q) => tokenValue(q, 'qop')).join(',')}"`);
  }
  if (ch.ik !== undefined) out.push(`ik="${toHex(ch.ik)}"`);
  if (ch.ck !== undefined) out.push(`ck="${toHex(ch.ck)}"`);
  for (const p of unknownParams(ch.params, KNOWN)) out.push(formatAuthParam(p));
  return `Digest ${out.join(', ')}`;
}

/** TS 24.229 §5.2.2.1: the P-CSCF removes ik and ck before forwarding the 401 to the UE. */
export function withoutAkaKeys(ch: DigestChallenge): DigestChallenge {
  const { ik: _ik, ck: _ck, ...rest } = ch;
  return rest;
}
