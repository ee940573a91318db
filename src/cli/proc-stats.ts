/**
 * What a process uses, read from Linux /proc, for the benchmarks and the attack tests: CPU time
 * (/proc/PID/stat), resident set (VmRSS), proportional set (Pss of smaps_rollup) and open
 * descriptors. A process that is gone reads as 0.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** One process, every process of a process group, or a process and all its descendants. */
export type ProcSelector = { pid: number } | { pgrp: number } | { tree: number };

/** USER_HZ is 100 on Linux: /proc/PID/stat counts CPU time in ticks of 10 ms. */
const MS_PER_TICK = 10;

/** The fields of /proc/PID/stat after the command name: state(0) ppid(1) pgrp(2) … utime(11) stime(12). */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The selected processes' pids. */
function pidsOf(sel: ProcSelector): number[] {
  if ('pid' in sel) return [sel.pid];
  if ('tree' in sel) return [sel.tree, ...descendantsOf(sel.tree)];
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(statFields(p)?.[2]) === sel.pgrp)
    .map(Number);
}

/** Sums `one` over the selected processes. */
function over(sel: ProcSelector, one: (pid: number) => number): number {
  return pidsOf(sel).reduce((sum, pid) => sum + one(pid), 0);
}

/** CPU time of a /proc/PID/stat, ms. */
function cpuMsIn(f: string[]): number {
  return (Number(f[11]) + Number(f[12])) * MS_PER_TICK;
}

/** CPU time (user + system) used so far, ms, by the processes there now (one that exited no longer counts). */
export function cpuMsOf(sel: ProcSelector): number {
  return over(sel, (pid) => {
    const f = statFields(pid);
    return f ? cpuMsIn(f) : 0;
  });
}

/**
 * CPU time that never goes down: each {@link CpuCounter.read} sums the selected processes and
 * every process an earlier read saw, as last seen. A process group whose worker crashed (a
 * Kamailio under load) keeps that worker's CPU time, where {@link cpuMsOf} would drop it and a
 * difference of two readings could come out negative. Processes are told apart by pid and start
 * time, so a reused pid is a new process.
 */
export class CpuCounter {
  private readonly seen = new Map<string, number>();
  private total = 0;

  read(sel: ProcSelector): number {
    for (const pid of pidsOf(sel)) {
      const f = statFields(pid);
      if (f === undefined) continue;
      // starttime: field 22 of /proc/PID/stat, index 19 after the command name.
      const key = `${pid}@${f[19]}`;
      const ms = cpuMsIn(f);
      const before = this.seen.get(key) ?? 0;
      if (ms > before) {
        this.total += ms - before;
        this.seen.set(key, ms);
      }
    }
    return this.total;
  }
}

/** The pids whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(statFields(p)?.[1]) === pid).map(Number);
}

/** Every process below `pid` (children, theirs, …). */
function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  for (let next = childrenOf(pid); next.length > 0; next = next.flatMap(childrenOf)) out.push(...next);
  return out;
}

function statusKb(pid: number, field: string, file = 'status'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident set size, kB. */
export function rssKbOf(sel: ProcSelector): number {
  return over(sel, (pid) => statusKb(pid, 'VmRSS'));
}

/** Proportional set size, kB (shared pages divided among the processes that map them). */
export function pssKbOf(sel: ProcSelector): number {
  return over(sel, (pid) => statusKb(pid, 'Pss', 'smaps_rollup'));
}

/** Open file descriptors of one process. */
export function fdsOf(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}
