/**
 * Failures and cleanup at the P-CSCF (SPEC R-FAIL-1, R-FAIL-4, R-SA-7; TS 33.203 §7.4, RFC 3680)
 * on real loopback sockets: every attempt ends with no SA and no pending state, every
 * registration ends with its SAs.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { SeededRng } from '../../../src/common/index.js';
import { EspSa, deriveEspKeys, encapsulate } from '../../../src/ipsec/index.js';
import { protectionOf } from '../../../src/sip/transport/protected/index.js';
import { DEREGISTRATION_GRACE_MS } from '../../../src/nodes/pcscf/index.js';
import { CLIENT_PORT_POOL } from '../../../src/nodes/pcscf/wire.js';
import { securityServerOf, serializeMessage } from '../../../src/sip/index.js';
import { HOST, waitFor, world } from './support.js';

type World = Awaited<ReturnType<typeof world>>;

function assertClean(w: World): void {
  assert.deepEqual(w.pcscf.sets(), [], 'no SA set');
  assert.deepEqual(w.pcscf.saTable(), [], 'no SA');
  assert.deepEqual(w.pcscf.pending(), [], 'no pending registration');
  assert.deepEqual(w.pcscf.registrations(), [], 'no registration');
  // R-RR-1: port_ps and the port_pc pool are the P-CSCF's for its life, whatever SAs come and go.
  const eps = w.pcscf.protectedEndpoints();
  assert.equal(eps.length, 1 + CLIENT_PORT_POOL, 'port_ps and the eight port_pc stay bound');
  assert.equal(new Set(eps.map((e) => e.port)).size, eps.length);
}

describe('R-FAIL-1: wrong keys during the registration timer', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });
  afterEach(async () => {
    await w.close();
  });

  test('[R-FAIL-1] [R-SA-8] a bogus protected REGISTER (wrong IK) is dropped and counted; the genuine one after it gets through', async () => {
    const { ue, pcscf, stub } = w;
    const r1 = await ue.sendUnprotected(ue.registerRequest());
    const ss = securityServerOf(r1)[0];
    // An attacker (or a UE with a wrong IK) seals the answer with keys that are not the SA's.
    const wrong = deriveEspKeys('hmac-sha-1-96', 'aes-cbc', new Uint8Array(16).fill(0x55), new Uint8Array(16).fill(0x66));
    const esp = new EspSa({ spi: ss.spiS!, integrity: 'hmac-sha-1-96', encryption: 'aes-cbc', keys: wrong });
    await ue.acceptChallenge(r1, stub.keys[0]);
    const answer = ue.answerRequest();
    answer.headers.prepend('Via', `SIP/2.0/UDP ${HOST}:${ue.local.portS};branch=z9hG4bKbogus`);
    answer.headers.append('Max-Forwards', '70');
    const packet = encapsulate(esp, { address: HOST, port: ue.local.portC }, { address: HOST, port: ss.portS! }, serializeMessage(answer), new SeededRng('evil'));
    const dc = pcscf.datapathCounters();
    assert.equal(dc?.kind, 'userspace');
    const before = dc.counters.dropped.icv;
    const s = createSocket('udp4');
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => s.send(packet, ss.portS, HOST, () => r()));
    await waitFor(() => dc.counters.dropped.icv >= before + 3, 'ICV drops');
    s.close();
    assert.equal(stub.all('REGISTER').length, 1, 'nothing bogus reached the S-CSCF');
    assert.equal(pcscf.sets()[0].state, 'temporary', 'the temporary SAs survive the bogus packets');
    const r2 = await ue.sendProtected(ue.answerRequest());
    assert.equal(r2.status, 200);
    assert.equal(pcscf.sets()[0].state, 'active');
  });

  test('[R-FAIL-1] [R-FAIL-4] [R-SA-7] no valid protected REGISTER within reg-await-auth (4 minutes): temporary SAs deleted, failure reported', async () => {
    // TS 24.229 §5.2.2.1 and Table 7.8.1: the temporary SAs live reg-await-auth, 240 s by default.
    const { ue, pcscf } = w;
    const r1 = await ue.sendUnprotected(ue.registerRequest());
    assert.equal(r1.status, 401);
    assert.equal(pcscf.sets()[0].expiresAt, w.clock.now() + 240_000);
    w.clock.advance(239_999);
    assert.equal(pcscf.sets().length, 1, 'still within the timer');
    w.clock.advance(1);
    await pcscf.idle();
    assertClean(w);
    assert.equal(pcscf.counters().registrationTimerExpired, 1);
    const f = pcscf.failures().at(-1);
    assert.equal(f?.reason, 'registration-timer');
    assert.equal(f?.impi, 'alice@ims.lab');
  });
});

describe('R-FAIL-4: every lost message ends in a clean state after its timer', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });
  afterEach(async () => {
    await w.close();
  });

  test('[R-FAIL-4] first REGISTER lost towards the I-CSCF (or its 401 lost back): Timer F, 408, nothing left', async () => {
    const { ue, pcscf, stub } = w;
    stub.intercept = () => true; // swallow: no response ever
    const p = ue.sendUnprotected(ue.registerRequest()).catch((e: Error) => e);
    await waitFor(() => stub.requests.length === 1, 'REGISTER upstream');
    assert.equal(pcscf.pending().length, 1);
    await w.clock.advanceAsync(32_000); // 64·T1
    await p;
    await w.clock.advanceAsync(0);
    assertClean(w);
    assert.equal(pcscf.failures().at(-1)?.reason, 'upstream-timeout');
  });

  test('[R-FAIL-4] protected REGISTER lost towards the S-CSCF (or its 200 lost back): 408 over the SA, new SAs deleted', async () => {
    const { ue, pcscf, stub } = w;
    const r1 = await ue.sendUnprotected(ue.registerRequest());
    await ue.acceptChallenge(r1, stub.keys[0]);
    stub.intercept = () => true;
    const p = ue.sendProtected(ue.answerRequest()).catch((e: Error) => e);
    await waitFor(() => stub.requests.length === 2, 'protected REGISTER upstream');
    w.clock.advance(32_000);
    await p;
    await pcscf.idle();
    assertClean(w);
  });

  test('[R-FAIL-4] [R-SA-7] the 200 lost towards the UE: the registration and its SAs end with the registration lifetime', async () => {
    const { ue, pcscf, stub } = w;
    await ue.register(stub);
    assert.equal(pcscf.registrations().length, 1);
    w.clock.advance(599_999);
    assert.equal(pcscf.sets().length, 1);
    w.clock.advance(1);
    await pcscf.idle();
    assertClean(w);
  });
});

describe('R-SA-7: SAs end with the registration', () => {
  let w: World;
  afterEach(async () => {
    await w.close();
  });

  test('[R-SA-7] de-registration (Expires 0): the 200 goes back protected, then every SA and the registration are deleted', async () => {
    w = await world();
    const { ue, pcscf, stub } = w;
    await ue.register(stub);
    const r = await ue.sendProtected(ue.registerRequest({ verify: ue.accepted!.verify, expires: 0, auth: `Digest username="${ue.impi}", realm="ims.lab", nonce="bm9uY2U=", uri="sip:ims.lab", response="0123456789abcdef0123456789abcdef"` }));
    assert.equal(r.status, 200);
    // R-SA-3 (TS 24.229 §5.1.1.2.2): the 200 came from port_pc to port_us, over the SA being deleted.
    assert.equal(protectionOf(r)?.spi, ue.local.spiS, 'the 200 travelled over the SA being deleted');
    assert.equal(protectionOf(r)?.saId, `${ue.set!.id}/pc-us`);
    await pcscf.idle();
    assertClean(w);
    assert.equal(pcscf.counters().deregistered, 1);
  });

  test('[R-SA-7] [R-FAIL-4] a reg-event NOTIFY saying the contact was deactivated deletes the registration and its SAs (RFC 3680) once the NOTIFY for the UE had its chance', async () => {
    w = await world({ regEvent: { subscribe: true, expires: 600000 } });
    const { ue, pcscf, stub } = w;
    await ue.register(stub);
    await waitFor(() => stub.subscribes.length === 1 && pcscf.registrations()[0]?.subscription === 'active', 'reg-event SUBSCRIBE');
    const sub = stub.subscribes[0];
    // TS 24.229 §5.2.3: SUBSCRIBE to the registered IMPU, Event reg, 600 000 s, along the Service-Route.
    assert.equal(sub.uri, 'sip:alice@ims.lab');
    assert.equal(sub.headers.get('Event'), 'reg');
    assert.equal(sub.headers.get('Expires'), '600000');
    assert.equal(sub.headers.get('Accept'), 'application/reginfo+xml');
    assert.equal(sub.headers.get('Route'), `<sip:orig@${HOST}:${stub.port};lr>`, 'along the Service-Route');
    assert.match(sub.headers.get('P-Asserted-Identity')!, /^<sip:pcscf@127\.0\.0\.1:\d+>$/);
    // A NOTIFY that keeps the contact active changes nothing.
    const uri = `sip:alice@${HOST}:${ue.local.portS}`;
    const active = await stub.notify(sub, { address: pcscf.address().sip.address, port: pcscf.address().sip.port }, { version: 0, state: 'full', registrations: [{ aor: 'sip:alice@ims.lab', id: 'r1', state: 'active', contacts: [{ id: 'c1', state: 'active', event: 'registered', uri, expires: 600 }] }] });
    assert.equal(active.status, 200);
    assert.equal(pcscf.registrations().length, 1);
    const r = await stub.notify(sub, { address: pcscf.address().sip.address, port: pcscf.address().sip.port }, { version: 1, state: 'full', registrations: [{ aor: 'sip:alice@ims.lab', id: 'r1', state: 'terminated', contacts: [{ id: 'c1', state: 'terminated', event: 'deactivated', uri, expires: 0 }] }] }, 'terminated;reason=deactivated');
    assert.equal(r.status, 200);
    // TS 33.203 §7.4: the SAs wait a little for the NOTIFY meant for the UE (none comes here)…
    assert.equal(pcscf.registrations()[0]?.ending?.reason, 'deregistered');
    assert.equal(pcscf.sets().length, 1);
    w.clock.advance(DEREGISTRATION_GRACE_MS - 1);
    assert.equal(pcscf.sets().length, 1);
    // …then everything goes.
    w.clock.advance(1);
    await pcscf.idle();
    assertClean(w);
    assert.equal(pcscf.counters().deregistered, 1);
  });

  test('[R-SA-7] stopping the P-CSCF deletes every SA and closes every protected port (port_ps and the port_pc pool)', async () => {
    w = await world();
    await w.ue.register(w.stub);
    const eps = w.pcscf.protectedEndpoints();
    assert.equal(eps.length, 1 + CLIENT_PORT_POOL);
    await w.pcscf.stop();
    assert.deepEqual(w.pcscf.sets(), []);
    // Every protected port is free again: a plain socket can bind each one.
    for (const e of eps) {
      const s = createSocket('udp4');
      await new Promise<void>((res, rej) => {
        s.once('error', rej);
        s.bind(e.port, e.address, () => res());
      });
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});
