/**
 * The I-CSCF as a running node: SIP transports and B2's SipStack (RFC 3261 stateful proxy), a
 * Diameter client to the HSS (DiameterNode, TS 29.229 Cx), the static host table, and
 * {@link IcscfCore} for every decision. Clock, Rng, logger and the Diameter transport are
 * injected; this file holds no protocol logic of its own.
 *
 * ```ts
 * const icscf = createIcscf(parseIcscfConfig(json), { logger });
 * await icscf.start();
 * icscf.address();   // { sip: { address, port, protocols } }
 * await icscf.stop();
 * ```
 */
import { cryptoRng, systemClock, type Clock, type Logger, type Rng } from '../../common/index.js';
import { silentLogger } from '../../common/log.js';
import { buildLir, buildUar, cxCapabilities, DisconnectCause, parseLia, parseUaa, type DiameterTransport, type PeerStatus } from '../../diameter/index.js';
import { DiameterNode } from '../../diameter/io.js';
import { SipStack, type ProxyContext } from '../../sip/stack/index.js';
import { TrustDomain, NodeLifecycle, udpSizeRule, type ImsNode, type NodeStatus, type SipAddress, resolveSipUri } from '../common/index.js';
import { openTransports, type Endpoint, type SipTransport } from '../../sip/transport/index.js';
import { formatHostPort, type SipResponse } from '../../sip/index.js';
import type { IcscfConfig } from './config.js';
import { IcscfCore, type IcscfCounters, type IcscfPorts } from './core.js';
import { canonicalHost, NetworkMatcher } from './network.js';
import { ThigKey } from './thig-token.js';
import type { ThigPolicy } from './thig.js';

export interface IcscfDeps {
  logger?: Logger;
  clock?: Clock;
  /** Randomness for branches, tags, THIG IVs and Diameter identifiers (default crypto). */
  rng?: Rng;
  /** Diameter transport (default TCP). */
  diameterTransport?: DiameterTransport;
  /** Pre-opened SIP transports (default: opened from `config.sip` on start). */
  transports?: SipTransport[];
}

/** The node's state, its HSS peer and its counters. */
export interface IcscfStatus extends NodeStatus {
  hss: PeerStatus;
  counters: IcscfCounters;
}

/** An I-CSCF ({@link ImsNode}: created, then started). */
export interface Icscf extends ImsNode<IcscfCounters> {
  readonly kind: 'icscf';
  /** The SIP endpoint actually bound (after start; port 0 resolved). */
  address(): { sip: SipAddress };
  /** Resolves once the HSS peer is up (Diameter CER/CEA done), or rejects after `timeoutMs`. */
  waitForHss(timeoutMs?: number): Promise<void>;
  status(): IcscfStatus;
  readonly core: IcscfCore;
  readonly diameter: DiameterNode;
  /** The SIP stack (after start). */
  readonly stack: SipStack | undefined;
}

