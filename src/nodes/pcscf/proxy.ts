/**
 * Proxying after registration (RFC 3261 §16, TS 24.229 §5.2.6): requests from the UE over its
 * SAs are checked against the SA table (R-SA-4: an IMPU bound to that SA, else discarded),
 * asserted (P-Asserted-Identity, RFC 3325), stripped of sec-agree and sent along the
 * Service-Route; requests from the core on the unprotected port (R-SA-5: only from a trusted
 * source and routed through the P-CSCF) go to the UE over the SAs, from the P-CSCF's port-c to
 * the UE's port-s (TS 33.203 §7.1), with the privacy they ask for (R-ANON-1). Dialogs are
 * record-routed on both faces (RFC 5658).
 */
import { cloneMessage, parseUri, toTag, type SipRequest, canonicalAddress } from '../../sip/index.js';
import type { RequestContext } from '../../sip/stack/index.js';
import type { Destination, Endpoint } from '../../sip/transport/index.js';
import type { SaSet } from '../../ipsec/index.js';
import type { Protection } from '../../sip/transport/protected/index.js';
import { applyTerminatingPrivacy, assertIdentity, checkIdentity } from './identity.js';
import { ep, safeText, type CoreContext } from './ports.js';
import { notifyEndsRegistration } from './reg-event.js';
import type { RegEventSubscriber } from './reg-subscriber.js';
import { stripSecAgree } from './register-rules.js';
import { DIALOG_CREATING, enforceServiceRoute, faceUri, isOwnUri, nextHop, popOwnRoutes, recordRouteTwice, routeList } from './routing.js';
import type { Registration } from './tables.js';

export class PcscfProxy {
  constructor(
    private readonly c: CoreContext,
    private readonly regEvent: RegEventSubscriber,
  ) {}

  /** An ACK for a 2xx (RFC 3261 §13.2.2.4): relayed statelessly along the dialog route. */
  async onAck(ack: SipRequest, ctx: RequestContext, prot: Protection | undefined): Promise<void> {
    try {
      const fwd = cloneMessage(ack);
      if (prot) {
        const set = this.c.o.sa.get(prot.setId);
        if (!set || set.state === 'temporary') return;
        stripSecAgree(fwd);
        popOwnRoutes(fwd, this.c.self);
        await this.c.o.sip.forwardStateless(fwd, routeList(fwd).length > 0 ? nextHop(fwd, this.c.o.hosts) : this.c.o.icscf);
        return;
      }
      if (!this.isTrustedCore(ctx.remote)) return;
      popOwnRoutes(fwd, this.c.self);
      const target = this.terminatingTarget(fwd);
      if (target) await this.c.o.sip.forwardStateless(fwd, target.dest);
    } catch (err) {
      this.c.log.debug({ err: (err as Error).message }, 'pcscf: ACK not relayed');
    }
  }

  /** A non-REGISTER request over the UE's SAs (originating, or in a dialog). */
  async fromUe(req: SipRequest, ctx: RequestContext, prot: Protection): Promise<void> {
    const set = this.c.o.sa.get(prot.setId);
    const reg = set ? this.c.state.regs.get(set.impi) : undefined;
    if (!set || set.state === 'temporary' || !reg) {
      // Temporary SAs carry only the protected REGISTER (TS 33.203 §7.4).
      this.c.counters.portRuleRejected++;
      return void ctx.reply(403, 'Forbidden');
    }
    // R-SA-4: the identity must be one bound to this SA; otherwise the request is discarded.
    const id = checkIdentity(req, set.impus);
    if (!id.ok) {
      this.c.counters.identityRejected++;
      this.c.log.info({ impi: set.impi, setId: set.id, detail: id.detail }, 'pcscf: request with an identity not bound to its SA discarded (R-SA-4)');
      return;
    }
    let fwd: SipRequest;
    let dest: Destination;
    try {
      fwd = cloneMessage(req);
      stripSecAgree(fwd);
      const initial = toTag(req) === undefined;
      popOwnRoutes(fwd, this.c.self);
      if (initial) {
        assertIdentity(fwd, id.asserted);
        enforceServiceRoute(fwd, reg.serviceRoute);
        if (DIALOG_CREATING.has(req.method)) recordRouteTwice(fwd, faceUri(this.c.o.protectedAddress, set.pcscf.portS), faceUri(this.c.o.face.host, this.c.o.face.port));
      }
      // RFC 3261 §16.6 step 6: the top Route, else the Request-URI (in a dialog: its remote
      // target, e.g. the S-CSCF of a reg-event subscription refreshed by the UE); an initial
      // request without a Service-Route goes to the I-CSCF.
      dest = routeList(fwd).length > 0 || !initial ? nextHop(fwd, this.c.o.hosts) : this.c.o.icscf;
    } catch (err) {
      return void ctx.reply(400, 'Bad Request', { headers: [['Warning', `399 pcscf "${safeText((err as Error).message)}"`]] });
    }
    this.c.counters.forwardedOriginating++;
    await this.c.state.track(set.impi, () => this.proxy(fwd, dest, ctx));
  }

