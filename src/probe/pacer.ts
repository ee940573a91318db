/**
 * The probe's self-imposed rate limit (R-LAB-3): at most `perSecond` datagrams a second, spaced
 * evenly, on an injected clock. Every send of the probe waits here first.
 */
import { InvalidArgumentError, type Clock } from '../common/index.js';

export class Pacer {
  private next = 0;
  private readonly gapMs: number;
  sent = 0;

  constructor(
    private readonly clock: Clock,
    readonly perSecond: number,
  ) {
    if (!Number.isFinite(perSecond) || perSecond <= 0 || perSecond > 1000) throw new InvalidArgumentError('the rate must be 1..1000 datagrams a second', '--rate');
    this.gapMs = 1000 / perSecond;
  }

  /** Resolves when the next datagram may leave. */
  async slot(): Promise<void> {
    const now = this.clock.now();
    const at = Math.max(now, this.next);
    this.next = at + this.gapMs;
    this.sent++;
    if (at > now) await new Promise<void>((r) => this.clock.setTimeout(at - now, r));
  }
}
