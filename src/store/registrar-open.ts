/**
 * Opening the S-CSCF registrar store from the same URLs as the HSS store (src/store/open-store.ts):
 * `postgres://…` → PostgresRegistrarStore; `sqlite:PATH`, a bare path or `:memory:` →
 * SqliteRegistrarStore. The driver of the one chosen is loaded then, not before.
 */
import { parseStoreUrl } from './open-store.js';
import type { RegistrarStore } from './registrar-store.js';

export interface OpenRegistrarStoreOptions {
  /** Clock for `updated_at` (ms). */
  now?: () => number;
  /** PostgreSQL pool size. */
  max?: number;
}

/** Opens (creating and migrating as needed) the registrar store a URL names. */
export async function openRegistrarStore(url: string, opts: OpenRegistrarStoreOptions = {}): Promise<RegistrarStore> {
  const loc = parseStoreUrl(url);
  if (loc.kind === 'postgres') {
    const { PostgresRegistrarStore } = await import('./registrar-postgres.js');
    return PostgresRegistrarStore.open(loc.url, opts);
  }
  const { SqliteRegistrarStore } = await import('./registrar-sqlite.js');
  return new SqliteRegistrarStore(loc.path, { ...opts, synchronous: loc.synchronous });
}
