/**
 * The single-or-array multimap (src/common/multimap.ts) behind the SA table's indexes, the
 * userspace datapath's selectors and the P-CSCF's registrations by address: every lookup there
 * (R-SA-3, R-SA-4) reads a bucket, so a bucket must hold exactly what was put in and not taken out.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { bucketPut, bucketValues, keptCopy, type Bucket } from '../../src/common/index.js';
import { fcParams } from '../support/fuzz.js';

describe('multimap buckets', () => {
  test('[R-SA-4] one value is kept as itself, two as an array, and back; an emptied key leaves the map', () => {
    const m = new Map<string, Bucket<{ n: number }>>();
    const a = { n: 1 };
    const b = { n: 2 };
    bucketPut(m, 'k', a, true);
    assert.equal(m.get('k'), a);
    bucketPut(m, 'k', a, true);
    assert.equal(m.get('k'), a, 'adding a value twice keeps it once');
    bucketPut(m, 'k', b, true);
    assert.deepEqual(bucketValues(m, 'k'), [a, b]);
    bucketPut(m, 'k', a, false);
    assert.equal(m.get('k'), b);
    bucketPut(m, 'k', a, false);
    assert.equal(m.get('k'), b, 'removing what is not there changes nothing');
    bucketPut(m, 'k', b, false);
    assert.equal(m.has('k'), false);
    assert.deepEqual(bucketValues(m, 'k'), []);
  });

  test('[R-SA-3] [R-SA-4] after any sequence of puts and removals, each key holds the values a Set per key would (same order)', () => {
    const vals = [{ v: 0 }, { v: 1 }, { v: 2 }, { v: 3 }];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3 }), fc.boolean()), { maxLength: 60 }), (ops) => {
        const m = new Map<number, Bucket<{ v: number }>>();
        const model = new Map<number, Set<{ v: number }>>();
        for (const [k, i, on] of ops) {
          bucketPut(m, k, vals[i], on);
          const s = model.get(k) ?? new Set();
          if (on) s.add(vals[i]);
          else s.delete(vals[i]);
          if (s.size > 0) model.set(k, s);
          else model.delete(k);
        }
        assert.deepEqual([...m.keys()].sort(), [...model.keys()].sort());
        for (const [k, s] of model) assert.deepEqual(bucketValues(m, k), [...s]);
      }),
      fcParams(import.meta.url, 500),
    );
  });
});

describe('keptCopy', () => {
  test('[R-SA-4] a value equal to a kept one is that one; another is a copy equal to it', () => {
    const kept = ['sip:alice@ims.lab', 'sip:+15550001@ims.lab;user=phone'];
    assert.equal(keptCopy('sip:+15550001@ims.lab;user=phone', kept), kept[1]);
    assert.equal(keptCopy('sip:bob@ims.lab', kept), 'sip:bob@ims.lab');
    assert.equal(keptCopy('sip:bob@ims.lab', []), 'sip:bob@ims.lab');
  });
});
