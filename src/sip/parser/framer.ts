/**
 * Incremental framing of SIP over a byte stream (RFC 3261 §18.3): TCP or TLS delivers chunks
 * that may hold part of a message, one message, or several. {@link SipStreamFramer.push}
 * buffers what it is given and reports every complete message's bytes, which
 * `parseMessage` then decodes. Like pg-protocol's `Parser.parse(buffer, cb)`, it owns no socket.
 *
 * - Content-Length is mandatory on streams (§18.3, §20.14); without it the stream cannot be
 *   framed and the framer throws.
 * - CRLFs between messages are skipped (§7.5). RFC 5626 §4.4.1 keep-alives are reported to
 *   `onKeepAlive`: a double CRLF is a `ping` (the server answers with one CRLF), a single CRLF
 *   followed by a message is a `pong`.
 * - A header section that never ends (no empty line within `maxMessageBytes`, or a line longer
 *   than `maxLineLength`) throws {@link SipLimitError}; a start line that is not SIP throws
 *   {@link SipParseError}. After a throw the stream is unusable (close the connection) and
 *   every later push throws the same error.
 */
import { SipLimitError, SipParseError } from '../message/errors.js';
import { resolveLimits, type SipLimits } from '../message/limits.js';
import { isSipVersion, parseContentLength } from './parse-message.js';

export interface SipFramerOptions {
  /** RFC 5626 keep-alive seen between messages. */
  onKeepAlive?: (kind: 'ping' | 'pong') => void;
}

const CR = 13;
const LF = 10;

export class SipStreamFramer {
  private readonly limits: SipLimits;
  private buf = new Uint8Array(0);
  private len = 0;
  /** Where the current message starts in buf. */
  private start = 0;
  /** How far the search for the empty line has got (relative to buf). */
  private scanned = 0;
  /** Header section length (incl. the empty line) and total length, once known. */
  private headLen = -1;
  private total = -1;
  private crlfs = 0;
  /** Start of the line being scanned, and whether the start line has been checked. */
  private lineStart = 0;
  private firstLineChecked = false;
  private failed: Error | undefined;

  constructor(
    limits?: Partial<SipLimits>,
    private readonly options: SipFramerOptions = {},
  ) {
    this.limits = resolveLimits(limits);
  }

  /** Bytes held for an incomplete message. */
  get buffered(): number {
    return this.len - this.start;
  }

  /** Feeds a chunk; calls `onMessage` with a copy of each complete message's bytes, in order. */
  push(chunk: Uint8Array, onMessage: (bytes: Uint8Array) => void): void {
    if (this.failed) throw this.failed;
    try {
      this.append(chunk);
      this.drain(onMessage);
    } catch (e) {
      this.failed = e as Error;
      throw e;
    }
  }

