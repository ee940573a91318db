/**
 * ESP transforms negotiated by sec-agree (TS 33.203 Annex H: the `alg` and `ealg` parameters of
 * Security-Client/Server) and what each implies on the wire: IV length, ICV length and the
 * block size the padding aligns to (RFC 4303 §2.4).
 */
import { isEncryptionAlg, isIntegrityAlg, isValidTransform, type EncryptionAlg, type IntegrityAlg } from '../../common/index.js';
import { EspConfigError } from './errors.js';

export { ENCRYPTION_ALGS, INTEGRITY_ALGS, VALID_TRANSFORMS, isEncryptionAlg, isIntegrityAlg, isValidTransform, type EncryptionAlg, type IntegrityAlg } from '../../common/index.js';

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

// One frozen layout per kind, shared by every SA that uses it.
const LAYOUT_GCM: TransformLayout = Object.freeze({ ivLength: 8, icvLength: 16, align: 4, blockCipher: false });
const LAYOUT_AES_CBC: TransformLayout = Object.freeze({ ivLength: 16, icvLength: 12, align: 16, blockCipher: true });
const LAYOUT_DES_CBC: TransformLayout = Object.freeze({ ivLength: 8, icvLength: 12, align: 8, blockCipher: true });
const LAYOUT_NULL: TransformLayout = Object.freeze({ ivLength: 0, icvLength: 12, align: 4, blockCipher: false });

/** The layout of a valid transform; throws ESP_CONFIG for an invalid pair. */
export function transformLayout(integrity: IntegrityAlg, encryption: EncryptionAlg): TransformLayout {
  assertValidTransform(integrity, encryption);
  switch (encryption) {
    case 'aes-gcm':
      return LAYOUT_GCM;
    case 'aes-cbc':
      return LAYOUT_AES_CBC;
    case 'des-ede3-cbc':
      return LAYOUT_DES_CBC;
    case 'null':
      return integrity === 'aes-gmac' ? LAYOUT_GCM : LAYOUT_NULL;
  }
}
