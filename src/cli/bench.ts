/**
 * `imsec bench <target>`: each domain contributes one subcommand through a {@link BenchRegistrar}
 * (e.g. cli/bench-milenage.ts). A benchmark prints its figures (medians of several rounds) and,
 * with --json, one JSON object on stdout.
 */
import { Command } from 'commander';

export type BenchRegistrar = (bench: Command) => void;

export function registerBench(program: Command, registrars: BenchRegistrar[]): void {
  const bench = program.command('bench').description('measure a hot path (medians of several rounds)');
  for (const r of registrars) r(bench);
}

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Runs `fn` (which does `batch` operations per call) repeatedly for `ms` milliseconds, `rounds`
 * times, and returns the median rate in operations per second.
 */
export function measureRate(fn: () => void, batch: number, opts: { ms?: number; rounds?: number } = {}): number {
  const ms = opts.ms ?? 400;
  const rounds = opts.rounds ?? 5;
  const rates: number[] = [];
  for (let i = 0; i < 200 && i * batch < 20000; i++) fn(); // warm-up
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    const until = start + BigInt(ms) * 1_000_000n;
    let n = 0;
    let now = start;
    while (now < until) {
      fn();
      n += batch;
      now = process.hrtime.bigint();
    }
    rates.push(n / (Number(now - start) / 1e9));
  }
  return median(rates);
}

/** Async variant of {@link measureRate} for I/O-bound paths. */
export async function measureRateAsync(fn: () => Promise<void>, batch: number, opts: { ms?: number; rounds?: number } = {}): Promise<number> {
  const ms = opts.ms ?? 1000;
  const rounds = opts.rounds ?? 5;
  const rates: number[] = [];
  await fn();
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    const until = start + BigInt(ms) * 1_000_000n;
    let n = 0;
    let now = start;
    while (now < until) {
      await fn();
      n += batch;
      now = process.hrtime.bigint();
    }
    rates.push(n / (Number(now - start) / 1e9));
  }
  return median(rates);
}
