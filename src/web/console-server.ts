/**
 * The console's HTTP server (served by `imsec core --web` and `imsec demo --web`): the page and
 * its assets, the live model as JSON and server-sent events (WHATWG HTML §9.2), the HSS
 * provisioning REST API under `/api/hss` (the same routes and schemas as `imsec hss`), the
 * capture so far as pcap (+ the tshark Lua helper, + the Wireshark esp_sa keys to an
 * authenticated user only), and `/metrics`.
 *
 *   GET  /login, POST /login, POST /logout     token → session cookie (HttpOnly, SameSite=Strict)
 *   GET  /                                     the console
 *   GET  /api/state | /api/ladder | /api/messages/:id
 *   GET  /api/events                           text/event-stream: `message` and `state` events
 *   *    /api/hss/…                            provisioning REST API (K, OP, OPc write-only)
 *   GET  /capture.pcap | /capture.lua | /capture.keys   (pcap and keys: authenticated users only)
 *   GET  /metrics                              Prometheus text format
 *
 * Every request goes through guard.ts (Host check, token or session, CSP and friends).
 */
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { PcapRecorder, espFinderLua, recordPackets, type WireTap } from '../capture/index.js';
import { wiresharkLinesForSas } from '../ipsec/index.js';
import { hssRestServerOptions, registerOperatorRoutes, setupHssRest, type HssServer } from '../nodes/hss/index.js';
import { tokenMatches, type HttpAccess } from './http/index.js';
import { CONSOLE_CSS, CONSOLE_HTML, CONSOLE_JS, LOGIN_HTML, LOGIN_JS } from './assets/index.js';
import { authOf, cookieValue, installGuard, SESSION_COOKIE, Sessions } from './http/index.js';
import type { ConsoleModel, LiveEvent } from './live.js';
import { addMetricsRoute, type MetricsSource } from './metrics-server.js';

/** An HSS process's REST API (`imsec core --processes`): its loopback base URL and the bearer token it takes (null: none). */
export interface HssRestUpstream {
  readonly url: string;
  readonly token: string | null;
}

/** How long a request passed on to the HSS process may take. */
const UPSTREAM_TIMEOUT_MS = 10_000;

export interface ConsoleServerOptions {
  listen: { host: string; port: number };
  access: HttpAccess;
  model: ConsoleModel;
  tap: WireTap;
  /**
   * The provisioning API under /api/hss: the HSS of this process, or the REST API of an HSS
   * process, to which each request is passed on with the core's token (absent: no /api/hss).
   */
  hss?: HssServer | HssRestUpstream;
  metrics?: MetricsSource;
  /** Shortest interval between two `state` events per client (default 250 ms). */
  stateIntervalMs?: number;
}

export interface ConsoleServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

const PUBLIC = ['/login', '/assets/login.js', '/assets/console.css'];

