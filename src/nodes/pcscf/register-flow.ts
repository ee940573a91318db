/**
 * Registration at the P-CSCF (TS 33.203 §7.2 and §7.4, TS 24.229 §5.2.2):
 * 1. Unprotected REGISTER (R-SA-5 allows only initial, sync-failure and auth-failure ones): the
 *    sec-agree gate (421/494, R-SM-2), the offer kept per IMPI + source, Security-Client and the
 *    sec-agree tags removed, Path, `integrity-protected="no"`, P-Visited-Network-ID and
 *    P-Charging-Vector added, forwarded to the I-CSCF.
 * 2. The 401 (register-challenge.ts): IK/CK taken out (R-AKA-6), a mechanism chosen, SPIs and
 *    ports allocated, four temporary SAs created and installed, Security-Server added; the 401
 *    goes back (R-SM-3).
 * 3. The protected REGISTER on the new port-s: IMPI, source and Contact bound to the SA
 *    (R-SA-4, R-SA-9), Security-Verify and Security-Client checked (R-SM-4),
 *    `integrity-protected="yes"`, forwarded.
 * 4. The 200: the set becomes active for the registration lifetime (R-SA-7), older sets old
 *    until the UE's first message on the new one (R-RR-2), the registration recorded with its
 *    IMPUs (R-SA-4), the 200 returned protected, reg-event subscribed.
 * A REGISTER over an established set is a refresh, a de-registration or an AKA re-registration
 * with new SAs in parallel (R-RR-1; a de-registration the network challenges gets them too,
 * TS 24.229 §5.1.1.5.1); it may also report a network-authentication or
 * synchronisation failure of such a re-registration (TS 24.229 §5.1.1.5.3: over the existing
 * SAs; R-FAIL-2, R-FAIL-3). Every failure deletes what the attempt created and nothing else
 * (R-RR-3, R-FAIL-4). Its answer is always relayed over the SAs before a registration the
 * network ended meanwhile goes (TS 33.203 §7.4): the exchange is tracked as in flight.
 */
import { randomToken } from '../../common/index.js';
import type { SaSet } from '../../ipsec/index.js';
import { checkSecurityClientUnchanged, checkSecurityVerify, choosePcscfMechanism, securityServerFor, type SecMechanism } from '../../secagree/index.js';
import { cloneMessage, contactsOf, formatUri, type SipRequest, type SipResponse, canonicalAddress } from '../../sip/index.js';
import type { RequestContext } from '../../sip/stack/index.js';
import type { Endpoint } from '../../sip/transport/index.js';
import type { Protection } from '../../sip/transport/protected/index.js';
import { ep, impiFromTo, respondOutThen, respondThen, toUri, tryParseMechanisms, type CoreContext } from './ports.js';
import {
  addRegisterHeaders,
  associatedUris,
  classifyUnprotectedRegister,
  contactUriOf,
  credentialsOf,
  grantedExpires,
  removeAkaKeys,
  requestedExpires,
  secAgreeGate,
  serviceRouteOf,
  setIntegrityProtected,
  stripSecAgree,
} from './register-rules.js';
import { onChallenge } from './register-challenge.js';
import { faceUri } from './routing.js';
import { pendingKey, type PendingRegistration, type Registration } from './tables.js';

/** The REGISTER procedures of the P-CSCF (see the module comment). */
export class RegisterFlow {
  constructor(
    private readonly c: CoreContext,
    /** Called once a UE is newly registered (reg-event subscription). */
    private readonly onRegistered: (reg: Registration) => void,
  ) {}

