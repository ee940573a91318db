/**
 * The HSS data store: one interface, two implementations (SQLite, the embedded default, and
 * PostgreSQL). Every method is async so that a networked database fits; every method is one
 * transaction, so the Cx server never sees half a change.
 *
 * What the store keeps (TS 29.228 §6, TS 33.102 Annex C):
 * - a subscriber per IMPI with K, OPc (an OP is turned into OPc at provisioning and never
 *   stored), AMF, the AuC's SQN state (SEQ_HE and the IND length) and the allowed SIP
 *   authentication schemes;
 * - its IMPUs, each in an implicit registration set (TS 29.228 §6.5.2.2: IMPUs of one set
 *   register and de-register together), with barring, pseudonym and default-identity flags;
 * - a service profile (TS 29.228 User-Data XML, kept as text) per set or per subscriber;
 * - per IMPU the registration state and the assigned S-CSCF name (TS 29.228 §6.1);
 * - the IND value handed to each requesting Diameter peer (Origin-Host), TS 33.102 C.1.2.
 *
 * Secrets: K and OPc go in through {@link HssStore.createSubscriber} / {@link
 * HssStore.updateSubscriber} and come out only through the two SQN methods used to generate
 * vectors ({@link HssStore.allocateSqns}, {@link HssStore.resync}). No other method returns them.
 */
import type { AutsCheck } from '../auth/index.js';

/**
 * Registration state of a public identity (TS 29.228 §6.1.2 and the "authentication pending"
 * flag of §6.3): NOT_REGISTERED; PENDING while an authentication the S-CSCF started (MAR) is
 * under way; REGISTERED; UNREGISTERED (an S-CSCF holds the profile for unregistered services,
 * TS 29.228 §6.1.2 "unregistered state").
 */
export type RegistrationState = 'NOT_REGISTERED' | 'PENDING' | 'REGISTERED' | 'UNREGISTERED';

export const REGISTRATION_STATES: readonly RegistrationState[] = Object.freeze(['NOT_REGISTERED', 'PENDING', 'REGISTERED', 'UNREGISTERED']);

/** SIP-Authentication-Scheme values the HSS can serve with AKA (TS 29.229 §6.3.9, RFC 3310, RFC 4169). */
export type AuthScheme = 'Digest-AKAv1-MD5' | 'Digest-AKAv2-MD5';

export const AUTH_SCHEMES: readonly AuthScheme[] = Object.freeze(['Digest-AKAv1-MD5', 'Digest-AKAv2-MD5']);

/** One public user identity as provisioned (the registration fields live in {@link PublicIdentity}). */
export interface PublicIdentitySpec {
  /** SIP or tel URI (TS 23.003 §13.4). Unique across the store. */
  impu: string;
  /** Implicit registration set number, scoped to the subscriber (1, 2, …). */
  irs: number;
  /** Barred identities may not be used for non-emergency registrations (TS 29.228 §6.1.2). */
  barred: boolean;
  /** A temporary/pseudonym identity (R-ANON-2: handled like any other IMPU). */
  pseudonym: boolean;
  /** The default public identity of the subscriber (exactly one per subscriber). */
  isDefault: boolean;
}

/** A public identity with its registration fields, as read back from the store. */
export interface PublicIdentity extends PublicIdentitySpec {
  impi: string;
  state: RegistrationState;
  scscfName: string | null;
}

/** Per-set data: the service profile of an implicit registration set. */
export interface ImplicitSetSpec {
  irs: number;
  /** TS 29.228 User-Data XML for this set; null means "use the subscriber's". */
  serviceProfile: string | null;
}

/** Everything provisioned for a new subscriber. */
export interface NewSubscriber {
  /** NAI, username@realm (TS 23.003 §13.3). */
  impi: string;
  /** 16 bytes. */
  k: Uint8Array;
  /** 16 bytes (TS 35.206 §4.1: OPc = OP ⊕ E_K(OP)). */
  opc: Uint8Array;
  /** 16-bit AMF. */
  amf: number;
  /** SEQ_HE: the highest SEQ already issued; the next vector gets SEQ_HE + 1 (TS 33.102 C.1.1). */
  seqHe: number;
  /** IND length in bits (TS 33.102 C.1.1.2; 5 recommended). */
  indBits: number;
  authSchemes: AuthScheme[];
  /** Subscriber-wide TS 29.228 User-Data XML, or null. */
  serviceProfile: string | null;
  /** In order; exactly one has `isDefault`. */
  impus: PublicIdentitySpec[];
  /** Per-set service profiles; sets named by the IMPUs but not listed here have none. */
  implicitSets: ImplicitSetSpec[];
}

/** A subscriber as read back: everything but K and OPc. */
export interface Subscriber {
  impi: string;
  amf: number;
  seqHe: number;
  indBits: number;
  authSchemes: AuthScheme[];
  serviceProfile: string | null;
  impus: PublicIdentity[];
  implicitSets: ImplicitSetSpec[];
}

