/**
 * Incremental framer for Diameter over a byte stream (TCP, RFC 6733 §2.1): `push(chunk, onMessage)`
 * in the manner of pg-protocol's `Parser.parse`. It reads each 20-byte header, checks version and
 * Message Length before buffering anything (a length over `maxMessageSize` is refused at once, so
 * an absurd length never makes it allocate or wait), then hands out each complete message.
 *
 * A framing error (bad version, bad or oversized length) leaves the stream unsynchronised: the
 * framer throws and the connection must be closed. An error inside a well-framed message (a bad
 * AVP length) is reported through `onError` with the raw bytes, so the receiver can answer it
 * (RFC 6733 §7.1.3, 5014) and go on; without `onError` it is thrown.
 */
import { DiameterParseError } from '../errors.js';
import { HEADER_LENGTH, type DiameterMessage, decodeMessage } from './message.js';

export interface FramerOptions {
  /** Largest message accepted, in bytes (default 4 MiB; the field allows 16 MiB). */
  maxMessageSize?: number;
}

export type OnMessage = (msg: DiameterMessage, raw: Uint8Array) => void;
export type OnFrameError = (err: DiameterParseError, raw: Uint8Array) => void;

export const DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024;

export class DiameterFramer {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  private end = 0;
  private max: number;
  private broken: DiameterParseError | undefined;

  constructor(opts: FramerOptions = {}) {
    this.max = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  }

  /** Changes the largest message accepted from now on (e.g. once the peer has been authenticated by its CER). */
  setMaxMessageSize(bytes: number): void {
    this.max = bytes;
  }

  /** Bytes received and not yet handed out. */
  get buffered(): number {
    return this.end - this.start;
  }

  /**
   * Adds a chunk and calls `onMessage` for every complete message, in order.
   * @throws DiameterParseError on a framing error; the framer then refuses further input.
   */
  push(chunk: Uint8Array, onMessage: OnMessage, onError?: OnFrameError): void {
    this.frames(chunk, true, (raw) => {
      let msg: DiameterMessage;
      try {
        msg = decodeMessage(raw);
      } catch (e) {
        if (e instanceof DiameterParseError && onError) {
          onError(e, raw);
          return;
        }
        throw e;
      }
      onMessage(msg, raw);
    });
  }

  /**
   * Adds a chunk and calls `onFrame` with the bytes of every complete message, in order, without
   * decoding them: for an observer that reads a header field or two (metrics). Each frame is a
   * view into the framer's buffer, valid only during the call.
   * @throws DiameterParseError on a framing error; the framer then refuses further input.
   */
  pushFrames(chunk: Uint8Array, onFrame: (raw: Uint8Array) => void): void {
    this.frames(chunk, false, onFrame);
  }

  private frames(chunk: Uint8Array, copy: boolean, onFrame: (raw: Uint8Array) => void): void {
    if (this.broken) throw this.broken;
    this.append(chunk);
    while (this.end - this.start >= 4) {
      const b = this.buf;
      const at = this.start;
      if (b[at] !== 1) this.fail(new DiameterParseError(`unsupported Diameter version ${b[at]}`, 0, 5011));
      const len = (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
      if (len < HEADER_LENGTH || len % 4 !== 0) this.fail(new DiameterParseError(`invalid Message Length ${len}`, 1, 5015));
      if (len > this.max) this.fail(new DiameterParseError(`Message Length ${len} exceeds the limit of ${this.max}`, 1, 5015));
      if (this.end - at < len) break;
      // A fresh copy for a message to decode: its AVP data are views into it and outlive the buffer.
      const raw = copy ? b.slice(at, at + len) : b.subarray(at, at + len);
      this.start += len;
      onFrame(raw);
    }
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
  }

  /** Drops buffered bytes (after the connection closed). */
  reset(): void {
    this.buf = new Uint8Array(0);
    this.start = this.end = 0;
    this.broken = undefined;
  }

  private fail(e: DiameterParseError): never {
    this.broken = e;
    this.buf = new Uint8Array(0);
    this.start = this.end = 0;
    throw e;
  }

  private append(chunk: Uint8Array): void {
    const have = this.end - this.start;
    if (have + chunk.length <= this.buf.length - this.start) {
      this.buf.set(chunk, this.end);
      this.end += chunk.length;
      return;
    }
    if (have + chunk.length <= this.buf.length) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      // Grow to what is actually held, never to what a length field claims.
      let size = Math.max(4096, this.buf.length);
      while (size < have + chunk.length) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(this.start, this.end));
      this.buf = next;
    }
    this.start = 0;
    this.end = have;
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }
}
