/**
 * The soft UE's procedures (TS 24.229 §5.1.1, TS 33.203 §6–§7) over injected ports: no socket,
 * no timer of its own (the injected Clock), no randomness but the injected Rng. The decisions
 * are the pure functions of decide.ts; the messages come from requests.ts; the AKA exchange is
 * aka-exchange.ts, an attempt's SPIs, ports and SAs attempt.ts; the state, timers, listeners
 * and the two ways out are core-base.ts; wire.ts supplies the ports (SIP stack, SA table and
 * datapath, ISIM).
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
import type { DigestCredentials } from '../../auth/index.js';
import type { SecAgreeEndpoint, SecMechanism } from '../../secagree/index.js';
import type { SipRequest, SipResponse } from '../../sip/index.js';
import { akaExchange, type AkaHost } from './aka-exchange.js';
import { newAttempt, type AttemptRef } from './attempt.js';
import { UeCoreBase } from './core-base.js';
import { decideGranted, reRegisterDelayMs, type ChallengeOutcome } from './decide.js';
import { UeError, asUeError } from './errors.js';
import { decideIncoming } from './incoming.js';
import { buildMessage, initialCredentials, routeSet } from './requests.js';
import type { UeCoreConfig, UeCorePorts, UeRegistration } from './types.js';

export type { UeIncomingMessage } from './incoming.js';
export type { UeIncomingRequest, UeRegState, UeRegistration, UeSnapshot, UeCoreConfig, UeCorePorts } from './types.js';

/**
 * The soft UE's procedures (see the module comment) over its state and wire ({@link UeCoreBase}).
 */
export class UeCore extends UeCoreBase {
  private readonly akaHost: AkaHost;

  constructor(cfg: UeCoreConfig, ports: UeCorePorts) {
    super(cfg, ports);
    this.akaHost = {
      cfg,
      ports,
      authenticating: () => this.setState('authenticating'),
      sendProtectedRegister: (p, portS, portC) => this.sendProtected(this.register_(p), portS, portC),
      unexpected: (resp, what) => this.unexpected(resp, what),
      registered: (setId, resp, local, d, offer) => this.registered(setId, resp, local, d, offer),
      rememberCredentials: (c) => {
        this.lastCredentials = c;
      },
    };
  }

  // ---- inspection ----

  // ---- registration (TS 24.229 §5.1.1.2, §5.1.1.5; TS 33.203 §7.2–§7.4) ----

