/**
 * The embedded HSS store: one SQLite file through better-sqlite3, in WAL mode.
 *
 * Durability: with `journal_mode=WAL`, `synchronous=NORMAL` (the default here) makes every
 * committed transaction survive a crash of the process (kill -9 at any moment): the commit is
 * in the WAL in the OS page cache before the call returns, and SQLite replays it at the next
 * open. It does not survive a power loss or kernel crash. `synchronous: 'FULL'` fsyncs the WAL
 * at each commit and survives those too, at the cost of one fsync per SQN allocation.
 *
 * Several processes may share the file: every write is a `BEGIN IMMEDIATE` transaction (the
 * write lock is taken first, so a read-modify-write cannot interleave) and `busy_timeout`
 * makes a second writer wait instead of failing. better-sqlite3 is synchronous, so within one
 * process each method runs to completion before the next begins.
 */
import Database from 'better-sqlite3';
import { ImsError } from '../../common/index.js';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DEFAULT_SQN_CONFIG, indForNode, resyncHe, SqnExhaustedError } from '../../auth/index.js';
import { ConflictError, NotFoundError, SchemaVersionError, StoreError } from '../errors.js';
import type {
  HssStore, IdentityMatch, ImplicitSet, ListOptions, NewSubscriber, PublicIdentity, RegistrationSnapshot, RegistrationState,
  RegistrationUpdate, ResyncRequest, ResyncResult, SqnAllocation, SqnRequest, Subscriber, SubscriberPatch,
} from '../hss-store.js';
import { MIGRATIONS, type Migration } from '../migrations.js';
import {
  allocationFrom, applyRegistration, checkCount, checkRegistrationUpdate, checkSnapshots, listLimit, restoreRow, revertRegistration, snapshotOf, SQN_MAX_SQL, toImpu, toSubscriber,
  type ImpuRow, type RegistrationRow, type SetRow, type SubscriberRow,
} from '../rows.js';
import { checkName, validateNewSubscriber, validatePatch } from '../validate.js';
import { setUpSqlite } from './schema.js';

export interface SqliteStoreOptions {
  /** `NORMAL` (default: durable against process crashes in WAL mode) or `FULL` (also against power loss). */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a writer waits for another process's lock, ms (default 5000). */
  busyTimeoutMs?: number;
  /** IND length used to number new peers in `ind_assignment` (default 5, TS 33.102 C.1.1.2). */
  indBits?: number;
  /** Δ for resynchronisation (TS 33.102 C.2.1; default 2^28). */
  delta?: number;
  /** The migration list (tests only; defaults to {@link MIGRATIONS}). */
  migrations?: readonly Migration[];
}

type Row = Record<string, unknown>;

