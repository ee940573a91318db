/**
 * The soft UE against a scripted P-CSCF/registrar on real loopback sockets (TS 24.229 §5.1.1,
 * TS 33.203 §6–§7): registration, sec-agree, SAs, failures, re-registration, reg-event,
 * MESSAGE, port rules and lost messages.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { usimStateFromSqnMs, verifyAuts } from '../../../src/auth/index.js';
import { PcapRecorder, TSHARK_ESP_PREFS } from '../../../src/capture/index.js';
import { ManualClock, SeededRng } from '../../../src/common/index.js';
import { wiresharkLinesForSas } from '../../../src/ipsec/index.js';
import { type Reginfo, SipHeaders, SipRequest, SipResponse, securityClientOf, securityVerifyOf, serializeMessage, topVia } from '../../../src/sip/index.js';
import { createUe, memorySqnStore, parseUeConfig, type Ue, type UeConfigInput, type UeHooks } from '../../../src/nodes/ue/index.js';
import { defaultInstanceId } from '../../../src/nodes/ue/config.js';
import { formatSecurityMechanisms } from '../../../src/secagree/index.js';
import { protectionOf } from '../../../src/sip/transport/protected/index.js';
import { needPeer } from '../../support/peers.js';
import { FakePcscf, HOST, K, OPC, type FakeOptions } from './support/fake-pcscf.js';
import { waitFor } from '../../support/wait.js';

interface Rig {
  clock: ManualClock;
  pc: FakePcscf;
  ue: Ue;
  store: ReturnType<typeof memorySqnStore>;
  close(): Promise<void>;
}

async function rig(o: { cfg?: Partial<UeConfigInput>; hooks?: UeHooks; store?: ReturnType<typeof memorySqnStore>; fake?: FakeOptions; deps?: Record<string, unknown> } = {}): Promise<Rig> {
  const clock = new ManualClock(1_000_000);
  const pc = await FakePcscf.start({ clock, ...o.fake });
  const store = o.store ?? memorySqnStore();
  const cfg = parseUeConfig({ impi: 'alice@ims.lab', impu: 'sip:alice@ims.lab', k: K, opc: OPC, pcscf: `${HOST}:${pc.unprotectedPort}`, expires: 600, subscribeRegEvent: false, reRegister: { auto: false }, ...o.cfg });
  const ue = createUe(cfg, { clock, rng: new SeededRng(5), sqnStore: store, hooks: o.hooks, ...o.deps });
  await ue.start();
  return {
    clock,
    pc,
    ue,
    store,
    async close() {
      await ue.stop();
      await pc.close();
    },
  };
}

const ueServer = (ue: Ue) => ue.address().protectedServer;

/** Advance the manual clock in steps, letting sockets and promises run between steps. */
async function advance(clock: ManualClock, ms: number, step = 1000): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await clock.advanceAsync(Math.min(step, ms - t));
  }
}

function reginfo(contact: { address: string; port: number }, c: { state: 'active' | 'terminated'; event: 'shortened' | 'deactivated' | 'registered'; expires?: number }, regState: 'active' | 'terminated' = 'active'): Reginfo {
  return {
    version: 1,
    state: 'full',
    registrations: [{ aor: 'sip:alice@ims.lab', id: 'a1', state: regState, contacts: [{ id: 'c1', state: c.state, event: c.event, uri: `sip:${contact.address}:${contact.port}`, ...(c.expires !== undefined ? { expires: c.expires } : {}) }] }],
  };
}

