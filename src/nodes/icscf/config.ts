/**
 * I-CSCF configuration: a JSON file (`imsec icscf --config FILE`) mapped onto a typed object with
 * defaults, so an empty file runs the lab I-CSCF of the default deployment:
 *
 * ```json
 * {
 *   "sip": { "listen": "127.0.0.1:4060", "protocols": ["udp", "tcp"] },
 *   "diameter": { "originHost": "icscf.ims.lab", "originRealm": "ims.lab",
 *                 "hss": { "host": "hss.ims.lab", "connect": "127.0.0.1:3868" } },
 *   "homeDomains": ["ims.lab"],
 *   "scscfs": [{ "uri": "sip:scscf.ims.lab:6060", "capabilities": [] }],
 *   "hosts": { "scscf.ims.lab": "127.0.0.1", "hss.ims.lab": "127.0.0.1" },
 *   "thig": { "kv": "000102030405060708090a0b0c0d0e0f", "host": "icscf.ims.lab", "port": 4060 }
 * }
 * ```
 *
 * `thig.kv` is the network's topology-hiding key (16 bytes, hex), shared by every I-CSCF of the
 * network: a secret, never logged and never part of an error message. Without `thig`, nothing is
 * hidden. `homeAddresses` / `trustedAddresses` (`ip`, `ip:port`) name nodes by address where
 * names are not used (all lab nodes share 127.0.0.1, so the port tells them apart); messages
 * whose next hop is neither home nor trusted are hidden. Parsing is pure; the CLI reads the file.
 */
import { fromHex } from '../../common/bytes.js';
import type { TcpLimits } from '../../sip/transport/tcp.js';
import { configFields, isObj, type HostPort } from '../common/config-fields.js';
import { IcscfConfigError } from './errors.js';
import { NetworkMatcher } from './network.js';
import type { ScscfEntry } from './select.js';
import { DEFAULT_HIDDEN_HEADERS, type HiddenHeader } from './thig.js';
import { DEFAULT_MAX_TOKEN_CHARS } from './thig-token.js';

export type { HostPort };

export interface IcscfThigConfig {
  /** Kv: 16 bytes. Secret. */
  kv: Uint8Array;
  /** Host of the replacement entries (should reach the network's I-CSCFs); default: the first home domain. */
  host: string;
  port?: number;
  headers: HiddenHeader[];
  maxTokenChars: number;
}

export interface IcscfConfig {
  sip: {
    listen: HostPort;
    protocols: ('udp' | 'tcp')[];
    /** Host written into Via sent-by and Record-Route (default: the listen address). */
    advertisedHost?: string;
    /** RFC 3261 T1 in ms (Timer F = 64·T1); tests shorten it. Default 500. */
    t1Ms: number;
    /** SIP TCP connection hygiene (idle and partial-message timeouts, caps); defaults of the transport when absent. */
    tcp: TcpLimits;
  };
  /**
   * The trust domain (RFC 3325 §2.3, TS 24.229 §4.4): addresses and `ADDRESS/BITS` prefixes of the
   * nodes whose asserted identities this I-CSCF believes; a request from elsewhere loses its
   * P-Asserted-Identity and the other trust-domain header fields before it is routed.
   */
  trustDomain: string[];
  diameter: {
    originHost: string;
    originRealm: string;
    destinationRealm: string;
    destinationHost?: string;
    hostIpAddresses: string[];
    hss: { host: string; realm?: string; connect: HostPort };
    requestTimeoutMs: number;
    watchdogMs: number;
  };
  homeDomains: string[];
  homeAddresses: string[];
  trustedDomains: string[];
  trustedAddresses: string[];
  /** Names and addresses that mean this I-CSCF in Route headers (besides its listen address). */
  names: string[];
  scscfs: ScscfEntry[];
  hosts: Record<string, string>;
  /** Visited-Network-Identifier when a REGISTER has no P-Visited-Network-ID. */
  defaultVisitedNetwork: string;
  /** TS 24.229 §5.3.1.2: answer 403 to a REGISTER whose source is neither home nor trusted. */
  trustedRegisterOnly: boolean;
  /** Record-Route dialog-creating requests: 'thig' (only when hiding is on), 'always' or 'never'. */
  recordRoute: 'thig' | 'always' | 'never';
  thig: IcscfThigConfig | null;
  logLevel: string;
}

