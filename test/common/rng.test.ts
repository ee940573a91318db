/**
 * The RNG seam (common/rng.ts): the pool in front of the crypto RNG hands out its source's bytes
 * unchanged, each once.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cryptoRng, PooledRng, SeededRng } from '../../src/common/index.js';

describe('PooledRng', () => {
  test('[R-AKA-2] gives exactly the bytes of its source, in order, in any slicing', () => {
    const direct = new SeededRng('pool').bytes(100);
    const pooled = new PooledRng(new SeededRng('pool'), 32);
    const parts = [16, 16, 7, 9, 20, 32].map((n) => pooled.bytes(n));
    // Refills draw whole pool blocks from the source: 16+16 (block 1), 7+9 (block 2), 20 (block 3), 32 (block 4).
    assert.deepEqual(Buffer.concat(parts.slice(0, 2)), Buffer.from(direct.subarray(0, 32)));
    assert.deepEqual(Buffer.concat(parts.slice(2, 4)), Buffer.from(direct.subarray(32, 48)));
    assert.deepEqual(Buffer.from(parts[4]), Buffer.from(direct.subarray(64, 84)));
    const big = new PooledRng(new SeededRng('pool'), 8).bytes(100);
    assert.deepEqual(Buffer.from(big), Buffer.from(direct), 'a request above the pool size goes to the source');
  });

  test('[R-AKA-2] cryptoRng (pooled) gives n fresh bytes per call, never the same block twice', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const b = cryptoRng.bytes(8);
      assert.equal(b.length, 8);
      seen.add(Buffer.from(b).toString('hex'));
    }
    assert.equal(seen.size, 2000, 'no 8-byte draw repeated (the pool hands each byte out once)');
    assert.equal(cryptoRng.bytes(10_000).length, 10_000, 'above the pool size: straight from the source');
  });
});
