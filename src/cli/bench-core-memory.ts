/**
 * `imsec bench core-memory [--registered N] [--warm-up W] [--rate R] [--json]`: memory per
 * registered UE, node by node (issue [K] item 4: S-CSCF bindings, P-CSCF SA sets and
 * registrations, HSS state).
 *
 * 1. `imsec core --processes` (src/cli/core-processes.ts): HSS, S-CSCF, I-CSCF and P-CSCF each a
 *    process of its own, so each one's resident set is its own.
 * 2. A warm-up: W UEs register and de-register (code compiled, pools and heaps grown to working
 *    size), then two seconds' rest and the RSS of every node.
 * 3. The fill: N UEs register with IPsec through the P-CSCF and stay registered (expiry 1 hour;
 *    the swarm that registered them is closed without de-registering).
 * 4. 35 s later (Timer J, 64·T1, has let the fill's transactions go) the RSS again: each node's
 *    growth ÷ N, and their sum.
 *
 * The baseline, measured in the same run with the same warm-up and fill: `imsec core`, all four
 * nodes in one process (the figure `bench register-ipsec` reports). Per-node processes each hold
 * a heap of their own, so their sum and the one process's growth differ by what the heaps' headroom
 * does, not by what a UE costs.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { driveLoad, toLoadSubscribers, type LoadSubscriber } from '../load/index.js';
import type { Endpoint } from '../sip/transport/index.js';
import { intArg } from './args.js';
import type { BenchRegistrar } from './bench.js';
import { benchRows, checkFileLimit, nodeStats, startCore } from './bench-register-ipsec.js';
import { rssKbOf } from './proc-stats.js';

/** The swarm's protected ports (away from the other benches' and `imsec load`'s). */
const PORT_BASE = 17000;
/** Timer J (64·T1) and a little more: the fill's server transactions are gone after it. */
const SETTLE_MS = 35_000;

export interface CoreMemoryOptions {
  registered: number;
  warmUp: number;
  rate: number;
  /** The wait after the fill before the second reading (default 35 s; the rest after the warm-up is at most 2 s of it). */
  settleMs?: number;
  log?: (line: string) => void;
}

/** One process's resident set before and after the fill. */
export interface NodeMemory {
  rssBeforeMiB: number;
  rssAfterMiB: number;
  bytesPerUe: number;
}

export interface CoreMemoryResult {
  registered: number;
  /** Per node (hss, scscf, icscf, pcscf), each its own process. */
  nodes: Record<string, NodeMemory>;
  /** The sum of the nodes' growth ÷ N. */
  bytesPerUe: number;
  /** `imsec core`, one process, same warm-up and fill. */
  oneProcess: NodeMemory & { registered: number };
  /** Per-node sum ÷ one process. */
  ratio: number;
}

const MiB = 2 ** 20;

/**
 * Warm-up, rest, RSS, fill, settle, RSS: what `rss` reads (kB per process name) before and after,
 * and how many of the fill registered.
 */
async function fillAndMeasure(pcscf: Endpoint, subs: LoadSubscriber[], o: CoreMemoryOptions, rss: () => Record<string, number>, what: string): Promise<{ registered: number; nodes: Record<string, NodeMemory> }> {
  const log = o.log ?? (() => undefined);
  const warm = subs.slice(0, o.warmUp);
  if (warm.length > 0) await driveLoad({ pcscf, subscribers: warm, scenario: 'register', rate: o.rate, firstAddress: '127.40.0.1', portBase: PORT_BASE });
  const settle = o.settleMs ?? SETTLE_MS;
  await sleep(Math.min(2000, settle));
  const before = rss();
  const fill = await driveLoad({
    pcscf,
    subscribers: subs.slice(o.warmUp),
    scenario: 'register',
    rate: o.rate,
    firstAddress: '127.41.0.1',
    portBase: PORT_BASE,
    uesPerAddress: 64,
    expires: 3600,
    deregisterAtEnd: false,
    onTick: (st) => log(`${what} fill: ${st.ops.get('register')!.ok}/${o.registered}`),
  });
  await sleep(settle);
  const after = rss();
  const registered = fill.ops.register!.ok;
  log(`${what}: ${registered} registered at ${fill.ops.register!.perSecond}/s, ${fill.ops.register!.failed} failed`);
  const nodes = Object.fromEntries(
    Object.keys(before).map((k) => [k, { rssBeforeMiB: (before[k] * 1024) / MiB, rssAfterMiB: (after[k] * 1024) / MiB, bytesPerUe: registered === 0 ? 0 : ((after[k] - before[k]) * 1024) / registered }]),
  );
  return { registered, nodes };
}

