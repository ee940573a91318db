/**
 * Authorization / Proxy-Authorization Digest credentials codec.
 *
 * RFC 3261 §25.1 (after RFC 2617 §3.2.2):
 * ```
 * credentials  = "Digest" LWS dig-resp *(COMMA dig-resp)
 * dig-resp     = username / realm / nonce / digest-uri / dresponse / algorithm / cnonce
 *                / opaque / message-qop / nonce-count / auth-param
 * username     = "username" EQUAL quoted-string
 * digest-uri   = "uri" EQUAL LDQUOT digest-uri-value RDQUOT
 * dresponse    = "response" EQUAL LDQUOT 32LHEX RDQUOT     ; 64 for SHA-256 (RFC 7616)
 * cnonce       = "cnonce" EQUAL quoted-string
 * message-qop  = "qop" EQUAL qop-value                    ; a token
 * nonce-count  = "nc" EQUAL 8LHEX                         ; a token
 * ```
 * RFC 3310 §3.4: `auts = "auts" EQUAL LDQUOT base64(AUTS) RDQUOT`.
 * TS 24.229 §7.2A.1.2: `integrity-protected` ("yes" / "no" / "tls-pending" / "tls-yes" /
 * "ip-assoc-pending" / "ip-assoc-yes" / "auth-done"), emitted quoted, accepted either way.
 *
 * The initial IMS REGISTER (TS 24.229 §5.1.1.2.1) carries `nonce=""` and `response=""`: both
 * parse to the empty string.
 */
import { InvalidArgumentError } from '../../common/index.js';
import { DigestParseError } from './errors.js';
import { formatAuthParam, parseDigestParams, quoteString, tokenValue, unknownParams, type AuthParam } from './auth-params.js';
import { formatAuts, parseAuts } from './aka.js';
import { canonicalAlgorithm, canonicalQop, hexString, once, parseIntegrityProtected, tokenish, type IntegrityProtected } from './values.js';

export interface DigestCredentials {
  username: string;
  realm: string;
  /** Empty in the initial IMS REGISTER. */
  nonce: string;
  uri: string;
  /** Lowercase hex as sent; empty in the initial IMS REGISTER. */
  response: string;
  algorithm?: string;
  cnonce?: string;
  opaque?: string;
  /** message-qop, e.g. `auth`. */
  qop?: string;
  /** nonce-count as sent (normally 8 hex digits). */
  nc?: string;
  /** RFC 3310 §3.4: AUTS (14 bytes) on a synchronisation failure. */
  auts?: Uint8Array;
  /** TS 24.229 §7.2A.1: set by the P-CSCF on the Mw leg. */
  integrityProtected?: IntegrityProtected;
  /** Unknown auth-params, in order. */
  params?: AuthParam[];
}

const KNOWN = new Set(['username', 'realm', 'nonce', 'uri', 'response', 'algorithm', 'cnonce', 'opaque', 'qop', 'nc', 'auts', 'integrity-protected']);
const REQUIRED = ['username', 'realm', 'nonce', 'uri', 'response'] as const;

/** Parses the value of an Authorization or Proxy-Authorization header holding Digest credentials. */
export function parseDigestCredentials(value: string): DigestCredentials {
  const seen = new Set<string>();
  const params: AuthParam[] = [];
  const req: Record<(typeof REQUIRED)[number], string | undefined> = { username: undefined, realm: undefined, nonce: undefined, uri: undefined, response: undefined };
  const cr: Partial<DigestCredentials> = {};
  for (const p of parseDigestParams(value)) {
    const key = p.name.toLowerCase();
    if (KNOWN.has(key)) once(seen, key, p);
    switch (key) {
      case 'username':
      case 'realm':
      case 'nonce':
      case 'uri':
        req[key] = p.value;
        break;
      case 'response':
        req.response = hexString(p);
        break;
      case 'algorithm':
        cr.algorithm = canonicalAlgorithm(tokenish(p));
        break;
      case 'cnonce':
        cr.cnonce = p.value;
        break;
      case 'opaque':
        cr.opaque = p.value;
        break;
      case 'qop':
        cr.qop = canonicalQop(tokenish(p));
        break;
      case 'nc':
        tokenish(p);
        cr.nc = hexString(p, true);
        break;
      case 'auts':
        try {
          cr.auts = parseAuts(p.value);
        } catch (e) {
          throw e instanceof DigestParseError ? new DigestParseError('auts is not base64 of 14 bytes', p.offset) : e;
        }
        break;
      case 'integrity-protected':
        cr.integrityProtected = parseIntegrityProtected(p);
        break;
      default:
        params.push({ name: p.name, value: p.value, quoted: p.quoted });
    }
  }
  for (const k of REQUIRED) if (req[k] === undefined) throw new DigestParseError(`credentials without ${k}`, 0);
  return {
    username: req.username!,
    realm: req.realm!,
    nonce: req.nonce!,
    uri: req.uri!,
    response: req.response!,
    ...cr,
    ...(params.length > 0 ? { params } : {}),
  };
}

/** Formats Digest credentials (the header value, starting with `Digest `), in canonical form. */
export function formatDigestCredentials(cr: DigestCredentials): string {
  if (!/^[0-9A-Fa-f]*$/.test(cr.response)) throw new InvalidArgumentError('response must be hex', 'response');
  const out = [
    `username=${quoteString(cr.username, 'username')}`,
    `realm=${quoteString(cr.realm, 'realm')}`,
    `nonce=${quoteString(cr.nonce, 'nonce')}`,
    `uri=${quoteString(cr.uri, 'uri')}`,
    `response="${cr.response}"`,
  ];
  if (cr.algorithm !== undefined) out.push(`algorithm=${tokenValue(cr.algorithm, 'algorithm')}`);
  if (cr.cnonce !== undefined) out.push(`cnonce=${quoteString(cr.cnonce, 'cnonce')}`);
  if (cr.opaque !== undefined) out.push(`opaque=${quoteString(cr.opaque, 'opaque')}`);
  if (cr.qop !== undefined) out.push(`qop=${tokenValue(cr.qop, 'qop')}`);
  if (cr.nc !== undefined) {
    if (!/^[0-9A-Fa-f]+$/.test(cr.nc)) throw new InvalidArgumentError('nc must be hex', 'nc');
    out.push(`nc=${cr.nc}`);
  }
  if (cr.auts !== undefined) out.push(`auts="${formatAuts(cr.auts)}"`);
  if (cr.integrityProtected !== undefined) out.push(`integrity-protected="${cr.integrityProtected}"`);
  for (const p of unknownParams(cr.params, KNOWN)) out.push(formatAuthParam(p));
  return `Digest ${out.join(', ')}`;
}
