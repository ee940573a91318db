/**
 * The soft UE's configuration: the ISIM identity (TS 31.103 §4.2: IMPI, IMPU, home domain; the
 * USIM keys K and OP/OPc, TS 35.206), where the P-CSCF is, its own addresses and protected
 * ports, what it offers in sec-agree (TS 33.203 Annex H) and its registration timing
 * (TS 24.229 §5.1.1.4). {@link UeConfigSchema} is the one source of the input fields, their
 * defaults and `imsec ue register --print-schema`; it takes the JSON file and the CLI flags alike
 * (numbers may be decimal strings, lists comma-separated strings). {@link parseUeConfig} checks
 * an input against it and completes it; every mistake is an InvalidArgumentError naming the field.
 */
import { createHash } from 'node:crypto';
import { Type, type Static, type TSchema } from 'typebox';
import { InvalidArgumentError, fromHex } from '../../common/index.js';
import { checkSchema, formatPath } from '../../common/schema.js';
import { computeOpc } from '../../auth/index.js';
import type { EncryptionAlg, IntegrityAlg } from '../../ipsec/index.js';
import { IPSEC_MODES, isValidAlgCombination, type IpsecMode } from '../../secagree/index.js';
import { parseUri } from '../../sip/index.js';
import { ipVersionOf } from '../../ip/index.js';
import type { TimerConfig } from '../../sip/transaction/index.js';
import type { HostTable } from '../common/index.js';
import { RESPONSE_FLOWS, type ResponseFlow } from '../../sip/transport/protected/index.js';

/** Which IPsec datapath carries the protected SIP (see src/ipsec). */
export type UeDatapathKind = 'userspace' | 'xfrm';

/**
 * The SIP transport the UE sends its requests over (TS 24.229 §5.1.1.2; TS 33.203 §7.1: the SAs
 * are shared by UDP and TCP). `tcp` needs the kernel datapath: the userspace one carries UDP only.
 */
export type UeTransportKind = 'udp' | 'tcp';

/** When to re-register (TS 24.229 §5.1.1.4.1, R-REG-3). */
export interface ReRegisterPolicy {
  /** Re-register after this fraction of the lifetime… (default 0.5) */
  fraction: number;
  /** …or this many seconds before expiry, whichever is later (default 600). */
  marginSeconds: number;
  /**
   * Turn automatic registration off (tests drive it by hand): the re-registration timer and the
   * new initial registration after a reg-event "deactivated" (TS 24.229 §5.1.1.7). Default true.
   */
  auto: boolean;
}

export interface UeConfig {
  /** Private user identity, e.g. `alice@ims.lab` (TS 23.003 §13.3). */
  impi: string;
  /** Default public user identity, e.g. `sip:alice@ims.lab`. */
  impu: string;
  /** Home network domain (realm, Request-URI of REGISTER); default: the host of the IMPU. */
  homeDomain: string;
  /** Subscriber key K (16 bytes). Secret: never logged or written to the SQN file. */
  k: Uint8Array;
  /** OPc (16 bytes), given or derived from OP (TS 35.206 §4.1). Secret. */
  opc: Uint8Array;
  /** Authentication management field the ISIM is provisioned with (informational; AUTN carries the one in use). */
  amf: number;
  /** JSON file keeping the ISIM's SQN array between runs (absent: in memory only). */
  sqnFile?: string;
  /** The P-CSCF's unprotected SIP address (host name via `hosts`, or an IP literal). */
  pcscf: { host: string; port: number };
  /** Static host table (no DNS). */
  hosts: HostTable;
  /** Local IP address the UE uses for everything. */
  localAddress: string;
  /** Unprotected SIP port (0: OS-assigned). */
  localPort: number;
  /** Protected client/server ports (0: OS-assigned; port-c changes at every re-registration). */
  protectedPorts: { client: number; server: number };
  /** Registration lifetime asked for, in seconds (Expires of REGISTER). */
  expires: number;
  /** Integrity algorithms offered, most preferred first (R-SM-1). */
  integrity: IntegrityAlg[];
  /** Encryption algorithms offered, most preferred first. */
  encryption: EncryptionAlg[];
  /** IPsec mode offered: `UDP-enc-tun` for the userspace datapath, `trans` for kernel XFRM. */
  mode: IpsecMode;
  datapath: UeDatapathKind;
  /** SIP over UDP (default) or TCP, unprotected and protected alike. */
  transport: UeTransportKind;
  reRegister: ReRegisterPolicy;
  /** SUBSCRIBE to the reg event package after registering (TS 24.229 §5.1.1.3). */
  subscribeRegEvent: boolean;
  /** SIP timers (T1, T2, T4, Timer D) in ms. */
  timers: Partial<TimerConfig>;
  /** User-Agent header value. */
  userAgent: string;
  /**
   * The instance ID of the Contact's `+sip.instance` (RFC 5626 §4.1): a URN that stays the same
   * across restarts, so the registrar replaces this UE's old binding (RFC 5626 §6). Default: a
   * name-based `urn:uuid:` of the IMPI.
   */
  instanceId: string;
  /** UDP response flow over the SAs (R-SA-3; see ProtectedTransport): default `client-to-server`. */
  responseFlow: ResponseFlow;
}

