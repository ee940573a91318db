/**
 * Configuration of the whole IMS core in one process (`imsec core`): the HSS, S-CSCF, I-CSCF and
 * P-CSCF of the default deployment on one address, their ports, the data directory of the
 * embedded stores, the subscribers to provision, and per node any further setting of that node's
 * own configuration (`settings`, see nodes/<node>/config.ts). Everything has a default, so `{}`
 * is the lab core:
 *
 * ```json
 * {
 *   "realm": "ims.lab",
 *   "host": "127.0.0.1",
 *   "dataDir": "./.imsec",
 *   "hss":   { "diameterPort": 3868, "rest": null, "settings": {} },
 *   "scscf": { "sipPort": 6060, "settings": {} },
 *   "icscf": { "sipPort": 4060, "settings": {} },
 *   "pcscf": { "sipPort": 5060, "protectedPorts": "5100-5108", "datapath": "userspace", "settings": {} },
 *   "subscribers": [{ "impi": "alice@ims.lab", "impus": ["sip:alice@ims.lab", "tel:+15550101"], "k": "…", "op": "…" }],
 *   "logLevel": "info"
 * }
 * ```
 *
 * Node names are `hss.<realm>`, `scscf.<realm>`, `icscf.<realm>`, `pcscf.<realm>`, all resolved to
 * `host` through each node's static host table. Port 0 lets the OS choose (tests); the wiring
 * between the nodes (who connects to which port) is derived here and cannot be contradicted by
 * `settings`. K, OP and OPc are secrets: {@link coreConfigJson} prints them as `"[secret]"`, and
 * `"[secret]"` read back means "the built-in key of this demo subscriber". Parsing is pure.
 */
import { join } from 'node:path';
import { ImsError } from '../../common/errors.js';
import { parseSubscriberInput } from '../hss/provisioning.js';
import { DEMO_SUBSCRIBERS, type CoreSubscriber } from './subscribers.js';

/** A core configuration that cannot be used (CLI exit 2). */
export class CoreConfigError extends ImsError {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super('CONFIG', `${field}: ${message}`);
  }
}

/** The redaction marker of secrets in printed configurations. */
export const SECRET_MARK = '[secret]';

export type CoreDatapath = 'userspace' | 'xfrm';

export interface CoreHostPort {
  host: string;
  port: number;
}

/** The configuration (see the module comment). */
export interface CoreConfig {
  realm: string;
  /** The address every node binds (loopback by default). */
  host: string;
  /** Directory of the embedded SQLite stores (hss.sqlite, scscf.sqlite). */
  dataDir: string;
  hss: { diameterPort: number; rest: CoreHostPort | null; settings: Record<string, unknown> };
  scscf: { sipPort: number; settings: Record<string, unknown> };
  icscf: { sipPort: number; settings: Record<string, unknown> };
  pcscf: { sipPort: number; protectedPorts: { min: number; max: number } | null; datapath: CoreDatapath; settings: Record<string, unknown> };
  subscribers: CoreSubscriber[];
  /** pino level of every node's log (stderr). */
  logLevel: string;
}

export const DEFAULT_CORE_DATA_DIR = './.imsec';
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The lab core: default ports of the node conventions, the two demo subscribers. */
export function defaultCoreConfig(): CoreConfig {
  return {
    realm: 'ims.lab',
    host: '127.0.0.1',
    dataDir: DEFAULT_CORE_DATA_DIR,
    hss: { diameterPort: 3868, rest: null, settings: {} },
    scscf: { sipPort: 6060, settings: {} },
    icscf: { sipPort: 4060, settings: {} },
    pcscf: { sipPort: 5060, protectedPorts: { min: 5100, max: 5108 }, datapath: 'userspace', settings: {} },
    subscribers: DEMO_SUBSCRIBERS.map((s) => ({ ...s, impus: [...s.impus] })),
    logLevel: 'info',
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > 1024) throw new CoreConfigError('must be a non-empty string', field);
  return v;
}

