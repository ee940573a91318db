/**
 * `imsec core --processes` (src/cli/core-processes.ts): the core's four nodes as processes of
 * their own, under the swarm of `imsec load` (IMS AKA, sec-agree and IPsec per UE). The ready line
 * has the same shape as one process's, the stop is orderly and leaves no process behind, a node
 * that dies takes the core down with one line naming it, and what needs one process is refused.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { driveLoad, rangeRows, toLoadSubscribers } from '../../src/load/index.js';
import { printCoreLogOnFailure, startCoreProcess, type CoreProcess } from '../e2e/support/core-process.js';
import { cliPath } from '../support/paths.js';

const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const UES = 20;
const subscribers = toLoadSubscribers(rangeRows({ prefix: 'procs', from: 1, to: UES }, { k: K, op: OP }, 'ims.lab'));
const config = { subscribers: subscribers.map((s) => ({ impi: s.impi, impus: [s.impu], k: K, op: OP })) };

/** Whether a process is still there (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('imsec core --processes: a process per node', () => {
  let core: CoreProcess | undefined;
  printCoreLogOnFailure(() => core);
  before(async () => {
    core = await startCoreProcess(config, false, 60_000, ['--processes']);
  });
  after(async () => {
    await core?.stop();
  });

  test('[R-LAB-4] [R-REG-1] 20 UEs register with IPsec through the four processes and de-register; SIGTERM stops every node and the core exits 0', async () => {
    const ready = core!.ready;
    assert.equal(ready.layout, 'processes');
    const pids = Object.values(ready.pids as Record<string, number>);
    assert.deepEqual(Object.keys(ready.pids as object).sort(), ['hss', 'icscf', 'pcscf', 'scscf']);
    assert.equal(new Set([...pids, core!.proc.pid]).size, 5, 'four node processes besides the core');
    assert.ok(pids.every(alive));
    assert.deepEqual(ready.subscribers, subscribers.map((s) => s.impi), 'provisioned once, from the core');
    assert.match(String(ready.scscf.serverName), /^sip:scscf\.ims\.lab:\d+$/, 'the S-CSCF names its chosen port');
    const s = await driveLoad({ pcscf: { address: '127.0.0.1', port: core!.pcscfPort }, subscribers, scenario: 'register', rate: 50, firstAddress: '127.23.0.1', portBase: 13600 });
    assert.deepEqual([s.ops.register?.ok, s.ops.register?.failed], [UES, 0], JSON.stringify(s.ops.register));
    assert.equal(s.ops.deregister?.ok, UES);
    const code = await core!.stop();
    core = undefined;
    assert.equal(code, 0);
    assert.deepEqual(pids.filter(alive), [], 'no node left running');
  });

  test('[R-LAB-4] a node that dies stops the others; the core exits 1 naming it', async () => {
    const c = await startCoreProcess(config, false, 60_000, ['--processes']);
    try {
      const pids = c.ready.pids as Record<string, number>;
      process.kill(pids.scscf, 'SIGKILL');
      const code = await new Promise<number | null>((resolve) => c.proc.once('exit', resolve));
      assert.equal(code, 1);
      assert.match(c.stderr(), /^imsec: the scscf process exited \(signal SIGKILL\), so the core stopped/m);
      assert.deepEqual(Object.values(pids).filter(alive), []);
    } finally {
      await c.stop();
    }
  });

  test('what needs every node in one process is refused in one line, exit 2', () => {
    for (const args of [['--web'], ['--admin-stdin'], ['--metrics', '127.0.0.1:0']]) {
      const r = spawnSync(process.execPath, [cliPath, 'core', '--processes', ...args], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^imsec: --processes runs each node in its own process: .* needs them in one/);
    }
  });
});