const INTEGRITY: readonly IntegrityAlg[] = ['hmac-md5-96', 'hmac-sha-1-96', 'aes-gmac', 'null'];
const ENCRYPTION: readonly EncryptionAlg[] = ['null', 'aes-cbc', 'des-ede3-cbc', 'aes-gcm'];

export const UE_DEFAULTS = {
  amf: 0x8000,
  localAddress: '127.0.0.1',
  localPort: 0,
  expires: 600_000,
  integrity: ['hmac-sha-1-96', 'hmac-md5-96'] as IntegrityAlg[],
  encryption: ['aes-cbc', 'null'] as EncryptionAlg[],
  reRegister: { fraction: 0.5, marginSeconds: 600, auto: true },
  userAgent: 'imsec-ue',
} as const;

const Text = (description?: string) => Type.String({ pattern: '\\S', errorMessage: 'must be a non-empty string', ...(description !== undefined ? { description } : {}) });
/** An integer, or its decimal digits (a CLI flag). */
const IntLike = (min: number, max: number, description?: string) =>
  Type.Union([Type.Integer({ minimum: min, maximum: max }), Type.String({ pattern: '^\\s*[0-9]+\\s*$' })], { errorMessage: `must be an integer ${min}..${max}`, ...(description !== undefined ? { description } : {}) });
const Key16 = (description: string) => Type.String({ pattern: '^\\s*(0x)?[0-9a-fA-F]{32}\\s*$', errorMessage: 'must be 32 hex digits', description });
/** A list, or its comma-separated text (a CLI flag). */
const ListLike = (allowed: readonly string[], description: string) =>
  Type.Union([Type.Array(Type.String()), Type.String()], { errorMessage: 'must be a non-empty list', description: `${description} (${allowed.join(', ')})` });

