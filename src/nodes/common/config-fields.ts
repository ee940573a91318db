/**
 * Field checks shared by the node configurations (nodes/{hss,icscf,scscf,pcscf}/config.ts). A
 * node's JSON configuration is checked field by field; the first value that cannot be used
 * throws that node's {@link NodeConfigError} subclass (code CONFIG, so `imsec <node>` exits 2)
 * whose message starts with the field's path, e.g. `sip.listen: expected HOST:PORT, got "x"`.
 *
 * {@link configFields} binds the checks to one error class, so `instanceof HssConfigError` and
 * friends keep holding for every error a node's parser throws. Pure: no I/O, no globals.
 */
import type { TcpLimits } from '../../sip/transport/tcp.js';
import { checkTrustDomain } from './trust-domain.js';
import { ImsError } from '../../common/errors.js';

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

/** A listen or connect address. */
export interface HostPort {
  host: string;
  port: number;
}

/** The pino levels a `logLevel` setting may name. */
export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A JSON object (not null, not an array). */
export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The field checks of {@link configFields}, each throwing the bound error class naming `field`. */
export interface ConfigFields {
  /** A string, not blank, at most 1024 characters. */
  str: (v: unknown, field: string) => string;
  /** A safe integer in `min..max`. */
  int: (v: unknown, field: string, min: number, max: number) => number;
  /** `true` or `false`. */
  bool: (v: unknown, field: string) => boolean;
  /** An array of {@link ConfigFields.str} values (elements named `field[i]`). */
  strs: (v: unknown, field: string) => string[];
  /** An array of integers in 0..2^32-1 (elements named `field[i]`), e.g. Diameter capability codes. */
  ints: (v: unknown, field: string) => number[];
  /** Refuses any key of `o` not in `keys`, so a misspelt setting never falls back to a default silently. */
  known: (o: Record<string, unknown>, keys: readonly string[], field: string) => void;
  /** `raw[key]` when set: an object holding only `keys`; undefined when absent. */
  section: (raw: Record<string, unknown>, key: string, keys: readonly string[]) => Record<string, unknown> | undefined;
  /** An object of {@link ConfigFields.str} values (named `field.key`); `message` when it is not an object. */
  stringMap: (v: unknown, field: string, message: string) => Record<string, string>;
  /** `HOST:PORT`, `[v6]:PORT` or `{ "host", "port" }`; port 0 lets the OS choose. */
  hostPort: (v: unknown, field: string) => HostPort;
  /** One of {@link LOG_LEVELS}. */
  logLevel: (v: unknown, field: string) => string;
  /** A trust domain (RFC 3325 §2.3): IP addresses and `ADDRESS/BITS` prefixes. */
  trustDomain: (v: unknown, field: string) => string[];
  /** SIP TCP connection limits `{ idleTimeoutMs, partialTimeoutMs, maxConnections, maxConnectionsPerSource }` (each optional). */
  tcpLimits: (v: unknown, field: string) => TcpLimits;
}

/** The shared field checks, throwing `E` (a node's {@link NodeConfigError} subclass). */
export function configFields(E: NodeConfigErrorClass): ConfigFields {
  const str = (v: unknown, field: string): string => {
    if (typeof v !== 'string' || v.trim() === '' || v.length > 1024) throw new E('must be a non-empty string', field);
    return v;
  };
  const int = (v: unknown, field: string, min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw new E(`must be an integer in ${min}..${max}`, field);
    return v;
  };
  const known = (o: Record<string, unknown>, keys: readonly string[], field: string): void => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) throw new E(`unknown setting ${JSON.stringify(k)} (known: ${keys.join(', ')})`, field === '' ? k : `${field}.${k}`);
  };
  return {
    str,
    int,
    known,
    bool: (v, field) => {
      if (typeof v !== 'boolean') throw new E('must be true or false', field);
      return v;
    },
    strs: (v, field) => {
      if (!Array.isArray(v)) throw new E('must be an array of strings', field);
      return v.map((x, i) => str(x, `${field}[${i}]`));
    },
    ints: (v, field) => {
      if (!Array.isArray(v)) throw new E('must be an array of integers', field);
      return v.map((x, i) => int(x, `${field}[${i}]`, 0, 0xffffffff));
    },
    section: (raw, key, keys) => {
      const v = raw[key];
      if (v === undefined) return undefined;
      if (!isObj(v)) throw new E('must be an object', key);
      known(v, keys, key);
      return v;
    },
    stringMap: (v, field, message) => {
      if (!isObj(v)) throw new E(message, field);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, str(x, `${field}.${k}`)]));
    },
    hostPort: (v, field) => {
      if (isObj(v)) return { host: str(v.host, `${field}.host`), port: int(v.port, `${field}.port`, 0, 65535) };
      const s = str(v, field);
      const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
      if (m === null) throw new E(`expected HOST:PORT, got ${JSON.stringify(s)}`, field);
      return { host: m[1], port: int(Number(m[2]), field, 0, 65535) };
    },
    trustDomain: (v, field) => {
      if (!Array.isArray(v)) throw new E('must be an array of IP addresses or ADDRESS/BITS prefixes', field);
      const list = v.map((x, i) => str(x, `${field}[${i}]`));
      const problem = checkTrustDomain(list);
      if (problem !== undefined) throw new E(problem, field);
      return list;
    },
    tcpLimits: (v, field) => {
      if (!isObj(v)) throw new E('must be { "idleTimeoutMs", "partialTimeoutMs", "maxConnections", "maxConnectionsPerSource" }', field);
      known(v, ['idleTimeoutMs', 'partialTimeoutMs', 'maxConnections', 'maxConnectionsPerSource'], field);
      const out: { -readonly [K in keyof TcpLimits]: TcpLimits[K] } = {};
      for (const k of ['idleTimeoutMs', 'partialTimeoutMs'] as const) if (v[k] !== undefined) out[k] = int(v[k], `${field}.${k}`, 0, 86_400_000);
      for (const k of ['maxConnections', 'maxConnectionsPerSource'] as const) if (v[k] !== undefined) out[k] = int(v[k], `${field}.${k}`, 1, 1_000_000);
      return out;
    },
    logLevel: (v, field) => {
      const level = str(v, field);
      if (!LOG_LEVELS.includes(level)) throw new E('must be fatal, error, warn, info, debug, trace or silent', field);
      return level;
    },
  };
}
