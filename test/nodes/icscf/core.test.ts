/**
 * The I-CSCF procedures over fake ports (no sockets): what is asked of the HSS, where requests go,
 * which SIP answers come back (TS 24.229 §5.3.1, §5.3.2; R-REG-1, R-HIDE-1).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SeededRng } from '../../../src/common/rng.js';
import { CxResult, UserAuthorizationType } from '../../../src/diameter/cx/constants.js';
import type { LocationInfoAnswer } from '../../../src/diameter/cx/lir.js';
import type { UserAuthorizationAnswer } from '../../../src/diameter/cx/uar.js';
import { DiameterTimeoutError } from '../../../src/diameter/errors.js';
import { IcscfCore, type IcscfPorts } from '../../../src/nodes/icscf/core.js';
import { NetworkMatcher } from '../../../src/nodes/icscf/network.js';
import type { RegisterQuery } from '../../../src/nodes/icscf/request-info.js';
import { ThigKey } from '../../../src/nodes/icscf/thig-token.js';
import { TrustDomain } from '../../../src/nodes/common/trust-domain.js';
import { createResponse, formatUri, parseMessage, routesOf, serializeMessage, viasOf, type SipRequest, type SipResponse } from '../../../src/sip/index.js';
import { SipTimeoutError } from '../../../src/sip/stack/index.js';

const FROM = { address: '127.0.0.1', port: 5060 };
const base = { sessionId: 's', originHost: 'hss.ims.lab', originRealm: 'ims.lab' };

interface Fake {
  ports: IcscfPorts;
  uars: RegisterQuery[];
  lirs: string[];
  sent: { req: SipRequest; target: string }[];
}

function fake(opts: {
  uaa?: (q: RegisterQuery, n: number) => UserAuthorizationAnswer | Error;
  lia?: (id: string) => LocationInfoAnswer | Error;
  answer?: (req: SipRequest, target: string) => SipResponse | Error;
}): Fake {
  const f: Fake = { uars: [], lirs: [], sent: [], ports: undefined as unknown as IcscfPorts };
  f.ports = {
    rng: new SeededRng('core'),
    async uar(q) {
      f.uars.push(q);
      const a = opts.uaa?.(q, f.uars.length) ?? new Error('no UAA');
      if (a instanceof Error) throw a;
      return a;
    },
    async lir(id) {
      f.lirs.push(id);
      const a = opts.lia?.(id) ?? new Error('no LIA');
      if (a instanceof Error) throw a;
      return a;
    },
    async forward(req, target) {
      f.sent.push({ req, target });
      const r = opts.answer?.(req, target) ?? createResponse(req, 200, 'OK');
      if (r instanceof Error) throw r;
      return r;
    },
  };
  return f;
}

function core(f: Fake, extra: Partial<ConstructorParameters<typeof IcscfCore>[0]> = {}): IcscfCore {
  return new IcscfCore(
    {
      home: new NetworkMatcher({ domains: ['ims.lab'], addresses: ['127.0.0.1:6060', '127.0.0.1:6061', '127.0.0.1:5060'] }),
      trusted: new NetworkMatcher({ domains: ['partner.lab'] }),
      homeDomains: ['ims.lab'],
      isSelf: (h, p) => h === 'icscf.ims.lab' && (p ?? 5060) === 4060,
      recordRouteEntry: '<sip:icscf.ims.lab:4060;lr>',
      scscfs: [{ uri: 'sip:scscf1.ims.lab:6060', capabilities: [1] }, { uri: 'sip:scscf2.ims.lab:6061', capabilities: [1, 2] }],
      defaultVisitedNetwork: 'ims.lab',
      trustedRegisterOnly: false,
      recordRoute: 'thig',
      ...extra,
    },
    f.ports,
  );
}

const msg = (lines: string[]): SipRequest => parseMessage(Buffer.from([...lines, 'Content-Length: 0', '', ''].join('\r\n'), 'latin1')) as SipRequest;
const register = (extra: string[] = []): SipRequest =>
  msg(['REGISTER sip:ims.lab SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKpc', 'Max-Forwards: 69', 'To: <sip:alice@ims.lab>', 'From: <sip:alice@ims.lab>;tag=1', 'Call-ID: reg-1', 'CSeq: 1 REGISTER', 'Contact: <sip:alice@10.0.0.1:5060>', 'Authorization: Digest username="alice@ims.lab", realm="ims.lab", nonce="", uri="sip:ims.lab", response=""', ...extra]);
const message = (uri: string, extra: string[] = []): SipRequest =>
  msg([`MESSAGE ${uri} SIP/2.0`, 'Via: SIP/2.0/UDP gw.other.lab;branch=z9hG4bKgw', 'Max-Forwards: 70', `To: <${uri}>`, 'From: <sip:carol@other.lab>;tag=c', 'Call-ID: m-1', 'CSeq: 1 MESSAGE', ...extra]);

describe('I-CSCF registration routing (TS 24.229 §5.3.1; R-REG-1)', () => {
  test('[R-REG-1] UAR with IMPI, IMPU, visited network; forwarded to the Server-Name; response relayed', async () => {
    const f = fake({ uaa: () => ({ ...base, result: CxResult.SUBSEQUENT_REGISTRATION, serverName: 'sip:scscf2.ims.lab:6061' }), answer: (r) => createResponse(r, 401, 'Unauthorized') });
    const resp = await core(f).handle(register(['P-Visited-Network-ID: visited.lab']), FROM);
    assert.equal(resp.status, 401);
    assert.deepEqual(f.uars, [{ impi: 'alice@ims.lab', impu: 'sip:alice@ims.lab', visitedNetwork: 'visited.lab', authorizationType: UserAuthorizationType.REGISTRATION }]);
    assert.equal(f.sent.length, 1);
    assert.equal(f.sent[0].target, 'sip:scscf2.ims.lab:6061');
    assert.equal(f.sent[0].req.headers.get('route'), undefined, 'REGISTER goes to the S-CSCF without a Route');
  });

  test('[R-REG-1] Server-Capabilities: the best S-CSCF is chosen; a time-out moves on to the next; all failed → 408', async () => {
    const caps = { mandatory: [1], optional: [2], serverNames: [] };
    const f = fake({ uaa: () => ({ ...base, result: CxResult.FIRST_REGISTRATION, serverCapabilities: caps }), answer: () => new SipTimeoutError('REGISTER', 'F') });
    const resp = await core(f).handle(register(), FROM);
    assert.deepEqual(f.sent.map((s) => s.target), ['sip:scscf2.ims.lab:6061', 'sip:scscf1.ims.lab:6060']);
    assert.equal(resp.status, 408);
  });

  test('[R-REG-1] the named S-CSCF answers 480: UAR again with REGISTRATION_AND_CAPABILITIES, another S-CSCF is used', async () => {
    const f = fake({
      uaa: (_q, n) => (n === 1 ? { ...base, result: CxResult.SUBSEQUENT_REGISTRATION, serverName: 'sip:scscf1.ims.lab:6060' } : { ...base, result: CxResult.SUCCESS, serverCapabilities: { mandatory: [1], optional: [], serverNames: [] } }),
      answer: (r, target) => createResponse(r, target.includes('scscf1') ? 480 : 200, target.includes('scscf1') ? 'Temporarily Unavailable' : 'OK'),
    });
    const resp = await core(f).handle(register(), FROM);
    assert.equal(resp.status, 200);
    assert.deepEqual(f.uars.map((q) => q.authorizationType), [UserAuthorizationType.REGISTRATION, UserAuthorizationType.REGISTRATION_AND_CAPABILITIES]);
    assert.deepEqual(f.sent.map((s) => s.target), ['sip:scscf1.ims.lab:6060', 'sip:scscf2.ims.lab:6061']);
  });

  test('[R-REG-1] UAR errors map to SIP: user unknown 403, roaming not allowed 403, HSS time-out 480; no capable S-CSCF → 600', async () => {
    const cases: [() => UserAuthorizationAnswer | Error, number][] = [
      [() => ({ ...base, result: CxResult.ERROR_USER_UNKNOWN }), 403],
      [() => ({ ...base, result: CxResult.ERROR_ROAMING_NOT_ALLOWED }), 403],
      [() => new DiameterTimeoutError('no UAA', 7, 3000), 480],
      [() => ({ ...base, result: CxResult.FIRST_REGISTRATION, serverCapabilities: { mandatory: [99], optional: [], serverNames: [] } }), 600],
    ];
    for (const [uaa, status] of cases) {
      const f = fake({ uaa });
      const resp = await core(f).handle(register(), FROM);
      assert.equal(resp.status, status);
      assert.equal(f.sent.length, 0);
      assert.deepEqual(viasOf(resp).map((v) => v.host), ['127.0.0.1']);
    }
  });

  test('[R-REG-1] Expires: 0 asks DE_REGISTRATION; a REGISTER from an untrusted source is refused when configured', async () => {
    const f = fake({ uaa: () => ({ ...base, result: CxResult.SUCCESS, serverName: 'sip:scscf1.ims.lab:6060' }) });
    await core(f).handle(register(['Expires: 0']), FROM);
    assert.equal(f.uars[0].authorizationType, UserAuthorizationType.DE_REGISTRATION);
    const g = fake({ uaa: () => ({ ...base, result: CxResult.SUCCESS, serverName: 'sip:scscf1.ims.lab:6060' }) });
    const resp = await core(g, { trustedRegisterOnly: true }).handle(register(), { address: '192.0.2.9', port: 5060 });
    assert.equal(resp.status, 403);
    assert.equal(g.uars.length, 0);
  });

  test('Max-Forwards 0 → 483 without asking the HSS', async () => {
    const f = fake({});
    const r = register();
    r.headers.set('Max-Forwards', '0');
    assert.equal((await core(f).handle(r, FROM)).status, 483);
    assert.equal(f.uars.length, 0);
  });
});

describe('I-CSCF requests to a user (TS 24.229 §5.3.2)', () => {
  test('LIR → the serving S-CSCF is put on top of Route (with lr) and the request goes there', async () => {
    const f = fake({ lia: () => ({ ...base, result: CxResult.SUCCESS, serverName: 'sip:scscf1.ims.lab:6060' }) });
    const resp = await core(f).handle(message('sip:bob@ims.lab'), FROM);
    assert.equal(resp.status, 200);
    assert.deepEqual(f.lirs, ['sip:bob@ims.lab']);
    assert.equal(f.sent[0].target, 'sip:scscf1.ims.lab:6060');
    assert.equal(f.sent[0].req.headers.get('route'), '<sip:scscf1.ims.lab:6060;lr>');
  });

  test('LIA user unknown → 404, not registered → 480, HSS time-out → 480', async () => {
    for (const [lia, status] of [
      [() => ({ ...base, result: CxResult.ERROR_USER_UNKNOWN }), 404],
      [() => ({ ...base, result: CxResult.ERROR_IDENTITY_NOT_REGISTERED }), 480],
      [() => new DiameterTimeoutError('t', 1, 1), 480],
    ] as const) {
      const f = fake({ lia });
      assert.equal((await core(f).handle(message('sip:bob@ims.lab'), FROM)).status, status);
      assert.equal(f.sent.length, 0);
    }
  });

  test('a Route naming this I-CSCF is removed; the next Route is where the request goes; no HSS query', async () => {
    const f = fake({});
    await core(f).handle(message('sip:bob@ims.lab', ['Route: <sip:icscf.ims.lab:4060;lr>, <sip:scscf2.ims.lab:6061;lr>']), FROM);
    assert.equal(f.lirs.length, 0);
    assert.equal(f.sent[0].target, 'sip:scscf2.ims.lab:6061;lr');
    assert.equal(f.sent[0].req.headers.get('route'), '<sip:scscf2.ims.lab:6061;lr>');
  });
});

describe('I-CSCF topology hiding on the way out and back (R-HIDE-1)', () => {
  const KV = new Uint8Array(16).fill(0x42);
  const thig = (kv = KV) => {
    const home = new NetworkMatcher({ domains: ['ims.lab'], addresses: ['127.0.0.1:6060', '127.0.0.1:5060'] });
    return { key: new ThigKey(kv), domain: 'ims.lab', domains: ['ims.lab'], host: 'icscf.ims.lab', port: 4060, isHome: (h: string, p?: number) => home.has(h, p), isSelf: (h: string, p?: number) => h === 'icscf.ims.lab' && p === 4060 };
  };
  const outgoing = () =>
    msg([
      'MESSAGE sip:bob@other.lab SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:6060;branch=z9hG4bKsc, SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKpc',
      'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKue;rport=5060',
      'Route: <sip:icscf.ims.lab:4060;lr>',
      'Record-Route: <sip:127.0.0.1:6060;lr>',
      'Max-Forwards: 68',
      'To: <sip:bob@other.lab>',
      'From: <sip:alice@ims.lab>;tag=a',
      'Call-ID: out-1',
      'CSeq: 1 MESSAGE',
    ]);

  test('[R-HIDE-1] a request leaving the network is hidden; its response comes back with the exact original Vias', async () => {
    let seen: SipRequest | undefined;
    const f = fake({
      answer: (req) => {
        seen = req;
        const r = createResponse(req, 200, 'OK');
        for (const v of req.headers.getLines('record-route')) r.headers.append('Record-Route', v);
        return r;
      },
    });
    const original = outgoing();
    const resp = await core(f, { thig: thig() }).handle(original, { address: '127.0.0.1', port: 6060 });
    assert.ok(seen);
    const wire = Buffer.from(serializeMessage(seen)).toString();
    assert.ok(!wire.includes('127.0.0.1:6060') && !wire.includes('127.0.0.1:5060') && !wire.includes('z9hG4bKsc'), wire);
    assert.ok(wire.includes('10.0.0.1:5060;branch=z9hG4bKue'), 'an entry outside the home network stays as it is');
    assert.equal(f.sent[0].target, 'sip:bob@other.lab');
    assert.equal(resp.status, 200);
    assert.deepEqual(resp.headers.getLines('via'), original.headers.getLines('via'));
    assert.deepEqual(resp.headers.getLines('record-route'), ['<sip:127.0.0.1:6060;lr>']);
  });

  test('[R-HIDE-1] a request coming in with a token another I-CSCF wrote is routed by the revealed Route', async () => {
    // I-CSCF A hides the outgoing request's Record-Route; the foreign UAS's in-dialog request comes back with it as Route.
    const a = fake({});
    await core(a, { thig: thig() }).handle(outgoing(), { address: '127.0.0.1', port: 6060 });
    const token = routesOf(a.sent[0].req, 'Record-Route').find((r) => r.uri.kind === 'sip' && r.uri.params.has('tokenized-by'));
    assert.ok(token);
    const inDialog = message('sip:alice@10.0.0.1:5060', [`Route: <sip:icscf.ims.lab:4060;lr>, <${formatUri(token.uri)}>`]);
    // I-CSCF B (same Kv) opens it: the request goes to the S-CSCF the token hid.
    const b = fake({});
    const resp = await core(b, { thig: thig(Uint8Array.from(KV)) }).handle(inDialog, { address: '192.0.2.1', port: 5060 });
    assert.equal(resp.status, 200);
    assert.equal(b.sent[0].target, 'sip:127.0.0.1:6060;lr');
    // I-CSCF C (another Kv) refuses it.
    const c = fake({});
    const refused = await core(c, { thig: thig(new Uint8Array(16)) }).handle(inDialog, { address: '192.0.2.1', port: 5060 });
    assert.equal(refused.status, 403);
    assert.equal(c.sent.length, 0);
  });

  test('[R-HIDE-1] an ACK for a 2xx is routed statelessly: token opened, own Route removed, hidden again when it leaves', () => {
    const a = fake({});
    const c = core(a, { thig: thig() });
    const ack = msg([
      'ACK sip:alice@10.0.0.1:5060 SIP/2.0',
      'Via: SIP/2.0/UDP gw.other.lab;branch=z9hG4bKack',
      'Route: <sip:icscf.ims.lab:4060;lr>, <sip:127.0.0.1:6060;lr>',
      'Max-Forwards: 70',
      'To: <sip:alice@ims.lab>;tag=a',
      'From: <sip:carol@other.lab>;tag=c',
      'Call-ID: ack-1',
      'CSeq: 1 ACK',
    ]);
    const r = c.routeStateless(ack);
    assert.ok(r);
    assert.equal(r.target, 'sip:127.0.0.1:6060;lr');
    assert.equal(r.msg.headers.get('route'), '<sip:127.0.0.1:6060;lr>');
    // Leaving the network (Request-URI outside, no Route): the home Via entries are hidden.
    const out = msg([
      'ACK sip:carol@gw.other.lab SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:6060;branch=z9hG4bKs2',
      'Max-Forwards: 70',
      'To: <sip:carol@other.lab>;tag=c',
      'From: <sip:alice@ims.lab>;tag=a',
      'Call-ID: ack-2',
      'CSeq: 1 ACK',
    ]);
    const o = c.routeStateless(out);
    assert.ok(o);
    assert.equal(o.target, 'sip:carol@gw.other.lab');
    assert.ok(!Buffer.from(serializeMessage(o.msg)).toString().includes('z9hG4bKs2'));
    assert.equal(c.counters.tokensWritten, 1);
  });
});

describe('[O] trust domain at the I-CSCF (RFC 3325 §5, TS 24.229 §4.4)', () => {
  const trustDomain = new TrustDomain(['127.0.0.1', '10.1.0.0/16']);
  const lia = () => ({ ...base, result: CxResult.SUCCESS, serverName: 'sip:scscf1.ims.lab:6060' });
  const forged = ['P-Asserted-Identity: <sip:alice@ims.lab>', 'P-Access-Network-Info: 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=001010001', 'P-Charging-Vector: icid-value=1'];

  test('[R-ANON-1] [O] a MESSAGE from outside the trust domain reaches the S-CSCF without P-Asserted-Identity, P-Access-Network-Info, P-Charging-Vector', async () => {
    const f = fake({ lia });
    const resp = await core(f, { trustDomain }).handle(message('sip:bob@ims.lab', forged), { address: '127.0.0.2', port: 5060 });
    assert.equal(resp.status, 200);
    assert.equal(f.sent.length, 1);
    for (const h of ['p-asserted-identity', 'p-access-network-info', 'p-charging-vector']) assert.equal(f.sent[0].req.headers.get(h), undefined, h);
  });

  test('[R-ANON-1] [O] from inside (an address or a prefix of the domain) the asserted identity is kept', async () => {
    for (const address of ['127.0.0.1', '10.1.200.3']) {
      const f = fake({ lia });
      await core(f, { trustDomain }).handle(message('sip:bob@ims.lab', forged), { address, port: 40_000 });
      assert.equal(f.sent[0].req.headers.get('p-asserted-identity'), '<sip:alice@ims.lab>', address);
    }
  });

  test('[O] a REGISTER from outside loses integrity-protected, so the S-CSCF never skips AKA on its word (TS 24.229 §5.4.1.1)', async () => {
    const f = fake({ uaa: () => ({ ...base, result: CxResult.SUBSEQUENT_REGISTRATION, serverName: 'sip:scscf1.ims.lab:6060' }) });
    const req = msg(['REGISTER sip:ims.lab SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKx', 'Max-Forwards: 69', 'To: <sip:alice@ims.lab>', 'From: <sip:alice@ims.lab>;tag=1', 'Call-ID: reg-x', 'CSeq: 1 REGISTER', 'Contact: <sip:alice@10.0.0.1:5060>', 'Authorization: Digest integrity-protected="yes", username="alice@ims.lab", realm="ims.lab", nonce="", uri="sip:ims.lab", response=""']);
    await core(f, { trustDomain }).handle(req, { address: '192.0.2.1', port: 5060 });
    const auth = f.sent[0].req.headers.get('authorization') ?? '';
    assert.doesNotMatch(auth, /integrity-protected/);
    assert.match(auth, /^Digest username="alice@ims\.lab", realm="ims\.lab"/);
  });
});
