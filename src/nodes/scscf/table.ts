/**
 * The S-CSCF's registrations in memory: one entry per registration (keyed by its aor, the
 * identity the UE registered) and an index from every identity of each implicit set to it, so a
 * request for any identity of the set finds the registration (R-REG-2). Plus {@link KeyedLock},
 * which runs the work on one user strictly one after another, and {@link ExpiryQueue}, one timer
 * for every registration's next expiry.
 */
import type { Clock, TimerHandle } from '../../common/index.js';
import type { StoredRegistration } from '../../store/index.js';
import { impuKey } from '../common/index.js';

export class RegistrationTable {
  private readonly byAor = new Map<string, StoredRegistration>();
  private readonly index = new Map<string, string>();
  /** AoRs by private identity (RTR and PPR name an IMPI): O(1), whatever the table size. */
  private readonly aorsByImpi = new Map<string, string[]>();

  get size(): number {
    return this.byAor.size;
  }

  /** The registration with this aor. */
  get(aor: string): StoredRegistration | undefined {
    return this.byAor.get(aor);
  }

  /** The registration whose implicit set holds this identity (any spelling impuKey equates). */
  find(impu: string): StoredRegistration | undefined {
    const k = impuKey(impu);
    return k === undefined ? undefined : this.findKey(k);
  }

  /** As {@link find}, by an impuKey. */
  findKey(key: string): StoredRegistration | undefined {
    const aor = this.index.get(key);
    return aor === undefined ? undefined : this.byAor.get(aor);
  }

  /** Registrations of one private identity. */
  byImpi(impi: string): StoredRegistration[] {
    return (this.aorsByImpi.get(impi) ?? []).map((aor) => this.byAor.get(aor)!);
  }

  all(): StoredRegistration[] {
    return [...this.byAor.values()];
  }

  /** Adds or replaces a registration and re-indexes its implicit set. */
  put(reg: StoredRegistration): void {
    const old = this.byAor.get(reg.aor);
    if (old) this.unindex(old);
    this.byAor.set(reg.aor, reg);
    const aors = this.aorsByImpi.get(reg.impi);
    if (aors) aors.push(reg.aor);
    else this.aorsByImpi.set(reg.impi, [reg.aor]);
    for (const u of [reg.aor, ...reg.impus]) {
      const k = impuKey(u);
      if (k !== undefined) this.index.set(k, reg.aor);
    }
  }

  /** Removes a registration; false when there was none. */
  delete(aor: string): boolean {
    const old = this.byAor.get(aor);
    if (!old) return false;
    this.unindex(old);
    this.byAor.delete(aor);
    return true;
  }

  clear(): void {
    this.byAor.clear();
    this.index.clear();
    this.aorsByImpi.clear();
  }

  private unindex(reg: StoredRegistration): void {
    const aors = this.aorsByImpi.get(reg.impi);
    if (aors) {
      const rest = aors.filter((a) => a !== reg.aor);
      if (rest.length > 0) this.aorsByImpi.set(reg.impi, rest);
      else this.aorsByImpi.delete(reg.impi);
    }
    for (const u of [reg.aor, ...reg.impus]) {
      const k = impuKey(u);
      if (k !== undefined && this.index.get(k) === reg.aor) this.index.delete(k);
    }
  }
}

/** Runs async work per key strictly in order (one REGISTER of a user at a time). */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const p = prev.then(fn);
    const tail = p.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return p;
  }

  /** Keys with work queued or running. */
  get busy(): number {
    return this.tails.size;
  }
}

/**
 * When each registration next expires (R-REG-3), for all of them with one timer: a binary min-heap
 * of (time, aor) armed for its earliest entry, instead of a timer and a closure per registration.
 * A rescheduled or cancelled aor leaves its old heap entry behind; it is skipped when it surfaces
 * (its time no longer matches `due`).
 */
export class ExpiryQueue {
  private readonly due = new Map<string, number>();
  private times: number[] = [];
  private aors: string[] = [];
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: (aor: string) => void,
  ) {}

  get size(): number {
    return this.due.size;
  }

  /** `aor` expires at `at` (ms, the clock's time), replacing what was scheduled for it. */
  schedule(aor: string, at: number): void {
    this.due.set(aor, at);
    this.push(at, aor);
    if (this.times.length > 64 && this.times.length > 2 * this.due.size) this.rebuild();
    if (at < this.timerAt) this.arm();
  }

  cancel(aor: string): void {
    this.due.delete(aor);
  }

  /** Forgets everything and stops the timer. */
  clear(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.due.clear();
    this.times = [];
    this.aors = [];
  }

  private arm(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.times.length === 0) return;
    this.timerAt = this.times[0];
    this.timer = this.clock.setTimeout(Math.max(0, this.timerAt - this.clock.now()), this.fire);
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    const ready: string[] = [];
    while (this.times.length > 0 && this.times[0] <= now) {
      const at = this.times[0];
      const aor = this.pop();
      if (this.due.get(aor) === at) {
        this.due.delete(aor);
        ready.push(aor);
      }
    }
    this.arm();
    for (const aor of ready) this.onDue(aor);
  };

  /** Drops the stale entries: the heap rebuilt from `due`. */
  private rebuild(): void {
    this.times = [];
    this.aors = [];
    for (const [aor, at] of this.due) this.push(at, aor);
  }

  private push(at: number, aor: string): void {
    const t = this.times;
    const a = this.aors;
    let i = t.length;
    t.push(at);
    a.push(aor);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (t[up] <= at) break;
      t[i] = t[up];
      a[i] = a[up];
      i = up;
    }
    t[i] = at;
    a[i] = aor;
  }

  private pop(): string {
    const t = this.times;
    const a = this.aors;
    const top = a[0];
    const lastT = t.pop()!;
    const lastA = a.pop()!;
    const n = t.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const c = l + 1 < n && t[l + 1] < t[l] ? l + 1 : l;
      if (t[c] >= lastT) break;
      t[i] = t[c];
      a[i] = a[c];
      i = c;
    }
    t[i] = lastT;
    a[i] = lastA;
    return top;
  }
}
