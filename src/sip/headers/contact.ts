/**
 * Contact (RFC 3261 §20.10, §25.1; +sip.instance and reg-id: RFC 5626 §4.1).
 *
 *   Contact        =  ("Contact" / "m" ) HCOLON ( STAR / (contact-param *(COMMA contact-param)))
 *   contact-param  =  (name-addr / addr-spec) *(SEMI contact-params)
 *   contact-params =  c-p-q / c-p-expires / contact-extension
 *   c-p-q          =  "q" EQUAL qvalue           qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
 *   c-p-expires    =  "expires" EQUAL delta-seconds
 */
import { isDigits } from '../message/chars.js';
import { Scanner, parseList } from './scanner.js';
import { formatNameAddr, scanNameAddr, type NameAddr } from './name-addr.js';
import { unquote } from './params.js';

export type Contact = NameAddr;

/** `*` (remove all bindings, §10.2.2) or the listed contacts. */
export type ContactList = '*' | Contact[];

const MAX_DELTA = 4294967295;

function scanContact(sc: Scanner): Contact {
  const c = scanNameAddr(sc, true);
  const q = c.params.get('q');
  if (q !== undefined && (q === null || !/^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/.test(q))) sc.fail('bad q value');
  const e = c.params.get('expires');
  if (e !== undefined && (e === null || !isDigits(e) || +e > MAX_DELTA)) sc.fail('bad expires');
  const r = c.params.get('reg-id');
  if (r !== undefined && (r === null || !isDigits(r) || +r < 1 || +r > MAX_DELTA)) sc.fail('bad reg-id');
  return c;
}

export function parseContact(value: string): ContactList {
  if (value.trim() === '*') return '*';
  return parseList(value, 'Contact', scanContact);
}

export function formatContact(v: ContactList): string {
  return v === '*' ? '*' : v.map(formatNameAddr).join(', ');
}

/** The expires parameter in seconds. */
export function contactExpires(c: Contact): number | undefined {
  const e = c.params.get('expires');
  return e == null ? undefined : +e;
}

/** The q parameter (0 to 1). */
export function contactQ(c: Contact): number | undefined {
  const q = c.params.get('q');
  return q == null ? undefined : +q;
}

/** +sip.instance, unquoted, e.g. `<urn:uuid:...>` (RFC 5626 §4.1). */
export function contactInstance(c: Contact): string | undefined {
  const v = c.params.get('+sip.instance');
  return v == null ? undefined : unquote(v);
}

/** reg-id (RFC 5626 §4.1). */
export function contactRegId(c: Contact): number | undefined {
  const v = c.params.get('reg-id');
  return v == null ? undefined : +v;
}
