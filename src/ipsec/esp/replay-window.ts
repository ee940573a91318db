/**
 * RFC 4303 §3.4.3 anti-replay window (32-bit sequence numbers; TS 33.203 uses no ESN), with the
 * check/update split the RFC asks for: {@link ReplayWindow.check} before the ICV is verified
 * (cheap rejection), {@link ReplayWindow.update} only after the ICV proved the packet authentic,
 * so a forged packet can never move the window (SPEC R-SA-8).
 *
 * The bitmap is a ring of 32-bit blocks indexed by sequence number (RFC 6479 §2): sliding the
 * window clears whole blocks instead of shifting every bit. The blocks are a plain array of small
 * integers (each block as a signed 32-bit value), not a typed array: a P-CSCF keeps a window per
 * receiving SA of every registered UE, and a Uint32Array costs an ArrayBuffer object besides the
 * view (184 bytes for the default 64-bit window in a heap snapshot of `imsec core`, against about
 * 70 for the array).
 */
import { InvalidArgumentError } from '../../common/index.js';

/** Outcome of a pre-check: new (may be accepted once), already seen, or left of the window. */
export type ReplayVerdict = 'new' | 'duplicate' | 'too-old';

export const DEFAULT_REPLAY_WINDOW = 64;
export const MAX_REPLAY_WINDOW = 65536;

/** Throws unless `size` is a window size {@link ReplayWindow} takes (1..MAX_REPLAY_WINDOW). */
export function checkReplayWindowSize(size: number): void {
  if (!Number.isInteger(size) || size < 1 || size > MAX_REPLAY_WINDOW) {
    throw new InvalidArgumentError(`replay window must be an integer in 1..${MAX_REPLAY_WINDOW}, got ${size}`, 'replayWindow');
  }
}

export class ReplayWindow {
  /** Window size W: numbers in [top - W + 1, top] are tracked, older ones rejected. */
  readonly size: number;
  /** Made at the first accepted packet: an SA that never receives (the outbound half of a set) holds none. */
  private bits: number[] | undefined;
  private readonly blocks: number;
  private readonly mask: number;
  private highest = 0;

  constructor(size = DEFAULT_REPLAY_WINDOW) {
    checkReplayWindowSize(size);
    this.size = size;
    // One block more than the window spans, rounded up to a power of two for masking.
    let blocks = 1;
    while (blocks < Math.ceil(size / 32) + 1) blocks *= 2;
    this.blocks = blocks;
    this.mask = blocks - 1;
  }

  /** The highest authenticated sequence number so far (0 before the first packet). */
  get top(): number {
    return this.highest;
  }

  /**
   * RFC 4303 §3.4.3 pre-check. Sequence number 0 is never sent (the first packet carries 1),
   * so it reads as too old.
   */
  check(seq: number): ReplayVerdict {
    if (seq === 0) return 'too-old';
    if (seq > this.highest) return 'new';
    if (this.highest - seq >= this.size) return 'too-old';
    if (this.bits === undefined) return 'new';
    return (this.bits[(seq >>> 5) & this.mask] >>> (seq & 31)) & 1 ? 'duplicate' : 'new';
  }

  /**
   * Marks `seq` as received, sliding the window when it is the new highest. Call only for a
   * packet whose ICV verified and whose {@link check} returned 'new'.
   */
  update(seq: number): void {
    const bits = (this.bits ??= Array.from({ length: this.blocks }, () => 0));
    if (seq > this.highest) {
      const from = this.highest >>> 5;
      let blocks = (seq >>> 5) - from;
      if (blocks > bits.length) blocks = bits.length;
      for (let i = 1; i <= blocks; i++) bits[(from + i) & this.mask] = 0;
      this.highest = seq;
    }
    const at = (seq >>> 5) & this.mask;
    bits[at] = bits[at] | (1 << (seq & 31));
  }

  /** check + update in one step; true when accepted. For callers without an ICV stage. */
  accept(seq: number): boolean {
    if (this.check(seq) !== 'new') return false;
    this.update(seq);
    return true;
  }

  /** Forget everything (a fresh SA). */
  reset(): void {
    this.bits?.fill(0);
    this.highest = 0;
  }
}
