/**
 * The whole IMS core in one process (`imsec core`, and the core of `imsec demo`): E2's HSS with
 * its embedded store, F1's S-CSCF, F2's I-CSCF and G2's P-CSCF, wired to each other on one
 * address. Start order follows the dependencies, so every port may be 0:
 *
 * 1. the I-CSCF's SIP transports are opened first (the S-CSCF sends to it, the P-CSCF forwards
 *    REGISTERs to it), its port is known from here on;
 * 2. the HSS store is opened and the subscribers provisioned, then the HSS listens (Diameter Cx);
 * 3. the S-CSCF starts (its Server-Name carries its bound port) and connects to the HSS;
 * 4. the I-CSCF starts with the transports of step 1 and the S-CSCF's name, and connects;
 * 5. the P-CSCF starts towards the I-CSCF.
 *
 * With a {@link WireTap}, every SIP transport, Diameter connection and the P-CSCF's ESP datapath
 * report their traffic to it (pcap of every leg). No protocol logic lives here.
 *
 * The core is an {@link ImsNode} itself: `createImsCore(config, deps)`, then `start()` (the steps
 * above), `stop()` (P-CSCF first, HSS last), `address()` (its entry points: the P-CSCF's SIP
 * port, the HSS's Diameter and REST ports), `counters()` (each node's).
 */
import { mkdirSync } from 'node:fs';
import { systemClock, type Clock, type Logger, type Rng } from '../../common/index.js';
import { silentLogger } from '../../common/log.js';
import { tapDiameterTransport, type WireOwner, type WireSink, type WireTap } from '../../capture/index.js';
import { type DiameterTransport } from '../../diameter/index.js';
import { tcpTransport } from '../../diameter/io.js';
import type { XfrmRunner } from '../../ipsec/index.js';
import { openTransports, TcpTransport, UdpTransport, type Endpoint, type SipTransport, type WireObserver } from '../../sip/transport/index.js';
import { openStore, type HssStore } from '../../store/index.js';
import { NodeLifecycle, type ImsNode, type NodeAddress, type NodeStatus } from '../common/index.js';
import { createHss, parseHssConfig, fastifyRest, type HssCounters, type HssServer, type RestFactory } from '../hss/index.js';
import { createIcscf, parseIcscfConfig, type Icscf, type IcscfCounters } from '../icscf/index.js';
import { createPcscf, parsePcscfConfig, type PcscfCounters, type PcscfDeps, type PcscfNode } from '../pcscf/index.js';
import { createScscf, parseScscfConfig, type Scscf, type ScscfCounters } from '../scscf/index.js';
import { nodeConfigInput, nodeNames, type CoreConfig } from './config.js';
import { provisionCoreSubscribers } from './subscribers.js';

/** The display names of the nodes in traces and ladders. */
export const NODE_LABELS = { hss: 'HSS', scscf: 'S-CSCF', icscf: 'I-CSCF', pcscf: 'P-CSCF' } as const;

export interface ImsCoreDeps {
  /** Root logger; each node logs through a child `{ node }`. Default: silent. */
  logger?: Logger;
  clock?: Clock;
  rng?: Rng;
  /** Record every leg (SIP, Diameter, ESP) of the core. */
  tap?: WireTap;
  /** `ip` runner of the P-CSCF's xfrm datapath (tests; this kernel has no ESP). */
  xfrmRunner?: XfrmRunner;
  /** How long to wait for each Diameter connection to the HSS (default 5 s). */
  hssTimeoutMs?: number;
  /** How the HSS serves its REST API when configured (default fastifyRest: a generated token). */
  restFactory?: RestFactory;
  /** Metrics hooks (src/metrics): the HSS store wrapped, and a sink per node for its Diameter bytes. */
  instrument?: { hssStore?(store: HssStore): HssStore; diameterSink?(node: string): WireSink };
}

/** Where every node ended up (the ports actually bound). */
export interface ImsCoreAddresses {
  realm: string;
  dataDir: string;
  hss: { originHost: string; diameter: Endpoint; rest: Endpoint | null };
  scscf: { serverName: string; sip: Endpoint; originHost: string };
  icscf: { sip: Endpoint; originHost: string };
  pcscf: { sip: Endpoint; protectedPorts: string; datapath: string };
}

/** The counters of every node of the core. */
export interface ImsCoreCounters {
  hss: Readonly<HssCounters>;
  scscf: Readonly<ScscfCounters>;
  icscf: Readonly<IcscfCounters>;
  pcscf: Readonly<PcscfCounters>;
}