  /** Initial registration: unprotected REGISTER, AKA challenge, SAs, protected REGISTER (R-SM-1..6). */
  async register(): Promise<UeRegistration> {
    this.guard(['idle', 'deregistered', 'failed']);
    this.setState('registering');
    const portC = this.cfg.clientPort || (await this.ports.freePort([this.cfg.serverPort]));
    const ref: AttemptRef = { a: newAttempt(this.ports.sa, this.cfg, portC, []) };
    try {
      // 1. Unprotected REGISTER (TS 24.229 §5.1.1.2.2): nonce="" response="", Security-Client,
      //    the Contact of the unprotected port; failure reports (AUTS, bad MAC) go the same way
      //    (R-SA-5).
      const send = (auth: DigestCredentials, offer: SecMechanism[]) => this.sendUnprotected(this.register_({ auth, securityClient: offer, contact: this.unprotectedContact }));
      const r = await akaExchange(this.akaHost, ref, await send(initialCredentials(this.cfg.id), ref.a.offer), send, { what: 'REGISTER' });
      if (r.kind !== 'registered') throw this.unexpected(r.resp, 'REGISTER');
      return r.reg;
    } catch (e) {
      await this.dropAttempt(ref);
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
    const ref: AttemptRef = { a: newAttempt(this.ports.sa, this.cfg, portC, [cur.pcscf.spiC, cur.pcscf.spiS]) };
    try {
      // New Security-Client, Security-Verify of the current set, the last nonce and response
      // (TS 24.229 §5.1.1.4.2), over the current SAs.
      const send = (auth: DigestCredentials, offer: SecMechanism[]) => this.sendProtected(this.register_({ auth, securityClient: offer, securityVerify: cur.securityServer }), cur.pcscf.portS, cur.ue.portC);
      const r = await akaExchange(this.akaHost, ref, await send(this.lastCredentials ?? initialCredentials(this.cfg.id), ref.a.offer), send, { what: 're-REGISTER', over: cur });
      if (r.kind === 'registered') return r.reg;
      // The S-CSCF skipped AKA on a protected re-registration (R-REG-4): the current set lives on.
      await this.dropAttempt(ref);
      return this.refreshed(r.resp);
    } catch (e) {
      await this.dropAttempt(ref);
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
  protected async recover(err: UeError): Promise<UeRegistration> {
    this.ports.log.info({ detail: err.message }, 'the SAs do not answer: registering anew (TS 24.229 §5.1.1.4.1)');
    this.lastFailure = { reason: err.reason, detail: err.message };
    this.clearRegistration('deregistered');
    if (!this.cfg.reRegister.auto) throw err;
    return this.register();
  }

  /**
   * De-registration (TS 24.229 §5.1.1.6): a REGISTER with Expires 0 over the current SAs, with
   * the last nonce and response and Security-Verify, and, as a re-registration's (§5.1.1.4.2), a
   * new Security-Client (new SPIs and port_uc, the same port_us). The network may challenge it
   * (§5.1.1.5.1: "A UE can be re-authenticated during subsequent reregistrations,
   * deregistrations …", as TS 34.229-1 §8.1.2 quotes it); the UE then answers as for any 401 to a
   * REGISTER: a temporary set from that Security-Client and the Security-Server, and the
   * protected de-REGISTER over it, populated as the challenged one. Whatever the answer, every SA
   * goes at the end (R-SA-7).
   */
  async deregister(): Promise<void> {
    this.guard(['registered']);
    const cur = this.reg!;
    this.setState('deregistering');
    this.timers.cancel();
    this.lastFailure = undefined;
    let ref: AttemptRef | undefined;
    try {
      const portC = await this.ports.freePort([this.cfg.serverPort, cur.ue.portC]);
      ref = { a: newAttempt(this.ports.sa, this.cfg, portC, [cur.pcscf.spiC, cur.pcscf.spiS]) };
      const send = (auth: DigestCredentials, offer: SecMechanism[]) => this.sendProtected(this.register_({ auth, securityClient: offer, securityVerify: cur.securityServer, expires: 0 }), cur.pcscf.portS, cur.ue.portC);
      await akaExchange(this.akaHost, ref, await send(this.lastCredentials ?? initialCredentials(this.cfg.id), ref.a.offer), send, { what: 'de-REGISTER', over: cur, deregister: true });
    } catch (e) {
      const err = asUeError(e);
      this.lastFailure = { reason: err.reason, detail: err.message, ...(err.status !== undefined ? { status: err.status } : {}) };
    } finally {
      this.clearRegistration('deregistered');
      if (ref) await this.dropAttempt(ref);
    }
  }

  /** An attempt that made no registration: its SPIs, its SAs if any, and its held port_uc go. */
  private async dropAttempt(ref: AttemptRef): Promise<void> {
    ref.a.abandon();
    try {
      await this.ports.saSettled();
    } catch (e) {
      this.ports.log.warn({ err: (e as Error).message }, 'letting go of an attempt failed');
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
    this.requestListeners.emit({ method: req.method, uri: req.uri, from: req.headers.get('From') ?? '', callId: req.headers.get('Call-ID') ?? '', status: d.status, ...(d.problem ? { problem: d.problem } : {}) }, (err) =>
      this.ports.log.warn({ err: (err as Error).message }, 'request listener threw'),
    );
    const e = d.effect;
    if (e.kind === 'message') {
      this.messageListeners.emit(e.message, (err) => this.ports.log.warn({ err: (err as Error).message }, 'MESSAGE listener threw'));
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
    this.timers.cancel();
    this.regSub.end();
  }

  // ---- internals ----

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
    this.timers.expireIn(reg.expiresAt - now);
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
    this.timers.schedule(expires, this.cfg.reRegister.auto ? reRegisterDelayMs(expires, this.cfg.reRegister) : undefined);
  }

  /**
   * R-REG-3: the timer fired. A failed attempt keeps the registration (R-RR-3) and is retried
   * once half of the remaining lifetime has passed, while at least 5 s remain.
   */
  protected autoReRegister(): void {
    if (this.state !== 'registered') return;
    this.reRegister().catch((e: unknown) => {
      this.ports.log.info({ err: (e as Error).message }, 'automatic re-registration failed');
      const reg = this.reg;
      if (!reg || this.state !== 'registered' || this.stopped) return;
      const left = reg.expiresAt - this.ports.clock.now();
      if (left < 10_000) return;
      this.timers.reRegisterIn(left / 2);
    });
  }

  /** The registration lifetime ran out (R-SA-7). */
  protected expired(): void {
    if (!this.reg) return;
    this.lastFailure = { reason: 'timeout', detail: 'registration expired' };
    this.clearRegistration('deregistered');
  }

}
