/**
 * One ESP security association and its packet processing (RFC 4303): outbound sealing (§3.3)
 * and inbound opening (§3.4) for every TS 33.203 transform.
 *
 * Packet layout (RFC 4303 §2, transport mode; tunnel mode only changes what the payload is):
 * ```
 *  0                   1                   2                   3
 * +---------------------------------------------------------------+
 * |               Security Parameters Index (SPI)                 |
 * |                      Sequence Number                          |
 * |                IV (0, 8 or 16 bytes, see below)               |
 * |                    Payload Data (variable)                    |  ^ encrypted (cbc, gcm)
 * |      Padding (0-255 bytes: 1, 2, 3, ...) | Pad Length | NH    |  v
 * |         Integrity Check Value (12 or 16 bytes)                |
 * +---------------------------------------------------------------+
 * ```
 * - hmac-*-96: ICV = first 96 bits of HMAC over SPI..Next Header (RFC 2403/2404 §2).
 * - aes-cbc: random 16-byte IV (RFC 3602 §3); des-ede3-cbc: random 8-byte IV (RFC 2451 §2.3).
 * - aes-gcm: nonce = salt ‖ 8-byte IV, AAD = SPI ‖ Seq, 16-byte tag (RFC 4106 §3-§5).
 * - aes-gmac: nonce = salt ‖ 8-byte IV, AAD = SPI ‖ Seq ‖ IV ‖ Payload ‖ Padding ‖ Pad Length ‖
 *   Next Header, nothing encrypted, 16-byte tag (RFC 4543 §3).
 *
 * GCM/GMAC IV (RFC 4106 §3.1: it MUST NOT repeat for a key): the 8 bytes are SPI ‖ Seq. In IMS
 * the four SAs of a registration share CK/IK and the salt (Annex I), so a per-SA counter alone
 * would repeat nonces across SAs; the SPI makes them distinct (R-SA-3 keeps the SPIs distinct).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { inspect } from 'node:util';
import { InvalidArgumentError, type Rng } from '../../common/index.js';
import { transformLayout, type EncryptionAlg, type IntegrityAlg, type TransformLayout } from './algorithms.js';
import { EspConfigError, EspSequenceExhaustedError } from './errors.js';
import { hmac96, verifyHmac96, type HmacIntegrityAlg } from './integrity.js';
import { espKeyLengths, type EspKeys } from './keys.js';
import { DEFAULT_REPLAY_WINDOW, ReplayWindow, checkReplayWindowSize } from './replay-window.js';

export interface EspSaParams {
  /** SPI of this SA (RFC 4303 §2.1: 0 is never sent, 1-255 are reserved by IANA). */
  spi: number;
  integrity: IntegrityAlg;
  encryption: EncryptionAlg;
  /** From {@link deriveEspKeys}; kept, not copied (the SAs of a set share them), so not changed after. */
  keys: EspKeys;
  /** Anti-replay window size (RFC 4303 §3.4.3), default 64. */
  replayWindow?: number;
  /**
   * Inspect the padding bytes on receipt (RFC 4303 §2.4: the receiver SHOULD); default true.
   * A mismatch drops the packet as malformed.
   */
  checkPadding?: boolean;
  /** Last outbound sequence number already used (default 0: the first packet carries 1). */
  initialSeq?: number;
  /**
   * Accept an SPI in the IANA-reserved range 1..255 (default false). Only for reading what other
   * equipment put on the wire (capture analysis): real P-CSCFs have been seen using SPIs 100, 101.
   */
  allowReservedSpi?: boolean;
}

/** Per-SA counters; drops are counted, never thrown. */
export interface EspCounters {
  sealed: number;
  opened: number;
  droppedIcv: number;
  droppedReplay: number;
  droppedMalformed: number;
  droppedSpi: number;
}

export type EspDropReason = 'malformed' | 'spi' | 'icv' | 'replay';

export type OpenResult =
  | {
      ok: true;
      /** Payload Data (may share memory with the packet when nothing was encrypted). */
      payload: Uint8Array;
      /** Next Header (17 UDP, 6 TCP, 4 IPv4 / 41 IPv6 in tunnel mode, 59 dummy). */
      nextHeader: number;
      seq: number;
    }
  | { ok: false; reason: EspDropReason };

const GCM_ICV = 16;

type Mode = 'hmac-null' | 'hmac-cbc' | 'gcm' | 'gmac';

