/**
 * Many deadlines (the SA table's R-SA-7 lifetimes and R-RR-2 change-overs, the P-CSCF's
 * registration lifetimes and reg-event refreshes, the S-CSCF's reg-event subscriptions) in ONE
 * indexed binary min-heap with ONE armed {@link Clock} timer, whatever their number: set, move and
 * delete are O(log n), the earliest deadline is O(1), and nothing per entry lives on the clock (no
 * timer object or closure per UE that the garbage collector walks at 100,000 registrations).
 *
 * When the armed timer fires, every entry due by then leaves the heap in deadline order (ties: the
 * order they were set) and is handed to `onDue`; then the timer is armed again for the new earliest
 * deadline. The timer is re-armed only when the earliest deadline moves earlier than the armed
 * one; a later-than-needed wake-up (the earliest entry deleted or moved later) just re-arms.
 */
import type { Clock, TimerHandle } from './clock.js';

export class DeadlineQueue<K> {
  // The heap as parallel arrays, slot by slot: no object per entry, and each deadline an unboxed
  // double of a number array rather than a boxed number of its own (TS 33.203 §7.1 at 100,000
  // registrations: every set, registration and subscription has one entry).
  private readonly keys: K[] = [];
  private readonly ats: number[] = [];
  /** The order entries were set, to break ties in deadline. */
  private readonly seqs: number[] = [];
  /** Each key's slot in the heap. */
  private readonly slotOf = new Map<K, number>();
  private armed: TimerHandle | undefined;
  private armedAt = Infinity;
  private seq = 0;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: (key: K) => void,
  ) {}

  /** Number of pending deadlines. */
  get size(): number {
    return this.keys.length;
  }

  /** The deadline of `key`, if any. */
  at(key: K): number | undefined {
    const i = this.slotOf.get(key);
    return i === undefined ? undefined : this.ats[i];
  }

  /** Sets (or moves) the deadline of `key` to clock time `at`. */
  set(key: K, at: number): void {
    const i = this.slotOf.get(key);
    if (i !== undefined) {
      const earlier = at < this.ats[i];
      this.ats[i] = at;
      this.seqs[i] = this.seq++;
      if (earlier) this.up(i);
      else this.down(i);
    } else {
      const end = this.keys.length;
      this.keys.push(key);
      this.ats.push(at);
      this.seqs.push(this.seq++);
      this.slotOf.set(key, end);
      this.up(end);
    }
    this.arm();
  }

  /** Forgets the deadline of `key` (unknown keys are ignored). */
  delete(key: K): void {
    const i = this.slotOf.get(key);
    if (i === undefined) return;
    this.slotOf.delete(key);
    const last = this.keys.length - 1;
    if (i !== last) this.move(last, i);
    this.keys.pop();
    this.ats.pop();
    this.seqs.pop();
    if (i < last) {
      this.down(i);
      this.up(i);
    }
    if (last === 0) this.disarm();
  }

  /** Drops every deadline and the armed timer. */
  clear(): void {
    this.keys.length = 0;
    this.ats.length = 0;
    this.seqs.length = 0;
    this.slotOf.clear();
    this.disarm();
  }

  private fire(): void {
    this.armed = undefined;
    this.armedAt = Infinity;
    const now = this.clock.now();
    // Each due entry leaves the heap before its handler runs, so a handler may set or delete freely.
    while (this.keys.length > 0 && this.ats[0] <= now) {
      const key = this.keys[0];
      this.delete(key);
      this.onDue(key);
    }
    this.arm();
  }

  private arm(): void {
    if (this.keys.length === 0 || this.ats[0] >= this.armedAt) return;
    this.armed?.cancel();
    this.armedAt = this.ats[0];
    this.armed = this.clock.setTimeout(Math.max(0, this.armedAt - this.clock.now()), () => this.fire());
  }

  private disarm(): void {
    this.armed?.cancel();
    this.armed = undefined;
    this.armedAt = Infinity;
  }

  private less(i: number, j: number): boolean {
    return this.ats[i] < this.ats[j] || (this.ats[i] === this.ats[j] && this.seqs[i] < this.seqs[j]);
  }

  /** Puts slot `from`'s entry in slot `to`. */
  private move(from: number, to: number): void {
    const key = this.keys[from];
    this.keys[to] = key;
    this.ats[to] = this.ats[from];
    this.seqs[to] = this.seqs[from];
    this.slotOf.set(key, to);
  }

  private swap(i: number, j: number): void {
    const key = this.keys[i];
    const at = this.ats[i];
    const seq = this.seqs[i];
    this.move(j, i);
    this.keys[j] = key;
    this.ats[j] = at;
    this.seqs[j] = seq;
    this.slotOf.set(key, j);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}

