import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import pg from 'pg';
import { MIGRATIONS, SCHEMA_VERSION, SchemaVersionError, StoreError, parseStoreUrl, type Migration } from '../../src/store/index.js';
import { storeBackends, subscriber } from './backends.js';

/** Runs one query straight on the database, not through the store. */
async function rawQuery(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const loc = parseStoreUrl(url);
  if (loc.kind === 'sqlite') {
    const db = new Database(loc.path, { readonly: true });
    try {
      return db.prepare(sql).all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  }
  const c = new pg.Client({ connectionString: loc.url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

async function appliedVersions(url: string): Promise<number[]> {
  return (await rawQuery(url, 'SELECT version FROM schema_migrations ORDER BY version')).map((r) => Number(r.version));
}

async function hasTable(url: string, name: string): Promise<boolean> {
  try {
    await rawQuery(url, `SELECT COUNT(*) AS n FROM ${name}`);
    return true;
  } catch {
    return false;
  }
}

/** A migration one past the newest this code knows (whatever the shipped list holds). */
const N = MIGRATIONS.length;
const ALL = MIGRATIONS.map((m) => m.version);
const v2: Migration = {
  version: N + 1,
  name: 'test: audit table',
  sqlite: 'CREATE TABLE audit_test (id INTEGER PRIMARY KEY, note TEXT);',
  postgres: 'CREATE TABLE audit_test (id SERIAL PRIMARY KEY, note TEXT);',
};
const broken: Migration = {
  version: N + 1,
  name: 'test: broken',
  sqlite: 'CREATE TABLE half_done (id INTEGER); THIS IS NOT SQL;',
  postgres: 'CREATE TABLE half_done (id INTEGER); THIS IS NOT SQL;',
};

for (const b of storeBackends()) {
  describe(`schema migrations on ${b.name}`, () => {
    test('a fresh database gets every migration once, and reopening applies nothing again', async (t) => {
      const url = await b.freshUrl(t);
      if (url === null) return;
      const s1 = await b.reopen(url);
      assert.equal(await s1.schemaVersion(), SCHEMA_VERSION);
      await s1.createSubscriber(subscriber(1));
      await s1.close();
      const s2 = await b.reopen(url);
      assert.equal(await s2.countSubscribers(), 1);
      await s2.close();
      assert.deepEqual(await appliedVersions(url), MIGRATIONS.map((m) => m.version));
    });

    test('a newer migration is applied in order at open, keeping data; a database newer than the code is refused', async (t) => {
      const url = await b.freshUrl(t);
      if (url === null) return;
      const s1 = await b.reopen(url);
      await s1.createSubscriber(subscriber(1));
      await s1.close();
      const s2 = await b.reopen(url, { migrations: [...MIGRATIONS, v2] });
      assert.equal(await s2.schemaVersion(), N + 1);
      assert.equal(await s2.countSubscribers(), 1);
      await s2.close();
      assert.deepEqual(await appliedVersions(url), [...ALL, N + 1]);
      await assert.rejects(b.reopen(url), (e) => {
        assert.ok(e instanceof SchemaVersionError);
        assert.equal(e.code, 'STORE_SCHEMA');
        assert.deepEqual([e.databaseVersion, e.codeVersion], [N + 1, N]);
        assert.equal(e.message, `database schema version ${N + 1} is newer than this imsec supports (${N}); upgrade imsec or use another store`);
        return true;
      });
    });

    test('a failing migration rolls back completely and leaves the old version', async (t) => {
      const url = await b.freshUrl(t);
      if (url === null) return;
      await (await b.reopen(url)).close();
      await assert.rejects(b.reopen(url, { migrations: [...MIGRATIONS, broken] }), StoreError);
      assert.deepEqual(await appliedVersions(url), ALL);
      assert.equal(await hasTable(url, 'half_done'), false);
      assert.equal(await hasTable(url, 'subscriber'), true);
      const s = await b.reopen(url, { migrations: [...MIGRATIONS, v2] });
      assert.equal(await s.schemaVersion(), N + 1);
    });

    test('a migration list out of order is refused', async (t) => {
      const url = await b.freshUrl(t);
      if (url === null) return;
      await assert.rejects(b.reopen(url, { migrations: [v2] }), /out of order/);
    });
  });
}
