/**
 * SIP message serializer (RFC 3261 §7): start line, one header field per line in the stored
 * order and spelling, the empty line, the body. Content-Length always matches the body: the
 * first Content-Length field (or `l`) gets the body length, further ones are dropped, and one
 * is appended when there was none (mandatory on streams, §18.3 and §20.14).
 */
import { InvalidArgumentError } from '../../common/index.js';
import type { SipMessage } from '../message/message.js';
import { TOKEN } from '../message/chars.js';
import { checkRequestUri, isSipVersion } from './parse-message.js';

/** Encodes a message to bytes (UTF-8 headers followed by the body). */
export function serializeMessage(msg: SipMessage): Uint8Array {
  const s = headText(msg);
  const bodyLen = msg.body.length;
  const headLen = Buffer.byteLength(s, 'utf8');
  const out = new Uint8Array(headLen + bodyLen);
  const b = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  b.write(s, 0, headLen, 'utf8');
  if (bodyLen) out.set(msg.body, headLen);
  return out;
}

/**
 * The length in bytes of {@link serializeMessage}'s output, without encoding it: what the
 * transport layer compares with the UDP size limit (RFC 3261 §18.1.1) for every request it
 * sends, before the transport serializes it.
 */
export function serializedLength(msg: SipMessage): number {
  return Buffer.byteLength(headText(msg), 'utf8') + msg.body.length;
}

/** Start line, header fields and the empty line: Content-Length set to the body's length (file comment). */
function headText(msg: SipMessage): string {
  let s = startLine(msg);
  const h = msg.headers;
  const bodyLen = msg.body.length;
  let lengthDone = false;
  for (let i = 0; i < h.size; i++) {
    if (h._key(i) === 'content-length') {
      if (!lengthDone) {
        s += `${h._name(i)}: ${bodyLen}\r\n`;
        lengthDone = true;
      }
      continue;
    }
    s += `${h._name(i)}: ${h._value(i)}\r\n`;
  }
  if (!lengthDone) s += `Content-Length: ${bodyLen}\r\n`;
  return s + '\r\n';
}

/** The start line with its CRLF; refuses values that would corrupt the framing. */
export function startLine(msg: SipMessage): string {
  if (!isSipVersion(msg.version)) throw new InvalidArgumentError('bad SIP-Version', 'version');
  if (msg.kind === 'request') {
    const m = msg.method;
    if (m.length === 0) throw new InvalidArgumentError('empty SIP method', 'method');
    for (let i = 0; i < m.length; i++) {
      const c = m.charCodeAt(i);
      if (c >= 128 || TOKEN[c] === 0) throw new InvalidArgumentError('SIP method is not a token', 'method');
    }
    if (checkRequestUri(msg.uri) >= 0) throw new InvalidArgumentError('bad Request-URI', 'uri');
    return `${m} ${msg.uri} ${msg.version}\r\n`;
  }
  if (!Number.isInteger(msg.status) || msg.status < 100 || msg.status > 699) throw new InvalidArgumentError('status must be 100-699', 'status');
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(msg.reason)) throw new InvalidArgumentError('control character in reason phrase', 'reason');
  return `${msg.version} ${msg.status} ${msg.reason}\r\n`;
}
