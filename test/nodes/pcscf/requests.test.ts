/**
 * Requests after registration at the P-CSCF: originating ones checked against the SA table and
 * asserted (TS 24.229 §5.2.6.3, RFC 3325; SPEC R-SA-4, R-ANON-1/2), terminating ones sent over the
 * SAs (TS 33.203 §7.1) with the privacy the request asks for (RFC 3323, RFC 3325).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { protectionOf } from '../../../src/sip/transport/protected/index.js';
import { SipHeaders, SipRequest, routesOf, formatUri, type SipResponse } from '../../../src/sip/index.js';
import { HOST, settle, StubCore, waitFor, world } from './support.js';

type World = Awaited<ReturnType<typeof world>>;

function toUe(stub: StubCore, pcscf: { sip: { address: string; port: number } }, uePortS: number, o: { extra?: [string, string][]; method?: string; route?: string; to?: string } = {}): Promise<SipResponse> {
  const h = new SipHeaders();
  h.append('Route', o.route ?? `<sip:term@${pcscf.sip.address}:${pcscf.sip.port};lr>`);
  h.append('From', '<sip:bob@ims.lab>;tag=b1');
  h.append('To', `<${o.to ?? 'sip:alice@ims.lab'}>`);
  h.append('Call-ID', `t-${Math.random().toString(16).slice(2)}`);
  h.append('CSeq', `1 ${o.method ?? 'MESSAGE'}`);
  h.append('P-Asserted-Identity', '<sip:bob@ims.lab>, <tel:+15550000>');
  for (const [k, v] of o.extra ?? []) h.append(k, v);
  h.append('Content-Type', 'text/plain');
  return stub.stack.sendRequest(new SipRequest(o.method ?? 'MESSAGE', `sip:alice@${HOST}:${uePortS}`, h, new TextEncoder().encode('hello')), { address: pcscf.sip.address, port: pcscf.sip.port });
}

describe('TS 24.229 §5.2.6.3: originating requests over the SAs', () => {
  let w: World;
  afterEach(async () => {
    await w.close();
  });

  test('[R-SA-4] [R-ANON-1] a request from a registered IMPU is asserted, stripped of sec-agree and sent along the Service-Route', async () => {
    w = await world();
    const { ue, stub, pcscf } = w;
    await ue.register(stub);
    const req = ue.message('sip:bob@ims.lab', { routes: [`<sip:${HOST}:${ue.accepted!.pcscf.portS};lr>`] });
    req.headers.append('Security-Verify', (await import('../../../src/secagree/index.js')).formatSecurityMechanisms(ue.accepted!.verify));
    req.headers.append('Proxy-Require', 'sec-agree');
    req.headers.append('Require', 'sec-agree');
    const r = await ue.sendProtected(req);
    assert.equal(r.status, 200);
    const got = stub.last('MESSAGE')!;
    assert.equal(got.headers.get('P-Asserted-Identity'), '<sip:alice@ims.lab>');
    assert.equal(got.headers.get('Security-Verify'), undefined);
    assert.equal(got.headers.get('Proxy-Require'), undefined);
    assert.equal(got.headers.get('Require'), undefined);
    // Its own Route entry popped, the Service-Route of the registration followed.
    assert.deepEqual(routesOf(got).map((n) => formatUri(n.uri)), [`sip:orig@${HOST}:${stub.port};lr`]);
    assert.equal(pcscf.counters().forwardedOriginating, 1);
  });

  test('RFC 3261 §16.6 step 6: a request inside a dialog with an empty route set goes to its Request-URI (the remote target), not to the I-CSCF', async () => {
    w = await world();
    const { ue, stub, pcscf } = w;
    await ue.register(stub);
    // The notifier of a reg-event subscription that did not record-route: another node than the I-CSCF.
    const notifier = await StubCore.start(w.clock, 'notifier');
    try {
      const h = new SipHeaders();
      h.append('From', '<sip:alice@ims.lab>;tag=sub1');
      h.append('To', '<sip:alice@ims.lab>;tag=notifier1');
      h.append('Call-ID', 'ue-sub-dialog');
      h.append('CSeq', '2 SUBSCRIBE');
      h.append('Event', 'reg');
      h.append('Expires', '600');
      h.append('Contact', `<sip:${HOST}:${ue.local.portS}>`);
      const r = await ue.sendProtected(new SipRequest('SUBSCRIBE', `sip:scscf@${HOST}:${notifier.port}`, h));
      assert.equal(r.status, 200);
      assert.equal(notifier.all('SUBSCRIBE').length, 1, 'at the remote target');
      assert.equal(stub.all('SUBSCRIBE').length, 0, 'not at the I-CSCF');
      assert.equal(pcscf.counters().forwardedOriginating, 1);
    } finally {
      await notifier.close();
    }
  });

  test('[R-SA-4] P-Preferred-Identity naming another registered IMPU (tel URI) becomes P-Asserted-Identity', async () => {
    w = await world();
    const { ue, stub } = w;
    await ue.register(stub);
    const r = await ue.sendProtected(ue.message('sip:bob@ims.lab', { ppi: 'tel:+1-555-1234' }));
    assert.equal(r.status, 200);
    const got = stub.last('MESSAGE')!;
    assert.equal(got.headers.get('P-Asserted-Identity'), '<tel:+1-555-1234>');
    assert.equal(got.headers.get('P-Preferred-Identity'), undefined);
  });

  test('[R-SA-4] RFC 3261 §16.3 step 1: fields the P-CSCF does not read go on unchanged, well-formed or not; a P-Preferred-Identity it cannot read gets 400 naming it', async () => {
    w = await world();
    const { ue, stub, pcscf } = w;
    await ue.register(stub);
    // RFC 3261 §16.3 step 1: "an element would not reject a request because of a malformed Date header field".
    const odd = ue.message('sip:bob@ims.lab');
    odd.headers.append('Date', 'Fri, 01 Jan 2010 16:00:00 EST');
    odd.headers.append('Warning', 'not a warning');
    odd.headers.append('Subscription-State', ';;');
    assert.equal((await ue.sendProtected(odd)).status, 200);
    const got = stub.last('MESSAGE')!;
    assert.deepEqual(['Date', 'Warning', 'Subscription-State'].map((n) => got.headers.get(n)), ['Fri, 01 Jan 2010 16:00:00 EST', 'not a warning', ';;']);
    const bad = ue.message('sip:bob@ims.lab');
    bad.headers.append('P-Preferred-Identity', '<sip:alice@ims.lab');
    const r = await ue.sendProtected(bad);
    assert.deepEqual([r.status, r.reason], [400, 'Bad P-Preferred-Identity']);
    assert.equal(stub.all('MESSAGE').length, 1);
    assert.equal(pcscf.counters().identityRejected, 0);
  });

  test('[R-SA-4] a protected request claiming an IMPU not bound to its SA is discarded', async () => {
    w = await world();
    const { ue, stub, pcscf } = w;
    await ue.register(stub);
    void ue.sendProtected(ue.message('sip:bob@ims.lab', { from: 'sip:mallory@ims.lab' })).catch(() => undefined);
    await waitFor(() => pcscf.counters().identityRejected === 1, 'identity rejection');
    void ue.sendProtected(ue.message('sip:bob@ims.lab', { ppi: 'sip:bob@ims.lab' })).catch(() => undefined);
    await waitFor(() => pcscf.counters().identityRejected === 2, 'identity rejection (P-Preferred-Identity)');
    await settle();
    assert.equal(stub.all('MESSAGE').length, 0);
  });

  test('[R-ANON-2] a pseudonym IMPU of the registered set is handled like any other IMPU', async () => {
    w = await world();
    const { ue, stub, pcscf } = w;
    stub.associated = ['sip:alice@ims.lab', 'sip:anon-4f1c92@ims.lab'];
    await ue.register(stub);
    const r = await ue.sendProtected(ue.message('sip:bob@ims.lab', { from: 'sip:anon-4f1c92@ims.lab' }));
    assert.equal(r.status, 200);
    assert.equal(stub.last('MESSAGE')!.headers.get('P-Asserted-Identity'), '<sip:anon-4f1c92@ims.lab>');
    const a = pcscf.address();
    const t = await toUe(stub, a, ue.local.portS, { to: 'sip:anon-4f1c92@ims.lab' });
    assert.equal(t.status, 200);
  });
});

describe('TS 33.203 §7.1, RFC 3323/3325: terminating requests towards the UE', () => {
  let w: World;
  afterEach(async () => {
    await w.close();
  });

  test('[R-SA-3] a terminating request goes from the P-CSCF port-c to the UE port-s on the UE-chosen spi-s; the answer comes back', async () => {
    w = await world();
    const { ue, stub, pcscf } = w;
    await ue.register(stub);
    let seen: { spi: number; local: number; remote: number } | undefined;
    ue.onProtectedRequest = (req, ctx) => {
      seen = { spi: protectionOf(req)!.spi, local: ctx.local.port, remote: ctx.remote.port };
      ctx.reply(200, 'OK');
    };
    const r = await toUe(stub, pcscf.address(), ue.local.portS);
    assert.equal(r.status, 200);
    assert.deepEqual(seen, { spi: ue.local.spiS, local: ue.local.portS, remote: ue.accepted!.pcscf.portC });
    assert.equal(pcscf.counters().forwardedTerminating, 1);
  });

  test('[R-ANON-1] P-Asserted-Identity reaches a trusted UE without privacy, and is removed for Privacy: id', async () => {
    w = await world();
    const { ue, stub, pcscf } = w;
    await ue.register(stub);
    const r1 = await toUe(stub, pcscf.address(), ue.local.portS);
    assert.equal(r1.status, 200);
    assert.equal(ue.protectedRequests.at(-1)!.headers.get('P-Asserted-Identity'), '<sip:bob@ims.lab>, <tel:+15550000>');
    const r2 = await toUe(stub, pcscf.address(), ue.local.portS, { extra: [['Privacy', 'id']] });
    assert.equal(r2.status, 200);
    assert.equal(ue.protectedRequests.at(-1)!.headers.get('P-Asserted-Identity'), undefined);
    // critical privacy the P-CSCF can give (id) is given, and the request delivered.
    const r3 = await toUe(stub, pcscf.address(), ue.local.portS, { extra: [['Privacy', 'id;critical']] });
    assert.equal(r3.status, 200);
    assert.equal(ue.protectedRequests.at(-1)!.headers.get('P-Asserted-Identity'), undefined);
    assert.equal(ue.protectedRequests.length, 3);
  });

  test('[R-ANON-1] critical privacy that cannot be given is refused with 500 and not delivered (RFC 3323 §5.1)', async () => {
    w = await world();
    const { ue, stub, pcscf } = w;
    await ue.register(stub);
    const r = await toUe(stub, pcscf.address(), ue.local.portS, { extra: [['Privacy', 'header;critical']] });
    assert.equal(r.status, 500);
    const r2 = await toUe(stub, pcscf.address(), ue.local.portS, { extra: [['Privacy', 'session;critical']] });
    assert.equal(r2.status, 500);
    assert.equal(ue.protectedRequests.length, 0);
    assert.equal(pcscf.counters().privacyRejected, 2);
    // Not critical: delivered as well as it can be.
    const r3 = await toUe(stub, pcscf.address(), ue.local.portS, { extra: [['Privacy', 'header']] });
    assert.equal(r3.status, 200);
  });

  test('[R-ANON-1] towards a UE outside the trust domain the asserted identity is always removed', async () => {
    w = await world({ privacy: { ueTrusted: false } });
    const { ue, stub, pcscf } = w;
    await ue.register(stub);
    const r = await toUe(stub, pcscf.address(), ue.local.portS);
    assert.equal(r.status, 200);
    assert.equal(ue.protectedRequests.at(-1)!.headers.get('P-Asserted-Identity'), undefined);
  });

  test('[R-SA-5] on the unprotected port a request must come from the core and be routed through the P-CSCF', async () => {
    w = await world();
    const { ue, stub, pcscf } = w;
    await ue.register(stub);
    const a = pcscf.address();
    // From the trusted core but not along the P-CSCF's Path: refused.
    const r1 = await toUe(stub, a, ue.local.portS, { route: '<sip:elsewhere@192.0.2.1;lr>' });
    assert.equal(r1.status, 403);
    // Along the Path, but from a source that is not the core (a UE's plain socket): refused.
    const h = new SipHeaders();
    h.append('Route', `<sip:term@${a.sip.address}:${a.sip.port};lr>`);
    h.append('From', '<sip:mallory@ims.lab>;tag=m');
    h.append('To', '<sip:alice@ims.lab>');
    h.append('Call-ID', 'spoof-1');
    h.append('CSeq', '1 MESSAGE');
    const r2 = await ue.stack.sendRequest(new SipRequest('MESSAGE', `sip:alice@${HOST}:${ue.local.portS}`, h), { address: a.sip.address, port: a.sip.port, through: ue.plain });
    assert.equal(r2.status, 403);
    assert.equal(ue.protectedRequests.length, 0);
    assert.equal(pcscf.counters().portRuleRejected, 2);
  });

  test('a terminating request for no registered UE gets 404', async () => {
    w = await world();
    const { stub, pcscf } = w;
    const r = await toUe(stub, pcscf.address(), 40000);
    assert.equal(r.status, 404);
  });

  test('a dialog is record-routed on both faces (RFC 5658); in-dialog requests from the core reach the UE', async () => {
    w = await world();
    const { ue, stub, pcscf } = w;
    await ue.register(stub);
    const inv = ue.message('sip:bob@ims.lab');
    inv.method = 'INVITE';
    inv.headers.set('CSeq', '77 INVITE');
    inv.headers.append('Contact', `<sip:alice@${HOST}:${ue.local.portS}>`);
    const r = await ue.sendProtected(inv);
    assert.equal(r.status, 200);
    const a = pcscf.address();
    const rr = routesOf(stub.last('INVITE')!, 'Record-Route').map((n) => formatUri(n.uri));
    assert.deepEqual(rr, [`sip:${a.sip.address}:${a.sip.port};lr`, `sip:${HOST}:${ue.accepted!.pcscf.portS};lr`]);
    // The UE side of the dialog sees both entries too (the UE uses the bottom one, its port-s).
    assert.deepEqual(routesOf(r, 'Record-Route').map((n) => formatUri(n.uri)), rr);
    // A BYE from the callee side follows the route set: the core face of the P-CSCF.
    const bye = await toUe(stub, a, ue.local.portS, { method: 'BYE', route: `<sip:${a.sip.address}:${a.sip.port};lr>, <sip:${HOST}:${ue.accepted!.pcscf.portS};lr>` });
    assert.equal(bye.status, 200);
    assert.equal(ue.protectedRequests.at(-1)!.method, 'BYE');
    assert.equal(ue.protectedRequests.at(-1)!.headers.get('Route'), undefined, 'both P-CSCF entries popped');
  });
});
