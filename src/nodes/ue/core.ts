/**
 * The soft UE's procedures (TS 24.229 §5.1.1, TS 33.203 §6–§7) over injected ports: no socket,
 * no timer of its own (the injected Clock), no randomness but the injected Rng. The decisions
 * are the pure functions of decide.ts; the messages come from requests.ts; wire.ts supplies
 * the ports (SIP stack, SA table and datapath, ISIM).
 *
 * Registration states (inspectable with {@link UeCore.snapshot}):
 * ```
 * idle ─register()→ registering ─401 ok→ authenticating ─200→ registered ─reRegister()→ reregistering ─→ registered
 *                        │                    │                 │   (R-RR-1..3: failure keeps the old SAs)
 *                        └──── failure ───────┴──→ failed       ├─deregister()→ deregistering → deregistered
 *                                                               └─expiry / NOTIFY terminated → deregistered
 *                                                                  (NOTIFY "deactivated" → registering again)
 * ```
 *
 * The reg-event subscription (TS 24.229 §5.1.1.3) is a dialog of its own: refreshed inside the
 * dialog before it ends, on the injected clock, for as long as the registration lives.
 */
import type { TimerHandle } from '../../common/index.js';
import type { DigestCredentials } from '../../auth/index.js';
import type { LocalReservation } from '../../ipsec/index.js';
import { buildUeOffer, type SecAgreeEndpoint, type SecMechanism } from '../../secagree/index.js';
import type { SipRequest, SipResponse } from '../../sip/index.js';
import { SipTimeoutError } from '../../sip/stack/index.js';
import type { Endpoint } from '../../sip/transport/types.js';
import { analyzeChallenge, decideGranted, reRegisterDelayMs, type ChallengeOutcome } from './decide.js';
import { decideIncoming, type UeIncomingMessage } from './incoming.js';
import { RegEventSubscription } from './reg-subscription.js';
import { UeError } from './errors.js';
import {
  buildMessage,
  buildRegister,
  buildSubscribe,
  challengeResponse,
  initialCredentials,
  macFailureCredentials,
  routeSet,
  syncFailureCredentials,
} from './requests.js';

export type { UeIncomingMessage } from './incoming.js';
export type { UeIncomingRequest, UeRegState, UeRegistration, UeSnapshot, UeCoreConfig, UeCorePorts } from './types.js';
import type { UeIncomingRequest, UeRegState, UeRegistration, UeSnapshot, UeCoreConfig, UeCorePorts } from './types.js';

/** One registration attempt's local parameters and the SA set it created (if any). */
interface Attempt {
  local: SecAgreeEndpoint;
  reservation: LocalReservation;
  offer: SecMechanism[];
  setId?: number;
  /** Release the reservation and delete the set, if any. */
  abandon(): void;
}

/** Resyncs allowed in one registration before giving up (R-FAIL-3 expects one). */
const MAX_RESYNCS = 2;
/** Bad-MAC challenges reported in one registration before giving up (R-FAIL-2). */
const MAX_MAC_FAILURES = 2;

/** The attempt in progress: replaced when a failure report needs a new Security-Client. */
interface AttemptRef {
  a: Attempt;
}

export class UeCore {
  private state: UeRegState = 'idle';
  private reg: UeRegistration | undefined;
  private readonly regSub: RegEventSubscription;
  private lastFailure: UeSnapshot['lastFailure'];
  private reRegisterAt: number | undefined;
  private reRegTimer: TimerHandle | undefined;
  private expiryTimer: TimerHandle | undefined;
  private readonly callId: string;
  private readonly fromTag: string;
  private cseq = 0;
  private stopped = false;
  /**
   * The Authorization of the last successful protected REGISTER: a re-registration or
   * de-registration carries its nonce and response (TS 24.229 §5.1.1.4.2, §5.1.1.6).
   */
  private lastCredentials: DigestCredentials | undefined;
  private readonly messageListeners = new Set<(m: UeIncomingMessage) => void>();
  private readonly requestListeners = new Set<(r: UeIncomingRequest) => void>();
  private readonly stateListeners = new Set<(s: UeRegState) => void>();