  /** A non-REGISTER request on the unprotected port: from the core towards a UE, or a reg-event NOTIFY. */
  async fromCore(req: SipRequest, ctx: RequestContext): Promise<void> {
    // R-SA-5: on the unprotected port only REGISTERs come from UEs; the rest must be the core's.
    if (!this.isTrustedCore(ctx.remote) && !this.isCoreNotifyOverTcp(req, ctx)) {
      this.c.counters.portRuleRejected++;
      this.c.log.info({ method: req.method, from: ep(ctx.remote) }, 'pcscf: non-REGISTER on the unprotected port refused (R-SA-5)');
      return void ctx.reply(403, 'Forbidden');
    }
    if (req.method === 'NOTIFY' && this.regEvent.subscriptionOf(req)) return this.regEvent.onNotify(req, ctx);
    if (req.method === 'NOTIFY' && this.addressedToSelf(req)) {
      // RFC 6665 §4.1.3: a NOTIFY of a subscription of ours that ended with its registration.
      return void ctx.reply(481, 'Subscription Does Not Exist');
    }
    const fwd = cloneMessage(req);
    let target;
    try {
      // Terminating traffic reaches the P-CSCF along its Path entry or a Record-Route entry of its own.
      if (popOwnRoutes(fwd, this.c.self) === 0) {
        this.c.counters.portRuleRejected++;
        this.c.log.info({ method: req.method, from: ep(ctx.remote) }, 'pcscf: unprotected request not routed through the P-CSCF refused (R-SA-5)');
        return void ctx.reply(403, 'Forbidden');
      }
      target = this.terminatingTarget(fwd);
    } catch {
      return void ctx.reply(400, 'Bad Request');
    }
    if (!target) return void ctx.reply(404, 'Not Found');
    // R-ANON-1: the last hop before the UE applies the privacy asked for.
    const privacy = applyTerminatingPrivacy(fwd, { ueTrusted: this.c.o.ueTrusted });
    if (!privacy.ok) {
      this.c.counters.privacyRejected++;
      this.c.log.info({ detail: privacy.detail }, 'pcscf: terminating request refused (R-ANON-1)');
      return void ctx.reply(privacy.status, privacy.reason);
    }
    if (toTag(req) === undefined && DIALOG_CREATING.has(req.method)) {
      recordRouteTwice(fwd, faceUri(this.c.o.face.host, this.c.o.face.port), faceUri(this.c.o.protectedAddress, target.set.pcscf.portS));
    }
    // TS 33.203 §7.4: the NOTIFY telling the UE its registration ended goes over the SAs; once
    // the UE answered it, an ended registration need not wait for it any more.
    const ends = notifyEndsRegistration(req, target.reg);
    const impi = target.reg.impi;
    this.c.counters.forwardedTerminating++;
    await this.c.state.track(impi, async () => {
      const status = await this.proxy(fwd, target.dest, ctx);
      if (ends && status >= 200 && status < 300) this.c.state.noteUeNotified(impi);
    });
  }

