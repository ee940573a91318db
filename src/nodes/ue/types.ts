/**
 * The soft UE's vocabulary (TS 24.229 §5.1.1): its registration states, the registration it
 * holds, what it shows of itself, its configuration and the ports it works over.
 */
import type { Clock, Logger, Rng } from '../../common/index.js';
import type { EncryptionAlg, IntegrityAlg, SaManager } from '../../ipsec/index.js';
import type { IpsecMode, SecAgreeEndpoint, SecMechanism } from '../../secagree/index.js';
import type { SipRequest, SipResponse } from '../../sip/index.js';
import type { Endpoint } from '../../sip/transport/index.js';
import type { ReRegisterPolicy, UeTransportKind } from './config.js';
import type { ChallengeIsim } from './decide.js';
import type { UeFailureReason } from './errors.js';
import type { RegSubscriptionState } from './reg-subscription.js';
import type { UeIdentity } from './requests.js';

/** A request from the network as the UE saw and answered it. */
export interface UeIncomingRequest {
  method: string;
  uri: string;
  from: string;
  callId: string;
  /** The status the UE answered with. */
  status: number;
  problem?: string;
}

export type UeRegState = 'idle' | 'registering' | 'authenticating' | 'registered' | 'reregistering' | 'deregistering' | 'deregistered' | 'failed';

/** The current registration (R-REG-2, R-SA-7). */
export interface UeRegistration {
  impus: string[];
  serviceRoute: string[];
  expires: number;
  registeredAt: number;
  expiresAt: number;
  setId: number;
  /** The UE's SPIs and protected ports of the active set. */
  ue: SecAgreeEndpoint;
  /** The P-CSCF's, with its address. */
  pcscf: SecAgreeEndpoint & { address: string };
  alg: IntegrityAlg;
  ealg: EncryptionAlg;
  mod: IpsecMode;
  /** Security-Client that set it up and the Security-Server received (Security-Verify of the next REGISTER). */
  securityClient: SecMechanism[];
  securityServer: SecMechanism[];
}

export interface UeSnapshot {
  state: UeRegState;
  impi: string;
  impu: string;
  registration?: UeRegistration;
  subscription: RegSubscriptionState;
  /** When the reg-event subscription ends and when it will be refreshed (TS 24.229 §5.1.1.3). */
  subscriptionExpiresAt?: number;
  subscriptionRefreshAt?: number;
  reRegisterAt?: number;
  lastFailure?: { reason: UeFailureReason; detail: string; status?: number };
}

export interface UeCoreConfig {
  id: UeIdentity;
  localAddress: string;
  /** The P-CSCF address (IP). */
  pcscfAddress: string;
  /** The UE's protected server port (port-s; kept for the UE's life, it is in the Contact). */
  serverPort: number;
  /** The unprotected SIP port: the Contact of a REGISTER no SA protects (TS 24.229 §5.1.1.2.2). */
  unprotectedPort: number;
  /** `+sip.instance` of the Contact (RFC 5626 §4.1, TS 24.229 §5.1.1.2.2): a URN that never changes. */
  instanceId: string;
  /** A fixed protected client port for the initial registration (0: ask `freePort`). */
  clientPort: number;
  expires: number;
  integrity: readonly IntegrityAlg[];
  encryption: readonly EncryptionAlg[];
  mode: IpsecMode;
  /** SIP over UDP (default) or TCP (TS 33.203 §6.2: the SAs are shared by both). */
  transport?: UeTransportKind;
  reRegister: ReRegisterPolicy;
  subscribeRegEvent: boolean;
  userAgent?: string;
}

/** What the core needs from the outside world. */
export interface UeCorePorts {
  /** Send to the P-CSCF's unprotected port through the unprotected transport; resolves with the final response. */
  sendUnprotected(req: SipRequest): Promise<SipResponse>;
  /** Send through the protected transport from `clientPort` to the P-CSCF's protected server port `to`. */
  sendProtected(req: SipRequest, to: Endpoint, clientPort: number): Promise<SipResponse>;
  newCallId(): string;
  newTag(): string;
  newBranch(): string;
  sa: SaManager;
  /** Resolves when the SA changes made so far have reached the datapath. */
  saSettled(): Promise<void>;
  /** A free local port (UDP, and TCP when SIP goes over TCP) for a new protected client port, other than those in `avoid`. */
  freePort(avoid: readonly number[]): Promise<number>;
  isim: ChallengeIsim;
  clock: Clock;
  rng: Rng;
  log: Logger;
}

