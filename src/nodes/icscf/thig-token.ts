/**
 * THIG tokens: the encrypted form of a run of hidden header entries (R-HIDE-1; seed 003 §6.4;
 * TS 24.229 Rel-5/6 §5.3.3 "I-CSCF(THIG)"). Every I-CSCF of a network shares one 16-byte key Kv,
 * so any of them opens what another sealed.
 *
 * ```
 * token     = base64url-nopad( version IV C T )          ; RFC 4648 §5, no padding
 * version   = %x01                                        ; 1 byte
 * IV        = 16 random bytes (injected Rng), fresh for every token
 * C         = AES-128-CBC(key = Kv, IV, PKCS#7 pad(P))    ; RFC 3602, 16·n bytes, n ≥ 1
 * T         = first 16 bytes of HMAC-SHA-256(Km, AD version IV C)   ; RFC 2104, encrypt-then-MAC
 * Km        = HMAC-SHA-256(Kv, "imsec-thig-mac-v1")        ; a MAC key separate from the cipher key
 * AD        = "imsec-thig" 0x00 kind 0x00 domain 0x00      ; kind "via" or "route"; domain = tokenized-by
 * P         = flags text
 * flags     = 1 byte: bits 0-1 the header the run came from (0 Via, 1 Route, 2 Record-Route, 3 Path),
 *             bit 7 "reverse when expanded into a Route" (a Record-Route run hidden in a response:
 *             the UAC reverses its route set, RFC 3261 §12.1.2), bits 2-6 zero
 * text      = UTF-8, the exact original text of the run (entries and separators); a line break
 *             between header fields is written LF name ":" (the next field's name as spelled)
 * ```
 *
 * Why a MAC: CBC alone is malleable — flipping a bit of the IV flips the same bit of the first
 * plaintext block, so an attacker could rewrite a hidden host name unseen, and a padding check
 * catches only some tampering while turning decryption into a padding oracle. Encrypt-then-MAC
 * (HMAC-SHA-256 truncated to 128 bits, verified in constant time BEFORE any decryption) rejects
 * every modified, truncated, re-targeted (other header class or domain) or foreign-key token.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { concatBytes, constantTimeEqual, InvalidArgumentError } from '../../common/index.js';
import type { Rng } from '../../common/index.js';
import { ThigError } from './errors.js';

export const THIG_TOKEN_VERSION = 0x01;
const IV_LEN = 16;
const TAG_LEN = 16;
const BLOCK = 16;
/** Smallest token: version + IV + one cipher block + tag. */
const MIN_BYTES = 1 + IV_LEN + BLOCK + TAG_LEN;
/** Default limit on a token's length in characters (a hidden run of a few dozen entries). */
export const DEFAULT_MAX_TOKEN_CHARS = 8192;

/** The header a hidden run came from. Via tokens open only in Via; the other three are one route class. */
export type HiddenHeader = 'via' | 'route' | 'record-route' | 'path';
const HEADER_CODES: readonly HiddenHeader[] = ['via', 'route', 'record-route', 'path'];

/** What a token carries once opened. */
export interface ThigPayload {
  header: HiddenHeader;
  /** Expand the entries in reverse order when the token shows up in a Route header. */
  reverseInRoute: boolean;
  /** The exact original text of the run (see the module comment for line breaks). */
  text: string;
}

/** 'via' or 'route': the class a header belongs to (bound into the MAC). */
export function tokenKind(header: HiddenHeader): 'via' | 'route' {
  return header === 'via' ? 'via' : 'route';
}

/** The network key Kv with its derived MAC key. Never printed: toString/toJSON/inspect say `[secret]`. */
export class ThigKey {
  /** @internal */ readonly enc: Buffer;
  /** @internal */ readonly mac: Buffer;

  constructor(kv: Uint8Array) {
    if (!(kv instanceof Uint8Array) || kv.length !== 16) throw new InvalidArgumentError('Kv must be 16 bytes (AES-128)', 'kv');
    this.enc = Buffer.from(kv);
    this.mac = createHmac('sha256', this.enc).update('imsec-thig-mac-v1').digest();
  }

  toString(): string {
    return '[secret]';
  }
  toJSON(): string {
    return '[secret]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'ThigKey [secret]';
  }
}

function associatedData(kind: 'via' | 'route', domain: string): Buffer {
  return Buffer.from(`imsec-thig\0${kind}\0${domain.toLowerCase()}\0`, 'utf8');
}

