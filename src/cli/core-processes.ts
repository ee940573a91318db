/**
 * `imsec core --processes`: the core of `imsec core` (the same configuration, data directory and
 * stores) with each node a process of its own, `imsec hss|scscf|icscf|pcscf --config FILE`, so that
 * it can use a core per node. One process is one event loop and so one core: `imsec bench
 * core-layout` measured the four processes at 1.30 to 2.03 times the registrations/s of one on the
 * project's 2 cores (three runs), at about the same CPU per registration (issue [K]).
 *
 * 1. Ports given as 0 for the S-CSCF and the I-CSCF are chosen first (each names the other before
 *    it starts: the S-CSCF's Server-Name carries its port, the S-CSCF sends to the I-CSCF).
 * 2. The subscribers of the configuration are provisioned into the HSS store from here, once.
 * 3. The HSS starts, then the S-CSCF, the I-CSCF and the P-CSCF together, each with the
 *    configuration `imsec core` would give it in-process (nodes/core/config.ts `nodeConfigInput`),
 *    written to DATA_DIR/processes/ (mode 0600). Their log lines go to this process's stderr. A
 *    signal while they start stops those started.
 * 4. One ready line as `imsec core` prints it, with `"layout":"processes"` and each node's pid.
 * 5. SIGTERM or SIGINT stops them, the P-CSCF first and the HSS last. A node that exits by itself
 *    stops the others, and the command fails naming it.
 *
 * HTTP. The HSS REST API (`hss.rest`) is the HSS process's own. `--metrics HOST:PORT` is served
 * here: each node process serves its own on a loopback port, and every scrape of this one reads
 * them and joins them, each sample labelled with its process (metrics/merge.ts). Every listener,
 * the nodes' included, takes the one access rule of the core: `--no-auth`, or one token (the
 * `--token-file`, or one generated here, printed once in the ready line and handed to the nodes in
 * a file of mode 0600 beside their configurations); `--allowed-host` goes to each. The flags are
 * checked here first: --no-auth off loopback or an unreadable token file exit 2 before anything
 * starts.
 *
 * Operator commands. `--admin-stdin` starts the S-CSCF process with its own `--admin-stdin`: once
 * the core's ready line is out, this process's stdin is piped to the S-CSCF's, and each answer
 * line it writes comes out on this process's stdout, as `imsec core` gives them in one process.
 *
 * The web console (`--web`). Each node process is started with `--console-feed` and an IPC
 * channel, over which it reports its wire (SIP, Diameter, the P-CSCF's ESP) and its tables (the
 * P-CSCF's SAs, SA sets and registrations, the S-CSCF's registrations); the console here joins
 * them (web/processes-console.ts) and shows what `imsec core --web` shows in one process: the
 * ladder of every leg (ESP decoded with the P-CSCF's keys), the registrations and SA tables, the
 * capture and the esp_sa keys (to an authenticated user), /metrics (the four processes', joined)
 * and /api/hss, passed on to the HSS process's REST API (started on a loopback port when the
 * configuration has none) with the core's token.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger } from '../common/log.js';
import { mergeExpositions } from '../metrics/index.js';
import { nodeConfigInput, nodeNames, provisionCoreSubscribers, type CoreConfig } from '../nodes/core/index.js';
import { openStore } from '../store/index.js';
import { FeedSources, startProcessesConsole, startMetricsServer, type MetricsListener } from '../web/index.js';
import { CliFailure } from './errors.js';
import { parseListen, ProcessAccess, type HttpFlags } from './http-flags.js';
import { freePort, startNode, type NodeProcess } from './scale-out-topology.js';

type NodeKind = 'hss' | 'scscf' | 'icscf' | 'pcscf';
/** The P-CSCF first (no new registrations), the HSS last (the others' Diameter peer). */
const STOP_ORDER: readonly NodeKind[] = ['pcscf', 'icscf', 'scscf', 'hss'];
/** The order they start in, and in which one /metrics lists them. */
const START_ORDER: readonly NodeKind[] = ['hss', 'scscf', 'icscf', 'pcscf'];
/** How long a scrape of the core waits for a node's /metrics. */
const NODE_SCRAPE_MS = 5_000;
/** The most a node's /metrics may be (it is text of a few hundred kB). */
const NODE_SCRAPE_MAX_BYTES = 16 * 2 ** 20;

