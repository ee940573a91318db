/**
 * The HSS as a running node: a Diameter Cx server (DiameterNode over TCP, RFC 6733) answering
 * UAR/MAR/SAR/LIR through {@link HssCore}, the store, the provisioning REST listener, and the
 * HSS-initiated RTR/PPR ({@link HssInitiated}). Clock, RNG, transport and logger are injected;
 * this file holds no protocol logic of its own.
 *
 * ```ts
 * const store = await openStore(config.store);
 * const hss = createHss(config, { store, logger });
 * await hss.start();
 * hss.address();      // { diameter: { address, port }, http?: { address, port } }
 * await hss.stop();   // DPR to every peer (RFC 6733 §5.4), then the listeners close
 * ```
 */
import type { HttpAccess } from '../../web/http/index.js';
import { type Clock, type Logger, type Rng, cryptoRng, SeededRng, systemClock } from '../../common/index.js';
import { silentLogger } from '../../common/log.js';
import { cxCapabilities, DisconnectCause, type DiameterTransport, type PeerStatus } from '../../diameter/index.js';
import { DiameterNode } from '../../diameter/io.js';
import type { HssStore } from '../../store/index.js';
import { NodeLifecycle, type ImsNode, type NodeEndpoint, type NodeStatus } from '../common/index.js';
import type { HssConfig, HostPort } from './config.js';
import { HssCore, type HssCounters } from './core.js';
import { HssInitiated, type DeregisterTarget, type InitiatedResult } from './initiated.js';
import { RegistrationBatcher, SqnBatcher } from './group-commit.js';
import type { DeregistrationReason } from '../../diameter/index.js';

/** A started REST listener. */
export interface RestListener {
  readonly port: number;
  /** Its Host and token rule (web/access.ts), when it has one. */
  readonly access?: HttpAccess;
  close(): Promise<void>;
}

/**
 * Starts the provisioning REST API on `listen`. It gets the observed store (profile changes
 * trigger PPR, deletions RTR) and the server itself (for the de-registration route).
 */
export type RestFactory = (ctx: { store: HssStore; hss: HssServer; listen: HostPort; logger: Logger }) => Promise<RestListener>;

export interface HssDeps {
  /** The store (opened by the caller, closed by {@link HssServer.stop} when `ownsStore`). */
  store: HssStore;
  ownsStore?: boolean;
  logger?: Logger;
  clock?: Clock;
  /** RNG for RAND; default cryptoRng (or a SeededRng when `config.randSeed` is set, for tests). */
  rng?: Rng;
  /** RNG for Diameter identifiers (default cryptoRng). */
  nodeRng?: Rng;
  transport?: DiameterTransport;
  /** How to serve the REST API; undefined or null: no REST listener even if configured. */
  rest?: RestFactory | null;
}

/** A snapshot of the server for status output. */
export interface HssStatus extends NodeStatus {
  originHost: string;
  diameterPort: number | undefined;
  restPort: number | undefined;
  peers: Record<string, PeerStatus>;
  counters: HssCounters;
}

/** Builds an HSS from its configuration and its store; nothing listens until `start()`. */
export function createHss(config: HssConfig, deps: HssDeps): HssServer {
  return new HssServer(config, deps);
}

/** The HSS node ({@link ImsNode}; build it with {@link createHss}). */
export class HssServer implements ImsNode<HssCounters> {
  readonly kind = 'hss' as const;
  readonly core: HssCore;
  readonly node: DiameterNode;
  readonly initiated: HssInitiated;
  /** Group commit of SQN allocations (store transactions per MAR burst). */
  readonly batcher: SqnBatcher;
  /** Group commit of the registration state MARs and SARs write. */
  readonly registrations: RegistrationBatcher;
  /** The store wrapped for provisioning: profile changes push PPR, deletions send RTR. */
  readonly provisioningStore: HssStore;
  private rest: RestListener | undefined;
  private readonly peerStatus: Record<string, PeerStatus> = {};
  private readonly log: Logger;
  private readonly life: NodeLifecycle;