export const DEFAULT_ICSCF_SIP_PORT = 4060;

/** The default lab I-CSCF (see the module comment). */
export function defaultIcscfConfig(): IcscfConfig {
  return {
    sip: { listen: { host: '127.0.0.1', port: DEFAULT_ICSCF_SIP_PORT }, protocols: ['udp', 'tcp'], t1Ms: 500, tcp: {} },
    trustDomain: ['127.0.0.1', '::1'],
    diameter: {
      originHost: 'icscf.ims.lab',
      originRealm: 'ims.lab',
      destinationRealm: 'ims.lab',
      hostIpAddresses: ['127.0.0.1'],
      hss: { host: 'hss.ims.lab', connect: { host: '127.0.0.1', port: 3868 } },
      requestTimeoutMs: 3000,
      watchdogMs: 30_000,
    },
    homeDomains: ['ims.lab'],
    homeAddresses: [],
    trustedDomains: [],
    trustedAddresses: [],
    names: ['icscf.ims.lab'],
    scscfs: [{ uri: 'sip:scscf.ims.lab:6060' }],
    hosts: { 'icscf.ims.lab': '127.0.0.1', 'scscf.ims.lab': '127.0.0.1', 'hss.ims.lab': '127.0.0.1', 'pcscf.ims.lab': '127.0.0.1' },
    defaultVisitedNetwork: 'ims.lab',
    trustedRegisterOnly: false,
    recordRoute: 'thig',
    thig: null,
    logLevel: 'info',
  };
}

const fields = configFields(IcscfConfigError);
const { str, int, strs, bool, known, section, stringMap, logLevel, trustDomain, tcpLimits } = fields;

/** `HOST:PORT`, `[v6]:PORT` or `{ "host", "port" }`; port 0 lets the OS choose. */
export const parseHostPort: (v: unknown, field: string) => HostPort = fields.hostPort;

function checkNetwork(field: string, domains: string[], addresses: string[]): void {
  try {
    new NetworkMatcher({ domains, addresses });
  } catch (e) {
    throw new IcscfConfigError((e as Error).message, field);
  }
}

/** Kv from hex, with an error that never repeats the value. */
function kvOf(v: unknown): Uint8Array {
  if (typeof v !== 'string' || !/^(0x)?[0-9a-fA-F]{32}$/.test(v.trim())) throw new IcscfConfigError('must be 16 bytes in hex (32 hex digits)', 'thig.kv');
  return fromHex(v.trim().replace(/^0x/, ''), 16, 'thig.kv');
}

/**
 * Checks a parsed JSON configuration and fills in the defaults; unknown keys are refused.
 * @throws IcscfConfigError (code CONFIG) naming the field.
 */
