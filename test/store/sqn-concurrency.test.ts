import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { storeBackends, subscriber } from './backends.js';
import { startWorker } from './worker-process.js';

const IMPI = 'user1@ims.example.net';
const seqOf = (sqn: number): number => Math.floor(sqn / 32);
const indOf = (sqn: number): number => sqn % 32;

/**
 * R-AKA-3 as arithmetic: no SQN twice, the SEQs issued are exactly 1…total (nothing lost,
 * nothing reused), and each stream (one IND) is strictly increasing.
 */
function checkStreams(streams: number[][], expectedTotal: number): void {
  const all = streams.flat();
  assert.equal(all.length, expectedTotal);
  assert.equal(new Set(all).size, all.length, 'a SQN was issued twice');
  const seqs = all.map(seqOf).sort((a, b) => a - b);
  assert.deepEqual(seqs, Array.from({ length: expectedTotal }, (_, i) => i + 1), 'SEQs are not exactly 1..total');
  for (const s of streams) {
    for (let i = 1; i < s.length; i++) {
      assert.ok(s[i] > s[i - 1], `stream not increasing at ${i}: ${s[i - 1]} then ${s[i]}`);
      assert.equal(indOf(s[i]), indOf(s[0]));
    }
  }
}

for (const b of storeBackends()) {
  describe(`concurrent SQN allocation on ${b.name}`, () => {
    test('[R-AKA-3] many concurrent allocations through two separate connections/pools never share a SQN', async (t) => {
      const url = await b.freshUrl(t);
      if (url === null) return;
      const s1 = await b.reopen(url);
      const s2 = await b.reopen(url);
      await s1.createSubscriber(subscriber(1));
      const calls = Array.from({ length: 200 }, (_, i) => ({ store: i % 2 === 0 ? s1 : s2, peer: `scscf-${i % 4}.ims.example.net`, count: 1 + (i % 3) }));
      const results = await Promise.all(calls.map((c) => c.store.allocateSqns(IMPI, c.peer, c.count)));
      const total = calls.reduce((n, c) => n + c.count, 0);
      // Each batch on its own is SEQ-consecutive with one IND; together they are 1..total.
      for (const r of results) for (let i = 1; i < r.sqns.length; i++) assert.equal(r.sqns[i], r.sqns[i - 1] + 32);
      checkStreams(results.map((r) => r.sqns), total);
      assert.deepEqual(new Set(results.map((r) => r.ind)), new Set([0, 1, 2, 3]));
      assert.equal((await s1.getSubscriber(IMPI))!.seqHe, total);
    });

    test('[R-AKA-3] two OS processes allocating at the same time never share a SQN', async (t) => {
      const url = await b.freshUrl(t);
      if (url === null) return;
      const s = await b.reopen(url);
      await s.createSubscriber(subscriber(1));
      // Paced at 2 ms per allocation so the two runs overlap however the machine schedules them.
      const w = [startWorker(url, IMPI, 'scscf-a.ims.example.net', 150, 3, 1, 2), startWorker(url, IMPI, 'scscf-b.ims.example.net', 150, 3, 2, 2)];
      await Promise.race([Promise.all(w.map((x) => x.ready)), Promise.all(w.map((x) => x.done))]);
      for (const x of w) x.go();
      const ends = await Promise.all(w.map((x) => x.done));
      for (const e of ends) assert.equal(e.code, 0, e.stderr);
      const seqHe = (await s.getSubscriber(IMPI))!.seqHe;
      assert.ok(seqHe >= 300);
      checkStreams(w.map((x) => x.sqns), seqHe);
      assert.notEqual(indOf(w[0].sqns[0]), indOf(w[1].sqns[0]));
      // The two processes really interleaved: each one's SEQs are not one contiguous block.
      const firstSeqs = w[0].sqns.map(seqOf);
      assert.ok(firstSeqs[firstSeqs.length - 1] - firstSeqs[0] + 1 > firstSeqs.length, 'no interleaving observed');
    });
  });
}