export async function runCoreMemoryBench(o: CoreMemoryOptions): Promise<CoreMemoryResult> {
  const total = o.warmUp + o.registered;
  checkFileLimit(total);
  const subs = toLoadSubscribers(benchRows(total));
  const dir = mkdtempSync(join(tmpdir(), 'imsec-bench-core-memory-'));
  try {
    const splitDir = join(dir, 'processes');
    mkdirSync(splitDir);
    const split = await startCore(splitDir, total, ['--processes']);
    let perNode: Awaited<ReturnType<typeof fillAndMeasure>>;
    try {
      perNode = await fillAndMeasure({ address: '127.0.0.1', port: split.pcscfPort }, subs, o, () => nodeStats(split, rssKbOf), 'per-node processes');
    } finally {
      await split.stop();
    }
    const coreDir = join(dir, 'core');
    mkdirSync(coreDir);
    const core = await startCore(coreDir, total);
    let one: Awaited<ReturnType<typeof fillAndMeasure>>;
    try {
      one = await fillAndMeasure({ address: '127.0.0.1', port: core.pcscfPort }, subs, o, () => ({ core: rssKbOf({ pid: core.proc.pid! }) }), 'imsec core (one process)');
    } finally {
      await core.stop();
    }
    const bytesPerUe = Object.values(perNode.nodes).reduce((a, n) => a + n.bytesPerUe, 0);
    const oneProcess = { ...one.nodes.core, registered: one.registered };
    return { registered: perNode.registered, nodes: perNode.nodes, bytesPerUe, oneProcess, ratio: oneProcess.bytesPerUe === 0 ? 0 : bytesPerUe / oneProcess.bytesPerUe };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatCoreMemoryBench(r: CoreMemoryResult): string {
  const kb = (b: number): string => `${(b / 1024).toFixed(2)} kB`;
  const line = (name: string, n: NodeMemory): string => `  ${name.padEnd(8)} RSS ${n.rssBeforeMiB.toFixed(1)} → ${n.rssAfterMiB.toFixed(1)} MiB: ${kb(n.bytesPerUe)} per registered UE`;
  return [
    `memory per registered UE, ${r.registered} registered with IPsec, each node its own process (RSS growth ÷ UEs, 35 s after the fill):`,
    ...Object.entries(r.nodes).map(([k, n]) => line(k, n)),
    `  all nodes: ${kb(r.bytesPerUe)} per registered UE`,
    `baseline, same run: imsec core (one process), ${r.oneProcess.registered} registered: ${kb(r.oneProcess.bytesPerUe)} per registered UE (RSS ${r.oneProcess.rssBeforeMiB.toFixed(1)} → ${r.oneProcess.rssAfterMiB.toFixed(1)} MiB)`,
    `  ratio per-node sum ÷ one process: ${r.ratio.toFixed(2)}`,
    '',
  ].join('\n');
}

export const coreMemoryBench: BenchRegistrar = (bench: Command) => {
  bench
    .command('core-memory')
    .description('memory per registered UE, node by node (HSS, S-CSCF, I-CSCF, P-CSCF as processes), beside imsec core in one process')
    .option('--registered <n>', 'UEs registered and kept', '20000')
    .option('--warm-up <n>', 'UEs that register and de-register before the first reading', '1000')
    .option('--rate <n>', 'registrations per second offered', '200')
    .option('--json', 'one JSON object')
    .action(async (o: { registered: string; warmUp: string; rate: string; json?: boolean }) => {
      const r = await runCoreMemoryBench({
        registered: intArg(o.registered, '--registered', 1, 1_000_000),
        warmUp: intArg(o.warmUp, '--warm-up', 0, 100_000),
        rate: intArg(o.rate, '--rate', 1, 100_000),
        log: (l) => process.stderr.write(`${l}\n`),
      });
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatCoreMemoryBench(r));
    });
};
