import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { SeededRng } from '../../src/common/rng.js';
import { Milenage } from '../../src/auth/milenage/milenage.js';
import { generateVector, isimAuthenticate, SqnExhaustedError, usimStateFromSqnMs, verifyAuts, type UsimSqnState } from '../../src/auth/aka/index.js';
import { NotFoundError, type HssStore } from '../../src/store/index.js';
import { SET1, storeBackends, subscriber } from './backends.js';

const IMPI = 'user1@ims.example.net';
/** SQN = SEQ ‖ IND with a 5-bit IND (TS 33.102 C.1.1), computed here independently of the store. */
const sqn = (seq: number, ind: number): number => seq * 32 + ind;

async function seqHe(s: HssStore): Promise<number> {
  return (await s.getSubscriber(IMPI))!.seqHe;
}

for (const b of storeBackends()) {
  describe(`SQN allocation on ${b.name} (TS 33.102 Annex C)`, () => {
    test('[R-AKA-3] SQNs are SEQ_HE+1… with the IND of the requesting peer, and SEQ_HE advances by count', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await s.createSubscriber(subscriber(1, { seqHe: 10 }));
      const a1 = await s.allocateSqns(IMPI, 'scscf-a.ims.example.net', 3);
      assert.deepEqual(a1.sqns, [sqn(11, 0), sqn(12, 0), sqn(13, 0)]);
      assert.deepEqual([a1.ind, a1.indBits, a1.amf], [0, 5, 0x8000]);
      assert.deepEqual([Buffer.from(a1.k).toString('hex'), Buffer.from(a1.opc).toString('hex')], [Buffer.from(SET1.k).toString('hex'), Buffer.from(SET1.opc).toString('hex')]);
      const b1 = await s.allocateSqns(IMPI, 'scscf-b.ims.example.net', 2);
      assert.deepEqual(b1.sqns, [sqn(14, 1), sqn(15, 1)]);
      assert.deepEqual((await s.allocateSqns(IMPI, 'scscf-a.ims.example.net', 1)).sqns, [sqn(16, 0)]);
      assert.equal(await seqHe(s), 16);
      assert.equal(await s.indForPeer('scscf-b.ims.example.net'), 1);
    });

    test('[R-AKA-3] committed SEQ_HE and IND assignments survive closing and reopening the store', async (t) => {
      const url = await b.freshUrl(t);
      if (url === null) return;
      const s1 = await b.reopen(url);
      await s1.createSubscriber(subscriber(1));
      await s1.allocateSqns(IMPI, 'scscf-a.ims.example.net', 5);
      await s1.allocateSqns(IMPI, 'scscf-b.ims.example.net', 1);
      await s1.close();
      const s2 = await b.reopen(url);
      assert.equal(await s2.indForPeer('scscf-b.ims.example.net'), 1);
      assert.equal(await s2.indForPeer('scscf-c.ims.example.net'), 2);
      assert.deepEqual((await s2.allocateSqns(IMPI, 'scscf-b.ims.example.net', 2)).sqns, [sqn(7, 1), sqn(8, 1)]);
    });

    test('[R-AKA-3] a subscriber with a shorter IND gets the peer slot reduced to its length', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await s.createSubscriber(subscriber(1, { indBits: 0 }));
      await s.indForPeer('scscf-a.ims.example.net');
      const a = await s.allocateSqns(IMPI, 'scscf-b.ims.example.net', 2);
      assert.deepEqual([a.sqns, a.ind, a.indBits], [[1, 2], 0, 0]);
    });

    test('[R-AKA-3] unknown IMPI, bad count and an exhausted SEQ are errors that change nothing', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      const max = Math.floor((2 ** 48 - 1) / 32);
      await s.createSubscriber(subscriber(1, { seqHe: max - 1 }));
      await assert.rejects(s.allocateSqns('nobody@ims.example.net', 'p', 1), NotFoundError);
      await assert.rejects(s.allocateSqns(IMPI, 'p', 0), InvalidArgumentError);
      await assert.rejects(s.allocateSqns(IMPI, 'p', 1.5), InvalidArgumentError);
      await assert.rejects(s.allocateSqns(IMPI, 'bad host', 1), InvalidArgumentError);
      await assert.rejects(s.allocateSqns(IMPI, 'p', 2), SqnExhaustedError);
      assert.equal(await seqHe(s), max - 1);
      assert.deepEqual((await s.allocateSqns(IMPI, 'p', 1)).sqns, [sqn(max, 0)]);
      await assert.rejects(s.allocateSqns(IMPI, 'p', 1), SqnExhaustedError);
    });

    test('[R-AKA-2] vectors built from one allocation are accepted by the ISIM in order', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await s.createSubscriber(subscriber(1));
      const a = await s.allocateSqns(IMPI, 'scscf-a.ims.example.net', 3);
      const m = new Milenage(a.k, a.opc);
      const rng = new SeededRng('sqn-test');
      let state: UsimSqnState | null = usimStateFromSqnMs(0);
      for (const q of a.sqns) {
        const v = generateVector(m, rng.bytes(16), q, a.amf);
        const r = isimAuthenticate(new Milenage(SET1.k, SET1.opc), v.rand, v.autn, state);
        assert.equal(r.result, 'ok');
        if (r.result === 'ok') state = r.state;
      }
    });
  });

  describe(`resynchronisation on ${b.name} (TS 33.102 §6.3.5)`, () => {
    /** The ISIM's answer to a vector with an old SQN: AUTS carrying its SQN_MS. */
    function autsFor(sqnMs: number, staleSqn: number): { rand: Uint8Array; auts: Uint8Array } {
      const m = new Milenage(SET1.k, SET1.opc);
      const rand = new SeededRng(`auts-${sqnMs}`).bytes(16);
      const v = generateVector(m, rand, staleSqn, 0x8000);
      const r = isimAuthenticate(m, rand, v.autn, usimStateFromSqnMs(sqnMs));
      assert.equal(r.result, 'sync-failure');
      return { rand, auts: (r as { auts: Uint8Array }).auts };
    }

    test('[R-AKA-5] a valid AUTS moves SEQ_HE to SEQ_MS and the fresh SQNs are accepted by the ISIM', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await s.createSubscriber(subscriber(1, { seqHe: 5 }));
      const sqnMs = sqn(1000, 3);
      const { rand, auts } = autsFor(sqnMs, sqn(5, 0));
      const r = await s.resync(IMPI, { originHost: 'scscf-a.ims.example.net', count: 2, verify: (keys) => verifyAuts(new Milenage(keys.k, keys.opc), rand, auts) });
      assert.ok(r.ok);
      assert.deepEqual([r.sqnMs, r.previousSeqHe, r.seqHe, r.allocation.sqns], [sqnMs, 5, 1000, [sqn(1001, 0), sqn(1002, 0)]]);
      assert.equal(await seqHe(s), 1002);
      const m = new Milenage(SET1.k, SET1.opc);
      const v = generateVector(m, new SeededRng('fresh').bytes(16), r.allocation.sqns[0], r.allocation.amf);
      assert.equal(isimAuthenticate(m, v.rand, v.autn, usimStateFromSqnMs(sqnMs)).result, 'ok');
    });

    test('[R-AKA-5] a bad MAC-S leaves SEQ_HE untouched and issues nothing', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await s.createSubscriber(subscriber(1, { seqHe: 5 }));
      const { rand, auts } = autsFor(sqn(1000, 3), sqn(5, 0));
      auts[13] ^= 1;
      let calls = 0;
      const r = await s.resync(IMPI, {
        originHost: 'scscf-a.ims.example.net',
        count: 2,
        verify: (keys) => {
          calls++;
          return verifyAuts(new Milenage(keys.k, keys.opc), rand, auts);
        },
      });
      assert.deepEqual(r, { ok: false });
      assert.equal(calls, 1);
      assert.equal(await seqHe(s), 5);
      assert.deepEqual((await s.allocateSqns(IMPI, 'scscf-a.ims.example.net', 1)).sqns, [sqn(6, 0)]);
    });

    test('[R-AKA-5] when the next HE SQN is still acceptable to the USIM, SEQ_HE is kept', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await s.createSubscriber(subscriber(1, { seqHe: 50 }));
      const r = await s.resync(IMPI, { originHost: 'p', count: 0, verify: () => ({ ok: true, sqnMs: sqn(40, 7) }) });
      assert.ok(r.ok);
      assert.deepEqual([r.previousSeqHe, r.seqHe, r.allocation.sqns], [50, 50, []]);
      assert.equal(await seqHe(s), 50);
      await assert.rejects(s.resync('nobody@ims.example.net', { originHost: 'p', count: 1, verify: () => ({ ok: false }) }), NotFoundError);
    });
  });
}
