/**
 * `imsec bench register [--json]`: full IMS AKA registrations per second through I-CSCF + S-CSCF +
 * HSS (Diameter Cx over loopback TCP, durable SQLite stores), driven by SIPp at increasing rates
 * with a fixed number of registrations per step until registrations fail or the rate is no longer
 * kept up; the figure is the highest rate at which every registration passed and at least 90 % of
 * the rate was completed (a rate reached only by queueing is not sustained).
 *
 * The I-CSCF and the S-CSCF run as their own processes (`imsec icscf`, `imsec scscf`: the same
 * binary as in service); the HSS runs in this process, because SIPp needs RANDs whose RES has no
 * 0x00 byte (sipp.ts). Each registration is REGISTER → I-CSCF (UAR) → S-CSCF (MAR) → 401 → REGISTER
 * → I-CSCF (UAR) → S-CSCF (verify, SAR, registrar store write) → 200: two SIP round trips through
 * two proxies, four Diameter round trips and three durable commits (SQN, registration flag,
 * binding).
 *
 * Driving SIPp is in sipp.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeOpc } from '../auth/index.js';
import { fromHex } from '../common/index.js';
import { defaultHssConfig, createHss } from '../nodes/hss/index.js';
import type { NewSubscriber } from '../store/index.js';
import type { BenchRegistrar } from './bench.js';
import { CliFailure } from './errors.js';
import { startNode } from './scale-out-topology.js';
import { freeUdpPort, resWithoutZeroRng, runSipp, sippRegisterScenario, sippUsersCsv } from './sipp.js';

export const BENCH_K = '465b5c8e53c8daa7e3b3c1ed6d0d5c5c';
export const BENCH_OP = 'cdc202d5123e20f62b6d676ac72cb318';

export interface RegisterStep {
  /** SIPp's target rate, registrations per second. */
  rate: number;
  calls: number;
  successful: number;
  failed: number;
  /** Registrations completed per second of wall time. */
  achieved_per_s: number;
  /** Mean time of one registration (both round trips), ms. */
  avg_ms: number;
  retransmissions: number;
  seconds: number;
  /** No failed registration, and at least 90 % of the target rate completed. */
  passed: boolean;
}

export interface RegisterBenchResult {
  /**
   * The figure: the highest target rate the core sustained — every registration of the step
   * passed and at least 90 % of the rate was completed (0: no step did).
   */
  best_rate: number;
  /** Completed registrations per second in that step. */
  best_achieved_per_s: number;
  /** The most registrations per second completed in any step without a failure (queueing allowed). */
  peak_completed_per_s: number;
  steps: RegisterStep[];
  per_step: number;
  stores: string;
  node: string;
}

export interface RegisterBenchOptions {
  rates?: number[];
  /** Registrations per step (distinct users, re-registered in every step). */
  count?: number;
  /** Keep going after the first failing step. */
  all?: boolean;
  log?: (line: string) => void;
}

export function benchSubscribers(users: readonly string[]): NewSubscriber[] {
  const k = fromHex(BENCH_K);
  const opc = computeOpc(k, fromHex(BENCH_OP));
  return users.map((u) => ({
    impi: `${u}@ims.lab`,
    k,
    opc,
    amf: 0x8000,
    seqHe: 0,
    indBits: 5,
    authSchemes: ['Digest-AKAv1-MD5'],
    serviceProfile: null,
    impus: [{ impu: `sip:${u}@ims.lab`, irs: 1, barred: false, pseudonym: false, isDefault: true }],
    implicitSets: [],
  }));
}

