/**
 * HSS configuration: a JSON file (`imsec hss --config FILE`), command-line flags on top, and
 * defaults for everything, so `imsec hss` with nothing runs a lab HSS:
 *
 * ```json
 * {
 *   "dataDir": "./.imsec",
 *   "store": "sqlite:./.imsec/hss.sqlite",
 *   "diameter": {
 *     "listen": "127.0.0.1:3868",
 *     "originHost": "hss.ims.lab",
 *     "originRealm": "ims.lab",
 *     "peers": [{ "host": "scscf.ims.lab" }, { "host": "icscf.ims.lab" }]
 *   },
 *   "rest": { "listen": "127.0.0.1:8080" },
 *   "maxAuthItems": 5,
 *   "serverCapabilities": { "mandatory": [], "optional": [], "serverNames": ["sip:scscf.ims.lab:6060"] },
 *   "visitedNetworks": null,
 *   "scscfHosts": { "sip:scscf.ims.lab:6060": "scscf.ims.lab" }
 * }
 * ```
 *
 * `diameter.peers` is the allowlist (RFC 6733 §5.3: a CER from any other Origin-Host is refused
 * with DIAMETER_UNKNOWN_PEER), so only configured S-CSCFs can fetch vectors. `visitedNetworks`
 * null means no roaming check at UAR (TS 29.228 §6.1.1.1 step 4); a list names the
 * Visited-Network-Identifier values allowed. `serverCapabilities` is what a UAA carries for a
 * first registration (TS 29.229 §6.3.4). `scscfHosts` maps an S-CSCF's SIP name (Server-Name) to
 * its Diameter Origin-Host for HSS-initiated requests (RTR, PPR) when the HSS has not yet learned
 * it from a MAR or SAR. Parsing is pure; reading the file happens in the CLI.
 */
import { join } from 'node:path';
import type { ServerCapabilities } from '../../diameter/cx/groups.js';
import { PRE_CER_DEFAULTS } from '../../diameter/peer/node-options.js';
import { ipVersionOf } from '../../ip/address.js';
import { configFields, isObj, NodeConfigError, type HostPort } from '../common/config-fields.js';

export type { HostPort };

/** A configuration file or flag that cannot be used (CLI exit 2). */
export class HssConfigError extends NodeConfigError {}

/** A Diameter peer allowed to connect (and, with `connect`, one the HSS connects to). */
export interface HssPeer {
  /** The peer's Origin-Host. */
  host: string;
  /** Its realm; defaults to the part of `host` after the first dot. */
  realm?: string;
  connect?: HostPort;
  /** Addresses its connections may come from (absent: any); a CER from elsewhere gets DIAMETER_UNKNOWN_PEER. */
  addresses?: string[];
}

export interface HssConfig {
  /** Directory for the embedded store (default `./.imsec`). */
  dataDir: string;
  /** Store URL (see store/open-store.ts); default `sqlite:<dataDir>/hss.sqlite`. */
  store: string;
  diameter: {
    listen: HostPort;
    originHost: string;
    originRealm: string;
    /** Host-IP-Address values for CER/CEA; default: the listen address (or 127.0.0.1 when it is a wildcard). */
    hostIpAddresses: string[];
    peers: HssPeer[];
    /** RFC 3539 Twinit, ms (default 30000). */
    watchdogMs: number;
    /** How long an RTR/PPR waits for its answer, ms (default 5000). */
    requestTimeoutMs: number;
    /** Before CER (RFC 6733 §5.3): how long a new connection may take to send it, ms (default 5000). */
    cerTimeoutMs: number;
    /** Before CER: the largest message accepted, bytes (default 4096; after CER the normal limit). */
    preCerMaxMessageSize: number;
    /** Before CER: connections waiting for theirs, at most (default 64). */
    maxUnboundConnections: number;
  };
  /** The provisioning REST API; null turns it off. */
  rest: { listen: HostPort } | null;
  /** Cap on SIP-Number-Auth-Items honoured in one MAA (R-AKA-2 batches). */
  maxAuthItems: number;
  /** Server-Capabilities returned in UAA/LIA when no S-CSCF is assigned (TS 29.228 §6.1.1, §6.7). */
  serverCapabilities: ServerCapabilities;
  /** Allowed Visited-Network-Identifier values (UTF-8); null: no roaming restriction. */
  visitedNetworks: string[] | null;
  /** Server-Name (S-CSCF SIP URI) → Diameter Origin-Host, for RTR/PPR. */
  scscfHosts: Record<string, string>;
  /** Log level for pino (default `info`). */
  logLevel: string;
  /**
   * Testing only: a seed that makes every RAND deterministic (SeededRng). Never set it in
   * service: RAND must be unpredictable (TS 33.102 §6.3.2).
   */
  randSeed?: string;
}

