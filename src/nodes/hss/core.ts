/**
 * The HSS side of the Cx procedures (TS 29.228 §6.1–6.3, messages of TS 29.229 §6.1) over the
 * {@link HssStore} interface: a request message in, its answer message out. No sockets, no
 * timers: the Diameter node (wire.ts) calls {@link HssCore.handle}; randomness (RAND) comes
 * from the injected Rng. Outcomes the S-CSCF or I-CSCF must see are answers with a Result-Code
 * or a 3GPP Experimental-Result, never throws; only a request that cannot be parsed throws a
 * DiameterAvpError, which the node turns into its Result-Code (5005, 5004, …).
 *
 * Secrets (K, OPc, XRES, CK, IK) pass through here but never reach a log line or an
 * Error-Message.
 */
import { type Clock, type Logger, type Rng, systemClock, noopLogger, ImsError } from '../../common/index.js';
import { CxCommand, CxResult, UserAuthorizationType, buildLia, buildPpr, buildRtr, buildUaa, parseLir, parseUar, type DeregistrationReason, type DiameterMessage, type DiameterResult, type ServerCapabilities, DiameterAvpError } from '../../diameter/index.js';
import type { HssStore, PublicIdentity, RegistrationSnapshot, RegistrationUpdate, SqnAllocation } from '../../store/index.js';
import type { CxContext, HssCounters, Identified } from './cx-context.js';
import { VectorIssuer } from './mar.js';
import { answerSar } from './sar.js';
import { buildUserData, hasUnregisteredServices, type ProfileSet } from './user-data.js';

export interface HssCoreOptions {
  store: HssStore;
  /** This HSS's Diameter identity, for the answers. */
  originHost: string;
  originRealm: string;
  /** Source of RAND (cryptoRng in service; a seeded one in tests). */
  rng: Rng;
  /** Cap on SIP-Number-Auth-Items honoured per MAR (default 5). */
  maxAuthItems?: number;
  /** Server-Capabilities for UAA/LIA (TS 29.229 §6.3.4). */
  serverCapabilities?: ServerCapabilities;
  /**
   * How SQNs are allocated (default `store.allocateSqns`); the server passes a group-committing
   * {@link SqnBatcher}.
   */
  allocateSqns?: (impi: string, originHost: string, count: number) => Promise<SqnAllocation>;
  /**
   * How MAR and SAR write registration state (default `store.setRegistration`); the server passes
   * a group-committing {@link RegistrationBatcher}.
   */
  setRegistration?: (impu: string, update: RegistrationUpdate) => Promise<RegistrationSnapshot[]>;
  /** How long a subscriber's allowed schemes are cached, ms (default 5000; 0: no cache). */
  schemeCacheMs?: number;
  /** Clock for that cache (default the system clock). */
  clock?: Clock;
  /** Allowed Visited-Network-Identifier values; null or absent: no roaming check. */
  visitedNetworks?: readonly string[] | null;
  /** Origin-Hosts that may fetch vectors (MAR); null or absent: whoever the node let in. */
  allowedPeers?: readonly string[] | null;
  logger?: Logger;
}

export type { HssCounters } from './cx-context.js';
export { chooseScheme } from './mar.js';

const utf8 = new TextDecoder();
const utf8Decode = (b: Uint8Array): string => utf8.decode(b);

const resultKey = (cmd: string, r: DiameterResult): string => (r.vendorId ? `${cmd} ${r.code}/${r.vendorId}` : `${cmd} ${r.code}`);

export class HssCore implements CxContext {
  readonly counters: HssCounters = { uar: 0, mar: 0, sar: 0, lir: 0, vectors: 0, resyncs: 0, resyncRejected: 0, results: {} };
  readonly store: HssStore;
  readonly setRegistration: (impu: string, update: RegistrationUpdate) => Promise<RegistrationSnapshot[]>;
  readonly log: Logger;
  readonly me: { originHost: string; originRealm: string };
  private readonly capabilities: ServerCapabilities;
  private readonly visited: ReadonlySet<string> | null;
  private readonly vectors: VectorIssuer;
  /** Server-Name (S-CSCF SIP URI) → the Origin-Host that used it last (for RTR/PPR). */
  readonly scscfHosts = new Map<string, string>();

  constructor(readonly opts: HssCoreOptions) {
    this.store = opts.store;
    this.setRegistration = opts.setRegistration ?? ((impu, update) => this.store.setRegistration(impu, update));
    this.log = opts.logger ?? noopLogger;
    this.me = { originHost: opts.originHost, originRealm: opts.originRealm };
    this.capabilities = opts.serverCapabilities ?? { mandatory: [], optional: [], serverNames: [] };
    this.visited = opts.visitedNetworks ? new Set(opts.visitedNetworks) : null;
    this.vectors = new VectorIssuer(this, {
      rng: opts.rng,
      clock: opts.clock ?? systemClock,
      maxAuthItems: opts.maxAuthItems ?? 5,
      allowed: opts.allowedPeers ? new Set(opts.allowedPeers.map((h) => h.toLowerCase())) : null,
      allocate: opts.allocateSqns ?? ((impi, host, n) => this.store.allocateSqns(impi, host, n)),
      schemeCacheMs: opts.schemeCacheMs ?? 5000,
    });
  }

