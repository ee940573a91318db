/**
 * SIP message parser (RFC 3261 §7, §25). Frames one message from a datagram (or from the
 * bytes a {@link SipStreamFramer} emitted), checks the start line and the header-field syntax,
 * unfolds continuation lines and keeps every value raw: typed values are parsed on demand by
 * src/sip/headers/, which keeps this hot path to a few native string scans per line.
 *
 * RFC 3261 §25.1 rules implemented here:
 *
 *   SIP-message    =  Request / Response
 *   Request        =  Request-Line *( message-header ) CRLF [ message-body ]
 *   Request-Line   =  Method SP Request-URI SP SIP-Version CRLF
 *   Response       =  Status-Line *( message-header ) CRLF [ message-body ]
 *   Status-Line    =  SIP-Version SP Status-Code SP Reason-Phrase CRLF
 *   SIP-Version    =  "SIP" "/" 1*DIGIT "." 1*DIGIT
 *   Status-Code    =  3DIGIT            (100-699: §7.2 classes 1xx-6xx)
 *   Reason-Phrase  =  *(reserved / unreserved / escaped / UTF8-NONASCII / UTF8-CONT / SP / HTAB)
 *   Method         =  token
 *   extension-header = header-name HCOLON header-value
 *   header-name    =  token
 *   HCOLON         =  *( SP / HTAB ) ":" SWS
 *   header-value   =  *(TEXT-UTF8char / UTF8-CONT / LWS)
 *   LWS            =  [*WSP CRLF] 1*WSP     ; a continuation line is LWS (§7.3.1)
 *   Content-Length =  ( "Content-Length" / "l" ) HCOLON 1*DIGIT
 *
 * Framing (§18.3): on a datagram the body is Content-Length bytes after the empty line, extra
 * octets are discarded (RFC 4475 §3.1.1.8); without Content-Length the body is the rest of
 * the datagram (RFC 4475 §3.4.1). Leading CRLFs before the start line are skipped (§7.5).
 */
import { isUtf8 } from 'node:buffer';
import { SipLimitError, SipParseError } from '../message/errors.js';
import { DEFAULT_SIP_LIMITS, resolveLimits, type SipLimits } from '../message/limits.js';
import { EMPTY_BODY, SipRequest, SipResponse, type SipMessage } from '../message/message.js';
import { SipHeaders, headerKey, knownHeaderEntry } from '../message/sip-headers.js';
import { TOKEN, URIC, trimWs } from '../message/chars.js';

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** A Buffer over the same memory (no copy), for native indexOf/toString. */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Parses one SIP message from a datagram.
 *
 * @throws SipParseError (code SIP_PARSE) naming the problem and its byte offset
 * @throws SipLimitError (code SIP_LIMIT) when a {@link SipLimits} bound is exceeded
 */