  constructor(
    readonly config: HssConfig,
    private readonly o: HssDeps,
  ) {
    const c = config;
    this.log = o.logger ?? silentLogger;
    this.life = new NodeLifecycle('hss', o.clock ?? systemClock);
    if (c.randSeed !== undefined && o.rng === undefined) this.log.warn('hss: RAND is deterministic (randSeed is set): for tests only');
    const rng = o.rng ?? (c.randSeed !== undefined ? new SeededRng(c.randSeed) : cryptoRng);
    this.batcher = new SqnBatcher(o.store);
    this.registrations = new RegistrationBatcher(o.store);
    this.core = new HssCore({
      store: o.store,
      originHost: c.diameter.originHost,
      originRealm: c.diameter.originRealm,
      rng,
      allocateSqns: (impi, host, n) => this.batcher.allocate(impi, host, n),
      setRegistration: (impu, update) => this.registrations.set(impu, update),
      maxAuthItems: c.maxAuthItems,
      serverCapabilities: c.serverCapabilities,
      visitedNetworks: c.visitedNetworks,
      allowedPeers: c.diameter.peers.map((p) => p.host),
      logger: this.log,
    });
    this.node = new DiameterNode({
      originHost: c.diameter.originHost,
      originRealm: c.diameter.originRealm,
      hostIpAddresses: c.diameter.hostIpAddresses,
      productName: 'imsec-hss',
      ...cxCapabilities(),
      peers: c.diameter.peers.map((p) => ({ host: p.host, ...(p.realm ? { realm: p.realm } : {}), ...(p.connect ? { connect: p.connect } : {}), ...(p.addresses ? { addresses: p.addresses } : {}) })),
      listen: c.diameter.listen,
      timers: { watchdogMs: c.diameter.watchdogMs, requestTimeoutMs: c.diameter.requestTimeoutMs, cerTimeoutMs: c.diameter.cerTimeoutMs },
      preCerMaxMessageSize: c.diameter.preCerMaxMessageSize,
      maxUnboundConnections: c.diameter.maxUnboundConnections,
      ...(o.clock ? { clock: o.clock } : {}),
      ...(o.nodeRng ? { rng: o.nodeRng } : {}),
      ...(o.transport ? { transport: o.transport } : {}),
      logger: this.log,
    });
    this.node.onRequest((req) => this.core.handle(req));
    this.node.onPeerStatus((host, status, detail) => {
      this.peerStatus[host] = status;
      this.log.info({ peer: host, status, ...(detail ? { detail } : {}) }, 'hss: peer status');
    });
    const peers = new Map(c.diameter.peers.map((p) => [p.host.toLowerCase(), (p.realm ?? p.host.slice(p.host.indexOf('.') + 1)).toLowerCase()]));
    this.initiated = new HssInitiated({
      core: this.core,
      store: o.store,
      sender: { request: (m, opts) => this.node.request(m, opts), newSessionId: () => this.node.newSessionId() },
      peers,
      scscfHosts: c.scscfHosts,
      timeoutMs: c.diameter.requestTimeoutMs,
      logger: this.log,
    });
    this.provisioningStore = this.initiated.observe(o.store);
  }

  /** Starts the Diameter listener (and connects to peers with a `connect` address), then the REST API. */
  async start(): Promise<void> {
    this.life.begin();
    const o = this.o;
    await this.node.start();
    if (this.config.rest !== null && o.rest) this.rest = await o.rest({ store: this.provisioningStore, hss: this, listen: this.config.rest.listen, logger: this.log });
    this.log.info({ diameterPort: this.diameterPort, restPort: this.restPort, originHost: this.config.diameter.originHost, store: o.store.kind }, 'hss: ready');
    this.life.running();
  }

  /** The Diameter listener and, when configured, the REST listener, as bound. */
  address(): { diameter: NodeEndpoint; http?: NodeEndpoint } {
    const port = this.diameterPort;
    if (port === undefined) throw new Error('HSS not started');
    const rest = this.config.rest;
    return {
      diameter: { address: this.config.diameter.listen.host, port },
      ...(rest !== null && this.restPort !== undefined ? { http: { address: rest.listen.host, port: this.restPort } } : {}),
    };
  }

  counters(): Readonly<HssCounters> {
    return this.core.counters;
  }

  get diameterPort(): number | undefined {
    return this.node.listenPort;
  }

  get restPort(): number | undefined {
    return this.rest?.port;
  }

  /** The REST listener's access rule (its token, generated or configured; null token: --no-auth). */
  get restAccess(): HttpAccess | undefined {
    return this.rest?.access;
  }

  /** Operator de-registration: RTR to the serving S-CSCF(s), then NOT_REGISTERED in the store. */
  deregister(target: DeregisterTarget, reason?: DeregistrationReason): Promise<InitiatedResult[]> {
    return this.initiated.deregister(target, reason);
  }

  /** Push the current profile of `impi` to its S-CSCF(s) (PPR). */
  pushProfile(impi: string): Promise<InitiatedResult[]> {
    return this.initiated.pushProfile(impi);
  }

  status(): HssStatus {
    return {
      ...this.life.status(),
      originHost: this.config.diameter.originHost,
      diameterPort: this.diameterPort,
      restPort: this.restPort,
      peers: { ...this.peerStatus },
      counters: structuredClone(this.core.counters),
    };
  }

  /** DPR to every open peer (RFC 6733 §5.4, cause REBOOTING), close the REST API, close an owned store; idempotent. */
  stop(): Promise<void> {
    return this.life.stop(async () => {
      await this.rest?.close().catch((err: Error) => this.log.warn({ err: err.message }, 'hss: REST close failed'));
      await this.node.stop(DisconnectCause.REBOOTING);
      if (this.o.ownsStore) await this.o.store.close();
      this.log.info({ counters: this.core.counters }, 'hss: stopped');
    });
  }
}
