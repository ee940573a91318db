/**
 * Interop with a real Diameter peer, freeDiameterd 1.2 (INTEROP.md): RFC 6733 §5.3 CER/CEA, §5.5
 * DWR/DWA and §5.4 DPR/DPA with our node in both connection directions. freeDiameterd refuses
 * loopback addresses, so each test makes its own network namespace (10.99.0.1 on its lo), runs
 * freeDiameterd and our node (support/fd-peer.ts, a child process) inside it, and deletes
 * everything afterwards. freeDiameterd takes ~16 s to exit on SIGTERM, so it gets SIGKILL once the
 * DPR/DPA exchange has been observed.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canUseNetns, needPeer } from '../support/peers.js';
import { repoRoot } from '../support/paths.js';

const ADDR = '10.99.0.1';
const FD_DICTS = ['dict_nasreq', 'dict_dcca', 'dict_dcca_3gpp'];
const FD_EXT_DIR = '/usr/lib/freeDiameter';

interface Ev {
  ev: string;
  dir?: string;
  cmd?: number;
  req?: boolean;
  rc?: number | null;
  status?: string;
  err?: string | null;
  psm?: Record<string, string>;
  flags?: number;
}

/** A child process whose stdout lines (JSON or text) are collected and can be awaited. */
class Proc {
  readonly lines: string[] = [];
  readonly events: Ev[] = [];
  private waiters: (() => void)[] = [];
  exited = false;
  constructor(readonly child: ChildProcess) {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.lines.push(line);
        if (line.startsWith('{')) {
          try {
            this.events.push(JSON.parse(line) as Ev);
          } catch {
            // not ours
          }
        }
        for (const w of this.waiters.splice(0)) w();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  async waitFor<T>(find: () => T | undefined, ms: number, what: string): Promise<T> {
    const until = Date.now() + ms;
    for (;;) {
      const v = find();
      if (v !== undefined && v !== false) return v;
      const left = until - Date.now();
      if (left <= 0 || this.exited) throw new Error(`timed out waiting for ${what}; output:\n${this.lines.slice(-30).join('\n')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  msg(dir: 'in' | 'out', cmd: number, req: boolean): Ev | undefined {
    return this.events.find((e) => e.ev === 'msg' && e.dir === dir && e.cmd === cmd && e.req === req);
  }
}

function fdConfig(dir: string, extra: string): string {
  const conf = join(dir, 'fd.conf');
  writeFileSync(
    conf,
    [
      'Identity = "fd.ims.lab";',
      'Realm = "ims.lab";',
      'Port = 3868;',
      'SecPort = 0;',
      'No_SCTP;',
      'No_IPv6;',
      `ListenOn = "${ADDR}";`,
      'TwTimer = 6;',
      'TcTimer = 3;',
      ...FD_DICTS.map((d) => `LoadExtension = "${FD_EXT_DIR}/${d}.fdx";`),
      extra,
      '',
    ].join('\n'),
  );
  return conf;
}

/** Our node inside the namespace: compiled JS under `npm test`, TypeScript through tsx otherwise. */
function ourPeer(ns: string, opts: object): Proc {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  const script = join(here, '..', 'support', ts ? 'fd-peer.ts' : 'fd-peer.js');
  const args = ['netns', 'exec', ns, process.execPath, ...(ts ? ['--import', 'tsx'] : []), script, JSON.stringify(opts)];
  return new Proc(spawn('ip', args, { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] }));
}

/** Creates a namespace with ADDR on its loopback and returns a cleanup function. */
function netns(name: string): () => void {
  const ip = (...a: string[]): void => {
    const r = spawnSync('ip', a, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
  };
  ip('netns', 'add', name);
  try {
    ip('-n', name, 'link', 'set', 'lo', 'up');
    ip('-n', name, 'addr', 'add', `${ADDR}/32`, 'dev', 'lo');
  } catch (e) {
    spawnSync('ip', ['netns', 'del', name]);
    throw e;
  }
  return () => void spawnSync('ip', ['netns', 'del', name]);
}

function canRun(t: TestContext): boolean {
  if (!needPeer(t, 'freeDiameterd')) return false;
  if (!canUseNetns()) {
    const why = 'network namespaces unavailable (needs root and iproute2)';
    if (process.env.CI === 'true') throw new Error(`CI: ${why}`);
    process.stderr.write(`\n!!! SKIPPED: ${why}\n`);
    t.skip(why);
    return false;
  }
  return true;
}

async function withWorld(tag: string, fdExtra: (dir: string) => string, body: (fd: Proc, dir: string, ns: string) => Promise<void>): Promise<void> {
  const ns = `imsec-dia-${process.pid}-${tag}`;
  const dir = mkdtempSync(join(tmpdir(), `imsec-fd-${tag}-`));
  const delNs = netns(ns);
  const procs: Proc[] = [];
  try {
    const fd = new Proc(spawn('ip', ['netns', 'exec', ns, 'freeDiameterd', '-c', fdConfig(dir, fdExtra(dir))], { stdio: ['ignore', 'pipe', 'pipe'] }));
    procs.push(fd);
    await fd.waitFor(() => fd.lines.some((l) => l.includes('daemon initialized')), 10_000, 'freeDiameterd to start');
    await body(fd, dir, ns);
  } finally {
    for (const p of procs) if (!p.exited) p.child.kill('SIGKILL');
    // Our child processes are tracked by the body; give the kills a moment before deleting the namespace.
    await new Promise((r) => setTimeout(r, 100));
    delNs();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ours = { originHost: 'imsec.ims.lab', originRealm: 'ims.lab', hostIpAddresses: [ADDR] };

describe('freeDiameterd 1.2 interop (RFC 6733 §5)', { concurrency: true }, () => {
  test('[R-CX-1] we connect to freeDiameterd: CER/CEA, our DWR answered by DWA, a Cx request answered, clean DPR/DPA', async (t) => {
    if (!canRun(t)) return;
    await withWorld(
      'out',
      (dir) => {
        writeFileSync(join(dir, 'acl.conf'), 'ALLOW_IPSEC imsec.ims.lab\n');
        return `LoadExtension = "${FD_EXT_DIR}/acl_wl.fdx" : "${join(dir, 'acl.conf')}";`;
      },
      async (fd, _dir, ns) => {
        const me = ourPeer(ns, { ...ours, peers: [{ host: 'fd.ims.lab', connect: { host: ADDR, port: 3868 } }], timers: { watchdogMs: 700 } });
        try {
          await me.waitFor(() => me.events.find((e) => e.ev === 'status' && e.status === 'up'), 10_000, 'peer up');
          assert.equal(me.msg('in', 257, false)?.rc, 2001, 'CEA Result-Code DIAMETER_SUCCESS');
          await fd.waitFor(() => fd.lines.some((l) => /-> 'STATE_OPEN'\s+'imsec\.ims\.lab'/.test(l)), 5000, 'freeDiameterd to see the peer OPEN');
          await me.waitFor(() => me.msg('in', 280, false), 5000, 'DWA to our DWR');
          assert.equal(me.msg('in', 280, false)?.rc, 2001);
          assert.ok(me.msg('out', 280, true), 'we sent the DWR');
          // A Cx MAR reaches freeDiameterd, which has no Cx application: it must answer by Hop-by-Hop with 3007 and the E bit.
          me.child.stdin?.write('mar\n');
          const ans = await me.waitFor(() => me.events.find((e) => e.ev === 'answer'), 5000, 'answer to MAR');
          assert.equal(ans.rc, 3007);
          assert.equal((ans.flags ?? 0) & 0x20, 0x20);
          me.child.stdin?.write('stop\n');
          const stopped = await me.waitFor(() => me.events.find((e) => e.ev === 'stopped'), 8000, 'our node to stop');
          assert.equal(me.msg('out', 282, true)?.req, true, 'DPR sent');
          assert.equal(me.msg('in', 282, false)?.rc, 2001, 'DPA DIAMETER_SUCCESS');
          assert.deepEqual(stopped.psm, { 'fd.ims.lab': 'Closed' });
          await fd.waitFor(() => fd.lines.some((l) => /'STATE_OPEN'\s+-> 'STATE_CLOSING'\s+'imsec\.ims\.lab'/.test(l)), 5000, 'freeDiameterd to close on DPR');
        } finally {
          if (!me.exited) me.child.kill('SIGKILL');
        }
      },
    );
  });

  test('[R-CX-1] freeDiameterd connects to us: CER/CEA, its DWR answered by our DWA, clean DPR/DPA', async (t) => {
    if (!canRun(t)) return;
    await withWorld(
      'in',
      () => `ConnectPeer = "imsec.ims.lab" { ConnectTo = "${ADDR}"; Port = 3869; No_TLS; };`,
      async (fd, _dir, ns) => {
        // freeDiameterd is already retrying (TcTimer 3 s); our node starts listening now.
        const me = ourPeer(ns, { ...ours, listen: { host: ADDR, port: 3869 }, peers: [{ host: 'fd.ims.lab' }], timers: { watchdogMs: 30_000 } });
        try {
          await me.waitFor(() => me.events.find((e) => e.ev === 'status' && e.status === 'up'), 10_000, 'peer up');
          assert.ok(me.msg('in', 257, true), 'CER received from freeDiameterd');
          assert.equal(me.msg('out', 257, false)?.rc, 2001, 'our CEA DIAMETER_SUCCESS');
          await fd.waitFor(() => fd.lines.some((l) => /-> 'STATE_OPEN'\s+'imsec\.ims\.lab'/.test(l)), 5000, 'freeDiameterd to see the peer OPEN');
          // freeDiameterd's Tw is at least 6 s (TwTimer = 6, with its jitter).
          await me.waitFor(() => me.msg('out', 280, false), 12_000, 'our DWA to its DWR');
          assert.ok(me.msg('in', 280, true));
          assert.equal(me.msg('out', 280, false)?.rc, 2001);
          me.child.stdin?.write('stop\n');
          const stopped = await me.waitFor(() => me.events.find((e) => e.ev === 'stopped'), 8000, 'our node to stop');
          assert.equal(me.msg('in', 282, false)?.rc, 2001, 'DPA DIAMETER_SUCCESS');
          assert.deepEqual(stopped.psm, { 'fd.ims.lab': 'Closed' });
          await fd.waitFor(() => fd.lines.some((l) => /'STATE_OPEN'\s+-> 'STATE_CLOSING'\s+'imsec\.ims\.lab'/.test(l)), 5000, 'freeDiameterd to close on DPR');
        } finally {
          if (!me.exited) me.child.kill('SIGKILL');
        }
      },
    );
  });
});
