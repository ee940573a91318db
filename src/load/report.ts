/**
 * The report of a load run: a JSON-ready summary (rates, latency percentiles, failures by
 * reason, the swarm's own CPU and RSS), the final text, and the one-line live progress.
 */
import { LOAD_OPS, type LoadOp, type LoadStats } from './stats.js';

export interface OpSummary {
  started: number;
  ok: number;
  failed: number;
  /** Attempts answered 503 with Retry-After and tried again after that time (`--retries`). */
  retried: number;
  /** Completions per second, from the start of the run to the last completion. */
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  failures: Record<string, number>;
  /** The first failure's detail for each reason in `failures`, when it had one. */
  firstDetail: Record<string, string>;
}

export interface LoadSummary {
  scenario: string;
  ues: number;
  targetRate: number;
  elapsedSeconds: number;
  ops: Partial<Record<LoadOp, OpSummary>>;
  /** Failed ÷ finished, every operation together. */
  failureRatio: number;
  swarm: { cpuPercent: number; rssMiB: number; peakRssMiB: number };
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** Summarises the figures; `startedAt` is the run's start on the clock of the figures. */
export function summarize(stats: LoadStats, o: { scenario: string; ues: number; targetRate: number; startedAt: number; elapsedMs: number; cpuPercent: number; rssBytes: number; peakRssBytes: number }): LoadSummary {
  const ops: Partial<Record<LoadOp, OpSummary>> = {};
  for (const op of LOAD_OPS) {
    const s = stats.ops.get(op)!;
    if (s.started === 0) continue;
    const span = Math.max(1, s.lastAt - o.startedAt) / 1000;
    ops[op] = {
      started: s.started,
      ok: s.ok,
      failed: s.failed,
      retried: s.retried,
      perSecond: round(s.ok / span),
      p50Ms: round(s.latency.quantile(0.5), 2),
      p99Ms: round(s.latency.quantile(0.99), 2),
      maxMs: round(s.latency.max, 2),
      failures: Object.fromEntries([...s.failures].sort((a, b) => b[1] - a[1])),
      firstDetail: Object.fromEntries(s.firstDetail),
    };
  }
  const t = stats.totals();
  return {
    scenario: o.scenario,
    ues: o.ues,
    targetRate: o.targetRate,
    elapsedSeconds: round(o.elapsedMs / 1000, 2),
    ops,
    failureRatio: t.done === 0 ? 0 : t.failed / t.done,
    swarm: { cpuPercent: round(o.cpuPercent), rssMiB: round(o.rssBytes / 2 ** 20), peakRssMiB: round(o.peakRssBytes / 2 ** 20) },
  };
}

/** The final report as text, one line per operation. */
export function formatSummary(s: LoadSummary): string {
  const lines = [`imsec load: ${s.scenario}, ${s.ues} UEs, target ${s.targetRate}/s, ${s.elapsedSeconds} s`];
  for (const op of LOAD_OPS) {
    const x = s.ops[op];
    if (!x) continue;
    const fails = Object.entries(x.failures).map(([r, n]) => `${r}: ${n}`).join(', ');
    lines.push(`  ${op.padEnd(10)} ${String(x.ok).padStart(7)} ok ${String(x.failed).padStart(5)} failed${x.retried > 0 ? ` (${x.retried} retried after 503)` : ''}  ${String(x.perSecond).padStart(8)}/s  p50 ${x.p50Ms} ms  p99 ${x.p99Ms} ms  max ${x.maxMs} ms${fails ? `  (${fails})` : ''}`);
    for (const [reason, detail] of Object.entries(x.firstDetail)) lines.push(`             first ${reason}: ${detail}`);
  }
  lines.push(`  swarm      CPU ${s.swarm.cpuPercent}%  RSS ${s.swarm.rssMiB} MiB (peak ${s.swarm.peakRssMiB} MiB)  failures ${(s.failureRatio * 100).toFixed(2)}%`);
  return lines.join('\n');
}

/** The live line: elapsed, registrations, the rate over the last tick, p50/p99, failures by reason. */
export function progressLine(stats: LoadStats, elapsedMs: number, lastRate: number): string {
  const r = stats.ops.get('register')!;
  const failures = new Map<string, number>();
  for (const s of stats.ops.values()) for (const [k, n] of s.failures) failures.set(k, (failures.get(k) ?? 0) + n);
  const f = [...failures].map(([k, n]) => `${k}:${n}`).join(' ');
  return `${(elapsedMs / 1000).toFixed(0)}s reg ${r.ok}/${r.started} ${lastRate.toFixed(0)}/s p50 ${r.latency.quantile(0.5).toFixed(1)}ms p99 ${r.latency.quantile(0.99).toFixed(1)}ms fail ${stats.totals().failed}${f ? ` (${f})` : ''}`;
}
