/**
 * The S-CSCF core (TS 24.229 §5.4): everything the S-CSCF decides, over injected ports — the HSS
 * ({@link CxPort}), the registrar store, a way to send requests (reg-event NOTIFYs), a clock and an
 * RNG. No sockets and no timers of its own: every timer goes through the injected Clock, so tests
 * drive registration expiry, reg-await-auth and subscription expiry with a ManualClock.
 *
 * - REGISTER → {@link Registrar} (IMS AKA, bindings, SAR).
 * - SUBSCRIBE Event: reg → {@link RegEventNotifier} (RFC 3680).
 * - Anything else → {@link routeRequest}: the decision goes back to the caller (the wire forwards).
 * - Registration expiry (R-REG-3) → SAR TIMEOUT_DEREGISTRATION, NOTIFY "expired".
 * - Network-initiated re-authentication (R-RR-5, TS 24.229 §5.4.1.6) and de-registration
 *   (§5.4.1.5: operator request → SAR ADMINISTRATIVE_DEREGISTRATION; RTR from the HSS → RTA),
 *   and PPR (new profile).
 * - Persistence: every change is written to the store before the response leaves; at start the
 *   registrations are read back and their expiry timers re-armed from the stored expiries.
 */
import { type Clock, type Logger, type Rng, noopLogger } from '../../common/index.js';
import { ReasonCode } from '../../diameter/index.js';
import { parseEvent, parseUri, type Uri } from '../../sip/headers/index.js';
import type { SipRequest, SipResponse } from '../../sip/message/index.js';
import type { Destination } from '../../sip/transport/index.js';
import type { RegistrarStore, StoredRegistration } from '../../store/index.js';
import { impuKey, challengeWithoutKeys, stripUntrusted, TrustDomain } from '../common/index.js';
import { expireBindings, shortenBindings, type BindingChange } from './bindings.js';
import type { ScscfConfig } from './config.js';
import { SAR, type CxPort, type CxServerHandlers } from './cx-client.js';
import { RegEventNotifier, type Reply } from './reg-event.js';
import { implicitSet } from './implicit-set.js';
import { Registrar, type RegisterSource, type RegistrarCounters } from './registrar.js';
import { routeRequest, type RouteDecision } from './routing.js';
import { ExpiryQueue, KeyedLock, RegistrationTable } from './table.js';

export interface ScscfCoreDeps {
  config: ScscfConfig;
  /** The S-CSCF's SIP URI as reachable (the config's, with the bound port when it listened on port 0). */
  serverName?: string;
  cx: CxPort;
  store: RegistrarStore;
  clock: Clock;
  rng: Rng;
  logger?: Logger;
  /** Sends a request outside any dialog state of ours (NOTIFY) and resolves with the final response. */
  send: (req: SipRequest, dest: Destination) => Promise<SipResponse>;
  /**
   * One of several workers sharing the registrar store (`imsec scscf --workers`): this worker
   * arms expiry only for the registrations it `owns`, tells the others of every change it makes
   * (`changed`), and keeps theirs as replicas for routing ({@link ScscfCore.applyReplica}).
   */
  replicas?: { owns(aor: string): boolean; changed(change: ReplicaChange): void };
  /** Is this URI the S-CSCF? Default: host is the serverName host, an alias or the listen address, and the port (when given) ours. */
  isLocal?: (uri: Uri) => boolean;
}

/** A registration another worker stored (`reg`) or removed (`removed`: its aor). */
export type ReplicaChange = { reg: StoredRegistration } | { removed: string };

/** What the core wants done with a request it did not answer itself. */
export type RequestOutcome = { kind: 'answered' } | { kind: 'route'; decision: RouteDecision };

export interface ScscfCounters extends RegistrarCounters {
  notifies: number;
  subscriptions: number;
  expired: number;
  reauthentications: number;
  networkDeregistrations: number;
  routed: number;
  /** Requests from outside the trust domain that carried trust-domain header fields (removed). */
  untrustedStripped: number;
  /** REGISTERs refused with 503 because `overload.maxRegistrations` were in progress. */
  overloadRejected: number;
  /** REGISTERs in progress now (a gauge). */
  registering: number;
}

