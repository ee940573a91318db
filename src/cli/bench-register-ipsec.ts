/**
 * `imsec bench register-ipsec [--registered N] [--probe P] [--rate R] [--rounds K] [--json]`:
 * registrations with IPsec through `imsec core` (swarm → P-CSCF → I-CSCF → S-CSCF → HSS), the
 * core a child process, the swarm (src/load/) in this one (R-LAB-4):
 *
 * 1. with nobody registered: K rounds of P new UEs registering at R/s — the achieved rate,
 *    p50/p99, failures and the core's CPU time per registration (medians of the rounds; CPU
 *    time is what a machine shared with other work does not distort);
 * 2. fill: N UEs register and stay registered at the core (expiry 1 hour, so no re-registration
 *    falls inside the run; the swarm that registered them is closed without de-registering); the core's
 *    RSS growth ÷ N is the memory per registered UE (all four nodes of the core together);
 * 3. with N registered: the same K rounds again. The figure of flatness is the rate with N
 *    registered ÷ the rate with none (1.0: the cost of a registration does not grow with the
 *    table), both measured in this run. The RSS after the fill is read 35 s after its last
 *    registration, once Timer J (64·T1) has let its transactions go.
 *
 * Subscribers are written into the core's HSS store in one transaction before it starts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { driveLoad, fdsNeeded, openFileLimit, rangeRows, toLoadSubscribers, type LoadSubscriber, type LoadSummary } from '../load/index.js';
import { openStore } from '../store/index.js';
import { intArg } from './args.js';
import type { BenchRegistrar } from './bench.js';
import { median } from './bench.js';
import { CliFailure } from './errors.js';
import { cpuMsOf, rssKbOf, type ProcSelector } from './proc-stats.js';

/** Lab keys (TS 35.208 test set 1): public values, configuration only. */
const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';

/** The bench's subscribers bench1…benchN@ims.lab, all on the lab keys. */
export function benchRows(n: number): ReturnType<typeof rangeRows> {
  return rangeRows({ prefix: 'bench', from: 1, to: n }, { k: K, op: OP }, 'ims.lab');
}
/** The swarm's protected ports (away from `imsec load`'s default 12000, so both can run). */
const PORT_BASE = 14000;

export interface RegisterIpsecBenchOptions {
  registered: number;
  probe: number;
  rate: number;
  rounds: number;
  /** How long after the fill the core's RSS is read (default 35 s: Timer J and a margin); 0 for a test. */
  settleMs?: number;
  /** `imsec core --processes`: a process per node (CPU and RSS summed over them). */
  processes?: boolean;
  log?: (line: string) => void;
}

export interface RegisterIpsecBenchResult {
  rate: number;
  /** `imsec core --processes`. */
  processes: boolean;
  /**
   * `coreCpuMs`: the core's CPU time per registration, which CPU contention from other processes
   * does not change; `swarmCpuMs`: the swarm's (this process's) for the same registrations, which
   * shares the machine's cores with the core.
   */
  empty: { perSecond: number; p50Ms: number; p99Ms: number; failures: number; coreCpuMs: number; swarmCpuMs: number };
  loaded: { registered: number; perSecond: number; p50Ms: number; p99Ms: number; failures: number; coreCpuMs: number; swarmCpuMs: number };
  /** Rate with N registered ÷ rate with none. */
  flatness: number;
  /** Core CPU per registration with none ÷ with N registered (1.0: flat). */
  cpuFlatness: number;
  /** The fill's rate, failures, and failures by reason (as `imsec load` reports them). */
  fill: { perSecond: number; failures: number; reasons: Record<string, number> };
  memory: { coreRssBeforeMiB: number; coreRssAfterMiB: number; bytesPerRegisteredUe: number };
}