/** Builds the I-CSCF from its configuration; nothing is bound until `start()`. */
export function createIcscf(config: IcscfConfig, deps: IcscfDeps = {}): Icscf {
  const log = deps.logger ?? silentLogger;
  const rng = deps.rng ?? cryptoRng;
  const clock = deps.clock ?? systemClock;
  const c = config;
  let stack: SipStack | undefined;
  let hssStatus: PeerStatus = 'down';
  const bound: { udp?: Endpoint; tcp?: Endpoint } = {};
  const life = new NodeLifecycle('icscf', clock);

  const diameter = new DiameterNode({
    originHost: c.diameter.originHost,
    originRealm: c.diameter.originRealm,
    hostIpAddresses: c.diameter.hostIpAddresses,
    productName: 'imsec-icscf',
    ...cxCapabilities(),
    peers: [{ host: c.diameter.hss.host, ...(c.diameter.hss.realm ? { realm: c.diameter.hss.realm } : {}), connect: c.diameter.hss.connect }],
    timers: { requestTimeoutMs: c.diameter.requestTimeoutMs, watchdogMs: c.diameter.watchdogMs, reconnectMinMs: 500 },
    clock,
    rng,
    logger: log,
    ...(deps.diameterTransport ? { transport: deps.diameterTransport } : {}),
  });
  diameter.onPeerStatus((host, status, detail) => {
    hssStatus = status;
    log.info({ peer: host, status, ...(detail ? { detail } : {}) }, 'icscf: HSS peer status');
  });

  const selfNames = new Set(c.names.map(canonicalHost));
  const isSelf = (host: string, port?: number): boolean => {
    const h = canonicalHost(host);
    if (selfNames.has(h) && (port === undefined || port === c.sip.listen.port || port === ownPort())) return true;
    const p = port ?? 5060;
    return Object.values(bound).some((e: Endpoint | undefined) => e !== undefined && canonicalHost(e.address) === h && e.port === p) || (c.sip.advertisedHost !== undefined && canonicalHost(c.sip.advertisedHost) === h && p === ownPort());
  };
  const ownPort = (): number => bound.udp?.port ?? bound.tcp?.port ?? c.sip.listen.port;
  const home = new NetworkMatcher({ domains: c.homeDomains, addresses: c.homeAddresses });
  const trusted = new NetworkMatcher({ domains: c.trustedDomains, addresses: c.trustedAddresses });

  let thig: ThigPolicy | undefined;
  if (c.thig) {
    thig = {
      key: new ThigKey(c.thig.kv),
      domain: c.homeDomains[0],
      domains: c.homeDomains,
      host: c.thig.host,
      headers: c.thig.headers,
      isHome: (h, p) => home.has(h, p),
      isSelf,
      maxTokenChars: c.thig.maxTokenChars,
    };
    if (c.thig.port !== undefined) thig.port = c.thig.port;
  }

  const sessionRealm = c.diameter.destinationRealm;
  const ports: IcscfPorts = {
    rng,
    log,
    async uar(q) {
      const req = buildUar({
        sessionId: diameter.newSessionId(),
        originHost: c.diameter.originHost,
        originRealm: c.diameter.originRealm,
        destinationRealm: sessionRealm,
        ...(c.diameter.destinationHost ? { destinationHost: c.diameter.destinationHost } : {}),
        userName: q.impi,
        publicIdentity: q.impu,
        visitedNetworkIdentifier: new TextEncoder().encode(q.visitedNetwork),
        userAuthorizationType: q.authorizationType,
      });
      log.debug({ impu: q.impu, type: q.authorizationType }, 'icscf: UAR');
      const a = parseUaa(await diameter.request(req));
      log.debug({ impu: q.impu, result: a.result.code, serverName: a.serverName }, 'icscf: UAA');
      return a;
    },
    async lir(publicIdentity) {
      const req = buildLir({
        sessionId: diameter.newSessionId(),
        originHost: c.diameter.originHost,
        originRealm: c.diameter.originRealm,
        destinationRealm: sessionRealm,
        ...(c.diameter.destinationHost ? { destinationHost: c.diameter.destinationHost } : {}),
        publicIdentity,
      });
      log.debug({ impu: publicIdentity }, 'icscf: LIR');
      const a = parseLia(await diameter.request(req));
      log.debug({ impu: publicIdentity, result: a.result.code, serverName: a.serverName }, 'icscf: LIA');
      return a;
    },
    async forward(req, target, hooks) {
      // The response context of the request being handled (the stack's RFC 3261 §16 core): it
      // makes the branch, relays the provisionals through the hook and carries out a CANCEL (§16.10).
      const rc = hooks.context as ProxyContext;
      const dest = resolveSipUri(target, c.hosts);
      log.debug({ method: req.method, target, dest: `${dest.address}:${dest.port}/${dest.transport}` }, 'icscf: forwarding');
      // A further 2xx (RFC 6026 §8.4) goes the provisionals' way: revealed, hidden, then upstream.
      const relay = (r: SipResponse): void => hooks.onProvisional?.(r);
      const resp = await rc.forward(req, dest, { onProvisional: relay, onAdditional2xx: relay });
      log.debug({ method: req.method, status: resp.status }, 'icscf: response');
      return resp;
    },
  };

  const recordRouteEntry = () => `<sip:${formatHostPort(c.sip.advertisedHost ?? bound.udp?.address ?? bound.tcp?.address ?? c.sip.listen.host, ownPort())};lr>`;
  const core = new IcscfCore(
    {
      home,
      trusted,
      homeDomains: c.homeDomains,
      isSelf,
      get recordRouteEntry() {
        return recordRouteEntry();
      },
      scscfs: c.scscfs,
      defaultVisitedNetwork: c.defaultVisitedNetwork,
      trustedRegisterOnly: c.trustedRegisterOnly,
      recordRoute: c.recordRoute,
      trustDomain: new TrustDomain(c.trustDomain),
      ...(thig ? { thig } : {}),
    },
    ports,
  );

  return {
    kind: 'icscf',
    core,
    diameter,
    get stack() {
      return stack;
    },
    async start() {
      life.begin();
      const transports = deps.transports ?? (await openTransports({ address: c.sip.listen.host, port: c.sip.listen.port, protocols: c.sip.protocols, logger: log, ...c.sip.tcp }));
      for (const t of transports) bound[t.protocol] = t.local;
      stack = new SipStack({
        transports,
        clock,
        rng,
        logger: log,
        timers: { t1: c.sip.t1Ms },
        proxy: true,
        transport: { ...udpSizeRule(c.sip.pathMtu), ...(c.sip.advertisedHost ? { advertisedHost: c.sip.advertisedHost } : {}) },
      });
      const st = stack;
      st.onRequest(async (req, ctx) => {
        log.debug({ method: req.method, from: `${ctx.remote.address}:${ctx.remote.port}` }, 'icscf: request');
        ctx.respond(await core.handle(req, ctx.remote, (p) => ctx.respond(p), ctx.proxy()));
      });
      st.onAck((ack) => {
        const r = core.routeStateless(ack);
        if (!r) return;
        try {
          st.forwardStateless(r.msg, resolveSipUri(r.target, c.hosts)).catch((err: Error) => log.debug({ err: err.message }, 'icscf: ACK not sent'));
        } catch (err) {
          log.debug({ err: (err as Error).message }, 'icscf: ACK not routable');
        }
      });
      try {
        await diameter.start();
      } catch (err) {
        await st.close();
        throw err;
      }
      log.info({ sip: bound, originHost: c.diameter.originHost, hss: c.diameter.hss.host, thig: c.thig ? 'on' : 'off' }, 'icscf: ready');
      life.running();
    },
    stop() {
      return life.stop(async () => {
        await diameter.stop(DisconnectCause.REBOOTING);
        await stack?.close();
        log.info({ counters: core.counters }, 'icscf: stopped');
      });
    },
    address() {
      const e = bound.udp ?? bound.tcp;
      if (!e) throw new Error('I-CSCF not started');
      return { sip: { address: e.address, port: e.port, protocols: [...c.sip.protocols] } };
    },
    counters() {
      return core.counters;
    },
    waitForHss(timeoutMs = 5000) {
      return diameter.waitForPeer(c.diameter.hss.host, timeoutMs);
    },
    status() {
      return { ...life.status(), hss: hssStatus, counters: structuredClone(core.counters) };
    },
  };
}
