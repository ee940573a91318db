/**
 * Group commit for SQN allocation (TS 33.102 Annex C; R-AKA-3 stays whole: every SQN handed out
 * is committed first). MARs that arrive together — several in one TCP read — queue their
 * allocation; one deferred flush runs them all in one store transaction
 * ({@link HssStore.allocateSqnsMany}), so a burst pays for one commit instead of one each. A
 * store without the batch method gets the requests one by one. Each caller gets its own
 * allocation or its own error.
 */
import type { HssStore, SqnAllocation, SqnRequest } from '../../store/index.js';

interface Waiting extends SqnRequest {
  resolve: (a: SqnAllocation) => void;
  reject: (e: Error) => void;
}

export interface SqnBatcherOptions {
  /** Largest batch per transaction (default 128). */
  maxBatch?: number;
  /** Runs `fn` once the current I/O events are processed (default setImmediate). */
  defer?: (fn: () => void) => void;
}

export class SqnBatcher {
  private queue: Waiting[] = [];
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly defer: (fn: () => void) => void;
  /** Transactions run and requests served, for tests and status. */
  readonly stats = { batches: 0, requests: 0, largest: 0 };

  constructor(
    private readonly store: HssStore,
    opts: SqnBatcherOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 128;
    this.defer = opts.defer ?? ((fn) => void setImmediate(fn));
  }

  /** Same contract as {@link HssStore.allocateSqns}. */
  allocate(impi: string, originHost: string, count: number): Promise<SqnAllocation> {
    if (this.store.allocateSqnsMany === undefined) return this.store.allocateSqns(impi, originHost, count);
    return new Promise((resolve, reject) => {
      this.queue.push({ impi, originHost, count, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.defer(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.stats.batches++;
      this.stats.requests += batch.length;
      this.stats.largest = Math.max(this.stats.largest, batch.length);
      try {
        const results = await this.store.allocateSqnsMany!(batch);
        batch.forEach((w, i) => {
          const r = results[i];
          if (r instanceof Error) w.reject(r);
          else w.resolve(r);
        });
      } catch (err) {
        for (const w of batch) w.reject(err as Error);
      }
    }
  }
}
