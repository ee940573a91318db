/**
 * The P-CSCF's state besides the SA table (src/ipsec/sa SaManager): registrations in progress
 * (`pending`: the UE's sec-agree offer, keyed by IMPI and source, TS 24.229 §5.2.2.1) and
 * registered UEs (IMPI → IMPUs, UE address, contact, Service-Route, lifetime, reg-event dialog).
 * Plain data plus the views the tests and the demo print (`pending()`, `registrations()`).
 */
import { joinedKey, type TimerHandle } from '../../common/index.js';
import type { SaDeleteReason } from '../../ipsec/index.js';
import type { SecAgreeSelection, SecMechanism } from '../../secagree/index.js';
import type { Endpoint, TransportProtocol } from '../../sip/transport/index.js';

/** Where a pending registration stands. */
export type PendingState =
  /** The REGISTER went upstream; no 401 yet. */
  | 'forwarded'
  /** The 401 went to the UE with Security-Server; temporary SAs wait for the protected REGISTER. */
  | 'challenged'
  /** The protected REGISTER went upstream; waiting for the 200. */
  | 'verifying';

export interface PendingRegistration {
  readonly key: string;
  readonly impi: string;
  /** The IMPU of the To header (the one being registered). */
  readonly impu: string | undefined;
  /** The UE's IP address (the SAs are bound to it, R-SA-9). */
  readonly ueAddress: string;
  /** Transport and source of the REGISTER that opened the attempt. */
  readonly transport: TransportProtocol;
  readonly source: Endpoint;
  /** Security-Client of that REGISTER (R-SM-4 compares the second one with it). */
  readonly offer: SecMechanism[] | undefined;
  readonly selection: SecAgreeSelection | undefined;
  /** The SA set the REGISTER came over (a re-registration, R-RR-1); undefined when unprotected. */
  readonly overSetId: number | undefined;
  state: PendingState;
  /** The temporary set created on the 401. */
  setId?: number;
  /** The Security-Server sent in the 401 (R-SM-4 compares Security-Verify with it). */
  server?: SecMechanism[];
  readonly createdAt: number;
  /** Safety timer for the `forwarded` state (registration timer). */
  timer?: TimerHandle;
}

/** The reg-event subscription dialog of one registration (RFC 6665, TS 24.229 §5.2.3). */
export interface RegSubscription {
  readonly callId: string;
  readonly fromTag: string;
  readonly impu: string;
  toTag?: string;
  routeSet: readonly string[];
  target?: string;
  cseq: number;
  state: 'subscribing' | 'active' | 'terminated';
  expiresAt?: number;
}

/**
 * A registration the network has ended (reg-event NOTIFY, TS 24.229 §5.2.5.1) that still waits
 * for what is in flight towards the UE over its SAs (TS 33.203 §7.4): the answer to a REGISTER
 * sent over them, the NOTIFY meant for the UE and its 200, any other transaction of the UE.
 */
export interface RegistrationEnding {
  readonly reason: SaDeleteReason;
  readonly detail: string;
  readonly since: number;
  /** The sets the registration had when it was ended (deleted with it). */
  readonly setIds: readonly number[];
  /** No more waiting for the NOTIFY meant for the UE (it was answered, or the grace ran out). */
  graceOver: boolean;
  grace?: TimerHandle;
  /** Never waits longer than the registration timer. */
  cap?: TimerHandle;
}

export interface Registration {
  readonly impi: string;
  impus: string[];
  ueAddress: string;
  /** The UE's Contact URI as registered. */
  contact: string;
  serviceRoute: readonly string[];
  /** The newest active SA set. */
  setId: number;
  registeredAt: number;
  expiresAt: number;
  /** Why the registration ends at `expiresAt`, for the log (its lifetime, or the network shortened it). */
  expiryDetail?: string;
  subscription?: RegSubscription;
  /** Set once the network ended the registration; removed when nothing is in flight any more. */
  ending?: RegistrationEnding;
  /** The UE answered 2xx to a relayed reg-event NOTIFY saying its registration ended. */
  ueNotified?: boolean;
}

/** One row of {@link PcscfView.pending} (no secrets, no timers). */
export interface PendingView {
  impi: string;
  impu?: string;
  ueAddress: string;
  transport: TransportProtocol;
  source: Endpoint;
  state: PendingState;
  setId?: number;
  overSetId?: number;
  ageMs: number;
}

/** One row of {@link PcscfView.registrations}. */
export interface RegistrationView {
  impi: string;
  impus: string[];
  ueAddress: string;
  contact: string;
  serviceRoute: string[];
  setId: number;
  expiresInMs: number;
  subscription?: 'subscribing' | 'active' | 'terminated';
  /** Present while an ended registration waits for its in-flight transactions (TS 33.203 §7.4). */
  ending?: { reason: string; detail: string; ageMs: number };
}

/** A failure the P-CSCF reports (R-FAIL-1): logged at info and kept for inspection. */
export interface PcscfFailure {
  at: number;
  impi: string;
  /** Stable reason: `registration-timer`, `security-verify-mismatch`, `upstream-timeout`, ... */
  reason: string;
  detail: string;
}

/** Live counters (each rule that refuses something counts here). */
export interface PcscfCounters {
  registerReceived: number;
  /** 421/494/400 from the sec-agree gate (R-SM-2). */
  secAgreeRejected: number;
  /** 401s turned into Security-Server and temporary SAs. */
  challenges: number;
  /** Registrations completed (temporary set activated). */
  registered: number;
  /** Re-registrations answered 200 without a new set (lifetime refreshed). */
  refreshed: number;
  deregistered: number;
  /** R-SM-4: Security-Verify or Security-Client mismatch. */
  bidDownRejected: number;
  /** R-SA-5: requests refused on the wrong port. */
  portRuleRejected: number;
  /** R-SA-4: requests discarded because their identity is not bound to the SA. */
  identityRejected: number;
  /** R-SA-4 / R-SA-9: REGISTERs refused for their selector, IMPI, source or Contact. */
  selectorRejected: number;
  /** R-FAIL-1: temporary sets that expired without a valid protected REGISTER. */
  registrationTimerExpired: number;
  /** R-ANON-1: terminating requests refused because critical privacy cannot be given. */
  privacyRejected: number;
  forwardedOriginating: number;
  forwardedTerminating: number;
  notifies: number;
  /** Initial REGISTERs answered 503 + Retry-After: too many attempts from one address or in all. */
  overloadRejected: number;
}

export function newPcscfCounters(): PcscfCounters {
  return {
    registerReceived: 0,
    overloadRejected: 0,
    secAgreeRejected: 0,
    challenges: 0,
    registered: 0,
    refreshed: 0,
    deregistered: 0,
    bidDownRejected: 0,
    portRuleRejected: 0,
    identityRejected: 0,
    selectorRejected: 0,
    registrationTimerExpired: 0,
    privacyRejected: 0,
    forwardedOriginating: 0,
    forwardedTerminating: 0,
    notifies: 0,
  };
}

/** The pending-registration key: IMPI plus the source of the REGISTER (TS 24.229 §5.2.2.1). */
export function pendingKey(impi: string, transport: TransportProtocol, source: Endpoint): string {
  return joinedKey(impi, transport, source.address, source.port);
}
