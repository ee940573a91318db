/**
 * P-CSCF registration with sec-agree and IPsec (TS 33.203 §7.2, TS 24.229 §5.2.2, RFC 3329) on
 * real loopback sockets: a scripted UE over the userspace ESP-in-UDP datapath, the P-CSCF, and a
 * stub I-CSCF/S-CSCF.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { authorizationOf, parseOptionTags, securityServerOf, wwwAuthenticateOf } from '../../../src/sip/index.js';
import { protectionOf } from '../../../src/sip/transport/protected/index.js';
import { settle, world } from './support.js';

type World = Awaited<ReturnType<typeof world>>;

describe('TS 33.203 §7.2 / TS 24.229 §5.2.2: registration through the P-CSCF', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });
  afterEach(async () => {
    await w.close();
  });

  test('[R-SM-3] [R-AKA-6] [R-REG-4] [R-SA-3] two REGISTER round trips set up four SAs; keys never reach the UE', async () => {
    const { ue, pcscf, stub } = w;
    // 1. Unprotected REGISTER.
    const r1 = await ue.sendUnprotected(ue.registerRequest());
    assert.equal(r1.status, 401);
    // R-AKA-6: ik/ck taken out of every challenge the UE sees, the challenge itself kept.
    const ch = wwwAuthenticateOf(r1);
    assert.equal(ch.length, 1);
    assert.equal(ch[0].ik, undefined);
    assert.equal(ch[0].ck, undefined);
    assert.equal(ch[0].algorithm, 'AKAv1-MD5');
    assert.doesNotMatch(r1.headers.get('WWW-Authenticate')!, /\b(ik|ck)=/);
    // The REGISTER as the I-CSCF got it (TS 24.229 §5.2.2.1).
    const up1 = stub.all('REGISTER')[0];
    assert.equal(up1.headers.get('Security-Client'), undefined, 'Security-Client removed');
    assert.equal(up1.headers.get('Proxy-Require'), undefined, 'empty Proxy-Require removed');
    const require1 = up1.headers.getLines('Require').flatMap((l) => parseOptionTags(l));
    assert.ok(!require1.includes('sec-agree'), 'sec-agree tag removed');
    assert.ok(require1.includes('path'));
    const a = pcscf.address();
    assert.equal(up1.headers.get('Path'), `<sip:term@${a.sip.address}:${a.sip.port};lr>`);
    assert.equal(authorizationOf(up1)[0].integrityProtected, 'no');
    assert.equal(up1.headers.get('P-Visited-Network-ID'), 'ims.lab');
    assert.match(up1.headers.get('P-Charging-Vector')!, /^icid-value=[0-9a-f]{32};icid-generated-at=127\.0\.0\.1$/);
    // Security-Server: the chosen transform with the P-CSCF's SPIs and ports.
    const ss = securityServerOf(r1);
    assert.equal(ss.length, 1);
    assert.equal(ss[0].alg, 'hmac-sha-1-96');
    assert.equal(ss[0].ealg, 'aes-cbc');
    assert.equal(ss[0].mod, 'UDP-enc-tun');
    // R-SA-3: P-CSCF SPIs have MSB 0, are never 0..255 and never a UE SPI.
    for (const spi of [ss[0].spiC!, ss[0].spiS!]) {
      assert.ok(spi >= 256 && spi < 0x80000000, `spi ${spi}`);
      assert.ok(spi !== ue.local.spiC && spi !== ue.local.spiS);
    }
    assert.notEqual(ss[0].spiC, ss[0].spiS);
    // R-RR-1: port-s is the P-CSCF's one port_ps; port-c comes from its port_pc pool.
    const [portPs, ...pool] = pcscf.protectedEndpoints().map((e) => e.port);
    assert.equal(ss[0].portS, portPs);
    assert.ok(pool.includes(ss[0].portC!), `port-c ${ss[0].portC} from the pool ${pool.join(',')}`);
    // Four temporary SAs bound to this UE; one pending attempt.
    let sets = pcscf.sets();
    assert.equal(sets.length, 1);
    assert.equal(sets[0].state, 'temporary');
    assert.equal(sets[0].sas.length, 4);
    assert.deepEqual(pcscf.pending().map((p) => [p.impi, p.state]), [['alice@ims.lab', 'challenged']]);
    // 2. Protected REGISTER over the new SAs.
    await ue.acceptChallenge(r1, stub.keys[0]);
    const r2 = await ue.sendProtected(ue.answerRequest());
    assert.equal(r2.status, 200);
    // R-SA-3: the 200 came back protected from port_pc to the UE's port_us (TS 24.229 §5.1.1.2.2),
    // on the UE's inbound SA of flow pc-us (its spi-s).
    assert.equal(protectionOf(r2)?.spi, ue.local.spiS);
    assert.equal(protectionOf(r2)?.saId, `${ue.set!.id}/pc-us`);
    const up2 = stub.all('REGISTER')[1];
    assert.equal(authorizationOf(up2)[0].integrityProtected, 'yes');
    assert.equal(up2.headers.get('Security-Verify'), undefined);
    assert.equal(up2.headers.get('Security-Client'), undefined);
    // R-SM-3: exactly the two REGISTER round trips of AKA, nothing extra.
    assert.equal(stub.all('REGISTER').length, 2);
    // R-SA-7 / R-SA-4: active SAs, registration with the IMPUs of P-Associated-URI.
    sets = pcscf.sets();
    assert.equal(sets.length, 1);
    assert.equal(sets[0].state, 'active');
    // R-SA-7 (TS 24.229 §5.2.2.3): the registration's expiry + 30 s.
    assert.equal(sets[0].expiresAt - w.clock.now(), 600_000 + 30_000);
    const regs = pcscf.registrations();
    assert.equal(regs.length, 1);
    assert.deepEqual(regs[0].impus, ['sip:alice@ims.lab', 'tel:+15551234']);
    assert.equal(regs[0].contact, `sip:alice@127.0.0.1:${ue.local.portS}`);
    assert.deepEqual(pcscf.pending(), []);
    // SA table rows (TS 33.203 §7.1): UE IP, UE protected port, transport, SPI, IMPI, IMPUs.
    const rows = pcscf.saTable();
    assert.equal(rows.length, 8, 'four SAs × UDP and TCP');
    const inbound = rows.filter((r) => r.direction === 'in' && r.transport === 'udp').sort((x, y) => x.uePort - y.uePort);
    assert.deepEqual(
      inbound.map((r) => [r.ueAddress, r.uePort, r.spi, r.impi, r.impus]),
      [
        ['127.0.0.1', ue.local.portC, ss[0].spiS, 'alice@ims.lab', ['sip:alice@ims.lab', 'tel:+15551234']],
        ['127.0.0.1', ue.local.portS, ss[0].spiC, 'alice@ims.lab', ['sip:alice@ims.lab', 'tel:+15551234']],
      ].sort((x, y) => (x[1] as number) - (y[1] as number)),
    );
  });

  test('[R-SA-3] protected.responseFlow "server-to-client" (Rel-5 pairing): the 200 leaves port_ps for the UE\'s port_uc', async () => {
    // The default (client-to-server, TS 24.229 §5.1.1.2.2) is asserted above; the Rel-5 pairing
    // stays selectable for peers that expect it.
    const v = await world({ protected: { ports: 'auto', responseFlow: 'server-to-client' } }, { seed: 'rel5' });
    try {
      const r1 = await v.ue.sendUnprotected(v.ue.registerRequest());
      assert.equal(r1.status, 401);
      await v.ue.acceptChallenge(r1, v.stub.keys[0]);
      const r2 = await v.ue.sendProtected(v.ue.answerRequest());
      assert.equal(r2.status, 200);
      assert.equal(protectionOf(r2)?.spi, v.ue.local.spiC);
      assert.equal(protectionOf(r2)?.saId, `${v.ue.set!.id}/ps-uc`);
    } finally {
      await v.close();
    }
  });

  test('[R-SM-2] an offer with nothing acceptable gets 494 listing the policy; no SA, nothing forwarded', async () => {
    const { ue, pcscf, stub } = w;
    // UDP-enc-tun is the only mode of the userspace datapath: an offer of transport mode only is unacceptable.
    await ue.newOffer({ mods: ['trans'] });
    const r = await ue.sendUnprotected(ue.registerRequest());
    assert.equal(r.status, 494);
    const supported = securityServerOf(r);
    assert.ok(supported.length > 0);
    assert.ok(supported.every((m) => m.mod === 'UDP-enc-tun' && m.spiC === undefined));
    assert.equal(stub.all('REGISTER').length, 0);
    assert.equal(pcscf.sets().length, 0);
    assert.deepEqual(pcscf.pending(), []);
    assert.equal(pcscf.counters().secAgreeRejected, 1);
  });

  test('[R-SM-2] no acceptable algorithm (hmac-md5-96 offered, policy sha1 only) is refused before any SA', async () => {
    await w.close();
    w = await world({ policy: { algs: ['hmac-sha-1-96'], ealgs: ['null'] } }, { algs: ['hmac-md5-96'] });
    const r = await w.ue.sendUnprotected(w.ue.registerRequest());
    assert.equal(r.status, 494);
    assert.ok(securityServerOf(r).every((m) => m.alg === 'hmac-sha-1-96'));
    assert.equal(w.pcscf.sets().length, 0);
    assert.equal(w.stub.all('REGISTER').length, 0);
  });

  test('[R-SM-2] a REGISTER without sec-agree gets 421 with Require: sec-agree (RFC 3329 §2.3.1)', async () => {
    const { ue, pcscf, stub } = w;
    const r = await ue.sendUnprotected(ue.registerRequest({ requireSecAgree: false, securityClient: null }));
    assert.equal(r.status, 421);
    assert.equal(r.headers.get('Require'), 'sec-agree');
    const r2 = await ue.sendUnprotected(ue.registerRequest({ securityClient: null }));
    assert.equal(r2.status, 494, 'sec-agree required but no Security-Client');
    assert.equal(stub.all('REGISTER').length, 0);
    assert.equal(pcscf.sets().length, 0);
  });

  test('[R-SM-4] a Security-Verify that differs from the Security-Server sent aborts and deletes the new SAs', async () => {
    const { ue, pcscf, stub } = w;
    const r1 = await ue.sendUnprotected(ue.registerRequest());
    const acc = await ue.acceptChallenge(r1, stub.keys[0]);
    // A bid-down: the verify names a weaker transform than the one the P-CSCF sent.
    const forged = acc.verify.map((m) => ({ ...m, alg: 'hmac-md5-96', extensions: [] }));
    const r2 = await ue.sendProtected(ue.answerRequest({ verify: forged }));
    assert.equal(r2.status, 494);
    await pcscf.idle();
    assert.equal(pcscf.sets().length, 0, 'new SAs deleted');
    assert.deepEqual(pcscf.pending(), []);
    assert.equal(stub.all('REGISTER').length, 1, 'never forwarded');
    assert.equal(pcscf.counters().bidDownRejected, 1);
    assert.equal(pcscf.failures().at(-1)?.reason, 'security-verify-mismatch');
  });

  test('[R-SM-4] a Security-Client changed between the two REGISTERs aborts and deletes the new SAs', async () => {
    const { ue, pcscf, stub } = w;
    const r1 = await ue.sendUnprotected(ue.registerRequest());
    await ue.acceptChallenge(r1, stub.keys[0]);
    const changed = ue.offer.slice(1);
    const r2 = await ue.sendProtected(ue.answerRequest({ securityClient: changed }));
    assert.equal(r2.status, 494);
    await pcscf.idle();
    assert.equal(pcscf.sets().length, 0);
    assert.equal(pcscf.failures().at(-1)?.reason, 'security-client-changed');
    assert.equal(stub.all('REGISTER').length, 1);
  });

  test('[R-SA-9] a protected REGISTER whose Contact is not the UE port-s bound to the SA is refused', async () => {
    const { ue, pcscf, stub } = w;
    const r1 = await ue.sendUnprotected(ue.registerRequest());
    await ue.acceptChallenge(r1, stub.keys[0]);
    const r2 = await ue.sendProtected(ue.answerRequest({ contactPort: ue.local.portS + 1 }));
    assert.equal(r2.status, 403);
    await pcscf.idle();
    assert.equal(pcscf.sets().length, 0);
    assert.equal(pcscf.counters().selectorRejected, 1);
    assert.equal(stub.all('REGISTER').length, 1);
  });

  test('[R-SA-4] a REGISTER over a bound SA for a different IMPI is rejected', async () => {
    const { ue, pcscf, stub } = w;
    await ue.register(stub);
    const req = ue.registerRequest({
      auth: 'Digest username="mallory@ims.lab", realm="ims.lab", nonce="", uri="sip:ims.lab", response=""',
      verify: ue.accepted!.verify,
    });
    const r = await ue.sendProtected(req);
    assert.equal(r.status, 403);
    assert.equal(stub.all('REGISTER').length, 2, 'not forwarded');
    assert.equal(pcscf.sets()[0].state, 'active', 'the working SAs stay');
  });

  test('[R-SA-4] an initial REGISTER offering UE ports bound to another IMPI at that address is rejected', async () => {
    const { ue, pcscf, stub } = w;
    await ue.register(stub);
    const req = ue.registerRequest({ auth: 'Digest username="mallory@ims.lab", realm="ims.lab", nonce="", uri="sip:ims.lab", response=""' });
    const r = await ue.sendUnprotected(req);
    assert.equal(r.status, 403);
    assert.equal(pcscf.counters().selectorRejected, 1);
    assert.equal(pcscf.sets().length, 1);
  });

  test('[R-SA-5] a challenge answer on the unprotected port is refused; so is any non-REGISTER from a UE there', async () => {
    const { ue, pcscf, stub } = w;
    const answer = ue.registerRequest({ auth: 'Digest username="alice@ims.lab", realm="ims.lab", nonce="bm9uY2U=", uri="sip:ims.lab", response="0123456789abcdef0123456789abcdef"' });
    const r = await ue.sendUnprotected(answer);
    assert.equal(r.status, 403);
    const m = await ue.stack.sendRequest(ue.message('sip:bob@ims.lab'), { address: ue.pcscf.address, port: ue.pcscf.port, through: ue.plain });
    assert.equal(m.status, 403);
    assert.equal(pcscf.counters().portRuleRejected, 2);
    assert.equal(stub.requests.length, 0);
  });

  test('[R-SA-5] a sync-failure REGISTER (auts) on the unprotected port is forwarded and starts a new agreement', async () => {
    const { ue, pcscf, stub } = w;
    const r1 = await ue.sendUnprotected(ue.registerRequest());
    assert.equal(r1.status, 401);
    const auts = Buffer.alloc(14, 7).toString('base64');
    const resync = ue.registerRequest({ auth: `Digest username="alice@ims.lab", realm="ims.lab", nonce="bm9uY2U=", uri="sip:ims.lab", response="", auts="${auts}"` });
    const r2 = await ue.sendUnprotected(resync);
    assert.equal(r2.status, 401, 'new challenge relayed');
    assert.ok(authorizationOf(stub.all('REGISTER')[1])[0].auts);
    assert.equal(authorizationOf(stub.all('REGISTER')[1])[0].integrityProtected, 'no');
    // The first attempt's temporary SAs were replaced by the second's.
    assert.equal(pcscf.sets().length, 1);
    assert.equal(pcscf.pending().length, 1);
  });

  test('[R-SA-5] [R-FAIL-2] a network-authentication-failure REGISTER is forwarded unprotected; the failure leaves nothing behind', async () => {
    const { ue, pcscf, stub } = w;
    const r1 = await ue.sendUnprotected(ue.registerRequest());
    assert.equal(r1.status, 401);
    stub.intercept = (req, ctx) => {
      if (req.method !== 'REGISTER') return false;
      ctx.reply(403, 'Forbidden');
      return true;
    };
    // The UE rejected the network (bad MAC): empty response to the challenge, no sec-agree needed.
    const report = ue.registerRequest({ auth: 'Digest username="alice@ims.lab", realm="ims.lab", nonce="bm9uY2U=", uri="sip:ims.lab", response=""', securityClient: null, requireSecAgree: false });
    const r2 = await ue.sendUnprotected(report);
    assert.equal(r2.status, 403);
    const up = stub.all('REGISTER')[1];
    assert.equal(authorizationOf(up)[0].integrityProtected, 'no');
    assert.equal(authorizationOf(up)[0].response, '');
    // The report replaced the challenged attempt (its temporary SAs went), and the 403 ended it.
    await pcscf.idle();
    assert.deepEqual(pcscf.sets(), []);
    assert.deepEqual(pcscf.pending(), []);
    assert.deepEqual(pcscf.registrations(), []);
  });

  test('[R-SA-6] at most three SA sets per IMPI, and one half-open attempt per IMPI (issue [O] §2): each new unprotected attempt replaces the last; the active set is never evicted', async () => {
    const { ue, pcscf, stub } = w;
    await ue.register(stub);
    for (let i = 0; i < 3; i++) {
      // New attempts from new sources (each a fresh UE port pair) for the same IMPI.
      await ue.newOffer();
      const other = await (await import('./support.js')).ScriptedUe.create(ue.pcscf, w.clock, { seed: `x${i}` });
      other.offer = ue.offer;
      other.local = ue.local;
      const r = await other.sendUnprotected(other.registerRequest());
      assert.equal(r.status, 401);
      await other.close();
      const perDirection = pcscf.saTable().filter((row) => row.impi === 'alice@ims.lab' && row.direction === 'in' && row.transport === 'udp');
      assert.ok(perDirection.length <= 6, `at most 3 inbound SAs per port pair: ${perDirection.length / 2} sets`);
      assert.ok(pcscf.sets().length <= 3);
    }
    assert.deepEqual(pcscf.sets().map((s) => s.state), ['active', 'temporary'], 'the active set and the newest attempt');
    // The replaced attempts are gone with their sets (R-FAIL-4).
    await settle();
    assert.equal(pcscf.pending().length, 1);
  });
});