/**
 * A change to a subscriber. Omitted fields stay. `k` and `opc` change together (OPc depends
 * on K). `impus` replaces the whole list; IMPUs that stay keep their registration state.
 * `implicitSets` replaces the per-set profiles.
 */
export interface SubscriberPatch {
  k?: Uint8Array;
  opc?: Uint8Array;
  amf?: number;
  seqHe?: number;
  indBits?: number;
  authSchemes?: AuthScheme[];
  serviceProfile?: string | null;
  impus?: PublicIdentitySpec[];
  implicitSets?: ImplicitSetSpec[];
}

/** The secrets and parameters needed to build vectors for one subscriber. */
export interface SubscriberKeys {
  k: Uint8Array;
  opc: Uint8Array;
  amf: number;
}

/** One request of {@link HssStore.allocateSqnsMany}. */
export interface SqnRequest {
  impi: string;
  originHost: string;
  count: number;
}

/** SQNs issued for one vector request. */
export interface SqnAllocation extends SubscriberKeys {
  /** SQN = SEQ ‖ IND, in the order the vectors must be used (R-AKA-2); empty when count is 0. */
  sqns: number[];
  /** IND used (the requesting peer's slot, reduced to the subscriber's IND length). */
  ind: number;
  indBits: number;
}

/** A resynchronisation request (TS 33.102 §6.3.5) carried out by {@link HssStore.resync}. */
export interface ResyncRequest {
  /** Origin-Host of the S-CSCF asking, for the IND of the fresh SQNs. */
  originHost: string;
  /** Fresh SQNs to issue after the resync (0 allowed). */
  count: number;
  /**
   * Verifies AUTS with the subscriber's keys: normally
   * `(keys) => verifyAuts(new Milenage(keys.k, keys.opc), rand, auts)`. Called once, inside
   * the transaction, synchronously; a `{ ok: false }` leaves the SQN state untouched.
   */
  verify: (keys: SubscriberKeys) => AutsCheck;
}

export type ResyncResult =
  | { ok: false }
  | {
      ok: true;
      /** SQN_MS recovered from AUTS. */
      sqnMs: number;
      /** SEQ_HE before and after the resync step (equal when the HE's SQN was still acceptable). */
      previousSeqHe: number;
      seqHe: number;
      /** The fresh SQNs (issued after the resync step) and the keys to build their vectors. */
      allocation: SqnAllocation;
    };

/** The registration fields of one IMPU at a moment; what {@link HssStore.restoreRegistration} puts back. */
export interface RegistrationSnapshot {
  impu: string;
  state: RegistrationState;
  scscfName: string | null;
}

/** An implicit registration set: the IMPUs that register together (TS 29.228 §6.5.2.2). */
export interface ImplicitSet {
  impi: string;
  irs: number;
  /** The set's profile, else the subscriber's, else null. */
  serviceProfile: string | null;
  impus: PublicIdentity[];
}

/**
 * How an IMPI/IMPU pair relates, mapping one to one onto Cx results (TS 29.228 §6.1.1, §6.3):
 * USER_UNKNOWN → DIAMETER_ERROR_USER_UNKNOWN (5001), IDENTITIES_DONT_MATCH →
 * DIAMETER_ERROR_IDENTITIES_DONT_MATCH (5002).
 */
export type IdentityMatch = 'MATCH' | 'USER_UNKNOWN' | 'IDENTITIES_DONT_MATCH';

export interface ListOptions {
  /** At most this many (default 100, at most 10000). */
  limit?: number;
  /** Only IMPIs sorting after this one (keyset paging). */
  after?: string;
}

/** The new registration fields for a set; `scscfName` undefined keeps the current name. */
export interface RegistrationUpdate {
  state: RegistrationState;
  scscfName?: string | null;
}

export interface HssStore {
  /** `sqlite` or `postgres`. */
  readonly kind: 'sqlite' | 'postgres';

  // --- provisioning --------------------------------------------------------------------------

  /** Insert one subscriber; {@link ConflictError} if the IMPI or an IMPU exists. */
  createSubscriber(s: NewSubscriber): Promise<Subscriber>;
  /**
   * Insert many subscribers in ONE transaction: all or nothing. On a clash the ConflictError
   * carries the `index` of the offending subscriber. `onProgress(done, total)` is called as rows go in
   * (per row on SQLite, per chunk of 1000 on PostgreSQL), last with done = total.
   */
  createSubscribers(list: readonly NewSubscriber[], onProgress?: (done: number, total: number) => void): Promise<number>;
  /** Apply a patch; {@link NotFoundError} if unknown, {@link ConflictError} if a new IMPU clashes. */
  updateSubscriber(impi: string, patch: SubscriberPatch): Promise<Subscriber>;
  /** Remove a subscriber with its IMPUs and sets; false if it did not exist. */
  deleteSubscriber(impi: string): Promise<boolean>;
  /** Subscribers ordered by IMPI (keyset paging with `after`). */
  listSubscribers(opts?: ListOptions): Promise<Subscriber[]>;
  /** Number of subscribers. */
  countSubscribers(): Promise<number>;

