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
 * it from a MAR or SAR. {@link HssConfigSchema} is the one source of fields, defaults, type and
 * `imsec hss --print-schema`. Parsing is pure; reading the file happens in the CLI.
 */
import { join } from 'node:path';
import { Type, type StaticDecode } from 'typebox';
import { PRE_CER_DEFAULTS } from '../../diameter/index.js';
import { ipVersionOf } from '../../ip/index.js';
import { HostPortField, Int, Ints, LogLevel, NodeConfigError, parseField, parseNodeConfig, Section, Str, StringMap, Strs, type HostPort } from '../common/index.js';

export type { HostPort };

/** A configuration file or flag that cannot be used (CLI exit 2). */
export class HssConfigError extends NodeConfigError {}

export const DEFAULT_DIAMETER_PORT = 3868;
export const DEFAULT_REST_PORT = 8080;
export const DEFAULT_MAX_AUTH_ITEMS = 5;
export const DEFAULT_DATA_DIR = './.imsec';

const PEER_MESSAGE = 'must be a host name or { "host", "realm", "connect", "addresses" }';

/** A Diameter peer allowed to connect (and, with `connect`, one the HSS connects to). */
const PeerField = Type.Codec(
  Type.Union(
    [
      Str(),
      Type.Object(
        {
          host: Str({ description: "the peer's Origin-Host" }),
          realm: Type.Optional(Str({ description: 'its realm; default: the part of host after the first dot' })),
          connect: Type.Optional(HostPortField()),
          addresses: Type.Optional(Strs({ description: 'IP addresses its connections may come from (absent: any); a CER from elsewhere gets DIAMETER_UNKNOWN_PEER' })),
        },
        { additionalProperties: false },
      ),
    ],
    { errorMessage: PEER_MESSAGE },
  ),
)
  .Decode((v) => (typeof v === 'string' ? { host: v } : v))
  .Encode((v) => v);

const RestField = Type.Codec(
  Type.Union([Type.Null(), Type.Literal(false), Type.Object({ listen: Type.Optional(HostPortField()) }, { additionalProperties: false })], {
    default: { listen: `127.0.0.1:${DEFAULT_REST_PORT}` },
    errorMessage: 'must be { "listen": "HOST:PORT" } or null',
    description: 'the provisioning REST API; null (or false) turns it off',
  }),
)
  .Decode((v): { listen: HostPort } | null => (v === null || v === false ? null : { listen: v.listen ?? { host: '127.0.0.1', port: DEFAULT_REST_PORT } }))
  .Encode((v) => v);

/** The HSS configuration document (see the module comment). */
export const HssConfigSchema = Type.Object(
  {
    dataDir: Str({ default: DEFAULT_DATA_DIR, description: 'directory for the embedded store' }),
    store: Type.Optional(Str({ description: 'store URL (sqlite:PATH or postgres://…); default sqlite:<dataDir>/hss.sqlite' })),
    diameter: Section({
      listen: HostPortField({ default: `127.0.0.1:${DEFAULT_DIAMETER_PORT}` }),
      originHost: Str({ default: 'hss.ims.lab' }),
      originRealm: Str({ default: 'ims.lab' }),
      hostIpAddresses: Type.Optional(Strs({ description: 'Host-IP-Address for CER/CEA; default: the listen address (127.0.0.1 for a wildcard)' })),
      peers: Type.Array(PeerField, { default: ['scscf.ims.lab', 'icscf.ims.lab'], errorMessage: 'must be an array', description: 'the allowlist (RFC 6733 §5.3)' }),
      watchdogMs: Int(6000, 3_600_000, { default: 30_000, description: 'RFC 3539 Twinit' }),
      requestTimeoutMs: Int(100, 600_000, { default: 5000, description: 'how long an RTR/PPR waits for its answer' }),
      cerTimeoutMs: Int(50, 600_000, { default: 5000, description: 'before CER (RFC 6733 §5.3): how long a new connection may take to send it' }),
      preCerMaxMessageSize: Int(256, 16_777_215, { default: PRE_CER_DEFAULTS.maxMessageSize, description: 'before CER: the largest message accepted, bytes' }),
      maxUnboundConnections: Int(1, 100_000, { default: PRE_CER_DEFAULTS.maxUnboundConnections, description: 'before CER: connections waiting for theirs, at most' }),
    }),
    rest: RestField,
    maxAuthItems: Int(1, 100, { default: DEFAULT_MAX_AUTH_ITEMS, description: 'cap on SIP-Number-Auth-Items honoured in one MAA (R-AKA-2)' }),
    serverCapabilities: Section(
      { mandatory: Ints({ default: [] }), optional: Ints({ default: [] }), serverNames: Strs({ default: [] }) },
      { description: 'Server-Capabilities of UAA/LIA when no S-CSCF is assigned (TS 29.228 §6.1.1, §6.7)' },
    ),
    visitedNetworks: Type.Union([Type.Null(), Strs()], { default: null, errorMessage: 'must be an array of strings', description: 'allowed Visited-Network-Identifier values; null: no roaming restriction' }),
    scscfHosts: StringMap('must map S-CSCF SIP names to Diameter hosts', { default: {}, description: 'Server-Name → Diameter Origin-Host, for RTR/PPR' }),
    logLevel: LogLevel,
    randSeed: Type.Optional(Str({ description: 'testing only: makes every RAND deterministic; never in service (TS 33.102 §6.3.2)' })),
  },
  { additionalProperties: false },
);

type Decoded = StaticDecode<typeof HssConfigSchema>;

export type HssConfig = Omit<Decoded, 'store' | 'diameter' | 'serverCapabilities'> & {
  store: string;
  diameter: Omit<Decoded['diameter'], 'hostIpAddresses'> & { hostIpAddresses: string[] };
  serverCapabilities: { mandatory: number[]; optional: number[]; serverNames: string[] };
};
export type HssPeer = HssConfig['diameter']['peers'][number];

/** The defaults: a lab HSS on 127.0.0.1:3868, SQLite in ./.imsec, REST on 127.0.0.1:8080. */
export function defaultHssConfig(dataDir: string = DEFAULT_DATA_DIR): HssConfig {
  return parseHssConfig({ dataDir });
}

/** `HOST:PORT`, `[v6]:PORT` or `{ "host": …, "port": … }`. Port 0 picks a free port. */
export function parseHostPort(v: unknown, field: string): HostPort {
  return parseField(HostPortField(), v, field, HssConfigError);
}

/**
 * Checks a parsed JSON configuration and fills in the defaults. Unknown keys are refused (a
 * misspelt setting must not silently fall back to a default).
 * @throws HssConfigError naming the field.
 */
export function parseHssConfig(raw: unknown): HssConfig {
  const d = parseNodeConfig(HssConfigSchema, raw, HssConfigError);
  const hostIpAddresses = d.diameter.hostIpAddresses ?? defaultHostIps(d.diameter.listen.host);
  if (hostIpAddresses.length === 0) throw new HssConfigError('must list at least one address', 'diameter.hostIpAddresses');
  d.diameter.peers.forEach((p, i) =>
    p.addresses?.forEach((a, j) => {
      if (ipVersionOf(a) === 0) throw new HssConfigError('must be an IP address', `diameter.peers[${i}].addresses[${j}]`);
    }),
  );
  return { ...d, store: d.store ?? `sqlite:${join(d.dataDir, 'hss.sqlite')}`, diameter: { ...d.diameter, hostIpAddresses } };
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