  /** Subscribers whose allowed schemes the MAR procedure caches (diagnostics, tests). */
  get cachedSchemes(): number {
    return this.vectors.cachedSchemes;
  }

  /** Answers one Cx request (UAR, MAR, SAR, LIR). @throws DiameterAvpError when the request does not parse. */
  async handle(req: DiameterMessage): Promise<DiameterMessage> {
    switch (req.commandCode) {
      case CxCommand.USER_AUTHORIZATION:
        return this.uar(req);
      case CxCommand.MULTIMEDIA_AUTH:
        return this.mar(req);
      case CxCommand.SERVER_ASSIGNMENT:
        return this.sar(req);
      case CxCommand.LOCATION_INFO:
        return this.lir(req);
      default:
        throw new DiameterAvpError(`command ${req.commandCode} is not served by the HSS`, 3001);
    }
  }

  count(cmd: string, r: DiameterResult): DiameterResult {
    const k = resultKey(cmd, r);
    this.counters.results[k] = (this.counters.results[k] ?? 0) + 1;
    return r;
  }

  /** IMPI/IMPU checks shared by UAR, MAR and SAR (TS 29.228 §6.1.1.1 steps 1–2, §6.3.1 steps 1–2). */
  async identify(impi: string, impu: string): Promise<Identified> {
    const pub = await this.store.getPublicIdentity(impu);
    if (pub !== null && pub.impi === impi) return { ok: true, pub };
    if (pub === null || (await this.store.getSubscriber(impi)) === null) return { ok: false, result: CxResult.ERROR_USER_UNKNOWN };
    return { ok: false, result: CxResult.ERROR_IDENTITIES_DONT_MATCH };
  }

  /** A store failure becomes DIAMETER_UNABLE_TO_COMPLY (logged without secrets); NotFoundError → USER_UNKNOWN. */
  storeFailure(cmd: string, err: unknown): DiameterResult {
    // The store's NotFoundError, told by its stable code (the store is injected, not imported).
    if (err instanceof ImsError && err.code === 'STORE_NOT_FOUND') return CxResult.ERROR_USER_UNKNOWN;
    this.log.error({ command: cmd, code: err instanceof ImsError ? err.code : undefined, err: (err as Error).message }, 'hss: store failure');
    return CxResult.UNABLE_TO_COMPLY;
  }

  // ------------------------------------------------------------------------------------------
  // UAR, TS 29.228 §6.1.1.1

  async uar(req: DiameterMessage): Promise<DiameterMessage> {
    const r = parseUar(req);
    this.counters.uar++;
    const answer = (result: DiameterResult, extra: { serverName?: string; serverCapabilities?: ServerCapabilities; errorMessage?: string } = {}): DiameterMessage =>
      buildUaa(req, { ...this.me, result: this.count('UAA', result), ...extra });
    try {
      // 1–2. The identities exist and belong together.
      const id = await this.identify(r.userName, r.publicIdentity);
      if (!id.ok) return answer(id.result);
      const pub = id.pub;
      const type = r.userAuthorizationType ?? UserAuthorizationType.REGISTRATION;
      if (type !== UserAuthorizationType.DE_REGISTRATION) {
        // 3. A barred identity may not register (emergency registration is not modelled).
        if (pub.barred) return answer(CxResult.AUTHORIZATION_REJECTED, { errorMessage: 'public identity is barred' });
        // 4. Roaming: the visited network must be allowed.
        if (this.visited !== null && !this.visited.has(utf8Decode(r.visitedNetworkIdentifier))) return answer(CxResult.ERROR_ROAMING_NOT_ALLOWED);
      }
      // 5. The registration state decides the answer.
      switch (type) {
        case UserAuthorizationType.REGISTRATION: {
          if ((pub.state === 'REGISTERED' || pub.state === 'UNREGISTERED') && pub.scscfName !== null) {
            return answer(CxResult.SUBSEQUENT_REGISTRATION, { serverName: pub.scscfName });
          }
          // Not registered: an S-CSCF already chosen for it (authentication pending) is kept…
          if (pub.scscfName !== null) return answer(CxResult.FIRST_REGISTRATION, { serverName: pub.scscfName });
          // …or the S-CSCF serving another identity of the same subscription…
          const sub = await this.store.getSubscriber(r.userName);
          const other = sub?.impus.find((u) => (u.state === 'REGISTERED' || u.state === 'UNREGISTERED') && u.scscfName !== null);
          if (other?.scscfName) return answer(CxResult.SUBSEQUENT_REGISTRATION, { serverName: other.scscfName });
          // …otherwise the I-CSCF picks one by capabilities.
          return answer(CxResult.FIRST_REGISTRATION, { serverCapabilities: this.capabilities });
        }
        case UserAuthorizationType.REGISTRATION_AND_CAPABILITIES:
          // The I-CSCF asks to reselect (e.g. the assigned S-CSCF did not answer).
          return answer(CxResult.FIRST_REGISTRATION, { serverCapabilities: this.capabilities });
        case UserAuthorizationType.DE_REGISTRATION:
          if (pub.scscfName !== null && (pub.state === 'REGISTERED' || pub.state === 'UNREGISTERED')) return answer(CxResult.SUCCESS, { serverName: pub.scscfName });
          return answer(CxResult.ERROR_IDENTITY_NOT_REGISTERED);
        default:
          return answer(CxResult.UNABLE_TO_COMPLY, { errorMessage: `unknown User-Authorization-Type ${type}` });
      }
    } catch (err) {
      return answer(this.storeFailure('UAR', err));
    }
  }

