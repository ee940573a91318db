/**
 * The access check of every imsec HTTP listener, as a fastify `onRequest` hook (see access.ts for
 * the rules):
 *
 * 1. Host header not naming this listener → 421 Misdirected Request (DNS rebinding).
 * 2. With a token: `Authorization: Bearer <token>` (RFC 6750 §2.1), or the console's session
 *    cookie (HttpOnly, SameSite=Strict) given by `POST /login`; otherwise 401 with
 *    `WWW-Authenticate: Bearer realm="imsec"` (a browser asking for a page is sent to /login).
 * 3. A request authenticated by the cookie that changes something (POST, PATCH, PUT, DELETE) must
 *    carry an Origin naming this listener (cross-site request forgery) → 403 otherwise.
 *
 * Every answer also gets the browser security headers: a Content-Security-Policy allowing only
 * this origin's scripts, styles and connections (no inline script, no framing), nosniff, no
 * referrer, no caching.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { cryptoRng, type Rng } from '../../common/index.js';
import { hostAllowed, hostOfHeader, tokenMatches, type HttpAccess } from './access.js';

/** W3C CSP Level 3: only this origin, no inline code, no framing, forms only to this origin. */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const SESSION_COOKIE = 'imsec_session';
const SESSION_TTL_MS = 12 * 3600 * 1000;
const MAX_SESSIONS = 1000;
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Console sessions: random ids in memory (a restart logs everyone out). */
export class Sessions {
  private readonly ids = new Map<string, number>();
  constructor(
    private readonly rng: Rng = cryptoRng,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new session id. */
  open(): string {
    if (this.ids.size >= MAX_SESSIONS) this.ids.delete(this.ids.keys().next().value as string);
    const id = Buffer.from(this.rng.bytes(32)).toString('base64url');
    this.ids.set(id, this.now() + SESSION_TTL_MS);
    return id;
  }

  valid(id: string | undefined): boolean {
    if (id === undefined) return false;
    const until = this.ids.get(id);
    if (until === undefined) return false;
    if (until < this.now()) {
      this.ids.delete(id);
      return false;
    }
    return true;
  }

  close(id: string | undefined): void {
    if (id !== undefined) this.ids.delete(id);
  }
}

/** The value of one cookie in a Cookie header (RFC 6265 §5.4). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export interface GuardOptions {
  /** Console sessions (cookie login); absent for APIs used by programs only. */
  sessions?: Sessions;
  /** Paths served without a token (the login page and its script and style). */
  publicPaths?: readonly string[];
  /** Send a browser asking for HTML to this path instead of a bare 401. */
  loginPath?: string;
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  const m = h === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

/** How a request proved who it is: the token, the session cookie, or nothing needed. */
export type Authenticated = 'token' | 'session' | 'open';

/** Checks one request; undefined when it is refused (the reply is sent). */
export function checkRequest(access: HttpAccess, opts: GuardOptions, req: FastifyRequest, reply: FastifyReply): Authenticated | undefined {
  if (!hostAllowed(access, req.headers.host)) {
    void reply.code(421).send({ error: 'MISDIRECTED_REQUEST', message: 'this server does not answer to that Host name' });
    return undefined;
  }
  const path = req.url.split('?')[0];
  if (access.token === null || opts.publicPaths?.includes(path)) return 'open';
  if (tokenMatches(access.token, bearer(req))) return 'token';
  if (opts.sessions?.valid(cookieValue(req.headers.cookie, SESSION_COOKIE))) {
    if (UNSAFE.has(req.method) && !sameOrigin(access, req.headers.origin)) {
      void reply.code(403).send({ error: 'FORBIDDEN', message: 'cross-origin request refused' });
      return undefined;
    }
    return 'session';
  }
  if (opts.loginPath && req.method === 'GET' && /text\/html/.test(req.headers.accept ?? '')) {
    void reply.redirect(opts.loginPath, 303);
    return undefined;
  }
  void reply.code(401).header('WWW-Authenticate', 'Bearer realm="imsec"').send({ error: 'UNAUTHORIZED', message: 'a bearer token is required' });
  return undefined;
}

/** True when an Origin header names this listener (`http://host[:port]`). */
function sameOrigin(access: HttpAccess, origin: string | undefined): boolean {
  if (origin === undefined) return false;
  const m = /^https?:\/\/(.+)$/i.exec(origin.trim());
  return m !== null && hostOfHeader(m[1]) !== undefined && hostAllowed(access, m[1]);
}

/** Adds the security headers to every answer of `app`. */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_req, reply, payload) => {
    void reply.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    void reply.header('X-Content-Type-Options', 'nosniff');
    void reply.header('Referrer-Policy', 'no-referrer');
    void reply.header('X-Frame-Options', 'DENY');
    void reply.header('Cross-Origin-Resource-Policy', 'same-origin');
    if (!reply.hasHeader('Cache-Control')) void reply.header('Cache-Control', 'no-store');
    return payload;
  });
}

/** Installs the Host and token check and the security headers on `app` (before its routes are used). */
export function installGuard(app: FastifyInstance, access: HttpAccess, opts: GuardOptions = {}): void {
  installSecurityHeaders(app);
  app.addHook('onRequest', async (req, reply) => {
    const who = checkRequest(access, opts, req, reply);
    if (who === undefined) return reply;
    (req as FastifyRequest & { imsecAuth?: Authenticated }).imsecAuth = who;
    return undefined;
  });
}

/** How the request was authenticated (set by the guard). */
export function authOf(req: FastifyRequest): Authenticated | undefined {
  return (req as FastifyRequest & { imsecAuth?: Authenticated }).imsecAuth;
}