function port(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) throw new CoreConfigError('must be a port number 0..65535 (0: chosen by the OS)', field);
  return v;
}

function known(o: Record<string, unknown>, keys: readonly string[], field: string): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) throw new CoreConfigError(`unknown setting ${JSON.stringify(k)} (known: ${keys.join(', ')})`, field === '' ? k : `${field}.${k}`);
  }
}

function section(raw: Record<string, unknown>, key: string, keys: readonly string[]): Record<string, unknown> {
  const v = raw[key];
  if (v === undefined) return {};
  if (!isObj(v)) throw new CoreConfigError('must be an object', key);
  known(v, keys, key);
  return v;
}

/**
 * A copy of `v` holding only what the printed JSON form carries (RFC 8259 §3 values: null, booleans,
 * numbers (§6: no NaN or Infinity), strings, arrays, objects), so that a parsed configuration prints and
 * parses back to the same value. An object member that is `undefined` is absent, as in JSON;
 * -0 becomes 0 (JSON prints it as 0); anything JSON cannot hold (an `undefined` array element,
 * NaN, ±Infinity, a bigint, a function, a Date or a class instance) is refused naming its path.
 */
function jsonData(v: unknown, field: string): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new CoreConfigError('must be JSON data (a finite number)', field);
    return v === 0 ? 0 : v;
  }
  if (Array.isArray(v)) return v.map((x, i) => jsonData(x, `${field}[${i}]`));
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new CoreConfigError('must be JSON data (a plain object)', field);
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, jsonData(x, `${field}.${k}`)]),
    );
  }
  throw new CoreConfigError(`must be JSON data, not ${v === undefined ? 'undefined' : typeof v}`, field);
}

function settings(v: unknown, field: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isObj(v)) throw new CoreConfigError("must be an object (that node's own configuration keys)", field);
  return jsonData(v, field) as Record<string, unknown>;
}

/** `HOST:PORT`, `[v6]:PORT` or `{ "host", "port" }`. */
export function parseCoreHostPort(v: unknown, field: string): CoreHostPort {
  if (isObj(v)) return { host: str(v.host, `${field}.host`), port: port(v.port, `${field}.port`) };
  const s = str(v, field);
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (m === null) throw new CoreConfigError(`expected HOST:PORT, got ${JSON.stringify(s)}`, field);
  return { host: m[1], port: port(Number(m[2]), field) };
}

function portRange(v: unknown, field: string): { min: number; max: number } | null {
  if (v === 'auto' || v === null) return null;
  const m = typeof v === 'string' ? /^(\d+)-(\d+)$/.exec(v.trim()) : null;
  const r = m ? { min: Number(m[1]), max: Number(m[2]) } : isObj(v) ? { min: v.min, max: v.max } : undefined;
  if (!r || typeof r.min !== 'number' || typeof r.max !== 'number' || !Number.isInteger(r.min) || !Number.isInteger(r.max) || r.min < 1 || r.max > 65535 || r.max <= r.min) {
    throw new CoreConfigError('must be "MIN-MAX" (at least two ports) or "auto"', field);
  }
  return { min: r.min, max: r.max };
}

/** A secret field: hex as given, or the built-in value when redacted. */
function secret(v: unknown, field: string, builtin: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (v === SECRET_MARK) {
    if (builtin === undefined) throw new CoreConfigError(`is redacted (${SECRET_MARK}); write the real value (32 hex digits) here`, field);
    return builtin;
  }
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{32}$/.test(v)) throw new CoreConfigError('must be 16 bytes (32 hex digits)', field);
  return v.toLowerCase();
}