export class ScscfCore {
  readonly table = new RegistrationTable();
  readonly registrar: Registrar;
  readonly notifier: RegEventNotifier;
  readonly serverName: string;
  /** The key of this S-CSCF's rows in the registrar store: the configured Server-Name (stable across restarts on port 0). */
  readonly storeName: string;
  readonly serviceRoute: string;
  readonly recordRoute: string;
  private readonly lock = new KeyedLock();
  private readonly expiries: ExpiryQueue;
  private readonly log: Logger;
  private readonly isLocal: (uri: Uri) => boolean;
  private extra = { expired: 0, reauthentications: 0, networkDeregistrations: 0, routed: 0, untrustedStripped: 0, overloadRejected: 0 };
  /** REGISTERs received and not yet answered (admission, see {@link onRequest}). */
  private registering = 0;
  private readonly trust: TrustDomain;
  private stopped = false;

  constructor(private readonly d: ScscfCoreDeps) {
    this.log = d.logger ?? noopLogger;
    this.expiries = new ExpiryQueue(d.clock, (aor) => void this.expire(aor));
    this.trust = new TrustDomain(d.config.trustDomain);
    this.serverName = d.serverName ?? d.config.serverName;
    this.storeName = d.config.serverName;
    const sn = parseUri(this.serverName);
    if (sn.kind !== 'sip') throw new Error('serverName must be a sip: URI');
    const hostPort = `${sn.host.includes(':') ? `[${sn.host}]` : sn.host}${sn.port !== undefined ? `:${sn.port}` : ''}`;
    this.serviceRoute = `<sip:${d.config.origUser}@${hostPort};lr>`;
    this.recordRoute = `<sip:${hostPort};lr>`;
    const names = new Set([sn.host.toLowerCase(), ...d.config.aliases.map((a) => a.toLowerCase()), d.config.sip.listen.host.toLowerCase()]);
    const ports = new Set([sn.port ?? 5060, d.config.sip.listen.port]);
    this.isLocal = d.isLocal ?? ((u) => u.kind === 'sip' && names.has(u.host.toLowerCase()) && (u.port === undefined || ports.has(u.port)));
    this.registrar = new Registrar({
      config: d.config,
      serviceRoute: this.serviceRoute,
      cx: d.cx,
      clock: d.clock,
      rng: d.rng,
      table: this.table,
      lock: this.lock,
      logger: this.log,
      commit: async (reg, changes) => {
        await this.persist(reg);
        return () => this.notifyChanged(reg, changes);
      },
      remove: async (reg, changes) => {
        await this.unpersist(reg);
        return () => this.notifier.changed(reg, changes, 'noresource');
      },
    });
    this.notifier = new RegEventNotifier({
      clock: d.clock,
      rng: d.rng,
      hosts: d.config.hosts,
      contactUri: this.serverName,
      policy: d.config.regEvent,
      lookup: (aor) => this.table.get(aor),
      send: d.send,
      logger: this.log,
    });
  }

  get counters(): ScscfCounters {
    return { ...this.registrar.counters, ...this.extra, registering: this.registering, notifies: this.notifier.notifies, subscriptions: this.notifier.size };
  }

  /** Reads the stored registrations back and re-arms their expiry timers (expired ones go at once). */
  async start(): Promise<void> {
    const regs = await this.d.store.listRegistrations(this.storeName);
    for (const r of regs) {
      this.table.put(r);
      if (this.d.replicas?.owns(r.aor) !== false) this.arm(r);
    }
    if (regs.length) this.log.info({ registrations: regs.length }, 'scscf: registrations restored');
  }

  /** Cancels every timer (registrations stay in the store). */
  stop(): void {
    this.stopped = true;
    this.expiries.clear();
    this.registrar.clear();
    this.notifier.clear();
  }

