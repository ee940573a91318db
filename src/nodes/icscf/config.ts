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
 * whose next hop is neither home nor trusted are hidden. {@link IcscfConfigSchema} is the one
 * source of fields, defaults, type and `imsec icscf --print-schema`. Parsing is pure; the CLI reads
 * the file.
 */
import { Type, type StaticDecode } from 'typebox';
import { fromHex } from '../../common/index.js';
import {
  Bool, checkTrustDomainField, HostPortField, Int, Ints, LogLevel, OneOf, parseField, parseNodeConfig, Protocols, checkProtocols, Section, Str, StringMap, Strs, TcpLimitsField, TrustDomainField, PathMtuField, type HostPort,
} from '../common/index.js';
import { IcscfConfigError } from './errors.js';
import { NetworkMatcher } from './network.js';
import type { ScscfEntry } from './select.js';
import { DEFAULT_HIDDEN_HEADERS, type HiddenHeader } from './thig.js';
import { DEFAULT_MAX_TOKEN_CHARS } from './thig-token.js';

export type { HostPort };

export const DEFAULT_ICSCF_SIP_PORT = 4060;

const KV_HEX = '^\\s*(0x)?[0-9a-fA-F]{32}\\s*$';

/** Kv from hex; the schema's message never repeats the value. */
const KvField = Type.Codec(Type.String({ pattern: KV_HEX, errorMessage: 'must be 16 bytes in hex (32 hex digits)', description: "Kv, the network's topology-hiding key: 16 bytes in hex (secret)" }))
  .Decode((v) => fromHex(v.trim().replace(/^0x/, ''), 16, 'thig.kv'))
  .Encode((v) => Buffer.from(v).toString('hex'));

const ScscfField = Type.Codec(
  Type.Union([Str(), Type.Object({ uri: Str(), capabilities: Type.Optional(Ints()) }, { additionalProperties: false })], { errorMessage: 'must be a SIP URI or { "uri", "capabilities" }' }),
)
  .Decode((v): ScscfEntry => (typeof v === 'string' ? { uri: v } : { uri: v.uri, capabilities: v.capabilities ?? [] }))
  // The string form decodes without capabilities, the object form always with them: each encodes back to its own form.
  .Encode((v) => (v.capabilities === undefined ? v.uri : { uri: v.uri, capabilities: [...v.capabilities] }));

const ThigField = Type.Object(
  {
    kv: KvField,
    host: Type.Optional(Str({ description: "host of the replacement entries (should reach the network's I-CSCFs); default: the first home domain" })),
    port: Type.Optional(Int(1, 65535)),
    headers: Type.Optional(Strs({ description: 'headers to hide: via, record-route, route, path (default all)' })),
    maxTokenChars: Type.Optional(Int(256, 65_536, { description: `longest THIG token accepted (default ${DEFAULT_MAX_TOKEN_CHARS})` })),
  },
  { additionalProperties: false, errorMessage: 'must be { "kv", "host", "port", "headers", "maxTokenChars" } or null' },
);

/** The I-CSCF configuration document (see the module comment). */
export const IcscfConfigSchema = Type.Object(
  {
    sip: Section({
      listen: HostPortField({ default: `127.0.0.1:${DEFAULT_ICSCF_SIP_PORT}` }),
      protocols: Protocols('udp and/or tcp'),
      advertisedHost: Type.Optional(Str({ description: 'host written into Via sent-by and Record-Route (default: the listen address)' })),
      t1Ms: Int(10, 10_000, { default: 500, description: 'RFC 3261 T1 in ms (Timer F = 64·T1)' }),
      tcp: TcpLimitsField,
      pathMtu: PathMtuField,
    }),
    trustDomain: TrustDomainField,
    diameter: Section({
      originHost: Str({ default: 'icscf.ims.lab' }),
      originRealm: Str({ default: 'ims.lab' }),
      destinationRealm: Type.Optional(Str({ description: 'default: originRealm' })),
      destinationHost: Type.Optional(Str()),
      hostIpAddresses: Strs({ default: ['127.0.0.1'], description: 'Host-IP-Address of CER (at least one)' }),
      hss: Section(
        { host: Str({ default: 'hss.ims.lab' }), realm: Type.Optional(Str()), connect: HostPortField({ default: '127.0.0.1:3868' }) },
        { errorMessage: 'must be { "host", "realm", "connect" }' },
      ),
      requestTimeoutMs: Int(50, 600_000, { default: 3000 }),
      watchdogMs: Int(6000, 3_600_000, { default: 30_000, description: 'RFC 3539 Twinit' }),
    }),
    homeDomains: Strs({ default: ['ims.lab'] }),
    homeAddresses: Strs({ default: [], description: 'home nodes by address (ip, ip:port)' }),
    trustedDomains: Strs({ default: [] }),
    trustedAddresses: Strs({ default: [] }),
    names: Strs({ default: ['icscf.ims.lab'], description: 'names and addresses that mean this I-CSCF in Route headers (besides its listen address)' }),
    scscfs: Type.Array(ScscfField, { default: ['sip:scscf.ims.lab:6060'], errorMessage: 'must be an array' }),
    hosts: StringMap('must map host names to addresses', {
      default: { 'icscf.ims.lab': '127.0.0.1', 'scscf.ims.lab': '127.0.0.1', 'hss.ims.lab': '127.0.0.1', 'pcscf.ims.lab': '127.0.0.1' },
    }),
    defaultVisitedNetwork: Type.Optional(Str({ description: 'Visited-Network-Identifier when a REGISTER has no P-Visited-Network-ID (default: the first home domain)' })),
    trustedRegisterOnly: Bool({ default: false, description: 'TS 24.229 §5.3.1.2: 403 to a REGISTER from neither home nor trusted' }),
    recordRoute: OneOf(['thig', 'always', 'never'] as const, 'must be "thig", "always" or "never"', { default: 'thig', description: "Record-Route dialog-creating requests: 'thig' (only when hiding is on), 'always' or 'never'" }),
    thig: Type.Union([Type.Null(), ThigField], { default: null, errorMessage: 'must be { "kv", "host", "port", "headers", "maxTokenChars" } or null', description: 'topology hiding (TS 24.229 §5.3.3.3); null: off' }),
    logLevel: LogLevel,
  },
  { additionalProperties: false },
);

