/**
 * Routing between users at the S-CSCF (TS 24.229 §5.4.3.2 originating, §5.4.3.3 terminating):
 * the decisions the core hands to the wire, for users registered with the real registrar.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SipHeaders, SipRequest, routesOf } from '../../../src/sip/index.js';
import { harness, provision, register, registerFully, TestIsim, type Harness } from './harness.js';

const PATH = '<sip:term@pcscf.ims.lab:5060;lr>';

async function twoUsers(config: Record<string, unknown> = {}): Promise<Harness> {
  const h = await harness({ config });
  await provision(h.hssStore, 'alice@ims.lab', ['sip:alice@ims.lab', 'tel:+15550001']);
  await provision(h.hssStore, 'bob@ims.lab', ['sip:bob@ims.lab']);
  assert.equal((await registerFully(h.core, new TestIsim(), { path: [PATH] })).status, 200);
  assert.equal((await registerFully(h.core, new TestIsim(), { impu: 'sip:bob@ims.lab', impi: 'bob@ims.lab', contact: '<sip:bob@192.0.2.20:5070>', callId: 'b' })).status, 200);
  return h;
}

function request(o: { method?: string; target: string; from: string; orig?: boolean; routes?: string[]; mf?: number; pai?: boolean; toTag?: string }): SipRequest {
  const h = new SipHeaders();
  h.append('Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKmsg');
  if (o.orig) h.append('Route', '<sip:orig@scscf.ims.lab:6060;lr>');
  for (const r of o.routes ?? []) h.append('Route', r);
  h.append('Max-Forwards', String(o.mf ?? 69));
  h.append('From', `<${o.from}>;tag=f1`);
  h.append('To', `<${o.target}>${o.toTag ? `;tag=${o.toTag}` : ''}`);
  h.append('Call-ID', 'msg-1');
  h.append('CSeq', `1 ${o.method ?? 'MESSAGE'}`);
  if (o.pai !== false) h.append('P-Asserted-Identity', `<${o.from}>`);
  return new SipRequest(o.method ?? 'MESSAGE', o.target, h, new TextEncoder().encode('hi'));
}

describe('TS 24.229 §5.4.3.2–5.4.3.3: routing', () => {
  test('originating to a user registered here: terminating at once — Request-URI = contact, Route = Path, P-Called-Party-ID', async () => {
    const h = await twoUsers();
    try {
      const d = h.core.route(request({ target: 'sip:alice@ims.lab', from: 'sip:bob@ims.lab', orig: true }));
      assert.equal(d.kind, 'forward');
      if (d.kind !== 'forward') return;
      assert.equal(d.leg, 'terminating');
      assert.equal(d.originating, true);
      assert.equal(d.request.uri, 'sip:alice@192.0.2.10:5070');
      assert.deepEqual(d.request.headers.getAll('route'), [PATH], 'our Service-Route entry is gone, the Path is the new route set');
      assert.equal(d.request.headers.get('p-called-party-id'), '<sip:alice@ims.lab>');
      assert.deepEqual({ address: d.dest.address, port: d.dest.port, transport: d.dest.transport }, { address: '127.0.0.1', port: 5060, transport: 'udp' });
    } finally {
      await h.close();
    }
  });

  test('a tel URI of the implicit set reaches the same contact; a user without Path is reached at its contact directly', async () => {
    const h = await twoUsers();
    try {
      const a = h.core.route(request({ target: 'tel:+15550001', from: 'sip:bob@ims.lab', orig: true }));
      assert.ok(a.kind === 'forward' && a.request.uri === 'sip:alice@192.0.2.10:5070');
      const b = h.core.route(request({ target: 'sip:bob@ims.lab', from: 'sip:alice@ims.lab', orig: true }));
      assert.ok(b.kind === 'forward');
      if (b.kind !== 'forward') return;
      assert.equal(b.request.headers.get('route'), undefined);
      assert.deepEqual({ address: b.dest.address, port: b.dest.port }, { address: '192.0.2.20', port: 5070 });
    } finally {
      await h.close();
    }
  });

  test('originating to a user not registered here: to the I-CSCF; without one configured, 404', async () => {
    const h = await twoUsers();
    try {
      const d = h.core.route(request({ target: 'sip:carol@ims.lab', from: 'sip:alice@ims.lab', orig: true }));
      assert.ok(d.kind === 'forward');
      if (d.kind !== 'forward') return;
      assert.equal(d.leg, 'icscf');
      assert.equal(d.request.uri, 'sip:carol@ims.lab');
      assert.deepEqual({ address: d.dest.address, port: d.dest.port }, { address: '127.0.0.1', port: 4060 });
    } finally {
      await h.close();
    }
    const h2 = await twoUsers({ icscf: null });
    try {
      const d = h2.core.route(request({ target: 'sip:carol@ims.lab', from: 'sip:alice@ims.lab', orig: true }));
      assert.equal(d.kind === 'reject' && d.status, 404);
    } finally {
      await h2.close();
    }
  });

  test('an originating request whose served user is not registered here is refused (403)', async () => {
    const h = await twoUsers();
    try {
      const d = h.core.route(request({ target: 'sip:alice@ims.lab', from: 'sip:mallory@ims.lab', orig: true }));
      assert.equal(d.kind === 'reject' && d.status, 403);
    } finally {
      await h.close();
    }
  });

  test('terminating (from the I-CSCF, no Route): to the registered contact; an unknown user is 404', async () => {
    const h = await twoUsers();
    try {
      const d = h.core.route(request({ target: 'sip:alice@ims.lab', from: 'sip:zoe@other.net' }));
      assert.ok(d.kind === 'forward' && d.leg === 'terminating' && d.originating === false);
      const u = h.core.route(request({ target: 'sip:nobody@ims.lab', from: 'sip:zoe@other.net' }));
      assert.equal(u.kind === 'reject' && u.status, 404);
    } finally {
      await h.close();
    }
  });

  test('a dialog-creating INVITE gets the S-CSCF in Record-Route; a MESSAGE does not', async () => {
    const h = await twoUsers();
    try {
      const d = h.core.route(request({ method: 'INVITE', target: 'sip:alice@ims.lab', from: 'sip:bob@ims.lab', orig: true }));
      assert.ok(d.kind === 'forward');
      if (d.kind === 'forward') assert.deepEqual(routesOf(d.request, 'Record-Route').map((r) => r.uri.kind === 'sip' && `${r.uri.host}:${r.uri.port}`), ['scscf.ims.lab:6060']);
      const m = h.core.route(request({ target: 'sip:alice@ims.lab', from: 'sip:bob@ims.lab', orig: true }));
      assert.ok(m.kind === 'forward' && !m.request.headers.has('record-route'));
    } finally {
      await h.close();
    }
  });

  test('loose routing: with Route entries left after ours, the request goes to the next one; an unresolvable one is a 404, not a throw', async () => {
    const h = await twoUsers({ hosts: { 'as.ims.lab': '127.0.0.7', 'pcscf.ims.lab': '127.0.0.1', 'icscf.ims.lab': '127.0.0.1' } });
    try {
      const d = h.core.route(request({ target: 'sip:alice@ims.lab', from: 'sip:bob@ims.lab', orig: true, routes: ['<sip:as.ims.lab:7070;lr>'] }));
      assert.ok(d.kind === 'forward' && d.leg === 'route');
      if (d.kind !== 'forward') return;
      assert.equal(d.request.uri, 'sip:alice@ims.lab');
      assert.deepEqual(d.request.headers.getAll('route'), ['<sip:as.ims.lab:7070;lr>']);
      assert.deepEqual({ address: d.dest.address, port: d.dest.port }, { address: '127.0.0.7', port: 7070 });
      const u = h.core.route(request({ target: 'sip:alice@ims.lab', from: 'sip:bob@ims.lab', orig: true, routes: ['<sip:nowhere.example:7070;lr>'] }));
      assert.equal(u.kind === 'reject' && u.status, 404);
    } finally {
      await h.close();
    }
  });

  test('Max-Forwards 0 → 483', async () => {
    const h = await twoUsers();
    try {
      const d = h.core.route(request({ target: 'sip:alice@ims.lab', from: 'sip:bob@ims.lab', orig: true, mf: 0 }));
      assert.equal(d.kind === 'reject' && d.status, 483);
    } finally {
      await h.close();
    }
  });
});

describe('[O] trust domain at the S-CSCF (RFC 3325 §5; TS 24.229 §4.4, §5.4.3.1)', () => {
  /** The decision for a request arriving from `address` (the wire's view of the previous hop). */
  async function from(h: Harness, req: SipRequest, address: string) {
    const out = await h.core.onRequest(req, () => assert.fail('routed requests are not answered by the core'), { transport: 'tcp', address, port: 41_000 });
    assert.equal(out.kind, 'route');
    return out.kind === 'route' ? out.decision : assert.fail();
  }

  test('[O] an originating request from the P-CSCF recorded in Path (any source port, e.g. a TCP connection) is served', async () => {
    const h = await twoUsers();
    try {
      const d = await from(h, request({ target: 'sip:bob@ims.lab', from: 'sip:alice@ims.lab', orig: true }), '127.0.0.1');
      assert.equal(d.kind, 'forward');
    } finally {
      await h.close();
    }
  });

  test('[O] an originating request straight from anyone else is refused 403 (§5.4.3.1: only the registration\'s P-CSCF uses the Service-Route)', async () => {
    const h = await twoUsers({ trustDomain: ['127.0.0.0/8'] });
    try {
      for (const address of ['127.0.0.2', '192.0.2.66']) {
        const d = await from(h, request({ target: 'sip:bob@ims.lab', from: 'sip:alice@ims.lab', orig: true }), address);
        assert.equal(d.kind, 'reject', address);
        assert.ok(d.kind === 'reject' && d.status === 403 && /not from the P-CSCF/.test(d.headers?.[0]?.[1] ?? ''), address);
      }
    } finally {
      await h.close();
    }
  });

  test('[R-ANON-1] [O] a terminating request from outside the trust domain reaches the callee without the forged P-Asserted-Identity', async () => {
    const h = await twoUsers();
    try {
      const req = request({ target: 'sip:alice@ims.lab', from: 'sip:bob@ims.lab' });
      req.headers.append('P-Access-Network-Info', '3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=001010001');
      const d = await from(h, req, '192.0.2.66');
      assert.ok(d.kind === 'forward');
      assert.equal(d.kind === 'forward' && d.request.headers.get('p-asserted-identity'), undefined);
      assert.equal(d.kind === 'forward' && d.request.headers.get('p-access-network-info'), undefined);
      assert.equal(h.core.counters.untrustedStripped, 1);
      const inside = await from(h, request({ target: 'sip:alice@ims.lab', from: 'sip:bob@ims.lab' }), '127.0.0.1');
      assert.equal(inside.kind === 'forward' && inside.request.headers.get('p-asserted-identity'), '<sip:bob@ims.lab>', 'inside the domain the identity stays');
    } finally {
      await h.close();
    }
  });

  test('[R-REG-4] [O] a REGISTER marked integrity-protected from outside the trust domain is challenged even when policy skips AKA', async () => {
    const h = await twoUsers({ registrar: { skipAkaWhenProtected: true } });
    try {
      const req = register({ impu: 'sip:bob@ims.lab', impi: 'bob@ims.lab', contact: '<sip:bob@192.0.2.20:5070>', callId: 'b', cseq: 10, integrity: 'yes' });
      let status = 0;
      await h.core.onRequest(req, (s) => void (status = s), { transport: 'udp', address: '192.0.2.66', port: 5060 });
      assert.equal(status, 401);
      const again = register({ impu: 'sip:bob@ims.lab', impi: 'bob@ims.lab', contact: '<sip:bob@192.0.2.20:5070>', callId: 'b', cseq: 11, integrity: 'yes' });
      await h.core.onRequest(again, (s) => void (status = s), { transport: 'udp', address: '127.0.0.1', port: 5060 });
      assert.equal(status, 200, 'from inside, the policy applies');
    } finally {
      await h.close();
    }
  });
});
