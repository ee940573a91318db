/**
 * Network namespaces for the kernel tests (inside user-mode Linux, scripts/lab): a pair joined
 * by a veth link with IPv4 and IPv6 addresses, a socket agent in each, captures with tcpdump.
 * Everything created here is removed by {@link NetnsPair.remove}.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { ipRunner, probeKernelEsp } from '../../../src/ipsec/xfrm/index.js';
import { repoRoot } from '../../support/paths.js';
import { canUseNetns } from '../../support/peers.js';
import type { AgentRequest, Endpoint, Received } from './agent.js';

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

/** A socket agent (support/agent.ts) running inside a namespace. */
export class Agent {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly ready: Promise<void>;

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
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

  static async start(ns: string): Promise<Agent> {
    const script = join(repoRoot, 'dist', 'test', 'kernel', 'support', 'agent.js');
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const a = new Agent(child);
    await a.ready;
    return a;
  }

  request<T = void>(r: AgentRequest): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin.write(JSON.stringify({ id, ...r }) + '\n');
    });
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
  /** What arrived since the last call, waiting until there are `atLeast` items (10 s at most). */
  received(atLeast = 0): Promise<Received[]> {
    return this.request<Received[]>({ op: 'received', atLeast });
  }
  closeAll(): Promise<void> {
    return this.request({ op: 'closeAll' });
  }

  /** Ends the agent (its sockets close with it). */
  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin.end();
    await exited;
  }
}

/** tcpdump writing every packet of one namespace's link to a pcap file. */
export class Capture {
  private constructor(private readonly child: ChildProcessByStdio<null, null, Readable>) {}

  static async start(ns: string, dev: string, file: string): Promise<Capture> {
    const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', dev, '-n', '-U', '-s', '0', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
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
    return new Capture(child);
  }

  /** Stops the capture; the file is complete when this resolves. */
  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGINT');
    await exited;
  }
}