type Decoded = StaticDecode<typeof IcscfConfigSchema>;

export type IcscfThigConfig = Omit<NonNullable<Decoded['thig']>, 'host' | 'headers' | 'maxTokenChars'> & { host: string; headers: HiddenHeader[]; maxTokenChars: number };

export type IcscfConfig = Omit<Decoded, 'diameter' | 'defaultVisitedNetwork' | 'thig'> & {
  diameter: Decoded['diameter'] & { destinationRealm: string };
  defaultVisitedNetwork: string;
  thig: IcscfThigConfig | null;
};

/** The default lab I-CSCF (see the module comment). */
export function defaultIcscfConfig(): IcscfConfig {
  return parseIcscfConfig({});
}

/** `HOST:PORT`, `[v6]:PORT` or `{ "host", "port" }`; port 0 lets the OS choose. */
export function parseHostPort(v: unknown, field: string): HostPort {
  return parseField(HostPortField(), v, field, IcscfConfigError);
}

function checkNetwork(field: string, domains: string[], addresses: string[]): void {
  try {
    new NetworkMatcher({ domains, addresses });
  } catch (e) {
    throw new IcscfConfigError((e as Error).message, field);
  }
}

/**
 * Checks a parsed JSON configuration and fills in the defaults; unknown keys are refused.
 * @throws IcscfConfigError (code CONFIG) naming the field.
 */
export function parseIcscfConfig(raw: unknown): IcscfConfig {
  const d = parseNodeConfig(IcscfConfigSchema, raw, IcscfConfigError);
  checkProtocols(d.sip.protocols, 'sip.protocols', IcscfConfigError);
  checkTrustDomainField(d.trustDomain, 'trustDomain', IcscfConfigError);
  if (d.diameter.hostIpAddresses.length === 0) throw new IcscfConfigError('must list at least one address', 'diameter.hostIpAddresses');
  if (d.homeDomains.length === 0) throw new IcscfConfigError('must name at least one home domain', 'homeDomains');
  checkNetwork('homeDomains', d.homeDomains, d.homeAddresses);
  checkNetwork('trustedDomains', d.trustedDomains, d.trustedAddresses);
  let thig: IcscfThigConfig | null = null;
  if (d.thig !== null) {
    const headers = (d.thig.headers ?? DEFAULT_HIDDEN_HEADERS).map((h) => h.toLowerCase());
    for (const h of headers) if (!(DEFAULT_HIDDEN_HEADERS as readonly string[]).includes(h)) throw new IcscfConfigError(`cannot hide ${h} (Via, Record-Route, Route, Path)`, 'thig.headers');
    thig = { ...d.thig, host: d.thig.host ?? d.homeDomains[0], headers: headers as HiddenHeader[], maxTokenChars: d.thig.maxTokenChars ?? DEFAULT_MAX_TOKEN_CHARS };
  }
  return {
    ...d,
    diameter: { ...d.diameter, destinationRealm: d.diameter.destinationRealm ?? d.diameter.originRealm },
    defaultVisitedNetwork: d.defaultVisitedNetwork ?? d.homeDomains[0],
    thig,
  };
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
