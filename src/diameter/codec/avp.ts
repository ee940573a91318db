/**
 * AVP framing, RFC 6733 §4.1. An {@link Avp} keeps its data as raw bytes, so AVPs this code does
 * not know are carried and re-encoded unchanged; typed values are read and written through
 * `codec/types.ts` and the dictionary.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           AVP Code                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V M P r r r r r|                  AVP Length                   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Vendor-ID (opt)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    Data ...
 * +-+-+-+-+-+-+-+-+
 * ```
 * AVP Length counts the header, the Vendor-ID when present and the data, never the padding;
 * each AVP is padded with zero bytes to a multiple of four (§4.1, "AVP Length").
 */
import { InvalidArgumentError } from '../../common/index.js';
import { DiameterParseError } from '../errors.js';
import type { Avp } from './avp-model.js';

/** RFC 6733 §4.1: the 'V' bit, Vendor-ID field present. */
export const AVP_FLAG_VENDOR = 0x80;
/** RFC 6733 §4.1: the 'M' bit, support of the AVP is required. */
export const AVP_FLAG_MANDATORY = 0x40;
/** RFC 6733 §4.1: the 'P' bit (reserved for end-to-end security; RFC 6733 keeps it for compatibility). */
export const AVP_FLAG_PROTECTED = 0x20;

/** RFC 6733 §7.1.3 / §7.1.5 result codes the AVP framing can raise. */
const DIAMETER_INVALID_AVP_LENGTH = 5014;

export type { Avp } from './avp-model.js';

/** Header length: 8, or 12 with a Vendor-ID. */
export function avpHeaderLength(flags: number): number {
  return flags & AVP_FLAG_VENDOR ? 12 : 8;
}

/** Encoded length of one AVP including its padding. */
export function avpPaddedLength(avp: Avp): number {
  return (avpHeaderLength(avp.flags) + avp.data.length + 3) & ~3;
}

/** Encoded length of a list of AVPs, each padded. */
export function avpsLength(avps: readonly Avp[]): number {
  let n = 0;
  for (const a of avps) n += avpPaddedLength(a);
  return n;
}

/** Maximum AVP Length (24-bit field). */
export const MAX_AVP_LENGTH = 0xffffff;

/**
 * Writes `avps` into `out` from `offset` (which must have room: {@link avpsLength}); padding
 * bytes are written as zeros. Returns the offset after the last AVP.
 */
export function writeAvps(out: Uint8Array, offset: number, avps: readonly Avp[]): number {
  let at = offset;
  for (const a of avps) {
    const hdr = avpHeaderLength(a.flags);
    const len = hdr + a.data.length;
    if (len > MAX_AVP_LENGTH) throw new InvalidArgumentError(`AVP ${a.code} is ${len} bytes, over the 24-bit AVP Length`);
    out[at] = a.code >>> 24;
    out[at + 1] = a.code >>> 16;
    out[at + 2] = a.code >>> 8;
    out[at + 3] = a.code;
    out[at + 4] = a.flags;
    out[at + 5] = len >>> 16;
    out[at + 6] = len >>> 8;
    out[at + 7] = len;
    if (hdr === 12) {
      out[at + 8] = a.vendorId >>> 24;
      out[at + 9] = a.vendorId >>> 16;
      out[at + 10] = a.vendorId >>> 8;
      out[at + 11] = a.vendorId;
    }
    out.set(a.data, at + hdr);
    at += len;
    const pad = (4 - (len & 3)) & 3;
    for (let i = 0; i < pad; i++) out[at++] = 0;
  }
  return at;
}

/** Encodes a list of AVPs (the data of a Grouped AVP, RFC 6733 §4.4). */
export function encodeAvps(avps: readonly Avp[]): Uint8Array {
  const out = new Uint8Array(avpsLength(avps));
  writeAvps(out, 0, avps);
  return out;
}

/**
 * Decodes the AVPs in `bytes[start, end)`. Every length is checked against the bytes actually
 * present before anything is read or sliced; data are views into `bytes` (no copy). Padding must
 * be present (the region's length accounts for it) but its value is ignored (§4.1: "MUST be
 * ignored by the receiver").
 *
 * @throws DiameterParseError (resultCode 5014 DIAMETER_INVALID_AVP_LENGTH) on a length field
 *   that is too small or points past the region.
 */
export function decodeAvps(bytes: Uint8Array, start = 0, end = bytes.length): Avp[] {
  const avps: Avp[] = [];
  let at = start;
  while (at < end) {
    if (end - at < 8) throw new DiameterParseError(`truncated AVP header: ${end - at} byte(s) left`, at, DIAMETER_INVALID_AVP_LENGTH);
    const code = ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
    const flags = bytes[at + 4];
    const len = (bytes[at + 5] << 16) | (bytes[at + 6] << 8) | bytes[at + 7];
    const hdr = flags & AVP_FLAG_VENDOR ? 12 : 8;
    if (len < hdr) throw new DiameterParseError(`AVP ${code}: length ${len} is shorter than its ${hdr}-byte header`, at, DIAMETER_INVALID_AVP_LENGTH);
    const padded = (len + 3) & ~3;
    if (padded > end - at) {
      throw new DiameterParseError(`AVP ${code}: length ${len} (padded ${padded}) exceeds the ${end - at} byte(s) left`, at, DIAMETER_INVALID_AVP_LENGTH);
    }
    const vendorId = hdr === 12 ? ((bytes[at + 8] << 24) | (bytes[at + 9] << 16) | (bytes[at + 10] << 8) | bytes[at + 11]) >>> 0 : 0;
    avps.push({ code, flags, vendorId, data: bytes.subarray(at + hdr, at + len) });
    at += padded;
  }
  return avps;
}

/** Builds a raw AVP; the 'V' bit is set exactly when `vendorId` is non-zero. */
export function rawAvp(code: number, data: Uint8Array, opts: { vendorId?: number; mandatory?: boolean; protected?: boolean } = {}): Avp {
  const vendorId = opts.vendorId ?? 0;
  let flags = 0;
  if (vendorId !== 0) flags |= AVP_FLAG_VENDOR;
  if (opts.mandatory) flags |= AVP_FLAG_MANDATORY;
  if (opts.protected) flags |= AVP_FLAG_PROTECTED;
  return { code: code >>> 0, flags, vendorId: vendorId >>> 0, data };
}

/** True when the AVP's 'M' bit is set. */
export function isMandatory(avp: Avp): boolean {
  return (avp.flags & AVP_FLAG_MANDATORY) !== 0;
}
