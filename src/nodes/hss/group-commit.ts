/**
 * Group commit of the HSS's store writes: requests that arrive together — several Cx requests in
 * one TCP read — queue, and one deferred flush runs them all in one store transaction, so a burst
 * pays for one commit instead of one each. Each caller gets its own result or its own error; a
 * store without the batch method is called once per request.
 *
 * - {@link SqnBatcher}: SQN allocations of MARs (TS 33.102 Annex C; R-AKA-3 stays whole: every
 *   SQN handed out is committed first), over {@link HssStore.allocateSqnsMany}.
 * - {@link RegistrationBatcher}: registration state of MARs and SARs (TS 29.228 §6.1.2, §6.3),
 *   over {@link HssStore.setRegistrationsMany}; the updates of a batch apply in arrival order.
 */
import type { HssStore, RegistrationSnapshot, RegistrationUpdate, SqnAllocation, SqnRequest } from '../../store/index.js';

export interface GroupCommitOptions {
  /** Largest batch per transaction (default 128). */
  maxBatch?: number;
  /** Runs `fn` once the current I/O events are processed (default setImmediate). */
  defer?: (fn: () => void) => void;
}

/** Transactions run and requests served, for tests and status. */
export interface GroupCommitStats {
  batches: number;
  requests: number;
  largest: number;
}

interface Waiting<Q, R> {
  req: Q;
  resolve: (r: R) => void;
  reject: (e: Error) => void;
}

/**
 * Queues requests until the current I/O events are processed, then runs them in batches through
 * `runMany`; without `runMany` (a store that has no batch method) each request runs alone.
 */
export class GroupCommit<Q, R> {
  private queue: Waiting<Q, R>[] = [];
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly defer: (fn: () => void) => void;
  readonly stats: GroupCommitStats = { batches: 0, requests: 0, largest: 0 };

  constructor(
    private readonly runMany: ((batch: readonly Q[]) => Promise<(R | Error)[]>) | undefined,
    private readonly runOne: (req: Q) => Promise<R>,
    opts: GroupCommitOptions,
  ) {
    this.maxBatch = opts.maxBatch ?? 128;
    this.defer = opts.defer ?? ((fn) => void setImmediate(fn));
  }

  protected submit(req: Q): Promise<R> {
    const many = this.runMany;
    if (many === undefined) return this.runOne(req);
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.defer(() => void this.flush(many));
      }
    });
  }

  private async flush(runMany: (batch: readonly Q[]) => Promise<(R | Error)[]>): Promise<void> {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.stats.batches++;
      this.stats.requests += batch.length;
      this.stats.largest = Math.max(this.stats.largest, batch.length);
      try {
        const results = await runMany(batch.map((w) => w.req));
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

/** Group commit of SQN allocations; same contract as {@link HssStore.allocateSqns}. */
export class SqnBatcher extends GroupCommit<SqnRequest, SqnAllocation> {
  constructor(store: HssStore, opts: GroupCommitOptions = {}) {
    super(store.allocateSqnsMany?.bind(store), (r) => store.allocateSqns(r.impi, r.originHost, r.count), opts);
  }

  allocate(impi: string, originHost: string, count: number): Promise<SqnAllocation> {
    return this.submit({ impi, originHost, count });
  }
}

/** Group commit of registration state; same contract as {@link HssStore.setRegistration}. */
export class RegistrationBatcher extends GroupCommit<{ impu: string; update: RegistrationUpdate }, RegistrationSnapshot[]> {
  constructor(store: HssStore, opts: GroupCommitOptions = {}) {
    super(store.setRegistrationsMany?.bind(store), (r) => store.setRegistration(r.impu, r.update), opts);
  }

  set(impu: string, update: RegistrationUpdate): Promise<RegistrationSnapshot[]> {
    return this.submit({ impu, update });
  }
}
