/**
 * The two timers of a UE registration on the injected clock: the re-registration before expiry
 * (R-REG-3, TS 24.229 §5.1.1.4.1; delay from {@link reRegisterDelayMs}) and the end of the
 * registration's lifetime (R-SA-7, TS 24.229 §5.1.1.5.1). Each clears itself before it fires.
 */
import type { Clock, TimerHandle } from '../../common/index.js';

export class RegTimers {
  /** When the re-registration timer fires (undefined: not running). */
  reRegisterAt: number | undefined;
  private reRegTimer: TimerHandle | undefined;
  private expiryTimer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly fire: { reRegister(): void; expired(): void },
  ) {}

  /** A new lifetime of `expires` seconds: expiry at its end, and a re-registration after `reRegisterDelayMs` when given. */
  schedule(expires: number, reRegisterDelayMs: number | undefined): void {
    this.expireIn(expires * 1000);
    if (reRegisterDelayMs !== undefined) this.reRegisterIn(reRegisterDelayMs);
  }

  /** (Re)starts the re-registration timer. */
  reRegisterIn(ms: number): void {
    this.reRegTimer?.cancel();
    this.reRegisterAt = this.clock.now() + ms;
    this.reRegTimer = this.clock.setTimeout(ms, () => {
      this.reRegTimer = undefined;
      this.reRegisterAt = undefined;
      this.fire.reRegister();
    });
  }

  /** Cancels both timers, then lets the registration end in `ms`. */
  expireIn(ms: number): void {
    this.cancel();
    this.expiryTimer = this.clock.setTimeout(ms, () => {
      this.expiryTimer = undefined;
      this.fire.expired();
    });
  }

  cancel(): void {
    this.reRegTimer?.cancel();
    this.expiryTimer?.cancel();
    this.reRegTimer = undefined;
    this.expiryTimer = undefined;
    this.reRegisterAt = undefined;
  }
}