  /** The registration whose implicit set holds `impu`. */
  registration(impu: string): StoredRegistration | undefined {
    return this.table.find(impu);
  }

  registrations(): StoredRegistration[] {
    return this.table.all();
  }

  /**
   * One incoming request. REGISTER and SUBSCRIBE reg are answered here through `reply`; for
   * anything else the routing decision is returned for the caller to carry out. `source` is the
   * previous hop; a request from outside the trust domain loses its trust-domain header fields
   * first (RFC 3325 §5, TS 24.229 §4.4). Without `source` (tests, internal use) it is trusted.
   */
  async onRequest(req: SipRequest, reply: Reply, source?: RegisterSource): Promise<RequestOutcome> {
    const trusted = source === undefined || this.trust.has(source.address);
    if (!trusted) {
      const removed = stripUntrusted(req);
      if (removed.length > 0) {
        this.extra.untrustedStripped++;
        this.log.info({ method: req.method, from: source.address, removed }, 'scscf: trust-domain header fields from outside the trust domain removed (RFC 3325 §5)');
      }
    }
    if (req.method === 'REGISTER') {
      // Admission: a REGISTER beyond `overload.maxRegistrations` in progress is refused at once
      // with 503 and Retry-After (RFC 3261 §21.5.4: "temporarily unable to process the request due
      // to a temporary overloading"; §20.33), so that the work queued behind the HSS stays bounded.
      const o = this.d.config.overload;
      if (this.registering >= o.maxRegistrations) {
        this.extra.overloadRejected++;
        reply(503, 'Service Unavailable', { headers: [['Retry-After', String(o.retryAfterSeconds)]] });
        return { kind: 'answered' };
      }
      this.registering++;
      try {
        await this.registrar.register(req, trusted ? reply : withoutKeys(reply), source);
      } finally {
        this.registering--;
      }
      return { kind: 'answered' };
    }
    if (req.method === 'SUBSCRIBE' && isRegEvent(req)) {
      const key = (() => {
        try {
          return impuKey(parseUri(req.uri));
        } catch {
          return undefined;
        }
      })();
      this.notifier.subscribe(req, reply, key !== undefined ? this.table.findKey(key) : undefined);
      return { kind: 'answered' };
    }
    const decision = this.route(req, source?.address);
    if (decision.kind === 'forward') this.extra.routed++;
    if (decision.kind === 'reject' && decision.status === 403) this.log.info({ method: req.method, from: source?.address, warning: decision.headers?.[0]?.[1] }, 'scscf: request refused');
    return { kind: 'route', decision };
  }

  /**
   * The routing decision for a request (also used for ACKs of 2xx, which have no transaction).
   * `from`: the previous hop's address, checked against the registration's Path for an
   * originating request (see {@link routeRequest}); absent, no check is made.
   */
  route(req: SipRequest, from?: string): RouteDecision {
    return routeRequest(req, {
      ...(from !== undefined ? { from } : {}),
      isLocal: this.isLocal,
      origUser: this.d.config.origUser,
      lookup: (k) => this.table.findKey(k),
      now: this.d.clock.now(),
      hosts: this.d.config.hosts,
      icscf: this.d.config.icscf,
      recordRoute: this.recordRoute,
    });
  }

  // ---------------------------------------------------------------- registration lifecycle

  /** Stores and installs a registration, then notifies its subscribers. */
  private async commit(reg: StoredRegistration, changes: BindingChange[]): Promise<void> {
    await this.persist(reg);
    this.notifyChanged(reg, changes);
  }

  private async persist(reg: StoredRegistration): Promise<void> {
    await this.d.store.putRegistration(this.storeName, reg);
    this.table.put(reg);
    this.arm(reg);
    // What the others route by (routing.ts reads the identities and the bindings), not the profile.
    this.d.replicas?.changed({ reg: { aor: reg.aor, impi: reg.impi, impus: reg.impus, bindings: reg.bindings, userData: '' } });
  }

