/**
 * The HSS store on PostgreSQL (node-postgres pool), chosen by a `postgres://` URL.
 *
 * Several HSS processes may share one database. SQN allocation is a single
 * `UPDATE subscriber SET seq_he = seq_he + $n … RETURNING`: the row lock it takes makes
 * concurrent allocations for one subscriber queue up, and each sees the SEQ_HE the previous
 * one committed (READ COMMITTED re-reads a row updated under it), so no SQN is issued twice
 * (R-AKA-3). Multi-statement changes run in a transaction that locks the rows it reads
 * (`SELECT … FOR UPDATE`); schema migrations and new IND assignments take an advisory lock.
 *
 * Durability is PostgreSQL's: a COMMIT returns after the WAL is flushed (with the server's
 * default `synchronous_commit = on`, `fsync = on`).
 */
import pg from 'pg';
import { ImsError } from '../../common/index.js';
import { DEFAULT_SQN_CONFIG } from '../../auth/index.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type {
  HssStore, IdentityMatch, ImplicitSet, ListOptions, NewSubscriber, PublicIdentity, RegistrationSnapshot, RegistrationState,
  RegistrationUpdate, ResyncRequest, ResyncResult, SqnAllocation, SqnRequest, Subscriber, SubscriberPatch,
} from '../hss-store.js';
import { checkMigrationList, MIGRATIONS, type Migration } from '../migrations.js';
import {
  applyRegistration, checkRegistrationUpdate, checkSnapshots, listLimit, restoreRow, revertRegistration,
  snapshotOf, toImpu, toSubscriber, type ImpuRow, type RegistrationRow, type SetRow, type SubscriberRow,
} from '../rows.js';
import { checkName, validateNewSubscriber, validatePatch } from '../validate.js';
import { conflictFrom, query, transaction, wrap, type Db } from './postgres-db.js';
import { PostgresSqn } from './postgres-sqn.js';
import { applyPostgresMigrations } from './schema.js';

export interface PostgresStoreOptions {
  /** Pool size (default 10). */
  max?: number;
  /** IND length used to number new peers in `ind_assignment` (default 5, TS 33.102 C.1.1.2). */
  indBits?: number;
  /** Δ for resynchronisation (TS 33.102 C.2.1; default 2^28). */
  delta?: number;
  /** The migration list (tests only; defaults to {@link MIGRATIONS}). */
  migrations?: readonly Migration[];
}


/** One statement reads a subscriber with its IMPUs and sets (one snapshot, one round trip). */
const SUBSCRIBER_SQL = `
  SELECT s.impi, s.amf, s.seq_he, s.ind_bits, s.auth_schemes, s.service_profile,
    (SELECT COALESCE(json_agg(i), '[]'::json) FROM impu i WHERE i.impi = s.impi) AS impus,
    (SELECT COALESCE(json_agg(x), '[]'::json) FROM implicit_set x WHERE x.impi = s.impi) AS sets
  FROM subscriber s`;

type FullRow = SubscriberRow & { impus: ImpuRow[]; sets: SetRow[] };

export class PostgresStore implements HssStore {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly sqn: PostgresSqn;

