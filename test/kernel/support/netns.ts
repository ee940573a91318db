/**
 * Network namespaces for the kernel tests (inside user-mode Linux, scripts/lab): a pair joined
 * by a veth link with IPv4 and IPv6 addresses, a socket agent in each, captures with tcpdump.
 * Everything created here is removed by {@link NetnsPair.remove}.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { ipRunner, probeKernelEsp } from '../../../src/ipsec/xfrm/index.js';
import { repoRoot } from '../../support/paths.js';
import { canUseNetns } from '../../support/peers.js';
import type { Endpoint, Received } from './agent.js';

/** Runs `ip ARGS…` and fails the test with its stderr when it fails. */
export function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

let espChecked: { ok: boolean; why: string } | undefined;

/**
 * True when this process runs as root on a kernel with ESP (the lab). Otherwise the test fails
 * under CI=true and is skipped loudly elsewhere: these files belong inside scripts/lab/run.sh,
 * which `npm test` (scripts/run-tests.mjs) does for them.
 */
export async function needKernelEsp(t: TestContext): Promise<boolean> {
  if (!espChecked) {
    if (!canUseNetns()) espChecked = { ok: false, why: 'kernel tests need root and iproute2 (run them with scripts/lab/run.sh)' };
    else {
      const ns = `imsec-k-probe-${process.pid}`;
      ip('netns', 'add', ns);
      try {
        const p = await probeKernelEsp(ipRunner({ netns: ns, batch: false }));
        espChecked = p.ok ? { ok: true, why: '' } : { ok: false, why: `kernel has no ESP (${p.reason}): run with scripts/lab/run.sh` };
      } finally {
        ip('netns', 'del', ns);
      }
    }
  }
  if (espChecked.ok) return true;
  if (process.env.CI === 'true') throw new Error(`CI: ${espChecked.why}`);
  process.stderr.write(`\n!!! SKIPPED: ${espChecked.why}\n`);
  t.skip(espChecked.why);
  return false;
}

/** One side of a {@link NetnsPair}. */
export interface Side {
  readonly ns: string;
  readonly dev: string;
  readonly v4: string;
  readonly v6: string;
}

export interface NetnsPair {
  readonly a: Side;
  readonly b: Side;
  remove(): void;
}

/**
 * Two namespaces `<prefix>-a` and `<prefix>-b` joined by veth `va`/`vb`: 10.77.0.1 / 10.77.0.2
 * and fd00:77::1 / fd00:77::2 (documentation-style ULA, no DAD so they work at once).
 */
export function createNetnsPair(prefix: string): NetnsPair {
  const a: Side = { ns: `${prefix}-a`, dev: 'va', v4: '10.77.0.1', v6: 'fd00:77::1' };
  const b: Side = { ns: `${prefix}-b`, dev: 'vb', v4: '10.77.0.2', v6: 'fd00:77::2' };
  const remove = (): void => {
    for (const s of [a, b]) spawnSync('ip', ['netns', 'del', s.ns], { stdio: 'ignore' });
  };
  remove();
  ip('netns', 'add', a.ns);
  ip('netns', 'add', b.ns);
  ip('link', 'add', a.dev, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.dev, 'netns', b.ns);
  for (const s of [a, b]) {
    const lines = [
      `link set lo up`,
      `link set ${s.dev} up`,
      `addr add ${s.v4}/24 dev ${s.dev}`,
      `addr add ${s.v6}/64 dev ${s.dev} nodad`,
    ];
    const r = spawnSync('ip', ['-n', s.ns, '-batch', '-'], { input: lines.join('\n') + '\n', encoding: 'utf8' });
    assert.equal(r.status, 0, `ip -n ${s.ns} -batch: ${r.stderr}`);
  }
  return { a, b, remove };
}

/**
 * A Node helper process inside a namespace speaking JSON lines: `{ id, op, … }` in,
 * `{ id, ok, result | error }` out, `{ ready: true }` once it listens (support/agent.ts,
 * support/ue-driver.ts).
 */