/** The input of {@link parseUeConfig}: the JSON configuration file with the CLI flags on top. */
export const UeConfigSchema = Type.Object(
  {
    impi: Text('private user identity, e.g. alice@ims.lab (TS 23.003 §13.3)'),
    impu: Text('default public user identity, a sip: URI'),
    homeDomain: Type.Optional(Text('home network domain (default: the host of the IMPU)')),
    k: Key16('subscriber key K (secret)'),
    op: Type.Optional(Key16('OP, turned into OPc (secret); give op or opc')),
    opc: Type.Optional(Key16('OPc (secret)')),
    amf: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 0xffff }), Type.String({ pattern: '^((0x)?[0-9a-fA-F]{4}|[0-9]+)$' })], { errorMessage: 'must be an integer 0..65535', description: 'AMF: 4 hex digits or an integer (default 8000 hex)' })),
    sqnFile: Type.Optional(Text('JSON file keeping the ISIM SQN array between runs')),
    pcscf: Type.Union(
      [
        Type.String({
          allOf: [
            { pattern: '^(\\[[^\\]]+\\]|[^:]+)(:[0-9]+)?$', errorMessage: 'expected HOST:PORT, got {value}' },
            { pattern: '^(?!.*:(0+|0*(6553[6-9]|655[4-9][0-9]|65[6-9][0-9]{2}|6[6-9][0-9]{3}|[7-9][0-9]{4}|[1-9][0-9]{5,}))$)', errorMessage: 'must be an integer 1..65535' },
          ],
        }),
        Type.Object({ host: Text(), port: Type.Optional(IntLike(1, 65535)) }),
      ],
      { errorMessage: 'must be HOST:PORT', description: "the P-CSCF's unprotected SIP address: HOST:PORT, HOST (port 5060) or { host, port }" },
    ),
    hosts: Type.Optional(Type.Record(Type.String(), Type.String({ errorMessage: 'must be an IP literal' }), { errorMessage: 'must be an object of name → IP', description: 'static host table (no DNS)' })),
    localAddress: Text('local IP address the UE uses for everything'),
    localPort: IntLike(0, 65535, 'unprotected SIP port (0: OS-assigned)'),
    protectedPorts: Type.Optional(Type.Object({ client: Type.Optional(IntLike(0, 65535)), server: Type.Optional(IntLike(0, 65535)) }, { errorMessage: 'must be { client, server }' })),
    expires: IntLike(1, 2 ** 31 - 1, 'registration lifetime asked for, seconds'),
    integrity: ListLike(INTEGRITY, 'integrity algorithms offered, most preferred first (R-SM-1)'),
    encryption: ListLike(ENCRYPTION, 'encryption algorithms offered, most preferred first'),
    mode: Type.Optional(ListLike(IPSEC_MODES, 'IPsec mode offered (default: UDP-enc-tun for userspace, trans for xfrm)')),
    datapath: ListLike(['userspace', 'xfrm'], 'IPsec datapath'),
    transport: Type.Optional(ListLike(['udp', 'tcp'], 'SIP transport of the requests (TS 24.229 §5.1.1.2); tcp needs the xfrm datapath')),
    reRegister: Type.Object(
      {
        fraction: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: UE_DEFAULTS.reRegister.fraction, errorMessage: 'must be a number between 0 and 1' })),
        marginSeconds: Type.Optional(IntLike(0, 2 ** 31 - 1)),
        auto: Type.Optional(Type.Boolean({ default: true, errorMessage: 'must be true or false' })),
      },
      { errorMessage: 'must be an object', description: 'when to re-register (TS 24.229 §5.1.1.4.1, R-REG-3)' },
    ),
    subscribeRegEvent: Type.Boolean({ default: true, errorMessage: 'must be true or false', description: 'SUBSCRIBE to reg after registering (TS 24.229 §5.1.1.3)' }),
    timers: Type.Object(
      { t1: Type.Optional(IntLike(1, 3_600_000)), t2: Type.Optional(IntLike(1, 3_600_000)), t4: Type.Optional(IntLike(1, 3_600_000)), d: Type.Optional(IntLike(1, 3_600_000)) },
      { additionalProperties: false, errorMessage: 'must be an object', description: 'SIP timers T1, T2, T4, D in ms' },
    ),
    userAgent: Text('User-Agent header value'),
    instanceId: Type.Optional(Type.String({ pattern: '^\\s*urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[^\\s"<>]+\\s*$', errorMessage: 'must be a URN such as urn:uuid:… or urn:gsma:imei:…', description: '+sip.instance (RFC 5626 §4.1); default a name-based urn:uuid of the IMPI' })),
    responseFlow: ListLike(RESPONSE_FLOWS, 'UDP response flow over the SAs (R-SA-3)'),
  },
  { additionalProperties: false },
);
// Defaults the flags' string forms share (set here so the schema text stays readable).
Object.assign(UeConfigSchema.properties.localAddress, { default: UE_DEFAULTS.localAddress });
Object.assign(UeConfigSchema.properties.localPort, { default: UE_DEFAULTS.localPort });
Object.assign(UeConfigSchema.properties.expires, { default: UE_DEFAULTS.expires });
Object.assign(UeConfigSchema.properties.integrity, { default: UE_DEFAULTS.integrity });
Object.assign(UeConfigSchema.properties.encryption, { default: UE_DEFAULTS.encryption });
Object.assign(UeConfigSchema.properties.datapath, { default: 'userspace' });
Object.assign(UeConfigSchema.properties.reRegister, { default: {} });
Object.assign(UeConfigSchema.properties.reRegister.properties.marginSeconds, { default: UE_DEFAULTS.reRegister.marginSeconds });
Object.assign(UeConfigSchema.properties.timers, { default: {} });
Object.assign(UeConfigSchema.properties.userAgent, { default: UE_DEFAULTS.userAgent });
Object.assign(UeConfigSchema.properties.responseFlow, { default: 'client-to-server' });

