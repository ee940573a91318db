/**
 * The P-CSCF side of sec-agree (TS 33.203 §7.2, TS 24.229 §5.2.2): choose one mechanism from
 * the UE's Security-Client by local policy (R-SM-2) and build the Security-Server of the 401.
 */
import { InvalidArgumentError } from '../common/index.js';
import type { IpsecMode, SecMechanism } from './header.js';
import {
  IPSEC_3GPP,
  effectiveIpsec,
  isIpsec3gpp,
  isValidAlgCombination,
  type EncryptionAlgName,
  type IntegrityAlgName,
} from './mechanism.js';
import { byPreference, type SecAgreeEndpoint } from './offer.js';
import { SEC_AGREE_FAILURE_STATUS, failure, type NegotiationFailure } from './outcome.js';

/** P-CSCF policy: what it accepts, most preferred first. */
export interface PcscfSecAgreePolicy {
  /** Acceptable integrity algorithms. `null` is only ever used with ealg=aes-gcm. */
  algs: readonly IntegrityAlgName[];
  /** Acceptable encryption algorithms. */
  ealgs: readonly EncryptionAlgName[];
  /** Modes the datapath supports (`trans` needs kernel xfrm, `UDP-enc-tun` runs in userspace). */
  mods: readonly IpsecMode[];
  /**
   * Rank the UE's mechanisms by their q first (default false: the P-CSCF's policy decides and
   * the UE's q, then its order, only break ties; RFC 3329 §2.2 leaves the choice to the server,
   * TS 33.203 §7.2 to the P-CSCF's policy).
   */
  honourQ?: boolean;
}

/**
 * Every transform of TS 33.203 Annex H, strongest first: AEAD aes-gcm, then aes-cbc and
 * des-ede3-cbc, then integrity only; aes-gmac before the HMACs. NULL integrity pairs only with
 * aes-gcm ({@link isValidAlgCombination}).
 */
export const DEFAULT_PCSCF_POLICY: PcscfSecAgreePolicy = {
  algs: ['aes-gmac', 'hmac-sha-1-96', 'hmac-md5-96', 'null'],
  ealgs: ['aes-gcm', 'aes-cbc', 'des-ede3-cbc', 'null'],
  mods: ['trans', 'UDP-enc-tun'],
  honourQ: false,
};

/** The mechanism chosen from a Security-Client. */
export interface SecAgreeSelection {
  ok: true;
  /** The UE's mechanism as received. */
  mechanism: SecMechanism;
  /** Its index in the Security-Client list. */
  index: number;
  alg: IntegrityAlgName;
  ealg: EncryptionAlgName;
  mod: IpsecMode;
  prot: 'esp';
  /** The UE's SPIs and protected ports. */
  ue: SecAgreeEndpoint;
}

function usableEndpoint(m: SecMechanism): SecAgreeEndpoint | undefined {
  const { spiC, spiS, portC, portS } = m;
  if (spiC === undefined || spiS === undefined || portC === undefined || portS === undefined) return undefined;
  // RFC 4303 §2.1: SPI 0 is reserved for local use and 1..255 for IANA. TS 33.203 §7.1: two
  // SAs per direction, so two distinct SPIs and two distinct protected ports.
  if (spiC < 256 || spiS < 256 || spiC === spiS || portC === 0 || portS === 0 || portC === portS) return undefined;
  return { spiC, spiS, portC, portS };
}

/** The mechanisms a P-CSCF lists in a 494's Security-Server (no SPIs or ports). */
export function supportedMechanisms(policy: PcscfSecAgreePolicy): SecMechanism[] {
  const out: SecMechanism[] = [];
  for (const mod of policy.mods) {
    for (const ealg of policy.ealgs) {
      for (const alg of policy.algs) {
        if (isValidAlgCombination(alg, ealg)) out.push({ name: IPSEC_3GPP, alg, ealg, prot: 'esp', mod, extensions: [] });
      }
    }
  }
  return out;
}

/**
 * Choose the mechanism for this registration (R-SM-2). Candidates are the UE's `ipsec-3gpp`
 * mechanisms with prot=esp, a mode the datapath supports, an (alg, ealg) pair the policy accepts
 * (NULL integrity never, except alg=null with ealg=aes-gcm), and usable SPIs/ports. They are
 * ranked by the UE's q (when honoured), then the policy's ealg, alg and mode preference, then
 * the UE's order. With no candidate the result is a {@link NegotiationFailure} carrying status
 * 494, and the caller creates no SA.
 */