export class SqliteStore implements HssStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly indBits: number;
  private readonly delta: number;
  private readonly indCache = new Map<string, number>();
  private readonly stmts = new Map<string, Database.Statement>();

  /** Opens (creating if needed, with mode 0600 since it holds K and OPc) and migrates `path`. */
  constructor(
    readonly path: string,
    opts: SqliteStoreOptions = {},
  ) {
    this.indBits = opts.indBits ?? DEFAULT_SQN_CONFIG.indBits;
    this.delta = opts.delta ?? DEFAULT_SQN_CONFIG.delta;
    try {
      if (path !== ':memory:' && !existsSync(path)) {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        closeSync(openSync(path, 'a', 0o600));
      }
      this.db = new Database(path, { timeout: opts.busyTimeoutMs ?? 5000 });
    } catch (err) {
      throw new StoreError(`sqlite: cannot open ${path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      setUpSqlite(this.db, opts.synchronous, opts.migrations ?? MIGRATIONS);
    } catch (err) {
      this.db.close();
      if (err instanceof SchemaVersionError) throw err;
      throw new StoreError(`sqlite: cannot prepare ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  private st(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /** Run `fn` as one BEGIN IMMEDIATE transaction; typed errors pass through, driver errors become StoreError. */
  private tx<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw wrap(err);
    }
  }

  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw wrap(err);
    }
  }

  // --- reading ---------------------------------------------------------------------------------

  private subscriberRow(impi: string): SubscriberRow | undefined {
    return this.st('SELECT impi, amf, seq_he, ind_bits, auth_schemes, service_profile FROM subscriber WHERE impi = ?').get(impi) as SubscriberRow | undefined;
  }

  private loadSubscriber(impi: string): Subscriber | null {
    const s = this.subscriberRow(impi);
    if (s === undefined) return null;
    const impus = this.st('SELECT * FROM impu WHERE impi = ?').all(impi) as ImpuRow[];
    const sets = this.st('SELECT * FROM implicit_set WHERE impi = ?').all(impi) as SetRow[];
    return toSubscriber(s, impus, sets);
  }

  private impuRow(impu: string): ImpuRow | undefined {
    return this.st('SELECT * FROM impu WHERE impu = ?').get(impu) as ImpuRow | undefined;
  }

  /** The rows of the implicit set of `impu`, in order (none for an unknown IMPU), in one statement. */
  private setRowsOf(impu: string): ImpuRow[] {
    return this.st('SELECT * FROM impu WHERE (impi, irs) = (SELECT impi, irs FROM impu WHERE impu = ?) ORDER BY position').all(impu) as ImpuRow[];
  }

  private setRows(impu: string): ImpuRow[] {
    const rows = this.setRowsOf(impu);
    if (rows.length === 0) throw new NotFoundError('impu', impu);
    return rows;
  }

  private writeRegistration(rows: readonly RegistrationRow[]): void {
    const upd = this.st('UPDATE impu SET reg_state = ?, scscf_name = ?, pending_prev_state = ?, pending_prev_scscf = ? WHERE impu = ?');
    for (const r of rows) upd.run(r.reg_state, r.scscf_name, r.pending_prev_state, r.pending_prev_scscf, r.impu);
  }

  // --- provisioning ----------------------------------------------------------------------------

  private insert(s: NewSubscriber, index?: number): void {
    validateNewSubscriber(s);
    if (this.subscriberRow(s.impi) !== undefined) throw new ConflictError('impi', s.impi, index);
    for (const u of s.impus) if (this.impuRow(u.impu) !== undefined) throw new ConflictError('impu', u.impu, index);
    this.st('INSERT INTO subscriber (impi, k, opc, amf, seq_he, ind_bits, auth_schemes, service_profile) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
      s.impi, Buffer.from(s.k), Buffer.from(s.opc), s.amf, s.seqHe, s.indBits, s.authSchemes.join(','), s.serviceProfile,
    );
    this.writeSets(s.impi, s.impus.map((u) => u.irs), s.implicitSets);
    const ins = this.st('INSERT INTO impu (impu, impi, irs, position, barred, pseudonym, is_default) VALUES (?, ?, ?, ?, ?, ?, ?)');
    s.impus.forEach((u, i) => ins.run(u.impu, s.impi, u.irs, i, +u.barred, +u.pseudonym, +u.isDefault));
  }

  /** Ensure a row per used set and write the per-set profiles (null for sets not listed). */
  private writeSets(impi: string, used: readonly number[], profiles: NewSubscriber['implicitSets'] | undefined): void {
    const up = this.st('INSERT INTO implicit_set (impi, irs, service_profile) VALUES (?, ?, ?) ON CONFLICT (impi, irs) DO UPDATE SET service_profile = excluded.service_profile');
    const keep = this.st('INSERT INTO implicit_set (impi, irs, service_profile) VALUES (?, ?, NULL) ON CONFLICT (impi, irs) DO NOTHING');
    for (const irs of new Set(used)) {
      if (profiles === undefined) keep.run(impi, irs);
      else up.run(impi, irs, profiles.find((p) => p.irs === irs)?.serviceProfile ?? null);
    }
  }

  async createSubscriber(s: NewSubscriber): Promise<Subscriber> {
    return this.tx(() => {
      this.insert(s);
      return this.loadSubscriber(s.impi)!;
    });
  }

  async createSubscribers(list: readonly NewSubscriber[], onProgress?: (done: number, total: number) => void): Promise<number> {
    return this.tx(() => {
      list.forEach((s, i) => {
        this.insert(s, i);
        onProgress?.(i + 1, list.length);
      });
      return list.length;
    });
  }

  async updateSubscriber(impi: string, patch: SubscriberPatch): Promise<Subscriber> {
    return this.tx(() => {
      const cur = this.loadSubscriber(impi);
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
        this.db.prepare(`UPDATE subscriber SET ${set.map(([c]) => `${c} = ?`).join(', ')} WHERE impi = ?`).run(...set.map(([, v]) => v), impi);
      }
      if (patch.impus !== undefined || patch.implicitSets !== undefined) {
        const impus = patch.impus ?? cur.impus;
        for (const u of impus) {
          const owner = this.impuRow(u.impu)?.impi;
          if (owner !== undefined && owner !== impi) throw new ConflictError('impu', u.impu);
        }
        this.writeSets(impi, impus.map((u) => u.irs), patch.implicitSets);
        const keep = new Set(impus.map((u) => u.impu));
        for (const old of cur.impus) if (!keep.has(old.impu)) this.st('DELETE FROM impu WHERE impu = ?').run(old.impu);
        const upsert = this.st(
          `INSERT INTO impu (impu, impi, irs, position, barred, pseudonym, is_default) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (impu) DO UPDATE SET irs = excluded.irs, position = excluded.position, barred = excluded.barred,
             pseudonym = excluded.pseudonym, is_default = excluded.is_default`,
        );
        impus.forEach((u, i) => upsert.run(u.impu, impi, u.irs, i, +u.barred, +u.pseudonym, +u.isDefault));
        this.st('DELETE FROM implicit_set WHERE impi = ? AND irs NOT IN (SELECT irs FROM impu WHERE impi = ?)').run(impi, impi);
      }
      return this.loadSubscriber(impi)!;
    });
  }

  async deleteSubscriber(impi: string): Promise<boolean> {
    return this.tx(() => {
      this.st('DELETE FROM impu WHERE impi = ?').run(impi);
      return this.st('DELETE FROM subscriber WHERE impi = ?').run(impi).changes > 0;
    });
  }

  async listSubscribers(opts: ListOptions = {}): Promise<Subscriber[]> {
    const limit = listLimit(opts.limit);
    return this.read(() => {
      const rows = this.st('SELECT impi FROM subscriber WHERE impi > ? ORDER BY impi LIMIT ?').all(opts.after ?? '', limit) as { impi: string }[];
      return rows.map((r) => this.loadSubscriber(r.impi)!);
    });
  }

  async countSubscribers(): Promise<number> {
    return this.read(() => (this.st('SELECT COUNT(*) AS n FROM subscriber').get() as { n: number }).n);
  }

  // --- lookups ----------------------------------------------------------------------------------

  async getSubscriber(impi: string): Promise<Subscriber | null> {
    return this.read(() => this.loadSubscriber(impi));
  }

  async getPublicIdentity(impu: string): Promise<PublicIdentity | null> {
    return this.read(() => {
      const r = this.impuRow(impu);
      return r === undefined ? null : toImpu(r);
    });
  }

  async matchIdentities(impi: string, impu: string): Promise<IdentityMatch> {
    return this.read(() => {
      const r = this.impuRow(impu);
      if (r === undefined || this.subscriberRow(impi) === undefined) return 'USER_UNKNOWN';
      return r.impi === impi ? 'MATCH' : 'IDENTITIES_DONT_MATCH';
    });
  }

  async getImplicitSet(impu: string): Promise<ImplicitSet | null> {
    return this.read(() => {
      const rows = this.setRowsOf(impu);
      if (rows.length === 0) return null;
      const { impi, irs } = rows[0];
      // The set's own profile, else the subscriber's.
      const p = this.st('SELECT COALESCE(x.service_profile, s.service_profile) AS profile FROM subscriber s LEFT JOIN implicit_set x ON x.impi = s.impi AND x.irs = ? WHERE s.impi = ?').get(irs, impi) as
        | { profile: string | null }
        | undefined;
      return { impi, irs: Number(irs), serviceProfile: p?.profile ?? null, impus: rows.map(toImpu) };
    });
  }

  // --- registration state -----------------------------------------------------------------------

  async setRegistration(impu: string, update: RegistrationUpdate): Promise<RegistrationSnapshot[]> {
    checkRegistrationUpdate(update);
    return this.tx(() => this.setRegistrationInTx(impu, update));
  }

  async setRegistrationsMany(updates: readonly { impu: string; update: RegistrationUpdate }[]): Promise<(RegistrationSnapshot[] | Error)[]> {
    return this.tx(() =>
      updates.map((u) => {
        // An update that fails does so before it writes (its check, then its rows' lookup).
        try {
          checkRegistrationUpdate(u.update);
          return this.setRegistrationInTx(u.impu, u.update);
        } catch (err) {
          if (err instanceof ImsError) return err;
          throw err;
        }
      }),
    );
  }

  private setRegistrationInTx(impu: string, update: RegistrationUpdate): RegistrationSnapshot[] {
    const rows = this.setRows(impu);
    this.writeRegistration(rows.map((r) => applyRegistration(r, update)));
    return rows.map(snapshotOf);
  }

  async restoreRegistration(snapshots: readonly RegistrationSnapshot[]): Promise<void> {
    checkSnapshots(snapshots);
    return this.tx(() => {
      for (const s of snapshots) if (this.impuRow(s.impu) === undefined) throw new NotFoundError('impu', s.impu);
      this.writeRegistration(snapshots.map(restoreRow));
    });
  }

  async revertPending(impu: string): Promise<RegistrationSnapshot[]> {
    return this.tx(() => {
      const after = this.setRows(impu).map(revertRegistration);
      this.writeRegistration(after);
      return after.map(snapshotOf);
    });
  }

  async setScscfName(impu: string, scscfName: string | null): Promise<RegistrationSnapshot[]> {
    if (scscfName !== null) checkName(scscfName, 'scscfName');
    return this.tx(() => {
      const rows = this.setRows(impu);
      this.st('UPDATE impu SET scscf_name = ? WHERE impi = ? AND irs = ?').run(scscfName, rows[0].impi, rows[0].irs);
      return rows.map(snapshotOf);
    });
  }

  async listServedImpus(scscfName: string, states: readonly RegistrationState[] = ['REGISTERED']): Promise<PublicIdentity[]> {
    return this.read(() => {
      const rows = this.st('SELECT * FROM impu WHERE scscf_name = ? ORDER BY impu').all(scscfName) as ImpuRow[];
      return rows.filter((r) => states.includes(r.reg_state as RegistrationState)).map(toImpu);
    });
  }

  // --- SQN ----------------------------------------------------------------------------------------

  private indInTx(originHost: string): number {
    const cached = this.indCache.get(originHost);
    if (cached !== undefined) return cached;
    checkName(originHost, 'originHost');
    let row = this.st('SELECT ind FROM ind_assignment WHERE origin_host = ?').get(originHost) as { ind: number } | undefined;
    if (row === undefined) {
      const all = this.st('SELECT origin_host, ind FROM ind_assignment').all() as { origin_host: string; ind: number }[];
      const ind = indForNode(originHost, new Map(all.map((a) => [a.origin_host, a.ind])), this.indBits);
      this.st('INSERT INTO ind_assignment (origin_host, ind) VALUES (?, ?)').run(originHost, ind);
      row = { ind };
    }
    this.indCache.set(originHost, row.ind);
    return row.ind;
  }

  async indForPeer(originHost: string): Promise<number> {
    return this.indCache.get(originHost) ?? this.tx(() => this.indInTx(originHost));
  }

  /** One BEGIN IMMEDIATE transaction: IND for the peer, then `UPDATE … SET seq_he = seq_he + count … RETURNING`. */
  async allocateSqns(impi: string, originHost: string, count: number): Promise<SqnAllocation> {
    checkCount(count, 1);
    return this.tx(() => this.allocateInTx(impi, originHost, count));
  }

  /** Group commit: every allocation in one BEGIN IMMEDIATE transaction; a request failing with a typed error leaves the others. */
  async allocateSqnsMany(requests: readonly SqnRequest[]): Promise<(SqnAllocation | Error)[]> {
    return this.tx(() =>
      requests.map((r) => {
        try {
          checkCount(r.count, 1);
          return this.allocateInTx(r.impi, r.originHost, r.count);
        } catch (err) {
          if (err instanceof ImsError) return err;
          throw err;
        }
      }),
    );
  }

  private allocateInTx(impi: string, originHost: string, count: number): SqnAllocation {
    const ind = this.indInTx(originHost);
    const row = this.st(
      `UPDATE subscriber SET seq_he = seq_he + ? WHERE impi = ? AND seq_he + ? <= (${SQN_MAX_SQL} >> ind_bits)
       RETURNING seq_he, ind_bits, amf, k, opc`,
    ).get(count, impi, count) as (Row & { seq_he: number; ind_bits: number; amf: number; k: Buffer; opc: Buffer }) | undefined;
    if (row === undefined) {
      if (this.subscriberRow(impi) === undefined) throw new NotFoundError('subscriber', impi);
      throw new SqnExhaustedError();
    }
    return allocationFrom(row, ind, count);
  }

  async resync(impi: string, req: ResyncRequest): Promise<ResyncResult> {
    checkCount(req.count, 0);
    return this.tx((): ResyncResult => {
      const ind = this.indInTx(req.originHost);
      const row = this.st('SELECT seq_he, ind_bits, amf, k, opc FROM subscriber WHERE impi = ?').get(impi) as
        | { seq_he: number; ind_bits: number; amf: number; k: Buffer; opc: Buffer }
        | undefined;
      if (row === undefined) throw new NotFoundError('subscriber', impi);
      const check = req.verify({ k: new Uint8Array(row.k), opc: new Uint8Array(row.opc), amf: row.amf });
      if (!check.ok) return { ok: false };
      const seqHe = resyncHe({ seqHe: row.seq_he }, check.sqnMs, { indBits: row.ind_bits, delta: this.delta }).seqHe;
      const updated = this.st(`UPDATE subscriber SET seq_he = ? WHERE impi = ? AND ? <= (${SQN_MAX_SQL} >> ind_bits) RETURNING seq_he`).get(
        seqHe + req.count, impi, seqHe + req.count,
      );
      if (updated === undefined) throw new SqnExhaustedError();
      return { ok: true, sqnMs: check.sqnMs, previousSeqHe: row.seq_he, seqHe, allocation: allocationFrom({ ...row, seq_he: seqHe + req.count }, ind, req.count) };
    });
  }

  async schemaVersion(): Promise<number> {
    return this.read(() => (this.st('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** Our typed errors pass through; anything else came from SQLite. */
function wrap(err: unknown): Error {
  if (err instanceof ImsError) return err;
  return new StoreError(`sqlite: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
