import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  nextSqns, splitSqn, joinSqn, checkSqn, freshUsimState, usimStateFromSqnMs, sqnMsOf, resyncHe, indForNode,
  seqMax, SqnExhaustedError, DEFAULT_SQN_CONFIG, type SqnConfig,
} from '../../src/auth/index.js';
import { ImsError } from '../../src/common/index.js';

const cfg: SqnConfig = DEFAULT_SQN_CONFIG;

describe('TS 33.102 C.1 SQN generation at the HE', () => {
  test('[R-AKA-3] SQN = SEQ ‖ IND with a 5-bit IND by default', () => {
    assert.equal(joinSqn(3, 7, 5), 3 * 32 + 7);
    assert.deepEqual(splitSqn(3 * 32 + 7, 5), { seq: 3, ind: 7 });
    assert.deepEqual(splitSqn(0xff9bb4d0b607, 5), { seq: Math.floor(0xff9bb4d0b607 / 32), ind: 0xff9bb4d0b607 % 32 });
  });
  test('[R-AKA-3] a batch has consecutive SEQ with the IND of the requesting node, never reused', () => {
    let state = { seqHe: 10 };
    const seen = new Set<number>();
    for (const ind of [4, 9, 4, 31]) {
      const r = nextSqns(state, ind, 5, cfg);
      assert.equal(r.sqns.length, 5);
      r.sqns.forEach((s, i) => {
        assert.deepEqual(splitSqn(s, 5), { seq: state.seqHe + 1 + i, ind });
        assert.equal(seen.has(s), false, `SQN ${s} issued twice`);
        seen.add(s);
      });
      state = r.state;
    }
    assert.equal(state.seqHe, 30);
  });
  test('[R-AKA-3] SEQ exhaustion is a typed error, not a wrap to zero', () => {
    const top = seqMax(5);
    assert.throws(() => nextSqns({ seqHe: top - 1 }, 0, 2, cfg), (e: unknown) => e instanceof SqnExhaustedError && e instanceof ImsError);
    assert.equal(nextSqns({ seqHe: top - 1 }, 0, 1, cfg).sqns[0], joinSqn(top, 0, 5));
  });
  test('[R-AKA-3] IND per node: stable for a known node, lowest free slot for a new one', () => {
    const assigned = new Map([['scscf1.ims', 0], ['scscf2.ims', 1]]);
    assert.equal(indForNode('scscf2.ims', assigned, 5), 1);
    assert.equal(indForNode('scscf3.ims', assigned, 5), 2);
    const full = new Map(Array.from({ length: 4 }, (_, i) => [`n${i}`, i] as [string, number]));
    const ind = indForNode('late', full, 2);
    assert.ok(ind >= 0 && ind < 4);
    assert.equal(indForNode('late', full, 2), ind);
  });
  test('IND length is configurable', () => {
    const c: SqnConfig = { indBits: 3, delta: 1000 };
    const r = nextSqns({ seqHe: 0 }, 5, 2, c);
    assert.deepEqual(r.sqns, [1 * 8 + 5, 2 * 8 + 5]);
  });
});

describe('TS 33.102 C.2 SQN verification in the USIM', () => {
  test('[R-AKA-4] fresh SEQ accepted per IND slot; the same or an older SEQ in that slot is rejected with SQN_MS', () => {
    let s = freshUsimState(cfg);
    const a = checkSqn(s, joinSqn(5, 1, 5), cfg);
    assert.equal(a.ok, true);
    if (a.ok) s = a.state;
    const replay = checkSqn(s, joinSqn(5, 1, 5), cfg);
    assert.deepEqual(replay, { ok: false, sqnMs: joinSqn(5, 1, 5) });
    // Another IND slot may use a lower SEQ (vectors used out of order by another node, C.2.2 note 1).
    const other = checkSqn(s, joinSqn(3, 2, 5), cfg);
    assert.equal(other.ok, true);
    if (other.ok) assert.equal(sqnMsOf(other.state), joinSqn(5, 1, 5), 'SQN_MS is the highest anywhere in the array');
  });
  test('[R-AKA-4] a jump above Δ is refused (C.2.1: protection against wrap-around)', () => {
    const c: SqnConfig = { indBits: 5, delta: 100 };
    const s = usimStateFromSqnMs(joinSqn(50, 0, 5), c);
    assert.equal(checkSqn(s, joinSqn(150, 3, 5), c).ok, true);
    assert.deepEqual(checkSqn(s, joinSqn(151, 3, 5), c), { ok: false, sqnMs: joinSqn(50, 0, 5) });
    // A SQN near the top of the range (an attacker trying to exhaust SEQ_MS) is refused too.
    assert.equal(checkSqn(s, joinSqn(seqMax(5), 3, 5), c).ok, false);
  });
  test('[R-AKA-4] limit L on the age of SEQ (C.2.2)', () => {
    const c: SqnConfig = { indBits: 5, delta: 2 ** 28, ageLimit: 10 };
    let s = freshUsimState(c);
    const r = checkSqn(s, joinSqn(100, 0, 5), c);
    assert.ok(r.ok);
    if (r.ok) s = r.state;
    assert.equal(checkSqn(s, joinSqn(91, 4, 5), c).ok, true, 'SEQ_MS − SEQ = 9 < L');
    assert.equal(checkSqn(s, joinSqn(90, 4, 5), c).ok, false, 'SEQ_MS − SEQ = 10 is not < L');
  });
  test('[R-AKA-4] a state built from SQN_MS accepts exactly the SQNs above it', () => {
    const ms = joinSqn(77, 13, 5);
    const s = usimStateFromSqnMs(ms, cfg);
    assert.equal(sqnMsOf(s), ms);
    for (let sqn = ms - 70; sqn <= ms + 70; sqn++) assert.equal(checkSqn(s, sqn, cfg).ok, sqn > ms, `SQN ${sqn}`);
  });
});

describe('TS 33.102 §6.3.5 resynchronisation at the HE', () => {
  test('[R-AKA-5] SEQ_HE kept when its next value is still acceptable to the USIM', () => {
    assert.deepEqual(resyncHe({ seqHe: 40 }, joinSqn(30, 2, 5), cfg), { seqHe: 40 });
  });
  test('[R-AKA-5] SEQ_HE reset from SQN_MS when the next value would be refused', () => {
    assert.deepEqual(resyncHe({ seqHe: 20 }, joinSqn(30, 2, 5), cfg), { seqHe: 30 });
    const c: SqnConfig = { indBits: 5, delta: 5 };
    assert.deepEqual(resyncHe({ seqHe: 40 }, joinSqn(30, 2, 5), c), { seqHe: 30 }, 'next SEQ 41 is more than Δ above 30');
  });
});