/** The JSON form of {@link UeConfig} (hex strings for keys; every default optional). */
export type UeConfigInput = Partial<Static<typeof UeConfigSchema>>;

function bad(field: string, why: string): never {
  throw new InvalidArgumentError(`${field}: ${why}`, field);
}

const num = (v: number | string): number => (typeof v === 'string' ? Number(v.trim()) : v);
const key16 = (v: string): Uint8Array => fromHex(v.trim().replace(/^0x/, ''));

function list<T extends string>(v: string | string[], field: string, allowed: readonly T[]): T[] {
  const items = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v;
  if (items.length === 0) bad(field, 'must be a non-empty list');
  return items.map((x) => {
    if (!(allowed as readonly string[]).includes(x)) bad(field, `unknown value ${JSON.stringify(x)} (allowed: ${allowed.join(', ')})`);
    return x as T;
  });
}

function checked<S extends TSchema>(schema: S, v: unknown, field: string) {
  const r = checkSchema(schema, v);
  if (r.ok) return r.value;
  const path = field === '' ? r.issue.path : [field, ...r.issue.path];
  return bad(path.length === 0 ? 'config' : formatPath(path), r.issue.message);
}

const PcscfField = UeConfigSchema.properties.pcscf;

/** `HOST:PORT`, `[v6]:PORT`, `HOST` (port 5060) or `{ host, port }`. */
export function parseHostPort(v: unknown, field: string): { host: string; port: number } {
  const p = checked(PcscfField, v, field);
  if (typeof p !== 'string') return { host: p.host.trim(), port: p.port === undefined ? 5060 : num(p.port) };
  const s = p.trim();
  const m = (/^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s))!;
  return { host: m[1], port: m[2] === undefined ? 5060 : Number(m[2]) };
}

