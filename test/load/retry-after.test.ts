/**
 * `imsec load --retries`: a registration answered 503 with Retry-After is sent again once that
 * time has passed, and not before (RFC 3261 §21.5.4, §20.33; the rule TS 24.229 §5.1.2.2 and
 * §5.1.3.1 state for SUBSCRIBE and INVITE, as TS 34.229-1 §10.1 and §12.2 test it). The run is
 * driven on a ManualClock over UEs whose registration answers are scripted, so the instant of each
 * attempt is exact; test/load/load-retry-core.test.ts has the same against a real P-CSCF's 503s.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/common/index.js';
import { LoadRun, type LoadRunResult } from '../../src/load/index.js';
import type { Swarm } from '../../src/load/swarm.js';
import { UeError } from '../../src/nodes/ue/index.js';

type Answer = 'ok' | { status: number; retryAfter?: number };

/** One UE whose successive REGISTERs get `answers` (the last one repeats); `at` records when each was sent. */
function scriptedSwarm(clock: ManualClock, answers: Answer[]): { swarm: Swarm; at: number[] } {
  const at: number[] = [];
  const core = {
    register: (): Promise<void> => {
      const a = answers[Math.min(at.length, answers.length - 1)];
      at.push(clock.now());
      if (a === 'ok') return Promise.resolve();
      return Promise.reject(new UeError('rejected', `REGISTER answered ${a.status}`, a.status, a.retryAfter !== undefined ? { retryAfter: a.retryAfter } : undefined));
    },
    onStateChange: () => () => undefined,
    snapshot: () => ({ state: 'registered' }),
  };
  const ue = { index: 0, sub: { impi: 'u1@ims.lab', impu: 'sip:u1@ims.lab' }, address: '127.0.0.1', core };
  return { swarm: { size: 1, ue: () => Promise.resolve(ue) } as unknown as Swarm, at };
}

async function run(answers: Answer[], retries: number | undefined, ms: number): Promise<{ r: LoadRunResult; at: number[] }> {
  const clock = new ManualClock(1_000);
  const { swarm, at } = scriptedSwarm(clock, answers);
  const done = new LoadRun(swarm, { scenario: 'register', rate: 100, count: 1, clock, deregisterAtEnd: false, ...(retries !== undefined ? { retries } : {}) }).run();
  let r: LoadRunResult | undefined;
  void done.then((x) => (r = x));
  await clock.advanceAsync(ms);
  assert.ok(r, 'the run ended');
  return { r, at };
}

const register = (r: LoadRunResult) => {
  const s = r.stats.ops.get('register')!;
  return { started: s.started, ok: s.ok, failed: s.failed, retried: s.retried, failures: Object.fromEntries(s.failures) };
};

describe('imsec load: 503 with Retry-After (RFC 3261 §21.5.4)', () => {
  test('[R-LAB-4] with --retries the REGISTER is sent again when Retry-After has passed, not a millisecond before; one registration, no failure', async () => {
    const clock = new ManualClock(1_000);
    const { swarm, at } = scriptedSwarm(clock, [{ status: 503, retryAfter: 30 }, 'ok']);
    let r: LoadRunResult | undefined;
    void new LoadRun(swarm, { scenario: 'register', rate: 100, count: 1, clock, retries: 3, deregisterAtEnd: false }).run().then((x) => (r = x));
    await clock.advanceAsync(1);
    assert.equal(at.length, 1);
    const first = at[0];
    await clock.advanceAsync(first + 30_000 - 1 - clock.now());
    assert.equal(at.length, 1, 'nothing before the 30 s are over');
    await clock.advanceAsync(1);
    assert.deepEqual(at, [first, first + 30_000]);
    assert.ok(r);
    assert.deepEqual(register(r), { started: 1, ok: 1, failed: 0, retried: 1, failures: {} });
  });

  test('[R-LAB-4] the retries run out: the last 503 is the failure, each earlier one a retry', async () => {
    const { r, at } = await run([{ status: 503, retryAfter: 5 }], 2, 20_000);
    assert.deepEqual(at.map((t) => t - at[0]), [0, 5_000, 10_000]);
    assert.deepEqual(register(r), { started: 1, ok: 0, failed: 1, retried: 2, failures: { 'rejected 503': 1 } });
  });

  test('[R-LAB-4] without --retries, a 503 without Retry-After, or another status with one: a failure at once, no retry', async () => {
    for (const [answers, retries] of [[[{ status: 503, retryAfter: 5 }, 'ok'], undefined], [[{ status: 503 }, 'ok'], 3], [[{ status: 500, retryAfter: 5 }, 'ok'], 3]] as [Answer[], number | undefined][]) {
      const { r, at } = await run(answers, retries, 20_000);
      const status = (answers[0] as { status: number }).status;
      assert.equal(at.length, 1, JSON.stringify(answers));
      assert.deepEqual(register(r), { started: 1, ok: 0, failed: 1, retried: 0, failures: { [`rejected ${status}`]: 1 } });
    }
  });
});
