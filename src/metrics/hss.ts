/**
 * HSS metrics: SQN allocations (TS 33.102 Annex C: one SQN per authentication vector, each
 * committed before it is used, R-AKA-3) and the store's commit latency, measured around the
 * store calls that write (a wrapper of the {@link HssStore}, so no store code changes), plus the
 * HSS's own counters (vectors, resynchronisations).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { HssCounters } from '../nodes/hss/index.js';
import type { HssStore, ResyncResult, SqnAllocation } from '../store/index.js';
import { absoluteCounter, LATENCY_BUCKETS } from './registry.js';

/** Store methods that commit a transaction, timed by the wrapper. */
const WRITES = ['allocateSqns', 'allocateSqnsMany', 'resync', 'setRegistration', 'setRegistrationsMany', 'restoreRegistration', 'createSubscriber', 'createSubscribers', 'updateSubscriber', 'deleteSubscriber'] as const;

/** Store timing and SQN counting for one registry. */
export class HssStoreMetrics {
  readonly commits: Histogram<string>;
  readonly sqns: Counter<string>;

  constructor(
    registry: Registry,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.commits = new Histogram({ name: 'imsec_hss_store_commit_seconds', help: 'HSS store write transactions (SQN allocation, registration state, provisioning), by operation', labelNames: ['op'], buckets: LATENCY_BUCKETS, registers: [registry] });
    this.sqns = new Counter({ name: 'imsec_hss_sqn_allocations_total', help: 'SQNs allocated and committed by the HSS store (one per authentication vector)', registers: [registry] });
  }

  /** The same store, every write timed (reads and properties pass through untouched). */
  wrap(store: HssStore): HssStore {
    const timed = new Map<string | symbol, unknown>();
    for (const op of WRITES) {
      const fn = (store as unknown as Record<string, unknown>)[op];
      if (typeof fn !== 'function') continue;
      timed.set(op, async (...args: unknown[]) => {
        const t0 = this.now();
        try {
          const r = await (fn as (...a: unknown[]) => Promise<unknown>).apply(store, args);
          this.countSqns(op, r);
          return r;
        } finally {
          this.commits.observe({ op }, (this.now() - t0) / 1000);
        }
      });
    }
    return new Proxy(store, {
      get(target, prop, receiver) {
        if (timed.has(prop)) return timed.get(prop);
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  /** Counts the SQNs actually handed out (the allocations' `sqns`, never a key). */
  private countSqns(op: string, result: unknown): void {
    const n = (a: SqnAllocation | Error | undefined): number => (a === undefined || a instanceof Error ? 0 : a.sqns.length);
    if (op === 'allocateSqns') this.sqns.inc(n(result as SqnAllocation));
    else if (op === 'allocateSqnsMany') this.sqns.inc((result as readonly (SqnAllocation | Error)[]).reduce((t, a) => t + n(a), 0));
    else if (op === 'resync') {
      const r = result as ResyncResult;
      if (r.ok) this.sqns.inc(n(r.allocation));
    }
  }
}

/** The HSS's Cx counters (TS 29.229): vectors issued, resynchronisations done and refused. */
export function registerHssMetrics(registry: Registry, counters: () => HssCounters | undefined): void {
  absoluteCounter(registry, 'imsec_hss_vectors_total', 'Authentication vectors issued by the HSS (MAA)', [], () => [[{}, counters()?.vectors ?? 0]]);
  absoluteCounter(registry, 'imsec_hss_resyncs_total', 'SQN resynchronisations (AUTS) by outcome: accepted (MAC-S good) or rejected', ['outcome'], () => {
    const c = counters();
    return [
      [{ outcome: 'accepted' }, c?.resyncs ?? 0],
      [{ outcome: 'rejected' }, c?.resyncRejected ?? 0],
    ];
  });
}