  constructor(
    private readonly cfg: UeCoreConfig,
    private readonly ports: UeCorePorts,
  ) {
    this.callId = ports.newCallId();
    this.fromTag = ports.newTag();
    this.regSub = new RegEventSubscription({
      clock: ports.clock,
      log: ports.log,
      newCallId: () => ports.newCallId(),
      newTag: () => ports.newTag(),
      expires: cfg.expires,
      pcscfRoute: () => (this.reg ? routeSet(this.pcscfProtected(this.reg), [])[0] : undefined),
      mayRefresh: () => !this.stopped && this.reg !== undefined && (this.state === 'registered' || this.state === 'reregistering'),
      send: (parts) => {
        const reg = this.reg;
        if (!reg) return Promise.reject(new UeError('not-registered', 'SUBSCRIBE needs a registration'));
        const route = parts.route ?? routeSet(this.pcscfProtected(reg), reg.serviceRoute);
        const req = buildSubscribe({ id: cfg.id, ...parts, route, contact: this.contact, expires: cfg.expires, userAgent: cfg.userAgent });
        return this.sendProtected(req, reg.pcscf.portS, reg.ue.portC);
      },
    });
  }

  // ---- inspection ----

  snapshot(): UeSnapshot {
    return {
      state: this.state,
      impi: this.cfg.id.impi,
      impu: this.cfg.id.impu,
      ...(this.reg ? { registration: { ...this.reg, impus: [...this.reg.impus], serviceRoute: [...this.reg.serviceRoute] } } : {}),
      subscription: this.regSub.state,
      ...(this.regSub.expiresAt !== undefined ? { subscriptionExpiresAt: this.regSub.expiresAt } : {}),
      ...(this.regSub.refreshAt !== undefined ? { subscriptionRefreshAt: this.regSub.refreshAt } : {}),
      ...(this.reRegisterAt !== undefined ? { reRegisterAt: this.reRegisterAt } : {}),
      ...(this.lastFailure ? { lastFailure: { ...this.lastFailure } } : {}),
    };
  }

  onMessage(cb: (m: UeIncomingMessage) => void): () => void {
    this.messageListeners.add(cb);
    return () => this.messageListeners.delete(cb);
  }

  /** Every request from the network, with the answer the UE gave it. */
  onIncomingRequest(cb: (r: UeIncomingRequest) => void): () => void {
    this.requestListeners.add(cb);
    return () => this.requestListeners.delete(cb);
  }

  onStateChange(cb: (s: UeRegState) => void): () => void {
    this.stateListeners.add(cb);
    return () => this.stateListeners.delete(cb);
  }

  /** The protected server endpoint: Contact of every protected request (TS 24.229 §5.1.1.2.2). */
  private get contact(): Endpoint {
    return { address: this.cfg.localAddress, port: this.cfg.serverPort };
  }

  private get unprotectedContact(): Endpoint {
    return { address: this.cfg.localAddress, port: this.cfg.unprotectedPort };
  }

  private setState(s: UeRegState): void {
    if (this.state === s) return;
    this.ports.log.info({ from: this.state, to: s, impi: this.cfg.id.impi }, 'UE state');
    this.state = s;
    for (const l of this.stateListeners) {
      try {
        l(s);
      } catch {
        // A listener's problem is not the registration's.
      }
    }
  }

  private guard(allowed: readonly UeRegState[]): void {
    if (this.stopped) throw new UeError('stopped', 'the UE is stopped');
    if (allowed.includes(this.state)) return;
    const inProgress = this.state === 'registering' || this.state === 'authenticating' || this.state === 'reregistering' || this.state === 'deregistering';
    throw new UeError(inProgress || this.state === 'registered' ? 'busy' : 'not-registered', `cannot do that while ${this.state}`);
  }

  // ---- registration (TS 24.229 §5.1.1.2, §5.1.1.5; TS 33.203 §7.2–§7.4) ----

