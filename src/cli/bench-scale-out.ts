/**
 * `imsec bench scale-out [--ues N] [--rate R] [--rounds K] [--pg URL] [--cpu-prof DIR] [--json]`:
 * the scale-out network of src/cli/scale-out-topology.ts (S-CSCF/HSS pairs on one PostgreSQL,
 * one I-CSCF, one P-CSCF, each a process) under the swarm of `imsec load` (R-LAB-4), with ONE
 * pair and with TWO pairs in the same run:
 *
 * - per round, N new UEs register at R/s (IMS AKA, sec-agree, IPsec) and de-register again, so
 *   every round starts from an empty registrar; the figure is the registration rate completed,
 *   with p50/p99 and failures (medians of K rounds), and the ratio 2 pairs ÷ 1 pair;
 * - every node's CPU time per registration, which says which process is the bottleneck (the
 *   one whose CPU per registration × rate reaches a core), and, with `--cpu-prof DIR`, a V8 CPU
 *   profile of every node (DIR/<node>.cpuprofile) for where that time goes.
 *
 * PostgreSQL is a throwaway server (initdb in a temporary directory, as `bench hss`) unless
 * `--pg URL` names one; every pair count gets a fresh database with the subscribers.
 */
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import pg from 'pg';
import { rangeRows, toLoadSubscribers } from '../load/index.js';
import { openStore } from '../store/index.js';
import { intArg } from './args.js';
import type { BenchRegistrar } from './bench.js';
import { formatCpu, registrationRounds, type RoundsFigures } from './bench-rounds.js';
import { throwawayPostgres } from './bench-hss.js';
import { CliFailure } from './errors.js';
import { startScaleOut } from './scale-out-topology.js';

/** Lab keys (TS 35.208 test set 1): public values, configuration only. */
const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';

/** `bench scale-out`'s parameters. */
export interface ScaleOutBenchOptions {
  ues: number;
  rate: number;
  rounds: number;
  /** A PostgreSQL server URL (its `postgres` database is used to create one per run). */
  pg?: string;
  cpuProfDir?: string;
  log?: (line: string) => void;
}

/** One pair count's figures (medians of the rounds). */
export interface ScaleOutRun extends RoundsFigures {
  pairs: number;
}

/** Both pair counts of one run and their ratio. */
export interface ScaleOutBenchResult {
  ues: number;
  rate: number;
  one: ScaleOutRun;
  two: ScaleOutRun;
  /** Registrations/s with two pairs ÷ with one. */
  ratio: number;
}

async function freshDatabase(serverUrl: string, name: string): Promise<string> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name}`);
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function runPairs(serverUrl: string, pairs: number, o: ScaleOutBenchOptions, dir: string): Promise<ScaleOutRun> {
  const total = o.ues * o.rounds;
  const rows = rangeRows({ prefix: 'so', from: 1, to: total }, { k: K, op: OP }, 'ims.lab');
  const url = await freshDatabase(serverUrl, `imsec_scale_out_${pairs}`);
  const store = await openStore(url);
  try {
    await store.createSubscribers(rows.map((r) => r.subscriber));
  } finally {
    await store.close();
  }
  const subs = toLoadSubscribers(rows);
  const profDir = o.cpuProfDir ? join(o.cpuProfDir, `pairs-${pairs}`) : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const netDir = join(dir, `pairs-${pairs}`);
  mkdirSync(netDir);
  const net = await startScaleOut({ storeUrl: url, pairs, dir: netDir, ...(profDir ? { cpuProfDir: profDir } : {}) });
  try {
    const rounds = Array.from({ length: o.rounds }, (_, r) => subs.slice(r * o.ues, (r + 1) * o.ues));
    return { pairs, ...(await registrationRounds(net.pcscf, () => net.cpuMs(), rounds, { rate: o.rate, portBase: 16000, firstOctet: 30, expires: 3600, deregister: true, label: `${pairs} pair(s)`, ...(o.log ? { log: o.log } : {}) })) };
  } finally {
    await net.stop();
  }
}

export async function runScaleOutBench(o: ScaleOutBenchOptions): Promise<ScaleOutBenchResult> {
  const server = o.pg !== undefined ? { url: o.pg, stop: () => undefined } : await throwawayPostgres();
  if (!server) throw new CliFailure('bench scale-out: no PostgreSQL server binaries (install postgresql or give --pg URL)', 2);
  const dir = mkdtempSync(join(tmpdir(), 'imsec-bench-scale-out-'));
  try {
    const one = await runPairs(server.url, 1, o, dir);
    const two = await runPairs(server.url, 2, o, dir);
    return { ues: o.ues, rate: o.rate, one, two, ratio: one.perSecond === 0 ? 0 : two.perSecond / one.perSecond };
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatScaleOutBench(r: ScaleOutBenchResult): string {
  const line = (x: ScaleOutRun): string =>
    `  ${x.pairs} S-CSCF/HSS pair(s): ${x.perSecond.toFixed(1)}/s  p50 ${x.p50Ms.toFixed(1)} ms  p99 ${x.p99Ms.toFixed(1)} ms  failures ${x.failures}\n` +
    `      CPU ms per registration: ${formatCpu(x.cpuMsPerRegistration)}`;
  return [`scale-out, ${r.ues} registrations per round at ${r.rate}/s offered (medians):`, line(r.one), line(r.two), `  ratio 2 pairs ÷ 1 pair: ${r.ratio.toFixed(2)}`, ''].join('\n');
}

export const scaleOutBench: BenchRegistrar = (bench: Command) => {
  bench
    .command('scale-out')
    .description('registrations with IPsec through 1 vs 2 S-CSCF/HSS pairs on one PostgreSQL (processes), CPU per node')
    .option('--ues <n>', 'registrations per round', '600')
    .option('--rate <n>', 'offered registrations per second', '300')
    .option('--rounds <n>', 'rounds per pair count', '3')
    .option('--pg <url>', 'a PostgreSQL server to use instead of a throwaway one')
    .option('--cpu-prof <dir>', 'a V8 CPU profile of every node into DIR/pairs-N/')
    .option('--json', 'one JSON object')
    .action(async (o: { ues: string; rate: string; rounds: string; pg?: string; cpuProf?: string; json?: boolean }) => {
      const r = await runScaleOutBench({
        ues: intArg(o.ues, '--ues', 1, 100_000),
        rate: intArg(o.rate, '--rate', 1, 100_000),
        rounds: intArg(o.rounds, '--rounds', 1, 15),
        ...(o.pg !== undefined ? { pg: o.pg } : {}),
        ...(o.cpuProf !== undefined ? { cpuProfDir: o.cpuProf } : {}),
        log: (l) => process.stderr.write(`${l}\n`),
      });
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatScaleOutBench(r));
    });
};
