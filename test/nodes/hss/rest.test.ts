import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { openStore, type HssStore } from '../../../src/store/index.js';
import { createHssRestApi } from '../../../src/nodes/hss/rest.js';

// TS 35.208 test set 1.
const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';

const alice = { impi: 'alice@ims.lab', impus: ['sip:alice@ims.lab', { impu: 'tel:+15550100', barred: true }], k: K, op: OP };

let store: HssStore;
let app: FastifyInstance;

before(async () => {
  store = await openStore(':memory:');
  app = createHssRestApi(store);
});
after(async () => {
  await app.close();
  await store.close();
});

async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers?: Record<string, string>) {
  const r = await app.inject({ method, url, ...(payload !== undefined ? { payload: payload as string } : {}), ...(headers ? { headers } : {}) });
  const text = r.body;
  for (const secret of [K, OP, OPC]) assert.ok(!text.toLowerCase().includes(secret), `${method} ${url} leaked key material`);
  return { status: r.statusCode, body: text === '' ? undefined : JSON.parse(text), headers: r.headers };
}

function isError(r: { status: number; body: unknown }, status: number, error: string, message?: RegExp): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  const b = r.body as Record<string, unknown>;
  assert.deepEqual(Object.keys(b).sort(), ['error', 'message']);
  assert.equal(b.error, error);
  if (message !== undefined) assert.match(String(b.message), message);
}

