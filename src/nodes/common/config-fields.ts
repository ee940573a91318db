/**
 * The schema fragments the node configurations share (nodes/{hss,icscf,scscf,pcscf,core}/config.ts):
 * each is a TypeBox schema whose `errorMessage` is the text its field gets when it is wrong
 * (common/schema.ts), so `imsec <node>` prints `sip.listen: expected HOST:PORT, got "x"` as the
 * hand-written checks did. {@link parseNodeConfig} checks a document against a node's schema and
 * throws that node's {@link NodeConfigError} subclass (code CONFIG, CLI exit 2). Pure: no I/O.
 */
import { Type, type StaticDecode, type TSchema } from 'typebox';
import { ImsError } from '../../common/index.js';
import { checkSchema, formatPath } from '../../common/schema.js';

export { documentSchema } from '../../common/schema.js';
import { checkTrustDomain } from './trust-domain.js';

/** A configuration value that cannot be used (code CONFIG, CLI exit 2). The message names the field, never a secret. */
export class NodeConfigError extends ImsError {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super('CONFIG', `${field}: ${message}`);
  }
}

/** The constructor of a node's configuration error (HssConfigError, PcscfConfigError, …). */
export type NodeConfigErrorClass = new (message: string, field: string) => NodeConfigError;

/** The pino levels a `logLevel` setting may name. */
export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A JSON object (not null, not an array). */
export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string, not blank, at most 1024 characters. */
export const Str = (o: { description?: string; default?: string } = {}) => Type.String({ minLength: 1, maxLength: 1024, pattern: '\\S', errorMessage: 'must be a non-empty string', ...o });

/** A safe integer in `min..max`. */
export const Int = (min: number, max: number, o: { description?: string; default?: number } = {}) =>
  Type.Integer({ minimum: min, maximum: Math.min(max, Number.MAX_SAFE_INTEGER), errorMessage: `must be an integer in ${min}..${max}`, ...o });

/** `true` or `false`. */
export const Bool = (o: { description?: string; default?: boolean } = {}) => Type.Boolean({ errorMessage: 'must be true or false', ...o });

/** An array of {@link Str} (elements named `field[i]`). */
export const Strs = (o: { description?: string; default?: string[]; minItems?: number; errorMessage?: string } = {}) => Type.Array(Str(), { errorMessage: 'must be an array of strings', ...o });

/** An array of integers in 0..2^32-1 (elements named `field[i]`), e.g. Diameter capability codes. */
export const Ints = (o: { description?: string; default?: number[] } = {}) => Type.Array(Int(0, 0xffffffff), { errorMessage: 'must be an array of integers', ...o });

/** An object of {@link Str} values (named `field.key`); `message` when it is not an object. */
export const StringMap = (message: string, o: { description?: string; default?: Record<string, string> } = {}) => Type.Record(Type.String(), Str(), { errorMessage: message, ...o });

/** An object holding only `props` (a misspelt key is refused, never silently ignored). */
export const Section = <P extends Record<string, TSchema>>(props: P, o: { description?: string; errorMessage?: string } = {}) =>
  Type.Object(props, { additionalProperties: false, default: {}, errorMessage: 'must be an object', ...o });

/** One of {@link LOG_LEVELS} (default `info`). */
export const LogLevel = Type.Enum(LOG_LEVELS as string[], { default: 'info', errorMessage: 'must be fatal, error, warn, info, debug, trace or silent', description: 'pino log level' });

/** One of `values`, with the message a wrong value gets. */
export const OneOf = <const V extends readonly string[]>(values: V, errorMessage: string, o: { description?: string; default?: V[number] } = {}) =>
  Type.Enum([...values] as V[number][], { errorMessage, ...o });

/** SIP transports to serve: `udp` and/or `tcp` (any case; decoded lower case, once each; see {@link checkProtocols}). */
export const Protocols = (description: string) =>
  Type.Codec(Type.Array(Type.String({ errorMessage: 'must list udp and/or tcp' }), { minItems: 1, default: ['udp', 'tcp'], errorMessage: 'must list udp and/or tcp', description }))
    .Decode((v) => [...new Set(v.map((x) => x.toLowerCase()))] as ('udp' | 'tcp')[])
    .Encode((v) => v);

/** Each of `list` is udp or tcp; throws `E` naming `field` (the list as a whole). */
export function checkProtocols(list: readonly string[], field: string, E: NodeConfigErrorClass): void {
  if (list.some((p) => p !== 'udp' && p !== 'tcp')) throw new E('must list udp and/or tcp', field);
}

/** 0..65535 written at the end of `HOST:PORT` (leading zeros allowed). */
const PORT_TAIL = ':0*([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$';

/** A listen or connect address. */
export const HostPortObject = Type.Object({ host: Str(), port: Int(0, 65535) }, { additionalProperties: false, errorMessage: 'must be "HOST:PORT" or { "host", "port" }' });
export type HostPort = StaticDecode<typeof HostPortObject>;

/** `HOST:PORT` or `[v6]:PORT` text → its parts (the schema has checked the form). */
export function splitHostPort(s: string): HostPort {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  return { host: m![1], port: Number(m![2]) };
}

