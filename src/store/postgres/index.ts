/** PostgreSQL implementation of the HSS store. */
export { PostgresStore, type PostgresStoreOptions } from './postgres-store.js';
