/**
 * `imsec bench scscf [--json]`: imsec's S-CSCF against Kamailio 5.6's (ims_auth +
 * ims_registrar_scscf over cdp, config in bench/kamailio-scscf/), both registrars under the same
 * SIPp IMS AKA scenario (REGISTER → 401 → REGISTER with the AKAv1-MD5 response → 200), both
 * talking Diameter Cx (MAR, SAR) to the same imsec HSS in this process, in interleaved A/B rounds.
 *
 * Each round climbs a ladder of rates for each S-CSCF (A then B, B then A in the next round); a
 * step passes when every registration passed and at least 90 % of the rate was completed. Per
 * S-CSCF and round: the highest passing rate, its completed registrations per second, and the CPU
 * time per registration of the S-CSCF's processes (/proc utime+stime: every Kamailio process; the
 * imsec process(es)) and of the HSS. The figures are medians over the rounds where a step passed
 * (a collapsed round is reported, not taken as 0/s), and the ratio is imsec ÷ Kamailio of the
 * completed rate. Every SIPp run against one S-CSCF uses the same local port, so a step refreshes
 * its users' bindings rather than adding one per step up to the registrar's cap.
 *
 * Kamailio runs from the Debian package (`kamailio`, `kamailio-ims-modules`) with 2 SIP worker
 * processes, bound to 127.0.0.1 only, in a private mount namespace whose /etc/hosts names the HSS
 * (cdp resolves the peer by FQDN). The two S-CSCFs register distinct users (`ims…`, `kam…`) so
 * neither takes over the other's registrations at the HSS.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeOpc } from '../auth/index.js';
import { fromHex } from '../common/index.js';
import { createHss, defaultHssConfig, type HssServer } from '../nodes/hss/index.js';
import type { BenchRegistrar } from './bench.js';
import { childrenOf, cpuMsOf, CpuCounter, pssKbOf } from './proc-stats.js';
import { workerOriginHost } from './scscf-workers.js';
import { median } from './bench.js';
import { BENCH_K, BENCH_OP, benchSubscribers, positiveInts } from './bench-register.js';
import { startNode } from './scale-out-topology.js';
import { freeUdpPort, resWithoutZeroRng, runSipp, sippRegisterScenario, sippUsersCsv } from './sipp.js';
import { CliFailure } from './errors.js';

const KAMAILIO_MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';

/** The repository's bench/kamailio-scscf directory (from src/cli or dist/src/cli). */
function kamailioTemplateDir(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, d = resolve(d, '..')) if (existsSync(join(d, 'bench', 'kamailio-scscf', 'kamailio.cfg'))) return join(d, 'bench', 'kamailio-scscf');
  throw new CliFailure('bench scscf: bench/kamailio-scscf/kamailio.cfg not found');
}

/** Fills every `{{NAME}}` of a template; a name left unfilled is a bug in the bench. */
export function fillTemplate(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
    if (!(name in values)) throw new CliFailure(`bench scscf: template value ${name} missing`);
    return String(values[name]);
  });
}

function freeTcpPort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

export interface KamailioScscf {
  port: number;
  pgrp: number;
  log(): string;
  /**
   * Why Kamailio stopped serving, once it has: the main process's line on a child that died
   * ("… child process N exited by a signal 11", logged at once, while the main process takes its
   * time to end the others), or "exited". Undefined while it runs.
   */
  failure(): string | undefined;
  stop(): Promise<void>;
}

