/**
 * The registrar store on SQLite (better-sqlite3, WAL mode), the embedded default. It applies the
 * shared migration list (src/store/migrations.ts) at open, exactly as the HSS store does, so one
 * file can hold both the HSS's and an S-CSCF's data, or an S-CSCF can have a file of its own.
 *
 * Durability as for the HSS store: with WAL and `synchronous=NORMAL` a committed write survives a
 * crash of the process; `?synchronous=full` also survives a power loss.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ImsError } from '../common/index.js';
import { SchemaVersionError, StoreError } from './errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import { checkRegistration, registrationFromRow, type RegistrarStore, type StoredRegistration } from './registrar-store.js';
import { setUpSqlite } from './sqlite/schema.js';

export interface SqliteRegistrarStoreOptions {
  synchronous?: 'NORMAL' | 'FULL';
  busyTimeoutMs?: number;
  /** Clock for `updated_at` (ms); default Date.now. */
  now?: () => number;
  migrations?: readonly Migration[];
}

interface Row {
  aor: string;
  impi: string;
  impus: string;
  user_data: string | null;
  bindings: string;
}

export class SqliteRegistrarStore implements RegistrarStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly put: Database.Statement;
  private readonly del: Database.Statement;
  private readonly get: Database.Statement;
  private readonly list: Database.Statement;

  constructor(
    readonly path: string,
    opts: SqliteRegistrarStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path, { timeout: opts.busyTimeoutMs ?? 5000 });
    } catch (err) {
      throw new StoreError(`sqlite: cannot open ${path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      setUpSqlite(this.db, opts.synchronous, opts.migrations ?? MIGRATIONS);
      this.put = this.db.prepare(
        `INSERT INTO scscf_registration (scscf_name, aor, impi, impus, user_data, bindings, expires_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (scscf_name, aor) DO UPDATE SET impi = excluded.impi, impus = excluded.impus, user_data = excluded.user_data,
           bindings = excluded.bindings, expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
      );
      this.del = this.db.prepare('DELETE FROM scscf_registration WHERE scscf_name = ? AND aor = ?');
      this.get = this.db.prepare('SELECT aor, impi, impus, user_data, bindings FROM scscf_registration WHERE scscf_name = ? AND aor = ?');
      this.list = this.db.prepare('SELECT aor, impi, impus, user_data, bindings FROM scscf_registration WHERE scscf_name = ? ORDER BY aor');
    } catch (err) {
      this.db.close();
      if (err instanceof SchemaVersionError) throw err;
      throw new StoreError(`sqlite: cannot prepare ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  private run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(wrapError(err));
    }
  }

  /**
   * Writes wait for the end of this turn of the event loop and commit together in one transaction
   * (one WAL commit for a burst of registrations instead of one each); each promise resolves once
   * its batch is committed, so a caller that awaits it still answers only after a durable write.
   * Reads commit the pending batch first, so they always see every write made before them.
   */
  private enqueue<T>(op: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (this.pending.length === 1) setImmediate(this.flush);
    });
  }

  private readonly pending: { op: () => unknown; resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];

  private readonly flush = (): void => {
    if (this.pending.length === 0) return;
    const batch = this.pending.splice(0);
    let results: unknown[];
    try {
      results = this.db.transaction(() => batch.map((w) => w.op()))();
    } catch (err) {
      for (const w of batch) w.reject(wrapError(err));
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i]));
  };

  putRegistration(scscfName: string, r: StoredRegistration): Promise<void> {
    let row: ReturnType<typeof checkRegistration>;
    try {
      row = checkRegistration(scscfName, r);
    } catch (err) {
      return Promise.reject(wrapError(err));
    }
    const impus = JSON.stringify(row.impus);
    const bindings = JSON.stringify(row.bindings);
    return this.enqueue(() => {
      this.put.run(scscfName, row.aor, row.impi, impus, row.userData, bindings, row.expiresAt, this.now());
    });
  }

  deleteRegistration(scscfName: string, aor: string): Promise<boolean> {
    return this.enqueue(() => this.del.run(scscfName, aor).changes > 0);
  }

  getRegistration(scscfName: string, aor: string): Promise<StoredRegistration | null> {
    return this.run(() => {
      this.flush();
      const row = this.get.get(scscfName, aor) as Row | undefined;
      return row === undefined ? null : decode(row);
    });
  }

  listRegistrations(scscfName: string): Promise<StoredRegistration[]> {
    return this.run(() => {
      this.flush();
      return (this.list.all(scscfName) as Row[]).map(decode);
    });
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.flush();
    this.db.close();
  }
}

function wrapError(err: unknown): Error {
  return err instanceof ImsError ? err : new StoreError(`sqlite: ${(err as Error).message}`, { cause: err });
}

function decode(row: Row): StoredRegistration {
  try {
    return registrationFromRow({ ...row, impus: JSON.parse(row.impus), bindings: JSON.parse(row.bindings) });
  } catch (err) {
    throw new StoreError(`sqlite: registration ${row.aor} does not decode`, { cause: err });
  }
}
