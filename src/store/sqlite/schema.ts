/**
 * Setting up an open SQLite file for a store, shared by the HSS store (sqlite-store.ts) and the
 * registrar store (../registrar-sqlite.ts) so one file can hold both: the same pragmas and the
 * same migration procedure over the one migration list (../migrations.ts).
 */
import type Database from 'better-sqlite3';
import { SchemaVersionError } from '../errors.js';
import { checkMigrationList, newerSchemaMessage, type Migration } from '../migrations.js';

/**
 * WAL journal, `synchronous` NORMAL (a committed write survives a crash of the process) or FULL
 * (also a power loss), foreign keys on; then the migrations `db` lacks, applied in order inside one
 * `BEGIN IMMEDIATE` transaction (the write lock first, so two processes opening the file at once do
 * not both migrate), each recorded in `schema_migrations`.
 * @throws SchemaVersionError when the file's schema is newer than `migrations` (nothing is changed).
 */
export function setUpSqlite(db: Database.Database, synchronous: 'NORMAL' | 'FULL' | undefined, migrations: readonly Migration[]): void {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  checkMigrationList(migrations);
  const codeVersion = migrations.length;
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const dbVersion = (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
    if (dbVersion > codeVersion) throw new SchemaVersionError(newerSchemaMessage(dbVersion, codeVersion), dbVersion, codeVersion);
    for (const m of migrations.slice(dbVersion)) {
      db.exec(m.sqlite);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
    }
  }).immediate();
}
