/** Loopback test for bind addresses (RFC 1122 §3.2.1.3: 127.0.0.0/8; RFC 4291 §2.5.3: ::1). */
import { canonicalAddress } from '../../sip/index.js';

/** Canonical text of an address or host name (IPv4-mapped IPv6 as IPv4, brackets removed, lower case). */
export function canonicalIp(address: string): string {
  return canonicalAddress(address);
}

/** True for 127.0.0.0/8, ::1 and the name `localhost`. */
export function isLoopback(address: string): boolean {
  const a = canonicalAddress(address);
  return a === '::1' || a === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}
