/**
 * TS 33.203 Annex I: expansion of the IMS AKA keys IK_IM and CK_IM (128 bits each) into the
 * ESP keys IK_ESP and CK_ESP (SPEC R-SA-2).
 *
 * Annex I, as quoted in OpenSIPS modules/proto_ipsec/ipsec_algo.c (a reading of the current
 * text; the seed of 2003 proposed IK ‖ first 32 bits of IK for SHA-1, every peer uses zeros):
 * - hmac-md5-96: IK_ESP = IK_IM (128 bits).
 * - hmac-sha-1-96: IK_ESP = IK_IM ‖ 32 zero bits (160 bits).
 * - aes-gmac (RFC 4543, 128-bit key): IK_ESP = IK_IM. "The salt value specified in Section 3.2
 *   of RFC 4543 shall be derived using the key derivation function KDF defined in Annex B of
 *   TS 33.220. The input Key to the KDF function shall be equal to the concatenation of CKim
 *   and IKim: CKim ‖ IKim. The input S ... FC = 0x58, P0 = "AES_GMAC_SALT", L0 = 0x00 0x0D.
 *   The salt value shall consist of the 32 least significant bits of the 256 bits of the KDF
 *   output."
 * - des-ede3-cbc: CK_ESP = CK_IM ‖ first 64 bits of CK_IM (192 bits: K1 = K3).
 * - aes-cbc (128-bit key): CK_ESP = CK_IM.
 * - aes-gcm (RFC 4106, 128-bit key): CK_ESP = CK_IM; salt (RFC 4106 §4) as for GMAC but with
 *   FC = 0x59, P0 = "AES_GCM_SALT", L0 = 0x00 0x0C.
 *
 * TS 33.220 Annex B.2.0: KDF(Key, S) = HMAC-SHA-256(Key, S) with S = FC ‖ P0 ‖ L0 ‖ … ‖ Pn ‖ Ln.
 */
import { createHmac } from 'node:crypto';
import { InvalidArgumentError } from '../../common/index.js';
import { assertValidTransform, type EncryptionAlg, type IntegrityAlg } from './algorithms.js';

/** Keys of one ESP SA. Secret: never log or print them (only {@link wiresharkEspSaLine} does). */
export interface EspKeys {
  /** IK_ESP: 16 bytes (hmac-md5-96, aes-gmac), 20 bytes (hmac-sha-1-96), empty (null). */
  readonly integrityKey: Uint8Array;
  /** CK_ESP: 16 bytes (aes-cbc, aes-gcm), 24 bytes (des-ede3-cbc), empty (null). */
  readonly encryptionKey: Uint8Array;
  /** 4-byte salt of the GCM nonce (RFC 4106 §4, RFC 4543 §3.2) for aes-gcm/aes-gmac, else empty. */
  readonly salt: Uint8Array;
}

/** TS 33.220 Annex B.2.0 KDF with a single parameter P0 (an ASCII string). */
export function kdf33220(key: Uint8Array, fc: number, p0: string): Uint8Array {
  const p = Buffer.from(p0, 'latin1');
  const s = new Uint8Array(1 + p.length + 2);
  s[0] = fc;
  s.set(p, 1);
  s[1 + p.length] = p.length >>> 8;
  s[2 + p.length] = p.length & 0xff;
  return new Uint8Array(createHmac('sha256', key).update(s).digest());
}

/** FC values of TS 33.203 Annex I for the salt derivations. */
export const FC_AES_GMAC_SALT = 0x58;
export const FC_AES_GCM_SALT = 0x59;

function salt(fc: number, label: string, ik: Uint8Array, ck: Uint8Array): Uint8Array {
  const key = new Uint8Array(32);
  key.set(ck, 0);
  key.set(ik, 16);
  const out = kdf33220(key, fc, label);
  key.fill(0);
  // The 32 least significant bits of the 256-bit output are its last four bytes.
  return out.slice(28, 32);
}

/**
 * TS 33.203 Annex I: ESP keys for the negotiated (alg, ealg) from the AKA keys IK and CK
 * (16 bytes each). Throws ESP_CONFIG for an invalid pair, INVALID_ARGUMENT for a bad key length.
 */
export function deriveEspKeys(integrity: IntegrityAlg, encryption: EncryptionAlg, ik: Uint8Array, ck: Uint8Array): EspKeys {
  assertValidTransform(integrity, encryption);
  if (ik.length !== 16) throw new InvalidArgumentError(`IK must be 16 bytes, got ${ik.length}`, 'ik');
  if (ck.length !== 16) throw new InvalidArgumentError(`CK must be 16 bytes, got ${ck.length}`, 'ck');
  let integrityKey: Uint8Array;
  let encryptionKey: Uint8Array;
  let s: Uint8Array = new Uint8Array(0);
  switch (integrity) {
    case 'hmac-md5-96':
      integrityKey = Uint8Array.from(ik);
      break;
    case 'hmac-sha-1-96':
      integrityKey = new Uint8Array(20);
      integrityKey.set(ik); // followed by 32 zero bits
      break;
    case 'aes-gmac':
      integrityKey = Uint8Array.from(ik);
      s = salt(FC_AES_GMAC_SALT, 'AES_GMAC_SALT', ik, ck);
      break;
    case 'null':
      integrityKey = new Uint8Array(0);
      break;
  }
  switch (encryption) {
    case 'null':
      encryptionKey = new Uint8Array(0);
      break;
    case 'aes-cbc':
      encryptionKey = Uint8Array.from(ck);
      break;
    case 'des-ede3-cbc':
      encryptionKey = new Uint8Array(24);
      encryptionKey.set(ck);
      encryptionKey.set(ck.subarray(0, 8), 16);
      break;
    case 'aes-gcm':
      encryptionKey = Uint8Array.from(ck);
      s = salt(FC_AES_GCM_SALT, 'AES_GCM_SALT', ik, ck);
      break;
  }
  // One buffer for the set's key material, the three keys views of it: the four SAs of a set
  // share it (an EspSa keeps the arrays it is given), a few objects per registration, not tens.
  const all = new Uint8Array(integrityKey.length + encryptionKey.length + s.length);
  all.set(integrityKey, 0);
  all.set(encryptionKey, integrityKey.length);
  all.set(s, integrityKey.length + encryptionKey.length);
  integrityKey.fill(0);
  encryptionKey.fill(0);
  const e = integrityKey.length + encryptionKey.length;
  return { integrityKey: all.subarray(0, integrityKey.length), encryptionKey: all.subarray(integrityKey.length, e), salt: all.subarray(e) };
}

/** Expected key lengths (integrity, encryption, salt) of a valid transform. */
export function espKeyLengths(integrity: IntegrityAlg, encryption: EncryptionAlg): { integrity: number; encryption: number; salt: number } {
  const i = integrity === 'hmac-sha-1-96' ? 20 : integrity === 'null' ? 0 : 16;
  const e = encryption === 'des-ede3-cbc' ? 24 : encryption === 'null' ? 0 : 16;
  const s = integrity === 'aes-gmac' || encryption === 'aes-gcm' ? 4 : 0;
  return { integrity: i, encryption: e, salt: s };
}