  // --- lookups for Cx (TS 29.228 §6.1–6.3) ----------------------------------------------------

  /** The subscriber (without keys), or null. */
  getSubscriber(impi: string): Promise<Subscriber | null>;
  /** One public identity with its registration fields, or null. */
  getPublicIdentity(impu: string): Promise<PublicIdentity | null>;
  /** Does this IMPU belong to this IMPI? (UAR/MAR/SAR identity check.) */
  matchIdentities(impi: string, impu: string): Promise<IdentityMatch>;
  /** The implicit registration set containing `impu`, or null if the IMPU is unknown. */
  getImplicitSet(impu: string): Promise<ImplicitSet | null>;

  // --- registration state (TS 29.228 §6.1.2, §6.3; R-REG-1, R-AKA-7, R-AKA-8) ------------------

  /**
   * Set state (and, unless undefined, the S-CSCF name) of every IMPU in the implicit set of
   * `impu`, atomically. Returns the PREVIOUS fields of each IMPU of the set, so that a failed
   * or timed-out authentication can put them back exactly ({@link restoreRegistration}).
   * Moving a set into PENDING also remembers the previous fields in the store, for
   * {@link revertPending} (which works after a restart or from another request).
   */
  setRegistration(impu: string, update: RegistrationUpdate): Promise<RegistrationSnapshot[]>;
  /**
   * Optional group commit (for the HSS server): several {@link setRegistration} updates in ONE
   * transaction, applied in order, results in request order. Each result is what
   * {@link setRegistration} would have returned, or the typed error it would have thrown for that
   * update alone (that update changes nothing and the others still commit). Callers fall back to
   * {@link setRegistration} when it is absent.
   */
  setRegistrationsMany?(updates: readonly { impu: string; update: RegistrationUpdate }[]): Promise<(RegistrationSnapshot[] | Error)[]>;
  /** Put IMPUs back exactly to earlier snapshots, in one transaction. */
  restoreRegistration(snapshots: readonly RegistrationSnapshot[]): Promise<void>;
  /**
   * AUTHENTICATION_FAILURE / AUTHENTICATION_TIMEOUT (TS 29.228 §6.1.2.1, R-AKA-8): every PENDING
   * IMPU of the set of `impu` returns to the state and S-CSCF name it had before it became
   * PENDING; other IMPUs are left alone (a REGISTERED user stays registered, R-AKA-7).
   * Returns the fields each IMPU of the set has afterwards.
   */
  revertPending(impu: string): Promise<RegistrationSnapshot[]>;
  /** Set (or clear with null) the S-CSCF name of the implicit set of `impu`; returns the previous fields. */
  setScscfName(impu: string, scscfName: string | null): Promise<RegistrationSnapshot[]>;
  /** IMPUs assigned to an S-CSCF, in the given states (default REGISTERED only), ordered by IMPU. */
  listServedImpus(scscfName: string, states?: readonly RegistrationState[]): Promise<PublicIdentity[]>;

  // --- authentication vectors (TS 33.102 §6.3, Annex C; R-AKA-2, R-AKA-3, R-AKA-5) ---------------

  /**
   * Issue `count` SQNs for one vector request, in ONE transaction: SEQ_HE grows by `count` and
   * the SQNs SEQ_HE+1 … SEQ_HE+count carry the IND assigned to `originHost` (persisted in
   * `ind_assignment`). A committed SQN is never issued again — not after a crash, not by
   * another process sharing the database (R-AKA-3). Returns K, OPc and AMF with the SQNs: this
   * and {@link resync} are the only ways to read the keys.
   * {@link NotFoundError} if the IMPI is unknown; SqnExhaustedError when SEQ would overflow.
   */
  allocateSqns(impi: string, originHost: string, count: number): Promise<SqnAllocation>;
  /**
   * Optional group commit (added for the HSS server): the allocations of several requests in ONE
   * transaction, results in request order. Each result is the allocation, or the typed error
   * {@link allocateSqns} would have thrown for that request alone (that request changes nothing
   * and the others still commit). Callers fall back to {@link allocateSqns} when it is absent.
   */
  allocateSqnsMany?(requests: readonly SqnRequest[]): Promise<(SqnAllocation | Error)[]>;
  /**
   * Resynchronisation (TS 33.102 §6.3.5, R-AKA-5) in ONE transaction with the subscriber row
   * locked: read the keys, let `req.verify` check MAC-S, and only if it passes apply the HE
   * resync rule (`resyncHe`) and issue `req.count` fresh SQNs. A bad MAC-S returns
   * `{ ok: false }` and changes nothing.
   */
  resync(impi: string, req: ResyncRequest): Promise<ResyncResult>;
  /** The IND assigned to a peer (assigning and persisting one if new), TS 33.102 C.1.2. */
  indForPeer(originHost: string): Promise<number>;

  /** Schema version of the open database. */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}
