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
import { type Clock, type Logger, type Rng, systemClock } from '../../common/index.js';
import { silentLogger } from '../../common/log.js';
import { generateVector, SqnExhaustedError, verifyAuts } from '../../auth/aka/index.js';
import { Milenage } from '../../auth/milenage/index.js';
import {
  CxCommand, CxResult, ServerAssignmentType, SipAuthScheme, UserAuthorizationType, UserDataAlreadyAvailable,
  akaAuthDataItem, buildLia, buildMaa, buildPpr, buildRtr, buildSaa, buildUaa, parseLir, parseMar, parseSar, parseUar, resyncInfoOf,
  type DeregistrationReason, type DiameterMessage, type DiameterResult, type ServerCapabilities, type SipAuthDataItem,
} from '../../diameter/index.js';
import { DiameterAvpError } from '../../diameter/errors.js';
import { ImsError } from '../../common/errors.js';
import { NotFoundError, type HssStore, type PublicIdentity, type SqnAllocation } from '../../store/index.js';
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

type Identified = { ok: true; pub: PublicIdentity } | { ok: false; result: DiameterResult };

const DEREGISTRATIONS: ReadonlySet<number> = new Set([
  ServerAssignmentType.TIMEOUT_DEREGISTRATION,
  ServerAssignmentType.USER_DEREGISTRATION,
  ServerAssignmentType.TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME,
  ServerAssignmentType.USER_DEREGISTRATION_STORE_SERVER_NAME,
  ServerAssignmentType.ADMINISTRATIVE_DEREGISTRATION,
  ServerAssignmentType.DEREGISTRATION_TOO_MUCH_DATA,
]);

const utf8 = new TextDecoder();
const utf8Decode = (b: Uint8Array): string => utf8.decode(b);

const resultKey = (cmd: string, r: DiameterResult): string => (r.vendorId ? `${cmd} ${r.code}/${r.vendorId}` : `${cmd} ${r.code}`);

export class HssCore {
  readonly counters: HssCounters = { uar: 0, mar: 0, sar: 0, lir: 0, vectors: 0, resyncs: 0, resyncRejected: 0, results: {} };
  private readonly store: HssStore;
  private readonly rng: Rng;
  private readonly log: Logger;
  private readonly maxAuthItems: number;
  private readonly capabilities: ServerCapabilities;
  private readonly visited: ReadonlySet<string> | null;
  private readonly allowed: ReadonlySet<string> | null;
  private readonly allocate: (impi: string, originHost: string, count: number) => Promise<SqnAllocation>;
  private readonly clock: Clock;
  private readonly schemeCacheMs: number;
  private readonly schemes = new Map<string, { schemes: readonly string[]; at: number }>();
  /** One Milenage engine, re-keyed per request (each use is synchronous, so requests cannot interleave inside it). */
  private milenage: Milenage | undefined;
  /** Server-Name (S-CSCF SIP URI) → the Origin-Host that used it last (for RTR/PPR). */
  readonly scscfHosts = new Map<string, string>();

