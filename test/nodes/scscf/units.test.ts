/**
 * The pure parts of the S-CSCF one by one: the vector queue (R-AKA-2), the binding rules
 * (RFC 3261 §10.3, RFC 5626 §6), the challenge response check (RFC 3310 §3.3) and the
 * integrity indicator (TS 24.229 §5.4.1.1).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { akaPassword, digestResponse, parseDigestCredentials } from '../../../src/auth/digest/index.js';
import { applyContacts, derivePrivateIdentity, integrityOf, reginfoOf, RegistrationTable, verifyChallengeResponse, VectorQueue, type HeldVector, type PendingChallenge } from '../../../src/nodes/scscf/index.js';
import { parseContact } from '../../../src/sip/index.js';
import type { StoredBinding } from '../../../src/store/index.js';

const vec = (n: number, itemNumber?: number): HeldVector => ({
  rand: new Uint8Array(16).fill(n),
  autn: new Uint8Array(16).fill(n),
  xres: new Uint8Array(8).fill(n + 1),
  ck: new Uint8Array(16).fill(n + 2),
  ik: new Uint8Array(16).fill(n + 3),
  version: 1,
  ...(itemNumber !== undefined ? { itemNumber } : {}),
});

describe('R-AKA-2: the vector queue', () => {
  test('[R-AKA-2] a batch is used in SIP-Item-Number order, first in first out across batches, never twice', () => {
    const q = new VectorQueue();
    q.push('a@x', [vec(3, 3), vec(1, 1), vec(2, 2)]);
    q.push('a@x', [vec(9)]);
    q.push('b@x', [vec(7)]);
    assert.deepEqual([1, 2, 3, 9].map(() => q.take('a@x')!.rand[0]), [1, 2, 3, 9]);
    assert.equal(q.take('a@x'), undefined);
    assert.equal(q.size('b@x'), 1);
    q.clear('b@x');
    assert.equal(q.take('b@x'), undefined);
    assert.equal(q.taken, 4);
  });
});

const policy = { defaultExpires: 3600, minExpires: 60, maxExpires: 7200, maxContacts: 2 };
const req = (contact: string, o: { callId?: string; cseq?: number; expires?: number } = {}) => ({
  contacts: parseContact(contact),
  callId: o.callId ?? 'c1',
  cseq: o.cseq ?? 1,
  path: ['<sip:term@pcscf.ims.lab;lr>'],
  ...(o.expires !== undefined ? { expiresHeader: o.expires } : {}),
});
let ids = 0;
const newId = () => `id${++ids}`;

describe('RFC 3261 §10.3: bindings', () => {
  test('new, refreshed and removed bindings with their RFC 3680 events; the cap and the default', () => {
    const a = applyContacts([], req('<sip:u@192.0.2.1>;expires=99999'), 1000, policy, newId);
    assert.ok(a.ok);
    if (!a.ok) return;
    assert.equal(a.bindings[0].expiresAt, 1000 + 7200_000);
    assert.deepEqual(a.changes.map((c) => [c.event, c.state]), [['registered', 'active']]);
    const b = applyContacts(a.bindings, req('<sip:u@192.0.2.1>', { cseq: 2 }), 2000, policy, newId);
    assert.ok(b.ok && b.bindings[0].expiresAt === 2000 + 3600_000 && b.bindings[0].id === a.bindings[0].id);
    assert.ok(b.ok && b.changes[0].event === 'refreshed');
    const c = applyContacts(b.ok ? b.bindings : [], req('<sip:u@192.0.2.1>;expires=0', { cseq: 3 }), 3000, policy, newId);
    assert.ok(c.ok && c.bindings.length === 0 && c.changes[0].event === 'unregistered');
  });

  test('RFC 5626 §6: the same +sip.instance and reg-id from a new address replaces the old binding', () => {
    const inst = ';+sip.instance="<urn:uuid:1>";reg-id=1';
    const a = applyContacts([], req(`<sip:u@192.0.2.1>${inst}`), 0, policy, newId);
    assert.ok(a.ok);
    const b = applyContacts(a.ok ? a.bindings : [], req(`<sip:u@192.0.2.2>${inst}`, { callId: 'c2' }), 0, policy, newId);
    assert.ok(b.ok);
    if (!b.ok) return;
    assert.deepEqual(b.bindings.map((x) => x.uri), ['sip:u@192.0.2.2']);
    assert.deepEqual(b.changes.map((x) => [x.binding.uri, x.event]), [['sip:u@192.0.2.1', 'unregistered'], ['sip:u@192.0.2.2', 'registered']]);
  });

  test('[O] RFC 5626 §6 / TS 24.229 §5.4.1.2.2: a UE instance (+sip.instance without reg-id) registering again on a new port replaces its old contact', () => {
    const inst = ';+sip.instance="<urn:gsma:imei:35000000-000001-0>"';
    const a = applyContacts([], req(`<sip:alice@127.0.0.1:41000>${inst}`), 0, policy, newId);
    assert.ok(a.ok);
    const b = applyContacts(a.ok ? a.bindings : [], req(`<sip:alice@127.0.0.1:42000>${inst}`, { callId: 'after-restart' }), 1000, policy, newId);
    assert.ok(b.ok);
    if (!b.ok) return;
    assert.deepEqual(b.bindings.map((x) => x.uri), ['sip:alice@127.0.0.1:42000'], 'the stale contact is gone');
    assert.deepEqual(b.changes.map((x) => [x.binding.uri, x.event]), [['sip:alice@127.0.0.1:41000', 'unregistered'], ['sip:alice@127.0.0.1:42000', 'registered']]);
    // Another instance (or a reg-id that differs) is another binding.
    const c = applyContacts(b.bindings, req('<sip:alice@127.0.0.1:43000>;+sip.instance="<urn:gsma:imei:35000000-000002-0>"', { callId: 'other' }), 2000, policy, newId);
    assert.ok(c.ok && c.bindings.length === 2);
    const d = applyContacts(b.bindings, req(`<sip:alice@127.0.0.1:44000>${inst};reg-id=2`, { callId: 'flow2' }), 2000, policy, newId);
    assert.ok(d.ok && d.bindings.length === 2);
  });

  test('refusals: 423 below the minimum, 403 beyond maxContacts, 500 for an old CSeq of the same Call-ID; another Call-ID may use any CSeq', () => {
    assert.deepEqual(applyContacts([], req('<sip:u@h>', { expires: 10 }), 0, policy, newId), { ok: false, status: 423, reason: 'Interval Too Brief', headers: [['Min-Expires', '60']] });
    const two = applyContacts([], req('<sip:u@a>, <sip:u@b>'), 0, policy, newId);
    assert.ok(two.ok);
    const bindings: StoredBinding[] = two.ok ? two.bindings : [];
    assert.equal((applyContacts(bindings, req('<sip:u@c>', { cseq: 2 }), 0, policy, newId) as { status: number }).status, 403);
    assert.equal((applyContacts(bindings, req('<sip:u@a>', { cseq: 1 }), 0, policy, newId) as { status: number }).status, 500);
    assert.ok(applyContacts(bindings, req('<sip:u@a>', { cseq: 1, callId: 'other' }), 0, policy, newId).ok);
  });
});

describe('RFC 3310 §3.3: the challenge response', () => {
  const v = vec(5);
  const pending: PendingChallenge = { impi: 'a@ims.lab', impu: 'sip:a@ims.lab', nonce: 'bm9uY2U=', realm: 'ims.lab', vector: v, sentAt: 0 };
  const creds = (o: { username?: string; algorithm?: string; password?: Uint8Array } = {}) => {
    const response = digestResponse({
      algorithm: 'AKAv1-MD5', username: o.username ?? 'a@ims.lab', realm: 'ims.lab', password: o.password ?? akaPassword(1, v.xres), method: 'REGISTER',
      uri: 'sip:ims.lab', nonce: pending.nonce, qop: 'auth', nc: 1, cnonce: 'cn',
    });
    return parseDigestCredentials(
      `Digest username="${o.username ?? 'a@ims.lab'}", realm="ims.lab", nonce="${pending.nonce}", uri="sip:ims.lab", response="${response}", algorithm=${o.algorithm ?? 'AKAv1-MD5'}, qop=auth, nc=00000001, cnonce="cn"`,
    );
  };

  test('RES = XRES verifies; a wrong RES, another username or algorithm does not', () => {
    assert.deepEqual(verifyChallengeResponse(creds(), pending, 'REGISTER', new Uint8Array(0)), { ok: true });
    assert.deepEqual(verifyChallengeResponse(creds({ password: new Uint8Array(8) }), pending, 'REGISTER', new Uint8Array(0)), { ok: false, why: 'response' });
    assert.deepEqual(verifyChallengeResponse(creds({ username: 'b@ims.lab' }), pending, 'REGISTER', new Uint8Array(0)), { ok: false, why: 'username' });
    assert.deepEqual(verifyChallengeResponse(creds({ algorithm: 'MD5' }), pending, 'REGISTER', new Uint8Array(0)), { ok: false, why: 'algorithm' });
  });

  test('TS 24.229 §5.4.1.1: integrity-protected values, and the IMPI derived from the IMPU', () => {
    const c = (ip?: string) => parseDigestCredentials(`Digest username="a", realm="r", nonce="", uri="sip:r", response=""${ip ? `, integrity-protected="${ip}"` : ''}`);
    assert.equal(integrityOf(undefined), 'absent');
    assert.equal(integrityOf(c()), 'absent');
    assert.equal(integrityOf(c('yes')), 'protected');
    assert.equal(integrityOf(c('ip-assoc-yes')), 'protected');
    assert.equal(integrityOf(c('no')), 'unprotected');
    assert.equal(integrityOf(c('ip-assoc-pending')), 'unprotected');
    assert.equal(derivePrivateIdentity('sip:alice@ims.lab'), 'alice@ims.lab');
  });
});

describe('RFC 3680: the NOTIFY body of a registration', () => {
  test('one <registration> per identity of the set; a terminated contact is listed with its event', () => {
    const b: StoredBinding = { uri: 'sip:u@h', contact: '<sip:u@h>', id: 'x1', expiresAt: 61_000, registeredAt: 0, path: [], callId: 'c', cseq: 2 };
    const gone: StoredBinding = { ...b, uri: 'sip:u@old', id: 'x0' };
    const r = reginfoOf(['sip:a@ims.lab', 'tel:+1'], [b], [{ binding: gone, state: 'terminated', event: 'expired' }], 4, 1000);
    assert.equal(r.version, 4);
    assert.deepEqual(r.registrations.map((x) => [x.aor, x.state, x.contacts.map((c) => [c.id, c.state, c.event, c.expires])]), [
      ['sip:a@ims.lab', 'active', [['x1', 'active', 'registered', 60], ['x0', 'terminated', 'expired', 0]]],
      ['tel:+1', 'active', [['x1', 'active', 'registered', 60], ['x0', 'terminated', 'expired', 0]]],
    ]);
    assert.notEqual(r.registrations[0].id, r.registrations[1].id);
  });
});

describe('the registration table: lookups by identity and by IMPI', () => {
  const reg = (aor: string, impi: string, impus: string[] = [aor]) => ({ aor, impi, impus, userData: null, bindings: [] });

  test('[R-REG-2] byImpi finds every registration of an IMPI, follows replacement and removal, and finds nothing for another IMPI', () => {
    const t = new RegistrationTable();
    t.put(reg('sip:a@ims.lab', 'a@ims.lab', ['sip:a@ims.lab', 'tel:+100']));
    t.put(reg('sip:a2@ims.lab', 'a@ims.lab'));
    t.put(reg('sip:b@ims.lab', 'b@ims.lab'));
    assert.deepEqual(t.byImpi('a@ims.lab').map((r) => r.aor).sort(), ['sip:a2@ims.lab', 'sip:a@ims.lab']);
    assert.deepEqual(t.byImpi('c@ims.lab'), []);
    // A re-registration replaces the row: still one entry for it.
    t.put(reg('sip:a@ims.lab', 'a@ims.lab'));
    assert.equal(t.byImpi('a@ims.lab').length, 2);
    assert.equal(t.find('tel:+100'), undefined, 'the implicit set was re-indexed');
    t.delete('sip:a2@ims.lab');
    assert.deepEqual(t.byImpi('a@ims.lab').map((r) => r.aor), ['sip:a@ims.lab']);
    t.delete('sip:a@ims.lab');
    assert.deepEqual(t.byImpi('a@ims.lab'), []);
    assert.deepEqual(t.byImpi('b@ims.lab').map((r) => r.aor), ['sip:b@ims.lab']);
  });
});
