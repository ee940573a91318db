/**
 * The PostgreSQL store's driver edge: one query, one transaction on a pooled connection, and the
 * driver's errors turned into the store's typed ones.
 */
import type pg from 'pg';
import { ImsError } from '../../common/index.js';
import { ConflictError, StoreError } from '../errors.js';

/** The pool, or one of its connections inside a transaction. */
export type Db = pg.Pool | pg.PoolClient;

/** The rows of one statement; errors wrapped. */
export async function query<R extends pg.QueryResultRow>(db: Db, sql: string, params: unknown[] = []): Promise<R[]> {
  try {
    return (await db.query<R>(sql, params)).rows;
  } catch (err) {
    throw wrap(err);
  }
}

/** One transaction on one pooled connection; ROLLBACK on any throw. */
export async function transaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  let c: pg.PoolClient;
  try {
    c = await pool.connect();
  } catch (err) {
    throw wrap(err);
  }
  let broken: Error | undefined;
  try {
    await c.query('BEGIN');
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (err) {
    await c.query('ROLLBACK').catch((e: Error) => {
      broken = e;
    });
    throw wrap(err);
  } finally {
    c.release(broken);
  }
}

/** Our typed errors pass through; anything else came from the driver or the server. */
export function wrap(err: unknown): Error {
  if (err instanceof ImsError) return err;
  return new StoreError(`postgres: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/** A unique violation (SQLSTATE 23505) on an identity, as a ConflictError (a race with another writer). */
export function conflictFrom(err: unknown, index?: number): ConflictError | undefined {
  const e = err as { code?: string; constraint?: string; detail?: string };
  if (e?.code !== '23505') return undefined;
  const value = /\)=\((.*)\) already exists/.exec(e.detail ?? '')?.[1] ?? '';
  if (e.constraint === 'subscriber_pkey') return new ConflictError('impi', value, index);
  if (e.constraint === 'impu_pkey') return new ConflictError('impu', value, index);
  return undefined;
}
