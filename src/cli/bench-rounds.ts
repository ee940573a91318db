/**
 * Rounds of registrations with IPsec through a P-CSCF, for the benches that compare layouts of
 * the core (`bench scale-out`, `bench core-layout`): per round, new UEs register at the offered
 * rate (the swarm of `imsec load`, R-LAB-4), and the CPU time per registration of every process
 * of the core and of the swarm (this process) says which one reaches a core first.
 */
import { driveLoad, type LoadSubscriber, type LoadSummary } from '../load/index.js';
import type { Endpoint } from '../sip/transport/index.js';
import { median } from './bench.js';

export interface RoundsOptions {
  rate: number;
  /** The swarm's first protected port. */
  portBase: number;
  /** Round r's UEs start at 127.<firstOctet + r>.0.1. */
  firstOctet: number;
  /** Expiry asked for; with `deregister` false the UEs stay registered. */
  expires: number;
  deregister: boolean;
  /** What the progress lines call this run. */
  label: string;
  log?: (line: string) => void;
}

/** Medians over the rounds. */
export interface RoundsFigures {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Failed operations in all rounds. */
  failures: number;
  /** CPU ms per registration of each process of the core, and of the swarm (`swarm`). */
  cpuMsPerRegistration: Record<string, number>;
}

function swarmCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Runs one round per entry of `rounds` through `pcscf`; `cpuMs` reads each process's CPU time. */
export async function registrationRounds(pcscf: Endpoint, cpuMs: () => Record<string, number>, rounds: readonly LoadSubscriber[][], o: RoundsOptions): Promise<RoundsFigures> {
  const log = o.log ?? (() => undefined);
  const done: { s: LoadSummary; cpu: Record<string, number> }[] = [];
  for (const [r, subscribers] of rounds.entries()) {
    const cpu0: Record<string, number> = { ...cpuMs(), swarm: swarmCpuMs() };
    const s = await driveLoad({ pcscf, subscribers, scenario: 'register', rate: o.rate, firstAddress: `127.${o.firstOctet + r}.0.1`, portBase: o.portBase, expires: o.expires, deregisterAtEnd: o.deregister });
    const cpu1: Record<string, number> = { ...cpuMs(), swarm: swarmCpuMs() };
    const reg = s.ops.register!;
    const ok = Math.max(1, reg.ok);
    const cpu = Object.fromEntries(Object.keys(cpu1).map((k) => [k, (cpu1[k] - (cpu0[k] ?? 0)) / ok]));
    done.push({ s, cpu });
    log(`${o.label}, round ${r + 1}: ${reg.perSecond}/s p50 ${reg.p50Ms} ms p99 ${reg.p99Ms} ms failed ${reg.failed}; CPU ms/registration ${formatCpu(cpu)}`);
  }
  const med = (f: (x: { s: LoadSummary; cpu: Record<string, number> }) => number): number => median(done.map(f));
  return {
    perSecond: med((x) => x.s.ops.register!.perSecond),
    p50Ms: med((x) => x.s.ops.register!.p50Ms),
    p99Ms: med((x) => x.s.ops.register!.p99Ms),
    failures: done.reduce((a, x) => a + x.s.ops.register!.failed + (x.s.ops.deregister?.failed ?? 0), 0),
    cpuMsPerRegistration: Object.fromEntries(Object.keys(done[0].cpu).map((k) => [k, med((x) => x.cpu[k])])),
  };
}

/** `name 1.23, name 4.56` */
export function formatCpu(cpu: Record<string, number>): string {
  return Object.entries(cpu)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
}