export function parseIcscfConfig(raw: unknown): IcscfConfig {
  if (!isObj(raw)) throw new IcscfConfigError('the configuration must be a JSON object', 'config');
  known(raw, ['sip', 'trustDomain', 'diameter', 'homeDomains', 'homeAddresses', 'trustedDomains', 'trustedAddresses', 'names', 'scscfs', 'hosts', 'defaultVisitedNetwork', 'trustedRegisterOnly', 'recordRoute', 'thig', 'logLevel'], '');
  const c = defaultIcscfConfig();
  const s = section(raw, 'sip', ['listen', 'protocols', 'advertisedHost', 't1Ms', 'tcp']);
  if (raw.trustDomain !== undefined) c.trustDomain = trustDomain(raw.trustDomain, 'trustDomain');
  if (s) {
    if (s.tcp !== undefined) c.sip.tcp = tcpLimits(s.tcp, 'sip.tcp');
    if (s.listen !== undefined) c.sip.listen = parseHostPort(s.listen, 'sip.listen');
    if (s.protocols !== undefined) {
      const p = strs(s.protocols, 'sip.protocols').map((x) => x.toLowerCase());
      if (p.length === 0 || p.some((x) => x !== 'udp' && x !== 'tcp')) throw new IcscfConfigError('must list udp and/or tcp', 'sip.protocols');
      c.sip.protocols = [...new Set(p)] as ('udp' | 'tcp')[];
    }
    if (s.advertisedHost !== undefined) c.sip.advertisedHost = str(s.advertisedHost, 'sip.advertisedHost');
    if (s.t1Ms !== undefined) c.sip.t1Ms = int(s.t1Ms, 'sip.t1Ms', 10, 10_000);
  }
  const d = section(raw, 'diameter', ['originHost', 'originRealm', 'destinationRealm', 'destinationHost', 'hostIpAddresses', 'hss', 'requestTimeoutMs', 'watchdogMs']);
  if (d) {
    if (d.originHost !== undefined) c.diameter.originHost = str(d.originHost, 'diameter.originHost');
    if (d.originRealm !== undefined) c.diameter.originRealm = str(d.originRealm, 'diameter.originRealm');
    c.diameter.destinationRealm = d.destinationRealm !== undefined ? str(d.destinationRealm, 'diameter.destinationRealm') : c.diameter.originRealm;
    if (d.destinationHost !== undefined) c.diameter.destinationHost = str(d.destinationHost, 'diameter.destinationHost');
    if (d.hostIpAddresses !== undefined) c.diameter.hostIpAddresses = strs(d.hostIpAddresses, 'diameter.hostIpAddresses');
    if (c.diameter.hostIpAddresses.length === 0) throw new IcscfConfigError('must list at least one address', 'diameter.hostIpAddresses');
    if (d.hss !== undefined) {
      const h = d.hss;
      if (!isObj(h)) throw new IcscfConfigError('must be { "host", "realm", "connect" }', 'diameter.hss');
      known(h, ['host', 'realm', 'connect'], 'diameter.hss');
      c.diameter.hss = {
        host: h.host === undefined ? c.diameter.hss.host : str(h.host, 'diameter.hss.host'),
        connect: h.connect === undefined ? c.diameter.hss.connect : parseHostPort(h.connect, 'diameter.hss.connect'),
      };
      if (h.realm !== undefined) c.diameter.hss.realm = str(h.realm, 'diameter.hss.realm');
    }
    if (d.requestTimeoutMs !== undefined) c.diameter.requestTimeoutMs = int(d.requestTimeoutMs, 'diameter.requestTimeoutMs', 50, 600_000);
    if (d.watchdogMs !== undefined) c.diameter.watchdogMs = int(d.watchdogMs, 'diameter.watchdogMs', 6000, 3_600_000);
  }
  if (raw.homeDomains !== undefined) c.homeDomains = strs(raw.homeDomains, 'homeDomains');
  if (c.homeDomains.length === 0) throw new IcscfConfigError('must name at least one home domain', 'homeDomains');
  if (raw.homeAddresses !== undefined) c.homeAddresses = strs(raw.homeAddresses, 'homeAddresses');
  if (raw.trustedDomains !== undefined) c.trustedDomains = strs(raw.trustedDomains, 'trustedDomains');
  if (raw.trustedAddresses !== undefined) c.trustedAddresses = strs(raw.trustedAddresses, 'trustedAddresses');
  checkNetwork('homeDomains', c.homeDomains, c.homeAddresses);
  checkNetwork('trustedDomains', c.trustedDomains, c.trustedAddresses);
  if (raw.names !== undefined) c.names = strs(raw.names, 'names');
  if (raw.scscfs !== undefined) {
    if (!Array.isArray(raw.scscfs)) throw new IcscfConfigError('must be an array', 'scscfs');
    c.scscfs = raw.scscfs.map((s, i) => {
      const f = `scscfs[${i}]`;
      if (typeof s === 'string') return { uri: str(s, f) };
      if (!isObj(s)) throw new IcscfConfigError('must be a SIP URI or { "uri", "capabilities" }', f);
      known(s, ['uri', 'capabilities'], f);
      const caps = s.capabilities === undefined ? [] : s.capabilities;
      if (!Array.isArray(caps)) throw new IcscfConfigError('must be an array of integers', `${f}.capabilities`);
      return { uri: str(s.uri, `${f}.uri`), capabilities: caps.map((x, k) => int(x, `${f}.capabilities[${k}]`, 0, 0xffffffff)) };
    });
  }
  if (raw.hosts !== undefined) c.hosts = stringMap(raw.hosts, 'hosts', 'must map host names to addresses');
  if (raw.defaultVisitedNetwork !== undefined) c.defaultVisitedNetwork = str(raw.defaultVisitedNetwork, 'defaultVisitedNetwork');
  else c.defaultVisitedNetwork = c.homeDomains[0];
  if (raw.trustedRegisterOnly !== undefined) c.trustedRegisterOnly = bool(raw.trustedRegisterOnly, 'trustedRegisterOnly');
  if (raw.recordRoute !== undefined) {
    if (raw.recordRoute !== 'thig' && raw.recordRoute !== 'always' && raw.recordRoute !== 'never') throw new IcscfConfigError('must be "thig", "always" or "never"', 'recordRoute');
    c.recordRoute = raw.recordRoute;
  }
  if (raw.thig !== undefined && raw.thig !== null) {
    const t = raw.thig;
    if (!isObj(t)) throw new IcscfConfigError('must be { "kv", "host", "port", "headers", "maxTokenChars" } or null', 'thig');
    known(t, ['kv', 'host', 'port', 'headers', 'maxTokenChars'], 'thig');
    const thig: IcscfThigConfig = {
      kv: kvOf(t.kv),
      host: t.host === undefined ? c.homeDomains[0] : str(t.host, 'thig.host'),
      headers: [...DEFAULT_HIDDEN_HEADERS],
      maxTokenChars: t.maxTokenChars === undefined ? DEFAULT_MAX_TOKEN_CHARS : int(t.maxTokenChars, 'thig.maxTokenChars', 256, 65_536),
    };
    if (t.port !== undefined) thig.port = int(t.port, 'thig.port', 1, 65535);
    if (t.headers !== undefined) {
      const hs = strs(t.headers, 'thig.headers').map((h) => h.toLowerCase());
      for (const h of hs) if (!(DEFAULT_HIDDEN_HEADERS as readonly string[]).includes(h)) throw new IcscfConfigError(`cannot hide ${h} (Via, Record-Route, Route, Path)`, 'thig.headers');
      thig.headers = hs as HiddenHeader[];
    }
    c.thig = thig;
  }
  if (raw.logLevel !== undefined) c.logLevel = logLevel(raw.logLevel, 'logLevel');
  return c;
}

/** The configuration for a log line: everything but Kv. */
export function describeIcscfConfig(c: IcscfConfig): Record<string, unknown> {
  return {
    sip: `${c.sip.listen.host}:${c.sip.listen.port}`,
    protocols: c.sip.protocols,
    originHost: c.diameter.originHost,
    hss: `${c.diameter.hss.host} (${c.diameter.hss.connect.host}:${c.diameter.hss.connect.port})`,
    homeDomains: c.homeDomains,
    scscfs: c.scscfs.map((s) => s.uri),
    thig: c.thig === null ? 'off' : { host: c.thig.host, port: c.thig.port, headers: c.thig.headers },
  };
}
