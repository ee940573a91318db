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
 *   "regEvent": { "defaultExpires": 3761, "minExpires": 60, "maxExpires": 86400 },
 *   "overload": { "maxRegistrations": 1000, "retryAfterSeconds": 5 }
 * }
 * ```
 * `overload`: a REGISTER beyond `maxRegistrations` in progress, or one the HSS does not answer
 * (no answer in time, no usable peer, DIAMETER_TOO_BUSY), gets 503 Service Unavailable with
 * `Retry-After: retryAfterSeconds` (RFC 3261 §21.5.4, §20.33), never a 500.
 * `registrar.awaitAuthSeconds` is TS 24.229 Table 7.8.1 reg-await-auth (4 minutes at the S-CSCF).
 * `skipAkaWhenProtected` is the R-REG-4 policy: a REGISTER marked integrity-protected="yes" from a
 * registered user may skip AKA (TS 24.229 §5.4.1.2.2 step 1); an unprotected one never does.
 * {@link ScscfConfigSchema} is the one source of fields, defaults, type and `imsec scscf
 * --print-schema`. Parsing is pure; reading the file happens in the CLI.
 */
import { Type, type StaticDecode } from 'typebox';
import { parseUri } from '../../sip/headers/index.js';
import {
  Bool, checkTrustDomainField, HostPortField, Int, LogLevel, NodeConfigError, OneOf, parseField, parseNodeConfig, Protocols, checkProtocols, Section, Str, StringMap, Strs, TcpLimitsField, TrustDomainField, PathMtuField, type HostPort,
} from '../common/index.js';

export type { HostPort };

/** A configuration value that cannot be used (CLI exit 2). */
export class ScscfConfigError extends NodeConfigError {}

const U32 = 0xffffffff;

/** The S-CSCF configuration document (see the module comment). */
export const ScscfConfigSchema = Type.Object(
  {
    realm: Str({ default: 'ims.lab', description: 'home network domain: Digest realm and Destination-Realm of Cx requests' }),
    serverName: Str({ default: 'sip:scscf.ims.lab:6060', description: "the S-CSCF's sip: URI: Server-Name in MAR/SAR, Contact of its NOTIFYs, base of Service-Route" }),
    aliases: Strs({ default: [], errorMessage: 'must be an array of host names', description: 'host names and addresses that are this S-CSCF, besides the host of serverName and the listen address' }),
    origUser: Str({ default: 'orig', description: 'user part of the Service-Route URI marking originating requests (TS 24.229 §5.4.1.2.2)' }),
    sip: Section({ listen: HostPortField({ default: '127.0.0.1:6060' }), protocols: Protocols('udp and/or tcp'), tcp: TcpLimitsField, pathMtu: PathMtuField }),
    trustDomain: TrustDomainField,
    hosts: StringMap('must map host names to addresses', {
      default: { 'scscf.ims.lab': '127.0.0.1', 'hss.ims.lab': '127.0.0.1', 'icscf.ims.lab': '127.0.0.1', 'pcscf.ims.lab': '127.0.0.1' },
      description: 'static host table for SIP and Diameter names (no DNS)',
    }),
    diameter: Section({
      originHost: Str({ default: 'scscf.ims.lab' }),
      originRealm: Str({ default: 'ims.lab' }),
      hostIpAddresses: Strs({ default: ['127.0.0.1'], description: 'Host-IP-Address of CER (at least one)' }),
      hss: Section(
        {
          host: Str({ default: 'hss.ims.lab' }),
          realm: Type.Optional(Str({ description: 'default: the part of host after the first dot' })),
          port: Int(1, 65535, { default: 3868 }),
          address: Type.Optional(Str({ description: 'address to connect to (default: host through the host table)' })),
        },
        { errorMessage: 'must be { "host", "realm", "port", "address" }' },
      ),
      requestTimeoutMs: Int(100, 600_000, { default: 5000 }),
      watchdogMs: Int(6000, 3_600_000, { default: 30_000, description: 'RFC 3539 Twinit' }),
    }),
    icscf: Type.Union([Type.Null(), Str()], { default: 'sip:icscf.ims.lab:4060', errorMessage: 'must be a sip: URI or null', description: 'where requests for users not registered here go (the I-CSCF), or null' }),
    store: Str({ default: 'sqlite:./.imsec/scscf.sqlite', description: 'registrar store URL' }),
    registrar: Section({
      minExpires: Int(1, U32, { default: 60, description: 'below this a REGISTER gets 423 (RFC 3261 §10.3 step 7)' }),
      maxExpires: Int(1, U32, { default: 600_000, description: 'longer requests are cut to this' }),
      defaultExpires: Int(1, U32, { default: 3600, description: 'when the REGISTER names no expiry' }),
      authItems: Int(1, 100, { default: 1, description: 'SIP-Number-Auth-Items in MAR (R-AKA-2)' }),
      authScheme: OneOf(['Unknown', 'Digest-AKAv1-MD5', 'Digest-AKAv2-MD5'] as const, 'must be "Unknown", "Digest-AKAv1-MD5" or "Digest-AKAv2-MD5"', {
        default: 'Unknown',
        description: 'SIP-Authentication-Scheme asked for in MAR (TS 29.229 §6.3.9); Unknown lets the HSS choose',
      }),
      awaitAuthSeconds: Int(1, 3600, { default: 240, description: 'reg-await-auth (TS 24.229 Table 7.8.1)' }),
      skipAkaWhenProtected: Bool({ default: false, description: 'R-REG-4: a protected re-registration of a registered user skips AKA' }),
      sendKeys: Bool({ default: true, description: 'put ik/ck in the 401 for the P-CSCF (TS 24.229 §5.4.1.2.1, R-AKA-6)' }),
      maxContacts: Int(1, 1000, { default: 10, description: 'bindings per registration' }),
    }),
    overload: Section(
      {
        maxRegistrations: Int(1, 1_000_000, { default: 1000, description: 'REGISTERs in progress (received, not yet answered); beyond it 503' }),
        retryAfterSeconds: Int(1, 86_400, { default: 5, description: 'Retry-After of every 503 (overload, HSS not answering)' }),
      },
      { errorMessage: 'must be { "maxRegistrations", "retryAfterSeconds" }', description: 'REGISTER admission; beyond it, and while the HSS does not answer, 503 with Retry-After (RFC 3261 §21.5.4)' },
    ),
    regEvent: Section({
      defaultExpires: Int(1, U32, { default: 3761, description: 'RFC 3680 §5.1: when the SUBSCRIBE names no expiry' }),
      minExpires: Int(1, U32, { default: 60 }),
      maxExpires: Int(1, U32, { default: 86_400 }),
    }),
    logLevel: LogLevel,
  },
  { additionalProperties: false },
);

type Decoded = StaticDecode<typeof ScscfConfigSchema>;

export type ScscfConfig = Omit<Decoded, 'diameter'> & { diameter: Omit<Decoded['diameter'], 'hss'> & { hss: Decoded['diameter']['hss'] & { realm: string } } };
export type RegistrarPolicy = ScscfConfig['registrar'];
export type RegEventPolicy = ScscfConfig['regEvent'];
export type ScscfOverload = ScscfConfig['overload'];
/** SIP-Authentication-Scheme asked for in MAR (TS 29.229 §6.3.9); "Unknown" lets the HSS choose per subscriber. */
export type ScscfAuthScheme = RegistrarPolicy['authScheme'];

/** The lab defaults of the default deployment (ports as in the IMS core conventions). */
export function defaultScscfConfig(): ScscfConfig {
  return parseScscfConfig({});
}

function checkSipUri(s: string, field: string): void {
  try {
    if (parseUri(s).kind !== 'sip') throw new Error('not a SIP URI');
  } catch {
    throw new ScscfConfigError(`must be a sip: URI, got ${JSON.stringify(s)}`, field);
  }
}

/** `HOST:PORT`, `[v6]:PORT` or `{ "host", "port" }`; port 0 picks a free port. */
export function parseHostPort(v: unknown, field: string): HostPort {
  return parseField(HostPortField(), v, field, ScscfConfigError);
}

/**
 * Checks a parsed JSON configuration (or a partial object given by a test) and fills in the
 * defaults. Unknown keys are refused. @throws ScscfConfigError naming the field.
 */
export function parseScscfConfig(raw: unknown): ScscfConfig {
  const d = parseNodeConfig(ScscfConfigSchema, raw, ScscfConfigError);
  checkProtocols(d.sip.protocols, 'sip.protocols', ScscfConfigError);
  checkSipUri(d.serverName, 'serverName');
  if (d.icscf !== null) checkSipUri(d.icscf, 'icscf');
  checkTrustDomainField(d.trustDomain, 'trustDomain', ScscfConfigError);
  if (d.diameter.hostIpAddresses.length === 0) throw new ScscfConfigError('must list at least one address', 'diameter.hostIpAddresses');
  const r = d.registrar;
  if (r.minExpires > r.maxExpires) throw new ScscfConfigError('must not exceed registrar.maxExpires', 'registrar.minExpires');
  if (r.defaultExpires < r.minExpires || r.defaultExpires > r.maxExpires) throw new ScscfConfigError('must lie between registrar.minExpires and registrar.maxExpires', 'registrar.defaultExpires');
  if (d.regEvent.minExpires > d.regEvent.maxExpires) throw new ScscfConfigError('must not exceed regEvent.maxExpires', 'regEvent.minExpires');
  const hss = d.diameter.hss;
  return { ...d, diameter: { ...d.diameter, hss: { ...hss, realm: hss.realm ?? hss.host.slice(hss.host.indexOf('.') + 1) } } };
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
