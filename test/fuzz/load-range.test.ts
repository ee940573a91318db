/**
 * `--range PREFIX:FROM-TO` of `imsec load` and `imsec hss import` (R-LAB-4): any text either
 * parses to a range that prints back to itself, or fails with InvalidArgumentError; nothing else.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { MAX_RANGE, parseRange } from '../../src/load/index.js';

test('[R-LAB-4] parseRange: valid ranges round-trip, anything else is InvalidArgumentError', () => {
  const valid = fc.tuple(fc.stringMatching(/^[a-z0-9._-]{0,12}$/), fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: 0, max: MAX_RANGE - 1 })).map(([p, from, n]) => `${p}:${from}-${Math.min(999_999_999, from + n)}`);
  fc.assert(
    fc.property(fc.oneof(valid, fc.string(), fc.stringMatching(/^[a-z:0-9-]{0,20}$/)), (spec) => {
      let r;
      try {
        r = parseRange(spec);
      } catch (e) {
        assert.ok(e instanceof InvalidArgumentError, String(e));
        return;
      }
      const colon = spec.lastIndexOf(':');
      assert.equal(r.prefix, spec.slice(0, colon));
      assert.deepEqual([r.from, r.to], spec.slice(colon + 1).split('-').map(Number));
      assert.ok(r.to >= r.from && r.to - r.from < MAX_RANGE);
    }),
    { seed: 42, numRuns: 2000 },
  );
  assert.deepEqual(parseRange('ue:1-100000'), { prefix: 'ue', from: 1, to: 100000 });
  assert.throws(() => parseRange('ue:5-1'), InvalidArgumentError);
  assert.throws(() => parseRange('ue:0-10000000'), InvalidArgumentError);
});
