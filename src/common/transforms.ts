/**
 * The vocabulary of ESP transforms shared by sec-agree and ESP: the `alg` and `ealg` names of
 * TS 33.203 Annex H and which pairs are valid. Both the Security-Client/Server codec (secagree)
 * and the ESP codec (ipsec/esp) read it; neither owns it.
 */

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