function subscriber(v: unknown, i: number): CoreSubscriber {
  const field = `subscribers[${i}]`;
  if (!isObj(v)) throw new CoreConfigError('must be an object { impi, impus, k, op | opc, amf }', field);
  known(v, ['impi', 'impus', 'k', 'op', 'opc', 'amf'], field);
  const impi = str(v.impi, `${field}.impi`);
  const builtin = DEMO_SUBSCRIBERS.find((d) => d.impi === impi);
  if (!Array.isArray(v.impus) || v.impus.length === 0) throw new CoreConfigError('must list at least one public identity', `${field}.impus`);
  const impus = v.impus.map((u, j) => str(u, `${field}.impus[${j}]`));
  const s: CoreSubscriber = { impi, impus, k: secret(v.k, `${field}.k`, builtin?.k) ?? '' };
  if (s.k === '') throw new CoreConfigError('is required', `${field}.k`);
  const op = secret(v.op, `${field}.op`, builtin?.op);
  const opc = secret(v.opc, `${field}.opc`, builtin?.opc);
  if ((op === undefined) === (opc === undefined)) throw new CoreConfigError('give exactly one of op and opc', `${field}.op`);
  if (op !== undefined) s.op = op;
  if (opc !== undefined) s.opc = opc;
  if (v.amf !== undefined) s.amf = str(v.amf, `${field}.amf`);
  try {
    // The HSS's own check (IMPI/IMPU syntax, AMF); its messages never quote a key.
    parseSubscriberInput({ impi: s.impi, impus: s.impus, k: s.k, ...(s.op ? { op: s.op } : { opc: s.opc }), ...(s.amf ? { amf: s.amf } : {}) });
  } catch (e) {
    throw new CoreConfigError((e as Error).message, field);
  }
  return s;
}

/**
 * Checks a parsed JSON configuration and fills in the defaults; unknown keys are refused. A
 * missing `subscribers` means the two demo subscribers; `[]` means none.
 * @throws CoreConfigError (code CONFIG) naming the field.
 */
export function parseCoreConfig(raw: unknown): CoreConfig {
  if (!isObj(raw)) throw new CoreConfigError('the configuration must be a JSON object', 'config');
  known(raw, ['realm', 'host', 'dataDir', 'hss', 'scscf', 'icscf', 'pcscf', 'subscribers', 'logLevel'], '');
  const c = defaultCoreConfig();
  if (raw.realm !== undefined) {
    c.realm = str(raw.realm, 'realm').toLowerCase();
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(c.realm)) throw new CoreConfigError('must be a domain name', 'realm');
  }
  if (raw.host !== undefined) c.host = str(raw.host, 'host');
  if (raw.dataDir !== undefined) c.dataDir = str(raw.dataDir, 'dataDir');
  const h = section(raw, 'hss', ['diameterPort', 'rest', 'settings']);
  if (h.diameterPort !== undefined) c.hss.diameterPort = port(h.diameterPort, 'hss.diameterPort');
  if (h.rest !== undefined) c.hss.rest = h.rest === null || h.rest === 'off' ? null : parseCoreHostPort(h.rest, 'hss.rest');
  c.hss.settings = settings(h.settings, 'hss.settings');
  const s = section(raw, 'scscf', ['sipPort', 'settings']);
  if (s.sipPort !== undefined) c.scscf.sipPort = port(s.sipPort, 'scscf.sipPort');
  c.scscf.settings = settings(s.settings, 'scscf.settings');
  const i = section(raw, 'icscf', ['sipPort', 'settings']);
  if (i.sipPort !== undefined) c.icscf.sipPort = port(i.sipPort, 'icscf.sipPort');
  c.icscf.settings = settings(i.settings, 'icscf.settings');
  const p = section(raw, 'pcscf', ['sipPort', 'protectedPorts', 'datapath', 'settings']);
  if (p.sipPort !== undefined) c.pcscf.sipPort = port(p.sipPort, 'pcscf.sipPort');
  if (p.protectedPorts !== undefined) c.pcscf.protectedPorts = portRange(p.protectedPorts, 'pcscf.protectedPorts');
  if (p.datapath !== undefined) {
    if (p.datapath !== 'userspace' && p.datapath !== 'xfrm') throw new CoreConfigError('must be "userspace" (default) or "xfrm" (kernel IPsec, needs root and ESP in the kernel)', 'pcscf.datapath');
    c.pcscf.datapath = p.datapath;
  }
  c.pcscf.settings = settings(p.settings, 'pcscf.settings');
  if (raw.subscribers !== undefined) {
    if (!Array.isArray(raw.subscribers)) throw new CoreConfigError('must be a list', 'subscribers');
    c.subscribers = raw.subscribers.map(subscriber);
    const seen = new Set<string>();
    for (const [n, sub] of c.subscribers.entries()) {
      if (seen.has(sub.impi)) throw new CoreConfigError(`IMPI ${sub.impi} is listed twice`, `subscribers[${n}].impi`);
      seen.add(sub.impi);
    }
  }
  if (raw.logLevel !== undefined) {
    c.logLevel = str(raw.logLevel, 'logLevel');
    if (!LEVELS.includes(c.logLevel)) throw new CoreConfigError(`must be one of ${LEVELS.join(', ')}`, 'logLevel');
  }
  return c;
}