/** Runs the benchmark (needs `sipp` on PATH). */
export async function runRegisterBench(o: RegisterBenchOptions = {}): Promise<RegisterBenchResult> {
  const rates = o.rates ?? [50, 100, 150, 200, 300, 400, 600, 800, 1200, 1600];
  const count = o.count ?? 500;
  const log = o.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'imsec-bench-register-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    const users = Array.from({ length: count }, (_, i) => `bench${String(i).padStart(5, '0')}`);
    const { SqliteStore } = await import('../store/sqlite/index.js');
    const store = new SqliteStore(join(dir, 'hss.sqlite'));
    await store.createSubscribers(benchSubscribers(users));
    const scscfPort = await freeUdpPort();
    const serverName = `sip:scscf.ims.lab:${scscfPort}`;
    const hc = defaultHssConfig(dir);
    hc.diameter.listen = { host: '127.0.0.1', port: 0 };
    hc.diameter.peers = [{ host: 'scscf.ims.lab' }, { host: 'icscf.ims.lab' }];
    hc.rest = null;
    hc.logLevel = 'warn';
    hc.serverCapabilities = { mandatory: [], optional: [], serverNames: [serverName] };
    const k = fromHex(BENCH_K);
    const hss = createHss(hc, { store, ownsStore: true, rng: resWithoutZeroRng(k, computeOpc(k, fromHex(BENCH_OP))) });
    await hss.start();
    stops.push(() => hss.stop());
    const hosts = { 'scscf.ims.lab': '127.0.0.1', 'icscf.ims.lab': '127.0.0.1', 'hss.ims.lab': '127.0.0.1' };
    const scscf = await startNode('scscf', 'scscf', { serverName, sip: { listen: `127.0.0.1:${scscfPort}`, protocols: ['udp'] }, hosts, diameter: { hss: { host: 'hss.ims.lab', port: hss.diameterPort } }, store: `sqlite:${join(dir, 'scscf.sqlite')}`, icscf: null }, dir);
    stops.push(() => scscf.stop());
    const icscf = await startNode('icscf', 'icscf', { sip: { listen: '127.0.0.1:0', protocols: ['udp'] }, hosts, diameter: { hss: { host: 'hss.ims.lab', connect: `127.0.0.1:${hss.diameterPort}` } }, scscfs: [{ uri: serverName }] }, dir);
    stops.push(() => icscf.stop());
    const target = { address: '127.0.0.1', port: (icscf.ready.sip as { udp: number }).udp };
    // One SIPp port for every run: each step refreshes the users' binding (see SippRunOptions.localPort).
    const localPort = await freeUdpPort();
    writeFileSync(join(dir, 'scenario.xml'), sippRegisterScenario({ domain: 'ims.lab', k: BENCH_K, op: BENCH_OP, amf: '8000' }));
    // Warm-up (and wait for both Diameter connections): a few registrations until they pass.
    writeFileSync(join(dir, 'users.csv'), sippUsersCsv(users.slice(0, 20)));
    for (let i = 0; ; i++) {
      const w = await runSipp({ dir, target, localPort, calls: 20, rate: 20, timeoutSeconds: 20 });
      if (w.code === 0) break;
      if (i >= 5) throw new CliFailure(`bench: warm-up registrations fail (${w.failed} failed): ${w.stderr.split('\n')[0] ?? ''}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    writeFileSync(join(dir, 'users.csv'), sippUsersCsv(users));
    const steps: RegisterStep[] = [];
    for (const rate of rates) {
      const r = await runSipp({ dir, target, localPort, calls: count, rate, limit: Math.max(100, rate * 2), timeoutSeconds: Math.ceil(count / rate) + 60 });
      const failed = r.code === 0 ? r.failed || 0 : Math.max(1, r.failed || 0);
      const achieved = r.successful / r.seconds;
      const step: RegisterStep = {
        rate,
        calls: count,
        successful: r.successful,
        failed,
        achieved_per_s: Math.round(achieved * 10) / 10,
        avg_ms: Math.round(r.avgCallMs * 10) / 10,
        retransmissions: r.retransmissions,
        seconds: Math.round(r.seconds * 100) / 100,
        passed: failed === 0 && achieved >= 0.9 * rate,
      };
      steps.push(step);
      log(`rate ${rate}/s: ${step.successful} ok, ${step.failed} failed, ${step.achieved_per_s}/s completed, ${step.avg_ms} ms each, ${step.retransmissions} retransmissions`);
      if (!step.passed && !o.all) break;
    }
    const passed = steps.filter((s) => s.passed);
    const best = passed.length ? passed[passed.length - 1] : undefined;
    return {
      best_rate: best?.rate ?? 0,
      best_achieved_per_s: best?.achieved_per_s ?? 0,
      peak_completed_per_s: Math.max(0, ...steps.filter((s) => s.failed === 0).map((s) => s.achieved_per_s)),
      steps,
      per_step: count,
      stores: 'sqlite (WAL, synchronous=NORMAL) for the HSS and the S-CSCF registrar',
      node: process.version,
    };
  } finally {
    for (const s of stops.reverse()) await s().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatRegisterBench(r: RegisterBenchResult): string {
  const lines = [`IMS AKA registrations through I-CSCF + S-CSCF + HSS (SIPp, ${r.per_step} per step; ${r.stores}; node ${r.node})`];
  for (const s of r.steps) {
    lines.push(
      `  ${String(s.rate).padStart(5)}/s target: ${String(s.successful).padStart(5)} ok ${String(s.failed).padStart(4)} failed ${s.achieved_per_s.toFixed(1).padStart(7)}/s completed ` +
        `${s.avg_ms.toFixed(0).padStart(6)} ms/registration ${String(s.retransmissions).padStart(5)} retransmissions  ${s.passed ? 'sustained' : 'NOT sustained'}`,
    );
  }
  lines.push(`highest sustained rate with no failed registration: ${r.best_rate}/s (${r.best_achieved_per_s.toFixed(1)}/s completed); peak ${r.peak_completed_per_s.toFixed(1)}/s`);
  return `${lines.join('\n')}\n`;
}

/** A comma-separated list of positive integers from a flag; exit 2 otherwise. */
export function positiveInts(v: string, flag: string): number[] {
  const xs = v.split(',').map((x) => Number(x.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1)) throw new CliFailure(`${flag} must be positive integers separated by commas`, 2);
  return xs;
}

export const registrationBench: BenchRegistrar = (bench) => {
  bench
    .command('register')
    .description('full IMS AKA registrations per second through I-CSCF + S-CSCF + HSS, driven by SIPp at increasing rates')
    .option('--json', 'print one JSON object')
    .option('--rates <list>', 'target rates per step, comma-separated (default 50,100,200,400,800,1600)')
    .option('--count <n>', 'registrations per step (default 500)')
    .option('--all', 'run every step even after one fails')
    .action(async (o: { json?: boolean; rates?: string; count?: string; all?: boolean }) => {
      const rates = o.rates !== undefined ? positiveInts(o.rates, '--rates') : undefined;
      const count = o.count !== undefined ? positiveInts(o.count, '--count')[0] : undefined;
      const { spawnSync } = await import('node:child_process');
      if (spawnSync('sh', ['-c', 'command -v sipp'], { stdio: 'ignore' }).status !== 0) throw new CliFailure('bench register needs sipp (apt-get install sip-tester)');
      const r = await runRegisterBench({ ...(rates ? { rates } : {}), ...(count ? { count } : {}), all: o.all === true, log: o.json ? undefined : (l) => process.stderr.write(`${l}\n`) });
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatRegisterBench(r));
    });
};
