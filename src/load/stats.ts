/**
 * What a load run measures, per operation (register, re-register, message, de-register):
 * completions, failures by reason, and latency percentiles from a log-bucketed histogram (2 %
 * relative resolution, a fixed few kB whatever the number of samples). Pure: the caller gives
 * every time in milliseconds.
 */

/** The operations a swarm times. */
export type LoadOp = 'register' | 'reregister' | 'message' | 'deregister';
export const LOAD_OPS: readonly LoadOp[] = ['register', 'reregister', 'message', 'deregister'];

/** Buckets per factor of 2 (2^(1/32) ≈ 2.2 % wide), from 1 µs to about 1.2 hours. */
const PER_OCTAVE = 32;
const MIN_MS = 0.001;
const BUCKETS = PER_OCTAVE * 32;

/** A latency histogram with O(1) record and fixed memory. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  max = 0;
  private sum = 0;

  record(ms: number): void {
    const v = Math.max(ms, MIN_MS);
    const i = Math.min(BUCKETS - 1, Math.floor(Math.log2(v / MIN_MS) * PER_OCTAVE));
    this.counts[i]++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  /** The latency below which a fraction `q` (0..1) of the samples fall (bucket upper bound, capped at the max). */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.max, MIN_MS * 2 ** ((i + 1) / PER_OCTAVE));
    }
    return this.max;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }
}

/** A failure detail kept in the report is cut to this many characters. */
const MAX_DETAIL = 200;

/** One operation's figures. */
export interface OpStats {
  started: number;
  ok: number;
  failed: number;
  /** Attempts answered 503 with Retry-After and tried again (not failures). */
  retried: number;
  latency: LatencyHistogram;
  failures: Map<string, number>;
  /** The first failure's detail per reason: what an engineer reads first (never a key; UE errors carry none). */
  firstDetail: Map<string, string>;
  /** When the last one finished (the caller's clock), for the achieved rate. */
  lastAt: number;
}

/** Every operation's figures for one run. */
export class LoadStats {
  readonly ops = new Map<LoadOp, OpStats>();

  constructor() {
    for (const op of LOAD_OPS) this.ops.set(op, { started: 0, ok: 0, failed: 0, retried: 0, latency: new LatencyHistogram(), failures: new Map(), firstDetail: new Map(), lastAt: 0 });
  }

  started(op: LoadOp): void {
    this.ops.get(op)!.started++;
  }

  succeeded(op: LoadOp, ms: number, at: number): void {
    const s = this.ops.get(op)!;
    s.ok++;
    s.latency.record(ms);
    s.lastAt = Math.max(s.lastAt, at);
  }

  retried(op: LoadOp): void {
    this.ops.get(op)!.retried++;
  }

  failed(op: LoadOp, reason: string, at: number, detail?: string): void {
    const s = this.ops.get(op)!;
    s.lastAt = Math.max(s.lastAt, at);
    s.failed++;
    s.failures.set(reason, (s.failures.get(reason) ?? 0) + 1);
    if (detail !== undefined && !s.firstDetail.has(reason)) s.firstDetail.set(reason, detail.slice(0, MAX_DETAIL));
  }

  /** All operations together: finished, failed. */
  totals(): { done: number; failed: number } {
    let done = 0;
    let failed = 0;
    for (const s of this.ops.values()) {
      done += s.ok + s.failed;
      failed += s.failed;
    }
    return { done, failed };
  }
}
