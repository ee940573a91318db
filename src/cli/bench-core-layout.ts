/**
 * `imsec bench core-layout [--ues N] [--rate R] [--rounds K] [--json]`: the same registrations
 * with IPsec through the core laid out two ways, in the same run (issue [K]: what one process
 * can do, and what it takes to go past it):
 *
 * - **one process**, `imsec core` (the baseline): every node on one event loop, so on one core;
 * - **one process per node**, `imsec core --processes` (src/cli/core-processes.ts: HSS, S-CSCF,
 *   I-CSCF, P-CSCF, each a process with the configuration the one process gives it): each node on a
 *   core of its own, when there are cores.
 *
 * Each layout gets a fresh store, a warm-up round (not counted), then K rounds of N new UEs
 * registering at R/s offered and staying registered. The figures are medians over the rounds:
 * the rate completed, p50/p99, failures, and every process's CPU time per registration (the
 * swarm's too). From those CPU times, for each layout: the rate at which its busiest process would
 * fill one core, and the cores that 1,000 registrations/s would take, the swarm included.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { toLoadSubscribers } from '../load/index.js';
import { intArg } from './args.js';
import type { BenchRegistrar } from './bench.js';
import { benchRows, checkFileLimit, nodeStats, startCore } from './bench-register-ipsec.js';
import { formatCpu, registrationRounds, type RoundsFigures } from './bench-rounds.js';
import { cpuMsOf } from './proc-stats.js';

/** The swarm's protected ports (away from the other benches' and `imsec load`'s). */
const PORT_BASE = 18000;

export interface CoreLayoutOptions {
  ues: number;
  rate: number;
  rounds: number;
  log?: (line: string) => void;
}

export interface LayoutFigures extends RoundsFigures {
  /** The rate at which the process with the most CPU per registration fills one core. */
  busiestCoreBound: { process: string; perSecond: number };
  /** CPU per registration of every process, the swarm's included, × 1,000/s: cores needed. */
  coresFor1000: number;
}

export interface CoreLayoutResult {
  ues: number;
  rate: number;
  rounds: number;
  oneProcess: LayoutFigures;
  processes: LayoutFigures;
  /** Registrations/s completed, one process per node ÷ one process. */
  ratio: number;
}

function withBounds(f: RoundsFigures): LayoutFigures {
  const core = Object.entries(f.cpuMsPerRegistration).filter(([k]) => k !== 'swarm');
  const [process, ms] = core.reduce((a, b) => (b[1] > a[1] ? b : a));
  const all = Object.values(f.cpuMsPerRegistration).reduce((a, b) => a + b, 0);
  return { ...f, busiestCoreBound: { process, perSecond: ms > 0 ? 1000 / ms : 0 }, coresFor1000: all };
}

export async function runCoreLayoutBench(o: CoreLayoutOptions): Promise<CoreLayoutResult> {
  const total = o.ues * (o.rounds + 1);
  checkFileLimit(total);
  const subs = toLoadSubscribers(benchRows(total));
  const rounds = Array.from({ length: o.rounds + 1 }, (_, r) => subs.slice(r * o.ues, (r + 1) * o.ues));
  const dir = mkdtempSync(join(tmpdir(), 'imsec-bench-core-layout-'));
  const measure = async (pcscf: { address: string; port: number }, cpuMs: () => Record<string, number>, label: string): Promise<LayoutFigures> => {
    const common = { rate: o.rate, portBase: PORT_BASE, expires: 3600, deregister: false, ...(o.log ? { log: o.log } : {}) };
    await registrationRounds(pcscf, cpuMs, rounds.slice(0, 1), { ...common, firstOctet: 60, label: `${label} (warm-up)` });
    return withBounds(await registrationRounds(pcscf, cpuMs, rounds.slice(1), { ...common, firstOctet: 61, label }));
  };
  try {
    const coreDir = join(dir, 'core');
    mkdirSync(coreDir);
    const core = await startCore(coreDir, total);
    let oneProcess: LayoutFigures;
    try {
      oneProcess = await measure({ address: '127.0.0.1', port: core.pcscfPort }, () => ({ core: cpuMsOf({ pid: core.proc.pid! }) }), 'one process');
    } finally {
      await core.stop();
    }
    const procDir = join(dir, 'processes');
    mkdirSync(procDir);
    const split = await startCore(procDir, total, ['--processes']);
    let processes: LayoutFigures;
    try {
      processes = await measure({ address: '127.0.0.1', port: split.pcscfPort }, () => nodeStats(split, cpuMsOf), 'one process per node');
    } finally {
      await split.stop();
    }
    return { ues: o.ues, rate: o.rate, rounds: o.rounds, oneProcess, processes, ratio: oneProcess.perSecond === 0 ? 0 : processes.perSecond / oneProcess.perSecond };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatCoreLayoutBench(r: CoreLayoutResult): string {
  const line = (name: string, x: LayoutFigures): string =>
    `  ${name}: ${x.perSecond.toFixed(1)}/s  p50 ${x.p50Ms.toFixed(1)} ms  p99 ${x.p99Ms.toFixed(1)} ms  failures ${x.failures}\n` +
    `      CPU ms per registration: ${formatCpu(x.cpuMsPerRegistration)}\n` +
    `      busiest process (${x.busiestCoreBound.process}) fills a core at ${x.busiestCoreBound.perSecond.toFixed(0)}/s; 1,000/s would take ${x.coresFor1000.toFixed(1)} cores`;
  return [
    `registrations with IPsec, ${r.ues} per round at ${r.rate}/s offered, ${r.rounds} round${r.rounds === 1 ? '' : 's'} after a warm-up (medians):`,
    line('imsec core, one process (baseline)', r.oneProcess),
    line('one process per node', r.processes),
    `  ratio one process per node ÷ one process: ${r.ratio.toFixed(2)}`,
    '',
  ].join('\n');
}

export const coreLayoutBench: BenchRegistrar = (bench: Command) => {
  bench
    .command('core-layout')
    .description('registrations with IPsec through imsec core (one process) and through its nodes as processes, same run, CPU per process')
    .option('--ues <n>', 'registrations per round', '2000')
    .option('--rate <n>', 'offered registrations per second', '400')
    .option('--rounds <n>', 'rounds per layout after the warm-up', '3')
    .option('--json', 'one JSON object')
    .action(async (o: { ues: string; rate: string; rounds: string; json?: boolean }) => {
      const r = await runCoreLayoutBench({
        ues: intArg(o.ues, '--ues', 1, 100_000),
        rate: intArg(o.rate, '--rate', 1, 100_000),
        rounds: intArg(o.rounds, '--rounds', 1, 15),
        log: (l) => process.stderr.write(`${l}\n`),
      });
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatCoreLayoutBench(r));
    });
};