/**
 * A map whose entries all live the same time, `lifetimeMs` from when each was set (RFC 3261 §17
 * Timer J of the non-INVITE server transactions, Timer K of the client ones): their deadlines come
 * in the order they were set, so ONE FIFO and ONE armed timer, for the oldest, end them all (a
 * timer wheel of one slot), with nothing per entry on the clock and no heap to keep in order.
 *
 * Each set takes a slot at the FIFO's end and the map remembers the key's slot; an entry deleted
 * early, or set again, leaves its old slot behind empty, skipped when it comes up.
 */
export class ExpiringMap<V> {
  /** Each key's slot, numbered from the first ever taken. */
  private readonly slots = new Map<string, number>();
  /** The slots from `base` on, in deadline order: key, value and deadline; `head` is the next to expire. */
  private keys: string[] = [];
  private values: (V | undefined)[] = [];
  private deadlines: number[] = [];
  private base = 0;
  private head = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    readonly lifetimeMs: number,
    /** Told of each entry that expires (not of those deleted or cleared). */
    private readonly onExpire?: (key: string, value: V) => void,
  ) {}

  get size(): number {
    return this.slots.size;
  }

  get(key: string): V | undefined {
    const slot = this.slots.get(key);
    return slot === undefined ? undefined : this.values[slot - this.base];
  }

  has(key: string): boolean {
    return this.slots.has(key);
  }

  /** Sets `key` to `value`, to expire `lifetimeMs` from now. */
  set(key: string, value: V): void {
    this.delete(key);
    const deadline = this.clock.now() + this.lifetimeMs;
    this.slots.set(key, this.base + this.keys.length);
    this.keys.push(key);
    this.values.push(value);
    this.deadlines.push(deadline);
    if (this.timer === undefined) this.arm(deadline);
  }

  /** Removes `key` before its time; its expiry is not reported. */
  delete(key: string): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    this.slots.delete(key);
    this.values[slot - this.base] = undefined;
    return true;
  }

  /** Forgets everything and stops the timer (on shutdown); nothing is reported. */
  clear(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.slots.clear();
    this.keys = [];
    this.values = [];
    this.deadlines = [];
    this.base = 0;
    this.head = 0;
  }

  private arm(deadline: number): void {
    this.timer = this.clock.setTimeout(Math.max(0, deadline - this.clock.now()), this.expire);
  }

  /** Arms for `deadline`, replacing a timer that a set() from onExpire armed for its own, later, one. */
  private rearm(deadline: number): void {
    this.timer?.cancel();
    this.arm(deadline);
  }

  /** The timer fired for the oldest slots: every entry due by now leaves, then is reported. */
  private readonly expire = (): void => {
    this.timer = undefined;
    const now = this.clock.now();
    while (this.head < this.keys.length) {
      const deadline = this.deadlines[this.head];
      if (deadline > now) {
        this.rearm(deadline);
        break;
      }
      const key = this.keys[this.head];
      const value = this.values[this.head];
      this.values[this.head] = undefined;
      const mine = this.slots.get(key) === this.base + this.head;
      this.head++;
      if (mine) {
        this.slots.delete(key);
        this.onExpire?.(key, value as V);
      }
    }
    if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.values = this.values.slice(this.head);
      this.deadlines = this.deadlines.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  };
}