export const DEFAULT_DIAMETER_PORT = 3868;
export const DEFAULT_REST_PORT = 8080;
export const DEFAULT_MAX_AUTH_ITEMS = 5;
export const DEFAULT_DATA_DIR = './.imsec';

/** The defaults: a lab HSS on 127.0.0.1:3868, SQLite in ./.imsec, REST on 127.0.0.1:8080. */
export function defaultHssConfig(dataDir: string = DEFAULT_DATA_DIR): HssConfig {
  return {
    dataDir,
    store: `sqlite:${join(dataDir, 'hss.sqlite')}`,
    diameter: {
      listen: { host: '127.0.0.1', port: DEFAULT_DIAMETER_PORT },
      originHost: 'hss.ims.lab',
      originRealm: 'ims.lab',
      hostIpAddresses: ['127.0.0.1'],
      peers: [{ host: 'scscf.ims.lab' }, { host: 'icscf.ims.lab' }],
      watchdogMs: 30_000,
      requestTimeoutMs: 5000,
      cerTimeoutMs: 5000,
      preCerMaxMessageSize: PRE_CER_DEFAULTS.maxMessageSize,
      maxUnboundConnections: PRE_CER_DEFAULTS.maxUnboundConnections,
    },
    rest: { listen: { host: '127.0.0.1', port: DEFAULT_REST_PORT } },
    maxAuthItems: DEFAULT_MAX_AUTH_ITEMS,
    serverCapabilities: { mandatory: [], optional: [], serverNames: ['sip:scscf.ims.lab:6060'] },
    visitedNetworks: null,
    scscfHosts: {},
    logLevel: 'info',
  };
}

const fields = configFields(HssConfigError);
const { str, int, ints, strs, known, section, stringMap, logLevel } = fields;

/** `HOST:PORT`, `[v6]:PORT` or `{ "host": …, "port": … }`. Port 0 picks a free port. */
export const parseHostPort: (v: unknown, field: string) => HostPort = fields.hostPort;

function peer(v: unknown, field: string): HssPeer {
  if (typeof v === 'string') return { host: str(v, field) };
  if (!isObj(v)) throw new HssConfigError('must be a host name or { "host", "realm", "connect", "addresses" }', field);
  const p: HssPeer = { host: str(v.host, `${field}.host`) };
  if (v.realm !== undefined) p.realm = str(v.realm, `${field}.realm`);
  if (v.connect !== undefined) p.connect = parseHostPort(v.connect, `${field}.connect`);
  if (v.addresses !== undefined) {
    p.addresses = strs(v.addresses, `${field}.addresses`);
    p.addresses.forEach((a, i) => {
      if (ipVersionOf(a) === 0) throw new HssConfigError('must be an IP address', `${field}.addresses[${i}]`);
    });
  }
  return p;
}

/**
 * Checks a parsed JSON configuration and fills in the defaults. Unknown keys are refused (a
 * misspelt setting must not silently fall back to a default).
 * @throws HssConfigError naming the field.
 */
