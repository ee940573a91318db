/**
 * `readCapped` (src/cli/core-processes.ts): how `imsec core --processes --metrics` reads a node's
 * /metrics answer. Connections have caps: an answer past the cap is dropped after the first chunk
 * that passes it, not read whole and then measured.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readCapped } from '../../src/cli/core-processes.js';

/** A stream of `chunks` chunks of `size` bytes each, pulled one at a time; counts the pulls. */
function chunked(chunks: number, size: number, fill = 0x61): { body: ReadableStream<Uint8Array>; pulled: () => number; cancelled: () => boolean } {
  let pulls = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (pulls === chunks) return c.close();
        pulls++;
        c.enqueue(new Uint8Array(size).fill(fill));
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { body, pulled: () => pulls, cancelled: () => cancelled };
}

describe('readCapped: a node\'s /metrics read with a cap', () => {
  test('[R-LAB-5] an answer up to the cap comes back whole, as text (multi-byte characters across chunks too)', async () => {
    const s = chunked(4, 1000);
    assert.equal(await readCapped(s.body, 4000), 'a'.repeat(4000));
    const euro = new TextEncoder().encode('€'); // 3 bytes, cut across two chunks
    const split = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(euro.subarray(0, 2));
        c.enqueue(euro.subarray(2));
        c.close();
      },
    });
    assert.equal(await readCapped(split, 3), '€');
  });

  test('[R-LAB-5] past the cap: undefined, the stream cancelled after the chunk that passed it, the rest never pulled', async () => {
    const s = chunked(1000, 1000);
    assert.equal(await readCapped(s.body, 2500), undefined);
    assert.equal(s.pulled(), 3, 'three chunks of 1,000 pass 2,500');
    assert.equal(s.cancelled(), true);
  });
});
