/**
 * De-registration at the P-CSCF with its own reg-event subscription (TS 24.229 §5.2.5, TS 33.203
 * §7.4; SPEC R-SA-7, R-RR-5, R-FAIL-4) and the failure reports of a re-registration over the
 * existing SAs (TS 24.229 §5.1.1.5.3; R-SA-5, R-FAIL-2, R-FAIL-3), on real loopback sockets with
 * a ManualClock. The stub plays the S-CSCF and decides the order in which its NOTIFYs and its
 * answers reach the P-CSCF, so every race is replayed exactly.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { protectionOf } from '../../../src/sip/transport/protected/index.js';
import { REGINFO_CONTENT_TYPE, encodeReginfo, type Reginfo, authorizationOf, SipHeaders, SipRequest, type SipResponse } from '../../../src/sip/index.js';
import { DEREGISTRATION_GRACE_MS } from '../../../src/nodes/pcscf/index.js';
import { CLIENT_PORT_POOL } from '../../../src/nodes/pcscf/wire.js';
import { SeededRng, toHex } from '../../../src/common/index.js';
import { HOST, waitFor, world, type ScriptedUe, type StubCore } from './support.js';

type World = Awaited<ReturnType<typeof world>>;

function assertClean(w: World): void {
  assert.deepEqual(w.pcscf.sets(), [], 'no SA set');
  assert.deepEqual(w.pcscf.saTable(), [], 'no SA');
  assert.deepEqual(w.pcscf.pending(), [], 'no pending registration');
  assert.deepEqual(w.pcscf.registrations(), [], 'no registration');
  // R-RR-1: port_ps and the port_pc pool stay bound for the P-CSCF's life.
  assert.equal(w.pcscf.protectedEndpoints().length, 1 + CLIENT_PORT_POOL, 'port_ps and the eight port_pc stay bound');
}

/** RFC 3680 §5.3: the registration of alice and her contact, both terminated with `event`. */
function terminated(uri: string, event: 'deactivated' | 'rejected' | 'unregistered', version = 1): Reginfo {
  return { version, state: 'full', registrations: [{ aor: 'sip:alice@ims.lab', id: 'r1', state: 'terminated', contacts: [{ id: 'c1', state: 'terminated', event, uri, expires: 0 }] }] };
}

/** The NOTIFY of the UE's own subscription, as the S-CSCF sends it: along the P-CSCF's Record-Route to the UE's contact. */
function notifyForUe(stub: StubCore, pcscf: { sip: { address: string; port: number } }, uePortS: number, doc: Reginfo): Promise<SipResponse> {
  const h = new SipHeaders();
  h.append('Route', `<sip:${pcscf.sip.address}:${pcscf.sip.port};lr>`);
  h.append('From', '<sip:alice@ims.lab>;tag=scscf1');
  h.append('To', '<sip:alice@ims.lab>;tag=ue1');
  h.append('Call-ID', 'ue-reg-subscription');
  h.append('CSeq', '2 NOTIFY');
  h.append('Contact', `<sip:scscf@${HOST}:${stub.port}>`);
  h.append('Event', 'reg');
  h.append('Subscription-State', 'terminated;reason=deactivated');
  h.append('Content-Type', REGINFO_CONTENT_TYPE);
  return stub.stack.sendRequest(new SipRequest('NOTIFY', `sip:alice@${HOST}:${uePortS}`, h, encodeReginfo(doc)), { address: pcscf.sip.address, port: pcscf.sip.port });
}

/** A REGISTER of the UE over its SAs (Security-Verify of the set in use). */
function overSas(ue: ScriptedUe, o: { expires?: number; auth: string; contactPort?: number }): SipRequest {
  return ue.registerRequest({ verify: ue.accepted!.verify, auth: o.auth, ...(o.expires !== undefined ? { expires: o.expires } : {}), ...(o.contactPort !== undefined ? { contactPort: o.contactPort } : {}) });
}

