/** A ManualClock that counts the timers armed on it (tests that prove "one timer for many"). */
import { ManualClock } from '../../src/common/index.js';

export function countingClock(): { clock: ManualClock; armed: () => number } {
  const clock = new ManualClock();
  let armed = 0;
  const setTimeout = clock.setTimeout.bind(clock);
  clock.setTimeout = (ms, fn) => {
    armed++;
    return setTimeout(ms, fn);
  };
  return { clock, armed: () => armed };
}
