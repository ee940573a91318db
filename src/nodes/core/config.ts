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
import { Type, type StaticDecode } from 'typebox';
import { HostPortField, isObj, LogLevel, NodeConfigError, OneOf, parseField, parseNodeConfig, PortRangeField, Section, Str, Strs, type HostPort } from '../common/index.js';
import { parseSubscriberInput } from '../hss/index.js';
import { DEMO_SUBSCRIBERS, type CoreSubscriber } from './subscribers.js';

/** A core configuration that cannot be used (CLI exit 2). */
export class CoreConfigError extends NodeConfigError {}

/** The redaction marker of secrets in printed configurations. */
export const SECRET_MARK = '[secret]';

export type CoreHostPort = HostPort;

export const DEFAULT_CORE_DATA_DIR = './.imsec';

const Port = (port: number) => Type.Integer({ minimum: 0, maximum: 65535, default: port, errorMessage: 'must be a port number 0..65535 (0: chosen by the OS)' });

/**
 * The path MTU between the nodes of `imsec core`: they all bind one host address, so their SIP
 * stays on this host (the loopback device, MTU 65,536). RFC 3261 §18.1.1 then lets UDP carry large
 * requests (a reg-event NOTIFY with a long reginfo, a long MESSAGE) instead of moving them to TCP
 * from an ephemeral port, which the P-CSCF would not take for the core's (its trusted-core
 * entries are port-qualified: UEs may share the core's address on a lab host).
 */
const LOCAL_PATH_MTU = 65_536;

/** That node's own configuration keys (nodes/<node>/config.ts), checked by that node's parser. */
const Settings = Type.Record(Type.String(), Type.Unknown(), { default: {}, errorMessage: "must be an object (that node's own configuration keys)", description: "further settings of that node's own configuration (its --print-schema)" });

const RANGE_MESSAGE = 'must be "MIN-MAX" (at least two ports) or "auto"';
const PortRange = PortRangeField(RANGE_MESSAGE, Type.Integer({ errorMessage: RANGE_MESSAGE }), {
  default: '5100-5108',
  description: 'the P-CSCF protected ports: port_ps, then the port_pc pool; "auto": chosen by the OS',
});

const SECRET_HEX = Type.String({ pattern: '^[0-9a-fA-F]{32}$', errorMessage: 'must be 16 bytes (32 hex digits)' });
/** A key in hex, or `"[secret]"`: the built-in key of a demo subscriber. */
const Secret = Type.Union([Type.Literal(SECRET_MARK), SECRET_HEX], { errorMessage: 'must be 16 bytes (32 hex digits)' });

const SubscriberField = Type.Object(
  {
    impi: Str(),
    impus: Strs({ minItems: 1, errorMessage: 'must list at least one public identity', description: 'public identities, the first the default; all in implicit set 1' }),
    k: Secret,
    op: Type.Optional(Secret),
    opc: Type.Optional(Secret),
    amf: Type.Optional(Str({ description: '4 hex digits, default 8000' })),
  },
  { additionalProperties: false, errorMessage: 'must be an object { impi, impus, k, op | opc, amf }' },
);

/** The core configuration document (see the module comment). */
export const CoreConfigSchema = Type.Object(
  {
    realm: Str({ default: 'ims.lab', description: 'home domain; the nodes are hss.<realm>, scscf.<realm>, icscf.<realm>, pcscf.<realm>' }),
    host: Str({ default: '127.0.0.1', description: 'the address every node binds' }),
    dataDir: Str({ default: DEFAULT_CORE_DATA_DIR, description: 'directory of the embedded SQLite stores (hss.sqlite, scscf.sqlite)' }),
    hss: Section({
      diameterPort: Port(3868),
      rest: Type.Codec(Type.Union([Type.Null(), Type.Literal('off'), HostPortField()], { default: null, errorMessage: 'must be "HOST:PORT", { "host", "port" } or null', description: 'the provisioning REST API; null or "off": none' }))
        .Decode((v): CoreHostPort | null => (v === null || v === 'off' ? null : v))
        .Encode((v) => v),
      settings: Settings,
    }),
    scscf: Section({ sipPort: Port(6060), settings: Settings }),
    icscf: Section({ sipPort: Port(4060), settings: Settings }),
    pcscf: Section({
      sipPort: Port(5060),
      protectedPorts: PortRange,
      datapath: OneOf(['userspace', 'xfrm'] as const, 'must be "userspace" (default) or "xfrm" (kernel IPsec, needs root and ESP in the kernel)', { default: 'userspace' }),
      settings: Settings,
    }),
    subscribers: Type.Optional(Type.Array(SubscriberField, { errorMessage: 'must be a list', description: 'subscribers to provision (default: the demo subscribers alice and bob; [] for none)' })),
    logLevel: LogLevel,
  },
  { additionalProperties: false },
);

