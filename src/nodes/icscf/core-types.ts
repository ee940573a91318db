/**
 * What the I-CSCF core (IcscfCore, core.ts) is given and shows: its ports (Cx queries,
 * the proxy send), its options and its counters.
 */
import type { Logger, Rng } from '../../common/index.js';
import type { LocationInfoAnswer, UserAuthorizationAnswer } from '../../diameter/index.js';
import type { SipRequest, SipResponse } from '../../sip/index.js';
import type { TrustDomain } from '../common/index.js';
import type { NetworkMatcher } from './network.js';
import type { RegisterQuery } from './request-info.js';
import type { ScscfEntry } from './select.js';
import type { ThigPolicy } from './thig.js';

/** What {@link IcscfPorts.forward} gets besides the request. */
export interface ForwardHooks {
  /** Each provisional response (without our Via). */
  onProvisional?(resp: SipResponse): void;
  /** The opaque value given to IcscfCore.handle (the wire keeps its CANCEL state there). */
  context?: unknown;
}

/** The ports the core drives. */
export interface IcscfPorts {
  /** Sends a UAR (TS 29.229 §6.1.1); resolves with the UAA, rejects with a Diameter error. */
  uar(q: RegisterQuery): Promise<UserAuthorizationAnswer>;
  /** Sends an LIR for a public identity (TS 29.229 §6.1.5); resolves with the LIA. */
  lir(publicIdentity: string): Promise<LocationInfoAnswer>;
  /**
   * Proxies `req` (RFC 3261 §16.6: Max-Forwards decremented, our Via pushed) to the address of
   * `target` (a SIP URI) through a client transaction; resolves with the final response WITHOUT
   * our Via. Rejects with SipTimeoutError, SipTransportError or SipResolveError.
   */
  forward(req: SipRequest, target: string, hooks: ForwardHooks): Promise<SipResponse>;
  readonly rng: Rng;
  readonly log?: Logger;
}

export interface IcscfCoreOptions {
  home: NetworkMatcher;
  trusted: NetworkMatcher;
  /** Home domains: a Request-URI in one of them is for a user of this network. */
  homeDomains: readonly string[];
  /** A Route or Via host (and port) that is this I-CSCF. */
  isSelf(host: string, port?: number): boolean;
  /** This I-CSCF's Record-Route entry, e.g. `<sip:icscf.ims.lab:4060;lr>`. */
  recordRouteEntry: string;
  scscfs: readonly ScscfEntry[];
  defaultVisitedNetwork: string;
  trustedRegisterOnly: boolean;
  recordRoute: 'thig' | 'always' | 'never';
  /** Topology hiding; absent: off. */
  thig?: ThigPolicy;
  /** The trust domain (RFC 3325 §2.3); absent: every source is trusted. */
  trustDomain?: TrustDomain;
}

/** Where a request came from (the transport's view). */
export interface Source {
  address: string;
  port: number;
}

/** Live counters (diagnostics, tests). */
export interface IcscfCounters {
  requests: number;
  uar: number;
  lir: number;
  forwarded: number;
  /** Final responses the I-CSCF generated itself, by status. */
  generated: Record<number, number>;
  /** THIG tokens written and opened, and tokens refused. */
  tokensWritten: number;
  tokensOpened: number;
  tokensRefused: number;
  /** Requests from outside the trust domain that carried trust-domain header fields (removed). */
  untrustedStripped: number;
}
