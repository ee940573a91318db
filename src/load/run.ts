/**
 * The scenarios of `imsec load` over a {@link Swarm} (R-LAB-4), paced at a target rate of new
 * operations per second:
 *
 * - `register`: UEs register one after the other (TS 24.229 §5.1.1.2, IMS AKA, sec-agree, SAs)
 *   and stay registered, re-registering before expiry on their own timers (R-REG-3, R-RR-1);
 *   at the end every registered UE de-registers (TS 24.229 §5.1.1.6).
 * - `register+message`: the same, and each new registration is followed by one protected
 *   MESSAGE (RFC 3428) to another registered UE, through both access legs.
 * - `churn`: register, live `liveMs`, de-register, and the UE goes back to the pool: set-up
 *   and tear-down at the rate, the table staying about rate × live.
 *
 * A registration answered 503 with Retry-After (an overloaded P-CSCF or S-CSCF, RFC 3261 §21.5.4)
 * is, with `retries`, sent again once that time has passed, and not before (RFC 3261 §20.33; the
 * rule TS 24.229 §5.1.2.2 and §5.1.3.1 state for SUBSCRIBE and INVITE, as TS 34.229-1 §10.1 and
 * §12.2 test it): the swarm backs off as phones do. Each such answer counts as `retried`, only
 * the last one as a failure.
 *
 * Registrations start until `count` of them or `durationMs`, whichever comes first; with
 * `durationMs` the registered UEs then live (re-registering) until it is over. Nothing here
 * reads a clock but the injected one.
 */
import type { Clock } from '../common/index.js';
import { UeError } from '../nodes/ue/index.js';
import type { LoadOp } from './stats.js';
import { LoadStats } from './stats.js';
import type { Swarm, SwarmUe } from './swarm.js';

export type LoadScenario = 'register' | 'register+message' | 'churn';
export const LOAD_SCENARIOS: readonly LoadScenario[] = ['register', 'register+message', 'churn'];

export interface LoadRunOptions {
  scenario: LoadScenario;
  /** New registrations per second. */
  rate: number;
  /** Stop starting registrations after this many (default: every UE once; churn: unbounded). */
  count?: number;
  /** Stop starting registrations after this long. */
  durationMs?: number;
  /** churn: how long a UE stays registered. Default 2 s. */
  liveMs?: number;
  /** Registrations in flight at most (default: rate × 10, at least 100). */
  maxInFlight?: number;
  /** De-register every UE at the end (default true). */
  deregisterAtEnd?: boolean;
  /** Times a registration answered 503 with Retry-After is tried again after that time (default 0: it fails). */
  retries?: number;
  clock: Clock;
  /** Called about once a second with the figures so far. */
  onTick?: (stats: LoadStats, elapsedMs: number) => void;
}

/** What a run leaves: the figures and how long it took. */
export interface LoadRunResult {
  stats: LoadStats;
  startedAt: number;
  elapsedMs: number;
  /** Time spent starting registrations (the paced phase). */
  paceMs: number;
  registered: number;
}

/** A failure's reason as reported: the UE library's reason and the SIP status, if any. */
export function failureReason(e: unknown): string {
  if (e instanceof UeError) return e.status !== undefined ? `${e.reason} ${e.status}` : e.reason;
  return e instanceof Error ? e.message.slice(0, 60) : String(e);
}

/** How long a 503 asked to wait (Retry-After, RFC 3261 §21.5.4), in ms; undefined for any other failure. */
function retryAfterMs(e: unknown): number | undefined {
  return e instanceof UeError && e.status === 503 && e.retryAfter !== undefined ? e.retryAfter * 1000 : undefined;
}

export class LoadRun {
  readonly stats = new LoadStats();
  private readonly idle: number[] = [];
  private readonly registered = new Set<SwarmUe>();
  private readonly watched = new WeakSet<SwarmUe>();
  private readonly pending = new Set<Promise<void>>();
  private inFlight = 0;
  private started = 0;

  constructor(
    private readonly swarm: Swarm,
    private readonly o: LoadRunOptions,
  ) {
    for (let i = swarm.size - 1; i >= 0; i--) this.idle.push(i);
  }

