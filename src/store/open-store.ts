/**
 * Choosing and opening a store from a URL:
 *
 *   postgres://user:pass@host:5432/db   (or postgresql://)  → PostgreSQL
 *   sqlite:PATH  sqlite:///abs/path  PATH  :memory:          → SQLite (the embedded default)
 *   sqlite:PATH?synchronous=full                              → SQLite with fsync at each commit
 *
 * The default is `<dataDir>/hss.sqlite` with dataDir `./.imsec` unless the caller (the CLI,
 * from its config) says otherwise.
 */
import { join } from 'node:path';
import { InvalidArgumentError } from '../common/index.js';
import type { HssStore } from './hss-store.js';
import type { PostgresStoreOptions } from './postgres/postgres-store.js';
import type { SqliteStoreOptions } from './sqlite/sqlite-store.js';

export type StoreLocation = { kind: 'sqlite'; path: string; synchronous: 'NORMAL' | 'FULL' } | { kind: 'postgres'; url: string };

export const DEFAULT_DATA_DIR = './.imsec';

/** `sqlite:<dataDir>/hss.sqlite`. */
export function defaultStoreUrl(dataDir: string = DEFAULT_DATA_DIR): string {
  return `sqlite:${join(dataDir, 'hss.sqlite')}`;
}

/** Parses a store URL (see the module comment); InvalidArgumentError for anything else. */
export function parseStoreUrl(url: string): StoreLocation {
  if (typeof url !== 'string' || url.trim() === '') throw new InvalidArgumentError('store URL is empty', '--store');
  if (/^postgres(ql)?:\/\//i.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new InvalidArgumentError('store URL is not a valid postgres:// URL', '--store');
    }
    return { kind: 'postgres', url };
  }
  let rest = url;
  if (/^sqlite:/i.test(rest)) {
    rest = rest.slice('sqlite:'.length);
    if (rest.startsWith('//')) rest = rest.slice(2);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) {
    throw new InvalidArgumentError(`unsupported store URL scheme ${JSON.stringify(rest.slice(0, rest.indexOf(':')))} (use postgres://… or sqlite:PATH)`, '--store');
  }
  let synchronous: 'NORMAL' | 'FULL' = 'NORMAL';
  const q = /\?synchronous=(normal|full)$/i.exec(rest);
  if (q !== null) {
    synchronous = q[1].toUpperCase() as 'NORMAL' | 'FULL';
    rest = rest.slice(0, q.index);
  }
  if (rest === '') throw new InvalidArgumentError('store URL names no SQLite file', '--store');
  return { kind: 'sqlite', path: rest, synchronous };
}

/** Options passed through to the implementation chosen. */
export type OpenStoreOptions = Omit<SqliteStoreOptions, 'synchronous'> & PostgresStoreOptions;

/**
 * Opens (creating and migrating as needed) the store a URL names. The driver (pg or
 * better-sqlite3) is loaded only when needed, so CLI commands that never open a store stay quick.
 */
export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<HssStore> {
  const loc = parseStoreUrl(url);
  if (loc.kind === 'postgres') {
    const { PostgresStore } = await import('./postgres/postgres-store.js');
    return PostgresStore.open(loc.url, opts);
  }
  const { SqliteStore } = await import('./sqlite/sqlite-store.js');
  return new SqliteStore(loc.path, { ...opts, synchronous: loc.synchronous });
}

/** The URL with any password replaced, fit for a log line or a message. */
export function redactStoreUrl(url: string): string {
  if (!/^postgres(ql)?:\/\//i.test(url)) return url;
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}
