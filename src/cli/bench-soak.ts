/**
 * `imsec bench soak [--seconds N] [--ues N] [--json]`: registrations churning through `imsec core`
 * (a child process, every port chosen by the OS, a temporary data directory) for a while — by
 * default ten minutes — with the core's resident memory and open descriptors sampled from /proc
 * as it goes ([O]: memory must stay steady under churn, not grow with every registration).
 *
 * `--ues` soft UEs (the UE library, in this process, each its own subscriber with random K and
 * OP) loop: register (IMS AKA, sec-agree, SAs), re-register, de-register, stop, again. The
 * baseline is the core's RSS after the first full round of every UE (start-up allocations and
 * JIT done); the figure is the median RSS of the last fifth of the run and its ratio to that
 * baseline, measured in the same run. A benchmark, not a test: it asserts nothing.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createUe, parseUeConfig } from '../nodes/ue/index.js';
import { median, type BenchRegistrar } from './bench.js';
import { CliFailure } from './errors.js';
import { fdsOf, rssKbOf } from './proc-stats.js';

/** Resident set (kB) and open descriptors of a process, from /proc (Linux). */
export interface ProcUsage {
  rssKb: number;
  fds: number;
}

export function procUsage(pid: number): ProcUsage {
  return { rssKb: rssKbOf({ pid }), fds: fdsOf(pid) };
}

export interface SoakOptions {
  seconds: number;
  ues: number;
  /** Progress lines (stderr); none when absent. */
  log?: (line: string) => void;
}

export interface SoakResult {
  seconds: number;
  ues: number;
  cycles: number;
  failures: number;
  cycles_per_s: number;
  samples: { t_s: number; rss_mib: number; fds: number }[];
  baseline_rss_mib: number;
  final_rss_mib: number;
  rss_ratio: number;
  baseline_fds: number;
  final_fds: number;
}

/** `imsec core` as a child process on loopback; resolves with its pid, ready line and a stop function. */
async function startCore(subscribers: object[]): Promise<{ pid: number; pcscfPort: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-soak-'));
  const config = { dataDir: join(dir, 'data'), hss: { diameterPort: 0 }, scscf: { sipPort: 0 }, icscf: { sipPort: 0 }, pcscf: { sipPort: 0, protectedPorts: 'auto' }, logLevel: 'error', subscribers };
  writeFileSync(join(dir, 'core.json'), JSON.stringify(config));
  const js = fileURLToPath(new URL('./main.js', import.meta.url));
  const args = existsSync(js) ? [js] : ['--import', 'tsx', fileURLToPath(new URL('./main.ts', import.meta.url))];
  const proc = spawn(process.execPath, [...args, 'core', '--config', join(dir, 'core.json')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let out = '';
  const ready = await new Promise<{ pcscf: { sip: { port: number } } }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CliFailure('imsec core did not start within 30 s')), 30_000);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"ready":true'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { pcscf: { sip: { port: number } } });
      }
    });
    void exited.then(() => reject(new CliFailure('imsec core exited before it was ready')));
  });
  return {
    pid: proc.pid!,
    pcscfPort: ready.pcscf.sip.port,
    async stop() {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs the soak (see the module comment). */
export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const subs = Array.from({ length: o.ues }, (_, i) => ({ impi: `soak${i}@ims.lab`, impus: [`sip:soak${i}@ims.lab`], k: randomBytes(16).toString('hex'), op: randomBytes(16).toString('hex') }));
  const core = await startCore(subs);
  const started = Date.now();
  const until = started + o.seconds * 1000;
  const samples: SoakResult['samples'] = [];
  let cycles = 0;
  let failures = 0;
  let baseline: ProcUsage | undefined;
  const firstRound = new Set<number>();
  const sample = (): void => {
    const u = procUsage(core.pid);
    samples.push({ t_s: Math.round((Date.now() - started) / 100) / 10, rss_mib: u.rssKb / 1024, fds: u.fds });
    o.log?.(`  t=${samples.at(-1)!.t_s.toFixed(1).padStart(6)} s  rss ${(u.rssKb / 1024).toFixed(1).padStart(6)} MiB  fds ${String(u.fds).padStart(4)}  cycles ${cycles}  failures ${failures}`);
  };
  const every = Math.max(1000, Math.min(30_000, (o.seconds * 1000) / 20));
  const sampler = setInterval(sample, every);
  try {
    await Promise.all(
      subs.map(async (s, i) => {
        while (Date.now() < until) {
          const ue = createUe(parseUeConfig({ impi: s.impi, impu: s.impus[0], k: s.k, op: s.op, pcscf: `127.0.0.1:${core.pcscfPort}`, reRegister: { auto: false }, subscribeRegEvent: false }));
          await ue.start();
          try {
            await ue.register();
            await ue.reRegister();
            await ue.deregister();
            cycles++;
          } catch (err) {
            failures++;
            o.log?.(`  failure (${s.impi}): ${(err as Error).message}`);
          } finally {
            await ue.stop().catch(() => undefined);
          }
          firstRound.add(i);
          if (baseline === undefined && firstRound.size === subs.length) baseline = procUsage(core.pid);
        }
      }),
    );
    sample();
  } finally {
    clearInterval(sampler);
    await core.stop();
  }
  const base = baseline ?? { rssKb: samples[0].rss_mib * 1024, fds: samples[0].fds };
  const tail = samples.slice(Math.floor(samples.length * 0.8));
  const finalRss = median(tail.map((x) => x.rss_mib));
  const elapsed = (Date.now() - started) / 1000;
  return {
    seconds: o.seconds,
    ues: o.ues,
    cycles,
    failures,
    cycles_per_s: cycles / elapsed,
    samples,
    baseline_rss_mib: base.rssKb / 1024,
    final_rss_mib: finalRss,
    rss_ratio: finalRss / (base.rssKb / 1024),
    baseline_fds: base.fds,
    final_fds: samples.at(-1)!.fds,
  };
}

export function formatSoak(r: SoakResult): string {
  return (
    [
      `registration churn through imsec core: ${r.ues} UEs, ${r.seconds} s, ${r.cycles} register/re-register/de-register cycles (${r.cycles_per_s.toFixed(1)}/s), ${r.failures} failed`,
      `core RSS: baseline ${r.baseline_rss_mib.toFixed(1)} MiB (after the first round), median of the last fifth ${r.final_rss_mib.toFixed(1)} MiB — ratio ${r.rss_ratio.toFixed(2)}`,
      `core descriptors: baseline ${r.baseline_fds}, at the end ${r.final_fds}`,
    ].join('\n') + '\n'
  );
}

function positive(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliFailure(`${flag} must be a positive integer`, 2);
  return n;
}

export const soakBench: BenchRegistrar = (bench) => {
  bench
    .command('soak')
    .description('registrations churning through imsec core, printing its RSS and descriptors over time (default 10 minutes)')
    .option('--seconds <n>', 'how long to churn (default 600)')
    .option('--ues <n>', 'UEs churning in parallel (default 8)')
    .option('--json', 'print one JSON object')
    .action(async (o: { seconds?: string; ues?: string; json?: boolean }) => {
      const r = await runSoak({ seconds: positive(o.seconds, '--seconds', 600), ues: positive(o.ues, '--ues', 8), ...(o.json ? {} : { log: (l: string) => process.stderr.write(`${l}\n`) }) });
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatSoak(r));
    });
};
