/**
 * The soft UE's configuration: the ISIM identity (TS 31.103 §4.2: IMPI, IMPU, home domain; the
 * USIM keys K and OP/OPc, TS 35.206), where the P-CSCF is, its own addresses and protected
 * ports, what it offers in sec-agree (TS 33.203 Annex H) and its registration timing
 * (TS 24.229 §5.1.1.4). {@link parseUeConfig} validates a JSON-shaped object (config file or
 * CLI flags) and fills the defaults; every mistake is an InvalidArgumentError naming the field.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError, fromHex } from '../../common/index.js';
import { computeOpc } from '../../auth/index.js';
import type { EncryptionAlg, IntegrityAlg } from '../../ipsec/index.js';
import { IPSEC_MODES, isValidAlgCombination, type IpsecMode } from '../../secagree/index.js';
import { parseUri } from '../../sip/index.js';
import { ipFamily } from '../../sip/transport/endpoint.js';
import type { TimerConfig } from '../../sip/transaction/timers.js';
import type { HostTable } from '../common/index.js';
import { RESPONSE_FLOWS, type ResponseFlow } from '../../sip/transport/protected/flows.js';

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

/** The JSON form of {@link UeConfig} (hex strings for keys; every default optional). */
export interface UeConfigInput {
  impi?: unknown;
  impu?: unknown;
  homeDomain?: unknown;
  k?: unknown;
  op?: unknown;
  opc?: unknown;
  amf?: unknown;
  sqnFile?: unknown;
  pcscf?: unknown;
  hosts?: unknown;
  localAddress?: unknown;
  localPort?: unknown;
  protectedPorts?: unknown;
  expires?: unknown;
  integrity?: unknown;
  encryption?: unknown;
  mode?: unknown;
  datapath?: unknown;
  transport?: unknown;
  reRegister?: unknown;
  subscribeRegEvent?: unknown;
  timers?: unknown;
  userAgent?: unknown;
  instanceId?: unknown;
  responseFlow?: unknown;
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

function bad(field: string, why: string): never {
  throw new InvalidArgumentError(`${field}: ${why}`, field);
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.trim() === '') bad(field, 'must be a non-empty string');
  return v.trim();
}

function int(v: unknown, field: string, min: number, max: number): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) bad(field, `must be an integer ${min}..${max}`);
  return n;
}

function key16(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string' || !/^(0x)?[0-9a-fA-F]{32}$/.test(v.trim())) bad(field, 'must be 32 hex digits');
  return fromHex(v.trim().replace(/^0x/, ''));
}

function list<T extends string>(v: unknown, field: string, allowed: readonly T[]): T[] {
  const items = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v;
  if (!Array.isArray(items) || items.length === 0) bad(field, 'must be a non-empty list');
  return items.map((x) => {
    if (typeof x !== 'string' || !(allowed as readonly string[]).includes(x)) bad(field, `unknown value ${JSON.stringify(x)} (allowed: ${allowed.join(', ')})`);
    return x as T;
  });
}

/** `HOST:PORT`, `[v6]:PORT`, `HOST` (port 5060) or `{ host, port }`. */
export function parseHostPort(v: unknown, field: string): { host: string; port: number } {
  if (typeof v === 'object' && v !== null) {
    const o = v as { host?: unknown; port?: unknown };
    return { host: str(o.host, `${field}.host`), port: o.port === undefined ? 5060 : int(o.port, `${field}.port`, 1, 65535) };
  }
  const s = str(v, field);
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  if (!m) bad(field, `expected HOST:PORT, got ${JSON.stringify(s)}`);
  return { host: m[1], port: m[2] === undefined ? 5060 : int(m[2], field, 1, 65535) };
}

