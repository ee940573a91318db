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
  test('seeded rng replays', () => {
    assert.deepEqual(new SeededRng(7).bytes(40), new SeededRng(7).bytes(40));
    assert.notDeepEqual(new SeededRng(7).bytes(16), new SeededRng(8).bytes(16));
  });
});