/**
 * The configuration as JSON that {@link parseCoreConfig} takes back (print-config): K, OP and OPc
 * as `"[secret]"`.
 */
export function coreConfigJson(c: CoreConfig): Record<string, unknown> {
  const hp = (x: CoreHostPort | null): string | null => (x === null ? null : `${x.host.includes(':') ? `[${x.host}]` : x.host}:${x.port}`);
  return {
    realm: c.realm,
    host: c.host,
    dataDir: c.dataDir,
    hss: { diameterPort: c.hss.diameterPort, rest: hp(c.hss.rest), settings: c.hss.settings },
    scscf: { sipPort: c.scscf.sipPort, settings: c.scscf.settings },
    icscf: { sipPort: c.icscf.sipPort, settings: c.icscf.settings },
    pcscf: {
      sipPort: c.pcscf.sipPort,
      protectedPorts: c.pcscf.protectedPorts === null ? 'auto' : `${c.pcscf.protectedPorts.min}-${c.pcscf.protectedPorts.max}`,
      datapath: c.pcscf.datapath,
      settings: c.pcscf.settings,
    },
    subscribers: c.subscribers.map((s) => ({
      impi: s.impi,
      impus: [...s.impus],
      k: SECRET_MARK,
      ...(s.op !== undefined ? { op: SECRET_MARK } : {}),
      ...(s.opc !== undefined ? { opc: SECRET_MARK } : {}),
      ...(s.amf !== undefined ? { amf: s.amf } : {}),
    })),
    logLevel: c.logLevel,
  };
}

/** The host names of the nodes in `realm`. */
export function nodeNames(realm: string): { hss: string; scscf: string; icscf: string; pcscf: string } {
  return { hss: `hss.${realm}`, scscf: `scscf.${realm}`, icscf: `icscf.${realm}`, pcscf: `pcscf.${realm}` };
}

/** The static host table every node gets: each node name → `host`. */
export function hostTable(c: CoreConfig): Record<string, string> {
  return Object.fromEntries(Object.values(nodeNames(c.realm)).map((n) => [n, c.host]));
}

/**
 * The default trust domain of the core's CSCFs (RFC 3325 §2.3, TS 24.229 §4.4): the core's own
 * nodes, i.e. the address they all bind (loopback when that is the unspecified address).
 */
export function coreTrustDomain(c: CoreConfig): string[] {
  return c.host === '0.0.0.0' || c.host === '::' ? ['127.0.0.1', '::1'] : [c.host];
}

/** Plain-object deep merge: `over` wins; arrays and other values replace. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/** The bound ports the wiring of a node depends on (known once the earlier nodes have started). */
export interface CoreWiring {
  hssPort: number;
  scscfServerName: string;
  icscfPort: number;
}

/**
 * The raw JSON of each node's configuration: defaults derived from the core configuration, then
 * the node's `settings`, then the wiring (listen addresses, peers) that must agree between nodes.
 */
