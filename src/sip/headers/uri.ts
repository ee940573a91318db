/**
 * URIs in SIP: SIP and SIPS URIs (RFC 3261 §19.1, §25.1), tel URIs (RFC 3966) and any other
 * absoluteURI, kept opaque. Components keep their escapes as written (`%41` stays `%41`), so
 * parse → format gives back the same text; {@link unescapeUri} decodes a component and
 * {@link uriEquals} compares by the rules of §19.1.4.
 *
 *   SIP-URI          =  "sip:" [ userinfo ] hostport uri-parameters [ headers ]
 *   SIPS-URI         =  "sips:" [ userinfo ] hostport uri-parameters [ headers ]
 *   userinfo         =  ( user / telephone-subscriber ) [ ":" password ] "@"
 *   user             =  1*( unreserved / escaped / user-unreserved )
 *   password         =  *( unreserved / escaped / "&" / "=" / "+" / "$" / "," )
 *   hostport         =  host [ ":" port ]
 *   host             =  hostname / IPv4address / IPv6reference
 *   uri-parameters   =  *( ";" uri-parameter )
 *   other-param      =  pname [ "=" pvalue ]     pname = 1*paramchar   pvalue = 1*paramchar
 *   headers          =  "?" header *( "&" header )
 *   header           =  hname "=" hvalue        hname = 1*( hnv-unreserved / unreserved / escaped )
 *   telephone-uri    =  "tel:" telephone-subscriber     (RFC 3966 §3)
 */
import { InvalidArgumentError } from '../../common/index.js';
import { SipParseError } from '../message/errors.js';
import { HNV, PARAMCHAR, PASSWORD, URIC, USER, isHex } from '../message/chars.js';
import { SipParams } from './params.js';

export interface SipUri {
  kind: 'sip';
  /** `sip` or `sips` (lower case). */
  scheme: 'sip' | 'sips';
  /** User part, escaped as written (absent when the URI has no userinfo). */
  user?: string;
  password?: string;
  /** Host name or IP address; an IPv6 reference is stored without its brackets. */
  host: string;
  port?: number;
  params: SipParams;
  /** `?name=value&...` headers, escaped as written. */
  headers: [string, string][];
}

export interface TelUri {
  kind: 'tel';
  scheme: 'tel';
  /** global-number (`+...`) or local-number, visual separators kept. */
  number: string;
  params: SipParams;
}

/** Any other absoluteURI (`http:`, `urn:`, `isbn:`...), kept as the text after the colon. */
export interface AbsoluteUri {
  kind: 'absolute';
  scheme: string;
  opaque: string;
}

export type Uri = SipUri | TelUri | AbsoluteUri;

const HOSTNAME = new Uint8Array(128);
for (let c = 48; c <= 57; c++) HOSTNAME[c] = 1;
for (let c = 65; c <= 90; c++) HOSTNAME[c] = 1;
for (let c = 97; c <= 122; c++) HOSTNAME[c] = 1;
HOSTNAME[0x2d] = HOSTNAME[0x2e] = 1;
const TELNUM = new Uint8Array(128);
for (const ch of '0123456789ABCDEFabcdef*#+-.()') TELNUM[ch.charCodeAt(0)] = 1;
const OPAQUE = URIC.slice();
OPAQUE[0x23] = 1; // "#" fragments of non-SIP URIs

/**
 * Parses a URI. `header` names the field in errors. Throws {@link SipParseError} with the
 * offset of the problem inside `text`.
 */
export function parseUri(text: string, header = 'URI'): Uri {
  const fail = (reason: string, at: number): never => {
    throw new SipParseError(reason, at, { header });
  };
  const colon = text.indexOf(':');
  if (colon < 1) fail('URI without scheme', 0);
  for (let i = 0; i < colon; i++) {
    const c = text.charCodeAt(i) | 0x20;
    const alpha = c >= 0x61 && c <= 0x7a;
    if (i === 0 ? !alpha : !(alpha || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)) fail('bad URI scheme', i);
  }
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(text, colon + 1, scheme, fail);
  if (scheme === 'tel') return parseTelUri(text, colon + 1, fail);
  checkChars(text, colon + 1, text.length, OPAQUE, 'URI', fail);
  if (colon + 1 === text.length) fail('empty URI', colon + 1);
  return { kind: 'absolute', scheme, opaque: text.slice(colon + 1) };
}