export function parseMessage(bytes: Uint8Array, limits?: Partial<SipLimits>): SipMessage {
  const lim = limits === undefined ? DEFAULT_SIP_LIMITS : resolveLimits(limits);
  const n = bytes.length;
  if (n > lim.maxMessageBytes) throw new SipLimitError('maxMessageBytes', lim.maxMessageBytes, lim.maxMessageBytes);
  let start = 0;
  while (start + 1 < n && bytes[start] === 13 && bytes[start + 1] === 10) start += 2;
  if (start >= n || (n - start === 1 && bytes[start] === 13)) throw new SipParseError('empty message', start);
  const buf = asBuffer(bytes);

  // 1. The header section ends at the first empty line. A datagram that ends right after the
  //    last header's CRLF (no empty line, like RFC 4475 baddn.dat) is taken as having no body.
  let headEnd = buf.indexOf(CRLFCRLF, start);
  let bodyStart: number;
  if (headEnd >= 0) bodyStart = headEnd + 4;
  else if (n - start >= 2 && bytes[n - 2] === 13 && bytes[n - 1] === 10) {
    headEnd = n - 2;
    bodyStart = n;
  } else throw new SipParseError('header section not terminated by an empty line', n);

  // 2. Header text is UTF-8 (RFC 3261 §7.3.1 TEXT-UTF8). Invalid sequences decode to U+FFFD,
  //    so the exact check runs only when one shows up.
  const head = buf.toString('utf8', start, headEnd);
  if (head.indexOf('\uFFFD') >= 0) {
    const headBytes = buf.subarray(start, headEnd);
    if (!isUtf8(headBytes)) throw new SipParseError('invalid UTF-8 in header section', start + firstBadUtf8(headBytes));
  }
  const ascii = head.length === headEnd - start;

  // 3. Start line.
  let lineEnd = head.indexOf('\n');
  if (lineEnd < 0) lineEnd = head.length + 1;
  else if (head.charCodeAt(lineEnd - 1) !== 13) throw new SipParseError('bare LF', offsetOf(head, start, ascii, lineEnd));
  const firstLen = lineEnd - 1;
  if (firstLen > lim.maxLineLength) throw new SipLimitError('maxLineLength', lim.maxLineLength, start);
  const cr = head.indexOf('\r');
  if (cr >= 0 && cr < firstLen) throw new SipParseError('bare CR', offsetOf(head, start, ascii, cr));
  const headers = new SipHeaders();
  // Values are views into `head` (V8 slices: a copy per value would cost a third of the parse);
  // whatever is kept beyond the message's life is detached by whoever keeps it (common/strings.ts).
  const msg = parseStartLine(head.slice(0, firstLen), headers, start, head, ascii);

  // 4. Header fields, unfolding continuation lines (LWS, §7.3.1).
  let name = '';
  let key = '';
  let value = '';
  let have = false;
  let count = 0;
  let contentLength = -1;
  let fieldAt = 0;
  let pos = lineEnd + 1;
  const len = head.length;
  const maxLine = lim.maxLineLength;
  const token = TOKEN;
  for (;;) {
    let end = len;
    let next = len;
    if (pos < len) {
      const nl = head.indexOf('\n', pos);
      if (nl >= 0) {
        end = nl - 1;
        next = nl + 1;
        if (head.charCodeAt(end) !== 13) throw new SipParseError('bare LF', offsetOf(head, start, ascii, nl));
      }
      if (end - pos > maxLine) throw new SipLimitError('maxLineLength', maxLine, offsetOf(head, start, ascii, pos));
      const c = head.indexOf('\r', pos);
      if (c >= 0 && c < end) throw new SipParseError('bare CR', offsetOf(head, start, ascii, c));
    }
    const first = pos < len ? head.charCodeAt(pos) : -1;
    if (first === 32 || first === 9) {
      if (!have) throw new SipParseError('continuation line before the first header', offsetOf(head, start, ascii, pos));
      const more = trimWs(head.slice(pos, end));
      if (more) value = value ? `${value} ${more}` : more;
      pos = next;
      continue;
    }
    // A new field (or the end): store the previous one.
    if (have) {
      if (key === 'content-length') {
        const v = parseContentLength(value);
        if (v < 0) throw new SipParseError('bad Content-Length', offsetOf(head, start, ascii, fieldAt), { header: name });
        if (contentLength >= 0 && v !== contentLength) {
          msg.body = EMPTY_BODY;
          throw new SipParseError('conflicting Content-Length values', offsetOf(head, start, ascii, fieldAt), { header: name, partial: msg });
        }
        contentLength = v;
      }
      headers._push(name, key, value);
    }
    if (pos >= len) break;
    // header-name = token, then HCOLON = *( SP / HTAB ) ":". A name spelled like a known
    // header is valid by construction; others are checked character by character.
    const colon = head.indexOf(':', pos);
    if (colon < 0 || colon >= end) throw new SipParseError('header line without colon', offsetOf(head, start, ascii, pos));
    let ne = colon;
    while (ne > pos && (head.charCodeAt(ne - 1) === 32 || head.charCodeAt(ne - 1) === 9)) ne--;
    if (ne === pos) throw new SipParseError('empty header name', offsetOf(head, start, ascii, pos));
    if (++count > lim.maxHeaders) throw new SipLimitError('maxHeaders', lim.maxHeaders, offsetOf(head, start, ascii, pos));
    name = head.slice(pos, ne);
    // A known spelling is the table's own string (no view into `head` for a name kept with a value).
    const known = knownHeaderEntry(name);
    if (known !== undefined) {
      name = known[0];
      key = known[1];
    } else {
      for (let i = pos; i < ne; i++) {
        const ch = head.charCodeAt(i);
        if (ch >= 128 || token[ch] === 0) throw new SipParseError('invalid character in header name', offsetOf(head, start, ascii, i));
      }
      key = headerKey(name);
    }
    let vs = colon + 1;
    let ve = end;
    while (vs < ve && (head.charCodeAt(vs) === 32 || head.charCodeAt(vs) === 9)) vs++;
    while (ve > vs && (head.charCodeAt(ve - 1) === 32 || head.charCodeAt(ve - 1) === 9)) ve--;
    value = head.slice(vs, ve);
    fieldAt = pos;
    have = true;
    pos = next;
  }

  // 5. Body.
  if (contentLength < 0) {
    msg.body = bodyStart < n ? view(bytes, bodyStart, n) : EMPTY_BODY;
    return msg;
  }
  if (bodyStart + contentLength > n) {
    throw new SipParseError('Content-Length larger than the body', n, { partial: msg });
  }
  if (contentLength) msg.body = view(bytes, bodyStart, bodyStart + contentLength);
  return msg;
}

/** Byte offset of character index i of the header text that starts at byte `start`. */
function offsetOf(head: string, start: number, ascii: boolean, i: number): number {
  return start + (ascii ? i : Buffer.byteLength(head.slice(0, i), 'utf8'));
}

function view(b: Uint8Array, from: number, to: number): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset + from, to - from);
}

