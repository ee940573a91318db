/**
 * S-CSCF configuration: a JSON file (`imsec scscf --config FILE`) mapped onto a typed object with
 * defaults for everything, so an empty file runs the lab S-CSCF of the default deployment
 * (SIP 127.0.0.1:6060, Server-Name `sip:scscf.ims.lab:6060`, Origin-Host scscf.ims.lab, HSS at
 * hss.ims.lab:3868):
 *
 * ```json
 * {
 *   "realm": "ims.lab",
 *   "serverName": "sip:scscf.ims.lab:6060",
 *   "sip": { "listen": "127.0.0.1:6060", "protocols": ["udp", "tcp"] },
 *   "hosts": { "scscf.ims.lab": "127.0.0.1", "hss.ims.lab": "127.0.0.1", "icscf.ims.lab": "127.0.0.1", "pcscf.ims.lab": "127.0.0.1" },
 *   "diameter": { "originHost": "scscf.ims.lab", "originRealm": "ims.lab", "hss": { "host": "hss.ims.lab", "port": 3868 } },
 *   "icscf": "sip:icscf.ims.lab:4060",
 *   "store": "sqlite:./.imsec/scscf.sqlite",
 *   "registrar": { "minExpires": 60, "maxExpires": 600000, "defaultExpires": 3600, "authItems": 1,
 *                  "authScheme": "Unknown", "awaitAuthSeconds": 240, "skipAkaWhenProtected": false, "sendKeys": true },
 *   "regEvent": { "defaultExpires": 3761, "minExpires": 60, "maxExpires": 86400 }
 * }
 * ```
 * `registrar.awaitAuthSeconds` is TS 24.229 Table 7.8.1 reg-await-auth (4 minutes at the S-CSCF).
 * `skipAkaWhenProtected` is the R-REG-4 policy: a REGISTER marked integrity-protected="yes" from a
 * registered user may skip AKA (TS 24.229 §5.4.1.2.2 step 1); an unprotected one never does.
 * Parsing is pure; reading the file happens in the CLI.
 */
import { parseUri } from '../../sip/headers/index.js';
import { configFields, isObj, NodeConfigError, type HostPort } from '../common/config-fields.js';
import type { TcpLimits } from '../../sip/transport/tcp.js';

export type { HostPort };

/** A configuration value that cannot be used (CLI exit 2). */
export class ScscfConfigError extends NodeConfigError {}

/** SIP-Authentication-Scheme asked for in MAR (TS 29.229 §6.3.9); "Unknown" lets the HSS choose per subscriber. */
export type ScscfAuthScheme = 'Unknown' | 'Digest-AKAv1-MD5' | 'Digest-AKAv2-MD5';

export interface RegistrarPolicy {
  /** Below this a REGISTER gets 423 with Min-Expires (RFC 3261 §10.3 step 7). */
  minExpires: number;
  /** Longer requests are cut to this. */
  maxExpires: number;
  /** When the REGISTER names no expiry. */
  defaultExpires: number;
  /** SIP-Number-Auth-Items in MAR (R-AKA-2: vectors kept per IMPI, used first-in first-out). */
  authItems: number;
  authScheme: ScscfAuthScheme;
  /** reg-await-auth (TS 24.229 Table 7.8.1: 4 minutes). */
  awaitAuthSeconds: number;
  /** R-REG-4: a protected re-registration of a registered user skips AKA. */
  skipAkaWhenProtected: boolean;
  /** Put ik/ck in the 401 for the P-CSCF (TS 24.229 §5.4.1.2.1, R-AKA-6). */
  sendKeys: boolean;
  /** Bindings per registration. */
  maxContacts: number;
}

export interface RegEventPolicy {
  /** RFC 3680 §5.1: 3761 s when the SUBSCRIBE names no expiry. */
  defaultExpires: number;
  minExpires: number;
  maxExpires: number;
}

