/**
 * Identifier generators, RFC 6733 §3 and §8.8: Hop-by-Hop (per connection, monotonically
 * increasing from a random start), End-to-End (high 12 bits from the clock, low 20 bits random
 * then incremented) and Session-Id (`<DiameterIdentity>;<high 32 bits>;<low 32 bits>[;<optional value>]`).
 * All take an injected {@link Clock} and {@link Rng} so tests replay exactly.
 */
import { type Clock, type Rng, randomU32 } from '../../common/index.js';

/**
 * RFC 6733 §3 Hop-by-Hop Identifier: "a monotonically increasing number, whose start value was
 * randomly generated", unique on the connection over a reasonable time.
 */
export class HopByHopGenerator {
  private next: number;
  constructor(rng: Rng) {
    this.next = randomU32(rng);
  }
  take(): number {
    const v = this.next;
    this.next = (this.next + 1) >>> 0;
    return v;
  }
}

/**
 * RFC 6733 §3 End-to-End Identifier: "the high order 12 bits contain the low order 12 bits of
 * current time, and the low order 20 bits to a random value. Senders of request messages MUST
 * insert a unique identifier on each message" — so later ids increment the low 20 bits.
 */
export class EndToEndGenerator {
  private high: number;
  private low: number;
  constructor(clock: Clock, rng: Rng) {
    this.high = Math.floor(clock.now() / 1000) & 0xfff;
    this.low = randomU32(rng) & 0xfffff;
  }
  take(): number {
    const v = ((this.high << 20) | this.low) >>> 0;
    this.low = (this.low + 1) & 0xfffff;
    if (this.low === 0) this.high = (this.high + 1) & 0xfff;
    return v;
  }
}

/**
 * RFC 6733 §8.8 Session-Id: `<DiameterIdentity>;<high 32 bits>;<low 32 bits>[;<optional value>]`.
 * "The high 32 bits ... MAY be initialized to the time at startup, and the low 32 bits MAY be
 * initialized to zero", which together with the identity makes them unique across reboots.
 */
export class SessionIdGenerator {
  private readonly high: number;
  private low = 0;
  constructor(
    private readonly identity: string,
    clock: Clock,
  ) {
    this.high = Math.floor(clock.now() / 1000) >>> 0;
  }
  take(optional?: string): string {
    const low = this.low;
    this.low = (this.low + 1) >>> 0;
    const base = `${this.identity};${this.high};${low}`;
    return optional === undefined ? base : `${base};${optional}`;
  }
}

/** Splits a Session-Id into its parts (the identity may not contain ';'). */
export function parseSessionId(s: string): { identity: string; high: number; low: number; optional?: string } | undefined {
  const m = /^([^;]+);(\d{1,10});(\d{1,10})(?:;(.*))?$/s.exec(s);
  if (!m) return undefined;
  const high = Number(m[2]);
  const low = Number(m[3]);
  if (high > 0xffffffff || low > 0xffffffff) return undefined;
  return m[4] === undefined ? { identity: m[1], high, low } : { identity: m[1], high, low, optional: m[4] };
}
