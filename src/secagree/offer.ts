/**
 * The UE side of sec-agree (TS 33.203 §7.2, TS 24.229 §5.1.1.2): the Security-Client offer of
 * the first REGISTER (R-SM-1) and the check of the Security-Server of the 401 (R-SM-5).
 */
import { InvalidArgumentError } from '../common/index.js';
import type { IpsecMode, SecMechanism } from './header.js';
import {
  IPSEC_3GPP,
  effectiveIpsec,
  isIpsec3gpp,
  isValidAlgCombination,
  sameTransform,
  type EncryptionAlgName,
  type IntegrityAlgName,
} from './mechanism.js';
import { failure, type NegotiationFailure } from './outcome.js';

/** SPIs and protected ports one side announces (spi-c, spi-s, port-c, port-s). */
export interface SecAgreeEndpoint {
  spiC: number;
  spiS: number;
  portC: number;
  portS: number;
}

export interface UeOfferConfig extends SecAgreeEndpoint {
  /** Integrity algorithms, most preferred first. */
  algs: readonly IntegrityAlgName[];
  /** Encryption algorithms, most preferred first (default `['null']`). */
  ealgs?: readonly EncryptionAlgName[];
  /** Modes, most preferred first (default `['trans']`). */
  mods?: readonly IpsecMode[];
  /** Write prot/mod/ealg even when they equal the defaults, as deployed UEs do (default true). */
  explicitDefaults?: boolean;
  /** Add strictly decreasing q values (1, ...) so the order survives any re-ordering (default false). */
  withQ?: boolean;
}

function checkEndpoint(e: SecAgreeEndpoint, who: string): void {
  for (const k of ['spiC', 'spiS'] as const) {
    const v = e[k];
    if (!Number.isInteger(v) || v < 256 || v > 0xffffffff) throw new InvalidArgumentError(`${who} ${k} must be 256..2^32-1 (RFC 4303 §2.1), got ${v}`, k);
  }
  for (const k of ['portC', 'portS'] as const) {
    const v = e[k];
    if (!Number.isInteger(v) || v < 1 || v > 0xffff) throw new InvalidArgumentError(`${who} ${k} must be 1..65535, got ${v}`, k);
  }
  if (e.spiC === e.spiS) throw new InvalidArgumentError(`${who} spi-c and spi-s must differ`, 'spiS');
}

/**
 * Build the UE's Security-Client (R-SM-1): one `ipsec-3gpp` mechanism per usable
 * (mod, alg, ealg) combination, in the UE's priority order (mode first, then integrity, then
 * encryption), each carrying the UE's own spi-c/spi-s/port-c/port-s.
 */
export function buildUeOffer(cfg: UeOfferConfig): SecMechanism[] {
  checkEndpoint(cfg, 'UE');
  const ealgs = cfg.ealgs ?? ['null'];
  const mods = cfg.mods ?? ['trans'];
  const explicit = cfg.explicitDefaults ?? true;
  const out: SecMechanism[] = [];
  for (const mod of mods) {
    for (const alg of cfg.algs) {
      for (const ealg of ealgs) {
        if (!isValidAlgCombination(alg, ealg)) continue;
        const m: SecMechanism = { name: IPSEC_3GPP, alg, extensions: [] };
        if (explicit || ealg !== 'null') m.ealg = ealg;
        if (explicit) m.prot = 'esp';
        if (explicit || mod !== 'trans') m.mod = mod;
        m.spiC = cfg.spiC;
        m.spiS = cfg.spiS;
        m.portC = cfg.portC;
        m.portS = cfg.portS;
        out.push(m);
      }
    }
  }
  if (out.length === 0) throw new InvalidArgumentError('no usable (alg, ealg) combination to offer', 'algs');
  if (cfg.withQ) {
    if (out.length > 1000) throw new InvalidArgumentError('more than 1000 mechanisms cannot carry distinct q values', 'withQ');
    const step = Math.floor(1000 / out.length);
    out.forEach((m, i) => (m.q = (1000 - i * step) / 1000));
  }
  return out;
}

/** What the UE learnt from an acceptable Security-Server. */
export interface UeAcceptance {
  ok: true;
  /** The Security-Server mechanism that applies. */
  chosen: SecMechanism;
  alg: IntegrityAlgName;
  ealg: EncryptionAlgName;
  mod: IpsecMode;
  /** The P-CSCF's SPIs and protected ports. */
  pcscf: SecAgreeEndpoint;
  /** What to send in Security-Verify: the Security-Server list exactly as received (R-SM-4). */
  verify: SecMechanism[];
}

/** Sort by q descending (absent q after every explicit q), stable on list order. */
export function byPreference<T extends { m: SecMechanism; i: number }>(a: T, b: T): number {
  const qa = a.m.q ?? -1;
  const qb = b.m.q ?? -1;
  return qb - qa || a.i - b.i;
}

/**
 * The UE's check of the 401's Security-Server (R-SM-5, TS 33.203 §7.3.2.2): take the
 * `ipsec-3gpp` entries in preference order (RFC 3329 §2.3.1: the client uses the most preferred
 * one it supports) and accept the first whose transform (alg, ealg, prot, mod) is one the UE
 * offered and whose SPIs/ports are complete. Anything else: refuse and stop the registration.
 */
export function ueAcceptSecurityServer(offer: readonly SecMechanism[], server: readonly SecMechanism[]): UeAcceptance | NegotiationFailure {
  const candidates = server
    .map((m, i) => ({ m, i }))
    .filter((c) => isIpsec3gpp(c.m))
    .sort(byPreference);
  if (candidates.length === 0) return failure('no-mechanism', 'Security-Server carries no ipsec-3gpp mechanism');
  const ueSpis = new Set(offer.filter(isIpsec3gpp).flatMap((m) => [m.spiC, m.spiS]));
  let lastProblem: NegotiationFailure | undefined;
  for (const { m } of candidates) {
    const offered = offer.find((o) => isIpsec3gpp(o) && sameTransform(o, m));
    const e = effectiveIpsec(m);
    if (!offered || !isValidAlgCombination(e.alg ?? '', e.ealg)) {
      lastProblem ??= failure('not-offered', `Security-Server chose alg=${e.alg} ealg=${e.ealg} prot=${e.prot} mod=${e.mod}, which the UE did not offer`);
      continue;
    }
    const { spiC, spiS, portC, portS } = e;
    if (spiC === undefined || spiS === undefined || portC === undefined || portS === undefined || spiC < 256 || spiS < 256 || spiC === spiS || portC === 0 || portS === 0) {
      lastProblem = failure('invalid-parameters', 'Security-Server lacks usable spi-c/spi-s/port-c/port-s');
      continue;
    }
    if (ueSpis.has(spiC) || ueSpis.has(spiS)) {
      lastProblem = failure('spi-collision', 'Security-Server reuses an SPI of the UE (a reflected packet would be valid)');
      continue;
    }
    return {
      ok: true,
      chosen: m,
      alg: e.alg as IntegrityAlgName,
      ealg: e.ealg as EncryptionAlgName,
      mod: e.mod,
      pcscf: { spiC, spiS, portC, portS },
      verify: server.map((s) => ({ ...s, extensions: s.extensions.map((p) => ({ ...p })) })),
    };
  }
  return lastProblem ?? failure('not-offered', 'no acceptable Security-Server mechanism');
}
