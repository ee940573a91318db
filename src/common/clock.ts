/**
 * Injected time. State machines never read the wall clock or start timers themselves; a thin
 * driver does it through a {@link Clock}, and tests advance a {@link ManualClock}.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since an arbitrary epoch (the wall clock for {@link systemClock}). */
  now(): number;
  setTimeout(ms: number, fn: () => void): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that moves only when told to; timers fire in due order during {@link advance}. */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(ms: number, fn: () => void): TimerHandle {
    const p: Pending = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.pending.push(p);
    return {
      cancel: () => {
        p.cancelled = true;
        // As clearTimeout does: a cancelled timer keeps nothing its callback closed over.
        p.fn = noop;
      },
    };
  }

  /** Number of timers that have not fired or been cancelled. */
  get timers(): number {
    return this.pending.filter((p) => !p.cancelled).length;
  }

  /** Move time forward by ms, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const target = this.t + ms;
    for (let next = this.takeDue(target); next; next = this.takeDue(target)) next.fn();
    this.finish(target);
  }

  /**
   * {@link advance} for code that awaits: before the first timer, after each one and at the end,
   * the event loop turns `turns` times (setImmediate, no wall-clock wait), so the promise jobs a
   * timer starts, and the I/O callbacks already due (a loopback datagram already sent), run before
   * the next timer fires and before this resolves. Timers those jobs start within `ms` fire too.
   */
  async advanceAsync(ms: number, turns = 10): Promise<void> {
    const target = this.t + ms;
    await loopTurns(turns);
    for (let next = this.takeDue(target); next; next = this.takeDue(target)) {
      next.fn();
      await loopTurns(turns);
    }
    this.finish(target);
    await loopTurns(turns);
  }

  /** Removes and returns the earliest timer due by `target` (ties: the first set), moving time to it. */
  private takeDue(target: number): Pending | undefined {
    let next: Pending | undefined;
    for (const p of this.pending) {
      if (p.cancelled || p.at > target) continue;
      if (!next || p.at < next.at || (p.at === next.at && p.seq < next.seq)) next = p;
    }
    if (!next) return undefined;
    this.pending = this.pending.filter((p) => p !== next);
    this.t = next.at;
    return next;
  }

  private finish(target: number): void {
    this.pending = this.pending.filter((p) => !p.cancelled);
    this.t = target;
  }
}

function noop(): void {}

/** `n` turns of the event loop: pending promise jobs and due I/O callbacks run, no time passes. */
async function loopTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}
