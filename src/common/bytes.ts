/**
 * Bounds-checked byte reading and writing, and the small byte helpers every codec shares.
 * Every read checks its length first and throws {@link BufferTooSmallError}, never a RangeError.
 */
import { timingSafeEqual } from 'node:crypto';
import { BufferTooSmallError, InvalidArgumentError } from './errors.js';

/** Sequential big-endian reader over a byte array. */
export class ByteReader {
  private pos: number;

  constructor(
    readonly bytes: Uint8Array,
    offset = 0,
    private readonly end = bytes.length,
  ) {
    this.pos = offset;
  }

  get offset(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): number {
    if (n < 0 || this.pos + n > this.end) throw new BufferTooSmallError(this.pos, n, this.end - this.pos);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number {
    return this.bytes[this.need(1)];
  }
  u16(): number {
    const at = this.need(2);
    return (this.bytes[at] << 8) | this.bytes[at + 1];
  }
  u24(): number {
    const at = this.need(3);
    return (this.bytes[at] << 16) | (this.bytes[at + 1] << 8) | this.bytes[at + 2];
  }
  u32(): number {
    const at = this.need(4);
    return ((this.bytes[at] << 24) | (this.bytes[at + 1] << 16) | (this.bytes[at + 2] << 8) | this.bytes[at + 3]) >>> 0;
  }
  u64(): bigint {
    const hi = BigInt(this.u32());
    return (hi << 32n) | BigInt(this.u32());
  }
  /** A view (no copy) of the next n bytes. */
  take(n: number): Uint8Array {
    const at = this.need(n);
    return this.bytes.subarray(at, at + n);
  }
  skip(n: number): void {
    this.need(n);
  }
  rest(): Uint8Array {
    return this.take(this.remaining);
  }
}

/** Growable big-endian writer. */
export class ByteWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  get length(): number {
    return this.pos;
  }

  private room(n: number): number {
    if (this.pos + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.pos + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.pos));
      this.buf = next;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(v: number): this {
    this.buf[this.room(1)] = v;
    return this;
  }
  u16(v: number): this {
    const at = this.room(2);
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v;
    return this;
  }
  u24(v: number): this {
    const at = this.room(3);
    this.buf[at] = v >>> 16;
    this.buf[at + 1] = v >>> 8;
    this.buf[at + 2] = v;
    return this;
  }
  u32(v: number): this {
    const at = this.room(4);
    this.buf[at] = v >>> 24;
    this.buf[at + 1] = v >>> 16;
    this.buf[at + 2] = v >>> 8;
    this.buf[at + 3] = v;
    return this;
  }
  u64(v: bigint): this {
    this.u32(Number((v >> 32n) & 0xffffffffn));
    return this.u32(Number(v & 0xffffffffn));
  }
  bytes(b: Uint8Array): this {
    this.buf.set(b, this.room(b.length));
    return this;
  }
  zeros(n: number): this {
    this.buf.fill(0, this.room(n), this.pos);
    return this;
  }
  /** Overwrite a u24 already written (for length fields known only at the end). */
  patchU24(at: number, v: number): void {
    this.buf[at] = v >>> 16;
    this.buf[at + 1] = v >>> 8;
    this.buf[at + 2] = v;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Parse hex (no prefix, even length). `bytes`, when given, is the exact length required. */
export function fromHex(hex: string, bytes?: number, what = 'value'): Uint8Array {
  const s = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (!HEX_RE.test(s)) throw new InvalidArgumentError(`${what} is not hex: ${JSON.stringify(hex.slice(0, 40))}`, what);
  if (bytes !== undefined && s.length !== bytes * 2) {
    throw new InvalidArgumentError(`${what} must be ${bytes} bytes (${bytes * 2} hex digits), got ${s.length / 2}`, what);
  }
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** Strict base64 (RFC 4648 §4, padding required); throws InvalidArgumentError otherwise. */
export function fromBase64(s: string, what = 'value'): Uint8Array {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) {
    throw new InvalidArgumentError(`${what} is not base64`, what);
  }
  return new Uint8Array(Buffer.from(s, 'base64'));
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new InvalidArgumentError(`xor of ${a.length} and ${b.length} bytes`);
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/**
 * Constant-time equality for MACs, RES and ICVs. Lengths are public (they come from the
 * algorithm), so a length mismatch returns false at once.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Big-endian unsigned integer of up to 48 bits (SQN is 48 bits) into n bytes. */
export function uintToBytes(v: number, n: number): Uint8Array {
  if (!Number.isSafeInteger(v) || v < 0 || v >= 2 ** (8 * n)) throw new InvalidArgumentError(`${v} does not fit in ${n} bytes`);
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

export function bytesToUint(b: Uint8Array): number {
  if (b.length > 6) throw new InvalidArgumentError(`${b.length} bytes exceed a safe integer`);
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v;
}