function checkChars(s: string, from: number, to: number, t: Uint8Array, what: string, fail: (r: string, at: number) => never): void {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || t[c] === 0) fail(c === 32 || c === 9 ? `white space in ${what}` : `invalid character in ${what}`, i);
    if (c === 0x25 && !(isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2)) && i + 2 < to)) {
      if (t === OPAQUE) continue;
      fail(`bad escape in ${what}`, i);
    }
  }
}

function parseSipUri(s: string, from: number, scheme: 'sip' | 'sips', fail: (r: string, at: number) => never): SipUri {
  const uri: SipUri = { kind: 'sip', scheme, host: '', params: new SipParams(), headers: [] };
  let p = from;
  const at = s.indexOf('@', from);
  if (at >= 0) {
    const pw = s.indexOf(':', from);
    const userEnd = pw >= 0 && pw < at ? pw : at;
    if (userEnd === from) fail('empty user in URI', from);
    checkChars(s, from, userEnd, USER, 'URI user', fail);
    uri.user = s.slice(from, userEnd);
    if (userEnd < at) {
      checkChars(s, userEnd + 1, at, PASSWORD, 'URI password', fail);
      uri.password = s.slice(userEnd + 1, at);
    }
    p = at + 1;
  }
  // host
  if (s.charCodeAt(p) === 0x5b) {
    const close = s.indexOf(']', p);
    if (close < 0) fail('unterminated IPv6 reference', p);
    const v6 = s.slice(p + 1, close);
    if (!/^[0-9A-Fa-f:.]+$/.test(v6) || v6.indexOf(':') < 0) fail('bad IPv6 reference', p);
    uri.host = v6;
    p = close + 1;
  } else {
    const h = p;
    while (p < s.length && s.charCodeAt(p) < 128 && HOSTNAME[s.charCodeAt(p)] === 1) p++;
    if (p === h) fail('missing host in URI', p);
    uri.host = s.slice(h, p);
  }
  if (s.charCodeAt(p) === 0x3a) {
    const q = ++p;
    while (p < s.length && s.charCodeAt(p) >= 48 && s.charCodeAt(p) <= 57) p++;
    const port = s.slice(q, p);
    if (!port || port.length > 5 || +port > 65535) fail('bad port in URI', q);
    uri.port = +port;
  }
  // uri-parameters
  while (s.charCodeAt(p) === 0x3b) {
    const q = ++p;
    while (p < s.length && s.charCodeAt(p) !== 0x3b && s.charCodeAt(p) !== 0x3f) p++;
    const param = s.slice(q, p);
    const eq = param.indexOf('=');
    const name = eq < 0 ? param : param.slice(0, eq);
    if (!name) fail('empty URI parameter', q);
    checkChars(s, q, q + name.length, PARAMCHAR, 'URI parameter', fail);
    if (eq >= 0) {
      if (eq === param.length - 1) fail('empty URI parameter value', q + eq);
      checkChars(s, q + eq + 1, p, PARAMCHAR, 'URI parameter', fail);
    }
    uri.params._add(name, eq < 0 ? null : param.slice(eq + 1));
  }
  if (s.charCodeAt(p) === 0x3f) {
    for (;;) {
      const q = ++p;
      while (p < s.length && s.charCodeAt(p) !== 0x26) p++;
      const hdr = s.slice(q, p);
      const eq = hdr.indexOf('=');
      if (eq <= 0) fail('bad URI header', q);
      checkChars(s, q, q + eq, HNV, 'URI header', fail);
      checkChars(s, q + eq + 1, p, HNV, 'URI header', fail);
      uri.headers.push([hdr.slice(0, eq), hdr.slice(eq + 1)]);
      if (p >= s.length) break;
    }
  }
  if (p < s.length) fail(s.charCodeAt(p) === 32 ? 'white space in URI' : 'invalid character in URI host', p);
  return uri;
}

function parseTelUri(s: string, from: number, fail: (r: string, at: number) => never): TelUri {
  let p = from;
  while (p < s.length && s.charCodeAt(p) !== 0x3b) p++;
  if (p === from) fail('empty tel number', from);
  checkChars(s, from, p, TELNUM, 'tel number', fail);
  const uri: TelUri = { kind: 'tel', scheme: 'tel', number: s.slice(from, p), params: new SipParams() };
  while (p < s.length) {
    const q = ++p;
    while (p < s.length && s.charCodeAt(p) !== 0x3b) p++;
    const param = s.slice(q, p);
    const eq = param.indexOf('=');
    const name = eq < 0 ? param : param.slice(0, eq);
    if (!name) fail('empty tel parameter', q);
    checkChars(s, q, q + name.length, PARAMCHAR, 'tel parameter', fail);
    if (eq >= 0) checkChars(s, q + eq + 1, p, PARAMCHAR, 'tel parameter', fail);
    uri.params._add(name, eq < 0 ? null : param.slice(eq + 1));
  }
  return uri;
}