type Decoded = StaticDecode<typeof CoreConfigSchema>;

/** The configuration (see the module comment). */
export type CoreConfig = Omit<Decoded, 'subscribers'> & { subscribers: CoreSubscriber[] };
export type CoreDatapath = CoreConfig['pcscf']['datapath'];

/** The lab core: default ports of the node conventions, the two demo subscribers. */
export function defaultCoreConfig(): CoreConfig {
  return parseCoreConfig({});
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

/** `HOST:PORT`, `[v6]:PORT` or `{ "host", "port" }`. */
export function parseCoreHostPort(v: unknown, field: string): CoreHostPort {
  return parseField(HostPortField(), v, field, CoreConfigError);
}

/** A secret field: hex as given (lower case), or the built-in value when redacted. */
function secret(v: string | undefined, field: string, builtin: string | undefined): string | undefined {
  if (v !== SECRET_MARK) return v?.toLowerCase();
  if (builtin === undefined) throw new CoreConfigError(`is redacted (${SECRET_MARK}); write the real value (32 hex digits) here`, field);
  return builtin;
}

function subscriber(v: Decoded['subscribers'] extends (infer S)[] | undefined ? S : never, i: number): CoreSubscriber {
  const field = `subscribers[${i}]`;
  const builtin = DEMO_SUBSCRIBERS.find((d) => d.impi === v.impi);
  const s: CoreSubscriber = { impi: v.impi, impus: v.impus, k: secret(v.k, `${field}.k`, builtin?.k)! };
  const op = secret(v.op, `${field}.op`, builtin?.op);
  const opc = secret(v.opc, `${field}.opc`, builtin?.opc);
  if ((op === undefined) === (opc === undefined)) throw new CoreConfigError('give exactly one of op and opc', `${field}.op`);
  if (op !== undefined) s.op = op;
  if (opc !== undefined) s.opc = opc;
  if (v.amf !== undefined) s.amf = v.amf;
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
  const d = parseNodeConfig(CoreConfigSchema, raw, CoreConfigError);
  const realm = d.realm.toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(realm)) throw new CoreConfigError('must be a domain name', 'realm');
  const r = d.pcscf.protectedPorts;
  if (r !== null && (r.min < 1 || r.max > 65535 || r.max <= r.min)) throw new CoreConfigError(RANGE_MESSAGE, 'pcscf.protectedPorts');
  for (const node of ['hss', 'scscf', 'icscf', 'pcscf'] as const) d[node].settings = jsonData(d[node].settings, `${node}.settings`) as Record<string, unknown>;
  const subscribers = d.subscribers === undefined ? DEMO_SUBSCRIBERS.map((s) => ({ ...s, impus: [...s.impus] })) : d.subscribers.map(subscriber);
  const seen = new Set<string>();
  for (const [n, sub] of subscribers.entries()) {
    if (seen.has(sub.impi)) throw new CoreConfigError(`IMPI ${sub.impi} is listed twice`, `subscribers[${n}].impi`);
    seen.add(sub.impi);
  }
  return { ...d, realm, subscribers };
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
  for (const [k, v] of Object.entries(over)) out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k], v) : v;
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
      sip: { pathMtu: LOCAL_PATH_MTU },
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
      sip: { pathMtu: LOCAL_PATH_MTU },
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
