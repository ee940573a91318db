/**
 * The SQLite registrar store commits the writes of one event-loop turn together, in one
 * transaction (src/store/registrar-sqlite.ts): each write still resolves only once committed,
 * reads see every earlier write, a bad write is refused alone, and close() commits what is pending.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteRegistrarStore } from '../../src/store/registrar-sqlite.js';
import type { StoredRegistration } from '../../src/store/index.js';

const reg = (user: string): StoredRegistration => ({
  aor: `sip:${user}@ims.lab`,
  impi: `${user}@ims.lab`,
  impus: [`sip:${user}@ims.lab`],
  userData: null,
  bindings: [{ uri: `sip:${user}@192.0.2.10:5070`, contact: `<sip:${user}@192.0.2.10:5070>`, id: 'b1', expiresAt: 2_000_000, registeredAt: 1_000_000, path: [], callId: 'c1', cseq: 2 }],
});

describe('[R-REG-1][R-REG-3] SQLite registrar store: writes batched per event-loop turn', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'imsec-registrar-batch-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('[R-REG-3] 200 writes of one turn commit in one transaction and every promise resolves after it', async () => {
    const file = join(dir, 'a.sqlite');
    const s = new SqliteRegistrarStore(file);
    const spy = new Database(file, { readonly: true });
    const count = (): number => (spy.prepare('SELECT count(*) AS n FROM scscf_registration').get() as { n: number }).n;
    const writes = Array.from({ length: 200 }, (_, i) => s.putRegistration('sip:scscf1', reg(`u${i}`)));
    assert.equal(count(), 0, 'nothing committed within the turn');
    await Promise.all(writes);
    assert.equal(count(), 200, 'all committed once the promises resolved');
    spy.close();
    await s.close();
  });

  test('[R-REG-1] a read sees the writes made before it in the same turn', async () => {
    const s = new SqliteRegistrarStore(':memory:');
    void s.putRegistration('sip:scscf1', reg('alice'));
    const del = s.deleteRegistration('sip:scscf1', 'sip:bob@ims.lab');
    assert.deepEqual(await s.getRegistration('sip:scscf1', 'sip:alice@ims.lab'), reg('alice'));
    assert.equal(await del, false);
    void s.deleteRegistration('sip:scscf1', 'sip:alice@ims.lab');
    assert.deepEqual(await s.listRegistrations('sip:scscf1'), []);
    await s.close();
  });

  test('[R-REG-1] an invalid registration is refused at once and does not take its batch down', async () => {
    const s = new SqliteRegistrarStore(':memory:');
    const good = s.putRegistration('sip:scscf1', reg('carol'));
    await assert.rejects(s.putRegistration('', reg('dave')), { code: 'INVALID_ARGUMENT' });
    await good;
    assert.notEqual(await s.getRegistration('sip:scscf1', 'sip:carol@ims.lab'), null);
    await s.close();
  });

  test('[R-REG-3] close() commits the pending writes', async () => {
    const file = join(dir, 'b.sqlite');
    const s = new SqliteRegistrarStore(file);
    const w = s.putRegistration('sip:scscf1', reg('erin'));
    await s.close();
    await w;
    const again = new SqliteRegistrarStore(file);
    assert.deepEqual(await again.getRegistration('sip:scscf1', 'sip:erin@ims.lab'), reg('erin'));
    await again.close();
  });
});
