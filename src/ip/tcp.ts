/**
 * TCP segment header (RFC 9293 §3.1):
 * ```
 * |          Source Port          |       Destination Port        |
 * |                        Sequence Number                        |
 * |                    Acknowledgment Number                      |
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 * |           Checksum            |         Urgent Pointer        |
 * |                    Options                    |    Padding    |
 * ```
 * The checksum covers the pseudo-header (protocol 6, TCP length), the header and the data.
 */
import { InvalidArgumentError } from '../common/index.js';
import { ipBytes } from './address.js';
import { finishChecksum, pseudoHeaderSum, sumWords } from './checksum.js';
import { IpParseError } from './errors.js';
import { checkPort, type PseudoHeader } from './udp.js';

export const IPPROTO_TCP = 6;

/** Control bits (RFC 9293 §3.1). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

export interface TcpFields {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** OR of TCP_* bits. */
  flags: number;
  /** Receive window, default 65535. */
  window?: number;
  urgent?: number;
  /** Options, padded with zeros to a multiple of 4 bytes (at most 40). */
  options?: Uint8Array;
}

function u32ok(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new InvalidArgumentError(`${what} must be a 32-bit unsigned integer, got ${v}`, what);
}

/** Encodes a TCP segment with its checksum over the pseudo-header. */
export function encodeTcp(h: TcpFields, payload: Uint8Array, pseudo: PseudoHeader): Uint8Array {
  checkPort(h.srcPort, 'srcPort');
  checkPort(h.dstPort, 'dstPort');
  u32ok(h.seq, 'seq');
  u32ok(h.ack, 'ack');
  const window = h.window ?? 65535;
  const urgent = h.urgent ?? 0;
  if (!Number.isInteger(h.flags) || h.flags < 0 || h.flags > 0xff) throw new InvalidArgumentError(`TCP flags must be 0..255, got ${h.flags}`, 'flags');
  checkPort(window, 'window');
  checkPort(urgent, 'urgent');
  const opts = h.options ?? new Uint8Array(0);
  const optLen = (opts.length + 3) & ~3;
  if (optLen > 40) throw new InvalidArgumentError(`TCP options of ${opts.length} bytes exceed 40`, 'options');
  const hl = 20 + optLen;
  const len = hl + payload.length;
  const src = ipBytes(pseudo.src);
  const dst = ipBytes(pseudo.dst);
  if (src.length !== dst.length) throw new InvalidArgumentError('TCP pseudo-header mixes IPv4 and IPv6', 'address');
  if (src.length === 4 && len > 0xffff - 20) throw new InvalidArgumentError(`TCP segment of ${len} bytes does not fit an IPv4 packet`, 'payload');
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, h.srcPort);
  dv.setUint16(2, h.dstPort);
  dv.setUint32(4, h.seq);
  dv.setUint32(8, h.ack);
  out[12] = (hl / 4) << 4;
  out[13] = h.flags;
  dv.setUint16(14, window);
  dv.setUint16(18, urgent);
  out.set(opts, 20);
  out.set(payload, hl);
  dv.setUint16(16, finishChecksum(sumWords(out, pseudoHeaderSum(src, dst, IPPROTO_TCP, len))));
  return out;
}

export interface DecodedTcp {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  checksum: number;
  urgent: number;
  headerLength: number;
  options: Uint8Array;
  payload: Uint8Array;
}

/** Decodes a TCP segment (the IP payload); with `pseudo`, verifies the checksum. */
export function decodeTcp(b: Uint8Array, pseudo?: PseudoHeader): DecodedTcp {
  if (b.length < 20) throw new IpParseError(`TCP segment of ${b.length} byte(s) is shorter than 20`, 0);
  const hl = (b[12] >>> 4) * 4;
  if (hl < 20 || hl > b.length) throw new IpParseError(`TCP data offset ${hl} outside 20..${b.length}`, 12);
  if (pseudo) {
    const src = ipBytes(pseudo.src);
    const dst = ipBytes(pseudo.dst);
    if (finishChecksum(sumWords(b, pseudoHeaderSum(src, dst, IPPROTO_TCP, b.length))) !== 0) throw new IpParseError('TCP checksum mismatch', 16);
  }
  const u32 = (at: number) => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  return {
    srcPort: (b[0] << 8) | b[1],
    dstPort: (b[2] << 8) | b[3],
    seq: u32(4),
    ack: u32(8),
    flags: b[13],
    window: (b[14] << 8) | b[15],
    checksum: (b[16] << 8) | b[17],
    urgent: (b[18] << 8) | b[19],
    headerLength: hl,
    options: b.subarray(20, hl),
    payload: b.subarray(hl),
  };
}