  constructor(readonly opts: HssCoreOptions) {
    this.store = opts.store;
    this.rng = opts.rng;
    this.log = opts.logger ?? silentLogger;
    this.maxAuthItems = opts.maxAuthItems ?? 5;
    this.capabilities = opts.serverCapabilities ?? { mandatory: [], optional: [], serverNames: [] };
    this.visited = opts.visitedNetworks ? new Set(opts.visitedNetworks) : null;
    this.allowed = opts.allowedPeers ? new Set(opts.allowedPeers.map((h) => h.toLowerCase())) : null;
    this.allocate = opts.allocateSqns ?? ((impi, host, n) => this.store.allocateSqns(impi, host, n));
    this.clock = opts.clock ?? systemClock;
    this.schemeCacheMs = opts.schemeCacheMs ?? 5000;
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

  private count(cmd: string, r: DiameterResult): DiameterResult {
    const k = resultKey(cmd, r);
    this.counters.results[k] = (this.counters.results[k] ?? 0) + 1;
    return r;
  }

  private get me(): { originHost: string; originRealm: string } {
    return { originHost: this.opts.originHost, originRealm: this.opts.originRealm };
  }

  /** IMPI/IMPU checks shared by UAR, MAR and SAR (TS 29.228 §6.1.1.1 steps 1–2, §6.3.1 steps 1–2). */
  private async identify(impi: string, impu: string): Promise<Identified> {
    const pub = await this.store.getPublicIdentity(impu);
    if (pub !== null && pub.impi === impi) return { ok: true, pub };
    if (pub === null || (await this.store.getSubscriber(impi)) === null) return { ok: false, result: CxResult.ERROR_USER_UNKNOWN };
    return { ok: false, result: CxResult.ERROR_IDENTITIES_DONT_MATCH };
  }

  /** A store failure becomes DIAMETER_UNABLE_TO_COMPLY (logged without secrets); NotFoundError → USER_UNKNOWN. */
  private storeFailure(cmd: string, err: unknown): DiameterResult {
    if (err instanceof NotFoundError) return CxResult.ERROR_USER_UNKNOWN;
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

  // ------------------------------------------------------------------------------------------
  // MAR, TS 29.228 §6.3.1; TS 33.102 §6.3 (vectors), §6.3.5 (resynchronisation)

  async mar(req: DiameterMessage): Promise<DiameterMessage> {
    const r = parseMar(req);
    this.counters.mar++;
    const answer = (result: DiameterResult, items: SipAuthDataItem[] = [], errorMessage?: string): DiameterMessage =>
      buildMaa(req, {
        ...this.me,
        result: this.count('MAA', result),
        userName: r.userName,
        publicIdentity: r.publicIdentity,
        ...(items.length > 0 ? { sipNumberAuthItems: items.length } : {}),
        sipAuthDataItems: items,
        ...(errorMessage !== undefined ? { errorMessage } : {}),
      });
    // 0. Only configured S-CSCFs get vectors (the node's CER allowlist already refuses others).
    if (this.allowed !== null && !this.allowed.has(r.originHost.toLowerCase())) {
      return answer(CxResult.AUTHORIZATION_REJECTED, [], 'peer may not fetch authentication vectors');
    }
    try {
      // 1–2. The identities exist and belong together.
      const id = await this.identify(r.userName, r.publicIdentity);
      if (!id.ok) return answer(id.result);
      const pub = id.pub;
      // 3. The scheme: one the subscriber allows; "Unknown" (or none) picks the subscriber's default.
      const schemes = await this.authSchemes(r.userName);
      if (schemes === null) return answer(CxResult.ERROR_USER_UNKNOWN);
      const scheme = chooseScheme(r.sipAuthDataItem.scheme, { authSchemes: schemes });
      if (scheme === undefined) return answer(CxResult.ERROR_AUTH_SCHEME_NOT_SUPPORTED);
      const n = Math.min(Math.max(r.sipNumberAuthItems, 1), this.maxAuthItems);
      // 4. SQNs: fresh ones, or a resynchronisation when SIP-Authorization carries RAND‖AUTS.
      let alloc: SqnAllocation;
      const auth = r.sipAuthDataItem.authorization;
      if (auth !== undefined && auth.length > 0) {
        const rs = resyncInfoOf(r.sipAuthDataItem);
        if (rs === undefined) throw new DiameterAvpError(`SIP-Authorization is ${auth.length} bytes; a resynchronisation carries RAND‖AUTS (30)`, 5004, 'SIP-Authorization');
        const res = await this.store.resync(r.userName, {
          originHost: r.originHost,
          count: n,
          verify: (keys) => verifyAuts(this.engine(keys.k, keys.opc), rs.rand, rs.auts),
        });
        if (!res.ok) {
          // TS 33.102 §6.3.5: a bad MAC-S leaves SQN_HE as it is; the S-CSCF gets no vectors.
          this.counters.resyncRejected++;
          this.log.warn({ impi: r.userName, peer: r.originHost }, 'hss: resynchronisation refused (MAC-S does not verify)');
          return answer(CxResult.AUTHENTICATION_REJECTED, [], 'AUTS does not verify (MAC-S)');
        }
        this.counters.resyncs++;
        this.log.info({ impi: r.userName, peer: r.originHost, seqHeBefore: res.previousSeqHe, seqHe: res.seqHe }, 'hss: resynchronised');
        alloc = res.allocation;
      } else {
        alloc = await this.allocate(r.userName, r.originHost, n);
      }
      // 5. Authentication pending at this S-CSCF (the name is stored at MAR, TS 29.228 §6.3.1);
      // a registered user re-authenticated by its own S-CSCF stays registered (R-AKA-7).
      if (!((pub.state === 'REGISTERED' || pub.state === 'PENDING') && pub.scscfName === r.serverName)) {
        await this.store.setRegistration(r.publicIdentity, { state: 'PENDING', scscfName: r.serverName });
      }
      this.scscfHosts.set(r.serverName, r.originHost);
      // 6. The ordered batch (R-AKA-2): item i carries SQN i, each with a fresh RAND.
      const m = this.engine(alloc.k, alloc.opc);
      const items = alloc.sqns.map((sqn, i) => akaAuthDataItem(generateVector(m, this.rng.bytes(16), sqn, alloc.amf), { itemNumber: i + 1, scheme }));
      this.counters.vectors += items.length;
      return answer(CxResult.SUCCESS, items);
    } catch (err) {
      if (err instanceof DiameterAvpError) throw err;
      if (err instanceof SqnExhaustedError) {
        this.log.error({ impi: r.userName }, 'hss: SQN space exhausted');
        return answer(CxResult.UNABLE_TO_COMPLY, [], 'SQN space exhausted');
      }
      return answer(this.storeFailure('MAR', err));
    }
  }

  /**
   * The subscriber's allowed schemes, cached for `schemeCacheMs` (they change only by
   * provisioning, which calls {@link forget}; a change made by another process is seen when the
   * entry expires).
   */
  private async authSchemes(impi: string): Promise<readonly string[] | null> {
    const now = this.clock.now();
    const hit = this.schemes.get(impi);
    if (hit !== undefined && now - hit.at < this.schemeCacheMs) return hit.schemes;
    const sub = await this.store.getSubscriber(impi);
    if (sub === null) {
      this.schemes.delete(impi);
      return null;
    }
    if (this.schemes.size >= 100_000) this.schemes.clear();
    this.schemes.set(impi, { schemes: sub.authSchemes, at: now });
    return sub.authSchemes;
  }

  /** Drops what the core caches about `impi` (call after provisioning changes it). */
  forget(impi: string): void {
    this.schemes.delete(impi);
  }

  private engine(k: Uint8Array, opc: Uint8Array): Milenage {
    this.milenage = this.milenage === undefined ? new Milenage(k, opc) : this.milenage.rekey(k, opc);
    return this.milenage;
  }

  // ------------------------------------------------------------------------------------------
  // SAR, TS 29.228 §6.1.2.1

  async sar(req: DiameterMessage): Promise<DiameterMessage> {
    const r = parseSar(req);
    this.counters.sar++;
    const answer = (result: DiameterResult, extra: { userName?: string; userData?: Uint8Array; serverName?: string; errorMessage?: string } = {}): DiameterMessage =>
      buildSaa(req, { ...this.me, result: this.count('SAA', result), ...extra });
    const type = r.serverAssignmentType;
    try {
      // 1–2. Which identities: the Public-Identity AVPs, else those of the User-Name.
      let impus = r.publicIdentities;
      if (impus.length === 0) {
        if (r.userName === undefined) return answer(CxResult.MISSING_AVP, { errorMessage: 'SAR names neither a Public-Identity nor a User-Name' });
        const sub = await this.store.getSubscriber(r.userName);
        if (sub === null) return answer(CxResult.ERROR_USER_UNKNOWN);
        impus = DEREGISTRATIONS.has(type) || type === ServerAssignmentType.AUTHENTICATION_FAILURE || type === ServerAssignmentType.AUTHENTICATION_TIMEOUT
          ? sub.impus.filter((u) => u.scscfName === r.serverName).map((u) => u.impu)
          : sub.impus.filter((u) => u.isDefault).map((u) => u.impu);
        if (impus.length === 0) return answer(CxResult.SUCCESS, { userName: r.userName });
      }
      const pubs: PublicIdentity[] = [];
      for (const impu of impus) {
        if (r.userName !== undefined) {
          const id = await this.identify(r.userName, impu);
          if (!id.ok) return answer(id.result);
          pubs.push(id.pub);
        } else {
          const pub = await this.store.getPublicIdentity(impu);
          if (pub === null) return answer(CxResult.ERROR_USER_UNKNOWN);
          pubs.push(pub);
        }
      }
      const impi = pubs[0].impi;
      const base = { userName: impi };
      const withData = async (result: DiameterResult): Promise<DiameterMessage> =>
        r.userDataAlreadyAvailable === UserDataAlreadyAvailable.USER_DATA_ALREADY_AVAILABLE ? answer(result, base) : answer(result, { ...base, userData: await this.userData(impi, pubs) });
      const sets = distinctSets(pubs);
      this.scscfHosts.set(r.serverName, r.originHost);
      switch (type) {
        case ServerAssignmentType.REGISTRATION:
        case ServerAssignmentType.RE_REGISTRATION:
          // The identity (with its implicit set) is registered at this S-CSCF; the profile goes back.
          for (const p of sets) await this.store.setRegistration(p.impu, { state: 'REGISTERED', scscfName: r.serverName });
          return withData(CxResult.SUCCESS);
        case ServerAssignmentType.UNREGISTERED_USER: {
          // A terminating request for an unregistered user: this S-CSCF keeps the profile, unless another one holds it.
          const held = pubs.find((p) => p.state !== 'NOT_REGISTERED' && p.scscfName !== null && p.scscfName !== r.serverName);
          if (held) return answer(CxResult.ERROR_IDENTITY_ALREADY_REGISTERED, { ...base, serverName: held.scscfName as string });
          for (const p of sets) if (p.state !== 'REGISTERED') await this.store.setRegistration(p.impu, { state: 'UNREGISTERED', scscfName: r.serverName });
          return withData(CxResult.SUCCESS);
        }
        case ServerAssignmentType.TIMEOUT_DEREGISTRATION:
        case ServerAssignmentType.USER_DEREGISTRATION:
        case ServerAssignmentType.ADMINISTRATIVE_DEREGISTRATION:
        case ServerAssignmentType.DEREGISTRATION_TOO_MUCH_DATA:
        case ServerAssignmentType.TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME:
        case ServerAssignmentType.USER_DEREGISTRATION_STORE_SERVER_NAME: {
          // Only the S-CSCF serving the user may de-register it.
          if (pubs.some((p) => p.scscfName !== null && p.scscfName !== r.serverName)) {
            return answer(CxResult.UNABLE_TO_COMPLY, { ...base, errorMessage: 'the identity is assigned to another S-CSCF' });
          }
          const keep = type === ServerAssignmentType.TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME || type === ServerAssignmentType.USER_DEREGISTRATION_STORE_SERVER_NAME;
          // *_STORE_SERVER_NAME: the HSS keeps the name and the identity becomes "unregistered" (§6.1.2).
          for (const p of sets) await this.store.setRegistration(p.impu, keep ? { state: 'UNREGISTERED', scscfName: r.serverName } : { state: 'NOT_REGISTERED', scscfName: null });
          return answer(CxResult.SUCCESS, base);
        }
        case ServerAssignmentType.AUTHENTICATION_FAILURE:
        case ServerAssignmentType.AUTHENTICATION_TIMEOUT: {
          // R-AKA-8: put the registration back where it was before this authentication began;
          // a registered user stays registered (R-AKA-7).
          if (pubs.some((p) => p.state === 'PENDING' && p.scscfName !== r.serverName)) {
            return answer(CxResult.UNABLE_TO_COMPLY, { ...base, errorMessage: 'the pending authentication belongs to another S-CSCF' });
          }
          for (const p of sets) await this.store.revertPending(p.impu);
          return answer(CxResult.SUCCESS, base);
        }
        case ServerAssignmentType.NO_ASSIGNMENT:
          // The S-CSCF only wants the profile; it must be the one assigned.
          if (pubs.some((p) => p.scscfName !== r.serverName)) return answer(CxResult.UNABLE_TO_COMPLY, { ...base, errorMessage: 'the S-CSCF is not the one assigned' });
          return withData(CxResult.SUCCESS);
        default:
          return answer(CxResult.ERROR_IN_ASSIGNMENT_TYPE, base);
      }
    } catch (err) {
      return answer(this.storeFailure('SAR', err));
    }
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

/** The scheme to use: the requested one if the subscriber allows it; "Unknown"/absent → the subscriber's first. */
export function chooseScheme(requested: string | undefined, sub: { authSchemes: readonly string[] }): string | undefined {
  if (requested === undefined || requested === '' || requested.toLowerCase() === SipAuthScheme.UNKNOWN.toLowerCase()) return sub.authSchemes[0];
  return sub.authSchemes.find((s) => s.toLowerCase() === requested.toLowerCase());
}

/** One representative identity per implicit set (store calls act on the whole set). */
function distinctSets(pubs: readonly PublicIdentity[]): PublicIdentity[] {
  const seen = new Set<string>();
  return pubs.filter((p) => {
    const key = `${p.impi}\u0000${p.irs}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