/** 1*DIGIT, leading zeros allowed; -1 when malformed or absurdly large. */
export function parseContentLength(v: string): number {
  if (v.length === 0 || v.length > 15) return -1;
  let x = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    x = x * 10 + c;
  }
  return x;
}

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT ("SIP" compares case-insensitively, §7.1). */
export function isSipVersion(v: string): boolean {
  if (v === 'SIP/2.0') return true;
  if (v.length < 7 || v.slice(0, 4).toUpperCase() !== 'SIP/') return false;
  const dot = v.indexOf('.', 4);
  if (dot < 0) return false;
  return /^[0-9]+$/.test(v.slice(4, dot)) && /^[0-9]+$/.test(v.slice(dot + 1));
}

/** absoluteURI = scheme ":" ...; scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (§25.1). */
export function checkRequestUri(uri: string): number {
  const colon = uri.indexOf(':');
  if (colon < 1) return 0;
  for (let i = 0; i < colon; i++) {
    const c = uri.charCodeAt(i) | 0x20;
    const alpha = c >= 0x61 && c <= 0x7a;
    if (i === 0 ? !alpha : !(alpha || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)) return i;
  }
  for (let i = colon + 1; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c >= 128 || URIC[c] === 0) return i;
  }
  return -1;
}

const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

function parseStartLine(line: string, headers: SipHeaders, start: number, head: string, ascii: boolean): SipMessage {
  const at = (i: number): number => offsetOf(head, start, ascii, i);
  if (line.length > 4 && line.charCodeAt(3) === 0x2f && line.slice(0, 4).toUpperCase() === 'SIP/') {
    // Status-Line
    const sp = line.indexOf(' ');
    const version = sp < 0 ? line : line.slice(0, sp);
    if (!isSipVersion(version)) throw new SipParseError('bad SIP-Version', at(0));
    if (sp < 0) throw new SipParseError('missing Status-Code', at(line.length));
    const d0 = line.charCodeAt(sp + 1) - 48;
    const d1 = line.charCodeAt(sp + 2) - 48;
    const d2 = line.charCodeAt(sp + 3) - 48;
    if (!(d0 >= 1 && d0 <= 6 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9) || (sp + 4 < line.length && line.charCodeAt(sp + 4) !== 32)) {
      throw new SipParseError('bad Status-Code', at(sp + 1));
    }
    const code = d0 * 100 + d1 * 10 + d2;
    const reason = sp + 5 <= line.length ? line.slice(sp + 5) : '';
    const bad = reason.length === 0 ? -1 : reason.search(CONTROL);
    if (bad >= 0) throw new SipParseError('control character in Reason-Phrase', at(sp + 5 + bad));
    return new SipResponse(code, reason, headers, EMPTY_BODY, version);
  }
  // Request-Line: exactly two single SPs (RFC 4475 §3.1.2.8-3.1.2.10).
  const sp1 = line.indexOf(' ');
  if (sp1 <= 0) throw new SipParseError(sp1 === 0 ? 'bad Request-Line: leading SP' : 'bad start line', at(0));
  for (let i = 0; i < sp1; i++) {
    const c = line.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) throw new SipParseError('invalid character in Method', at(i));
  }
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp2 < 0) throw new SipParseError('bad Request-Line: missing SIP-Version', at(line.length));
  if (sp2 === sp1 + 1) throw new SipParseError('bad Request-Line: more than one SP', at(sp2));
  const uri = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (version.indexOf(' ') >= 0) throw new SipParseError('bad Request-Line: extra SP', at(sp2 + 1 + version.indexOf(' ')));
  const badUri = checkRequestUri(uri);
  if (badUri >= 0) throw new SipParseError('bad Request-URI', at(sp1 + 1 + badUri));
  if (!isSipVersion(version)) throw new SipParseError('bad SIP-Version', at(sp2 + 1));
  return new SipRequest(methodOf(line, sp1), uri, headers, EMPTY_BODY, version);
}

/** The methods of RFC 3261 and its extensions that IMS uses (TS 24.229 §5), as one string each. */
const KNOWN_METHODS = ['REGISTER', 'SUBSCRIBE', 'NOTIFY', 'INVITE', 'ACK', 'BYE', 'CANCEL', 'MESSAGE', 'OPTIONS', 'PRACK', 'UPDATE', 'INFO', 'REFER', 'PUBLISH'];

/**
 * The Method of a Request-Line that ends at `end`: a known one (case-sensitive, RFC 3261 §7.1) is
 * the one shared string, not a copy per request; a response context and the transaction layer
 * keep it for Timer J.
 */
function methodOf(line: string, end: number): string {
  for (const m of KNOWN_METHODS) if (m.length === end && line.startsWith(m)) return m;
  return line.slice(0, end);
}

function firstBadUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n === 0) return i;
    if (!isUtf8(b.subarray(i, i + n))) return i;
    i += n;
  }
  return b.length;
}