/** `HOST:PORT`, `[v6]:PORT` or `{ "host", "port" }`; port 0 lets the OS choose. Decodes to {@link HostPort}. */
export const HostPortField = (o: { description?: string; default?: string } = {}) =>
  Type.Codec(
    Type.Union([
      Type.String({
        maxLength: 1024,
        allOf: [
          { pattern: '^(\\[[^\\]]+\\]|[^:]+):[0-9]+$', errorMessage: 'expected HOST:PORT, got {value}' },
          { pattern: PORT_TAIL, errorMessage: 'must be an integer in 0..65535' },
        ],
      }),
      HostPortObject,
    ], { errorMessage: 'must be "HOST:PORT" or { "host", "port" }', ...o }),
  )
    .Decode((v): HostPort => (typeof v === 'string' ? splitHostPort(v) : v))
    .Encode((v) => v);

const PORT_RANGE_TEXT = '^\\s*([0-9]+)-([0-9]+)\\s*$';

/**
 * Protected ports as `"MIN-MAX"`, `{ "min", "max" }` or `"auto"`/null (chosen by the OS); decodes
 * to `{ min, max }` or null. `message` is what a value of none of these forms gets, `port` the
 * schema of `min` and `max` in the object form.
 */
export const PortRangeField = (message: string, port: TSchema, o: { description?: string; default?: string } = {}) =>
  Type.Codec(
    Type.Union(
      [Type.Literal('auto'), Type.Null(), Type.String({ pattern: PORT_RANGE_TEXT, errorMessage: message }), Type.Object({ min: port, max: port }, { additionalProperties: false })],
      { errorMessage: message, ...o },
    ),
  )
    .Decode((v): { min: number; max: number } | null => {
      if (v === 'auto' || v === null) return null;
      if (typeof v !== 'string') return v as { min: number; max: number };
      const m = new RegExp(PORT_RANGE_TEXT).exec(v)!;
      return { min: Number(m[1]), max: Number(m[2]) };
    })
    .Encode((v) => v);

/** SIP TCP connection limits `{ idleTimeoutMs, partialTimeoutMs, maxConnections, maxConnectionsPerSource }` (each optional). */
export const TcpLimitsField = Type.Object(
  {
    idleTimeoutMs: Type.Optional(Int(0, 86_400_000, { description: 'close a connection idle this long' })),
    partialTimeoutMs: Type.Optional(Int(0, 86_400_000, { description: 'close a connection holding a partial message this long' })),
    maxConnections: Type.Optional(Int(1, 1_000_000)),
    maxConnectionsPerSource: Type.Optional(Int(1, 1_000_000)),
  },
  { additionalProperties: false, default: {}, errorMessage: 'must be { "idleTimeoutMs", "partialTimeoutMs", "maxConnections", "maxConnectionsPerSource" }', description: 'SIP TCP hygiene' },
);

/**
 * The path MTU to every SIP peer of the node, when it is known (optional). RFC 3261 §18.1.1: a
 * request "within 200 bytes of the path MTU, or … larger than 1300 bytes and the path MTU is not
 * known" MUST go over a congestion-controlled transport (TCP); with a known MTU, UDP carries
 * requests up to MTU − 200 bytes.
 */
export const PathMtuField = Type.Optional(Int(576, 65_536, { description: 'path MTU to every SIP peer, when known (RFC 3261 §18.1.1: UDP then carries requests up to MTU − 200 bytes, else up to 1300)' }));

/** The transport-layer option of a known {@link PathMtuField} (none when unknown). */
export function udpSizeRule(pathMtu: number | undefined): { udpMaxRequestBytes?: number } {
  return pathMtu === undefined ? {} : { udpMaxRequestBytes: pathMtu - 200 };
}

/** A trust domain (RFC 3325 §2.3): IP addresses and `ADDRESS/BITS` prefixes (checked by {@link checkTrustDomainField}). */
export const TrustDomainField = Type.Array(Str(), {
  default: ['127.0.0.1', '::1'],
  errorMessage: 'must be an array of IP addresses or ADDRESS/BITS prefixes',
  description: 'RFC 3325 §2.3 trust domain: addresses and ADDRESS/BITS prefixes of the nodes whose asserted identities are believed',
});

/** What the schema cannot say about a trust domain (address syntax, prefix lengths): throws `E` naming `field`. */
export function checkTrustDomainField(list: readonly string[], field: string, E: NodeConfigErrorClass): void {
  const problem = checkTrustDomain(list);
  if (problem !== undefined) throw new E(problem, field);
}

/**
 * Checks a parsed JSON document against a node's schema: the decoded configuration with every
 * default filled in, or `E` naming the first wrong field (`config` when it is not an object).
 */
export function parseNodeConfig<S extends TSchema>(schema: S, raw: unknown, E: NodeConfigErrorClass): NoInfer<StaticDecode<S>> {
  if (!isObj(raw)) throw new E('the configuration must be a JSON object', 'config');
  return parseField(schema, raw, '', E);
}

/** Checks one value (a flag, a fragment) against `schema`, naming errors from `field` on. */
export function parseField<S extends TSchema>(schema: S, v: unknown, field: string, E: NodeConfigErrorClass): NoInfer<StaticDecode<S>> {
  const r = checkSchema(schema, v);
  if (r.ok) return r.value;
  const path = field === '' ? r.issue.path : [field, ...r.issue.path];
  throw new E(r.issue.message, path.length === 0 ? 'config' : formatPath(path));
}