  /** Initial registration: unprotected REGISTER, AKA challenge, SAs, protected REGISTER (R-SM-1..6). */
  async register(): Promise<UeRegistration> {
    this.guard(['idle', 'deregistered', 'failed']);
    this.setState('registering');
    const portC = this.cfg.clientPort || (await this.ports.freePort([this.cfg.serverPort]));
    const ref: AttemptRef = { a: this.attempt(portC, []) };
    try {
      // 1. Unprotected REGISTER (TS 24.229 §5.1.1.2.2): nonce="" response="", Security-Client,
      //    the Contact of the unprotected port; failure reports (AUTS, bad MAC) go the same way
      //    (R-SA-5).
      const send = (auth: DigestCredentials, offer: SecMechanism[]) => this.sendUnprotected(this.register_({ auth, securityClient: offer, contact: this.unprotectedContact }));
      const r = await this.authenticate(ref, await send(initialCredentials(this.cfg.id), ref.a.offer), send, 'REGISTER');
      if (r.kind === 'no-challenge') throw this.unexpected(r.resp, 'REGISTER');
      return r.reg;
    } catch (e) {
      ref.a.abandon();
      throw this.failed(e, 'failed');
    }
  }

  /**
   * Re-registration over the existing SAs with new SAs set up in parallel (R-RR-1: new SPIs, a
   * new port_uc, the same port_us); on success the UE sends on the new set and keeps the old
   * one, both directions, until the P-CSCF's first message on the new set, then for 64·T1 while
   * its transactions end (R-RR-2, done by the SA table); on failure the new SAs are deleted and
   * the old ones kept until they expire (R-RR-3). When the old SAs no longer answer (the
   * transaction timed out), they are taken as gone: the UE drops them and registers anew
   * (TS 24.229 §5.1.1.4.1: a re-registration that fails this way falls back to an initial
   * registration).
   */
  async reRegister(): Promise<UeRegistration> {
    this.guard(['registered']);
    const cur = this.reg!;
    this.setState('reregistering');
    const portC = await this.ports.freePort([this.cfg.serverPort, cur.ue.portC]);
    const ref: AttemptRef = { a: this.attempt(portC, [cur.pcscf.spiC, cur.pcscf.spiS]) };
    try {
      // New Security-Client, Security-Verify of the current set, the last nonce and response
      // (TS 24.229 §5.1.1.4.2), over the current SAs.
      const send = (auth: DigestCredentials, offer: SecMechanism[]) => this.sendProtected(this.register_({ auth, securityClient: offer, securityVerify: cur.securityServer }), cur.pcscf.portS, cur.ue.portC);
      const r = await this.authenticate(ref, await send(this.lastCredentials ?? initialCredentials(this.cfg.id), ref.a.offer), send, 're-REGISTER', cur);
      if (r.kind === 'registered') return r.reg;
      // The S-CSCF skipped AKA on a protected re-registration (R-REG-4): the current set lives on.
      ref.a.abandon();
      return this.refreshed(r.resp);
    } catch (e) {
      ref.a.abandon();
      const err = asUeError(e);
      if (err.reason === 'timeout' && this.reg === cur && !this.stopped) return this.recover(err);
      // R-RR-3: the old registration and its SAs stay until they expire.
      const stillValid = this.reg === cur && cur.expiresAt > this.ports.clock.now() && !this.stopped;
      throw this.failed(err, stillValid ? 'registered' : 'deregistered');
    }
  }

  /**
   * The SAs stopped answering (a P-CSCF restart loses them): drop the registration and its SAs
   * and, when registration is automatic, register anew from scratch (TS 24.229 §5.1.1.4.1,
   * §5.1.1.2); otherwise fail.
   */
  private async recover(err: UeError): Promise<UeRegistration> {
    this.ports.log.info({ detail: err.message }, 'the SAs do not answer: registering anew (TS 24.229 §5.1.1.4.1)');
    this.lastFailure = { reason: err.reason, detail: err.message };
    this.clearRegistration('deregistered');
    if (!this.cfg.reRegister.auto) throw err;
    return this.register();
  }