  /** Step 1: a REGISTER on the unprotected port (R-SA-5, R-SM-2, R-SA-4, R-RR-4). */
  async unprotectedRegister(req: SipRequest, ctx: RequestContext): Promise<void> {
    let creds;
    try {
      creds = credentialsOf(req);
    } catch {
      return void ctx.reply(400, 'Bad Authorization');
    }
    const impi = creds?.username ?? impiFromTo(req);
    if (!impi) return void ctx.reply(400, 'No Private Identity');
    const kind = classifyUnprotectedRegister(creds);
    // R-SA-5: a digest answer must come over the SAs, never on the unprotected port.
    if (kind === 'challenge-answer') {
      this.c.counters.portRuleRejected++;
      this.c.log.info({ impi, from: ep(ctx.remote) }, 'pcscf: challenge answer on the unprotected port refused (R-SA-5)');
      return void ctx.reply(403, 'Forbidden');
    }
    let offer: SecMechanism[] | undefined;
    let selection;
    if (kind === 'auth-failure') {
      // R-FAIL-2: the report of a failed network authentication goes up even without sec-agree.
      offer = tryParseMechanisms(req.headers.getLines('Security-Client'));
      const s = offer && offer.length > 0 ? choosePcscfMechanism(offer, this.c.o.policy) : undefined;
      selection = s?.ok ? s : undefined;
      if (!selection) offer = undefined;
    } else {
      const gate = secAgreeGate(req, this.c.o.policy);
      if (!gate.ok) {
        this.c.counters.secAgreeRejected++;
        this.c.log.info({ impi, status: gate.status, detail: gate.detail }, 'pcscf: sec-agree refused (R-SM-2)');
        return void ctx.reply(gate.status, gate.reason, { headers: gate.headers });
      }
      offer = gate.offer;
      selection = gate.selection;
      // R-SA-4: the UE protected ports offered at this address must not be bound to another IMPI.
      const ueAddress = canonicalAddress(ctx.remote.address);
      const clash = [selection.ue.portC, selection.ue.portS].flatMap((p) => this.c.o.sa.setsAtUePort(ueAddress, p)).find((s) => s.impi !== impi);
      if (clash) {
        this.c.counters.selectorRejected++;
        this.c.log.info({ impi, other: clash.impi }, 'pcscf: offered selector bound to another IMPI (R-SA-4)');
        return void ctx.reply(403, 'Forbidden');
      }
    }
    // A registration the network ended may still wait for in-flight answers; a UE registering
    // anew has dropped its SAs (TS 24.229 §5.1.1.7), so it goes now and cannot hold the new SAs up.
    const ended = this.c.state.regs.get(impi)?.ending;
    if (ended) this.c.state.removeRegistration(impi, ended.reason, `${ended.detail}; the UE registers anew`);
    const key = pendingKey(impi, ctx.transport, ctx.remote);
    this.c.state.dropPending(this.c.state.pendingByKey.get(key), 'replaced', 'a new REGISTER from the same source');
    // Half-open registrations must not lock anyone out: one attempt per IMPI (the newest wins),
    // a cap per UE address and one in all, answered 503 + Retry-After (RFC 3261 §21.5.4). A
    // registered UE's re-registration travels over its SAs and is never counted here.
    this.c.state.dropPending(this.c.state.unprotectedAttemptOf(impi), 'replaced', 'a newer REGISTER for the same IMPI');
    const ueAddress = canonicalAddress(ctx.remote.address);
    const load = this.c.state.unprotectedAttempts(ueAddress);
    const caps = this.c.o.overload;
    if (load.fromAddress >= caps.attemptsPerAddress || load.total >= caps.attemptsTotal) {
      this.c.counters.overloadRejected++;
      this.c.log.warn({ impi, from: ueAddress, fromAddress: load.fromAddress, total: load.total }, 'pcscf: registration attempts over the cap, 503');
      return void ctx.reply(503, 'Service Unavailable', { headers: [['Retry-After', String(caps.retryAfterSeconds)]] });
    }
    const pending: PendingRegistration = {
      key,
      impi,
      impu: toUri(req),
      ueAddress,
      transport: ctx.transport,
      source: { address: canonicalAddress(ctx.remote.address), port: ctx.remote.port },
      offer,
      selection,
      overSetId: undefined,
      state: 'forwarded',
      createdAt: this.c.o.clock.now(),
    };
    this.c.state.addPending(pending);
    const fwd = this.upstreamRegister(req, 'no');
    await this.forwardRegister(req, fwd, pending, ctx, undefined);
  }

