/**
 * P-CSCF configuration: a JSON file (`imsec pcscf --config FILE`) mapped onto a typed object
 * with defaults, so an empty file runs the lab P-CSCF of the default deployment (SIP
 * 127.0.0.1:5060 over UDP and TCP, protected ports 5100–5108, I-CSCF sip:icscf.ims.lab:4060):
 *
 * ```json
 * {
 *   "sip": { "listen": "127.0.0.1:5060", "protocols": ["udp", "tcp"], "t1Ms": 500 },
 *   "protected": { "address": "127.0.0.1", "ports": "5100-5108", "responseFlow": "client-to-server" },
 *   "icscf": "sip:icscf.ims.lab:4060",
 *   "hosts": { "icscf.ims.lab": "127.0.0.1", "scscf.ims.lab": "127.0.0.1" },
 *   "names": ["pcscf.ims.lab"],
 *   "visitedNetworkId": "ims.lab",
 *   "policy": { "algs": ["aes-gmac", "hmac-sha-1-96", "hmac-md5-96", "null"], "ealgs": ["aes-gcm", "aes-cbc", "des-ede3-cbc", "null"] },
 *   "datapath": "userspace",
 *   "registrationTimerMs": 240000,
 *   "trustedCore": ["127.0.0.1"],
 *   "regEvent": { "subscribe": true, "expires": 600000 }
 * }
 * ```
 *
 * - `protected.ports`: the protected ports (TS 33.203 §7.1): the first is port_ps, the one
 *   protected server port of every UE's SAs (it never changes, R-RR-1); the next ones (up to
 *   eight) are the pool each new set takes its port_pc from. `"auto"` lets the OS pick them
 *   (tests run in parallel). All are bound at start and kept: the SAs are told apart by SPI.
 * - `protected.responseFlow`: how UDP responses travel over the SAs (R-SA-3):
 *   `client-to-server` (default; TS 24.229 §5.1.1.2.2: from port_pc to the UE's port_us, as
 *   phones and Kamailio expect) or `server-to-client` (the Rel-5 pairing: from port_ps back to
 *   the request's port_uc).
 * - `policy`: sec-agree policy of TS 33.203 Annex H (R-SM-2): acceptable integrity and
 *   encryption algorithms, most preferred first; it decides, the UE's q only breaks ties
 *   (`honourQ: true` lets the UE's q decide). NULL integrity is only ever taken with aes-gcm.
 *   The mode follows the datapath: `UDP-enc-tun` (RFC 3948) for the userspace backend,
 *   `trans` for kernel XFRM.
 * - `registrationTimerMs`: reg-await-auth, the lifetime of the temporary SAs between the 401
 *   and the protected REGISTER (TS 24.229 §5.2.2.1 and Table 7.8.1: 4 minutes, R-SA-7,
 *   R-FAIL-1); when it runs out the attempt is abandoned.
 * - `overload`: caps on half-open registrations (attempts opened by an unprotected REGISTER):
 *   one per IMPI (the newest replaces the older), `attemptsPerAddress` per UE address (32),
 *   `attemptsTotal` in all (20000); beyond them 503 with `Retry-After: retryAfterSeconds` (30).
 *   Re-registrations of registered UEs run over their SAs and are never capped.
 * - `trustedCore`: sources (`ip` or `ip:port`) whose requests on the unprotected port are taken
 *   as coming from the IMS core (terminating requests, reg-event NOTIFYs). Everything else on
 *   that port must be a REGISTER (R-SA-5).
 * - `privacy.ueTrusted`: whether the UE is inside the trust domain of RFC 3325; when false
 *   P-Asserted-Identity is always removed towards it (R-ANON-1).
 *
 * Parsing is pure; the CLI reads the file.
 */
import { DEFAULT_PCSCF_POLICY, type EncryptionAlgName, type IntegrityAlgName } from '../../secagree/index.js';
import { RESPONSE_FLOWS, type ResponseFlow } from '../../sip/transport/protected/flows.js';
import { isValidAlgCombination } from '../../secagree/index.js';
import { parseUri } from '../../sip/headers/index.js';
import { ipFamily } from '../../sip/transport/endpoint.js';
import { configFields, isObj, type HostPort } from '../common/config-fields.js';
import { PcscfConfigError } from './errors.js';
import type { OverloadLimits } from './ports.js';

export type { HostPort };

export type PcscfDatapathKind = 'userspace' | 'xfrm';