function tag(key: ThigKey, ad: Buffer, head: Uint8Array, ct: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key.mac).update(ad).update(head).update(ct).digest().subarray(0, TAG_LEN));
}

/**
 * Seals a hidden run into a token. The IV comes from `rng` (16 fresh bytes per call), so sealing
 * the same run twice gives two different tokens.
 */
export function sealThigToken(key: ThigKey, rng: Rng, domain: string, payload: ThigPayload): string {
  const code = HEADER_CODES.indexOf(payload.header);
  if (code < 0) throw new InvalidArgumentError(`cannot hide header ${payload.header}`, 'header');
  const flags = code | (payload.reverseInRoute ? 0x80 : 0);
  const plain = concatBytes(Uint8Array.of(flags), new TextEncoder().encode(payload.text));
  const iv = rng.bytes(IV_LEN);
  if (iv.length !== IV_LEN) throw new InvalidArgumentError('Rng returned a short IV', 'rng');
  const c = createCipheriv('aes-128-cbc', key.enc, iv);
  const ct = new Uint8Array(Buffer.concat([c.update(plain), c.final()]));
  const head = concatBytes(Uint8Array.of(THIG_TOKEN_VERSION), iv);
  const t = tag(key, associatedData(tokenKind(payload.header), domain), head, ct);
  return Buffer.from(concatBytes(head, ct, t)).toString('base64url');
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Opens a token found in a header of class `kind`, tokenized by `domain`.
 * 1. Format: base64url without padding, canonical, length 1 + 16 + 16·n + 16 (n ≥ 1), version 1.
 * 2. The MAC over AD, version, IV and C, compared in constant time.
 * 3. CBC decryption and PKCS#7 unpadding.
 * 4. The flags byte (known header of the right class, reserved bits zero) and strict UTF-8 without CR.
 * @throws ThigError with reason 'format', 'auth' or 'content'
 */
export function openThigToken(key: ThigKey, domain: string, kind: 'via' | 'route', token: string, maxChars = DEFAULT_MAX_TOKEN_CHARS): ThigPayload {
  // 1.
  if (token.length > maxChars) throw new ThigError(`THIG token longer than ${maxChars} characters`, 'format');
  if (!B64URL.test(token)) throw new ThigError('THIG token is not base64url', 'format');
  const raw = Buffer.from(token, 'base64url');
  if (raw.toString('base64url') !== token) throw new ThigError('THIG token is not canonical base64url', 'format');
  if (raw.length < MIN_BYTES || (raw.length - 1 - IV_LEN - TAG_LEN) % BLOCK !== 0) throw new ThigError(`THIG token has a bad length (${raw.length} bytes)`, 'format');
  if (raw[0] !== THIG_TOKEN_VERSION) throw new ThigError(`THIG token version ${raw[0]} is not supported`, 'format');
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  const head = bytes.subarray(0, 1 + IV_LEN);
  const ct = bytes.subarray(1 + IV_LEN, bytes.length - TAG_LEN);
  const got = bytes.subarray(bytes.length - TAG_LEN);
  // 2.
  if (!constantTimeEqual(tag(key, associatedData(kind, domain), head, ct), got)) throw new ThigError('THIG token does not authenticate (wrong Kv, domain or header, or tampered)', 'auth');
  // 3.
  let plain: Buffer;
  try {
    const d = createDecipheriv('aes-128-cbc', key.enc, head.subarray(1));
    plain = Buffer.concat([d.update(ct), d.final()]);
  } catch {
    throw new ThigError('THIG token padding is invalid', 'content');
  }
  // 4.
  if (plain.length < 1) throw new ThigError('THIG token is empty', 'content');
  const flags = plain[0];
  if ((flags & 0x7c) !== 0) throw new ThigError('THIG token has reserved flags set', 'content');
  const header = HEADER_CODES[flags & 0x03];
  if (tokenKind(header) !== kind) throw new ThigError('THIG token belongs to another header class', 'content');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(plain.subarray(1));
  } catch {
    throw new ThigError('THIG token text is not UTF-8', 'content');
  }
  if (text.length === 0 || text.includes('\r')) throw new ThigError('THIG token text is empty or holds CR', 'content');
  return { header, reverseInRoute: (flags & 0x80) !== 0, text };
}
