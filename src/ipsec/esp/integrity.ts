/**
 * HMAC-MD5-96 (RFC 2403 §2) and HMAC-SHA-1-96 (RFC 2404 §2): HMAC (RFC 2104) over the ESP
 * packet from SPI to Next Header, truncated to its leftmost 96 bits. The ICV is compared in
 * constant time (RFC 4303 §3.4.4.1 checks it before anything else is done with the packet).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type HmacIntegrityAlg = 'hmac-md5-96' | 'hmac-sha-1-96';

/** Length of the truncated ICV in bytes. */
export const HMAC_96_LENGTH = 12;

const HASH: Record<HmacIntegrityAlg, 'md5' | 'sha1'> = { 'hmac-md5-96': 'md5', 'hmac-sha-1-96': 'sha1' };

/** The 96-bit ICV of `data` under `key`. */
export function hmac96(alg: HmacIntegrityAlg, key: Uint8Array, data: Uint8Array): Uint8Array {
  return createHmac(HASH[alg], key).update(data).digest().subarray(0, HMAC_96_LENGTH);
}

/** Constant-time check of a received 96-bit ICV (false for a wrong length). */
export function verifyHmac96(alg: HmacIntegrityAlg, key: Uint8Array, data: Uint8Array, icv: Uint8Array): boolean {
  if (icv.length !== HMAC_96_LENGTH) return false;
  return timingSafeEqual(hmac96(alg, key, data), icv);
}
