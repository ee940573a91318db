/**
 * `imsec load --retries` against `imsec core` as a child process whose P-CSCF caps half-open
 * registrations low (issue [O]: beyond the cap, 503 with Retry-After, RFC 3261 §21.5.4) and the
 * UEs all start at once (rate 10,000/s, so more than the cap are half-open together): the
 * swarm's UEs back off for the time the P-CSCF asked and try again, so every one registers; the
 * same run without retries counts each 503 as a failure. Real time: the core is another process
 * (test/load/retry-after.test.ts has the exact instants on a ManualClock).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { driveLoad, rangeRows, toLoadSubscribers } from '../../src/load/index.js';
import { printCoreLogOnFailure, startCoreProcess, type CoreProcess } from '../e2e/support/core-process.js';

const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const UES = 24;
/**
 * The swarm's protected ports are bound on 0.0.0.0 from here (4 per address × 9 ports): away from
 * the other load tests' (12000 load-core, 12600 load-reregister, 15000 scale-out), which run in
 * other test processes at the same time.
 */
const RETRY_PORT_BASE = 13200;
const subscribers = toLoadSubscribers(rangeRows({ prefix: 'retry', from: 1, to: UES }, { k: K, op: OP }, 'ims.lab'));

describe('imsec load against an overloaded P-CSCF: 503 with Retry-After', () => {
  let core: CoreProcess;
  printCoreLogOnFailure(() => core);
  before(async () => {
    core = await startCoreProcess(
      {
        pcscf: { sipPort: 0, protectedPorts: 'auto', settings: { overload: { attemptsPerAddress: 1_000, attemptsTotal: 4, retryAfterSeconds: 1 } } },
        subscribers: subscribers.map((s) => ({ impi: s.impi, impus: [s.impu], k: K, op: OP })),
      },
      false,
    );
  });
  after(async () => {
    await core?.stop();
  });

  const drive = (retries: number | undefined, firstAddress: string) =>
    driveLoad({ pcscf: { address: '127.0.0.1', port: core.pcscfPort }, subscribers, scenario: 'register', rate: 10_000, firstAddress, uesPerAddress: 4, portBase: RETRY_PORT_BASE, ...(retries !== undefined ? { retries } : {}) });

  test('[R-LAB-4] with --retries every UE registers after backing off; the 503s are counted as retried, not failed', async () => {
    const s = await drive(30, '127.8.0.1');
    const reg = s.ops.register!;
    assert.ok(reg.retried > 0, `the P-CSCF's cap answered 503 + Retry-After: ${JSON.stringify(reg)}`);
    assert.deepEqual([reg.ok, reg.failed], [UES, 0], JSON.stringify(reg));
    assert.equal(s.ops.deregister?.ok, UES);
    assert.equal(s.failureRatio, 0);
  });

  test('[R-LAB-4] without --retries the same load fails on each 503, by reason', async () => {
    const s = await drive(undefined, '127.9.0.1');
    const reg = s.ops.register!;
    assert.equal(reg.retried, 0);
    assert.ok(reg.failed > 0 && reg.failures['rejected 503'] === reg.failed, JSON.stringify(reg));
    assert.equal(reg.ok + reg.failed, UES);
  });
});
