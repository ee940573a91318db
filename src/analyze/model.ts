/**
 * Registrations and SA sets as the analyser rebuilds them from the UE–P-CSCF leg (TS 33.203 §7,
 * TS 24.229 §5.1.1/§5.2.2): what the report shows and what the checks keep as state.
 */
import type { SecMechanism } from '../secagree/index.js';

export type SaSetState = 'temporary' | 'active' | 'old' | 'deleted' | 'failed';

/** The four SAs of one sec-agree (TS 33.203 §7.1): SPIs are each side's inbound SPIs. */
export interface SaSet {
  readonly id: number;
  readonly registration: number;
  readonly impi: string;
  readonly ue: string;
  readonly pcscf: string;
  /** UE protected client/server ports and P-CSCF protected client/server ports. */
  readonly uc: number;
  readonly us: number;
  readonly pc: number;
  readonly ps: number;
  /** UE inbound SPIs (its Security-Client spi-c/spi-s) and P-CSCF inbound SPIs (Security-Server). */
  readonly spiUc: number;
  readonly spiUs: number;
  readonly spiPc: number;
  readonly spiPs: number;
  readonly alg: string;
  readonly ealg: string;
  readonly mode: string;
  /** Keys known (from the capture's MAA/401 or a keys file). */
  keyed: boolean;
  keySource?: 'maa' | 'scscf-401' | 'file';
  state: SaSetState;
  readonly createdAt: number;
  readonly createdFrames: number[];
  history: { at: number; state: SaSetState; frames: number[] }[];
  /** Capture time after which ESP on the set is late (R-SA-7). */
  expiresAt?: number;
  esp: { ok: number; icv: number; replay: number; fromUe: number };
}

export type StepKind = 'initial' | 'auth-response' | 're-registration' | 'de-registration' | 'mac-failure' | 'sync-failure' | 'network-reauth';

export interface RegistrationStep {
  kind: StepKind;
  at: number;
  frames: number[];
  protected: boolean;
  /** Final answer: `401`, `200`, `403`, … (undefined while none was seen). */
  outcome?: number;
  setId?: number;
}

export interface Challenge {
  at: number;
  frames: number[];
  setId?: number;
  server: SecMechanism[];
  client: SecMechanism[];
  answered: boolean;
  reported: boolean;
  unknownSpiFromUe: number;
  clearAnswers: number;
}

export interface Registration {
  readonly index: number;
  readonly impi: string;
  ue: string;
  pcscf: string;
  impus: Set<string>;
  state: 'unregistered' | 'challenged' | 'registered' | 'deregistered' | 'failed';
  steps: RegistrationStep[];
  /** Steps not kept beyond the first 200. */
  stepsOmitted?: number;
  /** SA sets made for it (the first 200). */
  sets: number[];
  /** Its SA sets not yet deleted. */
  live: Set<number>;
  activeSet?: number;
  challenge?: Challenge;
  /** Security-Server of the last successful authentication (R-SM-4). */
  lastServer?: SecMechanism[];
  /** Security-Client of the first REGISTER of the current attempt. */
  client?: SecMechanism[];
  digest: { verified: number; failed: number; unchecked: number };
  nonceMatchesMaa?: boolean;
}
