/**
 * UDP-encapsulated ESP in tunnel mode (RFC 3948 §2.1 and §3.1; RFC 4303 §3.1.2), TS 33.203's
 * `mod=UDP-enc-tun`, as pure functions: the SIP datagram becomes an inner IPv4/IPv6 + UDP packet
 * between the protected ports, that packet the payload of ESP (Next Header 4 or 41), and the ESP
 * packet the payload of the outer UDP datagram the caller sends.
 *
 * ```
 * outer UDP payload = ESP( SPI | Seq | [IV] | inner IP | inner UDP | SIP | pad | PadLen | NH=4/41 | ICV )
 * ```
 */
import type { Rng } from '../../common/index.js';
import { decodeIpPacket, decodeUdp, encodeUdpPacket, formatIp, ipBytes, IPPROTO_UDP, isIpv4Text, type Endpoint } from '../../ip/index.js';
import type { EspSa } from '../esp/index.js';

/** RFC 4303 §2.6 Next Header of a tunnel-mode inner packet (IANA protocol numbers). */
export const NEXT_HEADER_IPV4 = 4;
export const NEXT_HEADER_IPV6 = 41;

/** Why a datagram was dropped (counted by the datapath, never thrown). */
export type UdpEncapDropReason =
  /** Not ESP (RFC 3948 §2.2: NAT-keepalive 0xff or the IKE Non-ESP Marker), or too short. */
  | 'not-esp'
  /** No live inbound SA with this SPI on this local address and port. */
  | 'no-sa'
  /** ESP structure wrong (length, padding). */
  | 'malformed'
  /** ESP SPI did not match the SA (cannot happen after lookup by SPI; kept for completeness). */
  | 'spi'
  /** ICV failed (RFC 4303 §3.4.4): wrong key, tampered packet. */
  | 'icv'
  /** Replayed, or left of the anti-replay window (RFC 4303 §3.4.3, R-SA-8). */
  | 'replay'
  /** The decrypted payload is not a whole IPv4/IPv6 + UDP packet (or a fragment). */
  | 'inner'
  /** Inner addresses/ports differ from the SA's selector (RFC 4301 §5.2 step 4). */
  | 'selector';

export type DecapResult = { ok: true; src: Endpoint; dst: Endpoint; payload: Uint8Array; seq: number } | { ok: false; reason: UdpEncapDropReason };

/** Canonical text of an IP address (RFC 5952), so selectors compare reliably. */
export function canonicalIp(address: string): string {
  return isIpv4Text(address) ? address : formatIp(ipBytes(address));
}

/** Seal `payload` sent from `from` to `to` (the SA's selector) into one ESP packet. */
export function encapsulate(esp: EspSa, from: Endpoint, to: Endpoint, payload: Uint8Array, rng: Rng): Uint8Array {
  const inner = encodeUdpPacket(from, to, payload);
  const nh = (inner[0] >>> 4) === 6 ? NEXT_HEADER_IPV6 : NEXT_HEADER_IPV4;
  return esp.seal(inner, nh, rng);
}

/** Open one ESP packet and take the inner IP + UDP packet apart. Never throws. */
export function decapsulate(esp: EspSa, packet: Uint8Array): DecapResult {
  const r = esp.open(packet);
  if (!r.ok) return { ok: false, reason: r.reason };
  if (r.nextHeader !== NEXT_HEADER_IPV4 && r.nextHeader !== NEXT_HEADER_IPV6) return { ok: false, reason: 'inner' };
  try {
    const ip = decodeIpPacket(r.payload);
    if (ip.version !== (r.nextHeader === NEXT_HEADER_IPV4 ? 4 : 6) || ip.protocol !== IPPROTO_UDP || ip.fragment) return { ok: false, reason: 'inner' };
    const udp = decodeUdp(ip.payload, { src: ip.srcBytes, dst: ip.dstBytes });
    return { ok: true, src: { address: ip.src, port: udp.srcPort }, dst: { address: ip.dst, port: udp.dstPort }, payload: udp.payload, seq: r.seq };
  } catch {
    return { ok: false, reason: 'inner' };
  }
}
