/**
 * Injected randomness. RAND, SPIs, nonces, branches and tags come from an {@link Rng}: the
 * crypto RNG in production, a deterministic one in tests so vectors replay exactly.
 */
import { createHash, randomFillSync } from 'node:crypto';

export interface Rng {
  /** n random bytes. */
  bytes(n: number): Uint8Array;
}

export const cryptoRng: Rng = {
  bytes(n) {
    return randomFillSync(new Uint8Array(n));
  },
};

/** Uniform random 32-bit unsigned integer. */
export function randomU32(rng: Rng): number {
  const b = rng.bytes(4);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

/** Random lowercase hex token of n bytes (tags, branches, Call-IDs). */
export function randomToken(rng: Rng, n = 8): string {
  return Buffer.from(rng.bytes(n)).toString('hex');
}

/**
 * Deterministic RNG for tests: SHA-256 in counter mode over a seed. Not for production.
 */
export class SeededRng implements Rng {
  private counter = 0;
  private pool = new Uint8Array(0);

  constructor(private readonly seed: string | number) {}

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      if (this.pool.length === 0) {
        this.pool = new Uint8Array(createHash('sha256').update(`${this.seed}:${this.counter++}`).digest());
      }
      const k = Math.min(n - at, this.pool.length);
      out.set(this.pool.subarray(0, k), at);
      this.pool = this.pool.subarray(k);
      at += k;
    }
    return out;
  }
}

/** An Rng that replays fixed byte strings in order (for vectors that fix RAND or an IV). */
export class FixedRng implements Rng {
  private i = 0;
  constructor(private readonly values: Uint8Array[]) {}
  bytes(n: number): Uint8Array {
    const v = this.values[this.i++ % this.values.length];
    if (v.length !== n) throw new Error(`FixedRng: asked for ${n} bytes, next value has ${v.length}`);
    return v.slice();
  }
}
