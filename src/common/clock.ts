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
    return { cancel: () => void (p.cancelled = true) };
  }

  /** Number of timers that have not fired or been cancelled. */
  get timers(): number {
    return this.pending.filter((p) => !p.cancelled).length;
  }

  /** Move time forward by ms, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.pending) {
        if (p.cancelled || p.at > target) continue;
        if (!next || p.at < next.at || (p.at === next.at && p.seq < next.seq)) next = p;
      }
      if (!next) break;
      this.pending = this.pending.filter((p) => p !== next);
      this.t = next.at;
      next.fn();
    }
    this.pending = this.pending.filter((p) => !p.cancelled);
    this.t = target;
  }
}
