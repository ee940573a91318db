/** SQLite implementation of the HSS store (the embedded default). */
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
