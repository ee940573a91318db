/**
 * SQN allocation on PostgreSQL (TS 33.102 C.1.1–C.1.2, C.2.1), shared by several HSS processes:
 * a single `UPDATE subscriber SET seq_he = seq_he + $n … RETURNING` takes the row lock, so
 * concurrent allocations for one subscriber queue up and each sees the SEQ_HE the previous one
 * committed (R-AKA-3). New IND assignments take an advisory lock.
 */
import type pg from 'pg';
import { ImsError } from '../../common/index.js';
import { indForNode, resyncHe, SqnExhaustedError } from '../../auth/index.js';
import { NotFoundError } from '../errors.js';
import type { ResyncRequest, ResyncResult, SqnAllocation, SqnRequest } from '../hss-store.js';
import { allocationFrom, checkCount, SQN_MAX_SQL } from '../rows.js';
import { checkName } from '../validate.js';
import { query, transaction } from './postgres-db.js';

/** Advisory lock key (an arbitrary constant) of IND assignment; schema migration has LOCK_SCHEMA (schema.ts). */
const LOCK_IND = 0x696d_7365_6302;

/** The SQN side of {@link PostgresStore}: IND per peer, allocation (single and batched), resync. */
export class PostgresSqn {
  private readonly indCache = new Map<string, number>();
  private readonly indPending = new Map<string, Promise<number>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: { indBits: number; delta: number },
  ) {}

  async indForPeer(originHost: string): Promise<number> {
    const cached = this.indCache.get(originHost);
    if (cached !== undefined) return cached;
    checkName(originHost, 'originHost');
    // Concurrent first requests from one peer share one lookup.
    let pending = this.indPending.get(originHost);
    if (pending === undefined) {
      pending = this.lookupInd(originHost).finally(() => this.indPending.delete(originHost));
      this.indPending.set(originHost, pending);
    }
    return pending;
  }

  private async lookupInd(originHost: string): Promise<number> {
    let [row] = await query<{ ind: number }>(this.pool, 'SELECT ind FROM ind_assignment WHERE origin_host = $1', [originHost]);
    if (row === undefined) {
      row = await transaction(this.pool, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK_IND]);
        const all = await query<{ origin_host: string; ind: number }>(c, 'SELECT origin_host, ind FROM ind_assignment');
        const ind = indForNode(originHost, new Map(all.map((a) => [a.origin_host, a.ind])), this.opts.indBits);
        await c.query('INSERT INTO ind_assignment (origin_host, ind) VALUES ($1, $2) ON CONFLICT (origin_host) DO NOTHING', [originHost, ind]);
        return (await query<{ ind: number }>(c, 'SELECT ind FROM ind_assignment WHERE origin_host = $1', [originHost]))[0];
      });
    }
    this.indCache.set(originHost, row.ind);
    return row.ind;
  }

  /** A single `UPDATE … RETURNING` (one implicit transaction, row-locked): TS 33.102 C.1.1/C.1.2. */
  async allocateSqns(impi: string, originHost: string, count: number): Promise<SqnAllocation> {
    checkCount(count, 1);
    const ind = await this.indForPeer(originHost);
    const [row] = await query<{ seq_he: string; ind_bits: number; amf: number; k: Buffer; opc: Buffer }>(
      this.pool,
      `UPDATE subscriber SET seq_he = seq_he + $2 WHERE impi = $1 AND seq_he + $2 <= (${SQN_MAX_SQL}::bigint >> ind_bits)
       RETURNING seq_he, ind_bits, amf, k, opc`,
      [impi, count],
    );
    if (row === undefined) {
      if ((await query(this.pool, 'SELECT 1 FROM subscriber WHERE impi = $1', [impi])).length === 0) throw new NotFoundError('subscriber', impi);
      throw new SqnExhaustedError();
    }
    return allocationFrom(row, ind, count);
  }

  /**
   * Group commit in ONE statement: the counts of a batch are summed per IMPI, the rows are locked
   * in IMPI order first (concurrent batches from other processes then queue instead of
   * deadlocking), each row's SEQ_HE grows by its sum, and the requests get consecutive ranges in
   * request order. Unknown IMPIs and exhausted rows are simply not updated.
   */
  async allocateSqnsMany(requests: readonly SqnRequest[]): Promise<(SqnAllocation | Error)[]> {
    const out = new Array<SqnAllocation | Error | undefined>(requests.length);
    const totals = new Map<string, number>();
    const inds = new Map<string, number>();
    for (const [i, r] of requests.entries()) {
      try {
        checkCount(r.count, 1);
        if (!inds.has(r.originHost)) inds.set(r.originHost, await this.indForPeer(r.originHost));
        totals.set(r.impi, (totals.get(r.impi) ?? 0) + r.count);
      } catch (err) {
        if (!(err instanceof ImsError)) throw err;
        out[i] = err;
      }
    }
    const impis = [...totals.keys()].sort();
    if (impis.length === 0) return out as (SqnAllocation | Error)[];
    const rows = await query<{ impi: string; seq_he: string; ind_bits: number; amf: number; k: Buffer; opc: Buffer }>(
      this.pool,
      `WITH req AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS r(impi, n)),
            locked AS (SELECT s.impi FROM subscriber s JOIN req ON req.impi = s.impi ORDER BY s.impi FOR UPDATE OF s)
       UPDATE subscriber s SET seq_he = s.seq_he + req.n FROM req, locked
        WHERE s.impi = req.impi AND locked.impi = s.impi AND s.seq_he + req.n <= (${SQN_MAX_SQL}::bigint >> s.ind_bits)
        RETURNING s.impi, s.seq_he, s.ind_bits, s.amf, s.k, s.opc`,
      [impis, impis.map((i) => totals.get(i))],
    );
    const byImpi = new Map(rows.map((r) => [r.impi, r]));
    const missing = impis.filter((i) => !byImpi.has(i));
    const known = new Set(missing.length === 0 ? [] : (await query<{ impi: string }>(this.pool, 'SELECT impi FROM subscriber WHERE impi = ANY($1)', [missing])).map((r) => r.impi));
    const next = new Map<string, number>();
    for (const [i, r] of requests.entries()) {
      if (out[i] !== undefined) continue;
      const row = byImpi.get(r.impi);
      if (row === undefined) {
        out[i] = known.has(r.impi) ? new SqnExhaustedError() : new NotFoundError('subscriber', r.impi);
        continue;
      }
      const from = next.get(r.impi) ?? Number(row.seq_he) - (totals.get(r.impi) as number);
      next.set(r.impi, from + r.count);
      out[i] = allocationFrom({ ...row, seq_he: from + r.count }, inds.get(r.originHost) as number, r.count);
    }
    return out as (SqnAllocation | Error)[];
  }

  async resync(impi: string, req: ResyncRequest): Promise<ResyncResult> {
    checkCount(req.count, 0);
    const ind = await this.indForPeer(req.originHost);
    return transaction(this.pool, async (c): Promise<ResyncResult> => {
      const [row] = await query<{ seq_he: string; ind_bits: number; amf: number; k: Buffer; opc: Buffer }>(
        c,
        'SELECT seq_he, ind_bits, amf, k, opc FROM subscriber WHERE impi = $1 FOR UPDATE',
        [impi],
      );
      if (row === undefined) throw new NotFoundError('subscriber', impi);
      const check = req.verify({ k: new Uint8Array(row.k), opc: new Uint8Array(row.opc), amf: row.amf });
      if (!check.ok) return { ok: false };
      const previousSeqHe = Number(row.seq_he);
      const seqHe = resyncHe({ seqHe: previousSeqHe }, check.sqnMs, { indBits: row.ind_bits, delta: this.opts.delta }).seqHe;
      const updated = await query(c, `UPDATE subscriber SET seq_he = $2 WHERE impi = $1 AND $2::bigint <= (${SQN_MAX_SQL}::bigint >> ind_bits) RETURNING impi`, [
        impi, seqHe + req.count,
      ]);
      if (updated.length === 0) throw new SqnExhaustedError();
      return { ok: true, sqnMs: check.sqnMs, previousSeqHe, seqHe, allocation: allocationFrom({ ...row, seq_he: seqHe + req.count }, ind, req.count) };
    });
  }
}
