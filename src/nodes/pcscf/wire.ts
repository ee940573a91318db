/**
 * The P-CSCF as a running node: B2's SipStack on the unprotected port (UDP and TCP), C2's SA
 * manager mirrored into a datapath (userspace ESP-in-UDP by default, kernel XFRM by config),
 * one G1 {@link ProtectedTransport} per SA set on its protected ports, and {@link PcscfCore}
 * deciding. Clock, Rng, logger and the `ip` runner are injected; no protocol logic lives here.
 *
 * ```ts
 * const pcscf = createPcscf(parsePcscfConfig({ sip: { listen: '127.0.0.1:0' }, protected: { ports: 'auto' } }));
 * await pcscf.start();
 * pcscf.address();      // { sip: { address: '127.0.0.1', port: 40123, protocols: ['udp', 'tcp'] } }
 * pcscf.saTable();      // TS 33.203 §7.1 rows (R-SA-4)
 * await pcscf.stop();   // every SA removed, every socket closed
 * ```
 *
 * A response the P-CSCF sends over an SA it is about to delete (a 494 after a failed
 * Security-Verify, the 200 of a de-registration) must still leave: the datapath removes an SA
 * only after every protected send already handed to it has finished.
 */
import { type Clock, type Logger, type Rng, cryptoRng, systemClock } from '../../common/index.js';
import { silentLogger } from '../../common/log.js';
import {
  KernelSocketCarrier,
  SaManager,
  UdpEncapDatapath,
  XfrmDatapath,
  NODE_POLICY_LINGER_MS,
  inboundSaLookup,
  ipRunner,
  mirrorSaTable,
  type IpsecDatapath,
  type Mirror,
  type SaSet,
  type SaTableEntry,
  type SecurityAssociation,
  type UdpEncapCounters,
  type XfrmRunner,
} from '../../ipsec/index.js';
import { openTransports, SipTransportError } from '../../sip/transport/index.js';
import { ipFamily } from '../../sip/index.js';
import type { Endpoint, SipTransport, WireObserver } from '../../sip/transport/index.js';
import { SipStack } from '../../sip/stack/index.js';
import { ProtectedTcpTransport, ProtectedTransport, protectionOf, type ProtectedCarrier } from '../../sip/transport/protected/index.js';
import { NodeLifecycle, type ImsNode, type NodeStatus, type SipAddress, resolveSipUri } from '../common/index.js';
import type { PcscfConfig } from './config.js';
import { PcscfCore, type ProtectedPorts } from './core.js';
import { RegisteredTransport } from './registered-transport.js';
import { newPcscfCounters, type PcscfCounters, type PcscfFailure, type PendingView, type RegistrationView } from './tables.js';
import { TrackingCarrier } from './tracking-carrier.js';

export interface PcscfDeps {
  clock?: Clock;
  rng?: Rng;
  logger?: Logger;
  /** The `ip` runner of the xfrm datapath (tests inject a recorder; this kernel has no ESP). */
  xfrmRunner?: XfrmRunner;
  /** Sees every ESP datagram of the userspace datapath (pcap recording). */
  espTap?: (direction: 'in' | 'out', local: Endpoint, remote: Endpoint, datagram: Uint8Array) => void;
  /** Sees every SIP datagram / TCP chunk of the unprotected transports (pcap recording). */
  sipTap?: WireObserver;
}

/** Counters of the datapath: userspace ESP drops (R-SA-8, R-FAIL-1) or kernel-carrier figures. */
export type PcscfDatapathCounters = { kind: 'userspace'; counters: UdpEncapCounters } | { kind: 'xfrm'; counters: KernelSocketCarrier['counters'] & { tcpUnprotected: number } };

/** How many protected client ports (port_pc) the P-CSCF keeps: more than the sets one UE may hold (R-SA-6). */
export const CLIENT_PORT_POOL = 8;

/** The running P-CSCF (see the module comment). */
export class PcscfNode implements ImsNode<PcscfCounters> {
  readonly kind = 'pcscf' as const;
  readonly sa: SaManager;
  private core: PcscfCore | undefined;
  private stack: SipStack | undefined;
  private mirror: Mirror | undefined;
  private datapath: IpsecDatapath | undefined;
  private userspace: UdpEncapDatapath | undefined;
  private kernelCarrier: KernelSocketCarrier | undefined;
  private carrier: TrackingCarrier | undefined;
  private transport: ProtectedTransport | undefined;
  /** Kernel datapath only: protected SIP over TCP on port_ps (phones send big REGISTERs that way). */
  private tcp: ProtectedTcpTransport | undefined;
  private serverPort = 0;
  private clientPorts: number[] = [];
  private nextClientPort = 0;
  private readonly installErrors = new Map<number, string>();
  /** The transport each UE registered over (requests towards it go the same way). */
  private readonly registeredOver: RegisteredTransport;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly log: Logger;
  private bound: SipAddress | undefined;
  private readonly life: NodeLifecycle;

