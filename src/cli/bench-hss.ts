/**
 * `imsec bench hss [--json] [--pg URL|--no-pg]`: MAR→MAA per second through a real HSS over
 * loopback Diameter, with durable SQN (every MAA's SQNs are committed before it is sent).
 *
 * The HSS runs as its own process (`imsec hss`, the same binary as in service) on a fresh store
 * holding 1000 subscribers; this process is one S-CSCF peer keeping `inFlight` (default 32) MARs outstanding
 * (each for a different subscriber, one vector each, as Kamailio's av_request_at_once=1 asks) and
 * timing each MAR from send to MAA. After a warm-up that sends every subscriber its first MAR
 * (which also stores the S-CSCF name), the figures are the median rate of several rounds, p50/p99
 * latency over every request of those rounds, and the HSS process's CPU time per MAR (its cost
 * on a core of its own, a figure that holds on a busy machine where the rate does not). Backends: the embedded SQLite (WAL,
 * synchronous=NORMAL: commits survive a process crash) and PostgreSQL, either `--pg URL` (a
 * database the benchmark may fill) or a throwaway server started from Debian's binaries
 * (/usr/lib/postgresql/<v>/bin) when they are installed.
 */
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeOpc } from '../auth/index.js';
import { SeededRng } from '../common/index.js';
import { buildMar, cxCapabilities, getValue, type DiameterMessage } from '../diameter/index.js';
import { DiameterNode } from '../diameter/io.js';
import { openStore, type NewSubscriber } from '../store/index.js';
import { median, type BenchRegistrar } from './bench.js';
import { CliFailure } from './errors.js';
import { cpuMsOf } from './proc-stats.js';

export interface HssBackendResult {
  backend: 'sqlite' | 'postgres';
  mar_per_s: number;
  p50_ms: number;
  p99_ms: number;
  /** CPU time (user + system) the HSS process spent per MAR, µs: its cost on a core of its own, whatever else runs. */
  hss_cpu_us_per_mar: number | null;
  in_flight: number;
  vectors_per_mar: number;
  requests: number;
  errors: number;
}

export interface HssBenchResult {
  sqlite: HssBackendResult;
  postgres: HssBackendResult | { skipped: string };
  node: string;
}

export interface HssBenchOptions {
  /** Length of one measured round, ms (default 2000). */
  ms?: number;
  rounds?: number;
  inFlight?: number;
  subscribers?: number;
  vectorsPerMar?: number;
  /** A PostgreSQL URL to use; null: skip PostgreSQL; undefined: a throwaway server if installed. */
  pg?: string | null;
}

const SCSCF = 'bench-scscf.ims.lab';
const HSS = 'hss.ims.lab';

/** argv that runs this CLI (compiled, or from source through tsx). */
function imsecArgv(): string[] {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts') ? [process.execPath, '--import', 'tsx', join(dirname(here), 'main.ts')] : [process.execPath, join(dirname(here), 'main.js')];
}

function subscribers(n: number): NewSubscriber[] {
  const rng = new SeededRng('bench-hss');
  return Array.from({ length: n }, (_, i) => {
    const k = rng.bytes(16);
    return {
      impi: `user${i}@ims.lab`,
      k,
      opc: computeOpc(k, rng.bytes(16)),
      amf: 0x8000,
      seqHe: 0,
      indBits: 5,
      authSchemes: ['Digest-AKAv1-MD5'],
      serviceProfile: null,
      impus: [{ impu: `sip:user${i}@ims.lab`, irs: 1, barred: false, pseudonym: false, isDefault: true }],
      implicitSets: [],
    };
  });
}

/** CPU seconds (user + system) a process has used so far; null without a pid. */
function cpuSeconds(pid: number | undefined): number | null {
  return pid === undefined ? null : cpuMsOf({ pid }) / 1000;
}

