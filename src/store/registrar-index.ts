/**
 * The S-CSCF registrar store: interface, opener, and (as types; their drivers load on demand
 * through {@link openRegistrarStore}, or import './registrar-sqlite.js' / './registrar-postgres.js'
 * directly) the SQLite and PostgreSQL implementations.
 */
export { type RegistrarStore, type StoredRegistration, type StoredBinding, checkRegistration } from './registrar-store.js';
export type { SqliteRegistrarStore, SqliteRegistrarStoreOptions } from './registrar-sqlite.js';
export type { PostgresRegistrarStore, PostgresRegistrarStoreOptions } from './registrar-postgres.js';
export { openRegistrarStore, type OpenRegistrarStoreOptions } from './registrar-open.js';