  /** The REGISTER as it leaves for the I-CSCF (TS 24.229 §5.2.2.1). */
  private upstreamRegister(req: SipRequest, integrity: 'yes' | 'no'): SipRequest {
    const fwd = cloneMessage(req);
    stripSecAgree(fwd);
    setIntegrityProtected(fwd, integrity);
    addRegisterHeaders(fwd, {
      path: faceUri(this.c.o.face.host, this.c.o.face.port, 'term'),
      visitedNetworkId: this.c.o.visitedNetworkId,
      icid: randomToken(this.c.o.rng, 16),
      host: this.c.o.face.host,
    });
    return fwd;
  }

  private async forwardRegister(req: SipRequest, fwd: SipRequest, pending: PendingRegistration, ctx: RequestContext, overSet: SaSet | undefined): Promise<void> {
    let resp: SipResponse;
    try {
      resp = await ctx.proxy().forward(fwd, this.c.o.icscf);
    } catch (err) {
      const code = (err as { code?: string }).code;
      const timeout = code === 'SIP_TIMEOUT';
      this.c.state.fail(pending, timeout ? 'upstream-timeout' : 'upstream-unreachable', (err as Error).message);
      return respondThen(ctx, timeout ? 408 : 503, timeout ? 'Request Timeout' : 'Service Unavailable', () => this.c.state.deleteAttemptSet(pending));
    }
    const out = cloneMessage(resp);
    const current = this.c.state.pendingByKey.get(pending.key) === pending;
    if (resp.status === 401 && current) return onChallenge(this.c, pending, resp, out, ctx);
    try {
      removeAkaKeys(out);
    } catch {
      out.headers.remove('WWW-Authenticate');
    }
    if (resp.status >= 200 && resp.status < 300 && current) return this.onRegisterOk(req, pending, resp, out, ctx, overSet);
    // A failure (or an answer to a superseded attempt): relay it and drop what the attempt made.
    if (current) this.c.state.fail(pending, `upstream-${resp.status}`, `${resp.status} ${resp.reason}`);
    ctx.respond(out);
    if (current) this.c.state.deleteAttemptSet(pending);
  }

  /** A REGISTER over an SA: step 3 on a temporary set, a refresh / re-registration on an established one. */
  async protectedRegister(req: SipRequest, ctx: RequestContext, prot: Protection): Promise<void> {
    const set = this.c.o.sa.get(prot.setId);
    if (!set) return void ctx.reply(403, 'Forbidden');
    let creds;
    try {
      creds = credentialsOf(req);
    } catch {
      return void ctx.reply(400, 'Bad Authorization');
    }
    const impi = creds?.username ?? set.impi;
    // R-SA-4: the SA is bound to one IMPI.
    if (impi !== set.impi) {
      this.c.counters.selectorRejected++;
      this.c.log.info({ setImpi: set.impi, impi }, 'pcscf: REGISTER for another IMPI over a bound SA (R-SA-4)');
      return void ctx.reply(403, 'Forbidden');
    }
    // R-SA-9: source and Contact are the ones the SA is bound to (port-c sends, port-s receives).
    const problem = this.selectorProblem(req, ctx.remote, set);
    if (problem) {
      this.c.counters.selectorRejected++;
      this.c.log.info({ impi, setId: set.id, problem }, 'pcscf: protected REGISTER does not match its SA (R-SA-9)');
      return respondThen(ctx, 403, 'Forbidden', () => set.state === 'temporary' && this.c.state.failSetAttempt(set.id, 'selector-mismatch', problem));
    }
    if (set.state === 'temporary') return this.secondRegister(req, ctx, set);
    return this.reRegisterOverSa(req, ctx, set, impi);
  }

