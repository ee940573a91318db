/**
 * Re-registration and SA change-over at the P-CSCF (TS 33.203 §7.4, seed 001 §7.3.3; SPEC
 * R-RR-1..4, R-REG-4) on real loopback sockets.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { authorizationOf, SipHeaders, SipRequest, type SipResponse } from '../../../src/sip/index.js';
import { protectionOf } from '../../../src/sip/transport/protected/index.js';
import { HOST, settle, waitFor, world, type ScriptedUe, type StubCore } from './support.js';

type World = Awaited<ReturnType<typeof world>>;

/** The first REGISTER of an AKA re-registration, sent over the current SAs with a fresh offer. */
async function reRegister(ue: ScriptedUe, mods?: ('UDP-enc-tun' | 'trans')[]): Promise<{ resp: SipResponse; oldPortS: number; oldSpiS: number }> {
  const oldPortS = ue.accepted!.pcscf.portS;
  const oldSpiS = ue.local.spiS;
  const oldVerify = ue.accepted!.verify;
  const oldContactPort = ue.local.portS;
  // R-RR-1: new SPIs and a new port_uc; port_us stays.
  await ue.newOffer({ ...(mods ? { mods } : {}), portS: oldContactPort });
  // Contact: the protected server port bound to the SA in use (TS 24.229 §5.1.1.4.1).
  const req = ue.registerRequest({ verify: oldVerify, contactPort: oldContactPort });
  const resp = await ue.sendProtected(req, oldPortS);
  return { resp, oldPortS, oldSpiS };
}

/** A terminating MESSAGE from the stub (the S-CSCF) to the UE's contact, routed over the P-CSCF's Path. */
function terminating(stub: StubCore, pcscf: { sip: { address: string; port: number } }, uePortS: number, extra: [string, string][] = []): Promise<SipResponse> {
  const h = new SipHeaders();
  h.append('Route', `<sip:term@${pcscf.sip.address}:${pcscf.sip.port};lr>`);
  h.append('From', '<sip:bob@ims.lab>;tag=b1');
  h.append('To', '<sip:alice@ims.lab>');
  h.append('Call-ID', `t-${Math.random().toString(16).slice(2)}`);
  h.append('CSeq', '1 MESSAGE');
  h.append('P-Asserted-Identity', '<sip:bob@ims.lab>');
  for (const [k, v] of extra) h.append(k, v);
  h.append('Content-Type', 'text/plain');
  return stub.stack.sendRequest(new SipRequest('MESSAGE', `sip:alice@${HOST}:${uePortS}`, h, new TextEncoder().encode('hello')), { address: pcscf.sip.address, port: pcscf.sip.port });
}

