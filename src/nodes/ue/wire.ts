/**
 * Builds a soft UE from its configuration: the unprotected UDP transport (with the UE port rule
 * of R-SA-5), the protected transport over the IPsec datapath (userspace ESP-in-UDP by default,
 * kernel XFRM by config), the SA table (TS 33.203 §7.1, UE SPI policy MSB 1), the soft ISIM with
 * its SQN file, the SIP stack, and the {@link UeCore} procedures over them, opened by
 * {@link openUe}. The UE node (node.ts, `createUe`) opens it when started; `imsec ue register` is
 * a thin CLI over that.
 */
import { cryptoRng, systemClock, type Clock, type Logger, type Rng } from '../../common/index.js';
import { silentLogger } from '../../common/log.js';
import { SaManager, UdpEncapDatapath, XfrmDatapath, NODE_POLICY_LINGER_MS, mirrorSaTable, type IpsecDatapath, type SaTableEntry, type XfrmRunner, KernelSocketCarrier, inboundSaLookup } from '../../ipsec/index.js';
import type { SipRequest, SipResponse } from '../../sip/index.js';
import { SipStack } from '../../sip/stack/index.js';
import { UdpTransport } from '../../sip/transport/index.js';
import type { Endpoint, WireObserver } from '../../sip/transport/index.js';
import { resolveHost } from '../common/index.js';
import { ProtectedTransport, type ProtectedCarrier } from '../../sip/transport/protected/index.js';
import type { UeConfig } from './config.js';
import { UeCore, type UeIncomingMessage, type UeIncomingRequest, type UeRegState, type UeRegistration, type UeSnapshot } from './core.js';
import { UeError } from './errors.js';
import { FilteredTransport, type UeHooks } from './filtered-transport.js';
import { SoftIsim, memorySqnStore, type SqnStore } from './isim.js';
import { fileSqnStore } from './sqn-file.js';
import { ProtectedPortHolds, type PortCarrier } from './free-port.js';
import { ueTcpTransports } from './tcp-transports.js';

export interface UeDeps {
  clock?: Clock;
  rng?: Rng;
  logger?: Logger;
  /** Where the SQN array lives (default: `config.sqnFile`, else memory). */
  sqnStore?: SqnStore;
  /** Drop or alter any message in either direction (loss injection, R-FAIL-4). */
  hooks?: UeHooks;
  /** `ip` runner for the xfrm datapath (tests inject one; default: the real `ip`). */
  xfrmRunner?: XfrmRunner;
  /** Lifetime of temporary SAs and reservations (default reg-await-auth, 4 minutes, TS 24.229 Table 7.8.1). */
  temporarySaLifetimeMs?: number;
  /** Sees every datagram of the unprotected SIP port (pcap recording). */
  onWire?: WireObserver;
  /** Sees every ESP datagram of the userspace datapath (pcap recording; keys via the SA export). */
  espTap?: (direction: 'in' | 'out', local: Endpoint, remote: Endpoint, datagram: Uint8Array) => void;
}

/** The soft UE's procedures over its open sockets (TS 24.229 §5.1 for one IMPI/IMPU over IMS AKA + IPsec). */
export interface OpenUe {
  /** Initial registration (R-SM-1..6). Rejects with {@link UeError}. */
  register(): Promise<UeRegistration>;
  /** Re-registration over the existing SAs with new SAs in parallel (R-RR-1..3). */
  reRegister(): Promise<UeRegistration>;
  /** De-registration (Expires 0) and SA deletion. */
  deregister(): Promise<void>;
  /** SUBSCRIBE to the reg event (done automatically after the first registration when configured). */
  subscribeRegEvent(): Promise<number>;
  /** A protected MESSAGE to another IMPU through the Service-Route; resolves with the final response. */
  sendMessage(to: string, text: string | Uint8Array, contentType?: string): Promise<SipResponse>;
  /** Incoming MESSAGEs (each answered 200). Returns an unsubscribe function. */
  onMessage(cb: (m: UeIncomingMessage) => void): () => void;
  /** Every request from the network with the UE's answer. Returns an unsubscribe function. */
  onIncomingRequest(cb: (r: UeIncomingRequest) => void): () => void;
  onStateChange(cb: (s: UeRegState) => void): () => void;
  /** The UE's SA table (TS 33.203 §7.1 rows). */
  saTable(): SaTableEntry[];
  state(): UeSnapshot;
  /** Unprotected SIP endpoint and protected server endpoint. */
  addresses(): { unprotected: Endpoint; protectedServer: Endpoint };
  /** Counters: drops by the port rule / hooks, datapath counters when userspace. */
  counters(): { portRule: number; hookDrops: number; datapath?: UdpEncapDatapath['counters'] };
  /** Stop timers, close sockets, delete every SA. */
  stop(): Promise<void>;
  /** For tests and the demo: the SA manager and the datapath. */
  readonly sa: SaManager;
  readonly datapath: IpsecDatapath;
}

