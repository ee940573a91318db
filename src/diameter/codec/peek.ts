/**
 * What an observer of every message needs, read in place from one framed message without
 * decoding its AVPs: the header's R bit, Command Code and Hop-by-Hop Identifier (RFC 6733 §3) and
 * the result of an answer (§7.1 Result-Code, §7.6 Experimental-Result, TS 29.229 §6.2). Decoding
 * every message a second time for metrics cost as much as the node's own decoding.
 */
import { AVP_FLAG_VENDOR } from './avp.js';
import { HEADER_LENGTH } from './message.js';

const RESULT_CODE = 268;
const VENDOR_ID = 266;
const EXPERIMENTAL_RESULT = 297;
const EXPERIMENTAL_RESULT_CODE = 298;

export interface PeekedHeader {
  request: boolean;
  commandCode: number;
  hopByHop: number;
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/** The header fields of one framed message (`raw` starts with its header: the framer checked it). */
export function peekHeader(raw: Uint8Array): PeekedHeader {
  return { request: (raw[4] & 0x80) !== 0, commandCode: (raw[5] << 16) | (raw[6] << 8) | raw[7], hopByHop: u32(raw, 12) };
}

/**
 * The first base-protocol AVP (no Vendor-Id, or Vendor-Id 0, as `findAvp` matches) whose code is
 * `code` among the AVPs filling `[start, end)`: where its data lie. Undefined when none is there or
 * when the region does not frame by the rules of `decodeAvps` (so whatever would not decode has no
 * result here either).
 */
function findBaseAvp(b: Uint8Array, start: number, end: number, code: number): { at: number; length: number } | undefined {
  let found: { at: number; length: number } | undefined;
  for (let at = start; at < end; ) {
    if (end - at < 8) return undefined;
    const length = (b[at + 5] << 16) | (b[at + 6] << 8) | b[at + 7];
    const header = b[at + 4] & AVP_FLAG_VENDOR ? 12 : 8;
    const padded = (length + 3) & ~3;
    if (length < header || padded > end - at) return undefined;
    if (found === undefined && u32(b, at) === code && (header === 8 || u32(b, at + 8) === 0)) found = { at: at + header, length: length - header };
    at += padded;
  }
  return found;
}

function unsigned32(b: Uint8Array, avp: { at: number; length: number } | undefined): number | undefined {
  return avp !== undefined && avp.length === 4 ? u32(b, avp.at) : undefined;
}

/**
 * The Result-Code of a framed answer or, without one, the Experimental-Result-Code of its
 * Experimental-Result (which must carry a Vendor-Id too): the same result `readResult` gives for
 * the decoded message. Undefined when it has neither, or when what it has does not decode.
 */
export function peekResultCode(raw: Uint8Array): number | undefined {
  const end = (raw[1] << 16) | (raw[2] << 8) | raw[3];
  if (end < HEADER_LENGTH || end !== raw.length) return undefined;
  const rc = findBaseAvp(raw, HEADER_LENGTH, end, RESULT_CODE);
  if (rc !== undefined) return unsigned32(raw, rc);
  const er = findBaseAvp(raw, HEADER_LENGTH, end, EXPERIMENTAL_RESULT);
  if (er === undefined) return undefined;
  const innerEnd = er.at + er.length;
  if (unsigned32(raw, findBaseAvp(raw, er.at, innerEnd, VENDOR_ID)) === undefined) return undefined;
  return unsigned32(raw, findBaseAvp(raw, er.at, innerEnd, EXPERIMENTAL_RESULT_CODE));
}
