/**
 * Authentication-Info codec (RFC 3261 §20.6 and §25.1, after RFC 2617 §3.2.3):
 * ```
 * Authentication-Info = "Authentication-Info" HCOLON ainfo *(COMMA ainfo)
 * ainfo          = nextnonce / message-qop / response-auth / cnonce / nonce-count
 * nextnonce      = "nextnonce" EQUAL nonce-value          ; quoted-string
 * response-auth  = "rspauth" EQUAL response-digest
 * response-digest = LDQUOT *LHEX RDQUOT
 * ```
 * The value has no scheme. Unknown auth-params are kept (RFC 7615 allows extensions).
 */
import { InvalidArgumentError } from '../../common/index.js';
import { DigestParseError } from './errors.js';
import { formatAuthParam, parseAuthParamList, quoteString, tokenValue, unknownParams, type AuthParam } from './auth-params.js';
import { canonicalQop, hexString, once, tokenish } from './values.js';

export interface AuthenticationInfo {
  nextnonce?: string;
  qop?: string;
  /** RFC 2617 §3.2.3 response-auth, hex (see {@link digestRspauth}). */
  rspauth?: string;
  cnonce?: string;
  nc?: string;
  params?: AuthParam[];
}

const KNOWN = new Set(['nextnonce', 'qop', 'rspauth', 'cnonce', 'nc']);

/** Parses the value of an Authentication-Info header. */
export function parseAuthenticationInfo(value: string): AuthenticationInfo {
  const seen = new Set<string>();
  const params: AuthParam[] = [];
  const ai: AuthenticationInfo = {};
  const list = parseAuthParamList(value);
  if (list.length === 0) throw new DigestParseError('empty Authentication-Info', 0);
  for (const p of list) {
    const key = p.name.toLowerCase();
    if (KNOWN.has(key)) once(seen, key, p);
    switch (key) {
      case 'nextnonce':
        ai.nextnonce = p.value;
        break;
      case 'qop':
        ai.qop = canonicalQop(tokenish(p));
        break;
      case 'rspauth':
        ai.rspauth = hexString(p);
        break;
      case 'cnonce':
        ai.cnonce = p.value;
        break;
      case 'nc':
        tokenish(p);
        ai.nc = hexString(p, true);
        break;
      default:
        params.push({ name: p.name, value: p.value, quoted: p.quoted });
    }
  }
  if (params.length > 0) ai.params = params;
  return ai;
}

/** Formats an Authentication-Info value in canonical form (at least one field is required). */
export function formatAuthenticationInfo(ai: AuthenticationInfo): string {
  const out: string[] = [];
  if (ai.nextnonce !== undefined) out.push(`nextnonce=${quoteString(ai.nextnonce, 'nextnonce')}`);
  if (ai.qop !== undefined) out.push(`qop=${tokenValue(ai.qop, 'qop')}`);
  if (ai.rspauth !== undefined) {
    if (!/^[0-9A-Fa-f]*$/.test(ai.rspauth)) throw new InvalidArgumentError('rspauth must be hex', 'rspauth');
    out.push(`rspauth="${ai.rspauth}"`);
  }
  if (ai.cnonce !== undefined) out.push(`cnonce=${quoteString(ai.cnonce, 'cnonce')}`);
  if (ai.nc !== undefined) {
    if (!/^[0-9A-Fa-f]+$/.test(ai.nc)) throw new InvalidArgumentError('nc must be hex', 'nc');
    out.push(`nc=${ai.nc}`);
  }
  for (const p of unknownParams(ai.params, KNOWN)) out.push(formatAuthParam(p));
  if (out.length === 0) throw new InvalidArgumentError('Authentication-Info needs at least one field');
  return out.join(', ');
}
