/**
 * Diameter message header and whole-message codec, RFC 6733 §3.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    Version    |                 Message Length                |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Command Flags |                  Command Code                 |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Application-ID                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      Hop-by-Hop Identifier                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      End-to-End Identifier                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  AVPs ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-
 * Command Flags: R(equest) P(roxiable) E(rror) T(potentially retransmitted) r r r r
 * ```
 * "The Message Length field is always a multiple of 4" (§3). Decoding is pure and bounds-checked;
 * a decoded message re-encodes to the same bytes (padding aside, which is always written as zeros).
 */
import { InvalidArgumentError } from '../../common/index.js';
import { DiameterParseError } from '../errors.js';
import { type Avp, avpsLength, decodeAvps, writeAvps } from './avp.js';

/** RFC 6733 §3: the 'R' bit, the message is a request. */
export const FLAG_REQUEST = 0x80;
/** RFC 6733 §3: the 'P' bit, the message may be proxied, relayed or redirected. */
export const FLAG_PROXIABLE = 0x40;
/** RFC 6733 §3: the 'E' bit, the answer carries a protocol error (§7.1.3). */
export const FLAG_ERROR = 0x20;
/** RFC 6733 §3: the 'T' bit, the request may be a retransmission after a link failover. */
export const FLAG_RETRANSMIT = 0x10;

/** Header length in bytes. */
export const HEADER_LENGTH = 20;
/** Largest value of the 24-bit Message Length field. */
export const MAX_MESSAGE_LENGTH = 0xffffff;

/** A decoded (or to-be-encoded) Diameter message. */
export interface DiameterMessage {
  /** Command Flags (R, P, E, T); the reserved bits are carried as received. */
  flags: number;
  commandCode: number;
  applicationId: number;
  hopByHop: number;
  endToEnd: number;
  avps: Avp[];
}

export function isRequest(m: DiameterMessage): boolean {
  return (m.flags & FLAG_REQUEST) !== 0;
}
export function isProxiable(m: DiameterMessage): boolean {
  return (m.flags & FLAG_PROXIABLE) !== 0;
}
export function isError(m: DiameterMessage): boolean {
  return (m.flags & FLAG_ERROR) !== 0;
}

/** The fixed header fields of an encoded message, read without decoding the AVPs. */
export interface DiameterHeader {
  version: number;
  length: number;
  flags: number;
  commandCode: number;
  applicationId: number;
  hopByHop: number;
  endToEnd: number;
}

const u32 = (b: Uint8Array, at: number): number => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

/**
 * Reads and checks the 20-byte header at `offset`.
 * @throws DiameterParseError 5011 DIAMETER_UNSUPPORTED_VERSION for a version other than 1,
 *   5015 DIAMETER_INVALID_MESSAGE_LENGTH for a length under 20 or not a multiple of 4, 3008
 *   DIAMETER_INVALID_HDR_BITS for a request with the 'E' bit (§3: "MUST NOT be set in requests").
 */
export function decodeHeader(bytes: Uint8Array, offset = 0): DiameterHeader {
  if (bytes.length - offset < HEADER_LENGTH) {
    throw new DiameterParseError(`truncated header: ${bytes.length - offset} of ${HEADER_LENGTH} bytes`, offset, 5015);
  }
  const version = bytes[offset];
  if (version !== 1) throw new DiameterParseError(`unsupported Diameter version ${version}`, offset, 5011);
  const length = (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
  if (length < HEADER_LENGTH || length % 4 !== 0) {
    throw new DiameterParseError(`invalid Message Length ${length} (must be >= 20 and a multiple of 4)`, offset + 1, 5015);
  }
  const flags = bytes[offset + 4];
  if ((flags & FLAG_REQUEST) !== 0 && (flags & FLAG_ERROR) !== 0) {
    throw new DiameterParseError("request with the 'E' bit set", offset + 4, 3008);
  }
  return {
    version,
    length,
    flags,
    commandCode: (bytes[offset + 5] << 16) | (bytes[offset + 6] << 8) | bytes[offset + 7],
    applicationId: u32(bytes, offset + 8),
    hopByHop: u32(bytes, offset + 12),
    endToEnd: u32(bytes, offset + 16),
  };
}

/**
 * Decodes exactly one message filling `bytes`. AVP data are views into `bytes`: copy the buffer
 * first if it will be reused (the framer hands out fresh buffers).
 * @throws DiameterParseError on any framing error (see {@link decodeHeader}, {@link decodeAvps}).
 */
export function decodeMessage(bytes: Uint8Array): DiameterMessage {
  const h = decodeHeader(bytes, 0);
  if (h.length !== bytes.length) {
    throw new DiameterParseError(`Message Length ${h.length} does not match the ${bytes.length} byte(s) given`, 1, 5015);
  }
  return {
    flags: h.flags,
    commandCode: h.commandCode,
    applicationId: h.applicationId,
    hopByHop: h.hopByHop,
    endToEnd: h.endToEnd,
    avps: decodeAvps(bytes, HEADER_LENGTH, h.length),
  };
}

/** Encodes a message (version 1). */
export function encodeMessage(m: DiameterMessage): Uint8Array {
  const length = HEADER_LENGTH + avpsLength(m.avps);
  if (length > MAX_MESSAGE_LENGTH) throw new InvalidArgumentError(`message of ${length} bytes exceeds the 24-bit Message Length`);
  const out = new Uint8Array(length);
  out[0] = 1;
  out[1] = length >>> 16;
  out[2] = length >>> 8;
  out[3] = length;
  out[4] = m.flags;
  out[5] = m.commandCode >>> 16;
  out[6] = m.commandCode >>> 8;
  out[7] = m.commandCode;
  writeU32(out, 8, m.applicationId);
  writeU32(out, 12, m.hopByHop);
  writeU32(out, 16, m.endToEnd);
  writeAvps(out, HEADER_LENGTH, m.avps);
  return out;
}

function writeU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = v >>> 16;
  out[at + 2] = v >>> 8;
  out[at + 3] = v;
}

/**
 * The answer skeleton for a request (RFC 6733 §6.2): same Command Code, Application-ID,
 * Hop-by-Hop and End-to-End identifiers; 'R' cleared, 'P' copied; 'E' set when `error`.
 */
export function answerHeaderFor(request: DiameterMessage, error = false): Omit<DiameterMessage, 'avps'> {
  return {
    flags: (request.flags & FLAG_PROXIABLE) | (error ? FLAG_ERROR : 0),
    commandCode: request.commandCode,
    applicationId: request.applicationId,
    hopByHop: request.hopByHop,
    endToEnd: request.endToEnd,
  };
}
