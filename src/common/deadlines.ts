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

interface Entry<K> {
  readonly key: K;
  at: number;
  seq: number;
  pos: number;
}

export class DeadlineQueue<K> {
  private readonly heap: Entry<K>[] = [];
  private readonly byKey = new Map<K, Entry<K>>();
  private armed: TimerHandle | undefined;
  private armedAt = Infinity;
  private seq = 0;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: (key: K) => void,
  ) {}

  /** Number of pending deadlines. */
  get size(): number {
    return this.heap.length;
  }

  /** The deadline of `key`, if any. */
  at(key: K): number | undefined {
    return this.byKey.get(key)?.at;
  }

  /** Sets (or moves) the deadline of `key` to clock time `at`. */
  set(key: K, at: number): void {
    let e = this.byKey.get(key);
    if (e) {
      const earlier = at < e.at;
      e.at = at;
      e.seq = this.seq++;
      if (earlier) this.up(e.pos);
      else this.down(e.pos);
    } else {
      e = { key, at, seq: this.seq++, pos: this.heap.length };
      this.byKey.set(key, e);
      this.heap.push(e);
      this.up(e.pos);
    }
    this.arm();
  }

  /** Forgets the deadline of `key` (unknown keys are ignored). */
  delete(key: K): void {
    const e = this.byKey.get(key);
    if (!e) return;
    this.byKey.delete(key);
    const last = this.heap.pop()!;
    if (last !== e) {
      this.heap[e.pos] = last;
      last.pos = e.pos;
      this.down(last.pos);
      this.up(last.pos);
    }
    if (this.heap.length === 0) this.disarm();
  }

  /** Drops every deadline and the armed timer. */
  clear(): void {
    this.heap.length = 0;
    this.byKey.clear();
    this.disarm();
  }

  private fire(): void {
    this.armed = undefined;
    this.armedAt = Infinity;
    const now = this.clock.now();
    // Each due entry leaves the heap before its handler runs, so a handler may set or delete freely.
    for (let top = this.heap[0]; top !== undefined && top.at <= now; top = this.heap[0]) {
      this.delete(top.key);
      this.onDue(top.key);
    }
    this.arm();
  }

  private arm(): void {
    const top = this.heap[0];
    if (top === undefined || top.at >= this.armedAt) return;
    this.armed?.cancel();
    this.armedAt = top.at;
    this.armed = this.clock.setTimeout(Math.max(0, top.at - this.clock.now()), () => this.fire());
  }

  private disarm(): void {
    this.armed?.cancel();
    this.armed = undefined;
    this.armedAt = Infinity;
  }

  private less(a: Entry<K>, b: Entry<K>): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const h = this.heap;
    const a = h[i];
    h[i] = h[j];
    h[j] = a;
    h[i].pos = i;
    h[j].pos = j;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(this.heap[i], this.heap[parent])) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(this.heap[l], this.heap[m])) m = l;
      if (r < n && this.less(this.heap[r], this.heap[m])) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
