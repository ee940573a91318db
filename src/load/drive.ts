/**
 * One load run end to end, as `imsec load`, the CI test and the benchmarks use it: build the
 * swarm, run the scenario, sample the swarm's own CPU and RSS, tear down, summarise.
 */
import { readFileSync } from 'node:fs';
import { systemClock, type Clock, type Logger } from '../common/index.js';
import type { Endpoint } from '../sip/transport/index.js';
import { summarize, type LoadSummary } from './report.js';
import { LoadRun, type LoadScenario } from './run.js';
import type { LoadStats } from './stats.js';
import type { LoadSubscriber } from './subscribers.js';
import { Swarm, type SwarmOptions } from './swarm.js';
import type { SwarmDatapathKind } from './swarm-datapath.js';

export interface DriveOptions {
  pcscf: Endpoint;
  subscribers: readonly LoadSubscriber[];
  scenario: LoadScenario;
  rate: number;
  count?: number;
  durationMs?: number;
  liveMs?: number;
  uesPerAddress?: number;
  firstAddress?: string;
  /** Where ESP runs (default userspace; xfrm: kernel transport mode in this namespace). */
  datapath?: SwarmDatapathKind;
  /** The UEs' unprotected SIP port (default: the OS chooses). */
  unprotectedPort?: number;
  /** First protected port of the swarm (two swarms on one host need different ones). */
  portBase?: number;
  expires?: number;
  maxInFlight?: number;
  deregisterAtEnd?: boolean;
  /** Times a registration answered 503 with Retry-After is tried again after that time (default 0). */
  retries?: number;
  /** Every AKA outcome of every UE (see {@link SwarmOptions.onAka}). */
  onAka?: SwarmOptions['onAka'];
  clock?: Clock;
  logger?: Logger;
  onTick?: (stats: LoadStats, elapsedMs: number) => void;
}

/** The soft limit on open files of this process (Linux /proc), or undefined elsewhere. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!m) return undefined;
    return m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** Runs a scenario with a fresh swarm and summarises it (the swarm is closed afterwards). */
export async function driveLoad(o: DriveOptions): Promise<LoadSummary> {
  const clock = o.clock ?? systemClock;
  const swarm = new Swarm(o.subscribers, {
    pcscf: o.pcscf,
    ...(o.uesPerAddress !== undefined ? { uesPerAddress: o.uesPerAddress } : {}),
    ...(o.firstAddress !== undefined ? { firstAddress: o.firstAddress } : {}),
    ...(o.portBase !== undefined ? { portBase: o.portBase } : {}),
    ...(o.datapath !== undefined ? { datapath: o.datapath } : {}),
    ...(o.unprotectedPort !== undefined ? { unprotectedPort: o.unprotectedPort } : {}),
    ...(o.onAka ? { onAka: o.onAka } : {}),
    ...(o.expires !== undefined ? { expires: o.expires } : {}),
    clock,
    ...(o.logger ? { logger: o.logger } : {}),
  });
  let peakRss = process.memoryUsage.rss();
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 250);
  try {
    const run = new LoadRun(swarm, {
      scenario: o.scenario,
      rate: o.rate,
      clock,
      ...(o.count !== undefined ? { count: o.count } : {}),
      ...(o.durationMs !== undefined ? { durationMs: o.durationMs } : {}),
      ...(o.liveMs !== undefined ? { liveMs: o.liveMs } : {}),
      ...(o.maxInFlight !== undefined ? { maxInFlight: o.maxInFlight } : {}),
      ...(o.deregisterAtEnd !== undefined ? { deregisterAtEnd: o.deregisterAtEnd } : {}),
      ...(o.retries !== undefined ? { retries: o.retries } : {}),
      ...(o.onTick ? { onTick: o.onTick } : {}),
    });
    const r = await run.run();
    const cpu = process.cpuUsage(cpu0);
    const wallUs = Number(process.hrtime.bigint() - wall0) / 1000;
    const rss = process.memoryUsage.rss();
    return summarize(r.stats, {
      scenario: o.scenario,
      ues: o.subscribers.length,
      targetRate: o.rate,
      startedAt: r.startedAt,
      elapsedMs: r.elapsedMs,
      cpuPercent: ((cpu.user + cpu.system) / wallUs) * 100,
      rssBytes: rss,
      peakRssBytes: Math.max(peakRss, rss),
    });
  } finally {
    clearInterval(sampler);
    await swarm.close();
  }
}
