/**
 * `imsec load` against `imsec core` as a child process (R-LAB-4): a few hundred emulated UEs,
 * each with its own IMS AKA run, sec-agree and IPsec SA sets (TS 33.203 §6–§7), on many source
 * addresses of 127.0.0.0/8, through P-CSCF → I-CSCF → S-CSCF → HSS. Every registration,
 * MESSAGE (both access legs protected) and de-registration must succeed; the churn scenario
 * sets SAs up and tears them down again and again. Bounded: each run has a fixed count or
 * duration and every operation ends by Timer F at most.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { chooseProtectedPorts, driveLoad, rangeRows, toLoadSubscribers } from '../../src/load/index.js';
import { cliPath } from '../support/paths.js';
import { printCoreLogOnFailure, startCoreProcess, type CoreProcess } from '../e2e/support/core-process.js';

const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const UES = 300;

const subscribers = toLoadSubscribers(rangeRows({ prefix: 'load', from: 1, to: UES }, { k: K, op: OP }, 'ims.lab'));

/** `imsec` as a child; synchronous is fine: the core is another process. */
function run(argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, ...argv], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('imsec load against imsec core (userspace ESP-in-UDP)', () => {
  let core: CoreProcess;
  printCoreLogOnFailure(() => core);
  before(async () => {
    core = await startCoreProcess({ subscribers: subscribers.map((s) => ({ impi: s.impi, impus: [s.impu], k: K, op: OP })) }, false, 50_000);
  });
  after(async () => {
    await core?.stop();
  });

  test(`[R-LAB-4] [R-SA-4] [R-SM-6] ${UES} UEs register with IMS AKA and IPsec, send protected MESSAGEs, de-register: zero failures`, async () => {
    const s = await driveLoad({ pcscf: { address: '127.0.0.1', port: core.pcscfPort }, subscribers, scenario: 'register+message', rate: 100, firstAddress: '127.3.0.1', uesPerAddress: 8 });
    assert.deepEqual(
      { register: s.ops.register?.ok, message: s.ops.message?.ok, deregister: s.ops.deregister?.ok },
      { register: UES, message: UES, deregister: UES },
      JSON.stringify(s.ops),
    );
    assert.equal(s.failureRatio, 0);
    assert.ok(s.ops.register!.p99Ms >= s.ops.register!.p50Ms && s.ops.register!.p50Ms > 0);
    assert.ok(s.swarm.peakRssMiB > 0 && s.swarm.cpuPercent > 0);
  });

  test('[R-LAB-4] [R-RR-1] [R-SA-7] churn: UEs register, live, de-register and register again, SAs set up and torn down, zero failures', async () => {
    const few = subscribers.slice(0, 40);
    const s = await driveLoad({ pcscf: { address: '127.0.0.1', port: core.pcscfPort }, subscribers: few, scenario: 'churn', rate: 40, durationMs: 3000, liveMs: 300, firstAddress: '127.4.0.1' });
    const reg = s.ops.register!;
    assert.ok(reg.ok > few.length, `more registrations (${reg.ok}) than UEs (${few.length}): the UEs came back`);
    assert.equal(s.ops.deregister?.ok, reg.ok, 'every registration ended in a de-registration');
    assert.equal(s.failureRatio, 0, JSON.stringify(s.ops));
  });

  test('[R-LAB-4] the CLI: --json report, exit 0 without failures; wrong K: failures by reason and exit 1 above --max-failures', async () => {
    const base = ['load', '--pcscf', `127.0.0.1:${core.pcscfPort}`, '--range', 'load:1-20', '--op', OP, '--rate', '50', '--json', '--first-address', '127.5.0.1'];
    const good = run([...base, '--k', K]);
    assert.equal(good.code, 0, good.stderr);
    const r = JSON.parse(good.stdout) as { ops: Record<string, { ok: number; failed: number }>; failureRatio: number; swarm: { rssMiB: number }; protectedPorts: { first: number; last: number } };
    assert.equal(r.ops.register.ok, 20);
    assert.equal(r.protectedPorts.last - r.protectedPorts.first + 1, 144, 'the block of 16 UEs per address, reported');
    assert.ok(r.protectedPorts.first >= 12000);
    assert.equal(r.failureRatio, 0);
    const bad = run([...base.slice(0, -2), '--first-address', '127.6.0.1', '--k', '00112233445566778899aabbccddeeff']);
    assert.equal(bad.code, 1, bad.stderr);
    const b = JSON.parse(bad.stdout) as { ops: Record<string, { failed: number; failures: Record<string, number> }> };
    assert.equal(b.ops.register.failed, 20);
    assert.deepEqual(Object.keys(b.ops.register.failures), ['mac-failure 403'], 'TS 24.229 §5.1.1.5.3: the bad MAC is reported and the network answers 403');
    assert.match(bad.stderr, /^imsec: 100\.00% of operations failed \(threshold 0\.00%\)\n$/);
    assert.ok(!good.stdout.includes(K) && !bad.stdout.includes(K), 'no key in the report');
  });

  test('[R-LAB-4] two swarms on one host: a --port-base whose block another holds exits 2 in one line before any registration; without --port-base the swarm takes the next free block', async () => {
    const args = ['load', '--pcscf', `127.0.0.1:${core.pcscfPort}`, '--range', 'load:21-40', '--k', K, '--op', OP, '--rate', '50', '--json'];
    const block = await chooseProtectedPorts({ uesPerAddress: 16 });
    const other = createSocket('udp4');
    await new Promise<void>((resolve) => other.bind({ port: block.first + 5, address: '0.0.0.0', exclusive: true }, () => resolve()));
    try {
      const refused = run([...args, '--first-address', '127.7.0.1', '--port-base', String(block.first)]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
      assert.match(refused.stderr, new RegExp(`^imsec: .*the protected ports ${block.first}-${block.last} are not free \\(${block.first + 5} is in use`));
      assert.equal(refused.stdout, '', 'no report: no UE ran');
      const moved = run([...args, '--first-address', '127.8.0.1']);
      assert.equal(moved.code, 0, moved.stderr);
      const m = JSON.parse(moved.stdout) as { ops: Record<string, { ok: number }>; protectedPorts: { first: number } };
      assert.ok(m.protectedPorts.first > block.first + 5, `the next free block (${m.protectedPorts.first}), past the held port`);
      assert.equal(m.ops.register.ok, 20);
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
  });
});
