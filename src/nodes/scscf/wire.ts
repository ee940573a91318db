/**
 * The S-CSCF as a running node: SIP transports and stack (UDP+TCP on one port), a Diameter Cx
 * client to the HSS (DiameterNode, RFC 6733, over TCP), the registrar store, and the pure
 * {@link ScscfCore} in the middle. It carries out the core's routing decisions as a stateful
 * proxy (RFC 3261 §16.6–16.7) and answers the HSS's RTR/PPR. No protocol decisions live here.
 *
 * ```ts
 * const scscf = createScscf(parseScscfConfig(json), { logger });
 * await scscf.start();
 * scscf.address();        // { sip: { address, port, protocols } }; scscf.serverName()
 * await scscf.stop();
 * ```
 * Every listen port accepts 0; the bound port then replaces the port of `serverName` (and so of
 * Service-Route and Record-Route), so tests can run many S-CSCFs side by side.
 */
import { cryptoRng, systemClock, type Clock, type Logger, type Rng } from '../../common/index.js';
import { silentLogger } from '../../common/log.js';
import { cxCapabilities, isRequest as isDiameterRequest, type DiameterTransport } from '../../diameter/index.js';
import { DiameterNode } from '../../diameter/io.js';
import { formatUri, parseUri } from '../../sip/headers/index.js';
import type { SipMessage, SipRequest } from '../../sip/message/index.js';
import { SipStack, SipTimeoutError, type RequestContext } from '../../sip/stack/index.js';
import { openTransports, type Endpoint, type UdpTransport } from '../../sip/transport/index.js';
import { openRegistrarStore } from '../../store/index.js';
import type { RegistrarStore, StoredRegistration } from '../../store/index.js';
import { NodeLifecycle, udpSizeRule, type ImsNode, type NodeStatus, type SipAddress, resolveHost } from '../common/index.js';
import type { ScscfConfig } from './config.js';
import { ScscfCore, type ReplicaChange, type ScscfCounters } from './core.js';
import { answerCxRequest, DiameterCxClient, type CxPort, type CxServerHandlers } from './cx-client.js';
import type { RouteDecision } from './routing.js';
import { branchTagOf, ownerOf, workerOfAor } from './affinity.js';
import type { WorkerRelay } from './relay.js';

export interface ScscfDeps {
  logger?: Logger;
  clock?: Clock;
  rng?: Rng;
  /** A store to use (the caller closes it); default: opened from `config.store` and closed at stop. */
  store?: RegistrarStore;
  /** A Cx port to use instead of a Diameter client (tests without an HSS process). */
  cx?: CxPort;
  diameterTransport?: DiameterTransport;
  /**
   * This process is worker `index` of `count` sharing the S-CSCF's UDP socket (node:cluster) and
   * its registrar store: messages go to the worker that owns them (affinity.ts) through `relay`.
   */
  workers?: { index: number; count: number; relay: WorkerRelay };
}

/** An S-CSCF ({@link ImsNode}: created, then started). */
export interface Scscf extends ImsNode<ScscfCounters> {
  readonly kind: 'scscf';
  readonly config: ScscfConfig;
  /** Opens the store, binds the SIP ports, connects to the HSS, restores registrations. */
  start(): Promise<void>;
  /** Cancels timers, closes SIP ports, disconnects from the HSS (DPR), closes an owned store. */
  stop(): Promise<void>;
  /** The SIP endpoint as bound. The S-CSCF connects to the HSS; it does not listen for Diameter. */
  address(): { sip: SipAddress };
  /** The Server-Name in use (with the bound port when the config asked for port 0). */
  serverName(): string;
  status(): NodeStatus;
  /** The core (after start). */
  readonly core: ScscfCore;
  readonly stack: SipStack;
  readonly diameter: DiameterNode | undefined;
  /** Resolves once the HSS connection is up. */
  waitForHss(timeoutMs?: number): Promise<void>;
  /** R-RR-5: network-initiated re-authentication of the registration holding `impu`. */
  reauthenticate(impu: string, graceSeconds: number): Promise<boolean>;
  /** Network-initiated de-registration (operator request: SAR ADMINISTRATIVE_DEREGISTRATION). */
  deregister(impu: string, opts?: { event?: 'deactivated' | 'rejected' }): Promise<boolean>;
  registrations(): StoredRegistration[];
  counters(): ScscfCounters;
}

/** `serverName` with its port replaced by the bound one when the config asked for port 0. */
function effectiveServerName(config: ScscfConfig, boundPort: number): string {
  if (config.sip.listen.port !== 0) return config.serverName;
  const u = parseUri(config.serverName);
  if (u.kind !== 'sip') return config.serverName;
  return formatUri({ ...u, port: boundPort });
}

/** What one worker asks another to carry out (see `cxHandlers` in {@link createScscf}). */
type CxAsk = { op: 'rtr'; r: Parameters<CxServerHandlers['registrationTermination']>[0] } | { op: 'ppr'; r: Parameters<CxServerHandlers['pushProfile']>[0] };

