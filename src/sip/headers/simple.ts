/**
 * Header fields with simple values (RFC 3261 §20, §25.1; Privacy: RFC 3323 §4.2).
 *
 *   CSeq          =  "CSeq" HCOLON 1*DIGIT LWS Method
 *   Call-ID       =  ( "Call-ID" / "i" ) HCOLON callid      callid = word [ "@" word ]
 *   Max-Forwards  =  "Max-Forwards" HCOLON 1*DIGIT          ; 0-255 (§8.1.1.6)
 *   Expires       =  "Expires" HCOLON delta-seconds         ; 0 to 2**32-1
 *   Require       =  "Require" HCOLON option-tag *(COMMA option-tag)   (Proxy-Require, Unsupported alike)
 *   Supported     =  ( "Supported" / "k" ) HCOLON [option-tag *(COMMA option-tag)]
 *   Allow         =  "Allow" HCOLON [Method *(COMMA Method)]
 *   Date          =  "Date" HCOLON SIP-date                 ; rfc1123-date, GMT only
 *   Privacy-hdr   =  "Privacy" HCOLON priv-value *(";" priv-value)
 */
import { DIGIT, WORD, isDigits } from '../message/chars.js';
import { SipParseError } from '../message/errors.js';
import { Scanner, parseList, parseOne } from './scanner.js';

/** RFC 3261 §8.1.1.5: the sequence number must fit in 32 bits. */
const MAX_U32 = 4294967295;

export interface CSeq {
  seq: number;
  method: string;
}

export function parseCSeq(value: string): CSeq {
  return parseOne(value, 'CSeq', (sc) => {
    const at = sc.pos;
    const n = sc.take(DIGIT, 'sequence number');
    if (n.replace(/^0+(?=.)/, '').length > 10 || +n > MAX_U32) sc.fail('sequence number out of range', at);
    if (sc.ws() === 0) sc.fail('expected white space before method');
    return { seq: +n, method: sc.token('method') };
  });
}

export function formatCSeq(v: CSeq): string {
  return `${v.seq} ${v.method}`;
}

export function parseCallId(value: string): string {
  return parseOne(value, 'Call-ID', (sc) => {
    const a = sc.take(WORD, 'word');
    if (sc.peek() === 0x40) {
      sc.pos++;
      return `${a}@${sc.take(WORD, 'word')}`;
    }
    return a;
  });
}

export function formatCallId(v: string): string {
  return v;
}

function boundedInt(value: string, header: string, max: number, what: string): number {
  return parseOne(value, header, (sc) => {
    const at = sc.pos;
    const n = sc.take(DIGIT, what);
    if (!isDigits(n) || (n.replace(/^0+(?=.)/, '').length > 10) || +n > max) sc.fail(`${what} out of range`, at);
    return +n;
  });
}

export function parseMaxForwards(value: string): number {
  return boundedInt(value, 'Max-Forwards', 255, 'Max-Forwards value');
}

export function formatMaxForwards(v: number): string {
  return String(v);
}

/** delta-seconds of Expires (and Min-Expires). */
export function parseExpires(value: string, header = 'Expires'): number {
  return boundedInt(value, header, MAX_U32, 'delta-seconds');
}

export function formatExpires(v: number): string {
  return String(v);
}

/** Option tags of Require, Proxy-Require, Supported or Unsupported (Supported may be empty). */
export function parseOptionTags(value: string, header = 'Require'): string[] {
  const allowEmpty = /^(supported|k)$/i.test(header);
  return parseList(value, header, (sc: Scanner) => sc.token('option-tag'), allowEmpty);
}

export function formatOptionTags(tags: string[]): string {
  return tags.join(', ');
}

export function parseAllow(value: string): string[] {
  return parseList(value, 'Allow', (sc: Scanner) => sc.token('method'), true);
}

export function formatAllow(methods: string[]): string {
  return methods.join(', ');
}

const WKDAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * SIP-date (§20.17): rfc1123-date, e.g. `Sat, 13 Nov 2010 23:29:00 GMT`. Only GMT is
 * allowed (RFC 4475 §3.1.2.12).
 */
export function parseSipDate(value: string): Date {
  const m = /^[ \t]*(Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT[ \t]*$/.exec(value);
  if (!m) throw new SipParseError(/ GMT[ \t]*$/.test(value) ? 'bad SIP-date' : 'SIP-date must be in GMT', 0, { header: 'Date' });
  const [, , d, mon, y, hh, mm, ss] = m;
  const t = Date.UTC(+y, MONTH.indexOf(mon), +d, +hh, +mm, +ss);
  const date = new Date(t);
  if (date.getUTCDate() !== +d || +hh > 23 || +mm > 59 || +ss > 60) throw new SipParseError('bad SIP-date', 0, { header: 'Date' });
  return date;
}

export function formatSipDate(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${WKDAY[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTH[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} GMT`;
}

/** Privacy values (RFC 3323 §4.2: header, session, user, none, critical; RFC 3325 id; RFC 7044 history). */
export function parsePrivacy(value: string): string[] {
  return parseOne(value, 'Privacy', (sc) => {
    const out = [sc.token('priv-value')];
    while (sc.eat(0x3b)) out.push(sc.token('priv-value'));
    return out;
  });
}

export function formatPrivacy(v: string[]): string {
  return v.join(';');
}