export interface ScscfConfig {
  /** Home network domain: Digest realm and Destination-Realm of Cx requests. */
  realm: string;
  /** The S-CSCF's SIP URI: Server-Name in MAR/SAR, Contact of its NOTIFYs, base of Service-Route. */
  serverName: string;
  /** Host names (and addresses) that are this S-CSCF, besides the host of serverName and the listen address. */
  aliases: string[];
  /** User part of the Service-Route URI marking originating requests (TS 24.229 §5.4.1.2.2: "orig"). */
  origUser: string;
  sip: {
    listen: HostPort;
    protocols: ('udp' | 'tcp')[];
    /** SIP TCP connection hygiene (idle and partial-message timeouts, caps); defaults of the transport when absent. */
    tcp: TcpLimits;
  };
  /**
   * The trust domain (RFC 3325 §2.3, TS 24.229 §4.4): addresses and `ADDRESS/BITS` prefixes of the
   * nodes whose asserted identities this S-CSCF believes. A request from elsewhere loses its
   * P-Asserted-Identity and the other trust-domain header fields, and its REGISTER counts as not
   * integrity protected.
   */
  trustDomain: string[];
  /** Static host table for SIP and Diameter names (no DNS). */
  hosts: Record<string, string>;
  diameter: {
    originHost: string;
    originRealm: string;
    hostIpAddresses: string[];
    hss: { host: string; realm: string; port: number; address?: string };
    requestTimeoutMs: number;
    watchdogMs: number;
  };
  /** Where requests for users not registered here go (the I-CSCF), or null. */
  icscf: string | null;
  /** Registrar store URL (src/store/registrar-open.ts). */
  store: string;
  registrar: RegistrarPolicy;
  regEvent: RegEventPolicy;
  logLevel: string;
}

/** The lab defaults of the default deployment (ports as in the IMS core conventions). */
export function defaultScscfConfig(): ScscfConfig {
  return {
    realm: 'ims.lab',
    serverName: 'sip:scscf.ims.lab:6060',
    aliases: [],
    origUser: 'orig',
    sip: { listen: { host: '127.0.0.1', port: 6060 }, protocols: ['udp', 'tcp'], tcp: {} },
    trustDomain: ['127.0.0.1', '::1'],
    hosts: { 'scscf.ims.lab': '127.0.0.1', 'hss.ims.lab': '127.0.0.1', 'icscf.ims.lab': '127.0.0.1', 'pcscf.ims.lab': '127.0.0.1' },
    diameter: {
      originHost: 'scscf.ims.lab',
      originRealm: 'ims.lab',
      hostIpAddresses: ['127.0.0.1'],
      hss: { host: 'hss.ims.lab', realm: 'ims.lab', port: 3868 },
      requestTimeoutMs: 5000,
      watchdogMs: 30_000,
    },
    icscf: 'sip:icscf.ims.lab:4060',
    store: 'sqlite:./.imsec/scscf.sqlite',
    registrar: {
      minExpires: 60,
      maxExpires: 600_000,
      defaultExpires: 3600,
      authItems: 1,
      authScheme: 'Unknown',
      awaitAuthSeconds: 240,
      skipAkaWhenProtected: false,
      sendKeys: true,
      maxContacts: 10,
    },
    regEvent: { defaultExpires: 3761, minExpires: 60, maxExpires: 86_400 },
    logLevel: 'info',
  };
}

const fields = configFields(ScscfConfigError);
const { str, int, bool, known, section, stringMap, logLevel, trustDomain, tcpLimits } = fields;

function sipUriText(v: unknown, field: string): string {
  const s = str(v, field);
  try {
    const u = parseUri(s);
    if (u.kind !== 'sip') throw new Error('not a SIP URI');
  } catch {
    throw new ScscfConfigError(`must be a sip: URI, got ${JSON.stringify(s)}`, field);
  }
  return s;
}

/** `HOST:PORT`, `[v6]:PORT` or `{ "host", "port" }`; port 0 picks a free port. */
export const parseHostPort: (v: unknown, field: string) => HostPort = fields.hostPort;

/**
 * Checks a parsed JSON configuration (or a partial object given by a test) and fills in the
 * defaults. Unknown keys are refused. @throws ScscfConfigError naming the field.
 */