  constructor(
    readonly config: PcscfConfig,
    private readonly deps: PcscfDeps = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    this.rng = deps.rng ?? cryptoRng;
    this.log = deps.logger ?? silentLogger;
    this.life = new NodeLifecycle('pcscf', this.clock);
    this.sa = new SaManager({
      role: 'pcscf',
      clock: this.clock,
      rng: this.rng,
      ...(config.protected.ports ? { portRange: config.protected.ports } : {}),
      temporaryLifetimeMs: config.registrationTimerMs,
      maxSetsPerImpi: config.maxSetsPerImpi,
      changeOverMs: 64 * config.sip.t1Ms,
    });
    this.registeredOver = new RegisteredTransport(this.sa);
  }

  get protectedAddress(): string {
    return this.config.protected.address ?? this.config.sip.listen.host;
  }

  /** Binds the unprotected port, prepares the datapath; resolves when the P-CSCF answers. */
  async start(): Promise<void> {
    this.life.begin();
    const c = this.config;
    const icscf = resolveSipUri(c.icscf, c.hosts);
    const transports = await openTransports({
      address: c.sip.listen.host,
      port: c.sip.listen.port,
      protocols: c.sip.protocols,
      logger: this.log,
      clock: this.clock,
      ...c.sip.tcp,
      ...(this.deps.sipTap ? { onWire: this.deps.sipTap } : {}),
    });
    const stack = new SipStack({
      transports,
      clock: this.clock,
      rng: this.rng,
      logger: this.log,
      timers: { t1: c.sip.t1Ms },
      proxy: true,
      ...(c.sip.advertisedHost ? { transport: { advertisedHost: c.sip.advertisedHost } } : {}),
    });
    this.stack = stack;
    const port = transports[0].local.port;
    const host = c.sip.advertisedHost ?? c.sip.listen.host;
    this.bound = { address: transports[0].local.address, port, protocols: [...c.sip.protocols] };

    // The datapath and the carrier the protected transports share.
    let inner: ProtectedCarrier;
    if (c.datapath === 'xfrm') {
      const xfrm = new XfrmDatapath({ runner: this.deps.xfrmRunner ?? ipRunner(c.xfrmNetns ? { netns: c.xfrmNetns } : {}), policyLingerMs: NODE_POLICY_LINGER_MS, clock: this.clock });
      // Entries of our reqid range left by an earlier run (e.g. killed with SIGKILL) go before we serve.
      const stale = await xfrm.removeStale();
      if (stale > 0) this.log.warn({ removed: stale }, 'pcscf: removed xfrm entries left by an earlier run');
      this.datapath = xfrm;
      this.kernelCarrier = new KernelSocketCarrier(this.protectedAddress, inboundSaLookup(this.sa));
      inner = this.kernelCarrier;
    } else {
      this.userspace = new UdpEncapDatapath({ rng: this.rng, ...(this.deps.espTap ? { tap: this.deps.espTap } : {}) });
      this.datapath = this.userspace;
      inner = this.userspace;
    }
    const carrier = new TrackingCarrier(inner);
    this.carrier = carrier;
    const dp = this.datapath;
    const guarded: IpsecDatapath = {
      name: dp.name,
      install: (sa) => dp.install(sa),
      remove: async (sa) => {
        await carrier.idle(sa.direction === 'out' ? sa.dst.address : sa.src.address);
        await dp.remove(sa);
      },
      close: () => dp.close(),
    };
    this.mirror = mirrorSaTable(this.sa, guarded, {
      onError: (err, sa, op) => {
        if (op === 'install') this.installErrors.set(sa.setId, (err as Error).message);
        this.log.warn({ sa: sa.id, op, err: (err as Error).message }, 'pcscf: datapath operation failed');
      },
    });
    this.sa.on((e) => {
      if (e.kind === 'setStateChanged' && e.to === 'deleted') this.installErrors.delete(e.set.id);
    });

    // One protected server port for every UE and a small pool of client ports, bound for the
    // P-CSCF's life: the SAs are told apart by SPI (seed 001 §7.1), so protected ports are not a
    // per-UE resource (R-RR-1: port_ps never changes; each new set takes another port_pc).
    await this.bindProtectedPorts(inner);
    this.transport = new ProtectedTransport({
      carrier,
      address: this.protectedAddress,
      serverPort: this.serverPort,
      clientPort: (to) => this.clientPortTo(to),
      saManager: this.sa,
      responseFlow: c.protected.responseFlow,
      onProtected: (m) => this.registeredOver.note(m, false),
      logger: this.log,
    });
    stack.transportLayer.add(this.transport);
    if (this.kernelCarrier && c.sip.protocols.includes('tcp')) {
      this.tcp = await ProtectedTcpTransport.listen({
        address: this.protectedAddress,
        serverPort: this.serverPort,
        clientPortFor: (to) => this.sa.preferredSetAtUe(to.address, to.port)?.pcscf.portC,
        lookup: inboundSaLookup(this.sa),
        saManager: this.sa,
        onProtected: (m) => this.registeredOver.note(m, true),
        tcp: c.sip.tcp,
        clock: this.clock,
        logger: this.log,
      });
      stack.transportLayer.add(this.tcp);
    }
    const ports: ProtectedPorts = {
      portsFor: (ueAddress, uePortS) => this.portsFor(ueAddress, uePortS),
      open: (set) => this.openSet(set),
      transportOf: (id) => (!this.sa.get(id) ? undefined : this.tcp && this.registeredOver.overTcpFor(id) ? this.tcp : this.transport),
      isProtectedPort: (p) => p === this.serverPort || this.clientPorts.includes(p),
    };
    const addresses = [c.sip.listen.host, this.protectedAddress];
    const names = [...c.names];
    if (c.sip.advertisedHost) (ipFamily(c.sip.advertisedHost) !== 0 ? addresses : names).push(c.sip.advertisedHost);
    this.core = new PcscfCore({
      sa: this.sa,
      sip: stack,
      ports,
      clock: this.clock,
      rng: this.rng,
      logger: this.log,
      policy: { algs: c.policy.algs, ealgs: c.policy.ealgs, mods: c.datapath === 'xfrm' ? ['trans'] : ['UDP-enc-tun'], honourQ: c.policy.honourQ },
      hosts: c.hosts,
      icscf,
      face: { host, port },
      protectedAddress: this.protectedAddress,
      addresses,
      names,
      visitedNetworkId: c.visitedNetworkId,
      trustedCore: c.trustedCore,
      regEvent: c.regEvent,
      ueTrusted: c.privacy.ueTrusted,
      registrationTimerMs: c.registrationTimerMs,
      overload: c.overload,
    });
    const core = this.core;
    stack.onRequest((req, ctx) => {
      const prot = protectionOf(req);
      this.log.debug({ method: req.method, from: `${ctx.remote.address}:${ctx.remote.port}`, local: ctx.local.port, spi: prot?.spi }, 'pcscf: request');
      return core.onRequest(req, ctx, prot);
    });
    stack.onAck((ack, ctx) => void core.onAck(ack, ctx, protectionOf(ack)));
    this.log.info({ host, port, protocols: c.sip.protocols, datapath: c.datapath, icscf: `${icscf.address}:${icscf.port}` }, 'pcscf: ready');
    this.life.running();
  }