/** Validate and complete a configuration (config file and/or CLI flags). */
export function parseUeConfig(input: UeConfigInput): UeConfig {
  if (typeof input !== 'object' || input === null) bad('config', 'must be an object');
  const impi = str(input.impi, 'impi');
  const impu = str(input.impu, 'impu');
  let impuHost: string;
  try {
    const u = parseUri(impu);
    if (u.kind !== 'sip') bad('impu', 'must be a sip: URI');
    impuHost = u.host;
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw e;
    bad('impu', `not a SIP URI: ${(e as Error).message}`);
  }
  const homeDomain = input.homeDomain === undefined ? impuHost : str(input.homeDomain, 'homeDomain');
  const k = key16(input.k, 'k');
  if (input.op !== undefined && input.opc !== undefined) bad('op', 'give op or opc, not both');
  if (input.op === undefined && input.opc === undefined) bad('opc', 'op or opc is required');
  const opc = input.opc !== undefined ? key16(input.opc, 'opc') : computeOpc(k, key16(input.op, 'op'));
  const amf = input.amf === undefined ? UE_DEFAULTS.amf : typeof input.amf === 'string' && /^(0x)?[0-9a-fA-F]{4}$/.test(input.amf) ? parseInt(input.amf.replace(/^0x/, ''), 16) : int(input.amf, 'amf', 0, 0xffff);
  if (input.pcscf === undefined) bad('pcscf', 'is required (HOST:PORT)');
  const pcscf = parseHostPort(input.pcscf, 'pcscf');
  const hosts: Record<string, string> = {};
  if (input.hosts !== undefined) {
    if (typeof input.hosts !== 'object' || input.hosts === null || Array.isArray(input.hosts)) bad('hosts', 'must be an object of name → IP');
    for (const [name, addr] of Object.entries(input.hosts)) {
      if (typeof addr !== 'string' || ipFamily(addr) === 0) bad(`hosts.${name}`, 'must be an IP literal');
      hosts[name] = addr;
    }
  }
  const localAddress = input.localAddress === undefined ? UE_DEFAULTS.localAddress : str(input.localAddress, 'localAddress');
  if (ipFamily(localAddress) === 0) bad('localAddress', 'must be an IP literal');
  const localPort = input.localPort === undefined ? 0 : int(input.localPort, 'localPort', 0, 65535);
  let protectedPorts = { client: 0, server: 0 };
  if (input.protectedPorts !== undefined) {
    const p = input.protectedPorts as { client?: unknown; server?: unknown };
    if (typeof p !== 'object' || p === null) bad('protectedPorts', 'must be { client, server }');
    protectedPorts = { client: p.client === undefined ? 0 : int(p.client, 'protectedPorts.client', 0, 65535), server: p.server === undefined ? 0 : int(p.server, 'protectedPorts.server', 0, 65535) };
    if (protectedPorts.client !== 0 && protectedPorts.client === protectedPorts.server) bad('protectedPorts', 'client and server ports must differ');
  }
  const expires = input.expires === undefined ? UE_DEFAULTS.expires : int(input.expires, 'expires', 1, 2 ** 31 - 1);
  const integrity = input.integrity === undefined ? [...UE_DEFAULTS.integrity] : list(input.integrity, 'integrity', INTEGRITY);
  const encryption = input.encryption === undefined ? [...UE_DEFAULTS.encryption] : list(input.encryption, 'encryption', ENCRYPTION);
  if (!integrity.some((a) => encryption.some((e) => isValidAlgCombination(a, e)))) bad('integrity', 'no usable (integrity, encryption) pair (null integrity needs aes-gcm)');
  const datapath = input.datapath === undefined ? 'userspace' : (list([input.datapath].flat(), 'datapath', ['userspace', 'xfrm'] as const)[0] as UeDatapathKind);
  const mode = input.mode === undefined ? (datapath === 'userspace' ? 'UDP-enc-tun' : 'trans') : list([input.mode].flat(), 'mode', IPSEC_MODES)[0];
  if (datapath === 'userspace' && mode !== 'UDP-enc-tun') bad('mode', 'the userspace datapath carries mod=UDP-enc-tun only');
  const transport = input.transport === undefined ? 'udp' : (list([input.transport].flat(), 'transport', ['udp', 'tcp'] as const)[0] as UeTransportKind);
  if (transport === 'tcp' && datapath !== 'xfrm') bad('transport', 'SIP over TCP needs the xfrm datapath (the userspace datapath carries UDP only)');
  const rr = (input.reRegister ?? {}) as { fraction?: unknown; marginSeconds?: unknown; auto?: unknown };
  if (typeof rr !== 'object' || rr === null) bad('reRegister', 'must be an object');
  const fraction = rr.fraction === undefined ? UE_DEFAULTS.reRegister.fraction : rr.fraction;
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) bad('reRegister.fraction', 'must be a number between 0 and 1');
  const reRegister: ReRegisterPolicy = {
    fraction,
    marginSeconds: rr.marginSeconds === undefined ? UE_DEFAULTS.reRegister.marginSeconds : int(rr.marginSeconds, 'reRegister.marginSeconds', 0, 2 ** 31 - 1),
    auto: rr.auto === undefined ? true : bool(rr.auto, 'reRegister.auto'),
  };
  const subscribeRegEvent = input.subscribeRegEvent === undefined ? true : bool(input.subscribeRegEvent, 'subscribeRegEvent');
  const timers: Partial<TimerConfig> = {};
  if (input.timers !== undefined) {
    if (typeof input.timers !== 'object' || input.timers === null) bad('timers', 'must be an object');
    for (const [name, v] of Object.entries(input.timers)) {
      if (!['t1', 't2', 't4', 'd'].includes(name)) bad(`timers.${name}`, 'unknown timer (t1, t2, t4, d)');
      (timers as Record<string, number>)[name] = int(v, `timers.${name}`, 1, 3_600_000);
    }
  }
  return {
    impi,
    impu,
    homeDomain,
    k,
    opc,
    amf,
    sqnFile: input.sqnFile === undefined ? undefined : str(input.sqnFile, 'sqnFile'),
    pcscf,
    hosts,
    localAddress,
    localPort,
    protectedPorts,
    expires,
    integrity,
    encryption,
    mode,
    datapath,
    transport,
    reRegister,
    subscribeRegEvent,
    timers,
    userAgent: input.userAgent === undefined ? UE_DEFAULTS.userAgent : str(input.userAgent, 'userAgent'),
    instanceId: input.instanceId === undefined ? defaultInstanceId(impi) : instanceUrn(input.instanceId),
    responseFlow: input.responseFlow === undefined ? 'client-to-server' : list([input.responseFlow].flat(), 'responseFlow', RESPONSE_FLOWS)[0],
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

function instanceUrn(v: unknown): string {
  const u = str(v, 'instanceId');
  // RFC 5626 §4.1: a URN (RFC 2141); it is quoted inside <> in the Contact, so no quote or angle bracket.
  if (!/^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[^\s"<>]+$/.test(u)) bad('instanceId', 'must be a URN such as urn:uuid:… or urn:gsma:imei:…');
  return u;
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') bad(field, 'must be true or false');
  return v;
}