/** Writes the subscribers bench1…benchN into the HSS store at `url`, in one transaction. */
export async function writeBenchSubscribers(url: string, n: number): Promise<void> {
  const store = await openStore(url);
  try {
    await store.createSubscribers(benchRows(n).map((r) => r.subscriber));
  } finally {
    await store.close();
  }
}

/** Refuses a run of `ues` swarm UEs (64 per address) that the open-file limit cannot carry. */
export function checkFileLimit(ues: number): void {
  const limit = openFileLimit();
  if (limit !== undefined && limit < fdsNeeded(ues, 64)) throw new CliFailure(`${ues} UEs need about ${fdsNeeded(ues, 64)} open files, the limit is ${limit}: raise it (ulimit -n) or lower --registered`, 2);
}

/** `imsec core` as a child process. */
export interface Core {
  proc: ChildProcess;
  pcscfPort: number;
  /** Its ready line (with `--processes`, `pids` names each node's process). */
  ready: Record<string, unknown>;
  /** The core and, with `--processes`, its node processes: what its CPU time and RSS are read over. */
  tree: { tree: number };
  stop(): Promise<void>;
}

/** `read` (CPU time, RSS, …) of each node process of a core started with `--processes`, by node. */
export function nodeStats(core: Core, read: (sel: ProcSelector) => number): Record<string, number> {
  return Object.fromEntries(Object.entries(core.ready.pids as Record<string, number>).map(([name, pid]) => [name, read({ pid })]));
}

/**
 * Writes `subscribers` range subscribers (bench1…) into `dataDir`'s HSS store and starts `imsec
 * core [ARGS]` on it (`--processes`: a process per node).
 */