export interface PcscfConfig {
  sip: {
    listen: HostPort;
    protocols: ('udp' | 'tcp')[];
    /** Host written into Via sent-by, Path and Record-Route (default: the listen address). */
    advertisedHost?: string;
    /** RFC 3261 T1 in ms (Timer F = 64·T1). Default 500. */
    t1Ms: number;
  };
  protected: {
    /** Local address of the SAs (default: the listen address). */
    address?: string;
    /** Protected ports: port_ps, then the port_pc pool; null for OS-assigned ports. */
    ports: { min: number; max: number } | null;
    /** UDP response flow over the SAs (R-SA-3). */
    responseFlow: ResponseFlow;
  };
  /** Where REGISTERs go (TS 24.229 §5.2.2.1): the I-CSCF of the home network. */
  icscf: string;
  hosts: Record<string, string>;
  /** Host names that mean this P-CSCF in Route headers (besides its addresses). */
  names: string[];
  /** P-Visited-Network-ID value (TS 24.229 §5.2.2.1). */
  visitedNetworkId: string;
  policy: { algs: IntegrityAlgName[]; ealgs: EncryptionAlgName[]; honourQ: boolean };
  datapath: PcscfDatapathKind;
  /** `ip -n NETNS` for the xfrm datapath (default: the current namespace). */
  xfrmNetns?: string;
  registrationTimerMs: number;
  /** Caps on registration attempts (half-open registrations), see {@link OverloadLimits}. */
  overload: OverloadLimits;
  /** R-SA-6: SA sets (one SA per direction per transport each) per IMPI. */
  maxSetsPerImpi: number;
  trustedCore: string[];
  regEvent: { subscribe: boolean; expires: number };
  privacy: { ueTrusted: boolean };
  logLevel: string;
}

export const DEFAULT_PCSCF_SIP_PORT = 5060;
export const DEFAULT_PROTECTED_PORTS = { min: 5100, max: 5108 } as const;

/** The default lab P-CSCF (see the module comment). */
export function defaultPcscfConfig(): PcscfConfig {
  return {
    sip: { listen: { host: '127.0.0.1', port: DEFAULT_PCSCF_SIP_PORT }, protocols: ['udp', 'tcp'], t1Ms: 500 },
    protected: { ports: { ...DEFAULT_PROTECTED_PORTS }, responseFlow: 'client-to-server' },
    icscf: 'sip:icscf.ims.lab:4060',
    hosts: { 'icscf.ims.lab': '127.0.0.1', 'scscf.ims.lab': '127.0.0.1', 'hss.ims.lab': '127.0.0.1', 'pcscf.ims.lab': '127.0.0.1' },
    names: ['pcscf.ims.lab'],
    visitedNetworkId: 'ims.lab',
    policy: { algs: [...DEFAULT_PCSCF_POLICY.algs], ealgs: [...DEFAULT_PCSCF_POLICY.ealgs], honourQ: false },
    datapath: 'userspace',
    registrationTimerMs: 240_000,
    overload: { attemptsPerAddress: 32, attemptsTotal: 20_000, retryAfterSeconds: 30 },
    maxSetsPerImpi: 3,
    trustedCore: ['127.0.0.1', '::1'],
    regEvent: { subscribe: true, expires: 600_000 },
    privacy: { ueTrusted: true },
    logLevel: 'info',
  };
}

const fields = configFields(PcscfConfigError);
const { str, int, bool, strs, known, section, logLevel } = fields;

/** `HOST:PORT`, `[v6]:PORT` or `{ "host", "port" }`; port 0 lets the OS choose. */
export const parseHostPort: (v: unknown, field: string) => HostPort = fields.hostPort;

/** `"MIN-MAX"`, `{ "min", "max" }` or `"auto"` (null: OS-assigned). */
export function parsePortRange(v: unknown, field: string): { min: number; max: number } | null {
  if (v === 'auto' || v === null) return null;
  let min: number;
  let max: number;
  if (isObj(v)) {
    known(v, ['min', 'max'], field);
    min = int(v.min, `${field}.min`, 1, 65535);
    max = int(v.max, `${field}.max`, 1, 65535);
  } else {
    const m = /^(\d+)-(\d+)$/.exec(str(v, field).trim());
    if (m === null) throw new PcscfConfigError('expected "MIN-MAX" or "auto"', field);
    min = int(Number(m[1]), field, 1, 65535);
    max = int(Number(m[2]), field, 1, 65535);
  }
  // Two ports per registration: a range of one port cannot hold a single registration.
  if (max - min < 1) throw new PcscfConfigError('needs at least two ports (min < max)', field);
  return { min, max };
}

const INTEGRITY: readonly string[] = ['hmac-md5-96', 'hmac-sha-1-96', 'aes-gmac', 'null'];
const ENCRYPTION: readonly string[] = ['null', 'aes-cbc', 'des-ede3-cbc', 'aes-gcm'];