  /** Drops what the core caches about `impi` (call after provisioning changes it). */
  forget(impi: string): void {
    this.vectors.forget(impi);
  }

  /** Answers a MAR (TS 29.228 §6.3.1): mar.ts. */
  mar(req: DiameterMessage): Promise<DiameterMessage> {
    return this.vectors.mar(req);
  }

  /** Answers a SAR (TS 29.228 §6.1.2.1): sar.ts. */
  sar(req: DiameterMessage): Promise<DiameterMessage> {
    return answerSar(this, req);
  }

  /** User-Data for the implicit sets of `pubs` (R-REG-2: every IMPU of each set). */
  async userData(impi: string, pubs: readonly Pick<PublicIdentity, 'impu'>[]): Promise<Uint8Array> {
    const sets: ProfileSet[] = [];
    const seen = new Set<string>();
    for (const p of pubs) {
      if (seen.has(p.impu)) continue;
      const set = await this.store.getImplicitSet(p.impu);
      if (set === null) continue;
      for (const u of set.impus) seen.add(u.impu);
      sets.push({ impus: set.impus, serviceProfile: set.serviceProfile });
    }
    return new TextEncoder().encode(buildUserData(impi, sets));
  }

  // ------------------------------------------------------------------------------------------
  // LIR, TS 29.228 §6.1.4.1

  async lir(req: DiameterMessage): Promise<DiameterMessage> {
    const r = parseLir(req);
    this.counters.lir++;
    const answer = (result: DiameterResult, extra: { serverName?: string; serverCapabilities?: ServerCapabilities } = {}): DiameterMessage =>
      buildLia(req, { ...this.me, result: this.count('LIA', result), ...extra });
    try {
      // 1. The identity must exist.
      const pub = await this.store.getPublicIdentity(r.publicIdentity);
      if (pub === null) return answer(CxResult.ERROR_USER_UNKNOWN);
      // 2. Registered: the serving S-CSCF.
      if (pub.state === 'REGISTERED' && pub.scscfName !== null) return answer(CxResult.SUCCESS, { serverName: pub.scscfName });
      // 3. Unregistered with an S-CSCF holding the profile: that one, for unregistered services.
      if (pub.state === 'UNREGISTERED' && pub.scscfName !== null) return answer(CxResult.UNREGISTERED_SERVICE, { serverName: pub.scscfName });
      // 4. Not registered: capabilities if the user has services while unregistered, else not registered.
      const set = await this.store.getImplicitSet(r.publicIdentity);
      if (hasUnregisteredServices(set?.serviceProfile ?? null)) return answer(CxResult.UNREGISTERED_SERVICE, { serverCapabilities: this.capabilities });
      return answer(CxResult.ERROR_IDENTITY_NOT_REGISTERED);
    } catch (err) {
      return answer(this.storeFailure('LIR', err));
    }
  }

  // ------------------------------------------------------------------------------------------
  // HSS-initiated requests: RTR (TS 29.228 §6.1.3), PPR (§6.1.5 / §6.2.2)

  /** An RTR de-registering `impus` (empty: all identities of `impi`) at the S-CSCF `destinationHost`. */
  buildRtr(p: { sessionId: string; destinationHost: string; destinationRealm: string; impi: string; impus: string[]; reason: DeregistrationReason }): DiameterMessage {
    return buildRtr({
      sessionId: p.sessionId,
      ...this.me,
      destinationHost: p.destinationHost,
      destinationRealm: p.destinationRealm,
      userName: p.impi,
      publicIdentities: p.impus,
      deregistrationReason: p.reason,
    });
  }

  /** A PPR carrying the new User-Data of `impi` to the S-CSCF `destinationHost`. */
  buildPpr(p: { sessionId: string; destinationHost: string; destinationRealm: string; impi: string; userData: Uint8Array }): DiameterMessage {
    return buildPpr({ sessionId: p.sessionId, ...this.me, destinationHost: p.destinationHost, destinationRealm: p.destinationRealm, userName: p.impi, userData: p.userData });
  }
}

