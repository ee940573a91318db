/**
 * One registration attempt of the soft UE (TS 24.229 §5.1.1.2, §5.1.1.4, §5.1.1.5): the local
 * SPIs and protected ports it offers in its Security-Client (TS 33.203 §7.1: fresh inbound SPIs,
 * never the peer's; a port_uc of its own, the UE's one port_us), and the SA set it creates once
 * the 401 has been checked (TS 33.203 §7.2: keyed from IK/CK). A failure report needs a new
 * attempt (§5.1.1.5.3); an abandoned one leaves no SA and no reservation behind.
 */
import type { LocalReservation, SaManager } from '../../ipsec/index.js';
import { buildUeOffer, type SecAgreeEndpoint, type SecMechanism } from '../../secagree/index.js';
import type { ChallengeOutcome } from './decide.js';
import { UeError } from './errors.js';
import type { UeCoreConfig } from './types.js';

/** One registration attempt's local parameters and the SA set it created (if any). */
export interface Attempt {
  local: SecAgreeEndpoint;
  reservation: LocalReservation;
  offer: SecMechanism[];
  setId?: number;
  /** Release the reservation and delete the set, if any. */
  abandon(): void;
}

/** The attempt in progress: replaced when a failure report needs a new Security-Client. */
export interface AttemptRef {
  a: Attempt;
}

/** Resyncs allowed in one registration before giving up (R-FAIL-3 expects one). */
export const MAX_RESYNCS = 2;
/** Bad-MAC challenges reported in one registration before giving up (R-FAIL-2). */
export const MAX_MAC_FAILURES = 2;

type AttemptConfig = Pick<UeCoreConfig, 'id' | 'localAddress' | 'pcscfAddress' | 'serverPort' | 'integrity' | 'encryption' | 'mode'>;

/** Fresh inbound SPIs (never the peer's, R-SA-3), the protected ports, the offer (R-SM-1). */
export function newAttempt(sa: Pick<SaManager, 'reserveLocal' | 'deleteSet'>, cfg: AttemptConfig, portC: number, avoidSpis: number[]): Attempt {
  const reservation = sa.reserveLocal({ avoidSpis });
  const local: SecAgreeEndpoint = { spiC: reservation.spiC, spiS: reservation.spiS, portC, portS: cfg.serverPort };
  const a: Attempt = {
    local,
    reservation,
    offer: buildUeOffer({ ...local, algs: cfg.integrity, ealgs: cfg.encryption, mods: [cfg.mode] }),
    abandon: () => {
      reservation.release();
      if (a.setId !== undefined) sa.deleteSet(a.setId, 'failed');
      a.setId = undefined;
    },
  };
  return a;
}

/** The attempt's temporary SA set, keyed from the challenge's IK/CK (TS 33.203 §7.2); its id. Throws UeError('sa'). */
export function createAttemptSet(sa: Pick<SaManager, 'createSet'>, cfg: AttemptConfig, d: Extract<ChallengeOutcome, { kind: 'answer' }>, a: Attempt): number {
  const r = sa.createSet({
    impi: cfg.id.impi,
    impus: [cfg.id.impu],
    ueAddress: cfg.localAddress,
    pcscfAddress: cfg.pcscfAddress,
    remote: d.security.pcscf,
    local: { ...a.local, release: () => a.reservation.release() },
    integrity: d.security.alg,
    encryption: d.security.ealg,
    mode: d.security.mod,
    ik: d.ik,
    ck: d.ck,
  });
  if (!r.ok) throw new UeError('sa', `SA set refused: ${r.reason} (${r.detail})`);
  return r.set.id;
}
