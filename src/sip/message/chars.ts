/**
 * Character classes of RFC 3261 §25.1, as lookup tables over char codes (faster than regular
 * expressions on the hot path).
 *
 *   token       =  1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" )
 *   unreserved  =  alphanum / mark
 *   mark        =  "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
 *   reserved    =  ";" / "/" / "?" / ":" / "@" / "&" / "=" / "+" / "$" / ","
 *   escaped     =  "%" HEXDIG HEXDIG
 */

function table(chars: string, alnum = true): Uint8Array {
  const t = new Uint8Array(128);
  if (alnum) {
    for (let c = 48; c <= 57; c++) t[c] = 1;
    for (let c = 65; c <= 90; c++) t[c] = 1;
    for (let c = 97; c <= 122; c++) t[c] = 1;
  }
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

/** token characters. */
export const TOKEN = table("-.!%*_+`'~");
/** DIGIT. */
export const DIGIT = table('0123456789', false);
/** unreserved = alphanum / mark. */
export const UNRESERVED = table("-_.!~*'()");
/** user = 1*( unreserved / escaped / user-unreserved ), user-unreserved = & = + $ , ; ? / */
export const USER = table("-_.!~*'()%&=+$,;?/");
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
export const PASSWORD = table("-_.!~*'()%&=+$,");
/** paramchar = param-unreserved / unreserved / escaped, param-unreserved = [ ] / : & + $ */
export const PARAMCHAR = table("-_.!~*'()%[]/:&+$");
/** hname / hvalue chars: hnv-unreserved / unreserved / escaped, hnv-unreserved = [ ] / ? : + $ */
export const HNV = table("-_.!~*'()%[]/?:+$");
/** Characters of a Request-URI (absoluteURI uric plus "[" "]" for IPv6 references). */
export const URIC = table("-_.!~*'()%;/?:@&=+$,[]");
/** hostname, IPv4 and IPv6 characters, brackets included. */
export const HOST = table('-.:[]_');
/** word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}" ) */
export const WORD = table('-.!%*_+`\'~()<>:\\"/[]?{}');
/** gen-value = token / host / quoted-string: token and host characters (quoted-strings are scanned apart). */
export const GENVALUE = table("-.!%*_+`'~:[]");

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

/** True when every character of `s` is in `t` (ASCII only). */
export function allIn(s: string, t: Uint8Array): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || t[c] === 0) return false;
  }
  return true;
}

export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Trims SP and HTAB only (String.prototype.trim would also eat U+FEFF and other Unicode spaces). */
export function trimWs(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b) {
    const c = s.charCodeAt(a);
    if (c !== 32 && c !== 9) break;
    a++;
  }
  while (b > a) {
    const c = s.charCodeAt(b - 1);
    if (c !== 32 && c !== 9) break;
    b--;
  }
  return a === 0 && b === s.length ? s : s.slice(a, b);
}
