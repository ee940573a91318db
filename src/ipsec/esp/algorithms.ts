/**
 * ESP transforms negotiated by sec-agree (TS 33.203 Annex H: the `alg` and `ealg` parameters of
 * Security-Client/Server) and what each implies on the wire: IV length, ICV length and the
 * block size the padding aligns to (RFC 4303 §2.4).
 */
import { EspConfigError } from './errors.js';

/**
 * Integrity algorithm, spelled as the `alg=` value of TS 33.203 Annex H:
 * hmac-md5-96 (RFC 2403), hmac-sha-1-96 (RFC 2404), aes-gmac (RFC 4543, 16-byte ICV), and
 * null (only together with aes-gcm, whose ICV already authenticates).
 */
export type IntegrityAlg = 'hmac-md5-96' | 'hmac-sha-1-96' | 'aes-gmac' | 'null';

/**
 * Encryption algorithm, spelled as the `ealg=` value of TS 33.203 Annex H: null (RFC 2410),
 * aes-cbc (RFC 3602), des-ede3-cbc (RFC 2451), aes-gcm (RFC 4106, 16-byte ICV).
 */
export type EncryptionAlg = 'null' | 'aes-cbc' | 'des-ede3-cbc' | 'aes-gcm';

export const INTEGRITY_ALGS: readonly IntegrityAlg[] = ['hmac-md5-96', 'hmac-sha-1-96', 'aes-gmac', 'null'];
export const ENCRYPTION_ALGS: readonly EncryptionAlg[] = ['null', 'aes-cbc', 'des-ede3-cbc', 'aes-gcm'];

/** Every valid (alg, ealg) pair, in a stable order (used by tests, pcaps and the benchmark). */
export const VALID_TRANSFORMS: readonly { integrity: IntegrityAlg; encryption: EncryptionAlg }[] = [
  { integrity: 'hmac-md5-96', encryption: 'null' },
  { integrity: 'hmac-md5-96', encryption: 'aes-cbc' },
  { integrity: 'hmac-md5-96', encryption: 'des-ede3-cbc' },
  { integrity: 'hmac-sha-1-96', encryption: 'null' },
  { integrity: 'hmac-sha-1-96', encryption: 'aes-cbc' },
  { integrity: 'hmac-sha-1-96', encryption: 'des-ede3-cbc' },
  { integrity: 'aes-gmac', encryption: 'null' },
  { integrity: 'null', encryption: 'aes-gcm' },
];

export function isIntegrityAlg(s: string): s is IntegrityAlg {
  return (INTEGRITY_ALGS as readonly string[]).includes(s);
}

export function isEncryptionAlg(s: string): s is EncryptionAlg {
  return (ENCRYPTION_ALGS as readonly string[]).includes(s);
}

/**
 * TS 33.203 §6.1 / Annex H and R-SA-1: hmac-md5-96 and hmac-sha-1-96 combine with null, aes-cbc
 * or des-ede3-cbc; aes-gmac is integrity-only (null encryption, RFC 4543 ENCR_NULL_AUTH_AES_GMAC);
 * aes-gcm is combined mode and takes null integrity. Nothing else (no ESP without integrity).
 */
export function isValidTransform(integrity: string, encryption: string): boolean {
  return VALID_TRANSFORMS.some((t) => t.integrity === integrity && t.encryption === encryption);
}

/** Throws {@link EspConfigError} (ESP_CONFIG) unless (integrity, encryption) is a valid pair. */
export function assertValidTransform(integrity: string, encryption: string): asserts integrity is IntegrityAlg {
  if (!isIntegrityAlg(integrity)) throw new EspConfigError(`unknown ESP integrity algorithm ${JSON.stringify(integrity)}`);
  if (!isEncryptionAlg(encryption)) throw new EspConfigError(`unknown ESP encryption algorithm ${JSON.stringify(encryption)}`);
  if (!isValidTransform(integrity, encryption)) {
    if (integrity === 'null') throw new EspConfigError(`integrity null is allowed only with aes-gcm, not ${encryption}`);
    if (integrity === 'aes-gmac') throw new EspConfigError(`aes-gmac is integrity-only and needs encryption null, not ${encryption}`);
    throw new EspConfigError(`aes-gcm is a combined mode and needs integrity null, not ${integrity}`);
  }
}

/** Wire properties of one transform. */
export interface TransformLayout {
  /** Explicit IV carried after the sequence number (RFC 3602 §3: 16; RFC 2451: 8; RFC 4106/4543: 8). */
  ivLength: number;
  /** ICV appended after the trailer (12 for the HMAC-96s, 16 for GCM/GMAC). */
  icvLength: number;
  /**
   * Alignment of payload + padding + 2 trailer bytes: the cipher block size, and at least 4
   * (RFC 4303 §2.4: Pad Length and Next Header right-aligned in a 4-byte word).
   */
  align: number;
  /** True when the alignment comes from a block cipher (ciphertext length must be a multiple). */
  blockCipher: boolean;
}

/** The layout of a valid transform; throws ESP_CONFIG for an invalid pair. */
export function transformLayout(integrity: IntegrityAlg, encryption: EncryptionAlg): TransformLayout {
  assertValidTransform(integrity, encryption);
  switch (encryption) {
    case 'aes-gcm':
      return { ivLength: 8, icvLength: 16, align: 4, blockCipher: false };
    case 'aes-cbc':
      return { ivLength: 16, icvLength: 12, align: 16, blockCipher: true };
    case 'des-ede3-cbc':
      return { ivLength: 8, icvLength: 12, align: 8, blockCipher: true };
    case 'null':
      return integrity === 'aes-gmac'
        ? { ivLength: 8, icvLength: 16, align: 4, blockCipher: false }
        : { ivLength: 0, icvLength: 12, align: 4, blockCipher: false };
  }
}
