/**
 * Injected randomness. RAND, SPIs, nonces, branches and tags come from an {@link Rng}: the
 * crypto RNG in production, a deterministic one in tests so vectors replay exactly.
 */
import { createHash, randomFillSync } from 'node:crypto';

export interface Rng {
  /** n random bytes. */
  bytes(n: number): Uint8Array;
}

/**
 * An {@link Rng} that draws from a pool filled by another Rng in large blocks: the same bytes a
 * caller would get, fewer calls into the kernel. One `randomFillSync` per 8-byte SIP tag or
 * branch, per SPI and per 16-byte RAND (TS 33.102 §6.3.2) cost more than the work around it
 * (profile of `imsec core` under load: 2.9 % of its CPU in randomFillSync).
 */
export class PooledRng implements Rng {
  private pool: Uint8Array = new Uint8Array(0);
  private at = 0;

  constructor(
    private readonly source: Rng,
    private readonly poolSize = 4096,
  ) {}

  bytes(n: number): Uint8Array {
    if (n > this.poolSize) return this.source.bytes(n);
    if (this.at + n > this.pool.length) {
      this.pool = this.source.bytes(this.poolSize);
      this.at = 0;
    }
    // A copy: the pool is never handed out, and each byte is given once.
    const out = this.pool.slice(this.at, this.at + n);
    this.pool.fill(0, this.at, this.at + n);
    this.at += n;
    return out;
  }
}

/** The crypto RNG (node:crypto randomFillSync), drawn through a 4 kB pool. */
export const cryptoRng: Rng = new PooledRng({ bytes: (n) => randomFillSync(new Uint8Array(n)) });

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