export class NsProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly ready: Promise<void>;

  protected constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    let onReady!: () => void;
    this.ready = new Promise((r) => (onReady = r));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as { ready?: true; id?: number; ok?: boolean; result?: unknown; error?: string };
      if (m.ready) return onReady();
      const w = this.waiting.get(m.id!);
      this.waiting.delete(m.id!);
      if (m.ok) w?.resolve(m.result);
      else w?.reject(new Error(m.error));
    });
  }

  /** Starts dist/test/kernel/support/<name>.js in `ns` and waits until it is ready. */
  protected static async spawnIn(ns: string, name: string): Promise<ChildProcessByStdio<Writable, Readable, null>> {
    const script = join(repoRoot, 'dist', 'test', 'kernel', 'support', `${name}.js`);
    return spawn('ip', ['netns', 'exec', ns, process.execPath, script], { stdio: ['pipe', 'pipe', 'inherit'] });
  }

  protected async started(): Promise<this> {
    await this.ready;
    return this;
  }

  request<T = void>(r: { op: string; [k: string]: unknown }): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin.write(JSON.stringify({ id, ...r }) + '\n');
    });
  }

  /** Ends the process (its sockets close with it). */
  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin.end();
    await exited;
  }

  /** Kills the process with SIGKILL (a crash) and waits for it to go. */
  async kill(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** A socket agent (support/agent.ts) inside a namespace. */
export class Agent extends NsProcess {
  static async start(ns: string): Promise<Agent> {
    return new Agent(await NsProcess.spawnIn(ns, 'agent')).started();
  }

  udpBind(local: Endpoint): Promise<void> {
    return this.request({ op: 'udpBind', local });
  }
  udpSend(local: Endpoint, to: Endpoint, data: string): Promise<void> {
    return this.request({ op: 'udpSend', local, to, data });
  }
  tcpListen(local: Endpoint): Promise<void> {
    return this.request({ op: 'tcpListen', local });
  }
  tcpExchange(local: Endpoint, to: Endpoint, data: string): Promise<string> {
    return this.request<string>({ op: 'tcpExchange', local, to, data });
  }
  /** What arrived since the last call, waiting until there are `atLeast` items (`timeoutMs` at most). */
  received(atLeast = 0, timeoutMs = 10_000): Promise<Received[]> {
    return this.request<Received[]>({ op: 'received', atLeast, timeoutMs });
  }
  closeAll(): Promise<void> {
    return this.request({ op: 'closeAll' });
  }
}

/** tcpdump writing every packet of one namespace's link to a pcap file. */
export class Capture {
  private constructor(private readonly child: ChildProcessByStdio<null, null, Readable>) {}

  static async start(ns: string, dev: string, file: string): Promise<Capture> {
    // Immediate mode and a 64 MiB kernel buffer: the one-CPU guest, busy beside the host tests,
    // can leave tcpdump unscheduled for a while, and the default 2 MiB ring then drops packets.
    const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', dev, '-n', '-U', '--immediate-mode', '-B', '65536', '-s', '0', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    // tcpdump reports "listening on …" once the capture runs.
    await new Promise<void>((resolve, reject) => {
      let text = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => {
        text += d;
        if (text.includes('listening on')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`tcpdump exited (${code}): ${text}`)));
    });
    const capture = new Capture(child);
    child.stderr.on('data', (d: string) => (capture.report += d));
    return capture;
  }

  /** What tcpdump printed after it started (its counts at the end). */
  private report = '';

  /** Stops the capture (once; again is a no-op); the file is complete when this resolves. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGINT');
    await exited;
    const dropped = Number(/(\d+) packets? dropped by kernel/.exec(this.report)?.[1] ?? 0);
    if (dropped > 0) console.error(`tcpdump: ${dropped} packets dropped by the kernel: checks on this capture may miss them`);
  }
}

/** The soft UEs of support/ue-driver.ts inside a namespace. */
export class UeDriver extends NsProcess {
  static async start(ns: string): Promise<UeDriver> {
    return new UeDriver(await NsProcess.spawnIn(ns, 'ue-driver')).started();
  }
}

/**
 * Writes an `imsec core` configuration (nodes/core/config.ts) for the realm ims.lab on `host`,
 * data under `dir`, with the given node sections; returns its path.
 */
export function writeCoreConfig(dir: string, host: string, nodes: Record<string, unknown>): string {
  const file = join(dir, 'core.json');
  writeFileSync(file, JSON.stringify({ realm: 'ims.lab', host, dataDir: join(dir, 'data'), logLevel: 'warn', ...nodes }));
  return file;
}

/** `imsec core` (dist/src/cli/main.js) inside a namespace; `ready` is its first stdout line. */
export class CoreProcess {
  private readonly answers: ((line: Record<string, unknown>) => void)[] = [];

  private constructor(
    private readonly child: ChildProcessByStdio<Writable | null, Readable, Readable>,
    readonly ready: Record<string, unknown>,
    readonly stderr: () => string,
    lines: ReturnType<typeof createInterface>,
  ) {
    lines.on('line', (l) => this.answers.shift()?.(JSON.parse(l) as Record<string, unknown>));
  }

  /** `admin`: with `--admin-stdin`, so that {@link CoreProcess.admin} can give the S-CSCF operator commands. */
  static async start(ns: string, configFile: string, opts: { admin?: boolean } = {}): Promise<CoreProcess> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'core', '--config', configFile, ...(opts.admin ? ['--admin-stdin'] : [])], {
      stdio: [opts.admin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (err = (err + d).slice(-200_000)));
    const lines = createInterface({ input: child.stdout });
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      lines.once('line', (l) => resolve(JSON.parse(l) as Record<string, unknown>));
      child.once('exit', (code) => reject(new Error(`imsec core exited (${code}): ${err}`)));
    });
    return new CoreProcess(child, ready, () => err, lines);
  }

  /** One operator command (`reauth IMPU SECONDS`, …; started with `admin`); resolves with its JSON answer. */
  admin(command: string): Promise<Record<string, unknown>> {
    const stdin = this.child.stdin;
    if (!stdin) return Promise.reject(new Error('imsec core was started without --admin-stdin'));
    return new Promise((resolve) => {
      this.answers.push(resolve);
      stdin.write(command + '\n');
    });
  }

  /** SIGTERM (clean stop) or SIGKILL (a crash); resolves when the process has gone. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((r) => this.child.once('exit', (code) => r(code)));
    this.child.kill(signal);
    return exited;
  }
}
