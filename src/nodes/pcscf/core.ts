/**
 * The P-CSCF's decisions (TS 33.203 §7, TS 24.229 §5.2): sec-agree at registration and the SA
 * life of each registration (register-flow.ts, through C2's SaManager: temporary → active → old
 * → deleted), the SA-table checks on every protected request and terminating privacy
 * (proxy.ts), reg-event de-registration (reg-subscriber.ts), and the tables that make every
 * failure end clean (state.ts). No sockets and no timers of its own: it works over injected
 * ports ({@link PcscfSip}, {@link ProtectedPorts}), an injected Clock and Rng, and the
 * SaManager (itself on the injected Clock). wire.ts builds it from a config.
 */
import { noopLogger } from '../../common/index.js';
import type { SaDeleteReason } from '../../ipsec/index.js';
import type { SipRequest } from '../../sip/index.js';
import type { RequestContext } from '../../sip/stack/index.js';
import { canonicalAddress } from '../../sip/index.js';
import type { Protection } from '../../sip/transport/protected/index.js';
import type { CoreContext, PcscfCoreOptions } from './ports.js';
import { PcscfProxy } from './proxy.js';
import { RegEventSubscriber } from './reg-subscriber.js';
import { selfUri } from './reg-event.js';
import { RegisterFlow } from './register-flow.js';
import { PcscfState } from './state.js';
import { newPcscfCounters, type PcscfCounters, type PcscfFailure, type PendingView, type RegistrationView } from './tables.js';

export type { PcscfCoreOptions, PcscfSip, ProtectedPorts } from './ports.js';

/** The P-CSCF core; see the module comment. */
export class PcscfCore {
  readonly counters: PcscfCounters = newPcscfCounters();
  private readonly state = new PcscfState();
  private readonly flow: RegisterFlow;
  private readonly proxy: PcscfProxy;
  private readonly regEvent: RegEventSubscriber;
  private stopped = false;

  constructor(o: PcscfCoreOptions) {
    const log = (o.logger ?? noopLogger).child({ node: 'pcscf' });
    const c: CoreContext = {
      o,
      log,
      counters: this.counters,
      state: this.state,
      self: {
        addresses: o.addresses.map(canonicalAddress),
        names: o.names,
        isOwnPort: (p) => p === o.face.port || (o.ports.isProtectedPort ? o.ports.isProtectedPort(p) : o.sa.sets().some((s) => s.pcscf.portS === p || s.pcscf.portC === p)),
      },
      selfUri: selfUri(o.face.host, o.face.port),
    };
    this.state.c = c;
    this.regEvent = new RegEventSubscriber(c);
    this.flow = new RegisterFlow(c, (reg) => void this.regEvent.subscribe(reg));
    this.proxy = new PcscfProxy(c, this.regEvent);
    o.sa.on((e) => {
      if (e.kind === 'saDeleted') this.state.deleteReason.set(e.sa.setId, e.reason);
      else if (e.kind === 'setStateChanged' && e.to === 'deleted') this.state.onSetDeleted(e.set, e.from);
      else if (e.kind === 'setStateChanged') log.info({ setId: e.set.id, impi: e.set.impi, from: e.from, to: e.to }, 'pcscf: SA set state');
    });
  }

  /** Registrations in progress (R-FAIL-4: empty once every attempt has ended). */
  pending(): PendingView[] {
    return this.state.pending();
  }

  /** Registered UEs: IMPI, IMPUs, address, contact, Service-Route, set, lifetime left. */
  registrations(): RegistrationView[] {
    return this.state.registrations();
  }

  /** Failures reported so far (R-FAIL-1), newest last, at most 200. */
  failures(): PcscfFailure[] {
    return this.state.failures();
  }

  /** Every request the stack hands up (the unprotected port or a protected transport). */
  async onRequest(req: SipRequest, ctx: RequestContext, prot: Protection | undefined): Promise<void> {
    if (this.stopped) return void ctx.reply(503, 'Service Unavailable');
    if (req.method === 'REGISTER') {
      this.counters.registerReceived++;
      return prot ? this.flow.protectedRegister(req, ctx, prot) : this.flow.unprotectedRegister(req, ctx);
    }
    if (prot) return this.proxy.fromUe(req, ctx, prot);
    return this.proxy.fromCore(req, ctx);
  }

  /** An ACK for a 2xx (RFC 3261 §13.2.2.4): relayed statelessly along the dialog route. */
  onAck(ack: SipRequest, ctx: RequestContext, prot: Protection | undefined): Promise<void> {
    return this.proxy.onAck(ack, ctx, prot);
  }

  /** Removes a registration, its subscription and every SA set of the IMPI (R-SA-7). */
  removeRegistration(impi: string, reason: SaDeleteReason = 'removed', detail = 'removed by the operator'): void {
    this.state.removeRegistration(impi, reason, detail);
  }

  /** Forget everything (shutdown): pending attempts, registrations, subscriptions, SA sets. */
  stop(): void {
    this.stopped = true;
    this.state.clear();
    this.state.c.o.sa.clear('removed');
  }
}
