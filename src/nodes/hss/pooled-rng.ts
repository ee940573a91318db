/**
 * An {@link Rng} that draws from a pool filled by another Rng in large blocks: the same bytes a
 * caller would get, fewer calls into the kernel. The HSS draws a 16-byte RAND per vector
 * (TS 33.102 §6.3.2), and one `randomFillSync` per RAND costs more than the Milenage run.
 */
import type { Rng } from '../../common/index.js';

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