  private append(chunk: Uint8Array): void {
    if (this.start > 0 && this.start === this.len) {
      this.start = this.len = this.scanned = this.lineStart = 0;
    }
    if (this.len + chunk.length > this.buf.length) {
      const live = this.len - this.start;
      const need = live + chunk.length;
      const next = need <= this.buf.length ? this.buf : new Uint8Array(Math.max(need, this.buf.length * 2, 4096));
      if (next === this.buf) this.buf.copyWithin(0, this.start, this.len);
      else next.set(this.buf.subarray(this.start, this.len), 0);
      this.buf = next;
      this.scanned -= this.start;
      this.lineStart -= this.start;
      this.len = live;
      this.start = 0;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
  }

  private drain(onMessage: (bytes: Uint8Array) => void): void {
    const b = this.buf;
    for (;;) {
      if (this.headLen < 0) {
        // Between messages: CRLF keep-alives.
        while (this.start + 1 < this.len && b[this.start] === CR && b[this.start + 1] === LF) {
          this.start += 2;
          if (++this.crlfs === 2) {
            this.crlfs = 0;
            this.options.onKeepAlive?.('ping');
          }
        }
        if (this.start >= this.len) return;
        if (b[this.start] === CR && this.start + 1 === this.len) return; // half a CRLF
        if (this.crlfs === 1) {
          this.crlfs = 0;
          this.options.onKeepAlive?.('pong');
        }
        if (this.scanned < this.start) {
          this.scanned = this.lineStart = this.start;
          this.firstLineChecked = false;
        }
        if (!this.findHead()) return;
      }
      if (this.len - this.start < this.total) return;
      const end = this.start + this.total;
      onMessage(b.slice(this.start, end));
      this.start = end;
      this.scanned = this.lineStart = end;
      this.firstLineChecked = false;
      this.headLen = this.total = -1;
    }
  }

  /** Looks for the end of the header section; true once the message length is known. */
  private findHead(): boolean {
    const b = this.buf;
    const lim = this.limits;
    let i = this.scanned;
    for (; i + 1 < this.len; i++) {
      if (b[i] !== CR || b[i + 1] !== LF) continue;
      if (!this.firstLineChecked) {
        this.checkStartLine(this.start, i);
        this.firstLineChecked = true;
      }
      if (i - this.lineStart > lim.maxLineLength) throw new SipLimitError('maxLineLength', lim.maxLineLength, this.lineStart);
      if (i === this.lineStart) {
        // Empty line: end of the header section.
        this.headLen = i + 2 - this.start;
        const cl = this.contentLength(this.start, i);
        this.total = this.headLen + cl;
        if (this.total > lim.maxMessageBytes) throw new SipLimitError('maxMessageBytes', lim.maxMessageBytes, this.start);
        return true;
      }
      this.lineStart = i + 2;
      i++;
    }
    this.scanned = Math.max(this.lineStart, i);
    if (this.len - this.lineStart > lim.maxLineLength) throw new SipLimitError('maxLineLength', lim.maxLineLength, this.lineStart);
    if (this.len - this.start > lim.maxMessageBytes) throw new SipLimitError('maxMessageBytes', lim.maxMessageBytes, this.start);
    return false;
  }

  /** Cheap check that the first line is a SIP start line, so garbage fails fast. */
  private checkStartLine(from: number, to: number): void {
    const line = Buffer.from(this.buf.buffer, this.buf.byteOffset + from, to - from).toString('latin1');
    const ok = line.startsWith('SIP/') || line.startsWith('sip/')
      ? isSipVersion(line.split(' ', 1)[0])
      : isSipVersion(line.slice(line.lastIndexOf(' ') + 1)) && line.indexOf(' ') > 0;
    if (!ok) throw new SipParseError('not a SIP start line', from);
  }

  /** Content-Length (or l) from the header section [from, to); required on streams. */
  private contentLength(from: number, to: number): number {
    const head = Buffer.from(this.buf.buffer, this.buf.byteOffset + from, to - from).toString('latin1');
    let found = -1;
    let pos = head.indexOf('\r\n') + 2;
    while (pos > 1 && pos < head.length) {
      let end = head.indexOf('\r\n', pos);
      if (end < 0) end = head.length;
      const c = head.charCodeAt(pos) | 0x20;
      if (c === 0x6c /* l */ || c === 0x63 /* c */) {
        const colon = head.indexOf(':', pos);
        if (colon > 0 && colon < end) {
          const name = head.slice(pos, colon).replace(/[ \t]+$/, '').toLowerCase();
          if (name === 'content-length' || name === 'l') {
            // The value may continue on folded lines.
            let v = head.slice(colon + 1, end);
            while (end + 2 < head.length && (head.charCodeAt(end + 2) === 32 || head.charCodeAt(end + 2) === 9)) {
              const next = head.indexOf('\r\n', end + 2);
              const e2 = next < 0 ? head.length : next;
              v += ` ${head.slice(end + 2, e2)}`;
              end = e2;
            }
            const n = parseContentLength(v.trim());
            if (n < 0) throw new SipParseError('bad Content-Length', from + pos);
            if (found >= 0 && n !== found) throw new SipParseError('conflicting Content-Length values', from + pos);
            found = n;
          }
        }
      }
      pos = end + 2;
    }
    if (found < 0) throw new SipParseError('missing Content-Length on a stream', from);
    return found;
  }
}