/** Carries out what another worker asked (a frame that is not a {@link CxAsk} gets undefined). */
function askedCx(h: CxServerHandlers, q: unknown): Promise<unknown> {
  const a = q as Partial<CxAsk> | null;
  if (a?.op === 'rtr' && a.r && typeof a.r.impi === 'string' && Array.isArray(a.r.impus) && a.r.impus.every((u) => typeof u === 'string') && typeof a.r.reasonCode === 'number') return h.registrationTermination(a.r);
  if (a?.op === 'ppr' && a.r && typeof a.r.impi === 'string') return h.pushProfile(a.r);
  return Promise.resolve(undefined);
}

/** Builds an S-CSCF from its configuration (nothing is opened until {@link Scscf.start}). */
export function createScscf(config: ScscfConfig, deps: ScscfDeps = {}): Scscf {
  const log = deps.logger ?? silentLogger;
  const clock = deps.clock ?? systemClock;
  const rng = deps.rng ?? cryptoRng;
  let store: RegistrarStore | undefined;
  let ownsStore = false;
  let stack: SipStack | undefined;
  let node: DiameterNode | undefined;
  let core: ScscfCore | undefined;
  let serverName = config.serverName;
  const life = new NodeLifecycle('scscf', clock);

  const must = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`S-CSCF not started: no ${what}`);
    return v;
  };

  async function execute(d: RouteDecision, req: SipRequest, ctx: RequestContext): Promise<void> {
    switch (d.kind) {
      case 'reject':
        ctx.reply(d.status, d.reason, d.headers ? { headers: d.headers } : {});
        return;
      case 'local':
        if (req.method === 'OPTIONS') ctx.reply(200, 'OK', { headers: [['Allow', 'REGISTER, SUBSCRIBE, NOTIFY, INVITE, ACK, BYE, CANCEL, MESSAGE, OPTIONS']] });
        else ctx.reply(404, 'Not Found');
        return;
      case 'forward':
        log.debug({ method: req.method, leg: d.leg, to: `${d.dest.address}:${d.dest.port}` }, 'scscf: forward');
        try {
          // RFC 3261 §16.6–16.7 through the stack's proxy core: provisionals but 100 relayed, a CANCEL carried out (§16.10).
          ctx.respond(await ctx.proxy().forward(d.request, d.dest));
        } catch (err) {
          log.info({ method: req.method, leg: d.leg, err: (err as Error).message }, 'scscf: forwarding failed');
          ctx.reply(err instanceof SipTimeoutError ? 408 : 503, err instanceof SipTimeoutError ? 'Request Timeout' : 'Service Unavailable');
        }
        return;
    }
  }

  /**
   * RTR and PPR reach the worker whose Diameter connection the HSS used last: each worker acts on
   * the registrations it owns, so one asks every other and joins their answers.
   */
  function cxHandlers(): CxServerHandlers {
    const local = must(core, 'core').cxHandlers;
    const w = deps.workers;
    if (!w) return local;
    const timeoutMs = config.diameter.requestTimeoutMs;
    const all = <T>(mine: Promise<T>, q: CxAsk): Promise<unknown[]> => Promise.all([mine, ...w.relay.others().map((i) => w.relay.ask(i, q, timeoutMs))]);
    return {
      registrationTermination: async (r) => (await all(local.registrationTermination(r), { op: 'rtr', r })).flatMap((x) => (Array.isArray(x) ? x.filter((u): u is string => typeof u === 'string') : [])),
      pushProfile: async (r) => (await all(local.pushProfile(r), { op: 'ppr', r })).some((x) => x === true),
    };
  }

  const scscf: Scscf = {
    kind: 'scscf',
    config,
    get core() {
      return must(core, 'core');
    },
    get stack() {
      return must(stack, 'SIP stack');
    },
    get diameter() {
      return node;
    },
    async start() {
      life.begin();
      if (deps.store) store = deps.store;
      else {
        store = await openRegistrarStore(config.store, { now: () => clock.now() });
        ownsStore = true;
      }
      const w = deps.workers;
      const steer = w
        ? (msg: SipMessage, bytes: Uint8Array, remote: Endpoint): boolean => {
            let owner: number | undefined;
            try {
              owner = ownerOf(msg, w.count, (key) => core?.table.findKey(key)?.aor);
            } catch {
              return false; // whatever cannot be placed is this worker's to answer (it passed the transport's checks)
            }
            if (owner === undefined || owner === w.index) return false;
            w.relay.passSip(owner, bytes, remote);
            return true;
          }
        : undefined;
      const transports = await openTransports({ address: config.sip.listen.host, port: config.sip.listen.port, protocols: config.sip.protocols, logger: log, ...config.sip.tcp, ...(steer ? { shared: true, steer } : {}) });
      if (w) {
        const udp = transports.find((t): t is UdpTransport => t.protocol === 'udp')!;
        w.relay.onSip((bytes, remote) => udp.inject(bytes, remote));
      }
      serverName = effectiveServerName(config, transports[0].local.port);
      stack = new SipStack({ transports, clock, rng, logger: log, proxy: true, transport: udpSizeRule(config.sip.pathMtu), ...(w ? { branchTag: branchTagOf(w.index) } : {}) });
      let cx = deps.cx;
      if (!cx) {
        const hss = config.diameter.hss;
        const address = hss.address ?? resolveHost(hss.host, config.hosts);
        if (address === undefined) throw new Error(`diameter.hss.host ${hss.host} is not in the host table`);
        const n = new DiameterNode({
          originHost: config.diameter.originHost,
          originRealm: config.diameter.originRealm,
          hostIpAddresses: config.diameter.hostIpAddresses,
          productName: 'imsec-scscf',
          ...cxCapabilities(),
          peers: [{ host: hss.host, realm: hss.realm, connect: { host: address, port: hss.port } }],
          timers: { requestTimeoutMs: config.diameter.requestTimeoutMs, watchdogMs: config.diameter.watchdogMs, reconnectMinMs: 500, reconnectMaxMs: 5000 },
          ...(deps.clock ? { clock: deps.clock } : {}),
          ...(deps.diameterTransport ? { transport: deps.diameterTransport } : {}),
          logger: log,
        });
        node = n;
        if (log.isLevelEnabled('debug')) {
          n.onTrace((dir, peer, msg) => log.debug({ dir, peer, command: msg.commandCode, request: isDiameterRequest(msg) }, 'scscf: diameter'));
        }
        n.onRequest((req) => answerCxRequest(req, cxHandlers(), { originHost: config.diameter.originHost, originRealm: config.diameter.originRealm }));
        cx = new DiameterCxClient({
          request: (m) => n.request(m),
          newSessionId: () => n.newSessionId(),
          originHost: config.diameter.originHost,
          originRealm: config.diameter.originRealm,
          destinationRealm: hss.realm,
          destinationHost: hss.host,
          serverName,
        });
      }
      const st = stack;
      core = new ScscfCore({
        config, serverName, cx, store, clock, rng, logger: log, send: (req, dest) => st.sendRequest(req, dest),
        ...(w ? { replicas: { owns: (aor: string) => workerOfAor(aor, w.count) === w.index, changed: (m) => w.relay.broadcast(m) } } : {}),
      });
      if (w) {
        const c = core;
        w.relay.onControl((m) => c.applyReplica(m as ReplicaChange));
        w.relay.onAsk((q) => askedCx(c.cxHandlers, q));
      }
      await core.start();
      const c = core;
      st.onRequest(async (req, ctx) => {
        log.debug({ method: req.method, from: `${ctx.remote.address}:${ctx.remote.port}`, transport: ctx.transport }, 'scscf: request');
        const out = await c.onRequest(req, (status, reason, opts) => void ctx.reply(status, reason, opts), { transport: ctx.transport, address: ctx.remote.address, port: ctx.remote.port });
        if (out.kind === 'route') await execute(out.decision, req, ctx);
      });
      st.onAck((ack) => {
        const d = c.route(ack);
        if (d.kind === 'forward') st.forwardStateless(d.request, d.dest).catch((err: Error) => log.debug({ err: err.message }, 'scscf: ACK not forwarded'));
      });
      if (node) await node.start();
      log.info({ serverName, sip: scscf.address(), registrations: c.table.size }, 'scscf: ready');
      life.running();
    },
    stop() {
      return life.stop(async () => {
        core?.stop();
        await stack?.close().catch((err: Error) => log.warn({ err: err.message }, 'scscf: SIP close failed'));
        await node?.stop().catch((err: Error) => log.warn({ err: err.message }, 'scscf: Diameter stop failed'));
        if (ownsStore) await store?.close();
        log.info('scscf: stopped');
      });
    },
    address() {
      const e = must(stack, 'SIP stack').transportLayer.all.find((t) => t.protocol === 'udp' || t.protocol === 'tcp')?.local;
      if (!e) throw new Error('S-CSCF not started: no SIP transport');
      return { sip: { address: e.address, port: e.port, protocols: [...config.sip.protocols] } };
    },
    serverName() {
      return serverName;
    },
    status() {
      return life.status();
    },
    async waitForHss(timeoutMs = 5000) {
      if (node) await node.waitForPeer(config.diameter.hss.host, timeoutMs);
    },
    reauthenticate(impu, graceSeconds) {
      return must(core, 'core').reauthenticate(impu, graceSeconds);
    },
    deregister(impu, opts = {}) {
      return must(core, 'core').deregister(impu, { ...opts, notifyHss: true });
    },
    registrations() {
      return must(core, 'core').registrations();
    },
    counters() {
      return must(core, 'core').counters;
    },
  };
  return scscf;
}