describe('TS 24.229 §5.1.1.2 / TS 33.203 §7.2: initial registration', () => {
  test('[R-SM-1] [R-SM-3] [R-SM-6] [R-SA-3] [R-SA-7] unprotected REGISTER with the offer, protected REGISTER on the new SAs, 200 activates them for expiry + 30 s', async () => {
    const r = await rig();
    try {
      const reg = await r.ue.register();
      const [first, second, ...rest] = r.pc.registers();
      assert.equal(rest.length, 0, 'two REGISTER round trips, no extra one (R-SM-3)');
      // First REGISTER: unprotected, Security-Client in priority order with MSB-1 SPIs.
      assert.equal(first.protected, false);
      const offer = securityClientOf(first.req);
      assert.deepEqual(offer.map((m) => [m.name, m.alg, m.ealg, m.mod]), [
        ['ipsec-3gpp', 'hmac-sha-1-96', 'aes-cbc', 'UDP-enc-tun'],
        ['ipsec-3gpp', 'hmac-sha-1-96', 'null', 'UDP-enc-tun'],
        ['ipsec-3gpp', 'hmac-md5-96', 'aes-cbc', 'UDP-enc-tun'],
        ['ipsec-3gpp', 'hmac-md5-96', 'null', 'UDP-enc-tun'],
      ]);
      const o = offer[0];
      assert.ok(o.spiC! >= 0x80000000 && o.spiS! >= 0x80000000, 'UE SPIs have MSB 1');
      assert.equal(o.portS, ueServer(r.ue).port);
      assert.ok(offer.every((m) => m.spiC === o.spiC && m.spiS === o.spiS && m.portC === o.portC && m.portS === o.portS));
      assert.match(first.req.headers.get('require') ?? '', /sec-agree/);
      assert.match(first.req.headers.get('proxy-require') ?? '', /sec-agree/);
      assert.match(first.req.headers.get('supported') ?? '', /path/);
      assert.deepEqual([first.auth?.username, first.auth?.realm, first.auth?.nonce, first.auth?.uri, first.auth?.response], ['alice@ims.lab', 'ims.lab', '', 'sip:ims.lab', '']);
      // TS 24.229 §5.1.1.2.2: the unprotected REGISTER's Contact is the UE's unprotected port; every
      // REGISTER Contact carries +sip.instance (RFC 5626 §4.1, by default from the IMPI) and the MMTel ICSI.
      const tags = `;+sip.instance="<${defaultInstanceId('alice@ims.lab')}>";+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"`;
      assert.match(defaultInstanceId('alice@ims.lab'), /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(first.req.headers.get('contact'), `<sip:${HOST}:${r.ue.address().sip.port}>${tags}`);
      assert.equal(first.req.headers.get('expires'), '600');
      assert.equal(first.req.uri, 'sip:ims.lab');
      assert.equal(topVia(first.req)?.params.has('rport'), true);
      // Second REGISTER: protected from port-c to the P-CSCF's port-s, on the SA whose SPI the P-CSCF chose.
      assert.equal(second.protected, true);
      const server = r.pc.securityServerFor(second.auth!.nonce)!;
      assert.equal(second.protection!.spi, server[0].spiS);
      assert.equal(formatSecurityMechanisms(securityVerifyOf(second.req)), formatSecurityMechanisms(server), 'Security-Verify = Security-Server (R-SM-4)');
      assert.equal(formatSecurityMechanisms(securityClientOf(second.req)), formatSecurityMechanisms(offer), 'Security-Client unchanged');
      assert.equal(second.auth!.response, r.pc.expectedResponse(second.auth!), 'digest response computed with RES');
      assert.equal(topVia(second.req)?.port, ueServer(r.ue).port, 'Via carries the protected server port');
      assert.equal(second.req.headers.get('contact'), `<sip:${HOST}:${ueServer(r.ue).port}>${tags}`, 'protected REGISTER: Contact = port_us');
      // 200: implicit set, Service-Route, lifetime, SAs active for exactly the registration lifetime.
      assert.deepEqual(reg.impus, ['sip:alice@ims.lab', 'tel:+15551234']);
      assert.deepEqual(reg.serviceRoute, [r.pc.serviceRoute]);
      assert.equal(reg.expires, 600);
      assert.equal(r.ue.state().state, 'registered');
      const rows = r.ue.saTable();
      assert.equal(rows.length, 8, 'four SAs, UDP and TCP rows');
      assert.ok(rows.every((x) => x.state === 'active'));
      assert.deepEqual(new Set(rows.filter((x) => x.direction === 'in').map((x) => x.spi)), new Set([o.spiC, o.spiS]));
      assert.deepEqual(new Set(rows.filter((x) => x.direction === 'out').map((x) => x.spi)), new Set([server[0].spiC, server[0].spiS]));
      // R-SA-7 (TS 24.229 §5.1.1.5.1): the registration's expiry + 30 s.
      assert.equal(r.ue.sa.get(reg.setId)!.expiresAt, r.clock.now() + 600_000 + 30_000);
    } finally {
      await r.close();
    }
  });

  test('[R-AKA-6] Digest AKAv2-MD5 challenges are answered with the AKAv2 password', async () => {
    const r = await rig();
    r.pc.script.algorithm = 'AKAv2-MD5';
    try {
      await r.ue.register();
      const second = r.pc.registers()[1];
      assert.equal(second.auth?.algorithm, 'AKAv2-MD5');
      assert.equal(r.ue.state().state, 'registered');
    } finally {
      await r.close();
    }
  });

  test('[R-SM-5] a Security-Server choosing what the UE never offered is refused and nothing more is sent', async () => {
    const r = await rig();
    r.pc.script.securityServer = (s) => s.map((m) => ({ ...m, alg: 'hmac-md5-96', ealg: 'des-ede3-cbc' }));
    try {
      await assert.rejects(r.ue.register(), (e: Error & { reason?: string; code?: string }) => e.code === 'UE_REGISTRATION' && e.reason === 'security-server');
      await new Promise((res) => setTimeout(res, 150));
      assert.equal(r.pc.received.length, 1, 'no further request after the refused 401');
      assert.deepEqual(r.ue.saTable(), []);
      assert.equal(r.ue.state().state, 'failed');
      assert.equal(r.store.state, undefined, 'the ISIM never ran: no SQN consumed');
    } finally {
      await r.close();
    }
  });

  test('[R-FAIL-2] [R-AKA-4] bad MAC: unprotected REGISTER with response="" and no auts and a new Security-Client; a non-401 answer stops; no SA, no SQN', async () => {
    const r = await rig();
    r.pc.script.badMac = true;
    try {
      await assert.rejects(r.ue.register(), (e: Error & { reason?: string }) => e.reason === 'mac-failure');
      const regs = r.pc.registers();
      assert.equal(regs.length, 2);
      const report = regs[1];
      assert.equal(report.protected, false);
      assert.notEqual(report.auth?.nonce, '');
      assert.equal(report.auth?.response, '');
      assert.equal(report.auth?.auts, undefined);
      assert.ok(r.pc.securityServerFor(report.auth.nonce), 'the nonce of the challenge is reported');
      // TS 24.229 §5.1.1.5.3: a new Security-Client, new spi-c, spi-s and port-c; port-s kept.
      const [a, b] = [securityClientOf(regs[0].req)[0], securityClientOf(report.req)[0]];
      assert.ok(a.spiC !== b.spiC && a.spiS !== b.spiS && a.portC !== b.portC, `${formatSecurityMechanisms([a])} → ${formatSecurityMechanisms([b])}`);
      assert.equal(b.portS, a.portS);
      assert.deepEqual(r.ue.saTable(), []);
      assert.equal(r.store.state, undefined);
      assert.equal(r.ue.state().lastFailure?.reason, 'mac-failure');
    } finally {
      await r.close();
    }
  });

  test('[R-FAIL-3] [R-AKA-5] stale SQN: unprotected REGISTER with AUTS and a new Security-Client, resynchronisation, new challenge, success', async () => {
    // The ISIM has accepted SQNs up to SEQ 10 (IND 0); the network's next one is older.
    const r = await rig({ store: memorySqnStore(usimStateFromSqnMs(10 * 32)) });
    try {
      await r.ue.register();
      const regs = r.pc.registers();
      assert.equal(regs.length, 3);
      const resync = regs[1];
      assert.equal(resync.protected, false);
      assert.ok(resync.auth?.auts);
      // The home network's own f5*/f1* recover SQN_MS = 10·32 from the AUTS (TS 33.102 §6.3.5).
      const rand = Buffer.from(resync.auth.nonce, 'base64').subarray(0, 16);
      assert.deepEqual(verifyAuts(r.pc.milenage, rand, resync.auth.auts), { ok: true, sqnMs: 320 });
      // TS 24.229 §5.1.1.5.3: the AUTS rides a new Security-Client (new spi-c, spi-s, port-c), and
      // the SAs are made from that one.
      const [a, b] = [securityClientOf(regs[0].req)[0], securityClientOf(resync.req)[0]];
      assert.ok(a.spiC !== b.spiC && a.spiS !== b.spiS && a.portC !== b.portC, `${formatSecurityMechanisms([a])} → ${formatSecurityMechanisms([b])}`);
      assert.equal(b.portS, a.portS);
      assert.equal(formatSecurityMechanisms(securityClientOf(regs[2].req)), formatSecurityMechanisms(securityClientOf(resync.req)));
      assert.deepEqual(new Set(r.ue.saTable().filter((x) => x.direction === 'in').map((x) => x.spi)), new Set([b.spiC, b.spiS]));
      assert.equal(regs[2].protected, true);
      assert.equal(r.ue.state().state, 'registered');
      assert.ok(Math.max(...r.store.state!.slots) > 320, 'the fresh SQN was accepted and saved');
    } finally {
      await r.close();
    }
  });

  test('[R-SA-7] the Contact expires granted in the 200 (not the one asked for) sets the registration and SA lifetime (expiry + 30 s)', async () => {
    const r = await rig({ cfg: { expires: 3600 } });
    r.pc.script.expires = 120;
    try {
      const reg = await r.ue.register();
      assert.equal(reg.expires, 120);
      assert.equal(r.ue.sa.get(reg.setId)!.expiresAt - r.clock.now(), 120_000 + 30_000);
    } finally {
      await r.close();
    }
  });
});

describe('TS 33.203 §7.1 port rules at the UE', () => {
  test('[R-SA-5] requests and non-REGISTER 2xx on the unprotected port are dropped; protected requests are answered', async () => {
    const r = await rig();
    try {
      await r.ue.register();
      const s = createSocket('udp4');
      await new Promise<void>((res) => s.bind(0, HOST, () => res()));
      const answers: string[] = [];
      s.on('message', (m) => answers.push(m.toString('latin1')));
      const h = new SipHeaders();
      h.append('Via', `SIP/2.0/UDP ${HOST}:${s.address().port};branch=z9hG4bKplain1`);
      h.append('From', '<sip:mallory@evil>;tag=1');
      h.append('To', '<sip:alice@ims.lab>');
      h.append('Call-ID', 'plain-1');
      h.append('CSeq', '1 MESSAGE');
      h.append('Max-Forwards', '70');
      const plainReq = new SipRequest('MESSAGE', `sip:alice@${HOST}`, h, new TextEncoder().encode('spoofed'));
      const unprot = r.ue.address().sip;
      const before = r.ue.counters().portRule;
      let got = 0;
      r.ue.onMessage(() => got++);
      await new Promise<void>((res) => s.send(serializeMessage(plainReq), unprot.port, HOST, () => res()));
      // A 200 to something never sent unprotected.
      const ok = new SipResponse(200, 'OK', new SipHeaders([['Via', `SIP/2.0/UDP ${HOST}:${unprot.port};branch=z9hG4bKnotours`], ['From', '<sip:a@b>;tag=1'], ['To', '<sip:a@b>;tag=2'], ['Call-ID', 'x'], ['CSeq', '1 MESSAGE']]));
      await new Promise<void>((res) => s.send(serializeMessage(ok), unprot.port, HOST, () => res()));
      // An error response passes the port rule (and is then a stray for the stack).
      const err = new SipResponse(403, 'Forbidden', new SipHeaders([['Via', `SIP/2.0/UDP ${HOST}:${unprot.port};branch=z9hG4bKerr`], ['From', '<sip:a@b>;tag=1'], ['To', '<sip:a@b>;tag=2'], ['Call-ID', 'y'], ['CSeq', '1 MESSAGE']]));
      await new Promise<void>((res) => s.send(serializeMessage(err), unprot.port, HOST, () => res()));
      await waitFor(() => r.ue.counters().portRule >= before + 2);
      await new Promise((res) => setTimeout(res, 100));
      assert.equal(r.ue.counters().portRule, before + 2);
      assert.equal(got, 0);
      assert.deepEqual(answers, [], 'nothing answered on the unprotected port');
      s.close();
      // The same MESSAGE through the SAs is delivered and answered.
      const resp = await r.pc.sendToUe(ueServer(r.ue), 'MESSAGE', new TextEncoder().encode('through the SA'));
      assert.equal(resp.status, 200);
      assert.equal(got, 1);
    } finally {
      await r.close();
    }
  });
});

describe('RFC 3428 MESSAGE over the SAs (TS 24.229 §5.1.2A)', () => {
  test('[R-SA-3] MESSAGE leaves protected with the P-CSCF URI and the Service-Route as Route; an incoming MESSAGE is answered 200', async () => {
    const r = await rig();
    try {
      await r.ue.register();
      const resp = await r.ue.sendMessage('sip:bob@ims.lab', 'hello bob');
      assert.equal(resp.status, 200);
      const m = r.pc.received.find((x) => x.req.method === 'MESSAGE')!;
      assert.equal(m.protected, true);
      assert.deepEqual(m.req.headers.getAll('route'), [`<sip:${HOST}:${r.pc.portS};lr>`, r.pc.serviceRoute]);
      assert.equal(m.req.uri, 'sip:bob@ims.lab');
      assert.equal(new TextDecoder().decode(m.req.body), 'hello bob');
      const inbox: string[] = [];
      r.ue.onMessage((x) => inbox.push(`${x.from} ${x.text}`));
      const back = await r.pc.sendToUe(ueServer(r.ue), 'MESSAGE', new TextEncoder().encode('hi alice'), [['Content-Type', 'text/plain']]);
      assert.equal(back.status, 200);
      assert.deepEqual(inbox, ['sip:bob@ims.lab hi alice']);
    } finally {
      await r.close();
    }
  });

  test('[R-SA-3] UE responseFlow: client-to-server (default) answers from port_uc to port_ps; server-to-client from port_us back to port_pc', async () => {
    // TS 24.229 §5.1.1.2.2: over UDP the UE sends requests and responses from port_uc to port_ps;
    // the Rel-5 pairing (config responseFlow "server-to-client") answers on the request's path.
    assert.equal(parseUeConfig({ impi: 'alice@ims.lab', impu: 'sip:alice@ims.lab', k: K, opc: OPC, pcscf: `${HOST}:5060` }).responseFlow, 'client-to-server');
    assert.throws(() => parseUeConfig({ impi: 'alice@ims.lab', impu: 'sip:alice@ims.lab', k: K, opc: OPC, pcscf: `${HOST}:5060`, responseFlow: 'both' }), /responseFlow/);
    for (const [flow, saFlow] of [['client-to-server', 'uc-ps'], ['server-to-client', 'us-pc']] as const) {
      const r = await rig({ cfg: { responseFlow: flow } });
      try {
        const reg = await r.ue.register();
        const resp = await r.pc.sendToUe(ueServer(r.ue), 'MESSAGE', new TextEncoder().encode(flow), [['Content-Type', 'text/plain']]);
        assert.equal(resp.status, 200);
        const prot = protectionOf(resp)!;
        assert.equal(prot.saId.split('/')[1], saFlow, flow);
        assert.equal(prot.spi, saFlow === 'uc-ps' ? reg.pcscf.spiS : reg.pcscf.spiC, flow);
      } finally {
        await r.close();
      }
    }
  });

  test('sendMessage before registering is refused with not-registered', async () => {
    const r = await rig();
    try {
      await assert.rejects(r.ue.sendMessage('sip:bob@ims.lab', 'x'), (e: Error & { reason?: string }) => e.reason === 'not-registered');
    } finally {
      await r.close();
    }
  });
});

describe('TS 33.203 §7.4 re-registration and SA change-over', () => {
  test('[R-RR-1] [R-RR-2] re-REGISTER over the old SAs with the last nonce and response, second REGISTER on the new ones; the old set kept whole until the P-CSCF\'s first message on the new set, then 64·T1', async () => {
    const r = await rig();
    try {
      const first = await r.ue.register();
      const regs0 = r.pc.registers();
      const oldPcSet = regs0[1].protection!.setId;
      const second = await r.ue.reRegister();
      const regs = r.pc.registers();
      assert.equal(regs.length, 4);
      const [re1, re2] = regs.slice(2);
      assert.equal(re1.protected, true);
      assert.equal(re1.protection!.setId, oldPcSet, 're-REGISTER runs over the existing SAs');
      assert.equal(formatSecurityMechanisms(securityVerifyOf(re1.req)), formatSecurityMechanisms(r.pc.securityServerFor(regs0[1].auth!.nonce)!));
      // TS 24.229 §5.1.1.4.2: the re-REGISTER's Authorization carries the last nonce and response.
      assert.deepEqual([re1.auth?.nonce, re1.auth?.response], [regs0[1].auth!.nonce, regs0[1].auth!.response]);
      assert.notEqual(re1.auth?.response, '');
      const newOffer = securityClientOf(re1.req)[0];
      assert.notEqual(newOffer.spiC, first.ue.spiC);
      assert.notEqual(newOffer.portC, first.ue.portC);
      assert.equal(newOffer.portS, first.ue.portS, 'the protected server port (Contact) stays');
      assert.notEqual(re2.protection!.setId, oldPcSet, 'second REGISTER on the new SAs');
      assert.notEqual(second.setId, first.setId);
      // R-RR-2 at the UE (TS 24.229 §5.1.1.5.1): the old set kept, both directions.
      const old = r.ue.sa.get(first.setId)!;
      assert.equal(old.state, 'old');
      assert.deepEqual(old.sas.map((s) => `${s.flow}:${s.direction}`).sort(), ['pc-us:in', 'ps-uc:in', 'uc-ps:out', 'us-pc:out']);
      assert.equal(old.expiresAt, first.expiresAt + 30_000, 'the old set keeps its lifetime until the change-over');
      // The UE sends on the new SAs; the P-CSCF's 200 is its first message on the new set
      // (R-SA-3: a response leaves on the set of its request): the old set lives 64·T1 (32 s) more.
      await r.ue.sendMessage('sip:bob@ims.lab', 'after change-over');
      const msg = r.pc.received.filter((x) => x.req.method === 'MESSAGE').at(-1)!;
      assert.equal(msg.protection!.setId, re2.protection!.setId);
      const cut = r.clock.now();
      assert.equal(r.ue.sa.get(first.setId)?.expiresAt, cut + 32_000);
      assert.equal(r.ue.sa.get(first.setId)?.sas.length, 4, 'both directions, for the transactions still on it');
      r.clock.advance(32_000 - 1);
      assert.equal(r.ue.sa.get(first.setId)?.state, 'old');
      r.clock.advance(1);
      assert.equal(r.ue.sa.get(first.setId), undefined);
      const inbox: string[] = [];
      r.ue.onMessage((x) => inbox.push(x.text));
      assert.equal((await r.pc.sendToUe(ueServer(r.ue), 'MESSAGE', new TextEncoder().encode('on the new set'))).status, 200);
      assert.deepEqual(inbox, ['on the new set']);
      assert.ok(r.ue.saTable().every((x) => x.setId === second.setId));
    } finally {
      await r.close();
    }
  });

  test('[R-RR-3] a failed re-registration deletes the new SAs and keeps the old ones', async () => {
    const r = await rig();
    try {
      const first = await r.ue.register();
      r.pc.script.failProtectedWith = 403;
      await assert.rejects(r.ue.reRegister(), (e: Error & { reason?: string; status?: number }) => e.reason === 'rejected' && e.status === 403);
      assert.equal(r.ue.state().state, 'registered');
      assert.equal(r.ue.state().registration?.setId, first.setId);
      assert.deepEqual(r.ue.sa.sets().map((s) => [s.id, s.state]), [[first.setId, 'active']]);
      r.pc.script.failProtectedWith = undefined;
      assert.equal((await r.ue.sendMessage('sip:bob@ims.lab', 'still here')).status, 200);
    } finally {
      await r.close();
    }
  });

  test('[R-REG-3] automatic re-registration at max(E/2, E−600 s) keeps the UE registered', async () => {
    const r = await rig({ cfg: { expires: 1200, reRegister: { auto: true } } });
    r.pc.script.expires = 1200;
    try {
      const reg = await r.ue.register();
      assert.equal(r.ue.state().reRegisterAt, reg.registeredAt + 600_000);
      await advance(r.clock, 599_000, 50_000);
      assert.equal(r.pc.registers().length, 2, 'not before the re-registration time');
      await advance(r.clock, 2_000);
      await waitFor(() => r.pc.registers().length === 4 && r.ue.state().state === 'registered');
      assert.notEqual(r.ue.state().registration!.setId, reg.setId);
      const now = r.ue.state().registration!;
      assert.ok(now.registeredAt >= reg.registeredAt + 600_000, 'registered again once the timer fired');
      // R-SA-7 (TS 24.229 §5.1.1.5.1): max(old set's remaining lifetime, new expiry + 30 s).
      assert.equal(r.ue.sa.get(now.setId)!.expiresAt, now.expiresAt + 30_000, 'new SAs outlive the new registration by 30 s (R-SA-7)');
    } finally {
      await r.close();
    }
  });

  test('[R-REG-3] [R-RR-3] a failed automatic re-registration keeps the old SAs and is retried at half the remaining lifetime', async () => {
    const r = await rig({ cfg: { expires: 1200, reRegister: { auto: true } } });
    r.pc.script.expires = 1200;
    try {
      const reg = await r.ue.register();
      r.pc.script.failProtectedWith = 500;
      await advance(r.clock, 600_000, 100_000);
      await waitFor(() => r.pc.registers().length === 4 && r.ue.state().reRegisterAt !== undefined);
      const st = r.ue.state();
      assert.equal(st.state, 'registered');
      assert.equal(st.registration!.setId, reg.setId);
      assert.equal(st.lastFailure?.status, 500);
      assert.equal(st.reRegisterAt, r.clock.now() + (reg.expiresAt - r.clock.now()) / 2);
      r.pc.script.failProtectedWith = undefined;
      await advance(r.clock, st.reRegisterAt - r.clock.now(), 100_000);
      await waitFor(() => r.ue.state().registration?.setId !== reg.setId && r.ue.state().state === 'registered');
      assert.equal(r.pc.registers().length, 6);
    } finally {
      await r.close();
    }
  });

  test('[R-SA-7] de-registration sends Expires 0 over the SAs and deletes every SA', async () => {
    const r = await rig();
    try {
      await r.ue.register();
      await r.ue.deregister();
      const last = r.pc.registers().at(-1)!;
      assert.equal(last.protected, true);
      assert.equal(last.req.headers.get('expires'), '0');
      // TS 24.229 §5.1.1.6: the de-REGISTER carries the last nonce and response.
      const answered = r.pc.registers()[1];
      assert.deepEqual([last.auth?.nonce, last.auth?.response], [answered.auth!.nonce, answered.auth!.response]);
      assert.notEqual(last.auth?.response, '');
      assert.deepEqual(r.ue.saTable(), []);
      assert.equal(r.ue.state().state, 'deregistered');
      // A registration that simply runs out is cleaned up as well.
      await r.ue.register();
      await advance(r.clock, 601_000, 100_000);
      assert.equal(r.ue.state().state, 'deregistered');
      assert.deepEqual(r.ue.saTable(), []);
    } finally {
      await r.close();
    }
  });
});

describe('TS 24.229 §5.1.1.3 reg event and network-initiated procedures', () => {
  test('reg-event SUBSCRIBE leaves protected through the Service-Route after registering', async () => {
    const r = await rig({ cfg: { subscribeRegEvent: true } });
    try {
      await r.ue.register();
      await waitFor(() => r.ue.state().subscription === 'active');
      const sub = r.pc.received.find((x) => x.req.method === 'SUBSCRIBE')!;
      assert.equal(sub.protected, true);
      assert.equal(sub.req.uri, 'sip:alice@ims.lab');
      assert.equal(sub.req.headers.get('event'), 'reg');
      assert.equal(sub.req.headers.get('accept'), 'application/reginfo+xml');
      assert.deepEqual(sub.req.headers.getAll('route'), [`<sip:${HOST}:${r.pc.portS};lr>`, r.pc.serviceRoute]);
    } finally {
      await r.close();
    }
  });

  test('[R-RR-5] NOTIFY "shortened": both sides shorten, the UE re-registers with a fresh AKA run', async () => {
    const r = await rig();
    try {
      const first = await r.ue.register();
      const resp = await r.pc.notifyReg(ueServer(r.ue), reginfo(ueServer(r.ue), { state: 'active', event: 'shortened', expires: 30 }));
      assert.equal(resp.status, 200);
      await waitFor(() => r.pc.registers().length === 4 && r.ue.state().state === 'registered');
      const re2 = r.pc.registers()[3];
      assert.ok(re2.auth!.response !== '', 'answered a new challenge');
      assert.notEqual(r.ue.state().registration!.setId, first.setId);
    } finally {
      await r.close();
    }
  });

  test('[R-RR-5] NOTIFY "deactivated": the UE answers, then removes its registration and every SA', async () => {
    const r = await rig();
    try {
      await r.ue.register();
      const resp = await r.pc.notifyReg(ueServer(r.ue), reginfo(ueServer(r.ue), { state: 'terminated', event: 'deactivated' }, 'terminated'), 'terminated');
      assert.equal(resp.status, 200);
      await waitFor(() => r.ue.state().state === 'deregistered');
      assert.deepEqual(r.ue.saTable(), []);
      assert.equal(r.ue.state().lastFailure?.detail, 'network: deactivated');
    } finally {
      await r.close();
    }
  });
});

describe('R-FAIL-4: a lost message ends in a clean state after the timer', () => {
  const lose = (pick: (m: { kind: string; method?: string; status?: number }, prot: boolean) => boolean): UeHooks => ({
    incoming: (m, i) => (pick(m.kind === 'request' ? { kind: m.kind, method: m.method } : { kind: m.kind, status: m.status }, i.protected) ? null : undefined),
    outgoing: (m, i) => (pick(m.kind === 'request' ? { kind: 'out', method: m.method } : { kind: 'out', status: m.status }, i.protected) ? null : undefined),
  });
  const cases: Array<[string, (m: { kind: string; method?: string; status?: number }, prot: boolean) => boolean]> = [
    ['the initial REGISTER', (m, p) => m.kind === 'out' && m.method === 'REGISTER' && !p],
    ['the 401', (m) => m.kind === 'response' && m.status === 401],
    ['the protected REGISTER', (m, p) => m.kind === 'out' && m.method === 'REGISTER' && p],
    ['the 200 to the protected REGISTER', (m, p) => m.kind === 'response' && m.status === 200 && p],
  ];
  for (const [what, pick] of cases) {
    test(`[R-FAIL-4] losing ${what}: timeout, no SA, no registration`, async () => {
      const r = await rig({ hooks: lose(pick) });
      try {
        const p = r.ue.register().then(
          () => 'registered',
          (e: Error & { reason?: string }) => e.reason,
        );
        await new Promise((res) => setTimeout(res, 50));
        await advance(r.clock, 40_000, 500);
        assert.equal(await p, 'timeout');
        assert.equal(r.ue.state().state, 'failed');
        assert.deepEqual(r.ue.saTable(), []);
        assert.equal(r.ue.state().registration, undefined);
      } finally {
        await r.close();
      }
    });
  }
});

describe('kernel XFRM datapath selection (datapath: "xfrm", injected ip runner)', () => {
  test('SAs go to `ip xfrm` with mode transport; protected SIP uses plain sockets on the protected ports', async () => {
    const calls: string[][] = [];
    const runner = async (args: readonly string[]) => {
      calls.push([...args]);
      return { stdout: '', stderr: '' };
    };
    const r = await rig({
      cfg: { datapath: 'xfrm' },
      fake: { carrier: 'plain' },
      deps: { xfrmRunner: runner },
    });
    r.pc.script.policy = { algs: ['hmac-sha-1-96'], ealgs: ['aes-cbc', 'null'], mods: ['trans'] };
    try {
      const reg = await r.ue.register();
      assert.equal(reg.mod, 'trans');
      const first = r.pc.registers()[0];
      assert.ok(securityClientOf(first.req).every((m) => m.mod === 'trans'));
      const states = calls.filter((c) => c[0] === 'xfrm' && c[1] === 'state' && c[2] === 'add');
      assert.equal(states.length, 4);
      const spis = states.map((c) => parseInt(c[c.indexOf('spi') + 1], 16)).sort();
      assert.deepEqual(spis, [reg.ue.spiC, reg.ue.spiS, reg.pcscf.spiC, reg.pcscf.spiS].sort());
      assert.ok(states.every((c) => c.join(' ').includes('mode transport')));
      assert.ok(r.pc.registers()[1].protected);
    } finally {
      await r.close();
    }
    assert.ok(calls.some((c) => c[1] === 'state' && c[2] === 'delete'), 'stop removes the kernel SAs');
  });
});


describe('Wireshark reads the UE\'s protected REGISTER (INTEROP.md "tshark ESP")', () => {
  test('[R-SM-6] [R-SA-2] tshark checks the ICV and decrypts the protected REGISTER and its 200 with the keys the UE derived from IK/CK', async (t) => {
    if (!needPeer(t, 'tshark')) return;
    const seen: Array<{ dir: string; local: { address: string; port: number }; remote: { address: string; port: number }; datagram: Uint8Array }> = [];
    const r = await rig({ deps: { espTap: (dir: string, local: { address: string; port: number }, remote: { address: string; port: number }, datagram: Uint8Array) => seen.push({ dir, local, remote, datagram: datagram.slice() }) } });
    const dir = mkdtempSync(join(tmpdir(), 'imsec-ue-tshark-'));
    try {
      await r.ue.register();
      const lines = wiresharkLinesForSas(r.ue.sa.sas());
      const rec = new PcapRecorder();
      // Outer ports written as 4500 so tshark dissects ESP-in-UDP; the ESP bytes are as sent.
      for (const s of seen) {
        const [from, to] = s.dir === 'out' ? [s.local, s.remote] : [s.remote, s.local];
        rec.espInUdp({ address: from.address, port: 4500 }, { address: to.address, port: 4500 }, s.datagram);
      }
      const file = join(dir, 'ue.pcap');
      writeFileSync(file, rec.toBytes());
      const args = ['-r', file, ...TSHARK_ESP_PREFS];
      for (const l of lines) args.push('-o', `uat:esp_sa:${l}`);
      args.push('-T', 'fields', '-E', 'separator=;', '-e', 'esp.spi', '-e', 'esp.icv_good', '-e', 'sip.CSeq', '-e', 'sip.Status-Code');
      const out = spawnSync('tshark', args, { encoding: 'utf8', timeout: 60_000 });
      assert.equal(out.status, 0, out.stderr);
      const rows = out.stdout.trim().split('\n').map((l) => l.split(';'));
      assert.deepEqual(rows.map((x) => [x[1], x[2], x[3]]), [
        ['1', '2 REGISTER', ''],
        ['1', '2 REGISTER', '200'],
      ]);
      // R-SA-3 (TS 24.229 §5.1.1.2.2): the REGISTER on uc-ps (the P-CSCF's spi-s), its 200 from
      // port_pc to port_us on pc-us (the UE's spi-s).
      const reg = r.ue.state().registration!;
      assert.deepEqual(rows.map((x) => Number(x[0])), [reg.pcscf.spiS, reg.ue.spiS]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await r.close();
    }
  });
});