  /** port_ps and the port_pc pool: the first port of the range and those after it, or OS-chosen. */
  private async bindProtectedPorts(carrier: ProtectedCarrier): Promise<void> {
    const range = this.config.protected.ports;
    const addr = this.protectedAddress;
    const listen = (port: number): Promise<number> => carrier.listen!(addr, port);
    this.serverPort = await listen(range ? range.min : 0);
    const pool = range ? Math.min(CLIENT_PORT_POOL, range.max - range.min) : CLIENT_PORT_POOL;
    for (let i = 1; i <= pool; i++) this.clientPorts.push(await listen(range ? range.min + i : 0));
  }

  /**
   * The local ports of a new set for the UE at (address, port_us): the one port_ps, and a
   * port_pc none of that UE's live sets uses (R-RR-1), taken round-robin from the pool.
   */
  private portsFor(ueAddress: string, uePortS: number): { portC: number; portS: number } {
    const taken = new Set(this.sa.setsAtUePort(ueAddress, uePortS).map((s) => s.pcscf.portC));
    for (let i = 0; i < this.clientPorts.length; i++) {
      const p = this.clientPorts[(this.nextClientPort + i) % this.clientPorts.length];
      if (taken.has(p)) continue;
      this.nextClientPort = (this.nextClientPort + i + 1) % this.clientPorts.length;
      return { portC: p, portS: this.serverPort };
    }
    throw new SipTransportError(`every protected client port is in use by the sets of ${ueAddress}:${uePortS}`);
  }

