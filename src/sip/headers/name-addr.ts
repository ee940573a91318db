/**
 * name-addr and addr-spec (RFC 3261 §20.10, §25.1): the address part of From, To, Contact,
 * Route, Record-Route, Path, Service-Route, P-Asserted-Identity and friends.
 *
 *   name-addr      =  [ display-name ] LAQUOT addr-spec RAQUOT
 *   addr-spec      =  SIP-URI / SIPS-URI / absoluteURI
 *   display-name   =  *(token LWS)/ quoted-string
 *   LAQUOT         =  SWS "<"      RAQUOT  =  ">" SWS
 *
 * Without angle brackets the URI ends at the first `;` (what follows are header parameters,
 * §20) and may not contain `?`, `,` or `;` of its own (RFC 4475 §3.1.2.13). No white space is
 * allowed inside the brackets (RFC 4475 §3.1.2.14).
 */
import { TOKEN } from '../message/chars.js';
import { Scanner, parseList, parseOne } from './scanner.js';
import { SipParams, quote, unquote } from './params.js';
import { formatUri, parseUri, type Uri } from './uri.js';

export interface NameAddr {
  /** The display name, unquoted (quoted-pairs resolved); absent when there is none. */
  displayName?: string;
  uri: Uri;
  /** Header parameters after the address (tag, expires, q, lr is a URI parameter...). */
  params: SipParams;
}

/** Reads one name-addr or addr-spec with its parameters; stops before a list comma when `list`. */
export function scanNameAddr(sc: Scanner, list: boolean, requireAngle = false): NameAddr {
  sc.ws();
  const s = sc.s;
  let displayName: string | undefined;
  const start = sc.pos;
  if (sc.peek() === 0x22) {
    displayName = unquote(sc.quoted());
    sc.ws();
    if (sc.peek() !== 0x3c) sc.fail('expected < after display name');
  } else {
    // *(token LWS) followed by "<" is a display name; anything else is an addr-spec.
    let p = sc.pos;
    let last = p;
    for (;;) {
      const q = p;
      while (p < s.length && s.charCodeAt(p) < 128 && TOKEN[s.charCodeAt(p)] === 1) p++;
      if (p === q) break;
      last = p;
      while (p < s.length && (s.charCodeAt(p) === 32 || s.charCodeAt(p) === 9)) p++;
    }
    if (s.charCodeAt(p) === 0x3c) {
      if (last > start) displayName = s.slice(start, last).replace(/[ \t]+/g, ' ');
      sc.pos = p;
    } else if (last > start && p < s.length && s.charCodeAt(p) !== 0x3a && s.indexOf('<', p) > 0) {
      sc.fail('display name is neither tokens nor a quoted-string', p);
    }
  }
  let uri: Uri;
  if (sc.peek() === 0x3c) {
    const open = sc.pos;
    const close = s.indexOf('>', open);
    if (close < 0) sc.fail('missing >', open);
    const text = s.slice(open + 1, close);
    const c0 = text.charCodeAt(0);
    const c1 = text.charCodeAt(text.length - 1);
    if (c0 === 32 || c0 === 9 || c1 === 32 || c1 === 9) sc.fail('white space inside <>', c0 === 32 || c0 === 9 ? open + 1 : close - 1);
    uri = parseUriAt(text, sc, open + 1);
    sc.pos = close + 1;
  } else {
    if (requireAngle) sc.fail('address must be enclosed in <>');
    const from = sc.pos;
    let p = from;
    while (p < s.length) {
      const c = s.charCodeAt(p);
      if (c === 0x3b || c === 32 || c === 9 || (list && c === 0x2c)) break;
      p++;
    }
    const text = s.slice(from, p);
    if (!text) sc.fail('expected address');
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x3f || c === 0x2c || c === 0x3c || c === 0x3e || c === 0x22) {
        sc.fail(c === 0x3f ? 'URI with headers must be enclosed in <>' : 'invalid character in addr-spec', from + i);
      }
    }
    uri = parseUriAt(text, sc, from);
    sc.pos = p;
  }
  const params = sc.params(list);
  return displayName === undefined ? { uri, params } : { displayName, uri, params };
}

function parseUriAt(text: string, sc: Scanner, offset: number): Uri {
  try {
    return parseUri(text, sc.header);
  } catch (e) {
    const err = e as { reason?: string; offset?: number };
    if (err.reason !== undefined) sc.fail(err.reason, offset + (err.offset ?? 0));
    throw e;
  }
}

/** One name-addr / addr-spec with parameters (From, To, P-Preferred-Identity...). */
export function parseNameAddr(value: string, header = 'name-addr'): NameAddr {
  return parseOne(value, header, (sc) => scanNameAddr(sc, false));
}

/** A comma-separated list of name-addr / addr-spec values. */
export function parseNameAddrList(value: string, header = 'name-addr', requireAngle = false): NameAddr[] {
  return parseList(value, header, (sc) => scanNameAddr(sc, true, requireAngle));
}

/** Canonical form: `"Display" <uri>;params`, or `<uri>;params` without a display name. */
export function formatNameAddr(v: NameAddr): string {
  const dn = v.displayName !== undefined && v.displayName !== '' ? `${quote(v.displayName)} ` : '';
  return `${dn}<${formatUri(v.uri)}>${v.params.toString()}`;
}

export function formatNameAddrList(vs: NameAddr[]): string {
  return vs.map(formatNameAddr).join(', ');
}