describe('HSS REST API: subscribers CRUD', () => {
  test('POST creates (201) and GET/list show it without K, OP or OPc', async () => {
    const r = await call('POST', '/subscribers', alice);
    assert.equal(r.status, 201);
    assert.deepEqual(r.body, {
      impi: 'alice@ims.lab',
      impus: [
        { impu: 'sip:alice@ims.lab', irs: 1, default: true, barred: false, pseudonym: false, state: 'NOT_REGISTERED', scscfName: null },
        { impu: 'tel:+15550100', irs: 1, default: false, barred: true, pseudonym: false, state: 'NOT_REGISTERED', scscfName: null },
      ],
      amf: '8000',
      seqHe: 0,
      indBits: 5,
      authSchemes: ['Digest-AKAv1-MD5'],
      serviceProfile: null,
      implicitSets: [],
    });
    assert.deepEqual((await call('GET', '/subscribers/alice@ims.lab')).body, r.body);
    assert.deepEqual((await call('GET', '/subscribers')).body, { subscribers: [r.body], next: null });
    // The OP went in as OPc (TS 35.208 set 1), checked through the one path that reads keys.
    const a = await store.allocateSqns('alice@ims.lab', 'scscf.ims.lab', 1);
    assert.equal(Buffer.from(a.opc).toString('hex'), OPC);
  });

  test('409 for a duplicate IMPI or an IMPU that belongs to someone else', async () => {
    isError(await call('POST', '/subscribers', alice), 409, 'CONFLICT', /IMPI alice@ims.lab already exists/);
    isError(await call('POST', '/subscribers', { ...alice, impi: 'bob@ims.lab', impus: ['sip:bob@ims.lab', 'tel:+15550100'] }), 409, 'CONFLICT', /IMPU tel:\+15550100 already exists/);
    assert.equal((await call('GET', '/subscribers/bob@ims.lab')).status, 404);
  });

  test('400 with a clear message for bodies the schema or the rules refuse', async () => {
    const bob = { ...alice, impi: 'bob@ims.lab', impus: ['sip:bob@ims.lab'] };
    isError(await call('POST', '/subscribers', { ...bob, k: K.slice(0, 30) + 'zz' }), 400, 'BAD_REQUEST', /^body\/k must be 16 bytes \(32 hex digits\)$/);
    isError(await call('POST', '/subscribers', { ...bob, colour: 'red' }), 400, 'BAD_REQUEST', /^body: unknown field "colour"$/);
    isError(await call('POST', '/subscribers', { ...bob, [K]: 1 }), 400, 'BAD_REQUEST', /value hidden/);
    isError(await call('POST', '/subscribers', { ...bob, impus: [{ impu: 'sip:bob@ims.lab', colour: 1 }] }), 400, 'BAD_REQUEST', /^body\/impus\/0: unknown field "colour"$/);
    isError(await call('POST', '/subscribers', { impi: 'bob@ims.lab', k: K, op: OP }), 400, 'BAD_REQUEST', /missing field "impus"/);
    isError(await call('POST', '/subscribers', { ...bob, opc: OPC }), 400, 'BAD_REQUEST', /either op or opc/);
    isError(await call('POST', '/subscribers', { ...bob, op: undefined }), 400, 'BAD_REQUEST', /op or opc is required/);
    isError(await call('POST', '/subscribers', { ...bob, sqn: '7' }), 400, 'BAD_REQUEST', /^body\/sqn must be an integer in 0\.\.281474976710655$/);
    isError(await call('POST', '/subscribers', { ...bob, impus: ['mailto:bob@ims.lab'] }), 400, 'BAD_REQUEST', /sip:, sips: or tel: URI/);
    isError(await call('POST', '/subscribers', { ...bob, impi: 'bob' }), 400, 'BAD_REQUEST', /NAI of the form user@realm/);
    isError(await call('POST', '/subscribers', { ...bob, authSchemes: ['SIP Digest'] }), 400, 'BAD_REQUEST', /authSchemes/);
    isError(await call('POST', '/subscribers', `{"impi": "bob@ims.lab", "k": "${K}",`, { 'content-type': 'application/json' }), 400, 'BAD_REQUEST', /not valid JSON/);
    isError(await call('POST', '/subscribers', 'impi=bob', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    isError(await call('GET', '/subscribers/not-an-nai'), 400, 'BAD_REQUEST', /^params\/impi must be an NAI/);
    isError(await call('GET', '/subscribers?limit=x'), 400, 'BAD_REQUEST', /limit must be a decimal integer/);
    isError(await call('GET', '/subscribers?limit=0'), 400, 'BAD_REQUEST', /limit must be 1..1000/);
    assert.equal((await call('GET', '/subscribers/bob@ims.lab')).status, 404);
  });

  test('404 for unknown subscribers and routes', async () => {
    for (const [m, u] of [['GET', '/subscribers/nobody@ims.lab'], ['DELETE', '/subscribers/nobody@ims.lab'], ['GET', '/subscribers/nobody@ims.lab/registration']] as const) {
      isError(await call(m, u), 404, 'NOT_FOUND', /no subscriber with IMPI nobody@ims.lab/);
    }
    isError(await call('PATCH', '/subscribers/nobody@ims.lab', { amf: '0001' }), 404, 'NOT_FOUND');
    isError(await call('GET', '/nothing-here'), 404, 'NOT_FOUND', /no route GET \/nothing-here/);
  });

  test('PATCH changes fields, rotates keys only with K, replaces IMPUs; an empty patch is refused', async () => {
    const r = await call('PATCH', '/subscribers/alice@ims.lab', { amf: 'B9B9', sqn: 32 * 40, authSchemes: ['Digest-AKAv2-MD5'] });
    assert.equal(r.status, 200);
    assert.deepEqual([r.body.amf, r.body.seqHe, r.body.authSchemes], ['b9b9', 40, ['Digest-AKAv2-MD5']]);
    isError(await call('PATCH', '/subscribers/alice@ims.lab', { opc: OPC }), 400, 'BAD_REQUEST', /k is required/);
    isError(await call('PATCH', '/subscribers/alice@ims.lab', {}), 400, 'BAD_REQUEST', /must NOT have fewer than 1 properties/);
    isError(await call('PATCH', '/subscribers/alice@ims.lab', { impi: 'x@y' }), 400, 'BAD_REQUEST', /unknown field "impi"/);
    const k2 = '00112233445566778899aabbccddeeff';
    assert.equal((await call('PATCH', '/subscribers/alice@ims.lab', { k: k2, opc: k2 })).status, 200);
    assert.equal(Buffer.from((await store.allocateSqns('alice@ims.lab', 'scscf.ims.lab', 1)).k).toString('hex'), k2);
    const p = await call('PATCH', '/subscribers/alice@ims.lab', { impus: ['sip:alice@ims.lab', { impu: 'sip:alice-work@ims.lab', irs: 2 }], implicitSets: [{ irs: 2, serviceProfile: '<w/>' }] });
    assert.deepEqual(p.body.impus.map((u: { impu: string; irs: number }) => [u.impu, u.irs]), [['sip:alice@ims.lab', 1], ['sip:alice-work@ims.lab', 2]]);
    assert.deepEqual(p.body.implicitSets, [{ irs: 2, serviceProfile: '<w/>' }]);
    assert.equal(await store.getPublicIdentity('tel:+15550100'), null);
  });

  test('[R-REG-1] GET …/registration reports state and S-CSCF per IMPU as the Cx side sets them', async () => {
    await store.setRegistration('sip:alice@ims.lab', { state: 'REGISTERED', scscfName: 'sip:scscf.ims.lab' });
    const r = await call('GET', '/subscribers/alice@ims.lab/registration');
    assert.deepEqual(r.body, {
      impi: 'alice@ims.lab',
      impus: [
        { impu: 'sip:alice@ims.lab', irs: 1, state: 'REGISTERED', scscfName: 'sip:scscf.ims.lab' },
        { impu: 'sip:alice-work@ims.lab', irs: 2, state: 'NOT_REGISTERED', scscfName: null },
      ],
    });
  });

  test('list pages with limit, after and next', async () => {
    for (const n of ['carol', 'dave', 'erin']) {
      assert.equal((await call('POST', '/subscribers', { impi: `${n}@ims.lab`, impus: [`sip:${n}@ims.lab`], k: K, opc: OPC })).status, 201);
    }
    const p1 = await call('GET', '/subscribers?limit=2');
    assert.deepEqual([p1.body.subscribers.map((s: { impi: string }) => s.impi), p1.body.next], [['alice@ims.lab', 'carol@ims.lab'], 'carol@ims.lab']);
    const p2 = await call('GET', `/subscribers?limit=2&after=${encodeURIComponent(p1.body.next)}`);
    assert.deepEqual([p2.body.subscribers.map((s: { impi: string }) => s.impi), p2.body.next], [['dave@ims.lab', 'erin@ims.lab'], 'erin@ims.lab']);
    const p3 = await call('GET', `/subscribers?limit=2&after=erin@ims.lab`);
    assert.deepEqual(p3.body, { subscribers: [], next: null });
  });

  test('DELETE answers 204 once, then 404', async () => {
    const r = await call('DELETE', '/subscribers/erin@ims.lab');
    assert.equal(r.status, 204);
    assert.equal(r.body, undefined);
    assert.equal((await call('DELETE', '/subscribers/erin@ims.lab')).status, 404);
  });
});

describe('HSS REST API: OpenAPI document', () => {
  test('GET /openapi.json describes every route with the schemas the server validates with', async () => {
    const { status, body: doc } = await call('GET', '/openapi.json');
    assert.equal(status, 200);
    assert.equal(doc.openapi, '3.1.0');
    const expected: [string, string, string[]][] = [
      ['/subscribers', 'post', ['201', '400', '409', '415']],
      ['/subscribers', 'get', ['200', '400']],
      ['/subscribers/import', 'post', ['200', '400', '409', '415']],
      ['/subscribers/{impi}', 'get', ['200', '400', '404']],
      ['/subscribers/{impi}', 'patch', ['200', '400', '404', '409', '415']],
      ['/subscribers/{impi}', 'delete', ['204', '400', '404']],
      ['/subscribers/{impi}/registration', 'get', ['200', '400', '404']],
      ['/openapi.json', 'get', ['200']],
    ];
    const listed = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    assert.deepEqual(listed.sort(), expected.map(([p, m]) => `${m} ${p}`).sort());
    for (const [p, m, codes] of expected) {
      const op = doc.paths[p][m];
      assert.deepEqual(Object.keys(op.responses).sort(), codes, `${m} ${p}`);
      assert.ok(app.hasRoute({ method: m.toUpperCase(), url: p.replace(/\{(\w+)\}/g, ':$1') }), `${m} ${p} is not served`);
      if (p.includes('{impi}')) assert.deepEqual(op.parameters.map((x: { name: string; in: string }) => [x.name, x.in]), [['impi', 'path']]);
    }
    const newSub = doc.paths['/subscribers'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(newSub, doc.components.schemas.NewSubscriber);
    assert.deepEqual([newSub.required, newSub.additionalProperties, newSub.properties.k.pattern], [['impi', 'impus', 'k'], false, '^[0-9a-fA-F]{32}$']);
    const view = doc.components.schemas.Subscriber.properties;
    for (const secret of ['k', 'op', 'opc']) assert.ok(!(secret in view), `response schema exposes ${secret}`);
    assert.equal(doc.paths['/subscribers/{impi}'].get.responses['404'].content['application/json'].schema.$ref, '#/components/schemas/Error');
  });
});

describe('HSS REST API over a real loopback port', () => {
  test('listen on 127.0.0.1, create and read back with fetch', async () => {
    const s = await openStore(':memory:');
    const api = createHssRestApi(s);
    try {
      await api.listen({ host: '127.0.0.1', port: 0 });
      const { port } = api.server.address() as { port: number };
      const base = `http://127.0.0.1:${port}`;
      const created = await fetch(`${base}/subscribers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alice) });
      assert.equal(created.status, 201);
      assert.match(created.headers.get('content-type') ?? '', /^application\/json/);
      const got = await fetch(`${base}/subscribers/alice%40ims.lab`);
      const text = await got.text();
      assert.equal(got.status, 200);
      assert.equal(JSON.parse(text).impi, 'alice@ims.lab');
      assert.ok(!text.includes(K) && !text.includes(OPC));
      const bad = await fetch(`${base}/subscribers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"impi":' });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { error: string }).error, 'BAD_REQUEST');
    } finally {
      await api.close();
      await s.close();
    }
  });
});
