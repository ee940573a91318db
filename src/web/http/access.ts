/**
 * Who may use an HTTP listener of imsec (the HSS REST API, the console, /metrics): pure
 * decisions, no sockets.
 *
 * - A token is required whenever a listener is bound anywhere but loopback; on loopback too,
 *   unless the operator says `--no-auth` (a refusal when the bind address is not loopback). The
 *   token is the configured one, or 32 random bytes generated at start (base64url) and printed
 *   once in the ready line. It is compared in constant time, through SHA-256 digests so that the
 *   lengths never differ (no early exit on length).
 * - The Host header must name this listener: DNS rebinding (a page of evil.example resolving to
 *   127.0.0.1) sends `Host: evil.example` and is refused with 421 (RFC 9110 §15.5.20). The names
 *   accepted are the bound address, the loopback names when bound to loopback, every interface
 *   address and the host name when bound to a wildcard, and any name configured.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { ImsError } from '../../common/index.js';
import { cryptoRng, type Rng } from '../../common/index.js';
import { canonicalIp, isLoopback } from './loopback.js';

/** An HTTP access setting that cannot be used (CLI exit 2). */
export class HttpAccessError extends ImsError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}

export interface HttpAccessOptions {
  /** The address the listener binds (`127.0.0.1`, `::1`, `0.0.0.0`, `192.0.2.7`…). */
  listenHost: string;
  /** A configured token (at least 16 characters). */
  token?: string;
  /** No token on loopback (`--no-auth`); refused for any other bind address. */
  noAuth?: boolean;
  /** More names the Host header may carry (a DNS name of this host, a reverse proxy's name). */
  allowedHosts?: readonly string[];
  rng?: Rng;
}

/** The access rule of a listener. */
export interface HttpAccess {
  /** The bearer token; null when `--no-auth` on loopback. */
  readonly token: string | null;
  /** True when the token was generated here (it is then printed once at start). */
  readonly generated: boolean;
  /** Host header names accepted, lower case, without port or brackets. */
  readonly hosts: ReadonlySet<string>;
}

/** Shortest configured token accepted (a generated one has 43 characters). */
export const MIN_TOKEN_LENGTH = 16;

/** 32 random bytes, base64url: 256 bits, safe in a header, a cookie and a file. */
export function generateToken(rng: Rng = cryptoRng): string {
  return Buffer.from(rng.bytes(32)).toString('base64url');
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** The Host names a listener on `listenHost` answers to. */
export function hostNamesFor(listenHost: string, extra: readonly string[] = []): Set<string> {
  const names = new Set<string>(extra.map((h) => h.toLowerCase()));
  const bound = canonicalIp(listenHost);
  names.add(bound.toLowerCase());
  if (isLoopback(bound) || WILDCARDS.has(bound)) for (const n of ['localhost', '127.0.0.1', '::1']) names.add(n);
  if (WILDCARDS.has(bound)) {
    names.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) names.add(canonicalIp(i.address).toLowerCase());
  }
  return names;
}

/** Decides the access rule of a listener (see the module comment). Throws {@link HttpAccessError}. */
export function resolveHttpAccess(o: HttpAccessOptions): HttpAccess {
  const hosts = hostNamesFor(o.listenHost, o.allowedHosts);
  if (o.noAuth && o.token !== undefined) throw new HttpAccessError('--no-auth and a token exclude each other');
  if (o.noAuth) {
    if (!isLoopback(canonicalIp(o.listenHost))) throw new HttpAccessError(`--no-auth is only allowed on loopback; ${o.listenHost} is not (give a token)`);
    return { token: null, generated: false, hosts };
  }
  if (o.token !== undefined) {
    const t = o.token.trim();
    if (t.length < MIN_TOKEN_LENGTH) throw new HttpAccessError(`the token must have at least ${MIN_TOKEN_LENGTH} characters`);
    if (!/^[\x21-\x7e]+$/.test(t)) throw new HttpAccessError('the token must be printable ASCII without spaces');
    return { token: t, generated: false, hosts };
  }
  return { token: generateToken(o.rng), generated: true, hosts };
}

/** Constant-time comparison of a presented token with the expected one. */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

/** The host name of a Host header value (RFC 9110 §7.2: uri-host [":" port]), lower case, brackets removed; undefined when malformed. */
export function hostOfHeader(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  const m = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(v) ?? /^([a-z0-9._-]+)(?::\d{1,5})?$/.exec(v);
  return m ? canonicalIp(m[1]) : undefined;
}

/** True when the Host header names this listener. */
export function hostAllowed(access: HttpAccess, hostHeader: string | undefined): boolean {
  const h = hostOfHeader(hostHeader);
  return h !== undefined && access.hosts.has(h);
}