  /** Fresh inbound SPIs (never the peer's, R-SA-3), the protected ports, the offer (R-SM-1). */
  private attempt(portC: number, avoidSpis: number[]): Attempt {
    const reservation = this.ports.sa.reserveLocal({ avoidSpis });
    const local: SecAgreeEndpoint = { spiC: reservation.spiC, spiS: reservation.spiS, portC, portS: this.cfg.serverPort };
    const a: Attempt = {
      local,
      reservation,
      offer: this.offer(local),
      abandon: () => {
        reservation.release();
        if (a.setId !== undefined) this.ports.sa.deleteSet(a.setId, 'failed');
        a.setId = undefined;
      },
    };
    return a;
  }

  /**
   * The AKA exchange of TS 24.229 §5.1.1.5.1 from the first answer on, shared by registration
   * and re-registration (`over`: the current registration, whose SAs carry the requests):
   * 1. a 2xx without challenge is returned as such; anything but 401 fails;
   * 2. the 401 is analysed (R-SM-5, R-AKA-4): refuse → stop;
   * 3. bad MAC (R-FAIL-2) or stale SQN (R-FAIL-3): TS 24.229 §5.1.1.5.3 — the attempt's SPIs and
   *    port-c go, no SA is made for it, and the report (empty response / AUTS) carries a new
   *    Security-Client with new spi-c, spi-s and port-c; its answer is the next round (a new
   *    401 is handled as usual);
   * 4. otherwise temporary SAs keyed by IK/CK (TS 33.203 §7.2) and the protected REGISTER from
   *    the new port-c to the P-CSCF's port-s (R-SM-6); its 2xx activates them.
   */
  private async authenticate(ref: AttemptRef, first: SipResponse, send: (auth: DigestCredentials, offer: SecMechanism[]) => Promise<SipResponse>, what: string, over?: UeRegistration): Promise<{ kind: 'registered'; reg: UeRegistration } | { kind: 'no-challenge'; resp: SipResponse }> {
    let resp = first;
    for (let resyncs = 0, macFailures = 0; ; ) {
      if (resp.status >= 200 && resp.status < 300) return { kind: 'no-challenge', resp };
      if (resp.status !== 401) throw this.unexpected(resp, what);
      const a = ref.a;
      const d = analyzeChallenge(resp, a.offer, this.ports.isim);
      if (d.kind === 'refuse') throw new UeError(d.reason, d.detail);
      if (d.kind === 'mac-failure' || d.kind === 'sync-failure') {
        if (d.kind === 'mac-failure' && ++macFailures > MAX_MAC_FAILURES) throw new UeError('mac-failure', 'network authentication failed (bad MAC) again after reporting it');
        if (d.kind === 'sync-failure' && ++resyncs > MAX_RESYNCS) throw new UeError('sync-failure', 'synchronisation failed again after resynchronisation');
        ref.a = await this.freshAttempt(a, over);
        const auth = d.kind === 'mac-failure' ? macFailureCredentials(this.cfg.id, d.challenge) : syncFailureCredentials(this.cfg.id, d.challenge, d.auts);
        resp = await send(auth, ref.a.offer);
        if (d.kind === 'mac-failure' && resp.status !== 401) {
          this.ports.log.info({ status: resp.status }, 'network-authentication-failure REGISTER answered');
          throw new UeError('mac-failure', `network authentication failed (bad MAC): reported, answered ${resp.status} ${resp.reason}`, resp.status);
        }
        continue;
      }
      a.setId = this.createSet(d, a.local, a.reservation);
      await this.ports.saSettled();
      if (!over) this.setState('authenticating');
      const auth = challengeResponse(this.cfg.id, d.challenge, d.version, d, this.ports.rng);
      const resp2 = await this.sendProtected(this.register_({ auth, securityClient: a.offer, securityVerify: d.security.verify }), d.security.pcscf.portS, a.local.portC);
      if (resp2.status < 200 || resp2.status >= 300) throw this.unexpected(resp2, `protected ${what}`);
      const reg = this.registered(a.setId, resp2, a.local, d, a.offer);
      this.lastCredentials = { username: auth.username, realm: auth.realm, nonce: auth.nonce, uri: auth.uri, response: auth.response, ...(auth.algorithm !== undefined ? { algorithm: auth.algorithm } : {}) };
      a.setId = undefined;
      return { kind: 'registered', reg };
    }
  }

