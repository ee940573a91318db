/**
 * UDP (RFC 768):
 * ```
 * |          Source Port          |       Destination Port        |
 * |            Length             |           Checksum            |
 * ```
 * The checksum covers a pseudo-header (addresses, protocol 17, length), the UDP header and
 * the data; a computed 0 is sent as 0xffff, and 0 on the wire means "no checksum" (IPv4 only:
 * RFC 8200 §8.1 makes it mandatory over IPv6).
 */
import { InvalidArgumentError } from '../common/index.js';
import { ipBytes } from './address.js';
import { finishChecksum, pseudoHeaderSum, sumWords } from './checksum.js';
import { IpParseError } from './errors.js';

export const IPPROTO_UDP = 17;

/** Addresses of the enclosing IP packet (for the checksum pseudo-header). */
export interface PseudoHeader {
  src: string | Uint8Array;
  dst: string | Uint8Array;
}

export function checkPort(p: number, what: string): void {
  if (!Number.isInteger(p) || p < 0 || p > 0xffff) throw new InvalidArgumentError(`${what} must be 0..65535, got ${p}`, what);
}

/**
 * Encodes a UDP datagram with its checksum. `zeroChecksum` sends 0 instead (IPv4 only; RFC 3948
 * §2.1 lets UDP-encapsulated ESP do so).
 */
export function encodeUdp(srcPort: number, dstPort: number, payload: Uint8Array, pseudo: PseudoHeader, opts: { zeroChecksum?: boolean } = {}): Uint8Array {
  checkPort(srcPort, 'srcPort');
  checkPort(dstPort, 'dstPort');
  const len = 8 + payload.length;
  if (len > 0xffff) throw new InvalidArgumentError(`UDP datagram of ${len} bytes exceeds 65535`, 'payload');
  const src = ipBytes(pseudo.src);
  const dst = ipBytes(pseudo.dst);
  if (src.length !== dst.length) throw new InvalidArgumentError('UDP pseudo-header mixes IPv4 and IPv6', 'address');
  if (opts.zeroChecksum && src.length === 16) throw new InvalidArgumentError('a zero UDP checksum is not allowed over IPv6', 'zeroChecksum');
  const out = new Uint8Array(len);
  out[0] = srcPort >>> 8;
  out[1] = srcPort & 0xff;
  out[2] = dstPort >>> 8;
  out[3] = dstPort & 0xff;
  out[4] = len >>> 8;
  out[5] = len & 0xff;
  out.set(payload, 8);
  if (!opts.zeroChecksum) {
    const ck = finishChecksum(sumWords(out, pseudoHeaderSum(src, dst, IPPROTO_UDP, len))) || 0xffff;
    out[6] = ck >>> 8;
    out[7] = ck & 0xff;
  }
  return out;
}

export interface DecodedUdp {
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
  /** The data (a view), cut at the UDP Length. */
  payload: Uint8Array;
}

/**
 * Decodes a UDP datagram (the IP payload). With `pseudo`, a non-zero checksum is verified
 * (and a zero one refused over IPv6).
 */
export function decodeUdp(b: Uint8Array, pseudo?: PseudoHeader): DecodedUdp {
  if (b.length < 8) throw new IpParseError(`UDP datagram of ${b.length} byte(s) is shorter than 8`, 0);
  const length = (b[4] << 8) | b[5];
  if (length < 8 || length > b.length) throw new IpParseError(`UDP length ${length} outside 8..${b.length}`, 4);
  const checksum = (b[6] << 8) | b[7];
  if (pseudo) {
    const src = ipBytes(pseudo.src);
    const dst = ipBytes(pseudo.dst);
    if (checksum === 0) {
      if (src.length === 16) throw new IpParseError('zero UDP checksum over IPv6', 6);
    } else if (finishChecksum(sumWords(b.subarray(0, length), pseudoHeaderSum(src, dst, IPPROTO_UDP, length))) !== 0) {
      throw new IpParseError('UDP checksum mismatch', 6);
    }
  }
  return { srcPort: (b[0] << 8) | b[1], dstPort: (b[2] << 8) | b[3], length, checksum, payload: b.subarray(8, length) };
}
