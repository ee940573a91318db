/**
 * Whole IP packets, either family: decode by version nibble, and build IP+UDP / IP+TCP packets
 * from endpoints (for pcaps and for the inner packet of UDP-encapsulated tunnel-mode ESP,
 * RFC 3948 §3).
 */
import { InvalidArgumentError } from '../common/index.js';
import { formatIp, ipBytes } from './address.js';
import { IpParseError } from './errors.js';
import { decodeIpv4, encodeIpv4 } from './ipv4.js';
import { decodeIpv6, encodeIpv6 } from './ipv6.js';
import { encodeTcp, IPPROTO_TCP, type TcpFields } from './tcp.js';
import { encodeUdp, IPPROTO_UDP } from './udp.js';

export interface DecodedIpPacket {
  version: 4 | 6;
  /** Addresses as text (dotted decimal, RFC 5952). */
  src: string;
  dst: string;
  srcBytes: Uint8Array;
  dstBytes: Uint8Array;
  /** Upper-layer protocol (IPv6: after extension headers). */
  protocol: number;
  /** TTL / Hop Limit. */
  ttl: number;
  /** True for a fragment (IPv4 MF or offset, IPv6 Fragment header). */
  fragment: boolean;
  headerLength: number;
  /** Upper-layer bytes (a view into the input). */
  payload: Uint8Array;
}

/**
 * Decodes an IPv4 (RFC 791) or IPv6 (RFC 8200) packet. Throws {@link IpParseError} (IP_PARSE)
 * for anything malformed, never another error.
 */
export function decodeIpPacket(bytes: Uint8Array): DecodedIpPacket {
  if (bytes.length < 1) throw new IpParseError('empty IP packet', 0);
  const v = bytes[0] >>> 4;
  if (v === 4) {
    const p = decodeIpv4(bytes);
    return {
      version: 4,
      src: formatIp(p.src),
      dst: formatIp(p.dst),
      srcBytes: p.src,
      dstBytes: p.dst,
      protocol: p.protocol,
      ttl: p.ttl,
      fragment: p.moreFragments || p.fragmentOffset !== 0,
      headerLength: p.headerLength,
      payload: p.payload,
    };
  }
  if (v === 6) {
    const p = decodeIpv6(bytes);
    return {
      version: 6,
      src: formatIp(p.src),
      dst: formatIp(p.dst),
      srcBytes: p.src,
      dstBytes: p.dst,
      protocol: p.protocol,
      ttl: p.hopLimit,
      fragment: p.fragment,
      headerLength: p.headerLength,
      payload: p.payload,
    };
  }
  throw new IpParseError(`IP version ${v} is neither 4 nor 6`, 0);
}

export interface IpFields {
  src: string | Uint8Array;
  dst: string | Uint8Array;
  protocol: number;
  /** TTL / Hop Limit, default 64. */
  ttl?: number;
  /** IPv4 Identification, default 0. */
  id?: number;
}

/** Encodes an IPv4 or IPv6 packet, the family chosen by the addresses. */
export function encodeIpPacket(h: IpFields, payload: Uint8Array): Uint8Array {
  const src = ipBytes(h.src);
  const dst = ipBytes(h.dst);
  if (src.length !== dst.length) throw new InvalidArgumentError('source and destination are of different IP families', 'address');
  return src.length === 4
    ? encodeIpv4({ src, dst, protocol: h.protocol, ttl: h.ttl, id: h.id }, payload)
    : encodeIpv6({ src, dst, protocol: h.protocol, hopLimit: h.ttl }, payload);
}

/** One end of a UDP/TCP conversation. */
export interface Endpoint {
  address: string;
  port: number;
}

/** IP + UDP packet carrying `payload` from `from` to `to`. */
export function encodeUdpPacket(from: Endpoint, to: Endpoint, payload: Uint8Array, opts: { ttl?: number; id?: number; zeroChecksum?: boolean } = {}): Uint8Array {
  const src = ipBytes(from.address);
  const dst = ipBytes(to.address);
  const udp = encodeUdp(from.port, to.port, payload, { src, dst }, { zeroChecksum: opts.zeroChecksum });
  return encodeIpPacket({ src, dst, protocol: IPPROTO_UDP, ttl: opts.ttl, id: opts.id }, udp);
}

/** IP + TCP packet: one segment from `from` to `to` with the given header fields. */
export function encodeTcpPacket(
  from: Endpoint,
  to: Endpoint,
  fields: Omit<TcpFields, 'srcPort' | 'dstPort'>,
  payload: Uint8Array,
  opts: { ttl?: number; id?: number } = {},
): Uint8Array {
  const src = ipBytes(from.address);
  const dst = ipBytes(to.address);
  const tcp = encodeTcp({ ...fields, srcPort: from.port, dstPort: to.port }, payload, { src, dst });
  return encodeIpPacket({ src, dst, protocol: IPPROTO_TCP, ttl: opts.ttl, id: opts.id }, tcp);
}
