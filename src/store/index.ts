/**
 * The HSS store: the {@link HssStore} interface (TS 29.228 data, TS 33.102 Annex C SQN state),
 * its SQLite (embedded default) and PostgreSQL implementations, schema migrations and
 * {@link openStore}.
 */
export * from './hss-store.js';
export * from './errors.js';
export { openStore, parseStoreUrl, defaultStoreUrl, redactStoreUrl, DEFAULT_DATA_DIR, type StoreLocation, type OpenStoreOptions } from './open-store.js';
export { MIGRATIONS, SCHEMA_VERSION, type Migration } from './migrations.js';
export { checkImpi, checkImpu, checkName, quoteName, IMPI_PATTERN, IMPU_PATTERN, MAX_IMPUS, MAX_IRS, MAX_PROFILE_CHARS, validateNewSubscriber } from './validate.js';
export { MAX_SQN_COUNT } from './rows.js';
// The implementations load their drivers; import them from './sqlite/index.js' or
// './postgres/index.js' when needed directly (openStore loads them on demand).
export type { SqliteStore, SqliteStoreOptions } from './sqlite/index.js';
export type { PostgresStore, PostgresStoreOptions } from './postgres/index.js';
export * from './registrar-index.js';
export { openRegistrarStore, type OpenRegistrarStoreOptions } from './registrar-open.js';
