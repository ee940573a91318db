/**
 * IANA "Assigned Internet Protocol Numbers" used here: the IPv4 Protocol / IPv6 Next Header
 * values, also the ESP Next Header of transport (UDP, TCP) and tunnel mode (IPv4, IPv6).
 */
export const IPPROTO_IPV4 = 4;
export const IPPROTO_IPV6 = 41;
/** RFC 4303 Encapsulating Security Payload. */
export const IPPROTO_ESP = 50;
/** RFC 8200 §4.7 "No Next Header"; in ESP, RFC 4303 §2.6 dummy (TFC) packets. */
export const IPPROTO_NONE = 59;

/** The ESP Next Header for a tunnel-mode inner packet of IP version `version`. */
export function tunnelNextHeader(version: 4 | 6): number {
  return version === 4 ? IPPROTO_IPV4 : IPPROTO_IPV6;
}
