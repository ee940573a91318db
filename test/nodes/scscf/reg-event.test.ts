/**
 * The reg event package at the S-CSCF (RFC 3680, RFC 6665, TS 24.229 §5.4.2.1) and the
 * network-initiated procedures that drive it (TS 24.229 §5.4.1.5, §5.4.1.6; TS 29.228 §6.1.3,
 * §6.2.2). NOTIFY bodies are read back with the reginfo decoder the UE and P-CSCF use.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildPpr, decodeMessage, encodeMessage, parsePpa, parseRta, ReasonCode, ServerAssignmentType as SAT, CxResult, sameResult } from '../../../src/diameter/index.js';
import { decodeReginfo, SipHeaders, SipRequest, fromOf, toOf, parseSubscriptionState } from '../../../src/sip/index.js';
import { buildUserData } from '../../../src/nodes/hss/index.js';
import { answerCxRequest } from '../../../src/nodes/scscf/index.js';
import { harness, provision, register, registerFully, send, settle, TestIsim, type Harness } from './harness.js';

const PATH = '<sip:term@pcscf.ims.lab:5060;lr>';

async function registered(opts: Parameters<typeof harness>[0] = {}): Promise<{ h: Harness; isim: TestIsim }> {
  const h = await harness(opts);
  await provision(h.hssStore, 'alice@ims.lab', ['sip:alice@ims.lab', 'tel:+15550001']);
  const isim = new TestIsim();
  const r = await registerFully(h.core, isim, { path: [PATH], expires: 600 });
  assert.equal(r.status, 200);
  return { h, isim };
}

function subscribe(o: { from?: string; pai?: string; target?: string; expires?: number; toTag?: string; callId?: string; cseq?: number } = {}): SipRequest {
  const h = new SipHeaders();
  h.append('Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsub');
  h.append('Record-Route', '<sip:pcscf.ims.lab:5060;lr>');
  h.append('Max-Forwards', '69');
  h.append('From', `<${o.from ?? 'sip:alice@ims.lab'}>;tag=sub1`);
  h.append('To', `<${o.target ?? 'sip:alice@ims.lab'}>${o.toTag ? `;tag=${o.toTag}` : ''}`);
  h.append('Call-ID', o.callId ?? 'sub-call-1');
  h.append('CSeq', `${o.cseq ?? 1} SUBSCRIBE`);
  h.append('Contact', '<sip:alice@192.0.2.10:5070>');
  h.append('Event', 'reg');
  h.append('Accept', 'application/reginfo+xml');
  if (o.pai !== undefined) h.append('P-Asserted-Identity', `<${o.pai}>`);
  h.append('Expires', String(o.expires ?? 600000));
  return new SipRequest('SUBSCRIBE', o.target ?? 'sip:alice@ims.lab', h);
}

const lastNotify = (h: Harness) => h.sent[h.sent.length - 1];
const bodyOf = (req: SipRequest) => decodeReginfo(req.body);

describe('RFC 3680 / TS 24.229 §5.4.2.1.1: SUBSCRIBE', () => {
  test('[R-RR-5] the UE subscribes: 200 with a To tag, then a NOTIFY with the full state over the route set', async () => {
    const { h } = await registered();
    try {
      const r = await send(h.core, subscribe({ pai: 'sip:alice@ims.lab' }));
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('expires'), '86400', 'capped to regEvent.maxExpires');
      const tag = toOf(r)!.params.get('tag');
      assert.ok(typeof tag === 'string' && tag.length > 0);
      assert.equal(h.sent.length, 1);
      const { req, dest } = h.sent[0];
      assert.equal(req.method, 'NOTIFY');
      assert.equal(req.uri, 'sip:alice@192.0.2.10:5070', 'Request-URI = the subscriber\'s Contact');
      assert.equal(req.headers.get('route'), '<sip:pcscf.ims.lab:5060;lr>');
      assert.deepEqual({ address: dest.address, port: dest.port }, { address: '127.0.0.1', port: 5060 });
      assert.equal(fromOf(req)!.params.get('tag'), tag);
      assert.equal(toOf(req)!.params.get('tag'), 'sub1');
      assert.equal(req.headers.get('event'), 'reg');
      assert.equal(req.headers.get('content-type'), 'application/reginfo+xml');
      assert.equal(parseSubscriptionState(req.headers.get('subscription-state')!).state, 'active');
      const info = bodyOf(req);
      assert.equal(info.state, 'full');
      assert.equal(info.version, 0);
      assert.deepEqual(info.registrations.map((x) => [x.aor, x.state]), [['sip:alice@ims.lab', 'active'], ['tel:+15550001', 'active']]);
      const c = info.registrations[0].contacts;
      assert.equal(c.length, 1);
      assert.equal(c[0].uri, 'sip:alice@192.0.2.10:5070');
      assert.equal(c[0].state, 'active');
      assert.equal(c[0].event, 'registered');
      assert.equal(c[0].expires, 600);
    } finally {
      await h.close();
    }
  });

  test('[R-RR-5] the P-CSCF on the Path may subscribe; a stranger may not; an identity not registered here is 404', async () => {
    const { h } = await registered();
    try {
      assert.equal((await send(h.core, subscribe({ from: 'sip:pcscf.ims.lab:5060', pai: 'sip:pcscf.ims.lab:5060', callId: 'p' }))).status, 200);
      assert.equal(h.core.notifier.subscriptionsOf('sip:alice@ims.lab')[0].subscriber, 'pcscf');
      assert.equal((await send(h.core, subscribe({ from: 'sip:mallory@ims.lab', pai: 'sip:mallory@ims.lab', callId: 'm' }))).status, 403);
      assert.equal((await send(h.core, subscribe({ from: 'sip:bob@ims.lab', target: 'sip:bob@ims.lab', callId: 'b' }))).status, 404);
      assert.equal(h.core.notifier.size, 1);
    } finally {
      await h.close();
    }
  });

  test('a refresh inside the dialog gets 200 and a NOTIFY; Expires: 0 ends it with terminated;reason=timeout; an unknown dialog is 481', async () => {
    const { h } = await registered();
    try {
      const r = await send(h.core, subscribe({ expires: 600 }));
      const tag = toOf(r)!.params.get('tag') as string;
      assert.equal((await send(h.core, subscribe({ toTag: tag, cseq: 2, expires: 1200 }))).status, 200);
      assert.equal(h.sent.length, 2);
      assert.equal(bodyOf(lastNotify(h).req).version, 1, 'the version grows by one per NOTIFY');
      assert.equal((await send(h.core, subscribe({ toTag: tag, cseq: 3, expires: 0 }))).status, 200);
      const ss = parseSubscriptionState(lastNotify(h).req.headers.get('subscription-state')!);
      assert.equal(ss.state, 'terminated');
      assert.equal(ss.params.get('reason'), 'timeout');
      assert.equal(h.core.notifier.size, 0);
      assert.equal((await send(h.core, subscribe({ toTag: tag, cseq: 4 }))).status, 481);
    } finally {
      await h.close();
    }
  });

  test('a subscription not refreshed ends at its expiry with a final NOTIFY; a NOTIFY answered 481 drops it', async () => {
    const { h } = await registered({ config: { regEvent: { minExpires: 60 } } });
    try {
      await send(h.core, subscribe({ expires: 120 }));
      h.clock.advance(120_000);
      assert.equal(h.core.notifier.size, 0);
      assert.equal(parseSubscriptionState(lastNotify(h).req.headers.get('subscription-state')!).state, 'terminated');
      h.notifyStatus = 481;
      await send(h.core, subscribe({ callId: 'second' }));
      await settle();
      assert.equal(h.core.notifier.size, 0, 'RFC 6665 §4.2.2: 481 to a NOTIFY ends the subscription');
    } finally {
      await h.close();
    }
  });
});

describe('RFC 3680 §5.2 events: NOTIFY on every change', () => {
  test('re-registration → "refreshed"; a second contact → "registered"; user de-registration → "unregistered" and the subscription ends', async () => {
    const { h, isim } = await registered();
    try {
      await send(h.core, subscribe({ pai: 'sip:alice@ims.lab' }));
      assert.equal((await registerFully(h.core, isim, { path: [PATH], expires: 600, cseq: 3 })).status, 200);
      assert.equal(bodyOf(lastNotify(h).req).registrations[0].contacts[0].event, 'refreshed');
      assert.equal((await registerFully(h.core, isim, { path: [PATH], cseq: 5, contact: '<sip:alice@192.0.2.11:5070>' })).status, 200);
      const two = bodyOf(lastNotify(h).req).registrations[0].contacts;
      assert.deepEqual(two.map((c) => [c.uri, c.event]), [['sip:alice@192.0.2.10:5070', 'registered'], ['sip:alice@192.0.2.11:5070', 'registered']]);
      assert.equal((await registerFully(h.core, isim, { path: [PATH], cseq: 7, contact: '*', expires: 0 })).status, 200);
      const last = lastNotify(h).req;
      const info = bodyOf(last);
      assert.equal(info.registrations[0].state, 'terminated');
      assert.deepEqual(info.registrations[0].contacts.map((c) => [c.state, c.event]), [['terminated', 'unregistered'], ['terminated', 'unregistered']]);
      assert.equal(parseSubscriptionState(last.headers.get('subscription-state')!).state, 'terminated');
      assert.equal(h.core.notifier.size, 0);
    } finally {
      await h.close();
    }
  });

  test('[R-SA-7] TS 24.229 §5.4.1.4: the 200 to a de-REGISTER is answered before the NOTIFYs that end the UE\'s and the P-CSCF\'s subscriptions', async () => {
    const { h } = await registered();
    try {
      await send(h.core, subscribe({ pai: 'sip:alice@ims.lab' }));
      await send(h.core, subscribe({ from: 'sip:pcscf.ims.lab:5060', pai: 'sip:pcscf.ims.lab:5060', callId: 'p' }));
      const before = h.sent.length;
      // Protected de-registration of a registered user (no AKA): record how many NOTIFYs had left when the 200 was given.
      let notifiesAtReply: number | undefined;
      const out = await h.core.onRequest(register({ integrity: 'yes', cseq: 3, expires: 0, path: [PATH] }), (status) => {
        if (status === 200) notifiesAtReply = h.sent.length;
      });
      assert.equal(out.kind, 'answered');
      assert.equal(notifiesAtReply, before, 'no NOTIFY before the 200');
      const finals = h.sent.slice(before);
      assert.equal(finals.length, 2, 'both subscriptions end after the 200');
      for (const { req } of finals) assert.equal(parseSubscriptionState(req.headers.get('subscription-state')!).state, 'terminated');
      assert.equal(h.core.notifier.size, 0);
    } finally {
      await h.close();
    }
  });

  test('[R-REG-3] expiry → "expired", SAR TIMEOUT_DEREGISTRATION, subscription terminated', async () => {
    const { h } = await registered();
    try {
      await send(h.core, subscribe({ pai: 'sip:alice@ims.lab' }));
      h.clock.advance(600_000);
      await settle();
      const last = lastNotify(h).req;
      assert.deepEqual(bodyOf(last).registrations[0].contacts.map((c) => [c.state, c.event]), [['terminated', 'expired']]);
      assert.equal(parseSubscriptionState(last.headers.get('subscription-state')!).state, 'terminated');
      assert.ok(h.cx.some((c) => c.sat === SAT.TIMEOUT_DEREGISTRATION));
    } finally {
      await h.close();
    }
  });
});

describe('TS 24.229 §5.4.1.6: network-initiated re-authentication', () => {
  test('[R-RR-5] reauthenticate(impu, 30): contacts "shortened" to 30 s in a NOTIFY; a re-registration with AKA within the grace keeps the user', async () => {
    const { h, isim } = await registered();
    try {
      await send(h.core, subscribe({ pai: 'sip:alice@ims.lab' }));
      assert.equal(await h.core.reauthenticate('tel:+15550001', 30), true);
      const c = bodyOf(lastNotify(h).req).registrations[0].contacts[0];
      assert.equal(c.event, 'shortened');
      assert.equal(c.state, 'active');
      assert.equal(c.expires, 30);
      assert.equal(h.core.registration('sip:alice@ims.lab')!.bindings[0].expiresAt, h.clock.now() + 30_000);
      h.clock.advance(20_000);
      const r = await registerFully(h.core, isim, { path: [PATH], expires: 600, cseq: 3 });
      assert.equal(r.status, 200);
      h.clock.advance(20_000);
      await settle();
      assert.equal(h.core.registrations().length, 1, 'still registered after the grace period');
      assert.equal(await h.core.reauthenticate('sip:nobody@ims.lab', 30), false);
    } finally {
      await h.close();
    }
  });

  test('[R-RR-5] without a re-registration the shortened contacts expire', async () => {
    const { h } = await registered();
    try {
      await h.core.reauthenticate('sip:alice@ims.lab', 30);
      h.clock.advance(30_000);
      await settle();
      assert.equal(h.core.registrations().length, 0);
      assert.ok(h.cx.some((c) => c.sat === SAT.TIMEOUT_DEREGISTRATION));
    } finally {
      await h.close();
    }
  });
});

describe('TS 24.229 §5.4.1.5 / TS 29.228 §6.1.3: network-initiated de-registration', () => {
  test('[R-RR-5] operator de-registration: SAR ADMINISTRATIVE_DEREGISTRATION, contacts "deactivated", Subscription-State terminated', async () => {
    const { h } = await registered();
    try {
      await send(h.core, subscribe({ pai: 'sip:alice@ims.lab' }));
      await send(h.core, subscribe({ from: 'sip:pcscf.ims.lab:5060', pai: 'sip:pcscf.ims.lab:5060', callId: 'p' }));
      const before = h.sent.length;
      assert.equal(await h.core.deregister('sip:alice@ims.lab', { event: 'deactivated' }), true);
      const finals = h.sent.slice(before);
      assert.equal(finals.length, 2, 'the UE and the P-CSCF are told');
      for (const { req } of finals) {
        assert.deepEqual(bodyOf(req).registrations[0].contacts.map((c) => [c.state, c.event]), [['terminated', 'deactivated']]);
        const ss = parseSubscriptionState(req.headers.get('subscription-state')!);
        assert.equal(ss.state, 'terminated');
        assert.equal(ss.params.get('reason'), 'deactivated');
      }
      assert.ok(h.cx.some((c) => c.sat === SAT.ADMINISTRATIVE_DEREGISTRATION));
      assert.equal((await h.hssStore.getPublicIdentity('sip:alice@ims.lab'))!.state, 'NOT_REGISTERED');
      assert.equal(h.core.registrations().length, 0);
    } finally {
      await h.close();
    }
  });

  test('[R-RR-5] RTR from the HSS (permanent termination): RTA success, contacts "rejected", no SAR', async () => {
    const { h } = await registered();
    try {
      await send(h.core, subscribe({ pai: 'sip:alice@ims.lab' }));
      const sarsBefore = h.cx.filter((c) => c.command === 301).length;
      const rtr = h.hss.buildRtr({ sessionId: 'hss;1;1', destinationHost: 'scscf.ims.lab', destinationRealm: 'ims.lab', impi: 'alice@ims.lab', impus: [], reason: { code: ReasonCode.PERMANENT_TERMINATION } });
      const rta = decodeMessage(encodeMessage(await answerCxRequest(decodeMessage(encodeMessage({ ...rtr, hopByHop: 7, endToEnd: 7 })), h.core.cxHandlers, { originHost: 'scscf.ims.lab', originRealm: 'ims.lab' })));
      assert.ok(sameResult(parseRta(rta).result, CxResult.SUCCESS));
      assert.equal(rta.hopByHop, 7);
      assert.equal(h.core.registrations().length, 0);
      assert.equal(bodyOf(lastNotify(h).req).registrations[0].contacts[0].event, 'rejected');
      assert.equal(h.cx.filter((c) => c.command === 301).length, sarsBefore, 'the HSS asked; no SAR back');
    } finally {
      await h.close();
    }
  });

  test('PPR: the new profile is stored with its implicit set; PPA success; an IMPI not served here is DIAMETER_ERROR_USER_UNKNOWN', async () => {
    const { h } = await registered();
    try {
      const userData = new TextEncoder().encode(buildUserData('alice@ims.lab', [{ impus: [{ impu: 'sip:alice@ims.lab', barred: false }, { impu: 'tel:+15550001', barred: false }, { impu: 'sip:ali@ims.lab', barred: false }], serviceProfile: null }]));
      const mk = (impi: string) => buildPpr({ sessionId: 'hss;1;2', originHost: 'hss.ims.lab', originRealm: 'ims.lab', destinationHost: 'scscf.ims.lab', destinationRealm: 'ims.lab', userName: impi, userData }, { hopByHop: 9, endToEnd: 9 });
      const me = { originHost: 'scscf.ims.lab', originRealm: 'ims.lab' };
      const ok = parsePpa(await answerCxRequest(mk('alice@ims.lab'), h.core.cxHandlers, me));
      assert.ok(sameResult(ok.result, CxResult.SUCCESS));
      assert.deepEqual(h.core.registration('sip:alice@ims.lab')!.impus, ['sip:alice@ims.lab', 'tel:+15550001', 'sip:ali@ims.lab']);
      assert.equal(h.core.registration('sip:ali@ims.lab')?.aor, 'sip:alice@ims.lab');
      const unknown = parsePpa(await answerCxRequest(mk('bob@ims.lab'), h.core.cxHandlers, me));
      assert.ok(sameResult(unknown.result, CxResult.ERROR_USER_UNKNOWN));
    } finally {
      await h.close();
    }
  });
});