  /**
   * The UE a terminating request is for: the registration whose UE address is the Request-URI
   * host (a contact it registered, possibly with an older port-s), sent on the set the P-CSCF
   * prefers (the old one until the UE used the new one, R-RR-2) from port-c to the UE's port-s
   * (TS 33.203 §7.1).
   */
  private terminatingTarget(req: SipRequest): { reg: Registration; set: SaSet; dest: Destination } | undefined {
    let host: string | undefined;
    let port = 5060;
    try {
      const ru = parseUri(req.uri, 'Request-URI');
      if (ru.kind === 'sip') {
        host = canonicalAddress(ru.host.replace(/^\[(.*)\]$/, '$1'));
        port = ru.port ?? 5060;
      }
    } catch {
      host = undefined;
    }
    if (host === undefined) return undefined;
    // Several UEs may share an address (NAT, the lab): the port-s of one of its sets decides.
    const byPort = this.c.o.sa.setsAtUePort(host, port).find((s) => s.ue.portS === port && this.c.state.regs.has(s.impi));
    const atHost = this.c.state.registrationsAt(host);
    const reg = byPort ? this.c.state.regs.get(byPort.impi) : atHost.length === 1 ? atHost[0] : undefined;
    if (!reg) return undefined;
    const set = this.c.o.sa.preferredSet(reg.impi, reg.ueAddress);
    if (!set) return undefined;
    const through = this.c.o.ports.transportOf(set.id);
    if (!through) return undefined;
    return { reg, set, dest: { address: set.ue.address, port: set.ue.portS, transport: 'udp', through } };
  }

  /** Whether the Request-URI is the P-CSCF itself (its reg-event Contact), not a UE behind it. */
  private addressedToSelf(req: SipRequest): boolean {
    try {
      return isOwnUri(parseUri(req.uri, 'Request-URI'), this.c.self);
    } catch {
      return false;
    }
  }

  /**
   * A reg-event NOTIFY of our own subscription (its dialog is known only to us and the S-CSCF)
   * over a TCP connection from the address of a trusted core node: the S-CSCF's connections come
   * from ephemeral ports, so a port-qualified entry is matched by its address alone here.
   */
  private isCoreNotifyOverTcp(req: SipRequest, ctx: RequestContext): boolean {
    if (ctx.transport !== 'tcp' || req.method !== 'NOTIFY' || !this.regEvent.subscriptionOf(req)) return false;
    const a = canonicalAddress(ctx.remote.address);
    return this.c.o.trustedCore.some((e) => canonicalAddress((/^\[([^\]]+)\]:\d+$/.exec(e) ?? /^([^:]+):\d+$/.exec(e))?.[1] ?? e) === a);
  }

  private isTrustedCore(remote: Endpoint): boolean {
    const a = canonicalAddress(remote.address);
    return this.c.o.trustedCore.some((e) => {
      const m = /^\[([^\]]+)\]:(\d+)$/.exec(e) ?? /^([^:]+):(\d+)$/.exec(e);
      if (m) return canonicalAddress(m[1]) === a && Number(m[2]) === remote.port;
      return canonicalAddress(e) === a;
    });
  }

  /**
   * Stateful forwarding through the stack's proxy core (RFC 3261 §16.6–16.7: provisionals but 100
   * and further 2xx relayed, a CANCEL carried out, §16.10); resolves with the final status relayed.
   */
  private async proxy(fwd: SipRequest, dest: Destination, ctx: RequestContext): Promise<number> {
    try {
      const resp = await ctx.proxy().forward(fwd, dest);
      ctx.respond(resp);
      return resp.status;
    } catch (err) {
      const code = (err as { code?: string }).code;
      const [status, reason] = code === 'SIP_TIMEOUT' ? [408, 'Request Timeout'] : code === 'INVALID_ARGUMENT' ? [483, 'Too Many Hops'] : code === 'SIP_RESOLVE' ? [404, 'Not Found'] : [503, 'Service Unavailable'];
      ctx.reply(status, reason);
      return status;
    }
  }
}
