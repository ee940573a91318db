/**
 * `imsec demo --datapath xfrm`: the demo on kernel ESP in transport mode (TS 33.203 Annex H
 * `mod=trans`), as phones and deployed P-CSCFs run it. Needs root and a kernel with ESP: inside
 * the lab, `imsec lab -- imsec demo --datapath xfrm`.
 *
 * XFRM SAs and policies belong to a network namespace, and the UE's and the P-CSCF's SAs cannot
 * share one (the same selectors both ways), so this process:
 * 1. creates two namespaces, `imsec-demo-<pid>-core` and `imsec-demo-<pid>-ue`, joined by a veth
 *    pair (10.77.0.1 and 10.77.0.2; nothing leaves them), after removing any left by an earlier
 *    demo whose process is gone;
 * 2. checks that the kernel takes an ESP SA there (else one line and exit 1);
 * 3. runs the core half (demo-xfrm-core.ts: the core, the ladder, the UEs' agent in the other
 *    namespace) under `ip netns exec`, its output passed through: one ladder, in order;
 * 4. afterwards checks that no SA and no policy is left in either namespace, kills anything of
 *    ours still inside them, removes both and checks they are gone — also after a failure or
 *    Ctrl-C (removing a namespace removes whatever it still held).
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ipRunner, probeKernelEsp } from '../ipsec/index.js';
import { CliFailure } from './errors.js';
import type { DemoXfrmPlan } from './demo-xfrm-core.js';

/** The one line printed without root or ESP. */
export const NEEDS_KERNEL = 'demo --datapath xfrm needs root and a kernel with ESP: run it as `imsec lab -- imsec demo --datapath xfrm`';

/** Every namespace of the demo starts with this, then the pid of its process. */
export const DEMO_NETNS_PREFIX = 'imsec-demo-';

const CORE = { dev: 'dcore', v4: '10.77.0.1' };
const UE = { dev: 'due', v4: '10.77.0.2' };
/** How long the core half gets to stop after a signal before it is killed. */
const STOP_GRACE_MS = 10_000;

function ip(...args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: (r.stderr ?? r.error?.message ?? '').trim() };
}

function mustIp(...args: string[]): void {
  const r = ip(...args);
  if (!r.ok) throw new CliFailure(`demo --datapath xfrm: ip ${args.join(' ')}: ${r.stderr}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The demo's namespaces now present (all, or those of one pid). */
export function demoNamespaces(pid?: number): string[] {
  const names = ip('netns', 'list').stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]);
  return names.filter((n) => n.startsWith(pid === undefined ? DEMO_NETNS_PREFIX : `${DEMO_NETNS_PREFIX}${pid}-`));
}

/** Kills what is still inside `ns` (only our demo's processes live there) and removes it. */
function removeNamespace(ns: string): void {
  for (const pid of ip('netns', 'pids', ns).stdout.split('\n').map(Number).filter((p) => p > 0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  ip('netns', 'del', ns);
}

/** Namespaces left by a demo whose process is gone (it was killed with SIGKILL). */
function sweepStale(): void {
  for (const ns of demoNamespaces()) {
    const pid = Number(/^imsec-demo-(\d+)-/.exec(ns)?.[1]);
    if (pid > 0 && pid !== process.pid && !alive(pid)) removeNamespace(ns);
  }
}

function createPair(core: string, ue: string): void {
  mustIp('netns', 'add', core);
  mustIp('netns', 'add', ue);
  mustIp('link', 'add', CORE.dev, 'netns', core, 'type', 'veth', 'peer', 'name', UE.dev, 'netns', ue);
  for (const [ns, side] of [[core, CORE], [ue, UE]] as const) {
    for (const args of [['link', 'set', 'lo', 'up'], ['link', 'set', side.dev, 'up'], ['addr', 'add', `${side.v4}/24`, 'dev', side.dev]]) mustIp('-n', ns, ...args);
  }
}

/** SAs and policies in a namespace's kernel. */
function xfrmEntries(ns: string): number {
  let n = 0;
  for (const what of ['state', 'policy']) n += ip('-n', ns, 'xfrm', what, 'list').stdout.split('\n').filter((l) => /^(src|dir)\s/.test(l)).length;
  return n;
}

/** Runs `imsec demo --datapath xfrm` (see the module comment); resolves to the exit status. */
export async function runDemoXfrm(o: { color: boolean; logLevel: string }, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  if (process.getuid?.() !== 0) throw new CliFailure(NEEDS_KERNEL);
  if (!ip('-V').ok) throw new CliFailure(`${NEEDS_KERNEL} (iproute2's ip is missing)`);
  sweepStale();
  const core = `${DEMO_NETNS_PREFIX}${process.pid}-core`;
  const ue = `${DEMO_NETNS_PREFIX}${process.pid}-ue`;
  let interrupted = false;
  let ran = false;
  try {
    createPair(core, ue);
    const esp = await probeKernelEsp(ipRunner({ netns: core, batch: false }));
    if (!esp.ok) throw new CliFailure(`${NEEDS_KERNEL} (${esp.reason})`);
    const plan: DemoXfrmPlan = {
      ueNs: ue,
      dev: CORE.dev,
      coreAddress: CORE.v4,
      ueAddress: UE.v4,
      color: o.color,
      logLevel: o.logLevel,
      where: `the core in network namespace ${core} (${CORE.v4}), the UEs in ${ue} (${UE.v4}), joined by a veth pair; the kernel seals and opens ESP, the ⇒ lines are read from a capture of the link with the P-CSCF's keys`,
    };
    const script = join(dirname(fileURLToPath(import.meta.url)), 'demo-xfrm-core.js');
    ran = true;
    const child = spawn('ip', ['netns', 'exec', core, process.execPath, script, JSON.stringify(plan)], { stdio: ['ignore', 'inherit', 'inherit'] });
    let killTimer: NodeJS.Timeout | undefined;
    const onSignal = (): void => {
      if (interrupted) return;
      interrupted = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
    const code = await new Promise<number>((resolve) => {
      child.once('error', () => resolve(1));
      child.once('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
    });
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    clearTimeout(killTimer);
    if (interrupted) return 130;
    const left = xfrmEntries(core) + xfrmEntries(ue);
    if (left > 0) {
      out.write(`\n  ✘ ${left} XFRM entries (SAs and policies) were left in the two namespaces\n`);
      return 1;
    }
    if (code === 0) out.write('  ✔ no SA and no policy left in either namespace\n');
    return code;
  } finally {
    removeNamespace(core);
    removeNamespace(ue);
    const still = demoNamespaces(process.pid);
    if (still.length > 0) process.stderr.write(`imsec: demo --datapath xfrm: could not remove ${still.join(', ')}\n`);
    else if (ran && !interrupted) out.write(`  ✔ namespaces ${core} and ${ue} removed\n`);
  }
}