/**
 * Opens a UE (binds its unprotected port; protected ports are bound when SAs are installed).
 * Every port may be 0 (OS-assigned); {@link OpenUe.addresses} reports the real ones.
 */
export async function openUe(config: UeConfig, deps: UeDeps = {}): Promise<OpenUe> {
  const clock = deps.clock ?? systemClock;
  const rng = deps.rng ?? cryptoRng;
  const log = (deps.logger ?? silentLogger).child({ node: 'ue', impi: config.impi });
  const pcscfAddress = resolveHost(config.pcscf.host, config.hosts);
  if (pcscfAddress === undefined) throw new UeError('transport', `P-CSCF host ${config.pcscf.host} is not in the host table`);

  // 1. SA table (UE SPI policy: MSB 1) mirrored into the chosen datapath.
  const sa = new SaManager({ role: 'ue', clock, rng, changeOverMs: 64 * (config.timers.t1 ?? 500), ...(deps.temporarySaLifetimeMs ? { temporaryLifetimeMs: deps.temporarySaLifetimeMs } : {}) });
  let datapath: IpsecDatapath;
  let carrier: ProtectedCarrier;
  let kernelCarrier: KernelSocketCarrier | undefined;
  let portCarrier: PortCarrier;
  if (config.datapath === 'xfrm') {
    datapath = new XfrmDatapath({ ...(deps.xfrmRunner ? { runner: deps.xfrmRunner } : {}), policyLingerMs: NODE_POLICY_LINGER_MS, clock });
    kernelCarrier = new KernelSocketCarrier(config.localAddress, inboundSaLookup(sa));
    carrier = kernelCarrier;
    portCarrier = kernelCarrier;
  } else {
    const udp = new UdpEncapDatapath({ rng, ...(deps.espTap ? { tap: deps.espTap } : {}) });
    datapath = udp;
    carrier = udp;
    portCarrier = udp;
  }
  const mirror = mirrorSaTable(sa, datapath, { onError: (err, s, op) => log.warn({ err: (err as Error).message, sa: s.id, op }, 'datapath operation failed') });
  // Kernel XFRM: the protected ports are plain sockets, bound while an SA uses them.
  const portOps: Promise<unknown>[] = [];
  if (kernelCarrier) {
    const kc = kernelCarrier;
    sa.on((e) => {
      if (e.kind !== 'saCreated' && e.kind !== 'saDeleted') return;
      const port = e.sa.direction === 'in' ? e.sa.dst.port : e.sa.src.port;
      portOps.push((e.kind === 'saCreated' ? kc.bind(port) : kc.unbind(port)).catch((err: unknown) => log.warn({ err: (err as Error).message, port }, 'protected port bind failed')));
    });
  }

  // 2. Transports: unprotected UDP (port rule), protected (server port fixed for the UE's life);
  //    with SIP over TCP also a TCP transport on each (ueTcpTransports).
  const tcp = config.transport === 'tcp';
  // The protected ports the UE chooses are bound on the carrier and held until their SAs exist.
  const holds = new ProtectedPortHolds(portCarrier, config.localAddress, tcp);
  const serverPort = config.protectedPorts.server || (await holds.take([config.protectedPorts.client]));
  const udp = await UdpTransport.bind({ address: config.localAddress, port: config.localPort, logger: log, ...(deps.onWire ? { onWire: deps.onWire } : {}) });
  const unprotectedUdp = new FilteredTransport({ inner: udp, protected: false, hooks: deps.hooks, logger: log });
  const protectedInner = new ProtectedTransport({ carrier, address: config.localAddress, serverPort, clientPort: serverPort, saManager: sa, responseFlow: config.responseFlow, logger: log });
  const protectedUdp = new FilteredTransport({ inner: protectedInner, protected: true, hooks: deps.hooks, logger: log });
  const viaTcp = tcp ? await ueTcpTransports({ address: config.localAddress, unprotectedPort: udp.local.port, serverPort, sa, clock, log, hooks: deps.hooks, onWire: deps.onWire }) : undefined;
  const unprotected = viaTcp?.unprotected ?? unprotectedUdp;
  const protectedT = viaTcp?.protected ?? protectedUdp;
  const stack = new SipStack({ transports: [unprotectedUdp, protectedUdp, ...(viaTcp ? [viaTcp.unprotected, viaTcp.protected] : [])], clock, rng, logger: log, timers: config.timers });

  // 3. The ISIM (K/OPc stay in its key schedule) and the procedures.
  const store = deps.sqnStore ?? (config.sqnFile ? fileSqnStore(config.sqnFile, config.impi) : memorySqnStore());
  const isim = new SoftIsim(config.k, config.opc, store);
  const pcscfUnprotected: Endpoint = { address: pcscfAddress, port: config.pcscf.port };
  const core = new UeCore(
    {
      id: { impi: config.impi, impu: config.impu, homeDomain: config.homeDomain },
      localAddress: config.localAddress,
      pcscfAddress,
      serverPort,
      unprotectedPort: udp.local.port,
      instanceId: config.instanceId,
      clientPort: config.protectedPorts.client,
      expires: config.expires,
      integrity: config.integrity,
      encryption: config.encryption,
      mode: config.mode,
      transport: config.transport,
      reRegister: config.reRegister,
      subscribeRegEvent: config.subscribeRegEvent,
      userAgent: config.userAgent,
    },
    {
      sendUnprotected: (req) => stack.sendRequest(req, { ...pcscfUnprotected, through: unprotected }),
      sendProtected: (req, to, clientPort) => {
        protectedInner.setClientPort(clientPort);
        viaTcp?.setClientPort(clientPort);
        return stack.sendRequest(req, { address: to.address, port: to.port, through: protectedT });
      },
      newCallId: () => stack.newCallId(config.localAddress),
      newTag: () => stack.newTag(),
      newBranch: () => stack.newBranch(),
      sa,
      saSettled: async () => {
        await mirror.idle();
        await Promise.all(portOps.splice(0));
        await holds.letGo();
      },
      freePort: (avoid) => holds.take(avoid),
      isim,
      clock,
      rng,
      log,
    },
  );

  stack.onRequest((req: SipRequest, ctx) => {
    // Requests only ever reach here from the protected port (R-SA-5: the unprotected one drops them).
    const after = core.onRequest(req, (status, reason, headers) => {
      ctx.reply(status, reason, headers ? { headers } : {});
    });
    if (after) setImmediate(after);
  });

  const filtered = [unprotectedUdp, protectedUdp, ...(viaTcp ? [viaTcp.unprotected, viaTcp.protected] : [])];
  let stopped = false;
  return {
    register: () => core.register(),
    reRegister: () => core.reRegister(),
    deregister: () => core.deregister(),
    subscribeRegEvent: () => core.subscribeRegEvent(),
    sendMessage: (to, text, ct) => core.sendMessage(to, text, ct),
    onMessage: (cb) => core.onMessage(cb),
    onIncomingRequest: (cb) => core.onIncomingRequest(cb),
    onStateChange: (cb) => core.onStateChange(cb),
    saTable: () => sa.saTable(),
    state: () => core.snapshot(),
    addresses: () => ({ unprotected: udp.local, protectedServer: protectedInner.local }),
    counters: () => ({ portRule: sum(filtered, 'portRule'), hookDrops: sum(filtered, 'hook'), ...(datapath instanceof UdpEncapDatapath ? { datapath: datapath.counters } : {}) }),
    async stop() {
      if (stopped) return;
      stopped = true;
      core.stop();
      await stack.close();
      sa.clear('removed');
      await mirror.idle();
      await Promise.all(portOps.splice(0));
      mirror.stop();
      await datapath.close().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'datapath close failed'));
      await kernelCarrier?.close();
    },
    sa,
    datapath,
  };
}

function sum(ts: readonly FilteredTransport[], k: keyof FilteredTransport['filtered']): number {
  return ts.reduce((n, t) => n + t.filtered[k], 0);
}