  /** TS 24.229 §5.1.1.5.3: give up an attempt's SPIs and port-c; a new Security-Client gets new ones. */
  private async freshAttempt(old: Attempt, over: UeRegistration | undefined): Promise<Attempt> {
    old.abandon();
    const avoidPorts = [this.cfg.serverPort, old.local.portC, ...(over ? [over.ue.portC] : [])];
    const portC = await this.ports.freePort(avoidPorts);
    return this.attempt(portC, over ? [over.pcscf.spiC, over.pcscf.spiS] : []);
  }

  /** De-registration (TS 24.229 §5.1.1.6): protected REGISTER with Expires 0, then every SA goes (R-SA-7). */
  async deregister(): Promise<void> {
    this.guard(['registered']);
    const cur = this.reg!;
    this.setState('deregistering');
    this.cancelTimers();
    this.lastFailure = undefined;
    try {
      const resp = await this.sendProtected(
        this.register_({ auth: this.lastCredentials ?? initialCredentials(this.cfg.id), securityClient: cur.securityClient, securityVerify: cur.securityServer, expires: 0 }),
        cur.pcscf.portS,
        cur.ue.portC,
      );
      if (resp.status >= 300) this.lastFailure = { reason: 'rejected', detail: `de-REGISTER answered ${resp.status}`, status: resp.status };
    } catch (e) {
      const err = asUeError(e);
      this.lastFailure = { reason: err.reason, detail: err.message, status: err.status };
    } finally {
      this.clearRegistration('deregistered');
    }
  }

  // ---- reg event (TS 24.229 §5.1.1.3, RFC 3680) ----

  /**
   * SUBSCRIBE to the reg event of the IMPU through the Service-Route (a new dialog, replacing
   * any earlier one of ours); resolves with the final status. A 2xx starts the refresh timer
   * (TS 24.229 §5.1.1.3, {@link RegEventSubscription}).
   */
  async subscribeRegEvent(): Promise<number> {
    if (!this.reg) throw new UeError('not-registered', 'subscribe needs a registration');
    return this.regSub.subscribe();
  }

  // ---- messaging (RFC 3428, TS 24.229 §5.1.2A) ----

  /** Send a page-mode MESSAGE to `to`, protected, routed by the Service-Route; resolves with the final response. */
  async sendMessage(to: string, text: string | Uint8Array, contentType = 'text/plain'): Promise<SipResponse> {
    if (!this.reg || (this.state !== 'registered' && this.state !== 'reregistering')) throw new UeError('not-registered', 'MESSAGE needs a registration');
    const reg = this.reg;
    const body = typeof text === 'string' ? new TextEncoder().encode(text) : text;
    const req = buildMessage({ id: this.cfg.id, callId: this.ports.newCallId(), fromTag: this.ports.newTag(), cseq: 1, route: routeSet(this.pcscfProtected(reg), reg.serviceRoute), contact: this.contact, to, body, contentType, userAgent: this.cfg.userAgent });
    return this.sendProtected(req, reg.pcscf.portS, reg.ue.portC);
  }

  /**
   * A request from the network (only ever on the protected port: the unprotected one drops
   * requests, R-SA-5). `reply` answers it; work that must not race the answer (SA removal) is
   * returned as `after`, to run once the answer is on its way.
   */
  onRequest(req: SipRequest, reply: (status: number, reason?: string, headers?: [string, string][]) => void): (() => void) | undefined {
    const d = decideIncoming(req, { impus: this.reg ? [this.cfg.id.impu, ...this.reg.impus] : undefined, contact: this.contact });
    if (d.problem) this.ports.log.info({ method: req.method, status: d.status, problem: d.problem }, 'request refused');
    reply(d.status, d.reason, d.headers);
    for (const l of this.requestListeners) {
      try {
        l({ method: req.method, uri: req.uri, from: req.headers.get('From') ?? '', callId: req.headers.get('Call-ID') ?? '', status: d.status, ...(d.problem ? { problem: d.problem } : {}) });
      } catch (err) {
        this.ports.log.warn({ err: (err as Error).message }, 'request listener threw');
      }
    }
    const e = d.effect;
    if (e.kind === 'message') {
      for (const l of this.messageListeners) {
        try {
          l(e.message);
        } catch (err) {
          this.ports.log.warn({ err: (err as Error).message }, 'MESSAGE listener threw');
        }
      }
      return undefined;
    }
    if (e.kind !== 'notify') return undefined;
    this.regSub.onNotify(e.subscription, e.expires);
    const o = e.outcome;
    if (o.kind === 'shortened') return () => this.networkReauthentication(o.expires);
    if (o.kind === 'terminated') return () => this.networkDeregistration(o.event);
    return undefined;
  }

