/**
 * IPv6 header (RFC 8200 §3) and the walk over extension headers (§4) to the upper layer:
 * ```
 * |Version| Traffic Class |           Flow Label                  |
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * |                 Source Address (128 bits)                     |
 * |              Destination Address (128 bits)                   |
 * ```
 */
import { InvalidArgumentError } from '../common/index.js';
import { ipBytes } from './address.js';
import { IpParseError } from './errors.js';

export interface Ipv6Fields {
  src: string | Uint8Array;
  dst: string | Uint8Array;
  /** Next Header of the fixed header (17 UDP, 6 TCP, 50 ESP, 41 IPv6-in-IPv6). */
  protocol: number;
  /** Hop Limit, default 64. */
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
}

/** Encodes the 40-byte IPv6 header followed by `payload` (no extension headers). */
export function encodeIpv6(h: Ipv6Fields, payload: Uint8Array): Uint8Array {
  const src = ipBytes(h.src);
  const dst = ipBytes(h.dst);
  if (src.length !== 16 || dst.length !== 16) throw new InvalidArgumentError('IPv6 packet needs IPv6 addresses', 'address');
  const hop = h.hopLimit ?? 64;
  const tc = h.trafficClass ?? 0;
  const fl = h.flowLabel ?? 0;
  for (const [v, bits, what] of [
    [h.protocol, 8, 'protocol'],
    [hop, 8, 'hopLimit'],
    [tc, 8, 'trafficClass'],
    [fl, 20, 'flowLabel'],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new InvalidArgumentError(`${what} must fit in ${bits} bits, got ${v}`, what);
  }
  if (payload.length > 0xffff) throw new InvalidArgumentError(`IPv6 payload of ${payload.length} bytes needs a jumbogram`, 'payload');
  const out = new Uint8Array(40 + payload.length);
  out[0] = 0x60 | (tc >>> 4);
  out[1] = ((tc & 0x0f) << 4) | (fl >>> 16);
  out[2] = (fl >>> 8) & 0xff;
  out[3] = fl & 0xff;
  out[4] = payload.length >>> 8;
  out[5] = payload.length & 0xff;
  out[6] = h.protocol;
  out[7] = hop;
  out.set(src, 8);
  out.set(dst, 24);
  out.set(payload, 40);
  return out;
}

export interface DecodedIpv6 {
  version: 6;
  src: Uint8Array;
  dst: Uint8Array;
  /** Upper-layer protocol after the extension headers that were skipped. */
  protocol: number;
  hopLimit: number;
  trafficClass: number;
  flowLabel: number;
  /** True when a Fragment header was crossed (the payload is then one fragment). */
  fragment: boolean;
  /** Bytes from the start of the packet to the upper-layer payload. */
  headerLength: number;
  payload: Uint8Array;
}

/** Extension headers skipped to reach the upper layer (RFC 8200 §4; AH RFC 4302 §2.2). */
const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const AH = 51;
const DEST_OPTS = 60;

/** Decodes an IPv6 packet, cutting at Payload Length and walking extension headers. */
export function decodeIpv6(b: Uint8Array): DecodedIpv6 {
  if (b.length < 40) throw new IpParseError(`IPv6 packet of ${b.length} byte(s) is shorter than 40`, 0);
  if (b[0] >>> 4 !== 6) throw new IpParseError(`IP version ${b[0] >>> 4}, expected 6`, 0);
  const plen = (b[4] << 8) | b[5];
  if (plen === 0 && b[6] === HOP_BY_HOP) throw new IpParseError('IPv6 jumbograms are not supported', 4);
  if (40 + plen > b.length) throw new IpParseError(`IPv6 payload length ${plen} exceeds the ${b.length - 40} bytes`, 4);
  const end = 40 + plen;
  let nh = b[6];
  let at = 40;
  let fragment = false;
  for (let hops = 0; ; hops++) {
    if (nh !== HOP_BY_HOP && nh !== ROUTING && nh !== FRAGMENT && nh !== AH && nh !== DEST_OPTS) break;
    if (hops > 16) throw new IpParseError('too many IPv6 extension headers', at);
    if (at + 8 > end) throw new IpParseError('IPv6 extension header truncated', at);
    const len = nh === FRAGMENT ? 8 : nh === AH ? (b[at + 1] + 2) * 4 : (b[at + 1] + 1) * 8;
    if (at + len > end) throw new IpParseError('IPv6 extension header exceeds the payload', at);
    if (nh === FRAGMENT) fragment = true;
    nh = b[at];
    at += len;
  }
  return {
    version: 6,
    src: Uint8Array.from(b.subarray(8, 24)),
    dst: Uint8Array.from(b.subarray(24, 40)),
    protocol: nh,
    hopLimit: b[7],
    trafficClass: ((b[0] & 0x0f) << 4) | (b[1] >>> 4),
    flowLabel: ((b[1] & 0x0f) << 16) | (b[2] << 8) | b[3],
    fragment,
    headerLength: at,
    payload: b.subarray(at, end),
  };
}
