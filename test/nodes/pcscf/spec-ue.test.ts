/**
 * The P-CSCF against a UE scripted from the specification text, not against imsec's UE: plain
 * UDP sockets on the UE's unprotected port, port_uc and port_us, SAs held by hand and keyed by
 * TS 33.203 Annex I, SIP written out as text. Every datagram is checked for the port it came
 * from, the port it reached, its SPI and its sequence number.
 *
 * The rules, as TS 24.229 and TS 33.203 state them (SPEC R-SA-3, R-SA-7, R-RR-1, R-RR-2, R-SM-4):
 * - TS 24.229 §5.1.1.2.2 (as TS 34.229-1 tests it) and §5.2.2.1: over UDP the UE sends requests
 *   and responses from port_uc to port_ps and receives requests and responses on port_us from
 *   port_pc; so the P-CSCF answers the UE's request from port_pc to port_us.
 * - TS 33.203 §7.1: four SAs; each side's inbound SPIs are its own (spi_us/spi_uc at the UE,
 *   spi_ps/spi_pc at the P-CSCF).
 * - TS 24.229 §5.2.2.1 / Table 7.8.1: the temporary set lives reg-await-auth (4 minutes); after
 *   the 200 OK the longer of the previous set's remaining lifetime and the expiry + 30 s.
 * - TS 33.203 §7.4 / TS 24.229 §5.1.1.4.2: a re-registration keeps port_ps and port_us and takes
 *   new SPIs, a new port_uc and a new port_pc; the P-CSCF sends on the old set until the UE's
 *   first message on the new one, then cuts the old set to 64·T1.
 * - RFC 3329 §2.3.1, TS 24.229 §5.2.2.1: a protected REGISTER without Security-Verify is refused.
 * - R-SA-5: a protected port carries only protected traffic.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import type { PcscfNode } from '../../../src/nodes/pcscf/index.js';
import { SipHeaders, SipRequest, securityServerOf, wwwAuthenticateOf, type SipResponse } from '../../../src/sip/index.js';
import { HOST, StubCore, startPcscf, waitFor } from './support.js';
import { RawPort, handSa, openSip, sealSip, spiOf } from '../../support/raw-esp.js';
import { finalOn, IMPI, IMPU, mech, parse, registerBy, SpecUe } from './spec-ue.js';

const T1 = 500;

/** A terminating request from the core, through the P-CSCF, to the UE's port_us (TS 24.229 §5.2.6.4). */
function terminating(stub: StubCore, pcscf: { sip: { address: string; port: number } }, usPort: number, n: number): Promise<SipResponse> {
  const h = new SipHeaders();
  h.append('Route', `<sip:term@${pcscf.sip.address}:${pcscf.sip.port};lr>`);
  h.append('From', '<sip:bob@ims.lab>;tag=b1');
  h.append('To', `<${IMPU}>`);
  h.append('Call-ID', `term-${n}`);
  h.append('CSeq', '1 MESSAGE');
  h.append('P-Asserted-Identity', '<sip:bob@ims.lab>');
  h.append('Content-Type', 'text/plain');
  return stub.stack.sendRequest(new SipRequest('MESSAGE', `sip:alice@${HOST}:${usPort}`, h, new TextEncoder().encode(`hello ${n}`)), { address: pcscf.sip.address, port: pcscf.sip.port });
}