export async function startCore(dir: string, subscribers: number, args: readonly string[] = []): Promise<Core> {
  const dataDir = join(dir, 'data');
  await writeBenchSubscribers(`sqlite:${join(dataDir, 'hss.sqlite')}`, subscribers);
  const config = { dataDir, hss: { diameterPort: 0 }, scscf: { sipPort: 0 }, icscf: { sipPort: 0 }, pcscf: { sipPort: 0, protectedPorts: 'auto' }, logLevel: 'warn', subscribers: [] };
  writeFileSync(join(dir, 'core.json'), JSON.stringify(config));
  const cli = join(new URL('.', import.meta.url).pathname, 'main.js');
  // IMSEC_BENCH_CORE_NODE_ARGS: node options for the core alone, e.g. "--cpu-prof --cpu-prof-dir=DIR"
  // to profile it (node refuses --cpu-prof in NODE_OPTIONS; the profile is written when the core
  // stops on SIGTERM, which at 100,000 UEs and with a long profile takes minutes: the stop then
  // waits up to 10 minutes before it kills).
  const nodeArgs = (process.env.IMSEC_BENCH_CORE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const proc = spawn(process.execPath, [...nodeArgs, cli, 'core', '--config', join(dir, 'core.json'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  const ready = await new Promise<{ pcscf: { sip: { port: number } } }>((resolve, reject) => {
    const poll = setInterval(() => {
      const line = out.split('\n').find((l) => l.startsWith('{"ready":true'));
      if (line) {
        clearInterval(poll);
        resolve(JSON.parse(line) as { pcscf: { sip: { port: number } } });
      }
    }, 50);
    void exited.then(() => {
      clearInterval(poll);
      reject(new CliFailure(`imsec core exited before it was ready: ${err.split('\n')[0]}`));
    });
  });
  return {
    proc,
    pcscfPort: ready.pcscf.sip.port,
    ready,
    tree: { tree: proc.pid! },
    async stop() {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), nodeArgs.length > 0 ? 600_000 : 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export async function runRegisterIpsecBench(o: RegisterIpsecBenchOptions): Promise<RegisterIpsecBenchResult> {
  const log = o.log ?? (() => undefined);
  const total = o.registered + 2 * o.rounds * o.probe;
  checkFileLimit(total);
  const dir = mkdtempSync(join(tmpdir(), 'imsec-bench-ipsec-'));
  const subs = toLoadSubscribers(benchRows(total));
  const core = await startCore(dir, total, o.processes ? ['--processes'] : []);
  const pcscf = { address: '127.0.0.1', port: core.pcscfPort };
  let next = 0;
  const take = (n: number): LoadSubscriber[] => subs.slice(next, (next += n));
  // Each group of UEs gets its own /16 of source addresses.
  let net = 10;
  /** Per round: CPU per registration of the core and of the swarm, in ms. */
  const cpuMs = new Map<LoadSummary, { core: number; swarm: number }>();
  const probe = async (what: string): Promise<LoadSummary> => {
    const cpu0 = cpuMsOf(core.tree);
    const swarm0 = process.cpuUsage();
    const s = await driveLoad({ pcscf, subscribers: take(o.probe), scenario: 'register', rate: o.rate, firstAddress: `127.${net++}.0.1`, portBase: PORT_BASE, expires: 3600, deregisterAtEnd: false });
    const swarm = process.cpuUsage(swarm0);
    const r = s.ops.register!;
    const c = r.ok === 0 ? { core: 0, swarm: 0 } : { core: (cpuMsOf(core.tree) - cpu0) / r.ok, swarm: (swarm.user + swarm.system) / 1000 / r.ok };
    cpuMs.set(s, c);
    log(`${what}: ${r.perSecond}/s p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms failed ${r.failed}, core CPU ${c.core.toFixed(2)} ms, swarm CPU ${c.swarm.toFixed(2)} ms per registration`);
    return s;
  };
  try {
    const empty: LoadSummary[] = [];
    for (let i = 0; i < o.rounds; i++) empty.push(await probe(`empty, round ${i + 1}`));
    const settle = o.settleMs ?? 35_000;
    await sleep(Math.min(2000, settle));
    const before = rssKbOf(core.tree) * 1024;
    // The population registers and stays registered at the core (expiry 1 hour, longer than the
    // run): the swarm that registered it is closed without de-registering.
    const fill = await driveLoad({
      pcscf,
      subscribers: take(o.registered),
      scenario: 'register',
      rate: o.rate,
      firstAddress: `127.${net++}.0.1`,
      portBase: PORT_BASE,
      uesPerAddress: 64,
      expires: 3600,
      deregisterAtEnd: false,
      onTick: (st) => log(`fill: ${st.ops.get('register')!.ok}/${o.registered}`),
    });
    // RFC 3261 §17.2.2: the fill's server transactions linger for Timer J (64·T1 = 32 s) over
    // UDP; what stays after that is what a registered UE costs.
    await sleep(settle);
    const after = rssKbOf(core.tree) * 1024;
    log(`fill: ${fill.ops.register!.ok} registered at ${fill.ops.register!.perSecond}/s, core RSS ${(before / 2 ** 20).toFixed(0)} → ${(after / 2 ** 20).toFixed(0)} MiB`);
    const loaded: LoadSummary[] = [];
    for (let i = 0; i < o.rounds; i++) loaded.push(await probe(`${o.registered} registered, round ${i + 1}`));
    const med = (xs: LoadSummary[], f: (s: LoadSummary) => number): number => median(xs.map(f));
    // The medians of a set of rounds, failures summed.
    const rounds = (xs: LoadSummary[]): RegisterIpsecBenchResult['empty'] => ({
      perSecond: med(xs, (s) => s.ops.register!.perSecond),
      p50Ms: med(xs, (s) => s.ops.register!.p50Ms),
      p99Ms: med(xs, (s) => s.ops.register!.p99Ms),
      failures: xs.reduce((a, s) => a + s.ops.register!.failed, 0),
      coreCpuMs: med(xs, (s) => cpuMs.get(s)!.core),
      swarmCpuMs: med(xs, (s) => cpuMs.get(s)!.swarm),
    });
    const e = rounds(empty);
    const l = { registered: fill.ops.register!.ok, ...rounds(loaded) };
    return {
      rate: o.rate,
      processes: o.processes === true,
      empty: e,
      loaded: l,
      flatness: e.perSecond === 0 ? 0 : l.perSecond / e.perSecond,
      cpuFlatness: l.coreCpuMs === 0 ? 0 : e.coreCpuMs / l.coreCpuMs,
      fill: { perSecond: fill.ops.register!.perSecond, failures: fill.ops.register!.failed, reasons: fill.ops.register!.failures },
      memory: { coreRssBeforeMiB: before / 2 ** 20, coreRssAfterMiB: after / 2 ** 20, bytesPerRegisteredUe: l.registered === 0 ? 0 : (after - before) / l.registered },
    };
  } finally {
    await core.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatRegisterIpsecBench(r: RegisterIpsecBenchResult): string {
  const f = (x: number): string => x.toFixed(1);
  return [
    `registrations with IPsec through imsec core${r.processes ? ' --processes' : ''}, target ${r.rate}/s (medians):`,
    `  nobody registered:        ${f(r.empty.perSecond)}/s  p50 ${f(r.empty.p50Ms)} ms  p99 ${f(r.empty.p99Ms)} ms  failures ${r.empty.failures}  CPU per registration: core ${r.empty.coreCpuMs.toFixed(2)} ms, swarm ${r.empty.swarmCpuMs.toFixed(2)} ms`,
    `  ${String(r.loaded.registered).padStart(6)} registered:      ${f(r.loaded.perSecond)}/s  p50 ${f(r.loaded.p50Ms)} ms  p99 ${f(r.loaded.p99Ms)} ms  failures ${r.loaded.failures}  CPU per registration: core ${r.loaded.coreCpuMs.toFixed(2)} ms, swarm ${r.loaded.swarmCpuMs.toFixed(2)} ms`,
    `  flatness (loaded ÷ empty): rate ${r.flatness.toFixed(2)}, CPU per registration ${r.cpuFlatness.toFixed(2)}`,
    `  fill: ${f(r.fill.perSecond)}/s, failures ${r.fill.failures}${r.fill.failures ? ` (${Object.entries(r.fill.reasons).map(([why, n]) => `${why} ${n}`).join(', ')})` : ''}`,
    `  core RSS ${f(r.memory.coreRssBeforeMiB)} → ${f(r.memory.coreRssAfterMiB)} MiB: ${(r.memory.bytesPerRegisteredUe / 1024).toFixed(1)} kB per registered UE (all nodes)`,
    '',
  ].join('\n');
}

export const registerIpsecBench: BenchRegistrar = (bench: Command) => {
  bench
    .command('register-ipsec')
    .description('registrations with IMS AKA + IPsec through imsec core: rate and p99 with none and with N registered, memory per UE')
    .option('--registered <n>', 'UEs kept registered for the loaded rounds', '5000')
    .option('--probe <n>', 'registrations per measured round', '1000')
    .option('--rate <n>', 'target registrations per second of a round', '200')
    .option('--rounds <n>', 'rounds with none and with N registered', '3')
    .option('--processes', 'the core as imsec core --processes (a process per node; CPU and RSS summed)')
    .option('--json', 'one JSON object')
    .action(async (o: { registered: string; probe: string; rate: string; rounds: string; processes?: boolean; json?: boolean }) => {
      const r = await runRegisterIpsecBench({
        registered: intArg(o.registered, '--registered', 0, 1_000_000),
        probe: intArg(o.probe, '--probe', 1, 1_000_000),
        rate: intArg(o.rate, '--rate', 1, 100_000),
        rounds: intArg(o.rounds, '--rounds', 1, 15),
        ...(o.processes ? { processes: true } : {}),
        log: (l) => process.stderr.write(`${l}\n`),
      });
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatRegisterIpsecBench(r));
    });
};