/** The core ({@link ImsNode}; the nodes and addresses are there once it is started). */
export interface ImsCore extends ImsNode<ImsCoreCounters> {
  readonly kind: 'core';
  readonly config: CoreConfig;
  readonly hss: HssServer;
  readonly scscf: Scscf;
  readonly icscf: Icscf;
  readonly pcscf: PcscfNode;
  /** What provisioning did at start, per IMPI. */
  readonly provisioned: readonly { impi: string; action: 'created' | 'updated' }[];
  /** Where every node ended up. */
  addresses(): ImsCoreAddresses;
  /** The core's entry points: the P-CSCF's SIP endpoint, the HSS's Diameter (and REST) listener. */
  address(): NodeAddress;
  status(): NodeStatus;
  /** Stops every node (P-CSCF first, HSS last); resolves when all sockets and stores are closed. */
  stop(): Promise<void>;
}

/** The nodes of a started core. */
interface CoreNodes {
  hss: HssServer;
  scscf: Scscf;
  icscf: Icscf;
  pcscf: PcscfNode;
  provisioned: readonly { impi: string; action: 'created' | 'updated' }[];
  addresses: ImsCoreAddresses;
}

/** Points the wire observer of B2's UDP/TCP transports at `onWire` (other transports are left alone). */
export function tapSipTransports(transports: readonly SipTransport[], onWire: WireObserver, tap?: WireOwner, node?: string): void {
  for (const t of transports) {
    if (t instanceof UdpTransport || t instanceof TcpTransport) {
      t.onWire = onWire;
      if (tap && node) tap.own(node, t.local, t instanceof TcpTransport ? 'tcp' : 'udp');
    }
  }
}

/** Builds the core (see the module comment); nothing is opened until `start()`. */
export function createImsCore(config: CoreConfig, deps: ImsCoreDeps = {}): ImsCore {
  const life = new NodeLifecycle('core', deps.clock ?? systemClock);
  const log = deps.logger ?? silentLogger;
  let nodes: CoreNodes | undefined;
  const started = (): CoreNodes => {
    if (!nodes) throw new Error(`the core is ${life.state === 'created' ? 'not started' : life.state}`);
    return nodes;
  };
  const undo: (() => Promise<unknown>)[] = [];
  const unwind = async (): Promise<void> => {
    while (undo.length > 0) await undo.pop()!().catch((err: Error) => log.warn({ err: err.message }, 'core: stop after failure'));
  };
  return {
    kind: 'core',
    config,
    get hss() {
      return started().hss;
    },
    get scscf() {
      return started().scscf;
    },
    get icscf() {
      return started().icscf;
    },
    get pcscf() {
      return started().pcscf;
    },
    get provisioned() {
      return started().provisioned;
    },
    async start() {
      life.begin();
      nodes = await openCore(config, deps, log, undo);
      life.running();
    },
    stop: () => life.stop(() => unwind().then(() => log.info('core: stopped'))),
    status: () => life.status(),
    addresses: () => structuredClone(started().addresses),
    address() {
      const a = started().addresses;
      return { sip: started().pcscf.address().sip, diameter: a.hss.diameter, ...(a.hss.rest ? { http: a.hss.rest } : {}) };
    },
    counters() {
      const n = started();
      return { hss: n.hss.counters(), scscf: n.scscf.counters(), icscf: n.icscf.counters(), pcscf: n.pcscf.counters() };
    },
  };
}