  /** Runs the scenario to its end; resolves with the figures. */
  async run(): Promise<LoadRunResult> {
    const clock = this.o.clock;
    const t0 = clock.now();
    const limit = this.o.count ?? (this.o.scenario === 'churn' && this.o.durationMs !== undefined ? Infinity : this.swarm.size);
    const maxInFlight = this.o.maxInFlight ?? Math.max(100, Math.ceil(this.o.rate * 10));
    let lastTick = t0;
    await new Promise<void>((resolve) => {
      const step = (): void => {
        const now = clock.now();
        const elapsed = now - t0;
        const over = this.started >= limit || (this.o.durationMs !== undefined && elapsed >= this.o.durationMs);
        if (over) return resolve();
        const due = Math.min(limit, Math.floor((elapsed / 1000) * this.o.rate) + 1);
        while (this.started < due && this.inFlight < maxInFlight && this.idle.length > 0) this.startOne();
        if (now - lastTick >= 1000) {
          lastTick = now;
          this.o.onTick?.(this.stats, elapsed);
        }
        clock.setTimeout(5, step);
      };
      step();
    });
    const paceMs = clock.now() - t0;
    // Let what was started finish (each operation ends by itself: Timer F at most).
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    // With --duration the registered UEs live (and re-register) until it is over.
    const left = this.o.durationMs === undefined ? 0 : t0 + this.o.durationMs - clock.now();
    if (left > 0) await new Promise<void>((r) => clock.setTimeout(left, r));
    if (this.o.deregisterAtEnd !== false) await this.deregisterAll();
    this.o.onTick?.(this.stats, clock.now() - t0);
    return { stats: this.stats, startedAt: t0, elapsedMs: clock.now() - t0, paceMs, registered: this.registered.size };
  }

  private startOne(): void {
    const i = this.idle.pop()!;
    this.started++;
    this.inFlight++;
    const p = this.lifecycle(i).finally(() => {
      this.pending.delete(p);
    });
    this.pending.add(p);
  }

  private async lifecycle(i: number): Promise<void> {
    const ue = await this.swarm.ue(i);
    const ok = await this.timed('register', () => ue.core.register(), this.o.retries ?? 0).finally(() => this.inFlight--);
    if (!ok) return void this.idle.unshift(i);
    this.registered.add(ue);
    if (!this.watched.has(ue)) {
      this.watched.add(ue);
      ue.core.onStateChange((s) => {
        if (s === 'reregistering') this.watchReRegistration(ue);
      });
    }
    if (this.o.scenario === 'register+message') await this.message(ue);
    if (this.o.scenario === 'churn') {
      await new Promise<void>((r) => this.o.clock.setTimeout(this.o.liveMs ?? 2000, r));
      await this.deregister(ue);
      this.idle.unshift(i);
    }
  }

  /** Times a re-registration the UE started on its own timer (R-REG-3). */
  private watchReRegistration(ue: SwarmUe): void {
    const t = this.o.clock.now();
    this.stats.started('reregister');
    const off = ue.core.onStateChange((s) => {
      if (s === 'reregistering') return;
      off();
      if (s === 'registered') this.stats.succeeded('reregister', this.o.clock.now() - t, this.o.clock.now());
      else {
        const last = ue.core.snapshot().lastFailure;
        this.stats.failed('reregister', last?.reason ?? s, this.o.clock.now(), last?.detail);
      }
    });
  }

  private async message(from: SwarmUe): Promise<void> {
    let to: SwarmUe | undefined;
    for (const u of this.registered) {
      to = u;
      if (u !== from) break;
    }
    if (!to) return;
    await this.timed('message', async () => {
      const resp = await from.core.sendMessage(to.sub.impu, 'load');
      if (resp.status >= 300) throw new UeError('rejected', `MESSAGE answered ${resp.status}`, resp.status);
    });
  }

  private async deregister(ue: SwarmUe): Promise<void> {
    if (!this.registered.delete(ue)) return;
    await this.timed('deregister', async () => {
      // A re-registration in flight ends first (the UE library refuses to de-register meanwhile).
      if (ue.core.snapshot().state === 'reregistering') await new Promise<void>((r) => { const off = ue.core.onStateChange((st) => st !== 'reregistering' && (off(), r())); });
      if (ue.core.snapshot().state !== 'registered') throw new UeError('not-registered', 'not registered any more');
      await ue.core.deregister();
      const f = ue.core.snapshot().lastFailure;
      if (f) throw new UeError(f.reason, f.detail, f.status);
    });
  }

  /** De-registers every UE still registered, at most `maxInFlight` at a time. */
  private async deregisterAll(): Promise<void> {
    const all = [...this.registered];
    const width = Math.max(1, Math.min(all.length, this.o.maxInFlight ?? Math.max(100, Math.ceil(this.o.rate * 10))));
    let next = 0;
    await Promise.all(
      Array.from({ length: width }, async () => {
        while (next < all.length) await this.deregister(all[next++]);
      }),
    );
  }

  /** Runs `fn` as one `op`, timed from its last attempt; a 503 with Retry-After is tried again up to `retries` times, after that time. */
  private async timed(op: LoadOp, fn: () => Promise<unknown>, retries = 0): Promise<boolean> {
    const clock = this.o.clock;
    this.stats.started(op);
    for (let left = retries; ; left--) {
      const t = clock.now();
      try {
        await fn();
        this.stats.succeeded(op, clock.now() - t, clock.now());
        return true;
      } catch (e) {
        const wait = left > 0 ? retryAfterMs(e) : undefined;
        if (wait === undefined) {
          this.stats.failed(op, failureReason(e), clock.now(), e instanceof Error ? e.message : undefined);
          return false;
        }
        this.stats.retried(op);
        await new Promise<void>((r) => clock.setTimeout(wait, r));
      }
    }
  }
}