async function startHssChild(storeUrl: string, maxItems: number): Promise<{ port: number; cpu(): number | null; stop(): Promise<void> }> {
  const [cmd, ...pre] = imsecArgv();
  const proc = spawn(cmd, [...pre, 'hss', '--store', storeUrl, '--listen', '127.0.0.1:0', '--rest', 'off', '--peer', SCSCF, '--log-level', 'warn', '--max-auth-items', String(maxItems)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"ready":true'));
      if (line !== undefined) resolve((JSON.parse(line) as { diameterPort: number }).diameterPort);
    });
    void exited.then(() => reject(new CliFailure(`bench: the HSS process exited: ${err.split('\n')[0]}`)));
  });
  return {
    port,
    cpu: () => cpuSeconds(proc.pid),
    async stop() {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Runs MARs with `inFlight` outstanding for `ms`; returns completions and their latencies (ns). */
async function round(node: DiameterNode, inFlight: number, ms: number, users: number, items: number, counter: { n: number; errors: number }): Promise<{ done: number; elapsedNs: bigint; lat: number[] }> {
  const lat: number[] = [];
  let done = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(ms) * 1_000_000n;
  const worker = async (): Promise<void> => {
    while (process.hrtime.bigint() < until) {
      const i = counter.n++ % users;
      const mar: DiameterMessage = buildMar({
        sessionId: `${SCSCF};bench;${counter.n}`,
        originHost: SCSCF,
        originRealm: 'ims.lab',
        destinationRealm: 'ims.lab',
        userName: `user${i}@ims.lab`,
        publicIdentity: `sip:user${i}@ims.lab`,
        sipAuthDataItem: { scheme: 'Digest-AKAv1-MD5' },
        sipNumberAuthItems: items,
        serverName: 'sip:bench-scscf.ims.lab:6060',
      });
      const t0 = process.hrtime.bigint();
      const maa = await node.request(mar, { peer: HSS });
      const t1 = process.hrtime.bigint();
      if (getValue(maa.avps, 'Result-Code') !== 2001) counter.errors++;
      lat.push(Number(t1 - t0));
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { done, elapsedNs: process.hrtime.bigint() - start, lat };
}

async function benchBackend(backend: 'sqlite' | 'postgres', storeUrl: string, o: Required<Omit<HssBenchOptions, 'pg'>>): Promise<HssBackendResult> {
  const store = await openStore(storeUrl);
  try {
    await store.createSubscribers(subscribers(o.subscribers));
  } finally {
    await store.close();
  }
  const hss = await startHssChild(storeUrl, o.vectorsPerMar);
  const node = new DiameterNode({
    originHost: SCSCF,
    originRealm: 'ims.lab',
    ...cxCapabilities(),
    hostIpAddresses: ['127.0.0.1'],
    peers: [{ host: HSS, connect: { host: '127.0.0.1', port: hss.port } }],
    timers: { requestTimeoutMs: 30_000, reconnectMinMs: 60_000 },
  });
  try {
    await node.start();
    await node.waitForPeer(HSS, 10_000);
    const counter = { n: 0, errors: 0 };
    // Warm-up: at least one MAR per subscriber (its first one also stores the S-CSCF name), then steady state is measured.
    while (counter.n < o.subscribers) await round(node, o.inFlight, 500, o.subscribers, o.vectorsPerMar, counter);
    const rates: number[] = [];
    const lat: number[] = [];
    let requests = 0;
    const cpu0 = hss.cpu();
    for (let r = 0; r < o.rounds; r++) {
      const res = await round(node, o.inFlight, o.ms, o.subscribers, o.vectorsPerMar, counter);
      rates.push(res.done / (Number(res.elapsedNs) / 1e9));
      lat.push(...res.lat);
      requests += res.done;
    }
    const cpu1 = hss.cpu();
    lat.sort((a, b) => a - b);
    const pct = (p: number): number => Math.round((lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] / 1e6) * 1000) / 1000;
    return { backend, mar_per_s: Math.round(median(rates)), p50_ms: pct(0.5), p99_ms: pct(0.99), hss_cpu_us_per_mar: cpu0 === null || cpu1 === null ? null : Math.round(((cpu1 - cpu0) / requests) * 1e6 * 10) / 10, in_flight: o.inFlight, vectors_per_mar: o.vectorsPerMar, requests, errors: counter.errors };
  } finally {
    await node.stop();
    await hss.stop();
  }
}

/** A throwaway PostgreSQL (initdb + pg_ctl on a free port, fsync on: durable commits), or undefined. */
export async function throwawayPostgres(): Promise<{ url: string; stop(): void } | undefined> {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const v = readdirSync(root).filter((x) => /^\d+$/.test(x)).sort((a, b) => Number(b) - Number(a)).find((x) => existsSync(join(root, x, 'bin', 'pg_ctl')));
  if (v === undefined) return undefined;
  const bin = join(root, v, 'bin');
  const asRoot = process.getuid?.() === 0;
  const run = (prog: string, args: string[]): void => {
    const cmd = asRoot ? ['runuser', '-u', 'postgres', '--', join(bin, prog), ...args] : [join(bin, prog), ...args];
    execFileSync(cmd[0], cmd.slice(1), { stdio: 'ignore', env: { ...process.env, LC_ALL: 'C' } });
  };
  const dir = mkdtempSync(join(tmpdir(), 'imsec-bench-pg-'));
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const data = join(dir, 'data');
  const stop = (): void => {
    const cmd = asRoot ? ['runuser', '-u', 'postgres', '--', join(bin, 'pg_ctl')] : [join(bin, 'pg_ctl')];
    spawnSync(cmd[0], [...cmd.slice(1), '-D', data, '-m', 'immediate', '-w', 'stop'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-locale', '-E', 'UTF8']);
    run('pg_ctl', ['-D', data, '-w', '-t', '30', '-l', join(dir, 'server.log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);
  } catch {
    stop();
    return undefined;
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop };
}

export async function runHssBench(opts: HssBenchOptions = {}): Promise<HssBenchResult> {
  const o = { ms: opts.ms ?? 2000, rounds: opts.rounds ?? 5, inFlight: opts.inFlight ?? 32, subscribers: opts.subscribers ?? 1000, vectorsPerMar: opts.vectorsPerMar ?? 1 };
  const dir = mkdtempSync(join(tmpdir(), 'imsec-bench-hss-'));
  try {
    const sqlite = await benchBackend('sqlite', `sqlite:${join(dir, 'hss.sqlite')}`, o);
    let postgres: HssBackendResult | { skipped: string };
    if (opts.pg === null) postgres = { skipped: 'PostgreSQL not requested' };
    else if (opts.pg !== undefined) postgres = await benchBackend('postgres', opts.pg, o);
    else {
      const pg = await throwawayPostgres();
      if (pg === undefined) postgres = { skipped: 'no PostgreSQL server binaries (give --pg URL)' };
      else {
        try {
          postgres = await benchBackend('postgres', pg.url, o);
        } finally {
          pg.stop();
        }
      }
    }
    return { sqlite, postgres, node: process.version };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatHssBench(r: HssBenchResult): string {
  const line = (x: HssBackendResult | { skipped: string }, name: string): string =>
    'skipped' in x
      ? `${name}: skipped (${x.skipped})\n`
      : `${name}: ${x.mar_per_s.toLocaleString('en')} MAR/s, p50 ${x.p50_ms} ms, p99 ${x.p99_ms} ms, HSS CPU ${x.hss_cpu_us_per_mar ?? '?'} µs/MAR (${x.in_flight} in flight, ${x.vectors_per_mar} vector/MAR, ${x.requests.toLocaleString('en')} requests, ${x.errors} errors)\n`;
  return line(r.sqlite, 'HSS MAR→MAA over loopback Diameter, SQLite (durable SQN)  ') + line(r.postgres, 'HSS MAR→MAA over loopback Diameter, PostgreSQL            ');
}

export const hssBench: BenchRegistrar = (bench) => {
  bench
    .command('hss')
    .description('HSS MAR→MAA per second over loopback Diameter with durable SQN (SQLite and PostgreSQL), p50/p99 latency')
    .option('--json', 'print one JSON object')
    .option('--pg <url>', 'PostgreSQL database to use (default: a throwaway server if installed)')
    .option('--no-pg', 'skip PostgreSQL')
    .option('--in-flight <n>', 'MARs outstanding at once (default 32)')
    .option('--vectors <n>', 'SIP-Number-Auth-Items per MAR (default 1)')
    .action(async (o: { json?: boolean; pg?: string | false; inFlight?: string; vectors?: string }) => {
      const r = await runHssBench({
        pg: o.pg === false ? null : o.pg,
        ...(o.inFlight !== undefined ? { inFlight: Math.max(1, Number(o.inFlight) | 0) } : {}),
        ...(o.vectors !== undefined ? { vectorsPerMar: Math.max(1, Number(o.vectors) | 0) } : {}),
      });
      process.stdout.write(o.json ? JSON.stringify(r) + '\n' : formatHssBench(r));
    });
};