describe('P-CSCF against a UE scripted from TS 24.229 §5.1.1 and TS 33.203 §7 (exact datagrams)', () => {
  let clock: ManualClock;
  let stub: StubCore;
  let pcscf: PcscfNode;
  let ports: RawPort[];
  beforeEach(async () => {
    clock = new ManualClock(1_000_000);
    stub = await StubCore.start(clock);
    ports = [];
  });
  afterEach(async () => {
    await pcscf?.stop();
    await stub.close();
    await Promise.all(ports.map((p) => p.close()));
  });

  async function open(): Promise<RawPort> {
    const p = await RawPort.open(HOST);
    ports.push(p);
    return p;
  }

  test('[R-SA-3] [R-SA-7] [R-SM-4] [R-SA-5] registration, requests both ways, refused REGISTER without Security-Verify, port rule (TS 24.229 §5.1.1.2.2, §5.2.2.1; TS 33.203 §7.1)', async () => {
    pcscf = await startPcscf(stub, clock);
    const a = pcscf.address();
    const [server, ...pool] = pcscf.protectedEndpoints();
    const ue = new SpecUe(await open(), await open(), await open(), { address: a.sip.address, port: a.sip.port });
    const SPI = { c: 0x80001001, s: 0x80001002 };

    const t0 = clock.now();
    const { set } = await registerBy(stub, ue, SPI, 0);
    // The P-CSCF's Security-Server: one port_ps for everyone, port_pc from its pool, SPIs MSB 0 (R-SA-3).
    assert.equal(set.server.portS, server.port);
    assert.ok(pool.some((p) => p.port === set.server.portC));
    for (const spi of [set.server.spiC!, set.server.spiS!]) assert.ok(spi >= 256 && spi < 0x80000000, `P-CSCF SPI ${spi}`);
    // R-SA-7: active set = expiry (600 s) + 30 s.
    const [live] = pcscf.sets();
    assert.equal(live.state, 'active');
    assert.equal(live.expiresAt, t0 + 600_000 + 30_000);

    // A terminating MESSAGE: P-CSCF port_pc → UE port_us, the UE's spi-s; the UE answers port_uc → port_ps.
    const pending = terminating(stub, a, ue.us.port, 1);
    const d1 = await ue.us.next('terminating MESSAGE');
    assert.equal(d1.from.port, set.server.portC);
    assert.equal(spiOf(d1.data), SPI.s);
    const m1 = openSip(set.pcUs, d1.data);
    assert.equal(m1.seq, 2, 'second packet on pc→us (after the 200)');
    const req = parse(m1.text);
    assert.equal(req.kind === 'request' && req.method, 'MESSAGE');
    await ue.uc.send(sealSip(set.ucPs, ue.ok(req)), { address: HOST, port: server.port });
    assert.equal((await pending).status, 200, 'the UE\'s 200 from port_uc reached the core');

    // An originating MESSAGE: UE port_uc → port_ps; its 200 comes back port_pc → port_us.
    await ue.uc.send(sealSip(set.ucPs, ue.message('sip:bob@ims.lab')), { address: HOST, port: server.port });
    const d2 = await ue.us.next('200 to MESSAGE');
    assert.equal(d2.from.port, set.server.portC);
    assert.equal((parse(openSip(set.pcUs, d2.data).text) as SipResponse).status, 200);
    assert.equal(stub.all('MESSAGE').length, 1);

    // R-SM-4: a protected REGISTER without Security-Verify is refused (494) and goes nowhere.
    const before = stub.all('REGISTER').length;
    const auth = `Digest username="${IMPI}", realm="ims.lab", uri="sip:ims.lab", nonce="bm9uY2U=", response="${'0'.repeat(32)}", algorithm=AKAv1-MD5`;
    await ue.uc.send(sealSip(set.ucPs, ue.register({ viaPort: ue.us.port, contactPort: ue.us.port, auth, client: ue.offer(SPI.c, SPI.s) })), { address: HOST, port: server.port });
    const d3 = await ue.us.next('494');
    assert.equal((parse(openSip(set.pcUs, d3.data).text) as SipResponse).status, 494);
    assert.equal(stub.all('REGISTER').length, before);

    // R-SA-5: plain SIP on the protected server port is dropped and counted, never answered.
    const counters = pcscf.datapathCounters();
    assert.equal(counters?.kind, 'userspace');
    const dropped = (): number => (counters.kind === 'userspace' ? Object.values(counters.counters.dropped).reduce((x, y) => x + y, 0) : -1);
    const before2 = { dropped: dropped(), delivered: counters.kind === 'userspace' ? counters.counters.delivered : -1 };
    await ue.uc.send(ue.message('sip:bob@ims.lab'), { address: HOST, port: server.port });
    await waitFor(() => dropped() === before2.dropped + 1, 'the plain datagram to be dropped');
    assert.equal(counters.kind === 'userspace' && counters.counters.delivered, before2.delivered);
    assert.equal(stub.all('MESSAGE').length, 1, 'nothing unprotected got through');
    assert.equal(ue.uc.inbox.length + ue.us.inbox.length + ue.plain.inbox.length, 0);
  });

  test('[R-RR-1] [R-RR-2] [R-SA-7] re-registration keeps port_ps and port_us, takes new SPIs, port_uc and port_pc; the old set carries traffic until the UE uses the new, then lives 64·T1 (TS 33.203 §7.4, TS 24.229 §5.2.2.1)', async () => {
    pcscf = await startPcscf(stub, clock);
    const a = pcscf.address();
    const [server] = pcscf.protectedEndpoints();
    const ue = new SpecUe(await open(), await open(), await open(), { address: a.sip.address, port: a.sip.port });
    const { set: s1 } = await registerBy(stub, ue, { c: 0x80002001, s: 0x80002002 }, 0);
    const oldUc = ue.uc;
    clock.advance(100_000);
    ue.uc = await open();
    const { set: s2 } = await registerBy(stub, ue, { c: 0x80002003, s: 0x80002004 }, 1, s1);
    assert.equal(s2.server.portS, server.port, 'R-RR-1: port_ps is kept');
    assert.notEqual(s2.server.portC, s1.server.portC, 'R-RR-1: a new port_pc');
    assert.ok(![s1.server.spiC, s1.server.spiS].includes(s2.server.spiC) && ![s1.server.spiC, s1.server.spiS].includes(s2.server.spiS), 'new SPIs');
    const sets = pcscf.sets();
    assert.deepEqual(sets.map((s) => s.state), ['old', 'active']);
    // R-SA-7: the new set lives max(old remaining = 630 s − 100 s, 600 s + 30 s).
    assert.equal(sets[1].expiresAt, clock.now() + 630_000);

    // R-RR-2: until the UE sends on the new set, the P-CSCF sends on the old one (from the old port_pc).
    const p1 = terminating(stub, a, ue.us.port, 1);
    const d1 = await ue.us.next('request on the old set');
    assert.equal(d1.from.port, s1.server.portC);
    assert.equal(spiOf(d1.data), s1.pcUs.spi);
    // The UE answers on the same (old) set: old port_uc → port_ps.
    await oldUc.send(sealSip(s1.ucPs, ue.ok(parse(openSip(s1.pcUs, d1.data).text))), { address: HOST, port: server.port });
    assert.equal((await p1).status, 200);
    assert.equal(pcscf.sets()[0].state, 'old');

    // The UE's first message on the new set ends the change-over: the old set is cut to 64·T1.
    await ue.uc.send(sealSip(s2.ucPs, ue.message('sip:bob@ims.lab')), { address: HOST, port: server.port });
    const d2 = await ue.us.next('200 on the new set');
    assert.equal(d2.from.port, s2.server.portC);
    assert.equal(spiOf(d2.data), s2.pcUs.spi);
    const old = pcscf.sets().find((s) => s.state === 'old')!;
    assert.equal(old.expiresAt, clock.now() + 64 * T1);
    const p2 = terminating(stub, a, ue.us.port, 2);
    const d3 = await ue.us.next('request on the new set');
    assert.equal(d3.from.port, s2.server.portC);
    assert.equal(spiOf(d3.data), s2.pcUs.spi);
    await ue.uc.send(sealSip(s2.ucPs, ue.ok(parse(openSip(s2.pcUs, d3.data).text))), { address: HOST, port: server.port });
    assert.equal((await p2).status, 200);
    clock.advance(64 * T1);
    assert.deepEqual(pcscf.sets().map((s) => s.state), ['active'], 'the old set went after 64·T1');
    assert.equal(oldUc.inbox.length, 0);
  });

  test('[R-SA-3] responseFlow "server-to-client" keeps the Rel-5 pairing: the 200 leaves port_ps for port_uc on the UE\'s spi-c', async () => {
    pcscf = await startPcscf(stub, clock, { protected: { ports: 'auto', responseFlow: 'server-to-client' } });
    const a = pcscf.address();
    const ue = new SpecUe(await open(), await open(), await open(), { address: a.sip.address, port: a.sip.port });
    const SPI = { c: 0x80003001, s: 0x80003002 };
    await ue.plain.send(ue.register({ viaPort: ue.plain.port, contactPort: ue.plain.port, auth: `Digest username="${IMPI}", realm="ims.lab", uri="sip:ims.lab", nonce="", response=""`, client: ue.offer(SPI.c, SPI.s) }), ue.pcscf);
    const r401 = await finalOn(ue.plain, '401');
    const s = securityServerOf(r401)[0];
    const { ik, ck } = stub.keys[0];
    const ps = { address: HOST, port: s.portS! };
    const ucPs = handSa({ spi: s.spiS!, alg: s.alg!, ealg: s.ealg!, ik, ck, src: ue.uc.endpoint, dst: ps });
    const psUc = handSa({ spi: SPI.c, alg: s.alg!, ealg: s.ealg!, ik, ck, src: ps, dst: ue.uc.endpoint });
    const auth = `Digest username="${IMPI}", realm="ims.lab", uri="sip:ims.lab", nonce="${wwwAuthenticateOf(r401)[0].nonce}", response="00", algorithm=AKAv1-MD5`;
    await ue.uc.send(sealSip(ucPs, ue.register({ viaPort: ue.us.port, contactPort: ue.us.port, auth, client: ue.offer(SPI.c, SPI.s), verify: mech(s) })), ps);
    const d = await ue.uc.next('200 on port_uc');
    assert.equal(d.from.port, s.portS);
    assert.equal(spiOf(d.data), SPI.c);
    assert.equal((parse(openSip(psUc, d.data).text) as SipResponse).status, 200);
    assert.equal(ue.us.inbox.length, 0);
  });
});