/** The text form of a URI (canonical: lower-case scheme, IPv6 hosts in brackets). */
export function formatUri(u: Uri): string {
  if (u.kind === 'absolute') return `${u.scheme}:${u.opaque}`;
  if (u.kind === 'tel') return `tel:${u.number}${u.params.toString()}`;
  let s = `${u.scheme}:`;
  if (u.user !== undefined) s += u.password !== undefined ? `${u.user}:${u.password}@` : `${u.user}@`;
  s += u.host.indexOf(':') >= 0 ? `[${u.host}]` : u.host;
  if (u.port !== undefined) s += `:${u.port}`;
  s += u.params.toString();
  if (u.headers.length) s += `?${u.headers.map(([k, v]) => `${k}=${v}`).join('&')}`;
  return s;
}

/** Decodes `%HH` escapes (RFC 3261 §19.1.2; UTF-8). Decoding is never recursive (RFC 4475 §3.1.1.3). */
export function unescapeUri(s: string): string {
  if (s.indexOf('%') < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(s[i], 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Escapes characters not allowed in a URI user part (for building URIs). */
export function escapeUser(s: string): string {
  return escapeWith(s, USER);
}

/** Escapes characters not allowed in a URI parameter name or value. */
export function escapeParam(s: string): string {
  return escapeWith(s, PARAMCHAR);
}

function escapeWith(s: string, t: Uint8Array): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += b < 128 && t[b] === 1 && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `host[:port]` with brackets around an IPv6 address. */
export function formatHostPort(host: string, port?: number): string {
  const h = host.indexOf(':') >= 0 && host[0] !== '[' ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}

/**
 * URI equality of RFC 3261 §19.1.4 for SIP/SIPS URIs: scheme, user and password compare
 * case-sensitively after unescaping; host, parameter names and values case-insensitively;
 * user, ttl, method and maddr parameters must match when present in either; other parameters
 * only when present in both; headers must match. tel and other URIs compare as text after
 * unescaping (case-insensitive scheme).
 */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a.kind !== b.kind || a.scheme !== b.scheme) return false;
  if (a.kind === 'absolute') return unescapeUri(a.opaque) === unescapeUri((b as AbsoluteUri).opaque);
  if (a.kind === 'tel') {
    const t = b as TelUri;
    return a.number.replace(/[-.()]/g, '').toLowerCase() === t.number.replace(/[-.()]/g, '').toLowerCase() && paramsEqual(a.params, t.params, []);
  }
  const s = b as SipUri;
  if ((a.user === undefined) !== (s.user === undefined)) return false;
  if (a.user !== undefined && unescapeUri(a.user) !== unescapeUri(s.user!)) return false;
  if ((a.password ?? '') !== (s.password ?? '') && unescapeUri(a.password ?? '') !== unescapeUri(s.password ?? '')) return false;
  if (a.host.toLowerCase() !== s.host.toLowerCase() || a.port !== s.port) return false;
  if (!paramsEqual(a.params, s.params, ['user', 'ttl', 'method', 'maddr'])) return false;
  if (a.headers.length !== s.headers.length) return false;
  const hb = new Map(s.headers.map(([k, v]) => [unescapeUri(k).toLowerCase(), unescapeUri(v)]));
  return a.headers.every(([k, v]) => hb.get(unescapeUri(k).toLowerCase()) === unescapeUri(v));
}

function paramsEqual(a: SipParams, b: SipParams, mustMatch: string[]): boolean {
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined) {
      if (mustMatch.includes(k.toLowerCase())) return false;
      continue;
    }
    if ((v === null) !== (w === null)) return false;
    if (v !== null && unescapeUri(v).toLowerCase() !== unescapeUri(w!).toLowerCase()) return false;
  }
  for (const [k] of b) if (mustMatch.includes(k.toLowerCase()) && !a.has(k)) return false;
  return true;
}

/** Builds a SIP URI from parts (user and params given already escaped). */
export function sipUri(host: string, opts: { user?: string; port?: number; scheme?: 'sip' | 'sips'; params?: Iterable<[string, string | null]> } = {}): SipUri {
  if (!host) throw new InvalidArgumentError('empty host', 'host');
  return { kind: 'sip', scheme: opts.scheme ?? 'sip', user: opts.user, host: host.replace(/^\[(.*)\]$/, '$1'), port: opts.port, params: new SipParams(opts.params), headers: [] };
}

