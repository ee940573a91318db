/**
 * `imsec core --processes` (src/cli/core-processes.ts): the core's four nodes as processes of
 * their own, under the swarm of `imsec load` (IMS AKA, sec-agree and IPsec per UE). The ready line
 * has the same shape as one process's, the stop is orderly and leaves no process behind, a node
 * that dies takes the core down with one line naming it, the HSS process serves the REST API, one
 * /metrics joins the four processes', the S-CSCF process takes the operator's commands through the
 * core's stdin (the web console of this layout: test/web/processes-console.test.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { driveLoad, rangeRows, toLoadSubscribers } from '../../src/load/index.js';
import { printCoreLogOnFailure, startCoreProcess, type CoreProcess } from '../e2e/support/core-process.js';
import { cliPath } from '../support/paths.js';
import { parseExposition as readSamples } from '../metrics/exposition.js';

const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const UES = 20;
const subscribers = toLoadSubscribers(rangeRows({ prefix: 'procs', from: 1, to: UES }, { k: K, op: OP }, 'ims.lab'));
const config = { subscribers: subscribers.map((s) => ({ impi: s.impi, impus: [s.impu], k: K, op: OP })) };

/** Writes one operator command to the core's stdin; resolves with its answer, the next JSON line after the ready line. */
async function adminAnswer(c: CoreProcess, command: string): Promise<Record<string, unknown>> {
  const answers = (): string[] => c.stdout().split('\n').slice(1).filter((l) => l !== '');
  const before = answers().length;
  c.proc.stdin!.write(`${command}\n`);
  while (answers().length <= before) await once(c.proc.stdout!, 'data');
  return JSON.parse(answers()[before]) as Record<string, unknown>;
}

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

  test('[R-LAB-4] [R-REG-1] the HSS REST API (hss.rest) is the HSS process\'s: its address and token in the ready line, and a subscriber it creates registers through the four processes', async () => {
    const [late] = toLoadSubscribers(rangeRows({ prefix: 'procsrest', from: 1, to: 1 }, { k: K, op: OP }, 'ims.lab'));
    const c = await startCoreProcess({ ...config, hss: { diameterPort: 0, rest: '127.0.0.1:0' } }, false, 60_000, ['--processes']);
    try {
      const rest = c.ready.hss.rest as { address: string; port: number };
      assert.equal(rest.address, '127.0.0.1');
      assert.ok(rest.port > 0);
      assert.equal(c.ready.auth, 'token');
      assert.match(String(c.ready.token), /^\S{20,}$/, 'the token the HSS process generated');
      const base = `http://127.0.0.1:${rest.port}/subscribers`;
      assert.equal((await fetch(base)).status, 401, 'no token, no answer');
      const auth = { authorization: `Bearer ${String(c.ready.token)}` };
      const created = await fetch(base, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ impi: late.impi, impus: [late.impu], k: K, op: OP }) });
      assert.equal(created.status, 201, await created.text());
      const s = await driveLoad({ pcscf: { address: '127.0.0.1', port: c.pcscfPort }, subscribers: [late], scenario: 'register', rate: 10, firstAddress: '127.23.1.1', portBase: 13700, deregisterAtEnd: false });
      assert.deepEqual([s.ops.register?.ok, s.ops.register?.failed], [1, 0], JSON.stringify(s.ops.register));
      const reg = await fetch(`${base}/${encodeURIComponent(late.impi)}/registration`, { headers: auth });
      assert.equal(reg.status, 200);
      assert.match(await reg.text(), /"REGISTERED"/, 'the HSS process holds the registration its S-CSCF made');
    } finally {
      await c.stop();
    }
  });

  test('[R-LAB-5] [R-LAB-4] --metrics serves one /metrics for the four processes: each sample labelled with its process, each family once, behind the core\'s token', async () => {
    const c = await startCoreProcess(config, false, 60_000, ['--processes', '--metrics', '127.0.0.1:0']);
    try {
      assert.equal(typeof c.ready.metricsPort, 'number');
      assert.equal(c.ready.auth, 'token');
      const url = `http://127.0.0.1:${c.ready.metricsPort as number}/metrics`;
      assert.equal((await fetch(url)).status, 401, 'no token, no metrics');
      // The nodes were handed the generated token in a file only its owner reads.
      assert.equal(statSync(join(String(c.ready.dataDir), 'processes', 'http-token')).mode & 0o777, 0o600);
      const s = await driveLoad({ pcscf: { address: '127.0.0.1', port: c.pcscfPort }, subscribers: subscribers.slice(0, 3), scenario: 'register', rate: 10, firstAddress: '127.23.2.1', portBase: 13800 });
      assert.equal(s.ops.register?.ok, 3);
      const res = await fetch(url, { headers: { authorization: `Bearer ${String(c.ready.token)}` } });
      assert.equal(res.status, 200);
      const text = await res.text();
      const m = readSamples(text);
      assert.deepEqual(m.all('imsec_process_up').map((x) => [x.labels.process, x.value]), [['hss', 1], ['scscf', 1], ['icscf', 1], ['pcscf', 1]]);
      assert.deepEqual(m.all('process_cpu_user_seconds_total').map((x) => x.labels.process), ['hss', 'scscf', 'icscf', 'pcscf'], 'every process\'s own CPU');
      const types = text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
      assert.equal(new Set(types).size, types.length, 'each family once (text format 0.0.4)');
      // The P-CSCF's SIP messages, from its own process, and the HSS's vectors from its own.
      assert.ok((m.get('imsec_sip_messages_total', { process: 'pcscf', node: 'pcscf', direction: 'received' }) ?? 0) >= 6);
      assert.ok((m.get('imsec_hss_vectors_total', { process: 'hss' }) ?? 0) >= 3);
    } finally {
      await c.stop();
    }
  });

  test('the HSS process takes the core\'s --token-file for its REST API: no token printed, the file\'s token opens it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-procs-token-'));
    const token = `t-${randomBytes(16).toString('hex')}`;
    writeFileSync(join(dir, 'token'), `${token}\n`, { mode: 0o600 });
    const c = await startCoreProcess({ ...config, hss: { diameterPort: 0, rest: '127.0.0.1:0' } }, false, 60_000, ['--processes', '--token-file', join(dir, 'token')]);
    try {
      assert.equal(c.ready.auth, 'token');
      assert.equal(c.ready.token, undefined, 'a token from a file is not printed');
      const url = `http://127.0.0.1:${(c.ready.hss.rest as { port: number }).port}/subscribers/${encodeURIComponent(subscribers[0].impi)}`;
      assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status, 401);
      assert.equal((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    } finally {
      await c.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the REST API\'s access flags are checked before any node starts: --no-auth off loopback is refused, exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-procs-'));
    try {
      writeFileSync(join(dir, 'core.json'), JSON.stringify({ dataDir: join(dir, 'data'), hss: { rest: '0.0.0.0:0' } }));
      const r = spawnSync(process.execPath, [cliPath, 'core', '--processes', '--config', join(dir, 'core.json'), '--no-auth'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /no-auth/);
      assert.equal(existsSync(join(dir, 'data', 'processes')), false, 'no node was started');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('[R-REG-1] --admin-stdin: operator commands on the core\'s stdin reach the S-CSCF process, one JSON answer line each on the core\'s stdout; a network-initiated de-registration (TS 24.229 §5.4.1.5) ends a registration made through the four processes', async () => {
    const c = await startCoreProcess(config, false, 60_000, ['--processes', '--admin-stdin']);
    try {
      const [first, second] = subscribers;
      const s = await driveLoad({ pcscf: { address: '127.0.0.1', port: c.pcscfPort }, subscribers: [first, second], scenario: 'register', rate: 10, firstAddress: '127.23.3.1', portBase: 13900, deregisterAtEnd: false });
      assert.deepEqual([s.ops.register?.ok, s.ops.register?.failed], [2, 0], JSON.stringify(s.ops.register));
      const aors = async (): Promise<string[]> => ((await adminAnswer(c, 'registrations')).registrations as { aor: string }[]).map((r) => r.aor).sort();
      assert.deepEqual(await aors(), [first.impu, second.impu].sort());
      assert.deepEqual(await adminAnswer(c, `deregister ${first.impu}`), { ok: true, command: 'deregister', impu: first.impu });
      assert.deepEqual(await aors(), [second.impu], 'the S-CSCF process ended the first registration');
      assert.equal((await adminAnswer(c, 'bogus')).ok, false);
      assert.equal(c.stdout().split('\n').filter((l) => l.startsWith('{"ready":true')).length, 1, 'the S-CSCF\'s own ready line is not the core\'s');
      // Its stdin still open, the core stops on SIGTERM alone.
      assert.equal(await c.stop(), 0, c.stderr());
    } finally {
      await c.stop();
    }
  });
});
