/**
 * Bounded real-time waits for tests that watch real sockets, processes or timers they do not
 * drive (a test on a ManualClock advances it instead: ManualClock.advanceAsync()).
 */

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `cond` every few milliseconds until it holds; throws `timed out waiting for WHAT` after
 * `ms`. The second argument may be the timeout instead of the description.
 */
export async function waitFor(cond: () => boolean, what: string | number = 'condition', ms = 3000): Promise<void> {
  if (typeof what === 'number') return waitFor(cond, 'condition', what);
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await tick(5);
  }
}

/** Polls `cond` until it holds or `ms` pass; resolves with whether it held. */
export async function pollFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await tick(5);
  }
  return true;
}
