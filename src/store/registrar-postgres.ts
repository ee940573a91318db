/**
 * The registrar store on PostgreSQL (node-postgres pool), chosen by a `postgres://` URL. It
 * applies the shared migration list at open under the same advisory lock as the HSS store, so an
 * HSS and S-CSCFs opening one database at once never race on the schema. Each write is one
 * upsert statement (atomic on its own); COMMIT durability is the server's.
 */
import pg from 'pg';
import { ImsError } from '../common/index.js';
import { StoreError } from './errors.js';
import { checkMigrationList, MIGRATIONS, type Migration } from './migrations.js';
import { checkRegistration, registrationFromRow, type RegistrarStore, type StoredRegistration } from './registrar-store.js';
import { applyPostgresMigrations } from './postgres/schema.js';

export interface PostgresRegistrarStoreOptions {
  /** Pool size (default 4). */
  max?: number;
  now?: () => number;
  migrations?: readonly Migration[];
}

interface Row {
  aor: string;
  impi: string;
  impus: unknown;
  user_data: string | null;
  bindings: unknown;
}

function wrap(err: unknown): Error {
  if (err instanceof ImsError) return err;
  return new StoreError(`postgres: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

export class PostgresRegistrarStore implements RegistrarStore {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly now: () => number;

  private constructor(url: string, opts: PostgresRegistrarStoreOptions) {
    this.now = opts.now ?? Date.now;
    this.pool = new pg.Pool({ connectionString: url, max: opts.max ?? 4, application_name: 'imsec-scscf' });
    this.pool.on('error', () => {});
  }

  /** Connects and applies missing migrations. The URL never appears in an error. */
  static async open(url: string, opts: PostgresRegistrarStoreOptions = {}): Promise<PostgresRegistrarStore> {
    const s = new PostgresRegistrarStore(url, opts);
    try {
      await s.migrate(opts.migrations ?? MIGRATIONS);
    } catch (err) {
      await s.pool.end().catch(() => {});
      throw wrap(err);
    }
    return s;
  }

  private async migrate(list: readonly Migration[]): Promise<void> {
    checkMigrationList(list);
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await applyPostgresMigrations(c, list);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  private async q(sql: string, params: unknown[]): Promise<pg.QueryResult<Row>> {
    try {
      return await this.pool.query<Row>(sql, params);
    } catch (err) {
      throw wrap(err);
    }
  }

  async putRegistration(scscfName: string, r: StoredRegistration): Promise<void> {
    const row = checkRegistration(scscfName, r);
    await this.q(
      `INSERT INTO scscf_registration (scscf_name, aor, impi, impus, user_data, bindings, expires_at, updated_at)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, $8)
       ON CONFLICT (scscf_name, aor) DO UPDATE SET impi = EXCLUDED.impi, impus = EXCLUDED.impus, user_data = EXCLUDED.user_data,
         bindings = EXCLUDED.bindings, expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at`,
      [scscfName, row.aor, row.impi, JSON.stringify(row.impus), row.userData, JSON.stringify(row.bindings), row.expiresAt, this.now()],
    );
  }

  async deleteRegistration(scscfName: string, aor: string): Promise<boolean> {
    return ((await this.q('DELETE FROM scscf_registration WHERE scscf_name = $1 AND aor = $2', [scscfName, aor])).rowCount ?? 0) > 0;
  }

  async getRegistration(scscfName: string, aor: string): Promise<StoredRegistration | null> {
    const r = await this.q('SELECT aor, impi, impus, user_data, bindings FROM scscf_registration WHERE scscf_name = $1 AND aor = $2', [scscfName, aor]);
    return r.rows.length === 0 ? null : registrationFromRow(r.rows[0]);
  }

  async listRegistrations(scscfName: string): Promise<StoredRegistration[]> {
    const r = await this.q('SELECT aor, impi, impus, user_data, bindings FROM scscf_registration WHERE scscf_name = $1 ORDER BY aor', [scscfName]);
    return r.rows.map(registrationFromRow);
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {});
  }
}