describe('TS 33.203 §7.4: re-registration and SA change-over at the P-CSCF', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
    await w.ue.register(w.stub);
  });
  afterEach(async () => {
    await w.close();
  });

  test('[R-RR-1] [R-RR-2] an AKA re-registration runs over the old SAs; the P-CSCF keeps sending on them until the UE uses the new ones, then keeps them 64·T1', async () => {
    const { ue, pcscf, stub } = w;
    const oldSet = pcscf.sets()[0];
    const { resp, oldSpiS } = await reRegister(ue);
    assert.equal(resp.status, 401);
    // R-RR-1: the 401 came back over the old SAs; the new set is temporary next to the active one.
    assert.equal(protectionOf(resp)?.setId, ue.set!.id);
    assert.deepEqual(pcscf.sets().map((s) => s.state).sort(), ['active', 'temporary']);
    // R-RR-1: the new set keeps port_ps and takes another port_pc.
    const fresh = pcscf.sets().find((s) => s.id !== oldSet.id)!;
    assert.equal(fresh.pcscf.portS, oldSet.pcscf.portS);
    assert.notEqual(fresh.pcscf.portC, oldSet.pcscf.portC);
    assert.equal(fresh.ue.portS, oldSet.ue.portS);
    const up = stub.all('REGISTER').at(-1)!;
    assert.equal(authorizationOf(up)[0].integrityProtected, 'yes');
    await ue.acceptChallenge(resp, stub.keys.at(-1)!);
    const r2 = await ue.sendProtected(ue.answerRequest());
    assert.equal(r2.status, 200);
    ue.mgr.activate(ue.set!.id, 600_000, [ue.impu]);
    // R-RR-2: all four old SAs kept (state old) until the UE sends on the new ones.
    const sets = pcscf.sets();
    assert.equal(sets.length, 2);
    assert.equal(sets.find((s) => s.id === oldSet.id)?.state, 'old');
    assert.equal(sets.find((s) => s.id === oldSet.id)?.sas.length, 4);
    // The P-CSCF still sends to the UE on the old set (UE old port-s, the UE's old spi-s).
    const got: number[] = [];
    ue.onProtectedRequest = (req) => got.push(protectionOf(req)!.spi);
    void terminating(stub, pcscf.address(), ue.local.portS).catch(() => undefined);
    await waitFor(() => got.length === 1, 'terminating request on the old SA');
    assert.equal(got[0], oldSpiS);
    // The UE's first message on the new SA ends the change-over: the old set lives 64·T1 more
    // (32 s with T1 = 500 ms) for the transactions still on it, then goes (TS 24.229 §5.2.2).
    const m = await ue.sendProtected(ue.message('sip:bob@ims.lab'));
    assert.equal(m.status, 200);
    const cut = w.clock.now();
    assert.deepEqual(pcscf.sets().map((s) => [s.id, s.state]), [[oldSet.id, 'old'], [fresh.id, 'active']]);
    assert.equal(pcscf.sets()[0].expiresAt, cut + 32_000);
    assert.equal(pcscf.sets()[0].sas.length, 4, 'both directions kept');
    w.clock.advance(32_000 - 1);
    assert.equal(pcscf.sets().length, 2);
    w.clock.advance(1);
    await pcscf.idle();
    assert.deepEqual(pcscf.sets().map((s) => [s.id, s.state]), [[fresh.id, 'active']]);
    ue.onProtectedRequest = (req, ctx) => {
      got.push(protectionOf(req)!.spi);
      ctx.reply(200, 'OK');
    };
    const t = await terminating(stub, pcscf.address(), ue.local.portS);
    assert.equal(t.status, 200);
    assert.equal(got[1], ue.local.spiS, 'now on the new SA');
  });

  test('[R-RR-3] a re-registration that times out deletes the new SAs and keeps the old ones', async () => {
    const { ue, pcscf } = w;
    const oldSet = pcscf.sets()[0];
    const { resp } = await reRegister(ue);
    assert.equal(resp.status, 401);
    assert.equal(pcscf.sets().length, 2);
    // The UE never answers: reg-await-auth (R-SA-7, TS 24.229 Table 7.8.1: 240 s) runs out.
    w.clock.advance(240_000 - 1);
    assert.equal(pcscf.sets().length, 2);
    w.clock.advance(1);
    await pcscf.idle();
    assert.deepEqual(pcscf.sets().map((s) => [s.id, s.state]), [[oldSet.id, 'active']]);
    assert.deepEqual(pcscf.pending(), []);
    assert.equal(pcscf.failures().at(-1)?.reason, 'registration-timer');
    assert.equal(pcscf.registrations().length, 1);
  });

  test('[R-RR-3] [R-AKA-7] an AKA failure (403 from the S-CSCF) deletes the new SAs and keeps the registration', async () => {
    const { ue, pcscf, stub } = w;
    const oldSet = pcscf.sets()[0];
    const { resp } = await reRegister(ue);
    await ue.acceptChallenge(resp, stub.keys.at(-1)!);
    stub.intercept = (req, ctx) => {
      if (req.method !== 'REGISTER') return false;
      ctx.reply(403, 'Forbidden');
      return true;
    };
    const r2 = await ue.sendProtected(ue.answerRequest());
    assert.equal(r2.status, 403);
    await pcscf.idle();
    assert.deepEqual(pcscf.sets().map((s) => [s.id, s.state]), [[oldSet.id, 'active']]);
    assert.equal(pcscf.registrations().length, 1);
    assert.deepEqual(pcscf.pending(), []);
  });

  test('[R-RR-3] an unacceptable proposal in a re-registration is refused; the old SAs stay', async () => {
    const { ue, pcscf, stub } = w;
    const before = stub.all('REGISTER').length;
    const { resp } = await reRegister(ue, ['trans']);
    assert.equal(resp.status, 494);
    assert.equal(stub.all('REGISTER').length, before, 'not forwarded');
    assert.deepEqual(pcscf.sets().map((s) => s.state), ['active']);
  });

  test('[R-RR-3] [R-SM-4] a failed Security-Verify in the re-registration deletes only the new SAs', async () => {
    const { ue, pcscf, stub } = w;
    const oldSet = pcscf.sets()[0];
    const { resp } = await reRegister(ue);
    const acc = await ue.acceptChallenge(resp, stub.keys.at(-1)!);
    const forged = acc.verify.map((m) => ({ ...m, spiC: (m.spiC ?? 0) + 1, extensions: [] }));
    const r2 = await ue.sendProtected(ue.answerRequest({ verify: forged }));
    assert.equal(r2.status, 494);
    await pcscf.idle();
    assert.deepEqual(pcscf.sets().map((s) => [s.id, s.state]), [[oldSet.id, 'active']]);
  });

  test('[R-SM-4] a protected REGISTER without Security-Verify is refused with 494 and changes nothing', async () => {
    // TS 24.229 §5.2.2.1 / RFC 3329 §2.3.1: every protected REGISTER carries Security-Verify.
    const { ue, pcscf, stub } = w;
    const before = { register: stub.all('REGISTER').length, sets: pcscf.sets().map((s) => [s.id, s.state, s.expiresAt]) };
    w.clock.advance(1_000);
    const refresh = await ue.sendProtected(ue.registerRequest({ auth: ue.answerRequest().headers.get('Authorization')! }));
    assert.equal(refresh.status, 494);
    await ue.newOffer({ portS: ue.local.portS });
    const reauth = await ue.sendProtected(ue.registerRequest(), ue.accepted!.pcscf.portS);
    assert.equal(reauth.status, 494);
    const dereg = await ue.sendProtected(ue.registerRequest({ expires: 0, securityClient: null }), ue.accepted!.pcscf.portS);
    assert.equal(dereg.status, 494);
    assert.equal(stub.all('REGISTER').length, before.register, 'nothing forwarded');
    assert.deepEqual(pcscf.sets().map((s) => [s.id, s.state, s.expiresAt]), before.sets, 'no SA created, refreshed or deleted');
    assert.equal(pcscf.registrations().length, 1);
    assert.deepEqual(pcscf.pending(), []);
  });

  test('[R-RR-4] an unprotected REGISTER while SAs exist is forwarded integrity-protected="no"; the SAs stay', async () => {
    const { ue, pcscf, stub } = w;
    const oldSet = pcscf.sets()[0];
    await ue.newOffer();
    const r = await ue.sendUnprotected(ue.registerRequest());
    assert.equal(r.status, 401, 'the S-CSCF must run AKA');
    assert.equal(authorizationOf(stub.all('REGISTER').at(-1)!)[0].integrityProtected, 'no');
    const states = new Map(pcscf.sets().map((s) => [s.id, s.state]));
    assert.equal(states.get(oldSet.id), 'active');
    assert.equal(pcscf.registrations().length, 1);
  });

  test('[R-SA-7] [R-RR-1] [R-SM-3] a de-registration the S-CSCF challenges (TS 24.229 §5.1.1.5.1: re-authentication "during … deregistrations"): the 401 gets a temporary set and Security-Server from the de-REGISTER\'s Security-Client; the protected de-REGISTER over it ends everything', async () => {
    const { ue, pcscf, stub } = w;
    const oldPortS = ue.accepted!.pcscf.portS;
    const oldVerify = ue.accepted!.verify;
    const port = ue.local.portS;
    // Like a re-registration's (R-RR-1): new SPIs and port_uc, the same port_us; response="" so the stub challenges.
    await ue.newOffer({ portS: port });
    const r1 = await ue.sendProtected(ue.registerRequest({ verify: oldVerify, contactPort: port, expires: 0 }), oldPortS);
    assert.equal(r1.status, 401);
    assert.equal(authorizationOf(stub.all('REGISTER').at(-1)!)[0].integrityProtected, 'yes', 'forwarded as protected (TS 24.229 §5.2.2.1)');
    assert.ok(r1.headers.get('Security-Server'), 'R-SM-3: Security-Server added');
    assert.deepEqual(pcscf.sets().map((s) => s.state).sort(), ['active', 'temporary']);
    await ue.acceptChallenge(r1, stub.keys.at(-1)!);
    const r2 = await ue.sendProtected(ue.answerRequest({ expires: 0 }));
    assert.equal(r2.status, 200);
    await pcscf.idle();
    assert.deepEqual(pcscf.sets(), [], 'R-SA-7: no set left, active or temporary');
    assert.deepEqual(pcscf.registrations(), []);
    assert.deepEqual(pcscf.pending(), []);
    assert.equal(pcscf.counters().deregistered, 1);
  });

  test('[R-SA-7] a de-REGISTER without an acceptable Security-Client is still forwarded (no 494), and its 200 ends everything', async () => {
    const { ue, pcscf } = w;
    const r = await ue.sendProtected(ue.registerRequest({ verify: ue.accepted!.verify, securityClient: null, expires: 0, auth: 'Digest username="alice@ims.lab", realm="ims.lab", nonce="bm9uY2U=", uri="sip:ims.lab", response="0123456789abcdef0123456789abcdef"' }));
    assert.equal(r.status, 200);
    await pcscf.idle();
    assert.deepEqual(pcscf.sets(), []);
    assert.equal(pcscf.counters().secAgreeRejected, 0);
  });

  test('[R-REG-4] [R-SA-7] a protected re-registration the S-CSCF accepts without AKA refreshes the SA lifetime', async () => {
    const { ue, pcscf, stub, clock } = w;
    stub.expires = 900;
    stub.intercept = (req, ctx) => {
      if (req.method !== 'REGISTER') return false;
      const cred = authorizationOf(req)[0];
      if (cred?.integrityProtected !== 'yes') return false;
      ctx.reply(200, 'OK', { headers: [['Contact', `<sip:alice@${HOST}:${ue.local.portS}>;expires=900`], ['P-Associated-URI', '<sip:alice@ims.lab>']] });
      return true;
    };
    clock.advance(100_000);
    const r = await ue.sendProtected(ue.registerRequest({ verify: ue.accepted!.verify }));
    assert.equal(r.status, 200);
    const sets = pcscf.sets();
    assert.equal(sets.length, 1);
    // R-SA-7 (TS 24.229 §5.2.2.3): max(current expiry, now + expires + 30 s).
    assert.equal(sets[0].expiresAt - clock.now(), 900_000 + 30_000);
    assert.equal(pcscf.counters().refreshed, 1);
    assert.equal(pcscf.registrations()[0].expiresInMs, 900_000);
    await settle();
  });
});