  /** Stop: cancel timers and refuse further procedures (the owner closes sockets and SAs). */
  stop(): void {
    this.stopped = true;
    this.cancelTimers();
    this.regSub.end();
  }

  // ---- internals ----

  private offer(local: SecAgreeEndpoint): SecMechanism[] {
    return buildUeOffer({ ...local, algs: this.cfg.integrity, ealgs: this.cfg.encryption, mods: [this.cfg.mode] });
  }

  private register_(p: { auth: DigestCredentials; securityClient: SecMechanism[]; securityVerify?: SecMechanism[]; expires?: number; contact?: Endpoint }): SipRequest {
    this.cseq++;
    return buildRegister({
      id: this.cfg.id,
      callId: this.callId,
      fromTag: this.fromTag,
      cseq: this.cseq,
      contact: p.contact ?? this.contact,
      instanceId: this.cfg.instanceId,
      expires: p.expires ?? this.cfg.expires,
      authorization: p.auth,
      securityClient: p.securityClient,
      securityVerify: p.securityVerify,
      userAgent: this.cfg.userAgent,
    });
  }

  private pcscfProtected(reg: UeRegistration): Endpoint {
    return { address: reg.pcscf.address, port: reg.pcscf.portS };
  }

  private createSet(d: Extract<ChallengeOutcome, { kind: 'answer' }>, local: SecAgreeEndpoint, reservation: LocalReservation): number {
    const r = this.ports.sa.createSet({
      impi: this.cfg.id.impi,
      impus: [this.cfg.id.impu],
      ueAddress: this.cfg.localAddress,
      pcscfAddress: this.cfg.pcscfAddress,
      remote: d.security.pcscf,
      local: { ...local, release: () => reservation.release() },
      integrity: d.security.alg,
      encryption: d.security.ealg,
      mode: d.security.mod,
      ik: d.ik,
      ck: d.ck,
    });
    if (!r.ok) throw new UeError('sa', `SA set refused: ${r.reason} (${r.detail})`);
    return r.set.id;
  }

  /** The 200 to a protected REGISTER: SAs active for the lifetime (R-SA-7), timers, reg-event. */
  private registered(setId: number, resp: SipResponse, local: SecAgreeEndpoint, d: Extract<ChallengeOutcome, { kind: 'answer' }>, offer: SecMechanism[]): UeRegistration {
    const g = decideGranted(resp, this.contact, this.cfg.expires, this.cfg.id.impu);
    if (g.expires <= 0) throw new UeError('rejected', 'registrar granted no lifetime', resp.status);
    const now = this.ports.clock.now();
    this.ports.sa.activate(setId, g.expires * 1000, g.impus);
    const first = this.reg === undefined;
    this.reg = {
      impus: g.impus,
      serviceRoute: g.serviceRoute,
      expires: g.expires,
      registeredAt: now,
      expiresAt: now + g.expires * 1000,
      setId,
      ue: local,
      pcscf: { ...d.security.pcscf, address: this.cfg.pcscfAddress },
      alg: d.security.alg,
      ealg: d.security.ealg,
      mod: d.security.mod,
      securityClient: offer,
      securityServer: d.security.verify,
    };
    this.lastFailure = undefined;
    this.setState('registered');
    this.schedule(g.expires);
    if (first && this.cfg.subscribeRegEvent) {
      this.subscribeRegEvent().catch((e: unknown) => this.ports.log.info({ err: (e as Error).message }, 'reg-event SUBSCRIBE failed'));
    }
    return this.snapshot().registration!;
  }

