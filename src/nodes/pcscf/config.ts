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
 * The schema ({@link PcscfConfigSchema}) is the one source of the fields, their defaults, the
 * type and `imsec pcscf --print-schema`; what JSON Schema cannot say (IP addresses, the I-CSCF
 * URI, algorithm pairs) is checked after it. Parsing is pure; the CLI reads the file.
 */
import { Type, type StaticDecode } from 'typebox';
import { DEFAULT_PCSCF_POLICY, isValidAlgCombination, type EncryptionAlgName, type IntegrityAlgName } from '../../secagree/index.js';
import { RESPONSE_FLOWS } from '../../sip/transport/protected/index.js';
import { parseUri } from '../../sip/headers/index.js';
import { ipVersionOf } from '../../ip/index.js';
import { Bool, HostPortField, Int, LogLevel, OneOf, parseField, parseNodeConfig, PortRangeField, Protocols, checkProtocols, Section, Str, StringMap, Strs, TcpLimitsField, type HostPort } from '../common/index.js';
import { PcscfConfigError } from './errors.js';

export type { HostPort };

export const DEFAULT_PCSCF_SIP_PORT = 5060;
export const DEFAULT_PROTECTED_PORTS = { min: 5100, max: 5108 } as const;

/** `"MIN-MAX"`, `{ "min", "max" }` or `"auto"`/null (OS-assigned ports). */
const PortRange = PortRangeField('expected "MIN-MAX" or "auto"', Int(1, 65535), {
  default: `${DEFAULT_PROTECTED_PORTS.min}-${DEFAULT_PROTECTED_PORTS.max}`,
  description: 'protected ports: port_ps, then the port_pc pool (TS 33.203 §7.1); "auto": chosen by the OS',
});

const AlgList = <T extends string>(description: string, defaults: readonly T[]) =>
  Type.Codec(Strs({ description, default: [...defaults] }))
    .Decode((v) => [...new Set(v.map((x) => x.toLowerCase()))] as T[])
    .Encode((v) => v);

/** The P-CSCF configuration document (see the module comment). */
export const PcscfConfigSchema = Type.Object(
  {
    sip: Section({
      listen: HostPortField({ default: `127.0.0.1:${DEFAULT_PCSCF_SIP_PORT}`, description: 'unprotected SIP address (an IP address); port 0 lets the OS choose' }),
      protocols: Protocols('udp (required: the UE registers over UDP, TS 24.229 §5.2.2) and/or tcp'),
      advertisedHost: Type.Optional(Str({ description: 'host written into Via sent-by, Path and Record-Route (default: the listen address)' })),
      t1Ms: Int(10, 10_000, { default: 500, description: 'RFC 3261 T1 in ms (Timer F = 64·T1)' }),
      tcp: TcpLimitsField,
    }),
    protected: Section(
      {
        address: Type.Optional(Str({ description: 'local address of the SAs (default: the listen address)' })),
        ports: PortRange,
        responseFlow: OneOf(RESPONSE_FLOWS, `must be one of ${RESPONSE_FLOWS.join(', ')}`, { default: 'client-to-server', description: 'UDP response flow over the SAs (R-SA-3)' }),
      },
      { errorMessage: 'must be { "address", "ports", "responseFlow" }' },
    ),
    icscf: Str({ default: 'sip:icscf.ims.lab:4060', description: 'where REGISTERs go (TS 24.229 §5.2.2.1): a sip: URI of the home I-CSCF' }),
    hosts: StringMap('must map host names to addresses', {
      default: { 'icscf.ims.lab': '127.0.0.1', 'scscf.ims.lab': '127.0.0.1', 'hss.ims.lab': '127.0.0.1', 'pcscf.ims.lab': '127.0.0.1' },
      description: 'static host table: name → IP address',
    }),
    names: Strs({ default: ['pcscf.ims.lab'], description: 'host names that mean this P-CSCF in Route headers (besides its addresses)' }),
    visitedNetworkId: Str({ default: 'ims.lab', description: 'P-Visited-Network-ID value (TS 24.229 §5.2.2.1)' }),
    policy: Section(
      {
        algs: AlgList<IntegrityAlgName>('acceptable integrity algorithms, most preferred first (TS 33.203 Annex H)', DEFAULT_PCSCF_POLICY.algs),
        ealgs: AlgList<EncryptionAlgName>('acceptable encryption algorithms, most preferred first', DEFAULT_PCSCF_POLICY.ealgs),
        honourQ: Bool({ default: false, description: "let the UE's q values decide (RFC 3329 §2.2)" }),
      },
      { errorMessage: 'must be { "algs", "ealgs" }' },
    ),
    datapath: OneOf(['userspace', 'xfrm'] as const, 'must be "userspace" or "xfrm"', { default: 'userspace', description: 'userspace ESP-in-UDP (RFC 3948) or kernel XFRM' }),
    xfrmNetns: Type.Optional(Str({ description: '`ip -n NETNS` for the xfrm datapath (default: the current namespace)' })),
    registrationTimerMs: Int(100, 3_600_000, { default: 240_000, description: 'reg-await-auth: lifetime of the temporary SAs (TS 24.229 Table 7.8.1, R-SA-7)' }),
    overload: Section(
      {
        attemptsPerAddress: Int(1, 1_000_000, { default: 32 }),
        attemptsTotal: Int(1, 10_000_000, { default: 20_000 }),
        retryAfterSeconds: Int(1, 86_400, { default: 30 }),
      },
      { errorMessage: 'must be { "attemptsPerAddress", "attemptsTotal", "retryAfterSeconds" }', description: 'caps on half-open registrations; beyond them 503 with Retry-After' },
    ),
    maxSetsPerImpi: Int(2, 3, { default: 3, description: 'R-SA-6: SA sets per IMPI' }),
    trustedCore: Strs({ default: ['127.0.0.1', '::1'], description: 'sources (ip or ip:port) taken as the IMS core on the unprotected port (R-SA-5)' }),
    regEvent: Section(
      { subscribe: Bool({ default: true }), expires: Int(60, 4_294_967, { default: 600_000 }) },
      { errorMessage: 'must be { "subscribe", "expires" }', description: 'reg-event subscription (TS 24.229 §5.2.3)' },
    ),
    privacy: Section({ ueTrusted: Bool({ default: true, description: 'the UE is inside the RFC 3325 trust domain (R-ANON-1)' }) }, { errorMessage: 'must be { "ueTrusted" }' }),
    logLevel: LogLevel,
  },
  { additionalProperties: false },
);

