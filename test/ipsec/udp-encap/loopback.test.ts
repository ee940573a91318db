/**
 * The userspace datapath over real UDP sockets on 127.0.0.1: a UE and a P-CSCF, each with its
 * own SA manager mirrored into a UdpEncapDatapath, set up the four SAs of a registration as
 * sec-agree would and exchange SIP datagrams on every flow. Tampered, replayed and stray
 * datagrams are dropped and counted (R-SA-8). The traffic is also handed to tshark with the
 * exported keys (INTEROP.md "tshark ESP").
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { ManualClock, SeededRng } from '../../../src/common/index.js';
import { PcapRecorder, TSHARK_ESP_PREFS } from '../../../src/capture/index.js';
import type { Endpoint } from '../../../src/ip/index.js';
import { type EncryptionAlg, type IntegrityAlg } from '../../../src/ipsec/esp/index.js';
import { SaError, SaManager, buildSaSet, mirrorSaTable, wiresharkLinesForSas, type SaSet } from '../../../src/ipsec/sa/index.js';
import { UdpEncapDatapath, encapsulate, type UdpEncapMessageInfo } from '../../../src/ipsec/udp-encap/index.js';
import { needPeer } from '../../support/peers.js';
import { waitFor as until } from '../../support/wait.js';

const IK = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);
const CK = Uint8Array.from({ length: 16 }, (_, i) => 0x90 + i);
const LO = '127.0.0.1';

interface Received {
  sip: string;
  info: UdpEncapMessageInfo;
}

interface Side {
  manager: SaManager;
  dp: UdpEncapDatapath;
  set: SaSet;
  inbox: Received[];
  sent: Array<{ local: Endpoint; remote: Endpoint; datagram: Uint8Array }>;
}

let run = 0;

/** A UE and a P-CSCF with the four SAs of one registration installed in their datapaths. */
async function registration(t: TestContext, integrity: IntegrityAlg, encryption: EncryptionAlg): Promise<{ ue: Side; pcscf: Side }> {
  const seed = `loopback-${process.pid}-${run++}`;
  const mk = (role: 'ue' | 'pcscf', min: number) => {
    const manager = new SaManager({ role, clock: new ManualClock(), rng: new SeededRng(`${seed}-${role}`), portRange: { min, max: min + 4999 } });
    const inbox: Received[] = [];
    const sent: Side['sent'] = [];
    const dp = new UdpEncapDatapath({
      rng: new SeededRng(`${seed}-${role}-iv`),
      onMessage: (sip, info) => {
        inbox.push({ sip: Buffer.from(sip).toString(), info });
        manager.noteInbound(info.setId);
      },
      tap: (dir, local, remote, datagram) => dir === 'out' && sent.push({ local, remote, datagram: Uint8Array.from(datagram) }),
    });
    const errors: unknown[] = [];
    const mirror = mirrorSaTable(manager, dp, { onError: (e) => errors.push(e) });
    return { manager, dp, inbox, sent, mirror, errors };
  };
  const ue = mk('ue', 40000);
  const pc = mk('pcscf', 50000);
  t.after(async () => {
    await ue.dp.close();
    await pc.dp.close();
  });
  const common = { impi: 'alice@ims.example', impus: ['sip:alice@ims.example'], ueAddress: LO, pcscfAddress: LO, integrity, encryption, mode: 'UDP-enc-tun' as const, ik: IK, ck: CK };
  // 1. The UE reserves its SPIs/ports (Security-Client); 2. the P-CSCF answers with its own (Security-Server).
  const offer = ue.manager.reserveLocal();
  const p = pc.manager.createSet({ ...common, remote: offer });
  assert.ok(p.ok);
  const u = ue.manager.createSet({ ...common, local: offer, remote: p.set.pcscf });
  assert.ok(u.ok);
  await Promise.all([ue.mirror.idle(), pc.mirror.idle()]);
  assert.deepEqual([...ue.errors, ...pc.errors], []);
  return { ue: { ...ue, set: u.set }, pcscf: { ...pc, set: p.set } };
}

const sip = (n: string) => new TextEncoder().encode(`MESSAGE sip:bob@ims.example SIP/2.0\r\nCSeq: ${n} MESSAGE\r\nContent-Length: 0\r\n\r\n`);

async function inject(to: Endpoint, datagram: Uint8Array): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => s.send(datagram, to.port, to.address, (e) => (e ? reject(e) : resolve())));
  s.close();
}

