/**
 * The vocabulary of the SA table ({@link SaManager} in ./manager.ts): its options, the parameters
 * and outcomes of creating a set, a reservation of local SPIs and ports, and the lifetimes of
 * TS 24.229 and RFC 3261 it uses by default.
 */
import type { IpsecMode } from '../../secagree/index.js';
import type { EncryptionAlg, IntegrityAlg } from '../esp/index.js';
import type { PortRange, SpiPolicy } from './allocate.js';
import type { Clock, Rng } from '../../common/index.js';
import type { SaRole, SaSet } from './types.js';

/** TS 24.229 Table 7.8.1: reg-await-auth, 4 minutes. */
export const REG_AWAIT_AUTH_MS = 240_000;
/** R-SA-7: an active set outlives its registration's expiry by 30 s (TS 24.229 §5.1.1.5.1). */
export const SA_LIFETIME_MARGIN_MS = 30_000;
/** 64·T1 with T1 = 500 ms (RFC 3261 §17.1.2.2). */
export const DEFAULT_CHANGE_OVER_MS = 32_000;

export interface SaManagerOptions {
  role: SaRole;
  clock: Clock;
  rng: Rng;
  /** Default: MSB 0 at the P-CSCF, MSB 1 at the UE (seed 001 §7.1). */
  spiPolicy?: SpiPolicy;
  /** Range the local protected ports come from. Default 20000..29999 (P-CSCF), 30000..39999 (UE). */
  portRange?: PortRange;
  /**
   * Lifetime of a temporary set and of a reservation: reg-await-auth, TS 24.229 §5.1.1.5.1 and
   * §5.2.2.1 with Table 7.8.1 (4 minutes; configurable).
   */
  temporaryLifetimeMs?: number;
  /**
   * How long an `old` set lives on once the new set has carried its first inbound message
   * (R-RR-2): 64·T1 (RFC 3261 §17.1.2.2 Timer F), 32 s with T1 = 500 ms.
   */
  changeOverMs?: number;
  /**
   * The local protected ports are shared by every SA set (a P-CSCF with one port_ps for all UEs
   * and a small pool of port_pc, SAs told apart by SPI, seed 001 §7.1). Default: true for the
   * P-CSCF, false for the UE.
   */
  sharedLocalPorts?: boolean;
  /** R-SA-6: SA sets per IMPI (= SAs per direction per transport per port pair). Default 3. */
  maxSetsPerImpi?: number;
}

/** Local SPIs and protected ports held for a registration in progress (UE: before its offer). */
export interface LocalReservation {
  readonly spiC: number;
  readonly spiS: number;
  readonly portC: number;
  readonly portS: number;
  /** Give them back (done automatically by createSet and after the await-auth lifetime). */
  release(): void;
}

export interface CreateSetParams {
  impi: string;
  impus: readonly string[];
  ueAddress: string;
  pcscfAddress: string;
  /** The peer's SPIs and protected ports, from its sec-agree header. */
  remote: { spiC: number; spiS: number; portC: number; portS: number };
  /** Ours: a reservation, explicit values, or omitted to allocate now (avoiding the peer's SPIs). */
  local?: LocalReservation | { spiC: number; spiS: number; portC: number; portS: number };
  integrity: IntegrityAlg;
  encryption: EncryptionAlg;
  mode: IpsecMode;
  /** IMS AKA keys (16 bytes each); expanded per TS 33.203 Annex I and not kept. */
  ik: Uint8Array;
  ck: Uint8Array;
}

export type CreateSetRefusal =
  /** R-SA-6: three sets for this IMPI and none may be evicted. */
  | 'sa-limit'
  /** Seed 001 §7.1 rule 3: a UE protected port of this address is bound to another IMPI. */
  | 'selector-in-use'
  /** A local protected port is used by another IMPI's set. */
  | 'port-in-use'
  /** A local SPI is used by a live SA or equals a peer SPI. */
  | 'spi-in-use';

export type CreateSetResult = { ok: true; set: SaSet } | { ok: false; reason: CreateSetRefusal; detail: string };