  private selectorProblem(req: SipRequest, remote: Endpoint, set: SaSet): string | undefined {
    if (canonicalAddress(remote.address) !== canonicalAddress(set.ue.address) || remote.port !== set.ue.portC) return `source ${ep(remote)} is not the UE port-c ${set.ue.address}:${set.ue.portC}`;
    let contacts;
    try {
      contacts = contactsOf(req);
    } catch {
      return 'unreadable Contact';
    }
    if (contacts === '*') return undefined;
    for (const c of contacts) {
      const u = c.uri;
      if (u.kind !== 'sip') return 'Contact is not a SIP URI';
      if (canonicalAddress(u.host.replace(/^\[(.*)\]$/, '$1')) !== canonicalAddress(set.ue.address) || (u.port ?? 5060) !== set.ue.portS) {
        return `Contact ${formatUri(u)} is not the UE port-s ${set.ue.address}:${set.ue.portS}`;
      }
    }
    return undefined;
  }

  /** Step 3: the protected REGISTER answering the challenge, over the temporary set. */
  private async secondRegister(req: SipRequest, ctx: RequestContext, set: SaSet): Promise<void> {
    const pending = this.c.state.pendingBySet.get(set.id);
    if (!pending || !pending.server || !pending.offer) return void ctx.reply(403, 'Forbidden');
    // R-SM-4: Security-Verify = the Security-Server sent; Security-Client unchanged.
    const verify = tryParseMechanisms(req.headers.getLines('Security-Verify'));
    const client = tryParseMechanisms(req.headers.getLines('Security-Client'));
    const v = checkSecurityVerify(pending.server, verify);
    const c = v.ok ? checkSecurityClientUnchanged(pending.offer, client) : v;
    if (!c.ok) {
      this.c.counters.bidDownRejected++;
      this.c.state.fail(pending, c.reason, c.detail);
      this.c.log.info({ impi: pending.impi, setId: set.id, reason: c.reason }, 'pcscf: bid-down check failed, new SAs deleted (R-SM-4)');
      return respondThen(ctx, c.status ?? 494, 'Security Agreement Required', () => this.c.o.sa.deleteSet(set.id, 'failed'));
    }
    pending.state = 'verifying';
    const fwd = this.upstreamRegister(req, 'yes');
    await this.forwardRegister(req, fwd, pending, ctx, set);
  }

  /** A REGISTER over an established set: refresh, de-registration or re-authentication (R-RR-1). */
  private async reRegisterOverSa(req: SipRequest, ctx: RequestContext, set: SaSet, impi: string): Promise<void> {
    // R-SM-4 (TS 24.229 §5.1.1.4.2, §5.1.1.6, §5.2.2.1; RFC 3329 §2.3.1): every protected
    // REGISTER carries Security-Verify = the Security-Server of the set it travels on; one that
    // lacks it, or differs, is refused and changes nothing.
    // The Security-Server of the set's 401, made again from what the set keeps (secagree's securityServerFor).
    const sent = securityServerFor({ alg: set.integrity, ealg: set.encryption, mod: set.mode }, set.pcscf);
    const verify = tryParseMechanisms(req.headers.getLines('Security-Verify'));
    const v = checkSecurityVerify(sent, verify);
    if (!v.ok) {
      this.c.counters.bidDownRejected++;
      this.c.log.info({ impi, setId: set.id, detail: v.detail }, 'pcscf: Security-Verify of a protected REGISTER missing or different (R-SM-4)');
      return void ctx.reply(v.status ?? 494, 'Security Agreement Required');
    }
    const deregister = requestedExpires(req) === 0;
    let offer: SecMechanism[] | undefined;
    let selection;
    const gate = secAgreeGate(req, this.c.o.policy);
    if (gate.ok) {
      offer = gate.offer;
      selection = gate.selection;
    } else if (!deregister) {
      // R-RR-3: an unacceptable proposal fails the re-registration; the old SAs stay.
      this.c.counters.secAgreeRejected++;
      return void ctx.reply(gate.status, gate.reason, { headers: gate.headers });
    }
    // A de-registration goes on without an acceptable offer; with one, the network may still
    // re-authenticate the UE (TS 24.229 §5.1.1.5.1: "… during subsequent reregistrations,
    // deregistrations …"), and its 401 then gets a temporary set as any other (§5.2.2.1).
    const key = pendingKey(impi, ctx.transport, ctx.remote);
    this.c.state.dropPending(this.c.state.pendingByKey.get(key), 'replaced', 'a new REGISTER over the same SA');
    const pending: PendingRegistration = {
      key,
      impi,
      impu: toUri(req),
      ueAddress: set.ue.address,
      transport: ctx.transport,
      source: { address: canonicalAddress(ctx.remote.address), port: ctx.remote.port },
      offer,
      selection,
      overSetId: set.id,
      state: 'forwarded',
      createdAt: this.c.o.clock.now(),
    };
    this.c.state.addPending(pending);
    const fwd = this.upstreamRegister(req, 'yes');
    await this.c.state.track(impi, () => this.forwardRegister(req, fwd, pending, ctx, set));
  }