describe('userspace UDP-encapsulated ESP over loopback sockets', () => {
  for (const [integrity, encryption] of [
    ['hmac-sha-1-96', 'null'],
    ['hmac-md5-96', 'aes-cbc'],
    ['null', 'aes-gcm'],
  ] as const) {
    test(`[R-SA-3] [R-SA-8] ${integrity}/${encryption}: all four SAs carry SIP both ways`, async (t) => {
      const { ue, pcscf } = await registration(t, integrity, encryption);
      const U = ue.set.ue;
      const P = pcscf.set.pcscf;
      // UE port-c → P-CSCF port-s (SPI = P-CSCF spi-s) and UE port-s → P-CSCF port-c (P-CSCF spi-c).
      await ue.dp.send(sip('1'), { fromPort: U.portC, to: { address: LO, port: P.portS } });
      await ue.dp.send(sip('2'), { fromPort: U.portS, to: { address: LO, port: P.portC } });
      // P-CSCF port-s → UE port-c (UE spi-c) and P-CSCF port-c → UE port-s (UE spi-s).
      await pcscf.dp.send(sip('3'), { fromPort: P.portS, to: { address: LO, port: U.portC } });
      await pcscf.dp.send(sip('4'), { fromPort: P.portC, to: { address: LO, port: U.portS } });
      await until(() => pcscf.inbox.length === 2 && ue.inbox.length === 2, 'four deliveries');
      const seen = (r: Received) => [r.sip.split('\r\n')[1], r.info.local.port, r.info.remote.port, r.info.spi];
      assert.deepEqual(pcscf.inbox.map(seen).sort(), [
        ['CSeq: 1 MESSAGE', P.portS, U.portC, P.spiS],
        ['CSeq: 2 MESSAGE', P.portC, U.portS, P.spiC],
      ].sort());
      assert.deepEqual(ue.inbox.map(seen).sort(), [
        ['CSeq: 3 MESSAGE', U.portC, P.portS, U.spiC],
        ['CSeq: 4 MESSAGE', U.portS, P.portC, U.spiS],
      ].sort());
      for (const r of [...ue.inbox, ...pcscf.inbox]) assert.equal(r.info.remote.address, LO);
      assert.equal(pcscf.dp.counters.delivered + ue.dp.counters.delivered, 4);
      assert.deepEqual(Object.values(pcscf.dp.counters.dropped).reduce((a, b) => a + b), 0);
    });
  }

  test('[R-SA-8] [R-FAIL-1] tampered, replayed and stray datagrams are dropped and counted; the genuine one after a bogus one gets through', async (t) => {
    const { ue, pcscf } = await registration(t, 'hmac-sha-1-96', 'aes-cbc');
    const U = ue.set.ue;
    const P = pcscf.set.pcscf;
    const target = { address: LO, port: P.portS };
    const c = pcscf.dp.counters;
    await ue.dp.send(sip('1'), { fromPort: U.portC, to: target });
    await until(() => c.delivered === 1, 'first delivery');
    const first = ue.sent[0].datagram;

    // A tampered copy of the next packet arrives before the genuine one: dropped (ICV), the window unmoved.
    const sa = ue.manager.findOutbound({ address: LO, port: U.portC }, target)!;
    const uplink = ue.dp.espOf(sa)!; // the UE's own outbound SA state, so sequence numbers stay in step
    const genuine = encapsulate(uplink, { address: LO, port: U.portC }, target, sip('2'), new SeededRng('genuine'));
    const tampered = Uint8Array.from(genuine);
    tampered[tampered.length - 30] ^= 0x01;
    await inject(target, tampered);
    await until(() => c.dropped.icv === 1, 'icv drop');
    await inject(target, genuine);
    await until(() => c.delivered === 2, 'genuine after bogus');
    assert.equal(pcscf.inbox[1].sip.split('\r\n')[1], 'CSeq: 2 MESSAGE');

    // Replays: the same packet again, and one that fell left of the 64-packet window.
    await inject(target, genuine);
    await until(() => c.dropped.replay === 1, 'replay drop');
    for (let i = 3; i < 3 + 70; i++) await ue.dp.send(sip(String(i)), { fromPort: U.portC, to: target });
    await until(() => c.delivered === 72, '70 more deliveries');
    await inject(target, first);
    await until(() => c.dropped.replay === 2, 'out-of-window drop');

    // Stray traffic: unknown SPI, NAT keepalive, and an authentic packet whose inner ports break the selector.
    const unknown = Uint8Array.from(genuine);
    unknown.set([0x7f, 0x7f, 0x7f, 0x7f], 0);
    await inject(target, unknown);
    await inject(target, new Uint8Array([0xff]));
    await inject(target, encapsulate(uplink, { address: LO, port: U.portS }, target, sip('x'), new SeededRng('sel')));
    await until(() => c.dropped['no-sa'] === 1 && c.dropped['not-esp'] === 1 && c.dropped.selector === 1, 'stray drops');
    assert.equal(c.delivered, 72);
    // A packet sent to the wrong protected port of the right P-CSCF is no SA there either.
    await inject({ address: LO, port: P.portC }, genuine);
    await until(() => c.dropped['no-sa'] === 2, 'wrong-port drop');
    assert.equal(c.delivered, 72, 'nothing bogus was delivered');
    assert.equal(pcscf.inbox.length, 72);
    const esp = pcscf.dp.espOf(pcscf.manager.findInbound(P.spiS)!)!;
    assert.deepEqual([esp.counters.droppedIcv, esp.counters.droppedReplay], [1, 2]);
  });

  test('[R-SA-7] deleting the SAs unbinds the protected ports and stops sending', async (t) => {
    const { ue, pcscf } = await registration(t, 'hmac-md5-96', 'null');
    assert.equal(pcscf.dp.boundEndpoints().length, 2);
    pcscf.manager.deleteImpi('alice@ims.example');
    ue.manager.deleteImpi('alice@ims.example');
    await until(() => pcscf.dp.boundEndpoints().length === 0 && ue.dp.boundEndpoints().length === 0, 'ports released');
    await assert.rejects(ue.dp.send(sip('1'), { fromPort: ue.set.ue.portC, to: { address: LO, port: pcscf.set.pcscf.portS } }), (e: unknown) => e instanceof SaError && e.code === 'IPSEC_SA');
  });

  test('[R-SA-3] [R-LAB-4] many local addresses on the same port numbers (a swarm, anyAddress): a send that names its address uses that address\'s SA; one that names none, the newest set of any', async (t) => {
    const received: string[] = [];
    const pcscf = new UdpEncapDatapath({ rng: new SeededRng('swarm-pc'), onMessage: (_sip, info) => received.push(info.remote.address) });
    const ue = new UdpEncapDatapath({ rng: new SeededRng('swarm-ue'), anyAddress: true });
    t.after(async () => {
      await ue.close();
      await pcscf.close();
    });
    const P = { address: LO, spiC: 7001, spiS: 7002, portC: 0, portS: 0 };
    [P.portC, P.portS] = [await pcscf.listen(LO, 0), await pcscf.listen(LO, 0)];
    const U = { portC: await ue.listen('0.0.0.0', 0), portS: await ue.listen('0.0.0.0', 0) };
    const sets = ['127.0.0.2', '127.0.0.3'].map((address, i) => {
      const spec = { setId: i + 1, impi: `ue${i}@ims.example`, impus: [`sip:ue${i}@ims.example`], ue: { address, spiC: 8001 + 2 * i, spiS: 8002 + 2 * i, ...U }, pcscf: { ...P, spiC: P.spiC + 10 * i, spiS: P.spiS + 10 * i }, integrity: 'hmac-md5-96' as const, encryption: 'null' as const, mode: 'UDP-enc-tun' as const, keys: { integrityKey: IK, encryptionKey: new Uint8Array(0), salt: new Uint8Array(0) }, state: 'active' as const };
      return { ue: buildSaSet({ ...spec, role: 'ue' }).filter((sa) => sa.direction === 'out'), pcscf: buildSaSet({ ...spec, role: 'pcscf' }).filter((sa) => sa.direction === 'in') };
    });
    for (const s of sets) for (const sa of [...s.ue, ...s.pcscf]) await (s.ue.includes(sa) ? ue : pcscf).install(sa);
    const to = { address: LO, port: P.portS };
    await ue.send(sip('1'), { fromPort: U.portC, fromAddress: '127.0.0.2', to });
    await ue.send(sip('2'), { fromPort: U.portC, fromAddress: '127.0.0.3', to });
    await ue.send(sip('3'), { fromPort: U.portC, to });
    await until(() => received.length === 3, 'three delivered');
    assert.deepEqual(received, ['127.0.0.2', '127.0.0.3', '127.0.0.3'], 'inner source: the named address, then the newest set');
    await assert.rejects(ue.send(sip('4'), { fromPort: U.portC, fromAddress: '127.0.0.4', to }), (e: unknown) => e instanceof SaError && e.code === 'IPSEC_SA');
    for (const sa of sets[1].ue) await ue.remove(sa);
    await ue.send(sip('5'), { fromPort: U.portC, to });
    await assert.rejects(ue.send(sip('6'), { fromPort: U.portC, fromAddress: '127.0.0.3', to }), (e: unknown) => e instanceof SaError);
    await until(() => received.length === 4, 'four delivered');
    assert.equal(received[3], '127.0.0.2', 'with the newer set gone, the other address\'s');
  });

  test('the userspace datapath refuses transport-mode SAs (they need the kernel)', async () => {
    const m = new SaManager({ role: 'pcscf', clock: new ManualClock(), rng: new SeededRng('trans') });
    const dp = new UdpEncapDatapath();
    const errors: unknown[] = [];
    const mirror = mirrorSaTable(m, dp, { onError: (e) => errors.push(e) });
    m.createSet({ impi: 'a', impus: [], ueAddress: LO, pcscfAddress: LO, remote: { spiC: 0x80000001, spiS: 0x80000002, portC: 1, portS: 2 }, integrity: 'hmac-md5-96', encryption: 'null', mode: 'trans', ik: IK, ck: CK });
    await mirror.idle();
    assert.equal(errors.length, 4);
    assert.ok(errors.every((e) => e instanceof SaError && /UDP-enc-tun/.test(e.message)));
    await dp.close();
  });

  test('[R-SA-1] [R-SA-2] tshark decrypts the real loopback traffic with the exported esp_sa lines', async (t) => {
    if (!needPeer(t, 'tshark')) return;
    const { ue, pcscf } = await registration(t, 'hmac-sha-1-96', 'aes-cbc');
    const U = ue.set.ue;
    const P = pcscf.set.pcscf;
    await ue.dp.send(sip('1'), { fromPort: U.portC, to: { address: LO, port: P.portS } });
    await pcscf.dp.send(sip('2'), { fromPort: P.portS, to: { address: LO, port: U.portC } });
    await ue.dp.send(sip('3'), { fromPort: U.portS, to: { address: LO, port: P.portC } });
    await pcscf.dp.send(sip('4'), { fromPort: P.portC, to: { address: LO, port: U.portS } });
    const rec = new PcapRecorder();
    // Outer ports are written as 4500 (RFC 3948's NAT-T port) so tshark takes them for ESP-in-UDP
    // while the inner packet, on the same protected ports, stays SIP; the ESP bytes are untouched.
    for (const s of [...ue.sent, ...pcscf.sent]) rec.espInUdp({ address: s.local.address, port: 4500 }, { address: s.remote.address, port: 4500 }, s.datagram);
    const dir = mkdtempSync(join(tmpdir(), 'imsec-udpencap-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'loopback.pcap');
    writeFileSync(file, rec.toBytes());
    const args = ['-r', file, ...TSHARK_ESP_PREFS];
    for (const l of wiresharkLinesForSas(pcscf.set.sas)) args.push('-o', `uat:esp_sa:${l}`);
    args.push('-T', 'fields', '-E', 'separator=;', '-e', 'esp.spi', '-e', 'esp.icv_good', '-e', 'sip.CSeq', '-e', 'udp.port');
    const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => l.split(';'));
    assert.equal(rows.length, 4);
    const spis = new Set(pcscf.set.sas.map((sa) => sa.spi));
    const inner = new Set<string>();
    for (const [spi, good, cseq, ports] of rows) {
      assert.ok(spis.has(Number(spi)), `SPI ${spi}`);
      assert.equal(good, '1', `ICV of SPI ${spi}`);
      assert.match(cseq, /^[1-4] MESSAGE$/);
      inner.add(ports.split(',').slice(2).join(','));
    }
    // The inner UDP ports are the protected ports of the four flows.
    assert.deepEqual([...inner].sort(), [`${U.portC},${P.portS}`, `${P.portS},${U.portC}`, `${U.portS},${P.portC}`, `${P.portC},${U.portS}`].sort());
  });
});