export const nodeConfigInput = {
  hss(c: CoreConfig, scscfServerName: string | null): Record<string, unknown> {
    const n = nodeNames(c.realm);
    const derived = {
      dataDir: c.dataDir,
      store: `sqlite:${join(c.dataDir, 'hss.sqlite')}`,
      // RFC 6733 §5.3: the S-CSCF and I-CSCF are known by Origin-Host and by the core's address.
      diameter: { originHost: n.hss, originRealm: c.realm, peers: [{ host: n.scscf, addresses: coreTrustDomain(c) }, { host: n.icscf, addresses: coreTrustDomain(c) }] },
      serverCapabilities: { mandatory: [], optional: [], serverNames: scscfServerName === null ? [] : [scscfServerName] },
      logLevel: c.logLevel,
    };
    const wiring = { diameter: { listen: { host: c.host, port: c.hss.diameterPort } }, rest: c.hss.rest === null ? null : { listen: c.hss.rest } };
    return deepMerge(deepMerge(derived, c.hss.settings), wiring);
  },
  scscf(c: CoreConfig, w: Pick<CoreWiring, 'hssPort' | 'icscfPort'>): Record<string, unknown> {
    const n = nodeNames(c.realm);
    const derived = {
      realm: c.realm,
      // With port 0 the S-CSCF puts its bound port into its name.
      serverName: c.scscf.sipPort === 0 ? `sip:${n.scscf}` : `sip:${n.scscf}:${c.scscf.sipPort}`,
      store: `sqlite:${join(c.dataDir, 'scscf.sqlite')}`,
      diameter: { originHost: n.scscf, originRealm: c.realm },
      trustDomain: coreTrustDomain(c),
      logLevel: c.logLevel,
    };
    const wiring = {
      sip: { listen: { host: c.host, port: c.scscf.sipPort } },
      hosts: hostTable(c),
      diameter: { hss: { host: n.hss, realm: c.realm, port: w.hssPort, address: c.host } },
      icscf: `sip:${n.icscf}:${w.icscfPort}`,
    };
    return deepMerge(deepMerge(derived, c.scscf.settings), wiring);
  },
  icscf(c: CoreConfig, w: Pick<CoreWiring, 'hssPort' | 'scscfServerName'>): Record<string, unknown> {
    const n = nodeNames(c.realm);
    const derived = {
      diameter: { originHost: n.icscf, originRealm: c.realm, destinationRealm: c.realm },
      homeDomains: [c.realm],
      names: [n.icscf],
      defaultVisitedNetwork: c.realm,
      trustDomain: coreTrustDomain(c),
      logLevel: c.logLevel,
    };
    const wiring = {
      sip: { listen: { host: c.host, port: c.icscf.sipPort } },
      hosts: hostTable(c),
      diameter: { hss: { host: n.hss, realm: c.realm, connect: { host: c.host, port: w.hssPort } } },
      scscfs: [{ uri: w.scscfServerName }],
    };
    return deepMerge(deepMerge(derived, c.icscf.settings), wiring);
  },
  pcscf(c: CoreConfig, w: Pick<CoreWiring, 'icscfPort'> & { scscfPort: number }): Record<string, unknown> {
    const n = nodeNames(c.realm);
    // R-SA-5: only the I-CSCF and S-CSCF ports count as the IMS core on the unprotected port (UEs
    // share the address on a lab host).
    const hp = (p: number): string => (c.host.includes(':') ? `[${c.host}]:${p}` : `${c.host}:${p}`);
    const derived = { names: [n.pcscf], visitedNetworkId: c.realm, trustedCore: [hp(w.scscfPort), hp(w.icscfPort)], logLevel: c.logLevel };
    const wiring = {
      sip: { listen: { host: c.host, port: c.pcscf.sipPort } },
      protected: { address: c.host, ports: c.pcscf.protectedPorts === null ? 'auto' : c.pcscf.protectedPorts },
      datapath: c.pcscf.datapath,
      hosts: hostTable(c),
      icscf: `sip:${n.icscf}:${w.icscfPort}`,
    };
    return deepMerge(deepMerge(derived, c.pcscf.settings), wiring);
  },
};
