/**
 * What the HSS's Cx procedures share (TS 29.228 §6): the injected store and logger, this HSS's
 * Diameter identity, the counters, and the identity checks every procedure starts with.
 * core.ts implements it; mar.ts and sar.ts run their procedure against it. Pure.
 */
import type { Logger } from '../../common/index.js';
import type { DiameterResult } from '../../diameter/index.js';
import type { HssStore, PublicIdentity, RegistrationSnapshot, RegistrationUpdate } from '../../store/index.js';

/** Counters since start, for logs, the REST API and tests. */
export interface HssCounters {
  uar: number;
  mar: number;
  sar: number;
  lir: number;
  /** Authentication vectors issued. */
  vectors: number;
  /** Resynchronisations done (MAC-S good) and refused (MAC-S bad). */
  resyncs: number;
  resyncRejected: number;
  /** Answers by command and result, e.g. `MAA 2001`, `UAA 2001/10415`. */
  results: Record<string, number>;
}

/** The outcome of the IMPI/IMPU checks: the public identity, or the result to answer with. */
export type Identified = { ok: true; pub: PublicIdentity } | { ok: false; result: DiameterResult };

/** The procedures' view of the HSS core. */
export interface CxContext {
  readonly store: HssStore;
  /** Writes registration state ({@link HssStore.setRegistration}, group-committed in the server). */
  readonly setRegistration: (impu: string, update: RegistrationUpdate) => Promise<RegistrationSnapshot[]>;
  readonly log: Logger;
  readonly counters: HssCounters;
  /** Server-Name (S-CSCF SIP URI) → the Origin-Host that used it last (for RTR/PPR). */
  readonly scscfHosts: Map<string, string>;
  /** This HSS's Origin-Host and Origin-Realm, for the answers. */
  readonly me: { originHost: string; originRealm: string };
  /** Counts an answer's result under `cmd` and returns it. */
  count(cmd: string, r: DiameterResult): DiameterResult;
  /** IMPI/IMPU checks shared by UAR, MAR and SAR (TS 29.228 §6.1.1.1 steps 1–2, §6.3.1 steps 1–2). */
  identify(impi: string, impu: string): Promise<Identified>;
  /** A store failure as the result to answer with (logged without secrets). */
  storeFailure(cmd: string, err: unknown): DiameterResult;
  /** User-Data for the implicit sets of `pubs` (R-REG-2). */
  userData(impi: string, pubs: readonly Pick<PublicIdentity, 'impu'>[]): Promise<Uint8Array>;
}
