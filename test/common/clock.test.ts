import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, SeededRng } from '../../src/common/index.js';

describe('common/clock and rng', () => {
  test('manual clock fires timers in due order and honours cancel', () => {
    const c = new ManualClock(1000);
    const fired: string[] = [];
    c.setTimeout(50, () => fired.push('b'));
    c.setTimeout(10, () => fired.push('a'));
    const x = c.setTimeout(20, () => fired.push('x'));
    x.cancel();
    c.advance(30);
    assert.deepEqual(fired, ['a']);
    assert.equal(c.now(), 1030);
    c.advance(100);
    assert.deepEqual(fired, ['a', 'b']);
    assert.equal(c.timers, 0);
  });
  test('advanceAsync lets the promise jobs of each timer run before the next fires and before it resolves', async () => {
    const c = new ManualClock(0);
    const seen: string[] = [];
    // A timer whose work finishes a few promise jobs later and then sets another timer.
    c.setTimeout(10, () => {
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => {
          seen.push(`job@${c.now()}`);
          c.setTimeout(5, () => seen.push(`second@${c.now()}`));
        });
    });
    c.setTimeout(12, () => seen.push(`other@${c.now()}`));
    await c.advanceAsync(20);
    assert.deepEqual(seen, ['job@10', 'other@12', 'second@15']);
    assert.equal(c.now(), 20);
    // The synchronous advance fires the timer but leaves its promise jobs for later.
    const d = new ManualClock(0);
    let done = false;
    d.setTimeout(1, () => void Promise.resolve().then(() => (done = true)));
    d.advance(1);
    assert.equal(done, false);
    await d.advanceAsync(0);
    assert.equal(done, true);
  });
  test('seeded rng replays', () => {
    assert.deepEqual(new SeededRng(7).bytes(40), new SeededRng(7).bytes(40));
    assert.notDeepEqual(new SeededRng(7).bytes(16), new SeededRng(8).bytes(16));
  });
});
