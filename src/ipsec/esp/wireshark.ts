/**
 * Key export for Wireshark/tshark 4.0: one record of its `esp_sa` UAT table (8 fields:
 * protocol, source, destination, SPI, encryption algorithm, encryption key, authentication
 * algorithm, authentication key), usable as `-o 'uat:esp_sa:<line>'` or as a line of the
 * `esp_sa` file in a Wireshark profile.
 *
 * The algorithm names are the strings of Wireshark 4.0's packet-esp.c value tables (they are
 * matched literally). This is the one place where ESP keys are rendered: never log its output.
 */
import { toHex } from '../../common/index.js';
import { assertValidTransform, type EncryptionAlg, type IntegrityAlg } from './algorithms.js';
import type { EspKeys } from './keys.js';

export interface WiresharkEspSa {
  family: 'IPv4' | 'IPv6';
  /** Source address of the SA's packets (or '*'). */
  src: string;
  /** Destination address of the SA's packets (or '*'). */
  dst: string;
  spi: number;
  encryption: EncryptionAlg;
  integrity: IntegrityAlg;
  keys: EspKeys;
}

/** Wireshark 4.0 encryption algorithm names. */
export const WIRESHARK_ENCRYPTION: Record<EncryptionAlg, string> = {
  null: 'NULL',
  'aes-cbc': 'AES-CBC [RFC3602]',
  'des-ede3-cbc': 'TripleDES-CBC [RFC2451]',
  'aes-gcm': 'AES-GCM with 16 octet ICV [RFC4106]',
};

/** Wireshark 4.0 authentication algorithm names (for aes-gcm the ICV length is chosen here). */
export const WIRESHARK_AUTHENTICATION: Record<IntegrityAlg, string> = {
  'hmac-md5-96': 'HMAC-MD5-96 [RFC2403]',
  'hmac-sha-1-96': 'HMAC-SHA-1-96 [RFC2404]',
  null: 'NULL',
  // Wireshark 4.0 has no ENCR_NULL_AUTH_AES_GMAC: it cannot check a GMAC ICV (nor skip the
  // 8-byte IV). The closest record skips the 16-byte ICV unchecked.
  'aes-gmac': 'ANY 128 bit authentication [no checking]',
};

/** True when Wireshark 4.0 can verify the ICV of this transform (all but aes-gmac). */
export function wiresharkChecksIcv(integrity: IntegrityAlg): boolean {
  return integrity !== 'aes-gmac';
}

function q(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function key(k: Uint8Array): string {
  return k.length ? `0x${toHex(k)}` : '';
}

/**
 * The `esp_sa` UAT record for one SA, e.g.
 * `"IPv4","10.0.0.1","10.0.0.2","0x00001000","AES-CBC [RFC3602]","0x…","HMAC-SHA-1-96 [RFC2404]","0x…"`.
 * For aes-gcm the encryption key is CK_ESP ‖ salt (RFC 4106 §8.1 keying material).
 */
export function wiresharkEspSaLine(p: WiresharkEspSa): string {
  assertValidTransform(p.integrity, p.encryption);
  const spi = `0x${(p.spi >>> 0).toString(16).padStart(8, '0')}`;
  const encKey = p.encryption === 'aes-gcm' ? new Uint8Array([...p.keys.encryptionKey, ...p.keys.salt]) : p.keys.encryptionKey;
  const authKey = p.integrity === 'null' || p.integrity === 'aes-gmac' ? new Uint8Array(0) : p.keys.integrityKey;
  return [p.family, p.src, p.dst, spi, WIRESHARK_ENCRYPTION[p.encryption], key(encKey), WIRESHARK_AUTHENTICATION[p.integrity], key(authKey)]
    .map(q)
    .join(',');
}
