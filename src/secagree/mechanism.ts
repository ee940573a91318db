/**
 * The `ipsec-3gpp` mechanism as TS 33.203 Annex H defines it: algorithm names, their allowed
 * combinations, the defaults for omitted parameters, and mechanism equality.
 */
import { isValidTransform, type EncryptionAlg, type IntegrityAlg } from '../common/index.js';
import type { IpsecMode, IpsecProtocol, SecMechanism, SecParam } from './header.js';

/** The mechanism-name of IMS access security (TS 33.203 Annex H). */
export const IPSEC_3GPP = 'ipsec-3gpp';

/** Integrity algorithm names of TS 33.203 Annex H (`alg`), as written on the wire (same as ESP's). */
export type IntegrityAlgName = IntegrityAlg;

/** Encryption algorithm names of TS 33.203 Annex H (`ealg`), as written on the wire (same as ESP's). */
export type EncryptionAlgName = EncryptionAlg;

export const IPSEC_MODES: readonly IpsecMode[] = ['trans', 'tun', 'UDP-enc-tun'];

/**
 * Defaults for omitted parameters: TS 33.203 Annex H (proposed by seed 002): `prot=esp`,
 * `mod=trans`, `ealg=null`. `alg` has no default: an `ipsec-3gpp` mechanism without it is
 * unusable.
 */
export const SEC_AGREE_DEFAULTS = { prot: 'esp', mod: 'trans', ealg: 'null' } as const satisfies {
  prot: IpsecProtocol;
  mod: IpsecMode;
  ealg: EncryptionAlgName;
};

/**
 * Whether an (alg, ealg) pair is a usable ESP transform (TS 33.203 Annex H, SPEC R-SA-1):
 * NULL integrity only together with aes-gcm (an AEAD, RFC 4106); aes-gcm only with alg=null;
 * aes-gmac (RFC 4543, authentication only) only with ealg=null. Unknown names are not.
 */
export function isValidAlgCombination(alg: string, ealg: string): boolean {
  return isValidTransform(alg, ealg);
}

/** An `ipsec-3gpp` mechanism with the Annex H defaults applied. */
export interface EffectiveIpsec {
  alg?: string;
  ealg: string;
  prot: IpsecProtocol;
  mod: IpsecMode;
  spiC?: number;
  spiS?: number;
  portC?: number;
  portS?: number;
  q?: number;
}

export function isIpsec3gpp(m: SecMechanism): boolean {
  return m.name.toLowerCase() === IPSEC_3GPP;
}

/** Apply the Annex H defaults (R-SM-1) to a mechanism's IPsec parameters. */
export function effectiveIpsec(m: SecMechanism): EffectiveIpsec {
  return {
    alg: m.alg,
    ealg: m.ealg ?? SEC_AGREE_DEFAULTS.ealg,
    prot: m.prot ?? SEC_AGREE_DEFAULTS.prot,
    mod: m.mod ?? SEC_AGREE_DEFAULTS.mod,
    spiC: m.spiC,
    spiS: m.spiS,
    portC: m.portC,
    portS: m.portS,
    q: m.q,
  };
}

/** Same transform (alg, ealg, prot, mod after defaults): the UE's "is this one I offered". */
export function sameTransform(a: SecMechanism, b: SecMechanism): boolean {
  const x = effectiveIpsec(a);
  const y = effectiveIpsec(b);
  return a.name.toLowerCase() === b.name.toLowerCase() && x.alg === y.alg && x.ealg === y.ealg && x.prot === y.prot && x.mod === y.mod;
}

function paramKey(p: SecParam): string {
  return `${p.name.toLowerCase()}\u0000${p.value ?? '\u0001'}`;
}

/**
 * Parameter-by-parameter equality of two mechanisms (RFC 3329 §2.3.1 Security-Verify check):
 * names compare case-insensitively and parameter order is not significant; a parameter present
 * on one side only is a difference (no defaults are applied: the UE must echo what it got).
 */
export function sameMechanism(a: SecMechanism, b: SecMechanism): boolean {
  if (a.name.toLowerCase() !== b.name.toLowerCase()) return false;
  if (a.q !== b.q || a.alg !== b.alg || a.ealg !== b.ealg || a.prot !== b.prot || a.mod !== b.mod) return false;
  if (a.spiC !== b.spiC || a.spiS !== b.spiS || a.portC !== b.portC || a.portS !== b.portS) return false;
  if (a.extensions.length !== b.extensions.length) return false;
  const ka = a.extensions.map(paramKey).sort();
  const kb = b.extensions.map(paramKey).sort();
  return ka.every((k, i) => k === kb[i]);
}

/**
 * Equality of two mechanism lists as multisets of {@link sameMechanism}: order is not
 * significant, but a missing or extra mechanism is. Returns the first difference found, or
 * undefined when equal.
 */
export function listDifference(expected: readonly SecMechanism[], actual: readonly SecMechanism[]): string | undefined {
  const left = [...actual];
  for (let i = 0; i < expected.length; i++) {
    const j = left.findIndex((m) => sameMechanism(expected[i], m));
    if (j < 0) return `mechanism #${i + 1} (${expected[i].name}) missing or changed`;
    left.splice(j, 1);
  }
  if (left.length > 0) return `${left.length} extra mechanism(s) (first: ${left[0].name})`;
  return undefined;
}