export function parseScscfConfig(raw: unknown): ScscfConfig {
  if (!isObj(raw)) throw new ScscfConfigError('the configuration must be a JSON object', 'config');
  known(raw, ['realm', 'serverName', 'aliases', 'origUser', 'sip', 'trustDomain', 'hosts', 'diameter', 'icscf', 'store', 'registrar', 'regEvent', 'logLevel'], '');
  const c = defaultScscfConfig();
  if (raw.realm !== undefined) c.realm = str(raw.realm, 'realm');
  if (raw.serverName !== undefined) c.serverName = sipUriText(raw.serverName, 'serverName');
  if (raw.aliases !== undefined) {
    if (!Array.isArray(raw.aliases)) throw new ScscfConfigError('must be an array of host names', 'aliases');
    c.aliases = raw.aliases.map((a, i) => str(a, `aliases[${i}]`));
  }
  if (raw.origUser !== undefined) c.origUser = str(raw.origUser, 'origUser');
  const sip = section(raw, 'sip', ['listen', 'protocols', 'tcp']);
  if (sip?.listen !== undefined) c.sip.listen = parseHostPort(sip.listen, 'sip.listen');
  if (sip?.tcp !== undefined) c.sip.tcp = tcpLimits(sip.tcp, 'sip.tcp');
  if (raw.trustDomain !== undefined) c.trustDomain = trustDomain(raw.trustDomain, 'trustDomain');
  if (sip?.protocols !== undefined) {
    if (!Array.isArray(sip.protocols) || sip.protocols.length === 0 || sip.protocols.some((p) => p !== 'udp' && p !== 'tcp')) {
      throw new ScscfConfigError('must be a non-empty list of "udp" and "tcp"', 'sip.protocols');
    }
    c.sip.protocols = [...new Set(sip.protocols as ('udp' | 'tcp')[])];
  }
  if (raw.hosts !== undefined) c.hosts = stringMap(raw.hosts, 'hosts', 'must map host names to addresses');
  const d = section(raw, 'diameter', ['originHost', 'originRealm', 'hostIpAddresses', 'hss', 'requestTimeoutMs', 'watchdogMs']);
  if (d) {
    if (d.originHost !== undefined) c.diameter.originHost = str(d.originHost, 'diameter.originHost');
    if (d.originRealm !== undefined) c.diameter.originRealm = str(d.originRealm, 'diameter.originRealm');
    if (d.hostIpAddresses !== undefined) {
      if (!Array.isArray(d.hostIpAddresses) || d.hostIpAddresses.length === 0) throw new ScscfConfigError('must list at least one address', 'diameter.hostIpAddresses');
      c.diameter.hostIpAddresses = d.hostIpAddresses.map((a, i) => str(a, `diameter.hostIpAddresses[${i}]`));
    }
    if (d.hss !== undefined) {
      if (!isObj(d.hss)) throw new ScscfConfigError('must be { "host", "realm", "port", "address" }', 'diameter.hss');
      known(d.hss, ['host', 'realm', 'port', 'address'], 'diameter.hss');
      const h = d.hss;
      if (h.host !== undefined) c.diameter.hss.host = str(h.host, 'diameter.hss.host');
      c.diameter.hss.realm = h.realm !== undefined ? str(h.realm, 'diameter.hss.realm') : c.diameter.hss.host.slice(c.diameter.hss.host.indexOf('.') + 1);
      if (h.port !== undefined) c.diameter.hss.port = int(h.port, 'diameter.hss.port', 1, 65535);
      if (h.address !== undefined) c.diameter.hss.address = str(h.address, 'diameter.hss.address');
    }
    if (d.requestTimeoutMs !== undefined) c.diameter.requestTimeoutMs = int(d.requestTimeoutMs, 'diameter.requestTimeoutMs', 100, 600_000);
    if (d.watchdogMs !== undefined) c.diameter.watchdogMs = int(d.watchdogMs, 'diameter.watchdogMs', 6000, 3_600_000);
  }
  if (raw.icscf !== undefined) c.icscf = raw.icscf === null ? null : sipUriText(raw.icscf, 'icscf');
  if (raw.store !== undefined) c.store = str(raw.store, 'store');
  const r = section(raw, 'registrar', ['minExpires', 'maxExpires', 'defaultExpires', 'authItems', 'authScheme', 'awaitAuthSeconds', 'skipAkaWhenProtected', 'sendKeys', 'maxContacts']);
  if (r) {
    const p = c.registrar;
    if (r.minExpires !== undefined) p.minExpires = int(r.minExpires, 'registrar.minExpires', 1, 0xffffffff);
    if (r.maxExpires !== undefined) p.maxExpires = int(r.maxExpires, 'registrar.maxExpires', 1, 0xffffffff);
    if (r.defaultExpires !== undefined) p.defaultExpires = int(r.defaultExpires, 'registrar.defaultExpires', 1, 0xffffffff);
    if (r.authItems !== undefined) p.authItems = int(r.authItems, 'registrar.authItems', 1, 100);
    if (r.authScheme !== undefined) {
      if (!['Unknown', 'Digest-AKAv1-MD5', 'Digest-AKAv2-MD5'].includes(r.authScheme as string)) {
        throw new ScscfConfigError('must be "Unknown", "Digest-AKAv1-MD5" or "Digest-AKAv2-MD5"', 'registrar.authScheme');
      }
      p.authScheme = r.authScheme as ScscfAuthScheme;
    }
    if (r.awaitAuthSeconds !== undefined) p.awaitAuthSeconds = int(r.awaitAuthSeconds, 'registrar.awaitAuthSeconds', 1, 3600);
    if (r.skipAkaWhenProtected !== undefined) p.skipAkaWhenProtected = bool(r.skipAkaWhenProtected, 'registrar.skipAkaWhenProtected');
    if (r.sendKeys !== undefined) p.sendKeys = bool(r.sendKeys, 'registrar.sendKeys');
    if (r.maxContacts !== undefined) p.maxContacts = int(r.maxContacts, 'registrar.maxContacts', 1, 1000);
  }
  if (c.registrar.minExpires > c.registrar.maxExpires) throw new ScscfConfigError('must not exceed registrar.maxExpires', 'registrar.minExpires');
  if (c.registrar.defaultExpires < c.registrar.minExpires || c.registrar.defaultExpires > c.registrar.maxExpires) {
    throw new ScscfConfigError('must lie between registrar.minExpires and registrar.maxExpires', 'registrar.defaultExpires');
  }
  const e = section(raw, 'regEvent', ['defaultExpires', 'minExpires', 'maxExpires']);
  if (e) {
    if (e.defaultExpires !== undefined) c.regEvent.defaultExpires = int(e.defaultExpires, 'regEvent.defaultExpires', 1, 0xffffffff);
    if (e.minExpires !== undefined) c.regEvent.minExpires = int(e.minExpires, 'regEvent.minExpires', 1, 0xffffffff);
    if (e.maxExpires !== undefined) c.regEvent.maxExpires = int(e.maxExpires, 'regEvent.maxExpires', 1, 0xffffffff);
  }
  if (c.regEvent.minExpires > c.regEvent.maxExpires) throw new ScscfConfigError('must not exceed regEvent.maxExpires', 'regEvent.minExpires');
  if (raw.logLevel !== undefined) c.logLevel = logLevel(raw.logLevel, 'logLevel');
  return c;
}

/** The configuration with the store URL's password hidden, for a log line. */
export function describeScscfConfig(c: ScscfConfig): Record<string, unknown> {
  return {
    serverName: c.serverName,
    realm: c.realm,
    sip: `${c.sip.listen.host}:${c.sip.listen.port}/${c.sip.protocols.join('+')}`,
    hss: `${c.diameter.hss.host}:${c.diameter.hss.port}`,
    icscf: c.icscf,
    store: c.store.replace(/(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/i, '$1***@'),
    registrar: c.registrar,
  };
}
