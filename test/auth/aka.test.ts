import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Milenage, generateVector, generateVectors, buildAuts, verifyAuts, isimAuthenticate, freshUsimState, nextSqns, resyncHe,
  usimStateFromSqnMs, joinSqn, DEFAULT_SQN_CONFIG, type UsimSqnState,
} from '../../src/auth/index.js';
import { fromHex, toHex, SeededRng, FixedRng, xorBytes, concatBytes, uintToBytes } from '../../src/common/index.js';
import { sharedJson } from '../support/shared.js';

interface MilenageSet { test_set: number; K: string; RAND: string; SQN: string; AMF: string; OPc: string; f1: string; f1star: string; f2: string; f3: string; f4: string; f5: string; f5star: string }
const milenage = sharedJson<{ ts_35_208_conformance_test_sets: MilenageSet[] }>('milenage.json');

describe('TS 33.102 §6.3.2 authentication vectors', milenage.options, () => {
  const sets = milenage.value.ts_35_208_conformance_test_sets;
  for (const v of sets.slice(0, 6)) {
    test(`[R-AKA-2] AUTN = SQN ⊕ AK ‖ AMF ‖ MAC-A from TS 35.208 set ${v.test_set}`, () => {
      const m = new Milenage(fromHex(v.K), fromHex(v.OPc));
      const av = generateVector(m, fromHex(v.RAND), parseInt(v.SQN, 16), parseInt(v.AMF, 16));
      const expected = concatBytes(xorBytes(fromHex(v.SQN), fromHex(v.f5)), fromHex(v.AMF), fromHex(v.f1));
      assert.equal(toHex(av.autn), toHex(expected));
      assert.deepEqual([toHex(av.rand), toHex(av.xres), toHex(av.ck), toHex(av.ik), toHex(av.ak), toHex(av.macA)], [v.RAND, v.f2, v.f3, v.f4, v.f5, v.f1]);
    });
  }
  test('[R-AKA-2] a batch of n vectors is ordered by SQN and takes RAND from the injected RNG', () => {
    const m = new Milenage(fromHex(sets[0].K), fromHex(sets[0].OPc));
    const rands = [fromHex('00'.repeat(15) + '01'), fromHex('00'.repeat(15) + '02'), fromHex('00'.repeat(15) + '03')];
    const { sqns } = nextSqns({ seqHe: 100 }, 3, 3);
    const avs = generateVectors(m, sqns, 0x8000, new FixedRng(rands));
    assert.deepEqual(avs.map((a) => a.sqn), sqns);
    assert.deepEqual(avs.map((a) => toHex(a.rand)), rands.map(toHex));
    assert.ok(sqns[0] < sqns[1] && sqns[1] < sqns[2]);
  });
});

describe('TS 33.102 §6.3.3 the ISIM', milenage.options, () => {
  const sets = milenage.value.ts_35_208_conformance_test_sets;
  const k = fromHex(sets[0].K);
  const opc = fromHex(sets[0].OPc);
  const m = new Milenage(k, opc);

  test('[R-AKA-4] a genuine vector gives RES, CK, IK and updates the SQN array', () => {
    const av = generateVector(m, new SeededRng(1).bytes(16), joinSqn(1, 0, 5), 0x8000);
    const r = isimAuthenticate(m, av.rand, av.autn, freshUsimState());
    assert.equal(r.result, 'ok');
    if (r.result !== 'ok') return;
    assert.equal(toHex(r.res), toHex(av.xres));
    assert.equal(toHex(r.ck), toHex(av.ck));
    assert.equal(toHex(r.ik), toHex(av.ik));
    assert.equal(r.sqn, joinSqn(1, 0, 5));
    assert.equal(r.amf, 0x8000);
  });
  test('[R-AKA-4] a vector for another key (bad MAC) is a network authentication failure', () => {
    const other = new Milenage(fromHex('00'.repeat(16)), opc);
    const av = generateVector(other, new SeededRng(2).bytes(16), 40, 0x8000);
    assert.deepEqual(isimAuthenticate(m, av.rand, av.autn, freshUsimState()), { result: 'mac-failure' });
  });
  test('[R-AKA-4] every single-bit change of AUTN in SQN, AMF or MAC is caught', () => {
    const av = generateVector(m, new SeededRng(3).bytes(16), 64, 0x8000);
    for (let bit = 0; bit < 128; bit++) {
      const autn = av.autn.slice();
      autn[bit >> 3] ^= 0x80 >> (bit & 7);
      assert.equal(isimAuthenticate(m, av.rand, autn, null).result, 'mac-failure', `bit ${bit}`);
    }
  });
  test('[R-AKA-4] [R-AKA-5] a stale SQN gives AUTS; the HE verifies it, resynchronises, and the next vector is accepted', () => {
    const state: UsimSqnState = usimStateFromSqnMs(joinSqn(500, 4, 5));
    const stale = generateVector(m, new SeededRng(4).bytes(16), joinSqn(200, 4, 5), 0x8000);
    const r = isimAuthenticate(m, stale.rand, stale.autn, state);
    assert.equal(r.result, 'sync-failure');
    if (r.result !== 'sync-failure') return;
    assert.equal(r.auts.length, 14);
    // AUTS = SQN_MS ⊕ AK* ‖ MAC-S, MAC-S = f1*(SQN_MS, RAND, AMF = 0000): check both halves independently.
    const akStar = m.f5star(stale.rand);
    assert.equal(toHex(xorBytes(r.auts.subarray(0, 6), akStar)), toHex(uintToBytes(joinSqn(500, 4, 5), 6)));
    assert.equal(toHex(r.auts.subarray(6)), toHex(m.f1(stale.rand, joinSqn(500, 4, 5), 0).macS));
    const he = verifyAuts(m, stale.rand, r.auts);
    assert.deepEqual(he, { ok: true, sqnMs: joinSqn(500, 4, 5) });
    if (!he.ok) return;
    const heState = resyncHe({ seqHe: 200 }, he.sqnMs);
    const { sqns } = nextSqns(heState, 4, 1);
    const fresh = generateVector(m, new SeededRng(5).bytes(16), sqns[0], 0x8000);
    assert.equal(isimAuthenticate(m, fresh.rand, fresh.autn, state).result, 'ok');
  });
  test('[R-AKA-5] a bad MAC-S is reported as such', () => {
    const rand = new SeededRng(6).bytes(16);
    const auts = buildAuts(m, rand, 12345);
    for (let i = 0; i < 14; i++) {
      const bad = auts.slice();
      bad[i] ^= 1;
      assert.deepEqual(verifyAuts(m, rand, bad), { ok: false }, `byte ${i}`);
    }
    assert.deepEqual(verifyAuts(new Milenage(fromHex('11'.repeat(16)), opc), rand, auts), { ok: false }, 'another K');
    assert.deepEqual(verifyAuts(m, rand, auts), { ok: true, sqnMs: 12345 });
  });
  test('[R-AKA-4] after a resync the USIM still refuses replays of already used vectors', () => {
    let state = freshUsimState(DEFAULT_SQN_CONFIG);
    const he = nextSqns({ seqHe: 0 }, 1, 3);
    const avs = generateVectors(m, he.sqns, 0x8000, new SeededRng(7));
    for (const av of avs) {
      const r = isimAuthenticate(m, av.rand, av.autn, state);
      assert.equal(r.result, 'ok');
      if (r.result === 'ok' && r.state) state = r.state;
    }
    for (const av of avs) assert.equal(isimAuthenticate(m, av.rand, av.autn, state).result, 'sync-failure');
  });
});