  private onRegisterOk(req: SipRequest, pending: PendingRegistration, resp: SipResponse, out: SipResponse, ctx: RequestContext, overSet: SaSet | undefined): void {
    this.c.state.removePending(pending);
    const tempId = pending.state === 'verifying' ? pending.setId : undefined;
    const set = tempId !== undefined ? this.c.o.sa.get(tempId) : overSet ? this.c.o.sa.get(overSet.id) : undefined;
    if (!set) {
      // No SA to carry it (an unprotected REGISTER the S-CSCF accepted without AKA, or a set that expired).
      this.c.log.warn({ impi: pending.impi }, 'pcscf: 200 to a REGISTER without SAs relayed; nothing registered');
      return void ctx.respond(out);
    }
    let expires: number;
    let impus: string[];
    let serviceRoute: string[];
    try {
      expires = grantedExpires(resp, { address: set.ue.address, port: set.ue.portS });
      impus = associatedUris(resp);
      serviceRoute = serviceRouteOf(resp);
    } catch {
      expires = 0;
      impus = [];
      serviceRoute = [];
    }
    if (impus.length === 0 && pending.impu) impus = [pending.impu];
    if (expires <= 0) {
      // De-registration (or nothing granted): answer over the SA, then remove everything (R-SA-7).
      if (!this.c.state.regs.get(pending.impi)?.ending) this.c.counters.deregistered++;
      return respondOutThen(ctx, out, () => this.c.state.removeRegistration(pending.impi, 'deregistered', 'REGISTER with expires 0'));
    }
    if (set.state !== 'temporary' && this.c.state.regs.get(pending.impi)?.ending) {
      // A refresh over the SAs of a registration the network has ended: relay, do not revive it.
      this.c.log.info({ impi: pending.impi, setId: set.id }, 'pcscf: 200 to a re-REGISTER of an ended registration relayed');
      return void ctx.respond(out);
    }
    const lifetimeMs = expires * 1000;
    if (set.state === 'temporary') {
      this.c.o.sa.activate(set.id, lifetimeMs, impus);
      this.c.counters.registered++;
    } else if (set.state === 'active') {
      this.c.o.sa.refresh(set.id, lifetimeMs);
      set.impus = [...impus];
      this.c.counters.refreshed++;
    }
    let contact = '';
    try {
      const u = contactUriOf(req);
      contact = u ? formatUri(u) : '';
    } catch {
      contact = '';
    }
    const reg = this.c.state.upsertRegistration(pending.impi, { impus, ueAddress: set.ue.address, contact, serviceRoute, setId: set.state === 'active' ? set.id : this.c.state.regs.get(pending.impi)?.setId ?? set.id, lifetimeMs });
    this.c.log.info({ impi: reg.impi, impus: reg.impus, setId: reg.setId, expires }, 'pcscf: registered');
    ctx.respond(out);
    if (this.c.o.regEvent.subscribe && !reg.subscription) this.onRegistered(reg);
  }
}