/**
 * Checks the HTTP access flags of the listeners there will be (see the module comment): their
 * access rule, for {@link runCoreProcesses}, or undefined when the core serves no HTTP. `web`:
 * where the console listens (`--web`), if it is served.
 */
export function checkProcessesLayout(config: CoreConfig, o: HttpFlags, web?: Listen): ProcessAccess | undefined {
  if (o.metrics === undefined && config.hss.rest === null && web === undefined) return undefined;
  const access = new ProcessAccess(o);
  if (web !== undefined) access.for(web.host);
  if (o.metrics !== undefined) access.for(parseListen(o.metrics, '--metrics').host);
  if (config.hss.rest !== null) access.for(config.hss.rest.host);
  return access;
}

type Listen = { host: string; port: number };

/** A URL on which this host reaches a listener on `l` (a wildcard address through loopback). */
function localUrl(l: Listen): string {
  const host = l.host === '0.0.0.0' ? '127.0.0.1' : l.host === '::' ? '::1' : l.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${l.port}/`;
}

/**
 * The HTTP flags of the node processes: the core's access rule (its token through a file) and,
 * with `metrics`, `--metrics` on a loopback port (the core's /metrics or console joins them).
 */
function nodeHttpArgs(o: HttpFlags, token: string | null, dir: string, metrics: boolean): string[] {
  let tokenArgs: string[] = ['--no-auth'];
  if (token !== null) {
    const file = o.tokenFile !== undefined ? resolve(o.tokenFile) : join(dir, 'http-token');
    if (o.tokenFile === undefined) writeFileSync(file, `${token}\n`, { mode: 0o600 });
    tokenArgs = ['--token-file', file];
  }
  return [...tokenArgs, ...(o.allowedHost ?? []).flatMap((h) => ['--allowed-host', h]), ...(metrics ? ['--metrics', '127.0.0.1:0'] : [])];
}

/** A node's /metrics text, or undefined when it does not answer in time (the merge marks it down). */
async function scrapeNode(port: unknown, token: string | null): Promise<string | undefined> {
  if (typeof port !== 'number') return undefined;
  try {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: token === null ? {} : { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(NODE_SCRAPE_MS) });
    if (!r.ok || r.body === null) return undefined;
    return await readCapped(r.body, NODE_SCRAPE_MAX_BYTES);
  } catch {
    return undefined;
  }
}

/**
 * The UTF-8 text of `body`, or undefined once it passes `max` bytes: the rest is then not read
 * (the stream is cancelled), so an oversized answer never sits whole in memory.
 */
export async function readCapped(body: ReadableStream<Uint8Array>, max: number): Promise<string | undefined> {
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(parts, n).toString('utf8');
    n += value.byteLength;
    if (n > max) {
      await reader.cancel();
      return undefined;
    }
    parts.push(value);
  }
}

/**
 * Runs the core as four processes until SIGTERM/SIGINT; resolves after every node stopped.
 * `access`: what {@link checkProcessesLayout} returned for `http` and `web`. `admin`: where the
 * S-CSCF's operator commands come from (`--admin-stdin`), their answers going to `out`. `web`:
 * where the console listens, if it is served.
 */
export async function runCoreProcesses(config: CoreConfig, http: HttpFlags, access: ProcessAccess | undefined, out: NodeJS.WritableStream = process.stdout, admin?: NodeJS.ReadableStream, web?: Listen): Promise<void> {
  const log = createLogger('core', { level: config.logLevel });
  const host = config.host;
  // 1. The ports each node names before the other starts.
  const scscfPort = config.scscf.sipPort === 0 ? await freePort(host) : config.scscf.sipPort;
  const icscfPort = config.icscf.sipPort === 0 ? await freePort(host) : config.icscf.sipPort;
  const c: CoreConfig = { ...config, scscf: { ...config.scscf, sipPort: scscfPort }, icscf: { ...config.icscf, sipPort: icscfPort } };
  const names = nodeNames(c.realm);
  // The S-CSCF's Server-Name names its (now fixed) port; the HSS and the I-CSCF are told it.
  const serverName = String(nodeConfigInput.scscf(c, { hssPort: 0, icscfPort }).serverName);
  // The console passes /api/hss on to the HSS process's REST API: one on loopback if none is configured.
  const hssRest = web !== undefined && c.hss.rest === null ? { host: '127.0.0.1', port: 0 } : c.hss.rest;
  const hssInput: Record<string, unknown> = { ...nodeConfigInput.hss(c, serverName), ...(hssRest !== c.hss.rest ? { rest: { listen: hssRest } } : {}) };
  // 2. The subscribers, into the store the HSS will open.
  mkdirSync(c.dataDir, { recursive: true });
  const store = await openStore(String(hssInput.store));
  let provisioned: readonly { impi: string }[];
  try {
    provisioned = await provisionCoreSubscribers(store, c.subscribers);
  } finally {
    await store.close();
  }
  // 3. The nodes: the HSS, then the others together (each one's peers' ports are known by now).
  const dir = join(c.dataDir, 'processes');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // HTTP: one access rule for every listener of the core, the nodes' included.
  const metricsListen = http.metrics === undefined ? undefined : parseListen(http.metrics, '--metrics');
  const token = access === undefined ? null : access.for('127.0.0.1').token;
  const nodeMetrics = metricsListen !== undefined || web !== undefined;
  const httpArgs = access === undefined ? [] : nodeHttpArgs(http, token, dir, nodeMetrics);
  const feedArgs = web === undefined ? [] : ['--console-feed'];
  const argsOf = (kind: NodeKind): string[] => [...(nodeMetrics || (kind === 'hss' && hssRest !== null) ? httpArgs : []), ...feedArgs];
  const feed = web === undefined ? undefined : new FeedSources();
  let metrics: MetricsListener | undefined;
  let webConsole: Awaited<ReturnType<typeof startProcessesConsole>> | undefined;
  const nodes = new Map<NodeKind, NodeProcess>();
  const spawned = new Set<ChildProcess>();
  let signalled: string | undefined;
  let requested: (why: string) => void = () => undefined;
  const stopRequested = new Promise<string>((resolve) => (requested = resolve));
  // A node still starting has no ready line to wait for: it is stopped at once.
  const stopStarting = (): void => {
    const ready = new Set([...nodes.values()].map((n) => n.proc));
    for (const p of spawned) if (!ready.has(p) && p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
  };
  const onSignal = (sig: string) => (): void => {
    signalled ??= sig;
    requested(sig);
    stopStarting();
  };
  const onTerm = onSignal('SIGTERM');
  const onInt = onSignal('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  const start = async (kind: NodeKind, input: Record<string, unknown>, args: readonly string[] = [], forwardStdout?: NodeJS.WritableStream): Promise<NodeProcess> => {
    const n = await startNode(kind, kind, input, dir, { forwardStderr: process.stderr, onSpawn: (p) => spawned.add(p), args, ...(forwardStdout ? { forwardStdout } : {}), ...(feed ? { onMessage: (m: unknown) => feed.receive(m) } : {}) });
    nodes.set(kind, n);
    return n;
  };
  let died: NodeProcess | undefined;
  let adminTo: NodeJS.WritableStream | undefined;
  try {
    let pcscf: NodeProcess | undefined;
    let hss: Record<string, unknown> = {};
    let hssPort = 0;
    try {
      hss = (await start('hss', hssInput, argsOf('hss'))).ready;
      hssPort = Number(hss.diameterPort);
      [, , pcscf] = await Promise.all([
        start('scscf', nodeConfigInput.scscf(c, { hssPort, icscfPort }), admin ? [...argsOf('scscf'), '--admin-stdin'] : argsOf('scscf'), admin ? out : undefined),
        start('icscf', nodeConfigInput.icscf(c, { hssPort, scscfServerName: serverName }), argsOf('icscf')),
        start('pcscf', nodeConfigInput.pcscf(c, { icscfPort, scscfPort }), argsOf('pcscf')),
      ]);
      // One /metrics: every scrape reads the nodes' own and joins them.
      const scrape = async (): Promise<string> =>
        mergeExpositions(await Promise.all(START_ORDER.map(async (k) => ({ process: k, text: await scrapeNode(nodes.get(k)?.ready.metricsPort, token) }))));
      if (metricsListen !== undefined && access !== undefined) {
        metrics = await startMetricsServer({ metrics: scrape }, metricsListen, access.for(metricsListen.host)).catch((err: unknown) => {
          throw new CliFailure(`cannot serve metrics on ${http.metrics}: ${(err as Error).message}`);
        });
      }
      if (web !== undefined && feed !== undefined && access !== undefined) {
        webConsole = await startProcessesConsole({ feed, hss: { url: localUrl({ host: hssRest?.host ?? '127.0.0.1', port: Number(hss.restPort) }), token }, metrics: { metrics: scrape }, listen: web, access: access.for(web.host) }).catch((err: unknown) => {
          throw new CliFailure(`cannot serve the console on ${web.host}:${web.port}: ${(err as Error).message}`);
        });
      }
    } catch (err) {
      // A node that failed to start, or one stopped by a signal while it started.
      if (signalled === undefined) throw err;
    }
    if (signalled !== undefined || pcscf === undefined) return;
    // 4. One ready line, as `imsec core` prints it.
    const rest = c.hss.rest === null || typeof hss.restPort !== 'number' ? null : { address: c.hss.rest.host, port: hss.restPort };
    const ready = access?.readyFields();
    out.write(
      JSON.stringify({
        ready: true,
        layout: 'processes',
        realm: c.realm,
        dataDir: c.dataDir,
        hss: { diameter: { address: host, port: hssPort }, rest, originHost: names.hss },
        scscf: { sip: { address: host, port: scscfPort }, serverName },
        icscf: { sip: { address: host, port: icscfPort } },
        pcscf: {
          sip: { address: host, port: Number(pcscf.ready.sip) },
          protectedPorts: c.pcscf.protectedPorts === null ? 'auto' : `${c.pcscf.protectedPorts.min}-${c.pcscf.protectedPorts.max}`,
          datapath: c.pcscf.datapath,
        },
        subscribers: provisioned.map((p) => p.impi),
        pids: Object.fromEntries(STOP_ORDER.map((k) => [k, nodes.get(k)!.proc.pid])),
        ...(webConsole !== undefined ? { web: { url: webConsole.server.url, port: webConsole.server.port, ...(ready?.token !== undefined ? { login: `${webConsole.server.url}login#token=${ready.token}` } : {}) } } : {}),
        ...(metrics !== undefined ? { metricsPort: metrics.port } : {}),
        ...ready,
      }) + '\n',
    );
    // The operator's commands reach the S-CSCF only now, after the core's ready line.
    adminTo = admin === undefined ? undefined : (nodes.get('scscf')?.proc.stdin ?? undefined);
    if (adminTo) admin!.pipe(adminTo);
    // 5. Until a signal, or until a node exits by itself.
    const exitOf = (n: NodeProcess): Promise<NodeProcess> => new Promise((resolve) => (n.proc.exitCode !== null || n.proc.signalCode !== null ? resolve(n) : n.proc.once('exit', () => resolve(n))));
    died = await Promise.race([stopRequested.then(() => undefined), ...[...nodes.values()].map(exitOf)]);
    log.info({ why: died ? `${died.name} exited` : signalled }, 'core: stopping');
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    stopStarting();
    if (adminTo) {
      admin!.unpipe(adminTo);
      admin!.pause();
    }
    await webConsole?.close();
    await metrics?.close();
    for (const kind of STOP_ORDER) await nodes.get(kind)?.stop();
    rmSync(join(dir, 'http-token'), { force: true });
  }
  if (died !== undefined) {
    const how = died.proc.signalCode !== null ? `signal ${died.proc.signalCode}` : `code ${died.proc.exitCode}`;
    const why = lastError(died.stderr());
    throw new CliFailure(`the ${died.name} process exited (${how}), so the core stopped${why ? `: ${why}` : ''}`);
  }
}

/** The last line a node wrote that says what went wrong: a plain line (the CLI's), or a log line at error level or above. */
function lastError(stderr: string): string | undefined {
  for (const line of stderr.trim().split('\n').reverse()) {
    if (!line.startsWith('{')) return line.slice(0, 300);
    try {
      const e = JSON.parse(line) as { level?: number; msg?: string };
      if ((e.level ?? 0) >= 50) return String(e.msg).slice(0, 300);
    } catch {
      return line.slice(0, 300);
    }
  }
  return undefined;
}