  /**
   * A change another worker made (see {@link ScscfCoreDeps.replicas}): the table follows it, with
   * no timer; what a worker does not own it only routes to.
   */
  applyReplica(m: ReplicaChange): void {
    if ('removed' in m) {
      if (typeof m.removed === 'string' && !this.d.replicas?.owns(m.removed)) this.table.delete(m.removed);
      return;
    }
    if (m.reg && typeof m.reg.aor === 'string' && !this.d.replicas?.owns(m.reg.aor)) this.table.put(m.reg);
  }

  private notifyChanged(reg: StoredRegistration, changes: BindingChange[]): void {
    if (changes.length) this.notifier.changed(reg, changes);
  }

  /** Removes a registration, then ends its subscriptions. */
  private async remove(reg: StoredRegistration, changes: BindingChange[], ended: 'deactivated' | 'rejected' | 'noresource'): Promise<void> {
    await this.unpersist(reg);
    this.notifier.changed(reg, changes, ended);
  }

  private async unpersist(reg: StoredRegistration): Promise<void> {
    this.expiries.cancel(reg.aor);
    this.table.delete(reg.aor);
    this.d.replicas?.changed({ removed: reg.aor });
    try {
      await this.d.store.deleteRegistration(this.storeName, reg.aor);
    } catch (err) {
      this.log.error({ aor: reg.aor, err: (err as Error).message }, 'scscf: registration not removed from the store');
    }
  }

  /** The registration's earliest binding expiry, in the one expiry queue. */
  private arm(reg: StoredRegistration): void {
    if (this.stopped || reg.bindings.length === 0) return this.expiries.cancel(reg.aor);
    this.expiries.schedule(reg.aor, Math.min(...reg.bindings.map((b) => b.expiresAt)));
  }

  /** R-REG-3: bindings whose time is up go; the last one takes the registration with it. */
  private expire(aor: string): Promise<void> {
    const r0 = this.table.get(aor);
    if (!r0) return Promise.resolve();
    return this.lock.run(r0.impi, async () => {
      const reg = this.table.get(aor);
      if (!reg) return;
      const { kept, expired } = expireBindings(reg.bindings, this.d.clock.now());
      if (expired.length === 0) return this.arm(reg);
      this.extra.expired += expired.length;
      if (kept.length > 0) {
        this.log.info({ aor, expired: expired.length }, 'scscf: contacts expired');
        await this.commit({ ...reg, bindings: kept }, expired).catch((err: Error) => this.log.error({ aor, err: err.message }, 'scscf: store failed'));
        return;
      }
      this.log.info({ aor, impi: reg.impi }, 'scscf: registration expired');
      const r = await this.d.cx.sar({ impi: reg.impi, impus: [reg.aor], type: SAR.TIMEOUT_DEREGISTRATION, userDataAvailable: true });
      if (!r.ok) this.log.warn({ aor, why: r.message }, 'scscf: SAR TIMEOUT_DEREGISTRATION failed');
      this.registrar.vectors.clear(reg.impi);
      await this.remove(reg, expired, 'noresource');
    });
  }

  // ---------------------------------------------------------------- network-initiated

  /**
   * Network-initiated re-authentication (TS 24.229 §5.4.1.6, R-RR-5): every contact of the
   * registration holding `impu` now expires within `graceSeconds`; subscribers get a NOTIFY with
   * event "shortened" and the new expires, and the UE must re-register (with AKA). False when
   * `impu` is not registered here.
   */
  async reauthenticate(impu: string, graceSeconds: number): Promise<boolean> {
    if (!Number.isInteger(graceSeconds) || graceSeconds < 1) throw new RangeError('graceSeconds must be a positive integer');
    const r0 = this.table.find(impu);
    if (!r0) return false;
    return this.lock.run(r0.impi, async () => {
      const reg = this.table.find(impu);
      if (!reg) return false;
      const { bindings, changes } = shortenBindings(reg.bindings, this.d.clock.now(), graceSeconds);
      await this.commit({ ...reg, bindings }, changes);
      this.extra.reauthentications++;
      this.log.info({ aor: reg.aor, graceSeconds }, 'scscf: network-initiated re-authentication');
      return true;
    });
  }