/** Steps 1–5 of the module comment; each opened thing pushes its closer on `undo` (the core's stop runs them). */
async function openCore(config: CoreConfig, deps: ImsCoreDeps, log: Logger, undo: (() => Promise<unknown>)[]): Promise<CoreNodes> {
  const tap = deps.tap;
  const names = nodeNames(config.realm);
  const hssTimeout = deps.hssTimeoutMs ?? 5000;
  const common = { ...(deps.clock ? { clock: deps.clock } : {}), ...(deps.rng ? { rng: deps.rng } : {}) };
  const diameterFor = (label: string): DiameterTransport => {
    const sinks = [tap?.diameterObserver(label), deps.instrument?.diameterSink?.(label)].filter((x): x is WireSink => x !== undefined);
    if (sinks.length === 0) return tcpTransport;
    return tapDiameterTransport(tcpTransport, sinks.length === 1 ? sinks[0] : (...a) => sinks.forEach((f) => f(...a)));
  };
  mkdirSync(config.dataDir, { recursive: true });

  // 1. The I-CSCF's transports (so its port is known to the S-CSCF and the P-CSCF).
  const icscfSip = parseIcscfConfig(nodeConfigInput.icscf(config, { hssPort: 1, scscfServerName: `sip:${names.scscf}` })).sip;
  const icscfTransports = await openTransports({ address: config.host, port: config.icscf.sipPort, protocols: icscfSip.protocols, logger: log.child({ node: 'icscf' }), ...icscfSip.tcp });
  undo.push(() => Promise.all(icscfTransports.map((t) => t.close())));
  const icscfPort = icscfTransports[0].local.port;
  if (tap) tapSipTransports(icscfTransports, tap.sipObserver(NODE_LABELS.icscf), tap, NODE_LABELS.icscf);

  // 2. The HSS: store, subscribers, Diameter listener (and REST when configured).
  const fixedServerName = config.scscf.sipPort === 0 ? null : `sip:${names.scscf}:${config.scscf.sipPort}`;
  const hssConfig = parseHssConfig(nodeConfigInput.hss(config, fixedServerName));
  const opened = await openStore(hssConfig.store);
  const store = deps.instrument?.hssStore?.(opened) ?? opened;
  let storeOwned = false;
  undo.push(async () => {
    if (!storeOwned) await store.close();
  });
  const provisioned = await provisionCoreSubscribers(store, config.subscribers);
  const hss = createHss(hssConfig, {
    store,
    ownsStore: true,
    logger: log.child({ node: 'hss' }),
    transport: diameterFor(NODE_LABELS.hss),
    rest: hssConfig.rest === null ? null : (deps.restFactory ?? fastifyRest),
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  storeOwned = true; // the HSS closes it when it stops
  undo.push(() => hss.stop());
  await hss.start();
  const hssPort = hss.diameterPort;
  if (hssPort === undefined) throw new Error('the HSS reports no Diameter port');
  tap?.own(NODE_LABELS.hss, { address: config.host, port: hssPort }, 'tcp');

  // 3. The S-CSCF.
  const scscf = createScscf(parseScscfConfig(nodeConfigInput.scscf(config, { hssPort, icscfPort })), {
    logger: log.child({ node: 'scscf' }),
    diameterTransport: diameterFor(NODE_LABELS.scscf),
    ...common,
  });
  undo.push(() => scscf.stop());
  await scscf.start();
  if (tap) tapSipTransports(scscf.stack.transportLayer.all, tap.sipObserver(NODE_LABELS.scscf), tap, NODE_LABELS.scscf);
  await scscf.waitForHss(hssTimeout);
  const scscfAddr = scscf.address();

  // 4. The I-CSCF.
  const icscf = createIcscf(parseIcscfConfig(nodeConfigInput.icscf(config, { hssPort, scscfServerName: scscf.serverName() })), {
    logger: log.child({ node: 'icscf' }),
    diameterTransport: diameterFor(NODE_LABELS.icscf),
    transports: icscfTransports,
    ...common,
  });
  undo.push(() => icscf.stop()); // closes the transports too (closing them twice is harmless)
  await icscf.start();
  await icscf.waitForHss(hssTimeout);

  // 5. The P-CSCF.
  const scscfPort = scscfAddr.sip.port;
  const pcscfDeps: PcscfDeps = {
    logger: log.child({ node: 'pcscf' }),
    ...common,
    ...(deps.xfrmRunner ? { xfrmRunner: deps.xfrmRunner } : {}),
    ...(tap ? { espTap: tap.espObserver(NODE_LABELS.pcscf), sipTap: tap.sipObserver(NODE_LABELS.pcscf) } : {}),
  };
  const pcscf = createPcscf(parsePcscfConfig(nodeConfigInput.pcscf(config, { icscfPort, scscfPort })), pcscfDeps);
  undo.push(() => pcscf.stop());
  await pcscf.start();
  const pcscfAddr = pcscf.address();
  if (tap) tap.own(NODE_LABELS.pcscf, { address: config.host, port: pcscfAddr.sip.port });

  const icscfAddr = icscf.address();
  const addresses: ImsCoreAddresses = {
    realm: config.realm,
    dataDir: config.dataDir,
    hss: {
      originHost: hssConfig.diameter.originHost,
      diameter: { address: config.host, port: hssPort },
      rest: hssConfig.rest === null || hss.restPort === undefined ? null : { address: hssConfig.rest.listen.host, port: hss.restPort },
    },
    scscf: { serverName: scscf.serverName(), sip: { address: config.host, port: scscfPort }, originHost: names.scscf },
    icscf: { sip: { address: icscfAddr.sip.address, port: icscfAddr.sip.port }, originHost: names.icscf },
    pcscf: {
      sip: { address: pcscfAddr.sip.address, port: pcscfAddr.sip.port },
      protectedPorts: config.pcscf.protectedPorts === null ? 'auto' : `${config.pcscf.protectedPorts.min}-${config.pcscf.protectedPorts.max}`,
      datapath: config.pcscf.datapath,
    },
  };
  log.info({ addresses }, 'core: ready');

  return { hss, scscf, icscf, pcscf, provisioned, addresses };
}