  private refreshed(resp: SipResponse): UeRegistration {
    const reg = this.reg!;
    const g = decideGranted(resp, this.contact, this.cfg.expires, this.cfg.id.impu);
    if (g.expires <= 0) throw new UeError('rejected', 'registrar granted no lifetime', resp.status);
    const now = this.ports.clock.now();
    this.ports.sa.refresh(reg.setId, g.expires * 1000);
    Object.assign(reg, { impus: g.impus, serviceRoute: g.serviceRoute, expires: g.expires, expiresAt: now + g.expires * 1000 });
    this.setState('registered');
    this.schedule(g.expires);
    return this.snapshot().registration!;
  }

  /** R-RR-5: shorten the registration and its SAs, then re-register with a fresh AKA run. */
  private networkReauthentication(expires: number): void {
    const reg = this.reg;
    if (!reg || this.state !== 'registered') return;
    const ms = Math.max(expires, 1) * 1000;
    const now = this.ports.clock.now();
    reg.expiresAt = Math.min(reg.expiresAt, now + ms);
    try {
      this.ports.sa.shorten(reg.setId, reg.expiresAt - now);
    } catch (e) {
      this.ports.log.warn({ err: (e as Error).message }, 'cannot shorten the SAs');
    }
    this.cancelTimers();
    this.expiryTimer = this.ports.clock.setTimeout(reg.expiresAt - now, () => this.expired());
    this.ports.log.info({ expires }, 'network-initiated re-authentication');
    this.reRegister().catch((e: unknown) => this.ports.log.info({ err: (e as Error).message }, 're-authentication failed'));
  }

  /**
   * TS 24.229 §5.1.1.7: the network removed the registration — clean up (R-RR-5, R-SA-7), then:
   * 1. while our own de-REGISTER is in flight, nothing: its 200 comes over the SAs and ends it;
   * 2. "deactivated" (the network wants the UE back): a new initial registration (§5.1.1.2),
   *    unless automatic registration is off; "rejected" and the others: stay de-registered.
   */
  private networkDeregistration(event: string): void {
    if (!this.reg) return;
    if (this.state === 'deregistering') {
      this.ports.log.info({ event }, 'registration terminated by the network while de-registering: waiting for the 200');
      return;
    }
    const wasRegistered = this.state === 'registered';
    this.ports.log.info({ event }, 'registration terminated by the network');
    this.lastFailure = { reason: 'rejected', detail: `network: ${event}` };
    this.clearRegistration('deregistered');
    if (event !== 'deactivated' || !wasRegistered || !this.cfg.reRegister.auto || this.stopped) return;
    this.ports.log.info({ event }, 'registering again (TS 24.229 §5.1.1.7)');
    this.register().catch((e: unknown) => this.ports.log.info({ err: (e as Error).message }, 'registration after "deactivated" failed'));
  }

  private schedule(expires: number): void {
    this.cancelTimers();
    const now = this.ports.clock.now();
    if (this.cfg.reRegister.auto) {
      const delay = reRegisterDelayMs(expires, this.cfg.reRegister);
      this.reRegisterAt = now + delay;
      this.reRegTimer = this.ports.clock.setTimeout(delay, () => this.autoReRegister());
    }
    this.expiryTimer = this.ports.clock.setTimeout(expires * 1000, () => this.expired());
  }

  /**
   * R-REG-3: the timer fired. A failed attempt keeps the registration (R-RR-3) and is retried
   * once half of the remaining lifetime has passed, while at least 5 s remain.
   */
  private autoReRegister(): void {
    this.reRegTimer = undefined;
    this.reRegisterAt = undefined;
    if (this.state !== 'registered') return;
    this.reRegister().catch((e: unknown) => {
      this.ports.log.info({ err: (e as Error).message }, 'automatic re-registration failed');
      const reg = this.reg;
      if (!reg || this.state !== 'registered' || this.stopped) return;
      const left = reg.expiresAt - this.ports.clock.now();
      if (left < 10_000) return;
      this.reRegisterAt = this.ports.clock.now() + left / 2;
      this.reRegTimer = this.ports.clock.setTimeout(left / 2, () => this.autoReRegister());
    });
  }