/** `p`, or a failure naming `what` after `ms` of real time (a lost answer would otherwise wait for a ManualClock timer forever). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

const AUTH_OK = 'Digest username="alice@ims.lab", realm="ims.lab", nonce="bm9uY2U=", uri="sip:ims.lab", response="0123456789abcdef0123456789abcdef"';

describe('TS 24.229 §5.2.5 / TS 33.203 §7.4: de-registration with the P-CSCF\'s own reg-event subscription', () => {
  let w: World;
  let sub: SipRequest;
  let at: { address: string; port: number };
  let uri: string;
  beforeEach(async () => {
    w = await world({ regEvent: { subscribe: true, expires: 600000 } });
    await w.ue.register(w.stub);
    await waitFor(() => w.stub.subscribes.length === 1 && w.pcscf.registrations()[0]?.subscription === 'active', 'reg-event subscription');
    sub = w.stub.subscribes[0];
    at = { address: w.pcscf.address().sip.address, port: w.pcscf.address().sip.port };
    uri = `sip:alice@${HOST}:${w.ue.local.portS}`;
  });
  afterEach(async () => {
    await w.close();
  });

  test('[R-SA-7] [R-FAIL-4] the P-CSCF\'s NOTIFY "terminated" overtakes the 200 to the UE\'s de-REGISTER: the 200 still reaches the UE over its SAs, then nothing is left', async () => {
    const { ue, pcscf, stub } = w;
    let during: { notify: number; ending?: string; sets: number } | undefined;
    stub.intercept = async (req, ctx) => {
      if (req.method !== 'REGISTER' || !/expires=0\b/.test(req.headers.get('Contact') ?? '')) return false;
      // The S-CSCF's NOTIFY to the P-CSCF arrives first (it takes one hop, the 200 two).
      const n = await stub.notify(sub, at, terminated(uri, 'unregistered'), 'terminated;reason=noresource');
      during = { notify: n.status, ending: pcscf.registrations()[0]?.ending?.reason, sets: pcscf.sets().length };
      ctx.reply(200, 'OK');
      return true;
    };
    const r = await within(ue.sendProtected(overSas(ue, { expires: 0, auth: AUTH_OK })), 3000, '200 to the de-REGISTER');
    assert.equal(r.status, 200, 'the UE gets its 200 (no Timer F)');
    // R-SA-3 (TS 24.229 §5.1.1.2.2): responses too go from port_pc to the UE's port_us.
    assert.equal(protectionOf(r)?.spi, ue.local.spiS, 'over the SA to its port-s');
    assert.deepEqual(during, { notify: 200, ending: 'deregistered', sets: 1 }, 'ended by the NOTIFY, SAs kept for the 200');
    await pcscf.idle();
    assertClean(w);
    assert.equal(pcscf.counters().deregistered, 1, 'one de-registration');
  });

  test('[R-SA-7] the 200 to the de-REGISTER first (TS 24.229 §5.4.1.4 order): everything goes with it; the NOTIFY of the ended subscription gets 481', async () => {
    const { ue, pcscf, stub } = w;
    const r = await within(ue.sendProtected(overSas(ue, { expires: 0, auth: AUTH_OK })), 3000, '200 to the de-REGISTER');
    assert.equal(r.status, 200);
    await pcscf.idle();
    assertClean(w);
    const n = await stub.notify(sub, at, terminated(uri, 'unregistered'), 'terminated;reason=noresource');
    assert.equal(n.status, 481, 'RFC 6665: no such subscription any more');
    assert.equal(pcscf.counters().deregistered, 1);
  });

  test('[R-SA-7] [R-RR-5] network-initiated: the SAs stay until the NOTIFY meant for the UE crossed them and the UE answered; then nothing is left', async () => {
    const { ue, pcscf, stub } = w;
    const got: SipRequest[] = [];
    ue.onProtectedRequest = (req, ctx) => {
      got.push(req);
      ctx.reply(200, 'OK');
    };
    assert.equal((await stub.notify(sub, at, terminated(uri, 'deactivated'), 'terminated;reason=deactivated')).status, 200);
    assert.equal(pcscf.registrations()[0]?.ending?.reason, 'deregistered');
    assert.equal(pcscf.sets().length, 1, 'the SAs wait for the NOTIFY meant for the UE');
    const n = await notifyForUe(stub, pcscf.address(), ue.local.portS, terminated(uri, 'deactivated', 2));
    assert.equal(n.status, 200, 'the UE answered through the P-CSCF');
    assert.equal(got.length, 1);
    assert.equal(got[0].method, 'NOTIFY');
    assert.equal(protectionOf(got[0])?.spi, ue.local.spiS, 'over the SA to the UE\'s port-s');
    // No grace to wait for: the UE has been told.
    await pcscf.idle();
    assertClean(w);
  });

  test('[R-SA-7] the NOTIFY meant for the UE comes first: it is relayed, and the P-CSCF\'s own NOTIFY then ends everything at once', async () => {
    const { ue, pcscf, stub } = w;
    ue.onProtectedRequest = (_req, ctx) => ctx.reply(200, 'OK');
    assert.equal((await notifyForUe(stub, pcscf.address(), ue.local.portS, terminated(uri, 'deactivated', 2))).status, 200);
    assert.equal(pcscf.registrations().length, 1, 'the P-CSCF acts on its own subscription only');
    assert.equal(pcscf.registrations()[0].ending, undefined);
    assert.equal((await stub.notify(sub, at, terminated(uri, 'deactivated'), 'terminated;reason=deactivated')).status, 200);
    await pcscf.idle();
    assertClean(w);
  });

  test('[R-FAIL-4] the UE never answers the NOTIFY meant for it: the relay ends with its Timer B (408 to the S-CSCF), then nothing is left', async () => {
    const { ue, pcscf, stub } = w;
    ue.onProtectedRequest = () => undefined;
    assert.equal((await stub.notify(sub, at, terminated(uri, 'deactivated'), 'terminated;reason=deactivated')).status, 200);
    const n = notifyForUe(stub, pcscf.address(), ue.local.portS, terminated(uri, 'deactivated', 2)).catch((e: Error) => e);
    await waitFor(() => ue.protectedRequests.length === 1, 'NOTIFY at the UE');
    await w.clock.advanceAsync(DEREGISTRATION_GRACE_MS);
    assert.equal(pcscf.sets().length, 1, 'the relay is still in flight');
    assert.ok(pcscf.registrations()[0]?.ending);
    await w.clock.advanceAsync(32_000); // 64·T1: Timer B of the relayed NOTIFY
    await n;
    await pcscf.idle();
    await w.clock.advanceAsync(0);
    assertClean(w);
  });

  test('[R-SA-7] a MESSAGE of the UE in flight when the registration is ended: its answer still comes back over the SAs, then they go', async () => {
    const { ue, pcscf, stub } = w;
    let answer: (() => void) | undefined;
    stub.intercept = (req, ctx) => {
      if (req.method !== 'MESSAGE') return false;
      answer = () => ctx.reply(200, 'OK');
      return true;
    };
    const m = ue.sendProtected(ue.message('sip:bob@ims.lab'));
    await waitFor(() => answer !== undefined, 'MESSAGE upstream');
    assert.equal((await stub.notify(sub, at, terminated(uri, 'rejected'), 'terminated;reason=rejected')).status, 200);
    await w.clock.advanceAsync(DEREGISTRATION_GRACE_MS);
    assert.equal(pcscf.sets().length, 1, 'kept for the answer in flight');
    answer!();
    const r = await within(m, 3000, '200 to the MESSAGE');
    assert.equal(r.status, 200);
    assert.equal(protectionOf(r)?.spi, ue.local.spiS, 'R-SA-3: the 200 from port_pc to port_us');
    await pcscf.idle();
    assertClean(w);
  });

  test('[R-SA-7] the 200 to a refresh (re-REGISTER without AKA) arriving after the NOTIFY "terminated" is relayed over the SAs but does not revive the registration', async () => {
    const { ue, pcscf, stub } = w;
    let ending: string | undefined;
    stub.intercept = async (req) => {
      if (req.method !== 'REGISTER') return false;
      assert.equal((await stub.notify(sub, at, terminated(uri, 'deactivated'), 'terminated;reason=deactivated')).status, 200);
      ending = pcscf.registrations()[0]?.ending?.reason;
      return false; // the stub's 200 with the binding follows
    };
    const r = await within(ue.sendProtected(overSas(ue, { auth: AUTH_OK })), 3000, '200 to the re-REGISTER');
    assert.equal(r.status, 200);
    assert.equal(protectionOf(r)?.spi, ue.local.spiS, 'R-SA-3: the 200 from port_pc to port_us');
    assert.equal(ending, 'deregistered');
    assert.equal(pcscf.counters().refreshed, 0, 'not refreshed');
    assert.ok(pcscf.registrations()[0]?.ending, 'still ended');
    w.clock.advance(DEREGISTRATION_GRACE_MS);
    await pcscf.idle();
    assertClean(w);
  });

  test('[R-SA-7] [R-RR-1] an AKA re-registration over the SAs of an ended registration replaces it: the new SAs live on, the old ones go', async () => {
    const { ue, pcscf, stub } = w;
    assert.equal((await stub.notify(sub, at, terminated(uri, 'deactivated'), 'terminated;reason=deactivated')).status, 200);
    const old = pcscf.sets()[0].id;
    const oldVerify = ue.accepted!.verify;
    const oldPortS = ue.accepted!.pcscf.portS;
    const oldContact = ue.local.portS;
    await ue.newOffer();
    const r1 = await ue.sendProtected(ue.registerRequest({ verify: oldVerify, contactPort: oldContact }), oldPortS);
    assert.equal(r1.status, 401);
    await ue.acceptChallenge(r1, stub.keys.at(-1)!);
    const r2 = await ue.sendProtected(ue.answerRequest());
    assert.equal(r2.status, 200);
    await pcscf.idle();
    assert.deepEqual(pcscf.sets().map((s) => [s.id === old, s.state]), [[false, 'active']]);
    assert.equal(pcscf.registrations()[0]?.ending, undefined);
    w.clock.advance(DEREGISTRATION_GRACE_MS);
    await pcscf.idle();
    assert.equal(pcscf.registrations().length, 1, 'the grace of the old registration does not touch the new one');
    assert.equal(pcscf.sets().length, 1);
  });

  test('[R-RR-5] [R-SA-7] a reg-event NOTIFY "shortened" cuts the registration and its SAs to the new expiry', async () => {
    // RFC 3680 §5.2 / TS 24.229 §5.2.3: network-initiated re-authentication; both sides shorten.
    const { pcscf, stub } = w;
    const before = pcscf.sets()[0].expiresAt;
    const shortened: Reginfo = { version: 1, state: 'full', registrations: [{ aor: 'sip:alice@ims.lab', id: 'r1', state: 'active', contacts: [{ id: 'c1', state: 'active', event: 'shortened', uri, expires: 30 }] }] };
    assert.equal((await stub.notify(sub, at, shortened)).status, 200);
    const cut = w.clock.now() + 30_000;
    assert.ok(cut < before);
    assert.equal(pcscf.sets()[0].expiresAt, cut, 'the active set ends with the shortened binding');
    assert.equal(pcscf.registrations()[0].expiresInMs, 30_000);
    w.clock.advance(30_000);
    await pcscf.idle();
    assertClean(w);
  });

  test('[R-SA-7] a new initial REGISTER from the UE ends a registration still waiting; its new SAs are not touched', async () => {
    const { ue, pcscf, stub } = w;
    assert.equal((await stub.notify(sub, at, terminated(uri, 'deactivated'), 'terminated;reason=deactivated')).status, 200);
    assert.ok(pcscf.registrations()[0]?.ending);
    const old = pcscf.sets()[0].id;
    await ue.newOffer();
    const r1 = await ue.sendUnprotected(ue.registerRequest());
    assert.equal(r1.status, 401);
    await pcscf.idle();
    assert.deepEqual(pcscf.registrations(), []);
    assert.deepEqual(pcscf.sets().map((s) => [s.id === old, s.state]), [[false, 'temporary']]);
    await w.clock.advanceAsync(DEREGISTRATION_GRACE_MS);
    await ue.acceptChallenge(r1, stub.keys.at(-1)!);
    const r2 = await ue.sendProtected(ue.answerRequest());
    assert.equal(r2.status, 200);
    assert.deepEqual(pcscf.registrations().map((r) => [r.impi, r.ending]), [['alice@ims.lab', undefined]]);
    assert.deepEqual(pcscf.sets().map((s) => s.state), ['active']);
  });
});

describe('TS 24.229 §5.1.1.5.3: failure reports of a re-registration over the existing SAs (R-SA-5)', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
    await w.ue.register(w.stub);
  });
  afterEach(async () => {
    await w.close();
  });

  /** The first REGISTER of an AKA re-registration over the current SAs with a fresh offer; its 401. */
  async function reRegister(ue: ScriptedUe): Promise<{ resp: SipResponse; oldPortS: number; oldContactPort: number; oldVerify: NonNullable<ScriptedUe['accepted']>['verify'] }> {
    const oldPortS = ue.accepted!.pcscf.portS;
    const oldVerify = ue.accepted!.verify;
    const oldContactPort = ue.local.portS;
    // R-RR-1: new SPIs and port_uc; port_us stays.
    await ue.newOffer({ portS: oldContactPort });
    const resp = await ue.sendProtected(ue.registerRequest({ verify: oldVerify, contactPort: oldContactPort }), oldPortS);
    assert.equal(resp.status, 401);
    return { resp, oldPortS, oldContactPort, oldVerify };
  }

  function nonceOf(resp: SipResponse): string {
    return /nonce="([^"]*)"/.exec(resp.headers.get('WWW-Authenticate') ?? '')![1];
  }

  test('[R-SA-5] [R-FAIL-2] a network-authentication failure report (response="") over the SAs is forwarded integrity-protected; its 403 comes back over them; the new SAs go, the old stay', async () => {
    const { ue, pcscf, stub } = w;
    const oldSet = pcscf.sets()[0].id;
    const { resp, oldPortS, oldContactPort, oldVerify } = await reRegister(ue);
    assert.equal(pcscf.sets().length, 2);
    // The S-CSCF answers a report of a failed network authentication with 403 (TS 24.229 §5.4.1.2.3).
    stub.intercept = (req, ctx) => {
      const c = authorizationOf(req)[0];
      if (req.method !== 'REGISTER' || !c || c.nonce === '' || c.response !== '') return false;
      ctx.reply(403, 'Forbidden');
      return true;
    };
    // TS 24.229 §5.1.1.5.3 (R-FAIL-2): the report carries a new Security-Client.
    await ue.newOffer({ portS: oldContactPort });
    const report = ue.registerRequest({ verify: oldVerify, contactPort: oldContactPort, auth: `Digest username="alice@ims.lab", realm="ims.lab", nonce="${nonceOf(resp)}", uri="sip:ims.lab", response="", algorithm=AKAv1-MD5` });
    const r = await ue.sendProtected(report, oldPortS);
    assert.equal(r.status, 403);
    assert.equal(protectionOf(r)?.setId, ue.set!.id, 'answered over the SAs it came on');
    const up = stub.all('REGISTER').at(-1)!;
    const c = authorizationOf(up)[0];
    assert.equal(c.response, '');
    assert.equal(c.nonce, nonceOf(resp));
    assert.equal(c.integrityProtected, 'yes', 'it came over the SAs');
    assert.equal(up.headers.get('Security-Client'), undefined);
    assert.equal(up.headers.get('Security-Verify'), undefined);
    await pcscf.idle();
    // R-RR-3: the new (temporary) SAs are gone, the registration and its SAs stay.
    assert.deepEqual(pcscf.sets().map((s) => [s.id, s.state]), [[oldSet, 'active']]);
    assert.equal(pcscf.registrations().length, 1);
    assert.deepEqual(pcscf.pending(), []);
    assert.equal(pcscf.counters().portRuleRejected, 0);
  });

  test('[R-SA-5] [R-FAIL-3] a synchronisation failure report (auts) over the SAs is forwarded; the fresh challenge comes back over them with new temporary SAs, and the re-registration completes', async () => {
    const { ue, pcscf, stub } = w;
    const oldSet = pcscf.sets()[0].id;
    const { resp, oldPortS, oldContactPort, oldVerify } = await reRegister(ue);
    const firstTemp = pcscf.sets().find((s) => s.state === 'temporary')!.id;
    const auts = 'AAECAwQFBgcICQoLDA0=';
    // The S-CSCF resynchronises with the HSS and challenges again with a fresh vector (TS 24.229 §5.4.1.2.1).
    const rng = new SeededRng('resync');
    stub.intercept = (req, ctx) => {
      if (req.method !== 'REGISTER' || authorizationOf(req)[0]?.auts === undefined) return false;
      const keys = { ik: rng.bytes(16), ck: rng.bytes(16) };
      stub.keys.push(keys);
      const nonce = Buffer.from(rng.bytes(32)).toString('base64');
      ctx.reply(401, 'Unauthorized', { headers: [['WWW-Authenticate', `Digest realm="ims.lab", nonce="${nonce}", algorithm=AKAv1-MD5, qop="auth", ik="${toHex(keys.ik)}", ck="${toHex(keys.ck)}"`]] });
      return true;
    };
    // TS 24.229 §5.1.1.5.3 (R-FAIL-3): the AUTS rides a new Security-Client; the SAs follow it.
    await ue.newOffer({ portS: oldContactPort });
    const report = ue.registerRequest({ verify: oldVerify, contactPort: oldContactPort, auth: `Digest username="alice@ims.lab", realm="ims.lab", nonce="${nonceOf(resp)}", uri="sip:ims.lab", response="d41d8cd98f00b204e9800998ecf8427e", algorithm=AKAv1-MD5, auts="${auts}"` });
    const r = await ue.sendProtected(report, oldPortS);
    assert.equal(r.status, 401, 'the new challenge');
    assert.equal(protectionOf(r)?.setId, ue.set!.id, 'answered over the old SAs');
    const up = stub.all('REGISTER').at(-1)!;
    assert.equal(Buffer.from(authorizationOf(up)[0].auts!).toString('base64'), auts);
    assert.equal(authorizationOf(up)[0].integrityProtected, 'yes');
    await pcscf.idle();
    const sets = pcscf.sets();
    assert.equal(sets.find((s) => s.id === oldSet)?.state, 'active');
    const temp = sets.filter((s) => s.state === 'temporary');
    assert.equal(temp.length, 1);
    assert.notEqual(temp[0].id, firstTemp, 'the first challenge\'s SAs were replaced');
    await ue.acceptChallenge(r, stub.keys.at(-1)!);
    const r2 = await ue.sendProtected(ue.answerRequest());
    assert.equal(r2.status, 200);
    await pcscf.idle();
    assert.deepEqual(pcscf.sets().map((s) => s.state).sort(), ['active', 'old']);
  });
});