/** Starts Kamailio's S-CSCF from bench/kamailio-scscf/ against the HSS at 127.0.0.1:hssPort. */
export async function startKamailioScscf(dir: string, hssPort: number, o: { children?: number; shmMb?: number; port?: number } = {}): Promise<KamailioScscf> {
  const port = o.port ?? (await freeUdpPort());
  const tpl = kamailioTemplateDir();
  const values = {
    CHILDREN: o.children ?? 2,
    SIP_PORT: port,
    MODULES: KAMAILIO_MODULES,
    CDP_XML: join(dir, 'cdp.xml'),
    SERVER_NAME: `sip:kscscf.ims.lab:${port}`,
    HSS_PORT: hssPort,
    ACCEPTOR_PORT: await freeTcpPort(),
  };
  writeFileSync(join(dir, 'kamailio.cfg'), fillTemplate(readFileSync(join(tpl, 'kamailio.cfg'), 'utf8'), values));
  writeFileSync(join(dir, 'cdp.xml'), fillTemplate(readFileSync(join(tpl, 'cdp.xml'), 'utf8'), values));
  writeFileSync(join(dir, 'hosts'), '127.0.0.1 localhost hss.ims.lab kscscf.ims.lab\n');
  const cmd = `mount --bind ${join(dir, 'hosts')} /etc/hosts && exec kamailio -f ${join(dir, 'kamailio.cfg')} -DD -E -m ${o.shmMb ?? 256} -M 16 -w ${dir} -Y ${dir}`;
  const proc: ChildProcess = spawn('unshare', ['-m', 'sh', '-c', cmd], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let log = '';
  let died: string | undefined;
  const keep = (d: Buffer): void => {
    log = (log + d.toString()).slice(-8000);
    died ??= /[^\n]*exited by a signal[^\n]*/.exec(log)?.[0].trim();
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-proc.pid!, sig);
    } catch {
      // already gone
    }
  };
  return {
    port,
    pgrp: proc.pid!,
    log: () => log,
    failure: () => died ?? (proc.exitCode !== null || proc.signalCode !== null ? 'exited' : undefined),
    async stop() {
      signal('SIGTERM'); // the whole group, even when the main process has gone first
      const t = setTimeout(() => signal('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

export interface ScscfStep {
  rate: number;
  successful: number;
  failed: number;
  achieved_per_s: number;
  avg_ms: number;
  /** CPU of the S-CSCF's processes per completed registration, ms. */
  scscf_cpu_ms: number;
  /** CPU of the HSS (this process) per completed registration, ms. */
  hss_cpu_ms: number;
  passed: boolean;
}

export interface ScscfRound {
  target: 'imsec' | 'kamailio';
  round: number;
  /** Highest passing step (absent: none passed). */
  best?: ScscfStep;
  steps: ScscfStep[];
  /** The S-CSCF had crashed or hung after this round's last step: how (it is restarted before its next round). */
  crashed?: string;
}

/** One S-CSCF's figures over its rounds: medians over the rounds where some step passed. */
export interface ScscfSummary {
  /** Completed registrations per second of the best passing step (NaN: no round passed). */
  per_s: number;
  scscf_cpu_ms: number;
  hss_cpu_ms: number;
  /** Rounds with a passing step, of `rounds`: a round whose first step failed counts as missing, not as 0/s. */
  rounds_passed: number;
  rounds: number;
}

export interface ScscfBenchResult {
  imsec: ScscfSummary;
  kamailio: ScscfSummary;
  /** imsec ÷ Kamailio, registrations per second completed with no failure (medians; NaN if either has no passing round). */
  ratio: number;
  rounds: ScscfRound[];
  load: string;
  node: string;
}

export interface ScscfBenchOptions {
  rates?: number[];
  rounds?: number;
  /** Seconds of traffic per step (registrations = rate × seconds, at least 500). */
  seconds?: number;
  /** The UE's pause between the 401 and its second REGISTER, ms (default 50). */
  pauseMs?: number;
  /** imsec's S-CSCF as this many processes (`imsec scscf --workers`); default 1. */
  workers?: number;
  log?: (line: string) => void;
}

/**
 * One S-CSCF under test: its SIPp directory (scenario, users), port, CPU (ms) and PSS (kB), and
 * the one local port every SIPp run against it uses (SippRunOptions.localPort).
 */
export interface Target {
  name: 'imsec' | 'kamailio';
  dir: string;
  port: number;
  sippPort: number;
  cpu(): number;
  pssKb(): number;
  /** Why the S-CSCF is no longer running (undefined while it runs). */
  down(): string | undefined;
  /** Starts it again on the same port and warms it up (Kamailio only: imsec's exit is a bench failure). */
  restart(): Promise<void>;
}

/** How often a step reads its target's CPU time while SIPp runs. */
const CPU_SAMPLE_MS = 200;

async function ladder(t: Target, rates: number[], seconds: number, hssCpu: () => number, round: number, log: (l: string) => void): Promise<ScscfRound> {
  const steps: ScscfStep[] = [];
  for (const rate of rates) {
    const calls = Math.max(500, Math.round(rate * seconds));
    const c0 = t.cpu();
    const h0 = hssCpu();
    // Read during the step too: a Kamailio whose worker crashes stops whole, and what its processes
    // used since the last reading would be lost (the counter keeps what it has read).
    const sampling = setInterval(() => void t.cpu(), CPU_SAMPLE_MS);
    let r: Awaited<ReturnType<typeof runSipp>>;
    try {
      r = await runSipp({ dir: t.dir, target: { address: '127.0.0.1', port: t.port }, localPort: t.sippPort, calls, rate, limit: Math.max(200, rate * 2), timeoutSeconds: Math.ceil(calls / rate) + 30 });
    } finally {
      clearInterval(sampling);
    }
    const cpu = t.cpu() - c0;
    const hcpu = hssCpu() - h0;
    const failed = r.code === 0 ? r.failed || 0 : Math.max(1, r.failed || 0);
    const achieved = r.successful / r.seconds;
    const ok = Math.max(1, r.successful);
    const step: ScscfStep = {
      rate,
      successful: r.successful,
      failed,
      achieved_per_s: Math.round(achieved),
      avg_ms: Math.round(r.avgCallMs * 10) / 10,
      scscf_cpu_ms: Math.round((cpu / ok) * 1000) / 1000,
      hss_cpu_ms: Math.round((hcpu / ok) * 1000) / 1000,
      passed: failed === 0 && achieved >= 0.9 * rate,
    };
    steps.push(step);
    log(`${t.name} round ${round} ${rate}/s: ${step.successful} ok ${step.failed} failed, ${step.achieved_per_s}/s, ${step.avg_ms} ms, S-CSCF ${step.scscf_cpu_ms} ms CPU/reg, HSS ${step.hss_cpu_ms}`);
    if (!step.passed) break;
  }
  const passed = steps.filter((s) => s.passed);
  return { target: t.name, round, steps, ...(passed.length ? { best: passed[passed.length - 1] } : {}) };
}

/**
 * The HSS (in this process, `users` subscribers for each S-CSCF), imsec's S-CSCF and Kamailio's,
 * both warmed up (Diameter connected, 20 registrations passed). `stops` collects the shutdowns;
 * `answers(t)` tells whether a target still registers its 20 warm-up users (a hung S-CSCF runs but never answers).
 */
export async function startScscfPair(
  dir: string,
  stops: (() => Promise<void>)[],
  o: { users: number; pauseMs: number; expires?: number; shmMb?: number; workers?: number },
): Promise<{ targets: Target[]; hssCpu: () => number; hss: HssServer; answers: (t: Target) => Promise<boolean> }> {
    const n = o.users;
    const imsUsers = Array.from({ length: n }, (_, i) => `ims${String(i).padStart(6, '0')}`);
    const kamUsers = Array.from({ length: n }, (_, i) => `kam${String(i).padStart(6, '0')}`);
    const { SqliteStore } = await import('../store/sqlite/index.js');
    const store = new SqliteStore(join(dir, 'hss.sqlite'));
    await store.createSubscribers(benchSubscribers([...imsUsers, ...kamUsers]));
    const hc = defaultHssConfig(dir);
    hc.diameter.listen = { host: '127.0.0.1', port: 0 };
    hc.diameter.peers = [{ host: 'scscf.ims.lab' }, { host: 'kscscf.ims.lab' }, ...Array.from({ length: o.workers ?? 1 }, (_, i) => ({ host: workerOriginHost('scscf.ims.lab', i) }))];
    hc.rest = null;
    hc.logLevel = 'warn';
    const k = fromHex(BENCH_K);
    const hss = createHss(hc, { store, ownsStore: true, rng: resWithoutZeroRng(k, computeOpc(k, fromHex(BENCH_OP))) });
    await hss.start();
    stops.push(() => hss.stop());
    const hssPort = hss.diameterPort!;
    const hssCpu = (): number => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };

    const scenario = sippRegisterScenario({ domain: 'ims.lab', k: BENCH_K, op: BENCH_OP, amf: '8000', pauseMs: o.pauseMs, ...(o.expires ? { expires: o.expires } : {}) });
    // The target's SIPp directory, and in it `warm/` with its first 20 users (warm-up and checks).
    const targetDir = (name: string, users: string[]): string => {
      const d = join(dir, name);
      spawnSync('mkdir', ['-p', join(d, 'warm')]);
      writeFileSync(join(d, 'scenario.xml'), scenario);
      writeFileSync(join(d, 'users.csv'), sippUsersCsv(users));
      writeFileSync(join(d, 'warm', 'scenario.xml'), scenario);
      writeFileSync(join(d, 'warm', 'users.csv'), sippUsersCsv(users.slice(0, 20)));
      return d;
    };

    const scscfPort = await freeUdpPort();
    const hosts = { 'scscf.ims.lab': '127.0.0.1', 'hss.ims.lab': '127.0.0.1' };
    // IMSEC_SCSCF_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" (or --heap-prof …): node flags for the
    // imsec S-CSCF, to profile it under this load.
    const nodeArgs = (process.env.IMSEC_SCSCF_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const scscf = await startNode(
      'scscf',
      'scscf',
      { serverName: `sip:scscf.ims.lab:${scscfPort}`, sip: { listen: `127.0.0.1:${scscfPort}`, protocols: ['udp'] }, hosts, diameter: { hss: { host: 'hss.ims.lab', port: hssPort } }, store: `sqlite:${join(dir, 'scscf.sqlite')}`, icscf: null },
      dir,
      { nodeArgs, ...((o.workers ?? 1) > 1 ? { args: ['--workers', String(o.workers)] } : {}) },
    );
    const scscfPid = scscf.proc.pid!;
    stops.push(() => scscf.stop());
    const kamOptions = o.shmMb ? { shmMb: o.shmMb } : {};
    let kam = await startKamailioScscf(dir, hssPort, kamOptions);
    stops.push(() => kam.stop());

    // 20 registrations of the first users: the warm-up, and the check that an S-CSCF still answers.
    const registers20 = async (t: Target): Promise<boolean> =>
      (await runSipp({ dir: join(t.dir, 'warm'), target: { address: '127.0.0.1', port: t.port }, localPort: t.sippPort, calls: 20, rate: 20, timeoutSeconds: 20 })).code === 0;
    // Warm-up: the S-CSCF answers (Diameter connection up) before any step is measured.
    const warmUp = async (t: Target): Promise<void> => {
      for (let i = 0; !(await registers20(t)); i++) {
        if (i >= 8) throw new CliFailure(`bench scscf: ${t.name} warm-up registrations fail${t.name === 'kamailio' ? `: ${kam.log().split('\n').slice(-5).join(' | ')}` : ''}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    const kamCpu = new CpuCounter();
    const targets: Target[] = [
      {
        name: 'imsec',
        dir: targetDir('imsec', imsUsers),
        port: (scscf.ready.sip as { udp: number }).udp,
        sippPort: await freeUdpPort(),
        cpu: () => cpuMsOf({ pid: scscfPid }) + childrenCpu(scscfPid),
        pssKb: () => pssKbOf({ pid: scscfPid }),
        down: () => (scscf.proc.exitCode !== null || scscf.proc.signalCode !== null ? 'exited' : undefined),
        restart: () => Promise.reject(new CliFailure('bench scscf: imsec S-CSCF exited during the bench')),
      },
      {
        name: 'kamailio',
        dir: targetDir('kamailio', kamUsers),
        port: kam.port,
        sippPort: await freeUdpPort(),
        // Its workers' CPU time stays counted when one crashes under load (a step then fails).
        cpu: () => kamCpu.read({ pgrp: kam.pgrp }),
        pssKb: () => pssKbOf({ pgrp: kam.pgrp }),
        down: () => kam.failure(),
        async restart() {
          await kam.stop();
          kam = await startKamailioScscf(dir, hssPort, { ...kamOptions, port: this.port });
          await warmUp(this);
        },
      },
    ];
    for (const t of targets) await warmUp(t);

    return { targets, hssCpu, hss, answers: registers20 };
}

/** Runs the benchmark (needs sipp, kamailio with kamailio-ims-modules, unshare, root for the mount namespace). */
export async function runScscfBench(o: ScscfBenchOptions = {}): Promise<ScscfBenchResult> {
  // Steps of 100/s where the two S-CSCFs stop passing on 2 cores (1,500–2,500/s): a coarser ladder
  // stops both at the same step, and the ratio then compares SIPp's pace at it (steps of 500/s on
  // 2026-12-06, of 250/s on 2026-12-07 on a slower machine).
  const rates = o.rates ?? [500, 1000, 1250, ...Array.from({ length: 11 }, (_, i) => 1500 + 100 * i), 3000, 3500, 4000];
  const rounds = o.rounds ?? 3;
  const seconds = o.seconds ?? 3;
  const log = o.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'imsec-bench-scscf-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    // The UE answers the 401 after 50 ms (its AKA think time): Kamailio's ims_auth sends the 401 from
    // its MAA callback before it stores the vector, so an answer within a few ms can fail there.
    const { targets, hssCpu, answers } = await startScscfPair(dir, stops, { users: Math.max(500, Math.round(Math.max(...rates) * seconds)), pauseMs: o.pauseMs ?? 50, ...(o.workers ? { workers: o.workers } : {}) });

    const all: ScscfRound[] = [];
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? targets : [...targets].reverse();
      for (const t of order) {
        const r = await ladder(t, rates, seconds, hssCpu, round, log);
        // Overload can crash or wedge an S-CSCF (Kamailio 5.6's did both here): the round ends
        // there, and the next starts from a fresh one.
        const why = t.down() ?? ((await answers(t)) ? undefined : 'runs, but answers no registration (hung)');
        all.push(why === undefined ? r : { ...r, crashed: why });
        if (why !== undefined) {
          log(`${t.name} round ${round}: the S-CSCF is down (${why}); restarting it`);
          await t.restart();
        }
      }
    }
    const imsec = summarizeScscf(all, 'imsec');
    const kamailio = summarizeScscf(all, 'kamailio');
    return { imsec, kamailio, ratio: scscfRatio(imsec, kamailio), rounds: all, load: readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' '), node: process.version };
  } finally {
    for (const s of stops.reverse()) await s().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One S-CSCF's medians over its rounds. A round where no step passed is left out (and counted in
 * `rounds` but not `rounds_passed`), not taken as 0/s: a median over 0s would follow which side
 * collapsed, not how fast either is.
 */
export function summarizeScscf(all: readonly ScscfRound[], name: 'imsec' | 'kamailio'): ScscfSummary {
  const rounds = all.filter((r) => r.target === name);
  const best = rounds.flatMap((r) => (r.best ? [r.best] : []));
  const med = (xs: number[]): number => (xs.length ? median(xs) : Number.NaN);
  return {
    per_s: med(best.map((b) => b.achieved_per_s)),
    scscf_cpu_ms: med(best.map((b) => b.scscf_cpu_ms)),
    hss_cpu_ms: med(best.map((b) => b.hss_cpu_ms)),
    rounds_passed: best.length,
    rounds: rounds.length,
  };
}

/** imsec ÷ Kamailio of the median completed rates, 2 decimals; NaN when either has none. */
export function scscfRatio(imsec: ScscfSummary, kamailio: ScscfSummary): number {
  if (!(imsec.per_s > 0 && kamailio.per_s > 0)) return Number.NaN;
  return Math.round((imsec.per_s / kamailio.per_s) * 100) / 100;
}

/** CPU (ms) of the direct children of `pid` (the S-CSCF's worker processes). */
function childrenCpu(pid: number): number {
  return childrenOf(pid).reduce((sum, c) => sum + cpuMsOf({ pid: c }), 0);
}

export function formatScscfBench(r: ScscfBenchResult): string {
  const line = (name: string, s: ScscfSummary): string =>
    `  ${name.padEnd(9)} ${String(s.per_s).padStart(6)} registrations/s with 0 failures   S-CSCF ${s.scscf_cpu_ms.toFixed(3)} ms CPU/registration   HSS ${s.hss_cpu_ms.toFixed(3)} ms   (${s.rounds_passed} of ${s.rounds} rounds passed a step)`;
  return [
    `S-CSCF under SIPp (REGISTER/401/REGISTER/200, IMS AKA, same HSS; medians of ${Math.max(...r.rounds.map((x) => x.round))} interleaved rounds; load ${r.load}; node ${r.node})`,
    line('imsec', r.imsec),
    line('kamailio', r.kamailio),
    ...r.rounds.filter((x) => x.crashed !== undefined).map((x) => `  ${x.target} went down in round ${x.round}, at ${x.steps[x.steps.length - 1].rate}/s (${x.crashed}); restarted`),
    `ratio imsec/Kamailio: ${r.ratio}`,
    '',
  ].join('\n');
}

export const scscfBench: BenchRegistrar = (bench) => {
  bench
    .command('scscf')
    .description("imsec's S-CSCF against Kamailio's (ims_auth + ims_registrar_scscf) under the same SIPp IMS AKA registrations, same HSS")
    .option('--json', 'print one JSON object')
    .option('--rates <list>', 'ladder of target rates, comma-separated (default 500,1000,1250,1500,1600,…,2500,3000,3500,4000)')
    .option('--rounds <n>', 'interleaved A/B rounds (default 3)')
    .option('--seconds <n>', 'seconds of traffic per step (default 3)')
    .option('--pause <ms>', "the UE's pause between the 401 and its second REGISTER (default 50)")
    .option('--workers <n>', "imsec's S-CSCF as n processes on one port (imsec scscf --workers; default 1)")
    .action(async (o: { json?: boolean; rates?: string; rounds?: string; seconds?: string; pause?: string; workers?: string }) => {
      for (const p of ['sipp', 'kamailio', 'unshare']) {
        if (spawnSync('sh', ['-c', `command -v ${p}`], { stdio: 'ignore' }).status !== 0) throw new CliFailure(`bench scscf needs ${p} (apt-get install sip-tester kamailio kamailio-ims-modules util-linux)`);
      }
      const r = await runScscfBench({
        ...(o.rates !== undefined ? { rates: positiveInts(o.rates, '--rates') } : {}),
        ...(o.rounds !== undefined ? { rounds: positiveInts(o.rounds, '--rounds')[0] } : {}),
        ...(o.seconds !== undefined ? { seconds: positiveInts(o.seconds, '--seconds')[0] } : {}),
        ...(o.pause !== undefined ? { pauseMs: positiveInts(o.pause, '--pause')[0] } : {}),
        ...(o.workers !== undefined ? { workers: positiveInts(o.workers, '--workers')[0] } : {}),
        log: o.json ? undefined : (l) => process.stderr.write(`${l}\n`),
      });
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatScscfBench(r));
    });
};