  private cancelTimers(): void {
    this.reRegTimer?.cancel();
    this.expiryTimer?.cancel();
    this.reRegTimer = undefined;
    this.expiryTimer = undefined;
    this.reRegisterAt = undefined;
  }

  /** The registration lifetime ran out (R-SA-7). */
  private expired(): void {
    this.expiryTimer = undefined;
    if (!this.reg) return;
    this.lastFailure = { reason: 'timeout', detail: 'registration expired' };
    this.clearRegistration('deregistered');
  }

  private clearRegistration(to: UeRegState): void {
    this.cancelTimers();
    this.ports.sa.deleteImpi(this.cfg.id.impi, 'deregistered');
    this.reg = undefined;
    this.lastCredentials = undefined;
    this.regSub.end();
    this.setState(to);
  }

  private failed(e: unknown, to: UeRegState): UeError {
    const err = asUeError(e);
    this.lastFailure = { reason: err.reason, detail: err.message, ...(err.status !== undefined ? { status: err.status } : {}) };
    this.ports.log.info({ reason: err.reason, status: err.status, detail: err.message }, 'UE procedure failed');
    if (to === 'deregistered' && this.reg) this.clearRegistration(to);
    else this.setState(to);
    return err;
  }

  private unexpected(resp: SipResponse, what: string): UeError {
    if (resp.status >= 200 && resp.status < 300) return new UeError('no-challenge', `${what} accepted without IMS AKA (no keys, no SAs)`, resp.status);
    return new UeError('rejected', `${what} answered ${resp.status} ${resp.reason}`, resp.status);
  }

  private async sendUnprotected(req: SipRequest): Promise<SipResponse> {
    if (this.stopped) throw new UeError('stopped', 'the UE is stopped');
    // TS 24.229 §5.1.1.2.1: on UDP the unprotected REGISTER's Via carries rport (RFC 3581); the
    // transport layer fills in the sent-protocol and the sent-by of the unprotected port.
    const udp = this.cfg.transport !== 'tcp';
    req.headers.prepend('Via', `SIP/2.0/${udp ? 'UDP' : 'TCP'} 0.0.0.0;branch=${this.ports.newBranch()}${udp ? ';rport' : ''}`);
    try {
      return await this.ports.sendUnprotected(req);
    } catch (e) {
      throw asUeError(e);
    }
  }

  private async sendProtected(req: SipRequest, pcscfPortS: number, clientPort: number): Promise<SipResponse> {
    if (this.stopped) throw new UeError('stopped', 'the UE is stopped');
    try {
      return await this.ports.sendProtected(req, { address: this.cfg.pcscfAddress, port: pcscfPortS }, clientPort);
    } catch (e) {
      const err = asUeError(e);
      // A request of a registered UE that gets no answer over its SAs: the SAs are gone (a
      // P-CSCF restart); fall back to an initial registration (TS 24.229 §5.1.1.4.1). A
      // re-registration handles its own time-out.
      if (err.reason === 'timeout' && this.state === 'registered' && this.reg && req.method !== 'REGISTER') {
        this.recover(err).catch((x: unknown) => this.ports.log.info({ err: (x as Error).message }, 'registering anew failed'));
      }
      throw err;
    }
  }
}

function asUeError(e: unknown): UeError {
  if (e instanceof UeError) return e;
  if (e instanceof SipTimeoutError) return new UeError('timeout', e.message, undefined, { cause: e });
  if (e instanceof Error && (e as { code?: string }).code === 'SIP_TRANSPORT') return new UeError('transport', e.message, undefined, { cause: e });
  if (e instanceof Error && (e as { code?: string }).code === 'IPSEC_SA') return new UeError('sa', e.message, undefined, { cause: e });
  return new UeError('transport', e instanceof Error ? e.message : String(e), undefined, { cause: e });
}
