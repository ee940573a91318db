/**
 * The soft UE's state and its wire (TS 24.229 §5.1.1), under the procedures of {@link UeCore}:
 * the registration state and the registration held, the listeners, the reg-event subscription
 * (TS 24.229 §5.1.1.3), the registration timers, the REGISTER builder (one Call-ID and CSeq
 * sequence for the UE's registrations, TS 24.229 §5.1.1.4.1) and the two ways out: the
 * unprotected port and the SAs. No socket, no timer of its own, no randomness but the injected
 * ports'.
 */
import type { DigestCredentials } from '../../auth/index.js';
import type { SecMechanism } from '../../secagree/index.js';
import type { SipRequest, SipResponse } from '../../sip/index.js';
import type { Endpoint } from '../../sip/transport/index.js';
import { UeError, asUeError } from './errors.js';
import type { UeIncomingMessage } from './incoming.js';
import { retryAfterOf } from './decide.js';
import { Listeners } from './listeners.js';
import { RegEventSubscription } from './reg-subscription.js';
import { RegTimers } from './reg-timers.js';
import { buildRegister, buildSubscribe, routeSet } from './requests.js';
import type { UeCoreConfig, UeCorePorts, UeIncomingRequest, UeRegState, UeRegistration, UeSnapshot } from './types.js';

export abstract class UeCoreBase {
  protected state: UeRegState = 'idle';
  protected reg: UeRegistration | undefined;
  protected readonly regSub: RegEventSubscription;
  protected lastFailure: UeSnapshot['lastFailure'];
  protected readonly timers: RegTimers;
  protected readonly callId: string;
  protected readonly fromTag: string;
  protected cseq = 0;
  protected stopped = false;
  /**
   * The Authorization of the last successful protected REGISTER: a re-registration or
   * de-registration carries its nonce and response (TS 24.229 §5.1.1.4.2, §5.1.1.6).
   */
  protected lastCredentials: DigestCredentials | undefined;
  protected readonly messageListeners = new Listeners<UeIncomingMessage>();
  protected readonly requestListeners = new Listeners<UeIncomingRequest>();
  protected readonly stateListeners = new Listeners<UeRegState>();

  constructor(
    protected readonly cfg: UeCoreConfig,
    protected readonly ports: UeCorePorts,
  ) {
    this.timers = new RegTimers(ports.clock, { reRegister: () => this.autoReRegister(), expired: () => this.expired() });
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

  /** R-REG-3: the re-registration timer fired. */
  protected abstract autoReRegister(): void;
  /** The registration lifetime ran out (R-SA-7). */
  protected abstract expired(): void;
  /** The SAs stopped answering: register anew (TS 24.229 §5.1.1.4.1). */
  protected abstract recover(err: UeError): Promise<UeRegistration>;

  snapshot(): UeSnapshot {
    return {
      state: this.state,
      impi: this.cfg.id.impi,
      impu: this.cfg.id.impu,
      ...(this.reg ? { registration: { ...this.reg, impus: [...this.reg.impus], serviceRoute: [...this.reg.serviceRoute] } } : {}),
      subscription: this.regSub.state,
      ...(this.regSub.expiresAt !== undefined ? { subscriptionExpiresAt: this.regSub.expiresAt } : {}),
      ...(this.regSub.refreshAt !== undefined ? { subscriptionRefreshAt: this.regSub.refreshAt } : {}),
      ...(this.timers.reRegisterAt !== undefined ? { reRegisterAt: this.timers.reRegisterAt } : {}),
      ...(this.lastFailure ? { lastFailure: { ...this.lastFailure } } : {}),
    };
  }

  onMessage(cb: (m: UeIncomingMessage) => void): () => void {
    return this.messageListeners.add(cb);
  }

  /** Every request from the network, with the answer the UE gave it. */
  onIncomingRequest(cb: (r: UeIncomingRequest) => void): () => void {
    return this.requestListeners.add(cb);
  }

  onStateChange(cb: (s: UeRegState) => void): () => void {
    return this.stateListeners.add(cb);
  }

  /** The protected server endpoint: Contact of every protected request (TS 24.229 §5.1.1.2.2). */
  protected get contact(): Endpoint {
    return { address: this.cfg.localAddress, port: this.cfg.serverPort };
  }

  protected get unprotectedContact(): Endpoint {
    return { address: this.cfg.localAddress, port: this.cfg.unprotectedPort };
  }

  protected setState(s: UeRegState): void {
    if (this.state === s) return;
    this.ports.log.info({ from: this.state, to: s, impi: this.cfg.id.impi }, 'UE state');
    this.state = s;
    // A listener's problem is not the registration's.
    this.stateListeners.emit(s);
  }

  protected guard(allowed: readonly UeRegState[]): void {
    if (this.stopped) throw new UeError('stopped', 'the UE is stopped');
    if (allowed.includes(this.state)) return;
    const inProgress = this.state === 'registering' || this.state === 'authenticating' || this.state === 'reregistering' || this.state === 'deregistering';
    throw new UeError(inProgress || this.state === 'registered' ? 'busy' : 'not-registered', `cannot do that while ${this.state}`);
  }

  protected register_(p: { auth: DigestCredentials; securityClient: SecMechanism[]; securityVerify?: SecMechanism[]; expires?: number; contact?: Endpoint }): SipRequest {
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

  protected pcscfProtected(reg: UeRegistration): Endpoint {
    return { address: reg.pcscf.address, port: reg.pcscf.portS };
  }

  protected clearRegistration(to: UeRegState): void {
    this.timers.cancel();
    this.ports.sa.deleteImpi(this.cfg.id.impi, 'deregistered');
    this.reg = undefined;
    this.lastCredentials = undefined;
    this.regSub.end();
    this.setState(to);
  }

  protected failed(e: unknown, to: UeRegState): UeError {
    const err = asUeError(e);
    this.lastFailure = { reason: err.reason, detail: err.message, ...(err.status !== undefined ? { status: err.status } : {}) };
    this.ports.log.info({ reason: err.reason, status: err.status, detail: err.message }, 'UE procedure failed');
    if (to === 'deregistered' && this.reg) this.clearRegistration(to);
    else this.setState(to);
    return err;
  }

  protected unexpected(resp: SipResponse, what: string): UeError {
    if (resp.status >= 200 && resp.status < 300) return new UeError('no-challenge', `${what} accepted without IMS AKA (no keys, no SAs)`, resp.status);
    const retryAfter = retryAfterOf(resp);
    return new UeError('rejected', `${what} answered ${resp.status} ${resp.reason}`, resp.status, retryAfter !== undefined ? { retryAfter } : undefined);
  }

  protected async sendUnprotected(req: SipRequest): Promise<SipResponse> {
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

  protected async sendProtected(req: SipRequest, pcscfPortS: number, clientPort: number): Promise<SipResponse> {
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