export function choosePcscfMechanism(client: readonly SecMechanism[], policy: PcscfSecAgreePolicy = DEFAULT_PCSCF_POLICY): SecAgreeSelection | NegotiationFailure {
  const fail = (reason: 'no-mechanism' | 'no-acceptable-mechanism' | 'invalid-parameters', detail: string): NegotiationFailure =>
    failure(reason, detail, { status: SEC_AGREE_FAILURE_STATUS, supported: supportedMechanisms(policy) });
  const ipsec = client.map((m, i) => ({ m, i })).filter((c) => isIpsec3gpp(c.m));
  if (ipsec.length === 0) return fail('no-mechanism', 'Security-Client carries no ipsec-3gpp mechanism');

  const rank = (list: readonly string[], v: string): number => list.indexOf(v);
  const acceptable = ipsec.filter(({ m }) => {
    const e = effectiveIpsec(m);
    if (e.prot !== 'esp' || e.alg === undefined) return false;
    if (rank(policy.mods, e.mod) < 0 || rank(policy.algs, e.alg) < 0 || rank(policy.ealgs, e.ealg) < 0) return false;
    return isValidAlgCombination(e.alg, e.ealg);
  });
  if (acceptable.length === 0) return fail('no-acceptable-mechanism', 'no offered ipsec-3gpp transform is acceptable to the P-CSCF policy');
  const usable = acceptable.filter(({ m }) => usableEndpoint(m) !== undefined);
  if (usable.length === 0) return fail('invalid-parameters', 'acceptable mechanisms lack usable spi-c/spi-s/port-c/port-s');

  const honourQ = policy.honourQ ?? false;
  usable.sort((a, b) => {
    if (honourQ) {
      const byQ = (b.m.q ?? -1) - (a.m.q ?? -1);
      if (byQ !== 0) return byQ;
    }
    const ea = effectiveIpsec(a.m);
    const eb = effectiveIpsec(b.m);
    return (
      rank(policy.ealgs, ea.ealg) - rank(policy.ealgs, eb.ealg) ||
      rank(policy.algs, ea.alg!) - rank(policy.algs, eb.alg!) ||
      rank(policy.mods, ea.mod) - rank(policy.mods, eb.mod) ||
      byPreference(a, b)
    );
  });
  const best = usable[0];
  const e = effectiveIpsec(best.m);
  return {
    ok: true,
    mechanism: best.m,
    index: best.i,
    alg: e.alg as IntegrityAlgName,
    ealg: e.ealg as EncryptionAlgName,
    mod: e.mod,
    prot: 'esp',
    ue: usableEndpoint(best.m)!,
  };
}

/**
 * The Security-Server of the 401 (TS 24.229 §5.2.2.1): the chosen transform with every
 * parameter explicit and the P-CSCF's own SPIs and protected ports. Refuses an SPI the UE uses
 * (R-SA-3: a packet must never be reflected back as valid).
 */
export function buildSecurityServer(sel: SecAgreeSelection, pcscf: SecAgreeEndpoint, opts: { q?: number } = {}): SecMechanism[] {
  const ueSpis = [sel.ue.spiC, sel.ue.spiS];
  if (ueSpis.includes(pcscf.spiC) || ueSpis.includes(pcscf.spiS)) throw new InvalidArgumentError('P-CSCF SPI equals a UE SPI', 'spi');
  if (pcscf.spiC === pcscf.spiS || pcscf.spiC < 256 || pcscf.spiS < 256) throw new InvalidArgumentError('P-CSCF SPIs must differ and be >= 256', 'spi');
  return securityServerFor(sel, pcscf, opts);
}

/**
 * The Security-Server for a transform and the P-CSCF's SPIs and ports, unchecked: what
 * {@link buildSecurityServer} sent for them. A P-CSCF makes it again from an SA set, which keeps
 * all of these, to check a Security-Verify against (RFC 3329 §2.3.1) instead of keeping a copy per set.
 */
export function securityServerFor(t: { alg: IntegrityAlgName; ealg: EncryptionAlgName; mod: IpsecMode }, pcscf: SecAgreeEndpoint, opts: { q?: number } = {}): SecMechanism[] {
  const m: SecMechanism = {
    name: IPSEC_3GPP,
    alg: t.alg,
    ealg: t.ealg,
    prot: 'esp',
    mod: t.mod,
    spiC: pcscf.spiC,
    spiS: pcscf.spiS,
    portC: pcscf.portC,
    portS: pcscf.portS,
    extensions: [],
  };
  if (opts.q !== undefined) m.q = opts.q;
  return [m];
}