export type PcscfConfig = StaticDecode<typeof PcscfConfigSchema>;
export type PcscfDatapathKind = PcscfConfig['datapath'];

/** The default lab P-CSCF (see the module comment). */
export function defaultPcscfConfig(): PcscfConfig {
  return parsePcscfConfig({});
}

const INTEGRITY: readonly string[] = ['hmac-md5-96', 'hmac-sha-1-96', 'aes-gmac', 'null'];
const ENCRYPTION: readonly string[] = ['null', 'aes-cbc', 'des-ede3-cbc', 'aes-gcm'];

const refuse = (message: string, field: string): never => {
  throw new PcscfConfigError(message, field);
};

/** `HOST:PORT`, `[v6]:PORT` or `{ "host", "port" }`; port 0 lets the OS choose. */
export function parseHostPort(v: unknown, field: string): HostPort {
  return parseField(HostPortField(), v, field, PcscfConfigError);
}

/** `"MIN-MAX"`, `{ "min", "max" }` or `"auto"` (null: OS-assigned). */
export function parsePortRange(v: unknown, field: string): { min: number; max: number } | null {
  return checkPortRange(parseField(PortRange, v, field, PcscfConfigError), field);
}

function checkPortRange(r: { min: number; max: number } | null, field: string): { min: number; max: number } | null {
  if (r === null) return null;
  if (r.min < 1 || r.min > 65535 || r.max < 1 || r.max > 65535) refuse('must be an integer in 1..65535', field);
  // Two ports per registration: a range of one port cannot hold a single registration.
  if (r.max - r.min < 1) refuse('needs at least two ports (min < max)', field);
  return r;
}

function checkAlgs(list: readonly string[], field: string, allowed: readonly string[]): void {
  if (list.length === 0) refuse('must name at least one algorithm', field);
  for (const a of list) if (!allowed.includes(a)) refuse(`unknown algorithm ${JSON.stringify(a)} (known: ${allowed.join(', ')})`, field);
}

function checkIp(a: string | undefined, field: string): void {
  if (a !== undefined && ipVersionOf(a) === 0) refuse('must be an IP address', field);
}

/**
 * Checks a parsed JSON configuration and fills in the defaults; unknown keys are refused.
 * @throws PcscfConfigError (code CONFIG) naming the field.
 */
export function parsePcscfConfig(raw: unknown): PcscfConfig {
  const c = parseNodeConfig(PcscfConfigSchema, raw, PcscfConfigError);
  checkProtocols(c.sip.protocols, 'sip.protocols', PcscfConfigError);
  if (!c.sip.protocols.includes('udp')) refuse('must include udp (the UE registers over UDP, TS 24.229 §5.2.2)', 'sip.protocols');
  checkIp(c.sip.listen.host, 'sip.listen.host');
  checkIp(c.protected.address, 'protected.address');
  checkPortRange(c.protected.ports, 'protected.ports');
  try {
    if (parseUri(c.icscf).kind !== 'sip') throw new Error('not a SIP URI');
  } catch {
    refuse('must be a sip: URI', 'icscf');
  }
  for (const [k, a] of Object.entries(c.hosts)) checkIp(a, `hosts.${k}`);
  checkAlgs(c.policy.algs, 'policy.algs', INTEGRITY);
  checkAlgs(c.policy.ealgs, 'policy.ealgs', ENCRYPTION);
  if (!c.policy.algs.some((a) => c.policy.ealgs.some((e) => isValidAlgCombination(a, e)))) {
    refuse('no (alg, ealg) pair of the policy is a valid transform (NULL integrity only with aes-gcm)', 'policy');
  }
  c.trustedCore.forEach((e, i) => {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(e) ?? /^([^:]+):(\d+)$/.exec(e);
    if (ipVersionOf(m ? m[1] : e) === 0) refuse('must be an IP address or IP:PORT', `trustedCore[${i}]`);
    if (m && (Number(m[2]) < 1 || Number(m[2]) > 65535)) refuse('must be an integer in 1..65535', `trustedCore[${i}]`);
  });
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
