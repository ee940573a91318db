/**
 * The flags every process with an HTTP listener shares (REST, console, metrics; web/access.ts):
 *
 *   --token-file FILE      the bearer token (first line of FILE); default: one generated at start
 *                          and printed once in the ready line as "token"
 *   --no-auth              no token (loopback listeners only; refused elsewhere)
 *   --allowed-host NAME    another name the Host header may carry (repeatable)
 *   --metrics HOST:PORT    serve /metrics there (node processes; the core serves it with --web)
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { tapDiameterTransport } from '../capture/index.js';
import { type DiameterTransport } from '../diameter/index.js';
import { tcpTransport } from '../diameter/io.js';
import { ImsError, InvalidArgumentError } from '../common/index.js';
import { CliFailure } from './errors.js';
import { serveUntilSignal } from './node-process.js';
import { MetricsHub } from '../metrics/index.js';
import { fastifyRestWith } from '../nodes/hss/index.js';
import type { RestFactory } from '../nodes/hss/index.js';
import type { Logger } from '../common/log.js';
import { generateToken, resolveHttpAccess, type HttpAccess, startMetricsServer, type MetricsListener } from '../web/index.js';

export interface HttpFlags {
  tokenFile?: string;
  /** commander's `--no-auth`: false when given. */
  auth?: boolean;
  allowedHost?: string[];
  metrics?: string;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Adds the shared flags (see the module comment) to a command. */
export function addHttpOptions(cmd: Command, what: string, metrics = true): Command {
  cmd
    .option('--token-file <file>', `bearer token for the ${what} (first line of the file; default: generated and printed at start)`)
    .option('--no-auth', `no token for the ${what} (only when bound to loopback)`)
    .option('--allowed-host <name>', 'another Host header name to accept (repeatable)', collect, []);
  if (metrics) cmd.option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics');
  return cmd;
}

/** Reads the token file: its first line, trimmed. Never echoes the content. */
export function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`--token-file: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, '--token-file');
  }
  const t = text.split(/\r?\n/)[0].trim();
  if (t === '') throw new InvalidArgumentError(`--token-file: ${path} is empty`, '--token-file');
  return t;
}

/**
 * The access rule of every HTTP listener of one process: one token for all of them (read from
 * `--token-file`, or generated once), or `--no-auth`, which each listener checks against its own
 * bind address.
 */
export class ProcessAccess {
  private readonly token: string | undefined;
  private readonly generated: boolean;
  private readonly noAuth: boolean;
  private readonly allowedHosts: string[];

  constructor(o: HttpFlags) {
    this.noAuth = o.auth === false;
    if (this.noAuth && o.tokenFile !== undefined) throw new InvalidArgumentError('--no-auth and --token-file exclude each other', '--no-auth');
    this.token = o.tokenFile !== undefined ? readTokenFile(o.tokenFile) : this.noAuth ? undefined : generateToken();
    this.generated = o.tokenFile === undefined && !this.noAuth;
    this.allowedHosts = o.allowedHost ?? [];
  }

  /** The rule of a listener bound to `listenHost` (throws for --no-auth off loopback). */
  for(listenHost: string): HttpAccess {
    const a = resolveHttpAccess({ listenHost, ...(this.noAuth ? { noAuth: true } : { token: this.token }), allowedHosts: this.allowedHosts });
    return { ...a, generated: this.generated };
  }

  /** The ready-line fields: `auth`, and `token` when it was generated here (printed this once). */
  readyFields(): { auth: 'token' | 'none'; token?: string } {
    return this.noAuth ? { auth: 'none' } : { auth: 'token', ...(this.generated && this.token !== undefined ? { token: this.token } : {}) };
  }
}

/** `host:port` of an HTTP listener flag. */
export function parseListen(v: string, flag: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(v) ?? /^([^:\s]+):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new InvalidArgumentError(`${flag}: expected host:port, e.g. 127.0.0.1:9090`, flag);
  return { host: m[1], port };
}

/** Starts `--metrics` when given; resolves to the listener. */
export async function startProcessMetrics(o: HttpFlags, hub: MetricsHub, log: Logger, access: ProcessAccess): Promise<MetricsListener | undefined> {
  if (o.metrics === undefined) return undefined;
  const listen = parseListen(o.metrics, '--metrics');
  const listener = await startMetricsServer(hub, listen, access.for(listen.host));
  log.info({ port: listener.port }, 'metrics: serving /metrics');
  return listener;
}

/**
 * `--metrics` of a node process without any other HTTP listener: the hub (its nodes added by
 * `add`), the listener, the ready-line fields (`metricsPort`, `auth`, a generated `token`) and the
 * stop. Without `--metrics`, nothing is started and there are no fields.
 */
export async function nodeMetrics(o: HttpFlags, log: Logger, hub: MetricsHub | undefined): Promise<{ fields: Record<string, unknown>; close(): Promise<void> }> {
  if (o.metrics === undefined || hub === undefined) return { fields: {}, close: async () => undefined };
  const access = accessOfHub.get(hub) ?? new ProcessAccess(o);
  const listener = await startProcessMetrics(o, hub, log, access);
  return {
    fields: { metricsPort: listener?.port ?? null, ...access.readyFields() },
    close: async () => {
      await listener?.close();
      hub.close();
    },
  };
}

const accessOfHub = new WeakMap<MetricsHub, ProcessAccess>();

/**
 * A hub when `--metrics` is given, created before the node so its Diameter connections can be
 * observed. The flags are checked first (--no-auth off loopback, an unreadable token file: exit 2
 * before anything starts).
 */
export function metricsHubFor(o: HttpFlags): MetricsHub | undefined {
  if (o.metrics === undefined) return undefined;
  const access = new ProcessAccess(o);
  access.for(parseListen(o.metrics, '--metrics').host);
  const hub = new MetricsHub();
  accessOfHub.set(hub, access);
  return hub;
}

/** The Diameter transport of a node process: plain TCP, observed by the hub when there is one. */
export function meteredDiameter(hub: MetricsHub | undefined, node: string): DiameterTransport {
  return hub ? tapDiameterTransport(tcpTransport, hub.diameterSink(node)) : tcpTransport;
}

/**
 * The end of every node runner: start `--metrics` (stopping the node if that fails), print the
 * ready line with the metrics fields, serve until a signal, then close the metrics and stop the node.
 */
export async function announceAndServe(name: string, o: HttpFlags, log: Logger, hub: MetricsHub | undefined, stopNode: () => Promise<void>, ready: Record<string, unknown>, out: NodeJS.WritableStream): Promise<void> {
  let metrics: Awaited<ReturnType<typeof nodeMetrics>>;
  try {
    metrics = await nodeMetrics(o, log, hub);
  } catch (err) {
    await stopNode();
    throw err instanceof ImsError ? err : new CliFailure(`cannot serve metrics: ${(err as Error).message}`);
  }
  out.write(JSON.stringify({ ...ready, ...metrics.fields }) + '\n');
  await serveUntilSignal(
    name,
    async () => {
      await metrics.close();
      await stopNode();
    },
    log,
  );
}

/** The HSS REST listener behind the process's access rule (the same token as its other listeners). */
export function restFactoryFor(access: ProcessAccess): RestFactory {
  return (ctx) => {
    const a = access.for(ctx.listen.host);
    return fastifyRestWith({ ...(a.token === null ? { noAuth: true } : { token: a.token }), allowedHosts: [...a.hosts] })(ctx).then((l) => ({ ...l, access: a }));
  };
}
