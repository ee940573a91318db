/**
 * The registrar store (schema migration v2, src/store/registrar-*.ts) and a restarted S-CSCF:
 * registrations survive a restart on the same database and their expiry timers are re-armed from
 * the stored expiries (injected clock).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ServerAssignmentType as SAT } from '../../../src/diameter/index.js';
import { SqliteRegistrarStore } from '../../../src/store/registrar-sqlite.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { SipHeaders, SipRequest } from '../../../src/sip/index.js';
import { openRegistrarStore, SCHEMA_VERSION, type RegistrarStore, type StoredRegistration } from '../../../src/store/index.js';
import { needPostgres, startPostgres, type PgServer } from '../../support/postgres.js';
import { harness, provision, registerFully, settle, TestIsim, SERVER_NAME } from './harness.js';

const reg = (aor: string, expiresAt = 2_000_000): StoredRegistration => ({
  aor,
  impi: 'alice@ims.lab',
  impus: [aor, 'tel:+15550001'],
  userData: '<IMSSubscription/>',
  bindings: [
    {
      uri: 'sip:alice@192.0.2.10:5070',
      contact: '<sip:alice@192.0.2.10:5070>;+sip.instance="<urn:uuid:00000000-0000-0000-0000-000000000001>";reg-id=1',
      id: 'b1',
      expiresAt,
      registeredAt: 1_000_000,
      path: ['<sip:term@pcscf.ims.lab:5060;lr>'],
      callId: 'c1',
      cseq: 2,
      instance: '<urn:uuid:00000000-0000-0000-0000-000000000001>',
      regId: 1,
      q: 0.5,
      received: { transport: 'udp', address: '127.0.0.1', port: 5060 },
    },
  ],
});

async function storeContract(s: RegistrarStore): Promise<void> {
  assert.equal(await s.getRegistration('sip:scscf1', 'sip:alice@ims.lab'), null);
  await s.putRegistration('sip:scscf1', reg('sip:alice@ims.lab'));
  await s.putRegistration('sip:scscf1', reg('sip:aaron@ims.lab'));
  await s.putRegistration('sip:scscf2', reg('sip:alice@ims.lab', 9));
  assert.deepEqual(await s.getRegistration('sip:scscf1', 'sip:alice@ims.lab'), reg('sip:alice@ims.lab'));
  assert.deepEqual((await s.listRegistrations('sip:scscf1')).map((r) => r.aor), ['sip:aaron@ims.lab', 'sip:alice@ims.lab'], 'ordered by aor, only its own');
  assert.equal((await s.listRegistrations('sip:scscf2'))[0].bindings[0].expiresAt, 9);
  const changed = { ...reg('sip:alice@ims.lab'), bindings: [] };
  await s.putRegistration('sip:scscf1', changed);
  assert.deepEqual(await s.getRegistration('sip:scscf1', 'sip:alice@ims.lab'), changed, 'a put replaces the whole registration');
  assert.equal(await s.deleteRegistration('sip:scscf1', 'sip:alice@ims.lab'), true);
  assert.equal(await s.deleteRegistration('sip:scscf1', 'sip:alice@ims.lab'), false);
  assert.equal(await s.getRegistration('sip:scscf1', 'sip:alice@ims.lab'), null);
  assert.notEqual(await s.getRegistration('sip:scscf2', 'sip:alice@ims.lab'), null, 'another S-CSCF\'s row is untouched');
  await assert.rejects(s.putRegistration('', reg('sip:x@ims.lab')), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(s.putRegistration('sip:scscf1', { ...reg('sip:x@ims.lab'), bindings: [reg('x').bindings[0], reg('x').bindings[0]] }), { code: 'INVALID_ARGUMENT' });
}

describe('registrar store', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'imsec-scscf-store-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('SQLite: put, get, list, delete, one row set per S-CSCF', async () => {
    const s = new SqliteRegistrarStore(':memory:');
    try {
      await storeContract(s);
    } finally {
      await s.close();
    }
  });

  test('SQLite: one file shared with the HSS store — both apply the same migration list', async () => {
    const file = join(dir, 'shared.sqlite');
    const hss = new SqliteStore(file);
    const r = await openRegistrarStore(`sqlite:${file}`);
    try {
      assert.equal(await hss.schemaVersion(), SCHEMA_VERSION);
      assert.ok(SCHEMA_VERSION >= 2);
      await r.putRegistration('sip:scscf1', reg('sip:alice@ims.lab'));
      assert.equal((await r.listRegistrations('sip:scscf1')).length, 1);
      assert.equal(await hss.countSubscribers(), 0);
    } finally {
      await r.close();
      await hss.close();
    }
  });

  test('PostgreSQL: the same contract', { timeout: 60_000 }, async (t) => {
    if (!needPostgres(t)) return;
    let pg: PgServer | undefined;
    let s: RegistrarStore | undefined;
    try {
      pg = await startPostgres();
      s = await openRegistrarStore(await pg.createSchema());
      assert.equal(s.kind, 'postgres');
      await storeContract(s);
    } finally {
      await s?.close();
      pg?.stop();
    }
  });
});

describe('a restarted S-CSCF', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'imsec-scscf-restart-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('knows who is registered after a restart on the same SQLite file and still routes to the UE', async () => {
    const file = join(dir, 'scscf.sqlite');
    const store1 = new SqliteRegistrarStore(file);
    const h = await harness({ registrarStore: store1 });
    await provision(h.hssStore, 'alice@ims.lab', ['sip:alice@ims.lab', 'tel:+15550001']);
    assert.equal((await registerFully(h.core, new TestIsim(), { path: ['<sip:term@pcscf.ims.lab:5060;lr>'], expires: 600 })).status, 200);
    const before = structuredClone(h.core.registration('sip:alice@ims.lab'));
    // The process goes away: timers stop, the database file is closed.
    h.core.stop();
    await store1.close();
    const store2 = new SqliteRegistrarStore(file);
    h.store = store2;
    const core2 = await h.restart();
    try {
      assert.deepEqual(core2.registration('tel:+15550001'), before);
      const hd = new SipHeaders([['Via', 'SIP/2.0/UDP 127.0.0.1:4060;branch=z9hG4bKt'], ['From', '<sip:zoe@other.net>;tag=z'], ['To', '<sip:alice@ims.lab>'], ['Call-ID', 'm'], ['CSeq', '1 MESSAGE'], ['Max-Forwards', '70']]);
      const d = core2.route(new SipRequest('MESSAGE', 'sip:alice@ims.lab', hd));
      assert.ok(d.kind === 'forward');
      if (d.kind === 'forward') {
        assert.equal(d.request.uri, 'sip:alice@192.0.2.10:5070');
        assert.equal(d.request.headers.get('route'), '<sip:term@pcscf.ims.lab:5060;lr>');
      }
      // The expiry timer was re-armed from the stored expiry.
      h.clock.advance(599_000);
      await settle();
      assert.equal(core2.registrations().length, 1);
      h.clock.advance(1_000);
      await settle();
      assert.equal(core2.registrations().length, 0);
      assert.deepEqual(h.cx.filter((c) => c.command === 301).map((c) => c.sat), [SAT.REGISTRATION, SAT.TIMEOUT_DEREGISTRATION]);
      assert.equal(await store2.getRegistration(SERVER_NAME, 'sip:alice@ims.lab'), null);
    } finally {
      await h.close();
    }
  });

  test('a registration that expired while the S-CSCF was down is de-registered at start', async () => {
    const file = join(dir, 'down.sqlite');
    const store1 = new SqliteRegistrarStore(file);
    const h = await harness({ registrarStore: store1 });
    await provision(h.hssStore, 'alice@ims.lab', ['sip:alice@ims.lab']);
    assert.equal((await registerFully(h.core, new TestIsim(), { expires: 300 })).status, 200);
    h.core.stop();
    await store1.close();
    h.clock.advance(3_600_000);
    const store2 = new SqliteRegistrarStore(file);
    h.store = store2;
    await h.restart();
    h.clock.advance(0);
    await settle();
    try {
      assert.equal(h.core.registrations().length, 0);
      assert.equal(h.cx.filter((c) => c.command === 301).at(-1)?.sat, SAT.TIMEOUT_DEREGISTRATION);
      assert.equal((await h.hssStore.getPublicIdentity('sip:alice@ims.lab'))!.state, 'NOT_REGISTERED');
    } finally {
      await h.close();
    }
  });
});
