/**
 * The auth-param list shared by every Digest header (RFC 3261 §25.1, RFC 2617 §3.2, RFC 7616 §3.3):
 *
 * ```
 * challenge   = "Digest" LWS digest-cln *(COMMA digest-cln)
 * credentials = "Digest" LWS dig-resp *(COMMA dig-resp)
 * auth-param  = auth-param-name EQUAL ( token / quoted-string )
 * token       = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
 * quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE
 * qdtext      = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII
 * quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
 * COMMA = SWS "," SWS   EQUAL = SWS "=" SWS   LWS = [*WSP CRLF] 1*WSP
 * ```
 *
 * Pure string code: no I/O. Names are matched case-insensitively by the callers.
 */
import { InvalidArgumentError } from '../../common/index.js';
import { DigestParseError } from './errors.js';

/** One `name=value` pair as it appeared on the wire (`value` is unescaped when quoted). */
export interface AuthParam {
  name: string;
  value: string;
  /** True when the value was (or is to be) sent as a quoted-string. */
  quoted: boolean;
}

/** A parsed parameter plus the offset of its name, for error reporting. */
export interface RawAuthParam extends AuthParam {
  offset: number;
}

const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

function isTokenChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d || c === 0x2e || c === 0x21 || c === 0x25 || c === 0x2a || c === 0x5f ||
    c === 0x2b || c === 0x60 || c === 0x27 || c === 0x7e
  );
}

/** RFC 3261 §25.1 token. */
export function isToken(s: string): boolean {
  return TOKEN_RE.test(s);
}

/** Skip LWS: spaces, tabs and CRLF folds (a CRLF must be followed by SP or HTAB). */
function skipLws(s: string, pos: number): number {
  for (;;) {
    const c = s.charCodeAt(pos);
    if (c === 0x20 || c === 0x09) pos++;
    else if (c === 0x0d && s.charCodeAt(pos + 1) === 0x0a && (s.charCodeAt(pos + 2) === 0x20 || s.charCodeAt(pos + 2) === 0x09)) pos += 3;
    else return pos;
  }
}

function readToken(s: string, pos: number): number {
  while (pos < s.length && isTokenChar(s.charCodeAt(pos))) pos++;
  return pos;
}

/** Reads a quoted-string starting at the opening DQUOTE; returns the unescaped value and the end. */
function readQuoted(s: string, pos: number): { value: string; end: number } {
  const start = pos;
  let out = '';
  let runStart = ++pos;
  for (;;) {
    if (pos >= s.length) throw new DigestParseError('unterminated quoted-string', start);
    const c = s.charCodeAt(pos);
    if (c === 0x22) return { value: out + s.slice(runStart, pos), end: pos + 1 };
    if (c === 0x5c) {
      const n = s.charCodeAt(pos + 1);
      if (pos + 1 >= s.length || n === 0x0d || n === 0x0a) throw new DigestParseError('bad quoted-pair', pos);
      out += s.slice(runStart, pos) + s[pos + 1];
      pos += 2;
      runStart = pos;
    } else if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
      throw new DigestParseError('control character in quoted-string', pos);
    } else pos++;
  }
}

/**
 * Parses `auth-param *(COMMA auth-param)` from `pos` to the end of `s`. An empty remainder gives
 * an empty list. Throws {@link DigestParseError} on anything else.
 */
export function parseAuthParamList(s: string, pos = 0): RawAuthParam[] {
  const out: RawAuthParam[] = [];
  pos = skipLws(s, pos);
  if (pos >= s.length) return out;
  for (;;) {
    const nameAt = pos;
    pos = readToken(s, pos);
    if (pos === nameAt) throw new DigestParseError('expected a parameter name', pos);
    const name = s.slice(nameAt, pos);
    pos = skipLws(s, pos);
    if (s.charCodeAt(pos) !== 0x3d) throw new DigestParseError(`expected "=" after ${name}`, pos);
    pos = skipLws(s, pos + 1);
    let value: string;
    let quoted: boolean;
    if (s.charCodeAt(pos) === 0x22) {
      const q = readQuoted(s, pos);
      value = q.value;
      pos = q.end;
      quoted = true;
    } else {
      const end = readToken(s, pos);
      if (end === pos) throw new DigestParseError(`expected a token or quoted-string for ${name}`, pos);
      value = s.slice(pos, end);
      pos = end;
      quoted = false;
    }
    out.push({ name, value, quoted, offset: nameAt });
    pos = skipLws(s, pos);
    if (pos >= s.length) return out;
    if (s.charCodeAt(pos) !== 0x2c) throw new DigestParseError('expected "," between parameters', pos);
    pos = skipLws(s, pos + 1);
  }
}

/**
 * Parses `"Digest" LWS <auth-param list>` (the scheme is case-insensitive, RFC 2617 §1.2).
 * Throws when the scheme is another one (Basic, Bearer...).
 */
export function parseDigestParams(value: string): RawAuthParam[] {
  const pos = skipLws(value, 0);
  const end = readToken(value, pos);
  if (value.slice(pos, end).toLowerCase() !== 'digest') throw new DigestParseError('not a Digest scheme', pos);
  const after = skipLws(value, end);
  if (after === end && end < value.length) throw new DigestParseError('expected LWS after Digest', end);
  return parseAuthParamList(value, after);
}

/**
 * Formats a quoted-string: `"` and `\` are escaped, and so are the control characters that
 * qdtext excludes (quoted-pair carries them). CR and LF cannot be carried at all.
 */
export function quoteString(v: string, what = 'value'): string {
  if (/[\r\n]/.test(v)) throw new InvalidArgumentError(`${what} contains CR or LF`, what);
  return `"${v.replace(/["\\\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '\\$&')}"`;
}

/** Formats a token value, refusing anything that is not one. */
export function tokenValue(v: string, what = 'value'): string {
  if (!isToken(v)) throw new InvalidArgumentError(`${what} is not a token`, what);
  return v;
}

/** Formats an unknown parameter as it was kept. */
export function formatAuthParam(p: AuthParam): string {
  return `${tokenValue(p.name, 'parameter name')}=${p.quoted ? quoteString(p.value, p.name) : tokenValue(p.value, p.name)}`;
}

/** The unknown params of a value to format; a known directive hidden in them is refused. */
export function unknownParams(params: readonly AuthParam[] | undefined, known: ReadonlySet<string>): readonly AuthParam[] {
  for (const p of params ?? []) {
    if (known.has(p.name.toLowerCase())) throw new InvalidArgumentError(`${p.name} must be given as a field, not in params`, 'params');
  }
  return params ?? [];
}