function algList<T extends string>(v: unknown, field: string, allowed: readonly string[]): T[] {
  const list = strs(v, field).map((x) => x.toLowerCase());
  if (list.length === 0) throw new PcscfConfigError('must name at least one algorithm', field);
  for (const a of list) if (!allowed.includes(a)) throw new PcscfConfigError(`unknown algorithm ${JSON.stringify(a)} (known: ${allowed.join(', ')})`, field);
  return [...new Set(list)] as T[];
}

function checkTrusted(list: string[], field: string): void {
  list.forEach((e, i) => {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(e) ?? /^([^:]+):(\d+)$/.exec(e);
    const ip = m ? m[1] : e;
    if (ipFamily(ip) === 0) throw new PcscfConfigError('must be an IP address or IP:PORT', `${field}[${i}]`);
    if (m) int(Number(m[2]), `${field}[${i}]`, 1, 65535);
  });
}

/**
 * Checks a parsed JSON configuration and fills in the defaults; unknown keys are refused.
 * @throws PcscfConfigError (code CONFIG) naming the field.
 */
export function parsePcscfConfig(raw: unknown): PcscfConfig {
  if (!isObj(raw)) throw new PcscfConfigError('the configuration must be a JSON object', 'config');
  known(
    raw,
    ['sip', 'protected', 'icscf', 'hosts', 'names', 'visitedNetworkId', 'policy', 'datapath', 'xfrmNetns', 'registrationTimerMs', 'overload', 'maxSetsPerImpi', 'trustedCore', 'regEvent', 'privacy', 'logLevel'],
    '',
  );
  const c = defaultPcscfConfig();
  const s = section(raw, 'sip', ['listen', 'protocols', 'advertisedHost', 't1Ms']);
  if (s) {
    if (s.listen !== undefined) c.sip.listen = parseHostPort(s.listen, 'sip.listen');
    if (s.protocols !== undefined) {
      const p = strs(s.protocols, 'sip.protocols').map((x) => x.toLowerCase());
      if (p.length === 0 || p.some((x) => x !== 'udp' && x !== 'tcp')) throw new PcscfConfigError('must list udp and/or tcp', 'sip.protocols');
      if (!p.includes('udp')) throw new PcscfConfigError('must include udp (the UE registers over UDP, TS 24.229 §5.2.2)', 'sip.protocols');
      c.sip.protocols = [...new Set(p)] as ('udp' | 'tcp')[];
    }
    if (s.advertisedHost !== undefined) c.sip.advertisedHost = str(s.advertisedHost, 'sip.advertisedHost');
    if (s.t1Ms !== undefined) c.sip.t1Ms = int(s.t1Ms, 'sip.t1Ms', 10, 10_000);
  }
  if (ipFamily(c.sip.listen.host) === 0) throw new PcscfConfigError('must be an IP address', 'sip.listen.host');
  if (raw.protected !== undefined) {
    const p = raw.protected;
    if (!isObj(p)) throw new PcscfConfigError('must be { "address", "ports", "responseFlow" }', 'protected');
    known(p, ['address', 'ports', 'responseFlow'], 'protected');
    if (p.responseFlow !== undefined) {
      const f = str(p.responseFlow, 'protected.responseFlow');
      if (!(RESPONSE_FLOWS as readonly string[]).includes(f)) throw new PcscfConfigError(`must be one of ${RESPONSE_FLOWS.join(', ')}`, 'protected.responseFlow');
      c.protected.responseFlow = f as ResponseFlow;
    }
    if (p.address !== undefined) {
      c.protected.address = str(p.address, 'protected.address');
      if (ipFamily(c.protected.address) === 0) throw new PcscfConfigError('must be an IP address', 'protected.address');
    }
    if (p.ports !== undefined) c.protected.ports = parsePortRange(p.ports, 'protected.ports');
  }
  if (raw.icscf !== undefined) c.icscf = str(raw.icscf, 'icscf');
  try {
    const u = parseUri(c.icscf);
    if (u.kind !== 'sip') throw new Error('not a SIP URI');
  } catch {
    throw new PcscfConfigError('must be a sip: URI', 'icscf');
  }
  if (raw.hosts !== undefined) {
    if (!isObj(raw.hosts)) throw new PcscfConfigError('must map host names to addresses', 'hosts');
    c.hosts = Object.fromEntries(
      Object.entries(raw.hosts).map(([k, v]) => {
        const a = str(v, `hosts.${k}`);
        if (ipFamily(a) === 0) throw new PcscfConfigError('must be an IP address', `hosts.${k}`);
        return [k, a];
      }),
    );
  }
  if (raw.names !== undefined) c.names = strs(raw.names, 'names');
  if (raw.visitedNetworkId !== undefined) c.visitedNetworkId = str(raw.visitedNetworkId, 'visitedNetworkId');
  if (raw.policy !== undefined) {
    const p = raw.policy;
    if (!isObj(p)) throw new PcscfConfigError('must be { "algs", "ealgs" }', 'policy');
    known(p, ['algs', 'ealgs', 'honourQ'], 'policy');
    if (p.honourQ !== undefined) c.policy.honourQ = bool(p.honourQ, 'policy.honourQ');
    if (p.algs !== undefined) c.policy.algs = algList<IntegrityAlgName>(p.algs, 'policy.algs', INTEGRITY);
    if (p.ealgs !== undefined) c.policy.ealgs = algList<EncryptionAlgName>(p.ealgs, 'policy.ealgs', ENCRYPTION);
    if (!c.policy.algs.some((a) => c.policy.ealgs.some((e) => isValidAlgCombination(a, e)))) {
      throw new PcscfConfigError('no (alg, ealg) pair of the policy is a valid transform (NULL integrity only with aes-gcm)', 'policy');
    }
  }
  if (raw.datapath !== undefined) {
    if (raw.datapath !== 'userspace' && raw.datapath !== 'xfrm') throw new PcscfConfigError('must be "userspace" or "xfrm"', 'datapath');
    c.datapath = raw.datapath;
  }
  if (raw.xfrmNetns !== undefined) c.xfrmNetns = str(raw.xfrmNetns, 'xfrmNetns');
  if (raw.registrationTimerMs !== undefined) c.registrationTimerMs = int(raw.registrationTimerMs, 'registrationTimerMs', 100, 3_600_000);
  if (raw.overload !== undefined) {
    const o = raw.overload;
    if (!isObj(o)) throw new PcscfConfigError('must be { "attemptsPerAddress", "attemptsTotal", "retryAfterSeconds" }', 'overload');
    known(o, ['attemptsPerAddress', 'attemptsTotal', 'retryAfterSeconds'], 'overload');
    if (o.attemptsPerAddress !== undefined) c.overload.attemptsPerAddress = int(o.attemptsPerAddress, 'overload.attemptsPerAddress', 1, 1_000_000);
    if (o.attemptsTotal !== undefined) c.overload.attemptsTotal = int(o.attemptsTotal, 'overload.attemptsTotal', 1, 10_000_000);
    if (o.retryAfterSeconds !== undefined) c.overload.retryAfterSeconds = int(o.retryAfterSeconds, 'overload.retryAfterSeconds', 1, 86_400);
  }
  if (raw.maxSetsPerImpi !== undefined) c.maxSetsPerImpi = int(raw.maxSetsPerImpi, 'maxSetsPerImpi', 2, 3);
  if (raw.trustedCore !== undefined) c.trustedCore = strs(raw.trustedCore, 'trustedCore');
  checkTrusted(c.trustedCore, 'trustedCore');
  if (raw.regEvent !== undefined) {
    const r = raw.regEvent;
    if (!isObj(r)) throw new PcscfConfigError('must be { "subscribe", "expires" }', 'regEvent');
    known(r, ['subscribe', 'expires'], 'regEvent');
    if (r.subscribe !== undefined) c.regEvent.subscribe = bool(r.subscribe, 'regEvent.subscribe');
    if (r.expires !== undefined) c.regEvent.expires = int(r.expires, 'regEvent.expires', 60, 4_294_967);
  }
  if (raw.privacy !== undefined) {
    const p = raw.privacy;
    if (!isObj(p)) throw new PcscfConfigError('must be { "ueTrusted" }', 'privacy');
    known(p, ['ueTrusted'], 'privacy');
    if (p.ueTrusted !== undefined) c.privacy.ueTrusted = bool(p.ueTrusted, 'privacy.ueTrusted');
  }
  if (raw.logLevel !== undefined) c.logLevel = logLevel(raw.logLevel, 'logLevel');
  return c;
}

/** The configuration for a log line (it holds no secret). */
export function describePcscfConfig(c: PcscfConfig): Record<string, unknown> {
  return {
    sip: `${c.sip.listen.host}:${c.sip.listen.port}`,
    protocols: c.sip.protocols,
    protectedPorts: c.protected.ports === null ? 'auto' : `${c.protected.ports.min}-${c.protected.ports.max}`,
    icscf: c.icscf,
    datapath: c.datapath,
    policy: c.policy,
    registrationTimerMs: c.registrationTimerMs,
  };
}
