/**
 * IPv4 header (RFC 791 §3.1), without options on encode:
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |Version|  IHL  |Type of Service|          Total Length         |
 * |         Identification        |Flags|      Fragment Offset    |
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * |                       Source Address                          |
 * |                    Destination Address                        |
 * |                    Options                    |    Padding    |
 * ```
 */
import { InvalidArgumentError } from '../common/index.js';
import { ipBytes } from './address.js';
import { internetChecksum } from './checksum.js';
import { IpParseError } from './errors.js';

export interface Ipv4Fields {
  src: string | Uint8Array;
  dst: string | Uint8Array;
  /** IANA protocol number: 17 UDP, 6 TCP, 50 ESP, 4 IPv4-in-IPv4. */
  protocol: number;
  /** Time to Live, default 64. */
  ttl?: number;
  /** Identification, default 0. */
  id?: number;
  /** Type of Service / DSCP+ECN byte, default 0. */
  tos?: number;
  /** DF flag, default false. */
  dontFragment?: boolean;
}

function checkU(v: number, bits: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new InvalidArgumentError(`${what} must fit in ${bits} bits, got ${v}`, what);
}

/** Encodes a 20-byte IPv4 header (checksum filled in) followed by `payload`. */
export function encodeIpv4(h: Ipv4Fields, payload: Uint8Array): Uint8Array {
  const src = ipBytes(h.src);
  const dst = ipBytes(h.dst);
  if (src.length !== 4 || dst.length !== 4) throw new InvalidArgumentError('IPv4 packet needs IPv4 addresses', 'address');
  const ttl = h.ttl ?? 64;
  const id = h.id ?? 0;
  const tos = h.tos ?? 0;
  checkU(h.protocol, 8, 'protocol');
  checkU(ttl, 8, 'ttl');
  checkU(id, 16, 'id');
  checkU(tos, 8, 'tos');
  const total = 20 + payload.length;
  if (total > 0xffff) throw new InvalidArgumentError(`IPv4 packet of ${total} bytes exceeds 65535`, 'payload');
  const out = new Uint8Array(total);
  out[0] = 0x45;
  out[1] = tos;
  out[2] = total >>> 8;
  out[3] = total & 0xff;
  out[4] = id >>> 8;
  out[5] = id & 0xff;
  out[6] = h.dontFragment ? 0x40 : 0;
  out[8] = ttl;
  out[9] = h.protocol;
  out.set(src, 12);
  out.set(dst, 16);
  const ck = internetChecksum(out.subarray(0, 20));
  out[10] = ck >>> 8;
  out[11] = ck & 0xff;
  out.set(payload, 20);
  return out;
}

export interface DecodedIpv4 {
  version: 4;
  src: Uint8Array;
  dst: Uint8Array;
  protocol: number;
  ttl: number;
  id: number;
  tos: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment offset in bytes. */
  fragmentOffset: number;
  headerLength: number;
  /** Upper-layer bytes (a view), cut at Total Length (link padding dropped). */
  payload: Uint8Array;
}

/** Decodes an IPv4 header; verifies version, lengths and (by default) the header checksum. */
export function decodeIpv4(b: Uint8Array, opts: { verifyChecksum?: boolean } = {}): DecodedIpv4 {
  if (b.length < 20) throw new IpParseError(`IPv4 packet of ${b.length} byte(s) is shorter than 20`, 0);
  if (b[0] >>> 4 !== 4) throw new IpParseError(`IP version ${b[0] >>> 4}, expected 4`, 0);
  const ihl = (b[0] & 0x0f) * 4;
  if (ihl < 20) throw new IpParseError(`IPv4 header length ${ihl} is below 20`, 0);
  const total = (b[2] << 8) | b[3];
  if (ihl > b.length) throw new IpParseError(`IPv4 header length ${ihl} exceeds the ${b.length} bytes`, 0);
  if (total < ihl || total > b.length) throw new IpParseError(`IPv4 total length ${total} outside ${ihl}..${b.length}`, 2);
  if ((opts.verifyChecksum ?? true) && internetChecksum(b.subarray(0, ihl)) !== 0) throw new IpParseError('IPv4 header checksum mismatch', 10);
  const flags = b[6] >>> 5;
  return {
    version: 4,
    src: Uint8Array.from(b.subarray(12, 16)),
    dst: Uint8Array.from(b.subarray(16, 20)),
    protocol: b[9],
    ttl: b[8],
    id: (b[4] << 8) | b[5],
    tos: b[1],
    dontFragment: (flags & 2) !== 0,
    moreFragments: (flags & 1) !== 0,
    fragmentOffset: (((b[6] & 0x1f) << 8) | b[7]) * 8,
    headerLength: ihl,
    payload: b.subarray(ihl, total),
  };
}
