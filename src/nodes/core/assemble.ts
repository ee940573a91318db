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
 */
import { mkdirSync } from 'node:fs';
import { type Clock, type Logger, type Rng } from '../../common/index.js';
import { silentLogger } from '../../common/log.js';
import { tapDiameterTransport, type WireSink, type WireTap } from '../../capture/index.js';
import { type DiameterTransport } from '../../diameter/index.js';
import { tcpTransport } from '../../diameter/io.js';
import type { XfrmRunner } from '../../ipsec/index.js';
import { openTransports, TcpTransport, UdpTransport, type Endpoint, type SipTransport, type WireObserver } from '../../sip/transport/index.js';
import { openStore, type HssStore } from '../../store/index.js';
import { HssServer, parseHssConfig, fastifyRest, type RestFactory } from '../hss/index.js';
import { createIcscf, parseIcscfConfig, type Icscf } from '../icscf/index.js';
import { createPcscf, parsePcscfConfig, type PcscfDeps, type PcscfNode } from '../pcscf/index.js';
import { createScscf, parseScscfConfig, type Scscf } from '../scscf/index.js';
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

/** A running core. */
export interface ImsCore {
  readonly config: CoreConfig;
  readonly hss: HssServer;
  readonly scscf: Scscf;
  readonly icscf: Icscf;
  readonly pcscf: PcscfNode;
  /** What provisioning did at start, per IMPI. */
  readonly provisioned: readonly { impi: string; action: 'created' | 'updated' }[];
  addresses(): ImsCoreAddresses;
  /** Stops every node (P-CSCF first, HSS last); resolves when all sockets and stores are closed. */
  stop(): Promise<void>;
}

/** Points the wire observer of B2's UDP/TCP transports at `onWire` (other transports are left alone). */
export function tapSipTransports(transports: readonly SipTransport[], onWire: WireObserver, tap?: WireTap, node?: string): void {
  for (const t of transports) {
    if (t instanceof UdpTransport || t instanceof TcpTransport) {
      t.onWire = onWire;
      if (tap && node) tap.own(node, t.local);
    }
  }
}

/** Starts the core (see the module comment); on any failure stops what had started and rethrows. */
export async function startImsCore(config: CoreConfig, deps: ImsCoreDeps = {}): Promise<ImsCore> {
  const log = deps.logger ?? silentLogger;
  const tap = deps.tap;
  const names = nodeNames(config.realm);
  const hssTimeout = deps.hssTimeoutMs ?? 5000;
  const common = { ...(deps.clock ? { clock: deps.clock } : {}), ...(deps.rng ? { rng: deps.rng } : {}) };
  const diameterFor = (label: string): DiameterTransport => {
    const sinks = [tap?.diameterObserver(label), deps.instrument?.diameterSink?.(label)].filter((x): x is WireSink => x !== undefined);
    if (sinks.length === 0) return tcpTransport;
    return tapDiameterTransport(tcpTransport, sinks.length === 1 ? sinks[0] : (...a) => sinks.forEach((f) => f(...a)));
  };
  const undo: (() => Promise<unknown>)[] = [];
  const unwind = async (): Promise<void> => {
    while (undo.length > 0) await undo.pop()!().catch((err: Error) => log.warn({ err: err.message }, 'core: stop after failure'));
  };

  try {
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
    const hss = await HssServer.start({
      config: hssConfig,
      store,
      ownsStore: true,
      logger: log.child({ node: 'hss' }),
      transport: diameterFor(NODE_LABELS.hss),
      rest: hssConfig.rest === null ? null : (deps.restFactory ?? fastifyRest),
      ...(deps.clock ? { clock: deps.clock } : {}),
    });
    storeOwned = true;
    undo.push(() => hss.stop());
    const hssPort = hss.diameterPort;
    if (hssPort === undefined) throw new Error('the HSS reports no Diameter port');
    tap?.own(NODE_LABELS.hss, { address: config.host, port: hssPort });

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
    const icscf = createIcscf(parseIcscfConfig(nodeConfigInput.icscf(config, { hssPort, scscfServerName: scscfAddr.serverName })), {
      logger: log.child({ node: 'icscf' }),
      diameterTransport: diameterFor(NODE_LABELS.icscf),
      transports: icscfTransports,
      ...common,
    });
    undo.push(() => icscf.stop()); // closes the transports too (closing them twice is harmless)
    await icscf.start();
    await icscf.waitForHss(hssTimeout);

    // 5. The P-CSCF.
    const scscfPort = (scscfAddr.udp ?? scscfAddr.tcp)?.port ?? config.scscf.sipPort;
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
    if (tap) tap.own(NODE_LABELS.pcscf, { address: config.host, port: pcscfAddr.port });

    const icscfAddr = icscf.address();
    const addresses: ImsCoreAddresses = {
      realm: config.realm,
      dataDir: config.dataDir,
      hss: {
        originHost: hssConfig.diameter.originHost,
        diameter: { address: config.host, port: hssPort },
        rest: hssConfig.rest === null || hss.restPort === undefined ? null : { address: hssConfig.rest.listen.host, port: hss.restPort },
      },
      scscf: { serverName: scscfAddr.serverName, sip: { address: config.host, port: scscfPort }, originHost: names.scscf },
      icscf: { sip: icscfAddr.udp ?? icscfAddr.tcp ?? { address: config.host, port: icscfPort }, originHost: names.icscf },
      pcscf: {
        sip: { address: pcscfAddr.host, port: pcscfAddr.port },
        protectedPorts: config.pcscf.protectedPorts === null ? 'auto' : `${config.pcscf.protectedPorts.min}-${config.pcscf.protectedPorts.max}`,
        datapath: config.pcscf.datapath,
      },
    };
    log.info({ addresses }, 'core: ready');

    let stopped: Promise<void> | undefined;
    return {
      config,
      hss,
      scscf,
      icscf,
      pcscf,
      provisioned,
      addresses: () => structuredClone(addresses),
      stop() {
        stopped ??= unwind().then(() => log.info('core: stopped'));
        return stopped;
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