  /** R-RR-2: requests to a UE leave on its preferred set (the old one until the UE used the new). */
  private clientPortTo(to: Endpoint): number {
    const set = this.sa.preferredSetAtUe(to.address, to.port);
    if (!set) throw new SipTransportError(`no SA set towards ${to.address}:${to.port}`, to);
    return set.pcscf.portC;
  }

  /** Waits until a new set is installed (its own SAs, not the whole table); resolves with the protected transport. */
  private async openSet(set: SaSet): Promise<SipTransport> {
    await this.mirror!.settled(set.id);
    const err = this.installErrors.get(set.id);
    if (err !== undefined) {
      this.installErrors.delete(set.id);
      throw new SipTransportError(`SA set ${set.id} could not be installed: ${err}`);
    }
    if (!this.sa.get(set.id) || !this.transport) throw new SipTransportError(`SA set ${set.id} is gone`);
    return this.transport;
  }

  /** Deletes every SA (and waits until the datapath removed them), closes every socket; idempotent. */
  stop(): Promise<void> {
    return this.life.stop(() => this.close());
  }

  private async close(): Promise<void> {
    this.core?.stop();
    await this.mirror?.idle();
    this.mirror?.stop();
    await this.stack?.close();
    await this.datapath?.close().catch((err: Error) => this.log.warn({ err: err.message }, 'pcscf: datapath close failed'));
    await this.kernelCarrier?.close();
    await this.tcp?.close();
    this.tcp = undefined;
    this.transport = undefined;
    this.clientPorts = [];
    this.log.info({ counters: this.core?.counters }, 'pcscf: stopped');
  }

  /** The unprotected SIP endpoint as bound (the protected ones: {@link protectedEndpoints}). */
  address(): { sip: SipAddress } {
    if (!this.bound) throw new SipTransportError('P-CSCF not started');
    return { sip: this.bound };
  }

  status(): NodeStatus {
    return this.life.status();
  }

  /** The SIP stack (after start; metrics). */
  get sipStack(): SipStack | undefined {
    return this.stack;
  }

  /** TS 33.203 §7.1 SA table rows (R-SA-4). */
  saTable(): SaTableEntry[] {
    return this.sa.saTable();
  }

  /** Live SA sets (four SAs each). */
  sets(): SaSet[] {
    return this.sa.sets();
  }

  /** Live SAs. */
  sas(): SecurityAssociation[] {
    return this.sa.sas();
  }

  pending(): PendingView[] {
    return this.core?.pending() ?? [];
  }

  registrations(): RegistrationView[] {
    return this.core?.registrations() ?? [];
  }

  failures(): PcscfFailure[] {
    return this.core?.failures() ?? [];
  }

  /** The P-CSCF's counters (zero before start). */
  counters(): Readonly<PcscfCounters> {
    return this.core?.counters ?? newPcscfCounters();
  }

  /** Datapath counters (ICV and replay drops for R-SA-8 / R-FAIL-1). */
  datapathCounters(): PcscfDatapathCounters | undefined {
    if (this.userspace) return { kind: 'userspace', counters: this.userspace.counters };
    if (this.kernelCarrier) return { kind: 'xfrm', counters: { ...this.kernelCarrier.counters, tcpUnprotected: this.tcp?.unprotectedDropped ?? 0 } };
    return undefined;
  }

  /** The protected server endpoint (port_ps) and the client ports (port_pc pool). */
  protectedEndpoints(): Endpoint[] {
    if (!this.transport) return [];
    return [this.transport.local, ...this.clientPorts.map((port) => ({ address: this.protectedAddress, port }))];
  }

  /** Resolves when every pending datapath install/remove has finished (tests, demo). */
  async idle(): Promise<void> {
    await this.mirror?.idle();
    await this.carrier?.idle();
  }
}

/** Builds a P-CSCF from its configuration (not started: call `start()`). */
export function createPcscf(config: PcscfConfig, deps: PcscfDeps = {}): PcscfNode {
  return new PcscfNode(config, deps);
}
