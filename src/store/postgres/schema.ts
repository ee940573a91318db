/**
 * The schema migration procedure on PostgreSQL, shared by the HSS store (postgres-store.ts) and
 * the registrar store (../registrar-postgres.ts): both take the same advisory lock, so an HSS and
 * S-CSCFs opening one database at once never race on the schema.
 */
import type pg from 'pg';
import { SchemaVersionError } from '../errors.js';
import { newerSchemaMessage, type Migration } from '../migrations.js';

/** Advisory lock key (an arbitrary constant) held while migrating; the same for every store. */
export const LOCK_SCHEMA = 0x696d_7365_6301;

/**
 * Applies, in order, the migrations the database lacks and records each in `schema_migrations`.
 * Runs on `c` inside a transaction the caller has begun (the lock is released at its end); the
 * caller has checked the list with checkMigrationList.
 * @throws SchemaVersionError when the database's schema is newer than `migrations`.
 */
export async function applyPostgresMigrations(c: pg.ClientBase, migrations: readonly Migration[]): Promise<void> {
  const codeVersion = migrations.length;
  await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK_SCHEMA]);
  await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
  const dbVersion = Number((await c.query<{ v: number | string }>('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations')).rows[0].v);
  if (dbVersion > codeVersion) throw new SchemaVersionError(newerSchemaMessage(dbVersion, codeVersion), dbVersion, codeVersion);
  for (const m of migrations.slice(dbVersion)) {
    await c.query(m.postgres);
    await c.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
  }
}
