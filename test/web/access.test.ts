/**
 * R-LAB-5 security of every imsec HTTP listener (src/web/access.ts, guard.ts) on the HSS REST
 * API: RFC 6750 §2.1/§3 bearer tokens (401 with WWW-Authenticate), RFC 9110 §15.5.20 421 for a
 * Host this server does not answer to (DNS rebinding), --no-auth on loopback only, and K/OP/OPc
 * write-only (no response body ever carries them).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { SeededRng } from '../../src/common/rng.js';
import { openStore, type HssStore } from '../../src/store/index.js';
import { createHssRestApi } from '../../src/nodes/hss/rest.js';
import { generateToken, hostOfHeader, HttpAccessError, resolveHttpAccess, tokenMatches } from '../../src/web/http/access.js';
import { CONTENT_SECURITY_POLICY } from '../../src/web/http/guard.js';

// TS 35.208 test set 1.
const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';
const K2 = '0396eb317b6d1c36f19c1c84cd6ffd16';
const OPC2 = '53c15671c60a4b731c55b4a441c0bde2';
const SECRETS = [K, OP, OPC, K2, OPC2];
const TOKEN = 'test-token-0123456789abcdef';

function assertNoSecret(what: string, body: string): void {
  for (const s of SECRETS) assert.ok(!body.toLowerCase().includes(s), `${what} leaked key material`);
}

describe('access rule (web/access.ts)', () => {
  test('[R-LAB-5] a token is generated (256 bits, base64url) unless configured; --no-auth only on loopback', () => {
    const g = resolveHttpAccess({ listenHost: '127.0.0.1', rng: new SeededRng('access') });
    assert.equal(g.generated, true);
    assert.match(g.token!, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(generateToken(), generateToken());
    const c = resolveHttpAccess({ listenHost: '0.0.0.0', token: TOKEN });
    assert.deepEqual([c.token, c.generated], [TOKEN, false]);
    assert.equal(resolveHttpAccess({ listenHost: '::1', noAuth: true }).token, null);
    assert.equal(resolveHttpAccess({ listenHost: '127.0.0.5', noAuth: true }).token, null);
    assert.throws(() => resolveHttpAccess({ listenHost: '0.0.0.0', noAuth: true }), HttpAccessError);
    assert.throws(() => resolveHttpAccess({ listenHost: '192.0.2.7', noAuth: true }), /only allowed on loopback/);
    assert.throws(() => resolveHttpAccess({ listenHost: '127.0.0.1', token: 'short' }), /at least 16/);
    assert.throws(() => resolveHttpAccess({ listenHost: '127.0.0.1', token: TOKEN, noAuth: true }), HttpAccessError);
  });

  test('[R-LAB-5] Host names: the bound address and, on loopback, localhost; a wildcard bind adds the interfaces', () => {
    const lo = resolveHttpAccess({ listenHost: '127.0.0.1', token: TOKEN });
    assert.deepEqual([...lo.hosts].sort(), ['127.0.0.1', '::1', 'localhost']);
    const any = resolveHttpAccess({ listenHost: '0.0.0.0', token: TOKEN, allowedHosts: ['ims.example'] });
    assert.ok(any.hosts.has('ims.example') && any.hosts.has('127.0.0.1'));
    assert.equal(hostOfHeader('[::1]:8088'), '::1');
    assert.equal(hostOfHeader('LocalHost:80'), 'localhost');
    assert.equal(hostOfHeader('evil.example'), 'evil.example');
    assert.equal(hostOfHeader('a b'), undefined);
    assert.equal(hostOfHeader(undefined), undefined);
  });

  test('[R-LAB-5] token comparison: equal only for the same string, whatever the lengths', () => {
    assert.equal(tokenMatches(TOKEN, TOKEN), true);
    assert.equal(tokenMatches(TOKEN, TOKEN + 'x'), false);
    assert.equal(tokenMatches(TOKEN, TOKEN.slice(0, -1)), false);
    assert.equal(tokenMatches(TOKEN, undefined), false);
    assert.equal(tokenMatches(TOKEN, ''), false);
  });
});

describe('HSS REST API behind the access rule (RFC 6750, RFC 9110 §15.5.20)', () => {
  let store: HssStore;
  let secured: FastifyInstance;
  let open: FastifyInstance;
  const bodies: string[] = [];

  before(async () => {
    store = await openStore(':memory:');
    secured = createHssRestApi(store, { access: resolveHttpAccess({ listenHost: '127.0.0.1', token: TOKEN }) });
    open = createHssRestApi(store, { access: resolveHttpAccess({ listenHost: '127.0.0.1', noAuth: true }) });
  });
  after(async () => {
    await secured.close();
    await open.close();
    await store.close();
  });

  async function call(app: FastifyInstance, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Record<string, string>, payload?: unknown) {
    const r = await app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as string } : {}) });
    bodies.push(r.body);
    assertNoSecret(`${method} ${url}`, r.body);
    return r;
  }
  const auth = { host: '127.0.0.1:8080', authorization: `Bearer ${TOKEN}` };

  test('[R-LAB-5] no token → 401 with WWW-Authenticate: Bearer; a wrong token → 401; the right one → 200', async () => {
    const none = await call(secured, 'GET', '/subscribers', { host: '127.0.0.1:8080' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="imsec"');
    assert.equal((await call(secured, 'GET', '/subscribers', { host: 'localhost:8080', authorization: 'Bearer wrong-token-0123456789' })).statusCode, 401);
    assert.equal((await call(secured, 'GET', '/subscribers', { host: 'localhost:8080', authorization: `Basic ${TOKEN}` })).statusCode, 401);
    assert.equal((await call(secured, 'GET', '/openapi.json', { host: 'localhost' })).statusCode, 401, 'even the OpenAPI document needs the token');
    const ok = await call(secured, 'GET', '/subscribers', auth);
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.equal(ok.headers['x-content-type-options'], 'nosniff');
  });

  test('[R-LAB-5] a Host naming another server (DNS rebinding) → 421, even with the token and with --no-auth', async () => {
    for (const app of [secured, open]) {
      const r = await call(app, 'GET', '/subscribers', { ...auth, host: 'evil.example:8080' });
      assert.equal(r.statusCode, 421);
      assert.equal(JSON.parse(r.body).error, 'MISDIRECTED_REQUEST');
    }
    assert.equal((await call(secured, 'GET', '/subscribers', { ...auth, host: '127.0.0.1.evil.example' })).statusCode, 421);
  });

  test('[R-LAB-5] loopback with --no-auth: no token needed', async () => {
    assert.equal((await call(open, 'GET', '/subscribers', { host: '127.0.0.1:8080' })).statusCode, 200);
  });

  test('[R-LAB-5] K, OP and OPc are write-only: no response of any route carries them', async () => {
    const json = { ...auth, 'content-type': 'application/json' };
    assert.equal((await call(secured, 'POST', '/subscribers', json, JSON.stringify({ impi: 'alice@ims.lab', impus: ['sip:alice@ims.lab'], k: K, op: OP }))).statusCode, 201);
    assert.equal((await call(secured, 'POST', '/subscribers', json, JSON.stringify({ impi: 'alice@ims.lab', impus: ['sip:alice@ims.lab'], k: K, opc: OPC }))).statusCode, 409);
    assert.equal((await call(secured, 'POST', '/subscribers', json, JSON.stringify({ impi: 'x@ims.lab', impus: ['sip:x@ims.lab'], k: K.slice(1), opc: OPC }))).statusCode, 400);
    assert.equal((await call(secured, 'PATCH', '/subscribers/alice@ims.lab', json, JSON.stringify({ k: K2, opc: OPC2 }))).statusCode, 200);
    const csv = `impi,impus,k,opc\nbob@ims.lab,sip:bob@ims.lab,${K2},${OPC2}\n`;
    const imp = await call(secured, 'POST', '/subscribers/import', json, JSON.stringify({ format: 'csv', text: csv }));
    assert.equal(imp.statusCode, 200);
    assert.equal(JSON.parse(imp.body).imported, 1);
    const dup = await call(secured, 'POST', '/subscribers/import', json, JSON.stringify({ format: 'csv', text: csv }));
    assert.equal(dup.statusCode, 400);
    assert.match(JSON.parse(dup.body).message, /^line 2: /);
    for (const url of ['/subscribers', '/subscribers/alice@ims.lab', '/subscribers/bob@ims.lab', '/subscribers/alice@ims.lab/registration', '/openapi.json']) {
      assert.equal((await call(secured, 'GET', url, auth)).statusCode, 200, url);
    }
    assert.equal((await call(secured, 'DELETE', '/subscribers/bob@ims.lab', auth)).statusCode, 204);
    // The store does hold them (the check above is not vacuous): the keys come back only to Cx.
    const keys = await store.allocateSqns('alice@ims.lab', 'scscf.ims.lab', 1);
    assert.equal(Buffer.from(keys.k).toString('hex'), K2);
    assert.ok(bodies.length >= 18);
  });
});