/** Validate and complete a configuration (config file and/or CLI flags). */
export function parseUeConfig(input: UeConfigInput): UeConfig {
  if (typeof input !== 'object' || input === null) bad('config', 'must be an object');
  if (input.pcscf === undefined) bad('pcscf', 'is required (HOST:PORT)');
  if (input.k === undefined) bad('k', 'must be 32 hex digits');
  if (input.op !== undefined && input.opc !== undefined) bad('op', 'give op or opc, not both');
  if (input.op === undefined && input.opc === undefined && input.k !== undefined) bad('opc', 'op or opc is required');
  const c = checked(UeConfigSchema, input, '');
  const impi = c.impi.trim();
  const impu = c.impu.trim();
  let impuHost: string;
  try {
    const u = parseUri(impu);
    if (u.kind !== 'sip') bad('impu', 'must be a sip: URI');
    impuHost = u.host;
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw e;
    bad('impu', `not a SIP URI: ${(e as Error).message}`);
  }
  const k = key16(c.k);
  if (c.op === undefined && c.opc === undefined) bad('opc', 'op or opc is required');
  const opc = c.opc !== undefined ? key16(c.opc) : computeOpc(k, key16(c.op!));
  const amf = c.amf === undefined ? UE_DEFAULTS.amf : typeof c.amf === 'string' && /^(0x)?[0-9a-fA-F]{4}$/.test(c.amf) ? parseInt(c.amf.replace(/^0x/, ''), 16) : num(c.amf);
  if (amf > 0xffff) bad('amf', 'must be an integer 0..65535');
  const pcscf = parseHostPort(c.pcscf, 'pcscf');
  if (pcscf.port < 1 || pcscf.port > 65535) bad('pcscf', 'must be an integer 1..65535');
  const hosts: Record<string, string> = {};
  for (const [name, addr] of Object.entries(c.hosts ?? {})) {
    if (ipVersionOf(addr) === 0) bad(`hosts.${name}`, 'must be an IP literal');
    hosts[name] = addr;
  }
  const localAddress = c.localAddress.trim();
  if (ipVersionOf(localAddress) === 0) bad('localAddress', 'must be an IP literal');
  const ints: [string, number | string | undefined, number, number][] = [
    ['localPort', c.localPort, 0, 65535],
    ['expires', c.expires, 1, 2 ** 31 - 1],
    ['protectedPorts.client', c.protectedPorts?.client, 0, 65535],
    ['protectedPorts.server', c.protectedPorts?.server, 0, 65535],
    ['reRegister.marginSeconds', c.reRegister.marginSeconds, 0, 2 ** 31 - 1],
    ...Object.entries(c.timers).map(([t, v]): [string, number | string | undefined, number, number] => [`timers.${t}`, v, 1, 3_600_000]),
  ];
  for (const [field, v, min, max] of ints) if (v !== undefined && (num(v) < min || num(v) > max)) bad(field, `must be an integer ${min}..${max}`);
  const protectedPorts = { client: num(c.protectedPorts?.client ?? 0), server: num(c.protectedPorts?.server ?? 0) };
  if (protectedPorts.client !== 0 && protectedPorts.client === protectedPorts.server) bad('protectedPorts', 'client and server ports must differ');
  const integrity = list(c.integrity, 'integrity', INTEGRITY);
  const encryption = list(c.encryption, 'encryption', ENCRYPTION);
  if (!integrity.some((a) => encryption.some((e) => isValidAlgCombination(a, e)))) bad('integrity', 'no usable (integrity, encryption) pair (null integrity needs aes-gcm)');
  const datapath = list([c.datapath].flat(), 'datapath', ['userspace', 'xfrm'] as const)[0];
  const mode = c.mode === undefined ? (datapath === 'userspace' ? 'UDP-enc-tun' : 'trans') : list([c.mode].flat(), 'mode', IPSEC_MODES)[0];
  if (datapath === 'userspace' && mode !== 'UDP-enc-tun') bad('mode', 'the userspace datapath carries mod=UDP-enc-tun only');
  const transport: UeTransportKind = c.transport === undefined ? 'udp' : list([c.transport].flat(), 'transport', ['udp', 'tcp'] as const)[0];
  if (transport === 'tcp' && datapath !== 'xfrm') bad('transport', 'SIP over TCP needs the xfrm datapath (the userspace datapath carries UDP only)');
  const timers: Partial<TimerConfig> = Object.fromEntries(Object.entries(c.timers).map(([t, v]) => [t, num(v)]));
  return {
    impi,
    impu,
    homeDomain: c.homeDomain === undefined ? impuHost : c.homeDomain.trim(),
    k,
    opc,
    amf,
    sqnFile: c.sqnFile?.trim(),
    pcscf,
    hosts,
    localAddress,
    localPort: num(c.localPort),
    protectedPorts,
    expires: num(c.expires),
    integrity,
    encryption,
    mode,
    datapath,
    transport,
    reRegister: {
      fraction: c.reRegister.fraction ?? UE_DEFAULTS.reRegister.fraction,
      marginSeconds: num(c.reRegister.marginSeconds ?? UE_DEFAULTS.reRegister.marginSeconds),
      auto: c.reRegister.auto ?? UE_DEFAULTS.reRegister.auto,
    },
    subscribeRegEvent: c.subscribeRegEvent,
    timers,
    userAgent: c.userAgent.trim(),
    instanceId: c.instanceId === undefined ? defaultInstanceId(impi) : c.instanceId.trim(),
    responseFlow: list([c.responseFlow].flat(), 'responseFlow', RESPONSE_FLOWS)[0],
  };
}

/**
 * RFC 4122 §4.3 name-based UUID (SHA-1, version 5) of the IMPI in the URL namespace, as a
 * `urn:uuid:` (RFC 5626 §4.1 wants an instance ID that survives restarts).
 */
export function defaultInstanceId(impi: string): string {
  const ns = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');
  const h = createHash('sha1').update(ns).update(impi).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `urn:uuid:${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