export function parseHssConfig(raw: unknown): HssConfig {
  if (!isObj(raw)) throw new HssConfigError('the configuration must be a JSON object', 'config');
  known(raw, ['dataDir', 'store', 'diameter', 'rest', 'maxAuthItems', 'serverCapabilities', 'visitedNetworks', 'scscfHosts', 'logLevel', 'randSeed'], '');
  const dataDir = raw.dataDir === undefined ? DEFAULT_DATA_DIR : str(raw.dataDir, 'dataDir');
  const c = defaultHssConfig(dataDir);
  if (raw.store !== undefined) c.store = str(raw.store, 'store');
  const d = section(raw, 'diameter', ['listen', 'originHost', 'originRealm', 'hostIpAddresses', 'peers', 'watchdogMs', 'requestTimeoutMs', 'cerTimeoutMs', 'preCerMaxMessageSize', 'maxUnboundConnections']);
  if (d) {
    if (d.listen !== undefined) c.diameter.listen = parseHostPort(d.listen, 'diameter.listen');
    if (d.originHost !== undefined) c.diameter.originHost = str(d.originHost, 'diameter.originHost');
    if (d.originRealm !== undefined) c.diameter.originRealm = str(d.originRealm, 'diameter.originRealm');
    c.diameter.hostIpAddresses = d.hostIpAddresses !== undefined ? strs(d.hostIpAddresses, 'diameter.hostIpAddresses') : defaultHostIps(c.diameter.listen.host);
    if (c.diameter.hostIpAddresses.length === 0) throw new HssConfigError('must list at least one address', 'diameter.hostIpAddresses');
    if (d.peers !== undefined) {
      if (!Array.isArray(d.peers)) throw new HssConfigError('must be an array', 'diameter.peers');
      c.diameter.peers = d.peers.map((p, i) => peer(p, `diameter.peers[${i}]`));
    }
    if (d.watchdogMs !== undefined) c.diameter.watchdogMs = int(d.watchdogMs, 'diameter.watchdogMs', 6000, 3_600_000);
    if (d.requestTimeoutMs !== undefined) c.diameter.requestTimeoutMs = int(d.requestTimeoutMs, 'diameter.requestTimeoutMs', 100, 600_000);
    if (d.cerTimeoutMs !== undefined) c.diameter.cerTimeoutMs = int(d.cerTimeoutMs, 'diameter.cerTimeoutMs', 50, 600_000);
    if (d.preCerMaxMessageSize !== undefined) c.diameter.preCerMaxMessageSize = int(d.preCerMaxMessageSize, 'diameter.preCerMaxMessageSize', 256, 16_777_215);
    if (d.maxUnboundConnections !== undefined) c.diameter.maxUnboundConnections = int(d.maxUnboundConnections, 'diameter.maxUnboundConnections', 1, 100_000);
  }
  if (raw.rest !== undefined) {
    if (raw.rest === null || raw.rest === false) c.rest = null;
    else if (isObj(raw.rest)) {
      known(raw.rest, ['listen'], 'rest');
      c.rest = { listen: raw.rest.listen === undefined ? c.rest!.listen : parseHostPort(raw.rest.listen, 'rest.listen') };
    } else throw new HssConfigError('must be { "listen": "HOST:PORT" } or null', 'rest');
  }
  if (raw.maxAuthItems !== undefined) c.maxAuthItems = int(raw.maxAuthItems, 'maxAuthItems', 1, 100);
  const s = section(raw, 'serverCapabilities', ['mandatory', 'optional', 'serverNames']);
  if (s) {
    c.serverCapabilities = {
      mandatory: s.mandatory === undefined ? [] : ints(s.mandatory, 'serverCapabilities.mandatory'),
      optional: s.optional === undefined ? [] : ints(s.optional, 'serverCapabilities.optional'),
      serverNames: s.serverNames === undefined ? [] : strs(s.serverNames, 'serverCapabilities.serverNames'),
    };
  }
  if (raw.visitedNetworks !== undefined) c.visitedNetworks = raw.visitedNetworks === null ? null : strs(raw.visitedNetworks, 'visitedNetworks');
  if (raw.scscfHosts !== undefined) c.scscfHosts = stringMap(raw.scscfHosts, 'scscfHosts', 'must map S-CSCF SIP names to Diameter hosts');
  if (raw.logLevel !== undefined) c.logLevel = logLevel(raw.logLevel, 'logLevel');
  if (raw.randSeed !== undefined) c.randSeed = str(raw.randSeed, 'randSeed');
  return c;
}

/** Host-IP-Address for CER/CEA when none is configured: the listen address, or loopback for a wildcard. */
export function defaultHostIps(listenHost: string): string[] {
  if (listenHost === '0.0.0.0' || listenHost === '::' || !/^[0-9.]+$|:/.test(listenHost)) return ['127.0.0.1'];
  return [listenHost];
}

/** The configuration with the store URL's password hidden, for a log line. */
export function describeConfig(c: HssConfig): Record<string, unknown> {
  return {
    store: c.store.replace(/(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/i, '$1***@'),
    diameter: `${c.diameter.listen.host}:${c.diameter.listen.port}`,
    originHost: c.diameter.originHost,
    originRealm: c.diameter.originRealm,
    peers: c.diameter.peers.map((p) => p.host),
    rest: c.rest === null ? null : `${c.rest.listen.host}:${c.rest.listen.port}`,
    maxAuthItems: c.maxAuthItems,
  };
}