function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/** A plain Uint8Array view of a Buffer (no copy), so callers get standard slice() semantics. */
function plain(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

/** What a transform decides for every SA that uses it: one frozen record per pair, shared. */
interface Transform {
  readonly integrity: IntegrityAlg;
  readonly encryption: EncryptionAlg;
  readonly layout: TransformLayout;
  readonly mode: Mode;
  readonly hmac: HmacIntegrityAlg;
  readonly cipher: 'aes-128-cbc' | 'des-ede3-cbc' | '';
}

const TRANSFORMS = new Map<string, Transform>();

/** The shared record of a transform; throws ESP_CONFIG for an invalid pair. */
function transformOf(integrity: IntegrityAlg, encryption: EncryptionAlg): Transform {
  const key = `${integrity}/${encryption}`;
  let t = TRANSFORMS.get(key);
  if (t === undefined) {
    const layout = transformLayout(integrity, encryption);
    const cipher = encryption === 'aes-cbc' ? 'aes-128-cbc' : encryption === 'des-ede3-cbc' ? 'des-ede3-cbc' : '';
    const mode: Mode = encryption === 'aes-gcm' ? 'gcm' : integrity === 'aes-gmac' ? 'gmac' : cipher ? 'hmac-cbc' : 'hmac-null';
    t = Object.freeze({ integrity, encryption, layout, mode, hmac: integrity === 'hmac-md5-96' ? 'hmac-md5-96' : 'hmac-sha-1-96', cipher });
    TRANSFORMS.set(key, t);
  }
  return t;
}

/**
 * An ESP SA: algorithms and keys (prepared once), the outbound sequence counter and the
 * inbound replay window. A real SA is one-way; the same object serves either direction.
 *
 * Compact, since a P-CSCF holds four per registered UE (TS 33.203 §7.1): the transform's
 * properties are one shared record, and the counters are fields of the SA, not an object of
 * their own.
 */
export class EspSa {
  readonly spi: number;
  readonly checkPadding: boolean;
  readonly #t: Transform;
  #sealed = 0;
  #opened = 0;
  #droppedIcv = 0;
  #droppedReplay = 0;
  #droppedMalformed = 0;
  #droppedSpi = 0;
  // Key material is held privately and is left out of toJSON() and inspect().
  readonly #ik: Uint8Array;
  readonly #ck: Uint8Array;
  readonly #salt: Uint8Array;
  #seq: number;
  readonly #replaySize: number;
  #replay: ReplayWindow | undefined;

  constructor(p: EspSaParams) {
    if (!Number.isInteger(p.spi) || p.spi < (p.allowReservedSpi ? 1 : 256) || p.spi > 0xffffffff) {
      throw new EspConfigError(`SPI must be an integer in 256..2^32-1 (RFC 4303 §2.1), got ${p.spi}`);
    }
    this.#t = transformOf(p.integrity, p.encryption);
    const want = espKeyLengths(p.integrity, p.encryption);
    if (p.keys.integrityKey.length !== want.integrity || p.keys.encryptionKey.length !== want.encryption || p.keys.salt.length !== want.salt) {
      throw new EspConfigError(
        `keys for ${p.integrity}/${p.encryption} must be ${want.integrity}/${want.encryption}/${want.salt} bytes (integrity/encryption/salt), got ` +
          `${p.keys.integrityKey.length}/${p.keys.encryptionKey.length}/${p.keys.salt.length}`,
      );
    }
    const seq0 = p.initialSeq ?? 0;
    if (!Number.isInteger(seq0) || seq0 < 0 || seq0 > 0xffffffff) throw new InvalidArgumentError(`initialSeq out of range: ${seq0}`, 'initialSeq');
    this.spi = p.spi;
    this.#replaySize = p.replayWindow ?? DEFAULT_REPLAY_WINDOW;
    checkReplayWindowSize(this.#replaySize);
    this.checkPadding = p.checkPadding ?? true;
    // Kept, not copied: the four SAs of a set share the arrays deriveEspKeys made for it.
    this.#ik = p.keys.integrityKey;
    this.#ck = p.keys.encryptionKey;
    this.#salt = p.keys.salt;
    this.#seq = seq0;
  }

  get integrity(): IntegrityAlg {
    return this.#t.integrity;
  }

  get encryption(): EncryptionAlg {
    return this.#t.encryption;
  }

  get layout(): TransformLayout {
    return this.#t.layout;
  }

  /** The SA's counters as they are now (a copy; drops are counted, never thrown). */
  get counters(): EspCounters {
    return { sealed: this.#sealed, opened: this.#opened, droppedIcv: this.#droppedIcv, droppedReplay: this.#droppedReplay, droppedMalformed: this.#droppedMalformed, droppedSpi: this.#droppedSpi };
  }

  /**
   * The inbound anti-replay window (RFC 4303 §3.4.3), made when first asked for: an SA that
   * never receives (the outbound half of every set) holds none.
   */
  get replay(): ReplayWindow {
    return (this.#replay ??= new ReplayWindow(this.#replaySize));
  }

  /** The sequence number of the last sealed packet (0 before the first). */
  get lastSeq(): number {
    return this.#seq;
  }

  /** Length of the ESP packet that {@link seal} makes from a payload of `payloadLength` bytes. */
  sealedLength(payloadLength: number): number {
    const L = this.layout;
    const body = payloadLength + 2;
    return 8 + L.ivLength + body + ((L.align - (body % L.align)) % L.align) + L.icvLength;
  }

  /**
   * RFC 4303 §3.3: builds the next outbound packet. See {@link seal}. The result is a fresh
   * Uint8Array (it may sit at a non-zero byteOffset of a pooled ArrayBuffer).
   */
  seal(payload: Uint8Array, nextHeader: number, rng: Rng): Uint8Array {
    if (!Number.isInteger(nextHeader) || nextHeader < 0 || nextHeader > 255) {
      throw new InvalidArgumentError(`next header must be 0..255, got ${nextHeader}`, 'nextHeader');
    }
    // §3.3.3: the counter must not cycle (no ESN in TS 33.203).
    if (this.#seq >= 0xffffffff) throw new EspSequenceExhaustedError(this.spi);
    const t = this.#t;
    const L = t.layout;
    // RFC 3602 §3 / RFC 2451 §2.3: an unpredictable IV per packet, from the injected Rng.
    const iv = t.mode === 'hmac-cbc' ? rng.bytes(L.ivLength) : undefined;
    if (iv && iv.length !== L.ivLength) throw new InvalidArgumentError(`rng returned ${iv.length} bytes for a ${L.ivLength}-byte IV`, 'rng');
    const seq = ++this.#seq;
    const hdr = 8 + L.ivLength;
    const padLen = (L.align - ((payload.length + 2) % L.align)) % L.align;
    const ptLen = payload.length + padLen + 2;
    const end = hdr + ptLen;
    const out = Buffer.allocUnsafe(end + L.icvLength);
    putU32(out, 0, this.spi);
    putU32(out, 4, seq);
    // §2.4 default padding: 1, 2, 3, ...; then Pad Length and Next Header.
    out.set(payload, hdr);
    let at = hdr + payload.length;
    for (let i = 1; i <= padLen; i++) out[at++] = i;
    out[at++] = padLen;
    out[at] = nextHeader;

    switch (t.mode) {
      case 'hmac-null':
        break;
      case 'hmac-cbc': {
        out.set(iv!, 8);
        const c = createCipheriv(t.cipher, this.#ck, iv!).setAutoPadding(false);
        const ct = c.update(out.subarray(hdr, end));
        ct.copy(out, hdr);
        c.final().copy(out, hdr + ct.length);
        break;
      }
      case 'gcm':
      case 'gmac': {
        putU32(out, 8, this.spi);
        putU32(out, 12, seq);
        const nonce = Buffer.concat([this.#salt, out.subarray(8, 16)]);
        if (t.mode === 'gcm') {
          const c = createCipheriv('aes-128-gcm', this.#ck, nonce, { authTagLength: GCM_ICV });
          c.setAAD(out.subarray(0, 8));
          const ct = c.update(out.subarray(hdr, end));
          ct.copy(out, hdr);
          c.final();
          c.getAuthTag().copy(out, end);
        } else {
          const c = createCipheriv('aes-128-gcm', this.#ik, nonce, { authTagLength: GCM_ICV });
          c.setAAD(out.subarray(0, end));
          c.final();
          c.getAuthTag().copy(out, end);
        }
        this.#sealed++;
        return plain(out);
      }
    }
    out.set(hmac96(t.hmac, this.#ik, out.subarray(0, end)), end);
    this.#sealed++;
    return plain(out);
  }

  /**
   * RFC 4303 §3.4: SPI and length checks, replay pre-check (§3.4.3), ICV verification in
   * constant time before decryption (§3.4.4), window update, decryption and trailer checks.
   * Never throws for any packet bytes; every drop is counted.
   */
  open(packet: Uint8Array): OpenResult {
    const t = this.#t;
    const L = t.layout;
    const n = packet.length;
    const hdr = 8 + L.ivLength;
    const ctLen = n - hdr - L.icvLength;
    if (ctLen < 2 || (L.blockCipher && ctLen % L.align !== 0)) return this.drop('malformed');
    if (u32(packet, 0) !== this.spi) return this.drop('spi');
    const seq = u32(packet, 4);
    // 1. Replay pre-check: cheap, before any cryptography.
    if (this.replay.check(seq) !== 'new') return this.drop('replay');
    const end = hdr + ctLen;
    const icv = packet.subarray(end, n);
    let pt: Uint8Array;
    // 2. ICV verification (AEAD modes verify while decrypting; OpenSSL compares the tag in constant time).
    switch (t.mode) {
      case 'hmac-null':
      case 'hmac-cbc': {
        if (!verifyHmac96(t.hmac, this.#ik, packet.subarray(0, end), icv)) return this.drop('icv');
        pt = packet.subarray(hdr, end);
        break;
      }
      case 'gcm': {
        const nonce = Buffer.concat([this.#salt, packet.subarray(8, 16)]);
        try {
          const d = createDecipheriv('aes-128-gcm', this.#ck, nonce, { authTagLength: GCM_ICV });
          d.setAuthTag(icv);
          d.setAAD(packet.subarray(0, 8));
          const p = d.update(packet.subarray(hdr, end));
          d.final();
          pt = p;
        } catch {
          return this.drop('icv');
        }
        break;
      }
      case 'gmac': {
        const nonce = Buffer.concat([this.#salt, packet.subarray(8, 16)]);
        try {
          const d = createDecipheriv('aes-128-gcm', this.#ik, nonce, { authTagLength: GCM_ICV });
          d.setAuthTag(icv);
          d.setAAD(packet.subarray(0, end));
          d.final();
        } catch {
          return this.drop('icv');
        }
        pt = packet.subarray(hdr, end);
        break;
      }
    }
    // 3. The packet is authentic: only now may it move the window.
    this.replay.update(seq);
    // 4. Decrypt (CBC).
    if (t.mode === 'hmac-cbc') {
      const d = createDecipheriv(t.cipher, this.#ck, packet.subarray(8, hdr)).setAutoPadding(false);
      const a = d.update(packet.subarray(hdr, end));
      const b = d.final();
      pt = b.length ? Buffer.concat([a, b]) : a;
    }
    // 5. Trailer: Pad Length must fit, padding must be 1, 2, 3, ... (§2.4).
    const padLen = pt[ctLen - 2];
    const nextHeader = pt[ctLen - 1];
    if (padLen > ctLen - 2) return this.drop('malformed');
    const payloadLen = ctLen - 2 - padLen;
    if (this.checkPadding) {
      for (let i = 0; i < padLen; i++) if (pt[payloadLen + i] !== i + 1) return this.drop('malformed');
    }
    this.#opened++;
    return { ok: true, payload: new Uint8Array(pt.buffer, pt.byteOffset, payloadLen), nextHeader, seq };
  }

  private drop(reason: EspDropReason): OpenResult {
    if (reason === 'icv') this.#droppedIcv++;
    else if (reason === 'replay') this.#droppedReplay++;
    else if (reason === 'spi') this.#droppedSpi++;
    else this.#droppedMalformed++;
    return { ok: false, reason };
  }

  /** Key-free description (safe to log). */
  toJSON(): { spi: number; integrity: IntegrityAlg; encryption: EncryptionAlg; lastSeq: number; replayTop: number; counters: EspCounters } {
    return { spi: this.spi, integrity: this.integrity, encryption: this.encryption, lastSeq: this.#seq, replayTop: this.replay.top, counters: this.counters };
  }

  [inspect.custom](): string {
    return `EspSa ${inspect(this.toJSON())}`;
  }
}

/** RFC 4303 §3.3: seal `payload` (next header `nextHeader`) into the SA's next ESP packet. */
export function seal(sa: EspSa, payload: Uint8Array, nextHeader: number, rng: Rng): Uint8Array {
  return sa.seal(payload, nextHeader, rng);
}

/** RFC 4303 §3.4: open an inbound ESP packet; drops are returned and counted, never thrown. */
export function open(sa: EspSa, packet: Uint8Array): OpenResult {
  return sa.open(packet);
}