  /**
   * Network-initiated de-registration (TS 24.229 §5.4.1.5): the registration holding `impu` is
   * removed, subscribers get its contacts "deactivated" (the UE should register again) or
   * "rejected" (it should not), and the subscriptions end. `notifyHss` sends SAR
   * ADMINISTRATIVE_DEREGISTRATION (an operator request at the S-CSCF); an RTR from the HSS does not.
   */
  async deregister(impu: string, opts: { event?: 'deactivated' | 'rejected'; notifyHss?: boolean } = {}): Promise<boolean> {
    const r0 = this.table.find(impu);
    if (!r0) return false;
    return this.lock.run(r0.impi, async () => {
      const reg = this.table.find(impu);
      if (!reg) return false;
      const event = opts.event ?? 'deactivated';
      if (opts.notifyHss !== false) {
        const r = await this.d.cx.sar({ impi: reg.impi, impus: [reg.aor], type: SAR.ADMINISTRATIVE_DEREGISTRATION, userDataAvailable: true });
        if (!r.ok) this.log.warn({ aor: reg.aor, why: r.message }, 'scscf: SAR ADMINISTRATIVE_DEREGISTRATION failed');
      }
      this.registrar.vectors.clear(reg.impi);
      await this.remove(reg, reg.bindings.map((b) => ({ binding: b, state: 'terminated', event })), event);
      this.extra.networkDeregistrations++;
      this.log.info({ aor: reg.aor, event }, 'scscf: network-initiated de-registration');
      return true;
    });
  }

  /** Is this registration this worker's (always, with one process)? */
  private owns(aor: string): boolean {
    return this.d.replicas?.owns(aor) ?? true;
  }

  /** Handlers for HSS-initiated Cx requests (RTR, PPR), over the registrations this worker owns. */
  readonly cxHandlers: CxServerHandlers = {
    registrationTermination: async ({ impi, impus, reasonCode }) => {
      const found = impus.length > 0 ? impus.map((u) => this.table.find(u)).filter((r): r is StoredRegistration => r !== undefined) : this.table.byImpi(impi);
      const targets = found.filter((r) => this.owns(r.aor));
      const event = reasonCode === ReasonCode.PERMANENT_TERMINATION ? 'rejected' : 'deactivated';
      const removed: string[] = [];
      for (const reg of new Set(targets)) if (await this.deregister(reg.aor, { event, notifyHss: false })) removed.push(...reg.impus);
      return removed;
    },
    pushProfile: async ({ impi, userData }) => {
      const regs = this.table.byImpi(impi).filter((r) => this.owns(r.aor));
      if (regs.length === 0) return false;
      if (userData === undefined) return true;
      for (const r0 of regs) {
        await this.lock.run(impi, async () => {
          const reg = this.table.get(r0.aor);
          if (!reg) return;
          const set = implicitSet(userData, reg.aor);
          await this.commit({ ...reg, userData, impus: set.impus }, []);
        });
      }
      this.log.info({ impi }, 'scscf: profile pushed by the HSS');
      return true;
    },
  };
}

function isRegEvent(req: SipRequest): boolean {
  const e = req.headers.get('event');
  if (e === undefined) return false;
  try {
    return parseEvent(e).type.toLowerCase() === 'reg';
  } catch {
    return false;
  }
}

/**
 * A reply whose WWW-Authenticate carries no AKA keys: a REGISTER from outside the trust domain
 * gets its challenge without `ik` and `ck` (TS 24.229 §7.2A.4: they are for the P-CSCF only).
 */
function withoutKeys(reply: Reply): Reply {
  return (status, reason, opts) =>
    reply(status, reason, opts?.headers ? { ...opts, headers: [...opts.headers].flatMap(([n, v]) => (n.toLowerCase() === 'www-authenticate' ? challengeWithoutKeys(v).map((x) => [n, x] as const) : [[n, v] as const])) } : opts);
}