function sseWrite(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Builds the console app (not listening; tests may `inject`). */
export function createConsoleApp(o: Omit<ConsoleServerOptions, 'listen'>): FastifyInstance {
  const app = Fastify({ ...hssRestServerOptions(), forceCloseConnections: true }) as unknown as FastifyInstance;
  const sessions = new Sessions();
  installGuard(app, o.access, { sessions, publicPaths: PUBLIC, loginPath: '/login' });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));

  const page = (html: string) => async (_req: unknown, reply: { type(t: string): unknown }) => {
    reply.type('text/html; charset=utf-8');
    return html;
  };
  const asset = (type: string, text: string) => async (_req: unknown, reply: { type(t: string): unknown }) => {
    reply.type(type);
    return text;
  };
  app.get('/login', page(LOGIN_HTML));
  app.get('/assets/login.js', asset('text/javascript; charset=utf-8', LOGIN_JS));
  app.get('/assets/console.js', asset('text/javascript; charset=utf-8', CONSOLE_JS));
  app.get('/assets/console.css', asset('text/css; charset=utf-8', CONSOLE_CSS));
  app.get('/', page(CONSOLE_HTML));

  app.post('/login', async (req, reply) => {
    const token = (req.body as Record<string, string> | undefined)?.token;
    if (o.access.token !== null && !tokenMatches(o.access.token, token)) return reply.code(401).type('text/html; charset=utf-8').send(LOGIN_HTML.replace('<p id="login-error" role="alert" hidden>', '<p id="login-error" role="alert">'));
    const id = sessions.open();
    void reply.header('Set-Cookie', `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/`);
    return reply.redirect('/', 303);
  });
  app.post('/logout', async (req, reply) => {
    sessions.close(cookieValue(req.headers.cookie, SESSION_COOKIE));
    void reply.header('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
    return reply.redirect('/login', 303);
  });

  app.get('/api/state', async () => o.model.state());
  app.get('/api/ladder', async () => ({ entries: o.model.ladder() }));
  app.get('/api/messages/:id', async (req, reply) => {
    const text = o.model.text(Number((req.params as { id: string }).id));
    if (text === undefined) return reply.code(404).send({ error: 'NOT_FOUND', message: 'no such message (the console keeps the newest 5000)' });
    return { text };
  });
  app.get('/api/session', async (req) => ({ auth: authOf(req) ?? 'open', keys: authOf(req) !== 'open' }));

  // Server-sent events: every ladder entry, and the state at most every stateIntervalMs.
  const streams = new Set<ServerResponse>();
  app.get('/api/events', (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Content-Type-Options': 'nosniff' });
    streams.add(res);
    // The ladder so far first (the page drops what it already has, by id), then live.
    for (const e of o.model.ladder()) sseWrite(res, 'message', e);
    sseWrite(res, 'state', o.model.state());
    let timer: NodeJS.Timeout | undefined;
    const interval = o.stateIntervalMs ?? 250;
    const off = o.model.subscribe((e: LiveEvent) => {
      if (e.type === 'message') sseWrite(res, 'message', e.entry);
      else
        timer ??= setTimeout(() => {
          timer = undefined;
          sseWrite(res, 'state', o.model.state());
        }, interval);
    });
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    const end = (): void => {
      off();
      clearInterval(ping);
      if (timer) clearTimeout(timer);
      streams.delete(res);
    };
    req.raw.on('close', end);
    res.on('close', end);
  });
  app.addHook('preClose', async () => {
    for (const s of [...streams]) s.end();
  });

  // The capture holds IK and CK in the clear (the S-CSCF's 401 to the P-CSCF, the Cx MAAs) and
  // the keys file the ESP keys: both only to a user who proved the token (never with --no-auth).
  const authenticated = (req: FastifyRequest, reply: FastifyReply): boolean => {
    if (authOf(req) !== 'open') return true;
    void reply.code(403).send({ error: 'FORBIDDEN', message: 'the capture and the ESP keys hold key material: they are given only to an authenticated user (start with a token, not --no-auth)' });
    return false;
  };
  app.get('/capture.pcap', async (req, reply) => {
    if (!authenticated(req, reply)) return reply;
    const bytes = recordPackets(new PcapRecorder(), o.tap.packets()).toBytes();
    void reply.type('application/vnd.tcpdump.pcap').header('Content-Disposition', 'attachment; filename="imsec.pcap"');
    return Buffer.from(bytes);
  });
  app.get('/capture.lua', async (_req, reply) => {
    const sas = o.model.allSas();
    void reply.type('text/plain; charset=utf-8').header('Content-Disposition', 'attachment; filename="imsec.lua"');
    return espFinderLua({ spis: sas.map((s) => s.spi), ports: sas.flatMap((s) => [s.src.port, s.dst.port]) });
  });
  app.get('/capture.keys', async (req, reply) => {
    if (!authenticated(req, reply)) return reply;
    const lines = wiresharkLinesForSas(o.model.allSas());
    void reply.type('text/plain; charset=utf-8').header('Content-Disposition', 'attachment; filename="imsec.keys"');
    return lines.length > 0 ? lines.join('\n') + '\n' : '';
  });

  if (o.metrics) addMetricsRoute(app, o.metrics);
  if (o.hss) {
    const hss = o.hss;
    void app.register(
      async (scope) => {
        scope.removeContentTypeParser('application/x-www-form-urlencoded'); // JSON only, as on `imsec hss`
        if ('url' in hss) passOnTo(scope, hss);
        else {
          setupHssRest(scope, hss.provisioningStore);
          registerOperatorRoutes(scope, hss);
        }
      },
      { prefix: '/api/hss' },
    );
  }
  return app;
}

/**
 * Every request of `scope` (/api/hss/…) passed on to the HSS process's REST API: the same method,
 * path, query and JSON body, with the core's token; its status, type and body come back as they
 * are. An HSS that does not answer in time gives 502. The path is appended to the HSS's origin as
 * text, never resolved against it: `/api/hss//elsewhere/…` stays a path of the HSS.
 */
function passOnTo(scope: FastifyInstance, upstream: HssRestUpstream): void {
  scope.all('/*', async (req, reply) => {
    const path = req.url.slice(req.url.indexOf('/api/hss') + '/api/hss'.length);
    const target = `${upstream.url.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (upstream.token !== null) headers.authorization = `Bearer ${upstream.token}`;
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    let r: Response;
    try {
      r = await fetch(target, { method: req.method, headers, body: req.body === undefined ? undefined : JSON.stringify(req.body), signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS), redirect: 'manual' });
    } catch {
      return reply.code(502).send({ error: 'BAD_GATEWAY', message: 'the HSS process did not answer' });
    }
    const type = r.headers.get('content-type');
    if (type !== null) void reply.type(type);
    return reply.code(r.status).send(Buffer.from(await r.arrayBuffer()));
  });
}

/** Starts the console on `listen`. */
export async function startConsoleServer(o: ConsoleServerOptions): Promise<ConsoleServer> {
  const app = createConsoleApp(o);
  await app.listen({ host: o.listen.host, port: o.listen.port });
  const port = (app.server.address() as AddressInfo).port;
  const host = o.listen.host.includes(':') ? `[${o.listen.host}]` : o.listen.host;
  return { port, url: `http://${host}:${port}/`, close: () => app.close() };
}