  private constructor(url: string, opts: PostgresStoreOptions) {
    this.pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, application_name: 'imsec-hss' });
    this.sqn = new PostgresSqn(this.pool, { indBits: opts.indBits ?? DEFAULT_SQN_CONFIG.indBits, delta: opts.delta ?? DEFAULT_SQN_CONFIG.delta });
    // An idle client losing its connection must not crash the process; the next query reports it.
    this.pool.on('error', () => {});
  }

  /** Connects and applies missing migrations. The URL is never put in an error (it may hold a password). */
  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const store = new PostgresStore(url, opts);
    try {
      await store.migrate(opts.migrations ?? MIGRATIONS);
    } catch (err) {
      await store.pool.end().catch(() => {});
      throw err;
    }
    return store;
  }

  private async migrate(list: readonly Migration[]): Promise<void> {
    checkMigrationList(list);
    await this.tx((c) => applyPostgresMigrations(c, list));
  }

  private q<R extends pg.QueryResultRow>(db: Db, sql: string, params: unknown[] = []): Promise<R[]> {
    return query<R>(db, sql, params);
  }

  private tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return transaction(this.pool, fn);
  }

  // --- reading ---------------------------------------------------------------------------------

  private async load(db: Db, impi: string): Promise<Subscriber | null> {
    const [r] = await this.q<FullRow>(db, `${SUBSCRIBER_SQL} WHERE s.impi = $1`, [impi]);
    return r === undefined ? null : toSubscriber(r, r.impus, r.sets);
  }

  private async impuRow(db: Db, impu: string): Promise<ImpuRow | undefined> {
    return (await this.q<ImpuRow>(db, 'SELECT * FROM impu WHERE impu = $1', [impu]))[0];
  }

  /** The rows of the implicit set of `impu`, locked for update: one round trip (issue [K]). */
  private async lockSet(c: pg.PoolClient, impu: string): Promise<ImpuRow[]> {
    const rows = await this.q<ImpuRow>(c, 'SELECT * FROM impu WHERE (impi, irs) = (SELECT impi, irs FROM impu WHERE impu = $1) ORDER BY position FOR UPDATE', [impu]);
    if (rows.length === 0) throw new NotFoundError('impu', impu);
    return rows;
  }

  private async writeRegistration(c: pg.PoolClient, rows: readonly RegistrationRow[]): Promise<void> {
    for (const r of rows) {
      await this.q(c, 'UPDATE impu SET reg_state = $1, scscf_name = $2, pending_prev_state = $3, pending_prev_scscf = $4 WHERE impu = $5', [
        r.reg_state, r.scscf_name, r.pending_prev_state, r.pending_prev_scscf, r.impu,
      ]);
    }
  }

  // --- provisioning ----------------------------------------------------------------------------

  private async insert(c: pg.PoolClient, s: NewSubscriber, index?: number): Promise<void> {
    validateNewSubscriber(s);
    if ((await this.q(c, 'SELECT 1 FROM subscriber WHERE impi = $1', [s.impi])).length > 0) throw new ConflictError('impi', s.impi, index);
    const taken = await this.q<{ impu: string }>(c, 'SELECT impu FROM impu WHERE impu = ANY($1::text[])', [s.impus.map((u) => u.impu)]);
    if (taken.length > 0) throw new ConflictError('impu', taken[0].impu, index);
    try {
      await c.query('INSERT INTO subscriber (impi, k, opc, amf, seq_he, ind_bits, auth_schemes, service_profile) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
        s.impi, Buffer.from(s.k), Buffer.from(s.opc), s.amf, s.seqHe, s.indBits, s.authSchemes.join(','), s.serviceProfile,
      ]);
      await this.writeSets(c, s.impi, s.impus.map((u) => u.irs), s.implicitSets);
      await c.query(
        `INSERT INTO impu (impu, impi, irs, position, barred, pseudonym, is_default)
         SELECT u.impu, $1, u.irs, u.pos - 1, u.barred, u.pseudonym, u.is_default
         FROM unnest($2::text[], $3::int[], $4::bool[], $5::bool[], $6::bool[]) WITH ORDINALITY AS u(impu, irs, barred, pseudonym, is_default, pos)`,
        [s.impi, s.impus.map((u) => u.impu), s.impus.map((u) => u.irs), s.impus.map((u) => u.barred), s.impus.map((u) => u.pseudonym), s.impus.map((u) => u.isDefault)],
      );
    } catch (err) {
      throw conflictFrom(err, index) ?? wrap(err);
    }
  }

  private async writeSets(c: pg.PoolClient, impi: string, used: readonly number[], profiles: NewSubscriber['implicitSets'] | undefined): Promise<void> {
    for (const irs of new Set(used)) {
      if (profiles === undefined) {
        await c.query('INSERT INTO implicit_set (impi, irs) VALUES ($1, $2) ON CONFLICT (impi, irs) DO NOTHING', [impi, irs]);
      } else {
        await c.query('INSERT INTO implicit_set (impi, irs, service_profile) VALUES ($1, $2, $3) ON CONFLICT (impi, irs) DO UPDATE SET service_profile = excluded.service_profile', [
          impi, irs, profiles.find((p) => p.irs === irs)?.serviceProfile ?? null,
        ]);
      }
    }
  }

  async createSubscriber(s: NewSubscriber): Promise<Subscriber> {
    return this.tx(async (c) => {
      await this.insert(c, s);
      return (await this.load(c, s.impi))!;
    });
  }

  /**
   * Bulk path: everything validated and checked for clashes up front (inside the list and against
   * the table), then inserted with one `unnest` statement per table per chunk of 1000.
   */
  async createSubscribers(list: readonly NewSubscriber[], onProgress?: (done: number, total: number) => void): Promise<number> {
    const impiAt = new Map<string, number>();
    const impuAt = new Map<string, number>();
    list.forEach((s, i) => {
      validateNewSubscriber(s);
      if (impiAt.has(s.impi)) throw new ConflictError('impi', s.impi, i);
      impiAt.set(s.impi, i);
      for (const u of s.impus) {
        if (impuAt.has(u.impu)) throw new ConflictError('impu', u.impu, i);
        impuAt.set(u.impu, i);
      }
    });
    return this.tx(async (c) => {
      const firstClash = async (sql: string, at: Map<string, number>, field: 'impi' | 'impu'): Promise<void> => {
        const rows = await this.q<{ v: string }>(c, sql, [[...at.keys()]]);
        if (rows.length === 0) return;
        const hit = rows.map((r) => ({ v: r.v, i: at.get(r.v)! })).sort((a, b) => a.i - b.i)[0];
        throw new ConflictError(field, hit.v, hit.i);
      };
      await firstClash('SELECT impi AS v FROM subscriber WHERE impi = ANY($1::text[])', impiAt, 'impi');
      await firstClash('SELECT impu AS v FROM impu WHERE impu = ANY($1::text[])', impuAt, 'impu');
      const CHUNK = 1000;
      for (let from = 0; from < list.length; from += CHUNK) {
        const chunk = list.slice(from, from + CHUNK);
        const sets = chunk.flatMap((s) => [...new Set(s.impus.map((u) => u.irs))].map((irs) => ({ impi: s.impi, irs, profile: s.implicitSets.find((x) => x.irs === irs)?.serviceProfile ?? null })));
        const impus = chunk.flatMap((s) => s.impus.map((u, pos) => ({ ...u, impi: s.impi, pos })));
        try {
          await c.query(
            `INSERT INTO subscriber (impi, k, opc, amf, seq_he, ind_bits, auth_schemes, service_profile)
             SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::int[], $5::bigint[], $6::int[], $7::text[], $8::text[])`,
            [
              chunk.map((s) => s.impi), chunk.map((s) => Buffer.from(s.k)), chunk.map((s) => Buffer.from(s.opc)), chunk.map((s) => s.amf),
              chunk.map((s) => s.seqHe), chunk.map((s) => s.indBits), chunk.map((s) => s.authSchemes.join(',')), chunk.map((s) => s.serviceProfile),
            ],
          );
          await c.query('INSERT INTO implicit_set (impi, irs, service_profile) SELECT * FROM unnest($1::text[], $2::int[], $3::text[])', [
            sets.map((x) => x.impi), sets.map((x) => x.irs), sets.map((x) => x.profile),
          ]);
          await c.query(
            `INSERT INTO impu (impu, impi, irs, position, barred, pseudonym, is_default)
             SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::bool[], $6::bool[], $7::bool[])`,
            [impus.map((u) => u.impu), impus.map((u) => u.impi), impus.map((u) => u.irs), impus.map((u) => u.pos), impus.map((u) => u.barred), impus.map((u) => u.pseudonym), impus.map((u) => u.isDefault)],
          );
        } catch (err) {
          // Another writer inserted the same identity after the checks above.
          const clash = conflictFrom(err);
          if (clash !== undefined) throw new ConflictError(clash.field, clash.value, (clash.field === 'impi' ? impiAt : impuAt).get(clash.value));
          throw err;
        }
        onProgress?.(from + chunk.length, list.length);
      }
      return list.length;
    });
  }

  async updateSubscriber(impi: string, patch: SubscriberPatch): Promise<Subscriber> {
    return this.tx(async (c) => {
      await this.q(c, 'SELECT 1 FROM subscriber WHERE impi = $1 FOR UPDATE', [impi]);
      const cur = await this.load(c, impi);
      if (cur === null) throw new NotFoundError('subscriber', impi);
      validatePatch(patch, cur);
      const set: [string, unknown][] = [];
      if (patch.k !== undefined && patch.opc !== undefined) set.push(['k', Buffer.from(patch.k)], ['opc', Buffer.from(patch.opc)]);
      if (patch.amf !== undefined) set.push(['amf', patch.amf]);
      if (patch.seqHe !== undefined) set.push(['seq_he', patch.seqHe]);
      if (patch.indBits !== undefined) set.push(['ind_bits', patch.indBits]);
      if (patch.authSchemes !== undefined) set.push(['auth_schemes', patch.authSchemes.join(',')]);
      if (patch.serviceProfile !== undefined) set.push(['service_profile', patch.serviceProfile]);
      if (set.length > 0) {
        await this.q(c, `UPDATE subscriber SET ${set.map(([col], i) => `${col} = $${i + 1}`).join(', ')} WHERE impi = $${set.length + 1}`, [...set.map(([, v]) => v), impi]);
      }
      if (patch.impus !== undefined || patch.implicitSets !== undefined) {
        const impus = patch.impus ?? cur.impus;
        const owners = await this.q<{ impu: string; impi: string }>(c, 'SELECT impu, impi FROM impu WHERE impu = ANY($1::text[])', [impus.map((u) => u.impu)]);
        const foreign = owners.find((o) => o.impi !== impi);
        if (foreign !== undefined) throw new ConflictError('impu', foreign.impu);
        await this.writeSets(c, impi, impus.map((u) => u.irs), patch.implicitSets);
        await this.q(c, 'DELETE FROM impu WHERE impi = $1 AND NOT (impu = ANY($2::text[]))', [impi, impus.map((u) => u.impu)]);
        for (let i = 0; i < impus.length; i++) {
          const u = impus[i];
          try {
            await c.query(
              `INSERT INTO impu (impu, impi, irs, position, barred, pseudonym, is_default) VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (impu) DO UPDATE SET irs = excluded.irs, position = excluded.position, barred = excluded.barred,
                 pseudonym = excluded.pseudonym, is_default = excluded.is_default`,
              [u.impu, impi, u.irs, i, u.barred, u.pseudonym, u.isDefault],
            );
          } catch (err) {
            throw conflictFrom(err) ?? wrap(err);
          }
        }
        await this.q(c, 'DELETE FROM implicit_set WHERE impi = $1 AND irs NOT IN (SELECT irs FROM impu WHERE impi = $1)', [impi]);
      }
      return (await this.load(c, impi))!;
    });
  }

  async deleteSubscriber(impi: string): Promise<boolean> {
    return this.tx(async (c) => {
      await this.q(c, 'DELETE FROM impu WHERE impi = $1', [impi]);
      return (await this.q(c, 'DELETE FROM subscriber WHERE impi = $1 RETURNING impi', [impi])).length > 0;
    });
  }

  async listSubscribers(opts: ListOptions = {}): Promise<Subscriber[]> {
    const limit = listLimit(opts.limit);
    const rows = await this.q<FullRow>(this.pool, `${SUBSCRIBER_SQL} WHERE s.impi COLLATE "C" > $1 ORDER BY s.impi COLLATE "C" LIMIT $2`, [opts.after ?? '', limit]);
    return rows.map((r) => toSubscriber(r, r.impus, r.sets));
  }

  async countSubscribers(): Promise<number> {
    return Number((await this.q<{ n: string }>(this.pool, 'SELECT COUNT(*) AS n FROM subscriber'))[0].n);
  }

  // --- lookups ----------------------------------------------------------------------------------

  async getSubscriber(impi: string): Promise<Subscriber | null> {
    return this.load(this.pool, impi);
  }

  async getPublicIdentity(impu: string): Promise<PublicIdentity | null> {
    const r = await this.impuRow(this.pool, impu);
    return r === undefined ? null : toImpu(r);
  }

  async matchIdentities(impi: string, impu: string): Promise<IdentityMatch> {
    const [r] = await this.q<{ owner: string | null; known: boolean }>(
      this.pool,
      'SELECT (SELECT impi FROM impu WHERE impu = $2) AS owner, EXISTS (SELECT 1 FROM subscriber WHERE impi = $1) AS known',
      [impi, impu],
    );
    if (r.owner === null || !r.known) return 'USER_UNKNOWN';
    return r.owner === impi ? 'MATCH' : 'IDENTITIES_DONT_MATCH';
  }

  async getImplicitSet(impu: string): Promise<ImplicitSet | null> {
    const [r] = await this.q<{ impi: string; irs: number; profile: string | null; impus: ImpuRow[] }>(
      this.pool,
      `SELECT i.impi, i.irs, COALESCE(x.service_profile, s.service_profile) AS profile,
         (SELECT json_agg(m ORDER BY m.position) FROM impu m WHERE m.impi = i.impi AND m.irs = i.irs) AS impus
       FROM impu i JOIN subscriber s ON s.impi = i.impi LEFT JOIN implicit_set x ON x.impi = i.impi AND x.irs = i.irs
       WHERE i.impu = $1`,
      [impu],
    );
    return r === undefined ? null : { impi: r.impi, irs: Number(r.irs), serviceProfile: r.profile, impus: r.impus.map(toImpu) };
  }

  // --- registration state -----------------------------------------------------------------------

  async setRegistration(impu: string, update: RegistrationUpdate): Promise<RegistrationSnapshot[]> {
    checkRegistrationUpdate(update);
    return this.tx(async (c) => {
      const rows = await this.lockSet(c, impu);
      await this.writeRegistration(c, rows.map((r) => applyRegistration(r, update)));
      return rows.map(snapshotOf);
    });
  }

  /**
   * The group commit of {@link setRegistration}: four round trips for the whole batch (BEGIN, the
   * rows of every set named, locked, one UPDATE of every row changed, COMMIT) instead of four per
   * update. The rows are locked in one order, (impi, irs, position), whatever order the updates
   * name them in, so two HSS processes committing batches at once wait for each other instead of
   * deadlocking. The updates apply in order, each to the rows as the ones before it left them.
   */
  async setRegistrationsMany(updates: readonly { impu: string; update: RegistrationUpdate }[]): Promise<(RegistrationSnapshot[] | Error)[]> {
    return this.tx(async (c) => {
      const locked = await this.q<ImpuRow>(
        c,
        'SELECT * FROM impu WHERE (impi, irs) IN (SELECT impi, irs FROM impu WHERE impu = ANY($1::text[])) ORDER BY impi, irs, position FOR UPDATE',
        [[...new Set(updates.map((u) => u.impu))]],
      );
      // Each set's rows (in order: the lock's ORDER BY), current as the batch goes, under every IMPU of the set.
      const sets = new Map<string, ImpuRow[]>();
      const setOf = new Map<string, ImpuRow[]>();
      for (const r of locked) {
        const key = `${r.impi}\u0000${r.irs}`;
        let rows = sets.get(key);
        if (rows === undefined) sets.set(key, (rows = []));
        rows.push(r);
        setOf.set(r.impu, rows);
      }
      const changed = new Map<string, RegistrationRow>();
      const out = updates.map((u): RegistrationSnapshot[] | Error => {
        // An update that fails does so before it writes (its check, then its rows' lookup), as alone.
        try {
          checkRegistrationUpdate(u.update);
        } catch (err) {
          if (err instanceof ImsError) return err;
          throw err;
        }
        const rows = setOf.get(u.impu);
        if (rows === undefined) return new NotFoundError('impu', u.impu);
        const before = rows.map(snapshotOf);
        rows.forEach((r, i) => {
          const after = applyRegistration(r, u.update);
          rows[i] = { ...r, ...after };
          changed.set(r.impu, after);
        });
        return before;
      });
      if (changed.size > 0) {
        const rows = [...changed.values()];
        await this.q(
          c,
          `UPDATE impu AS i SET reg_state = v.reg_state, scscf_name = v.scscf_name, pending_prev_state = v.pps, pending_prev_scscf = v.ppsc
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS v(impu, reg_state, scscf_name, pps, ppsc) WHERE i.impu = v.impu`,
          [rows.map((r) => r.impu), rows.map((r) => r.reg_state), rows.map((r) => r.scscf_name), rows.map((r) => r.pending_prev_state), rows.map((r) => r.pending_prev_scscf)],
        );
      }
      return out;
    });
  }

  async restoreRegistration(snapshots: readonly RegistrationSnapshot[]): Promise<void> {
    checkSnapshots(snapshots);
    return this.tx(async (c) => {
      for (const s of snapshots) if ((await this.impuRow(c, s.impu)) === undefined) throw new NotFoundError('impu', s.impu);
      await this.writeRegistration(c, snapshots.map(restoreRow));
    });
  }

  async revertPending(impu: string): Promise<RegistrationSnapshot[]> {
    return this.tx(async (c) => {
      const after = (await this.lockSet(c, impu)).map(revertRegistration);
      await this.writeRegistration(c, after);
      return after.map(snapshotOf);
    });
  }

  async setScscfName(impu: string, scscfName: string | null): Promise<RegistrationSnapshot[]> {
    if (scscfName !== null) checkName(scscfName, 'scscfName');
    return this.tx(async (c) => {
      const rows = await this.lockSet(c, impu);
      await this.q(c, 'UPDATE impu SET scscf_name = $1 WHERE impi = $2 AND irs = $3', [scscfName, rows[0].impi, rows[0].irs]);
      return rows.map(snapshotOf);
    });
  }

  async listServedImpus(scscfName: string, states: readonly RegistrationState[] = ['REGISTERED']): Promise<PublicIdentity[]> {
    const rows = await this.q<ImpuRow>(this.pool, 'SELECT * FROM impu WHERE scscf_name = $1 AND reg_state = ANY($2::text[]) ORDER BY impu COLLATE "C"', [scscfName, [...states]]);
    return rows.map(toImpu);
  }

  // --- SQN (postgres-sqn.ts) ---------------------------------------------------------------------

  indForPeer(originHost: string): Promise<number> {
    return this.sqn.indForPeer(originHost);
  }

  allocateSqns(impi: string, originHost: string, count: number): Promise<SqnAllocation> {
    return this.sqn.allocateSqns(impi, originHost, count);
  }

  allocateSqnsMany(requests: readonly SqnRequest[]): Promise<(SqnAllocation | Error)[]> {
    return this.sqn.allocateSqnsMany(requests);
  }

  resync(impi: string, req: ResyncRequest): Promise<ResyncResult> {
    return this.sqn.resync(impi, req);
  }

  async schemaVersion(): Promise<number> {
    return Number((await this.q<{ v: number }>(this.pool, 'SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations'))[0].v);
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}
