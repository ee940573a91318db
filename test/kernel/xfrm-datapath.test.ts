/**
 * The xfrm datapath (src/ipsec/xfrm) carrying real traffic in a real kernel: two network
 * namespaces joined by a veth pair inside user-mode Linux (scripts/lab), the UE on one side and
 * the P-CSCF on the other, transport mode (TS 33.203 Annex H `mod=trans`, its default).
 *
 * For every transform of Annex H the kernel has (integrity hmac-md5-96, hmac-sha-1-96, aes-gmac;
 * encryption null, aes-cbc, des-ede3-cbc, aes-gcm with null integrity), over IPv4 and IPv6: the
 * four SAs of TS 33.203 §7.1 are built with the project's SA model and installed on both sides by
 * XfrmDatapath; UDP datagrams and TCP connections (UE → port_ps, P-CSCF → port_us) cross all four
 * SAs; `ip -s xfrm state` counts what was sent (RFC 4301 §4.4.2 SAD lifetime counters) with the
 * anti-replay window on (RFC 4303 §3.4.3); a tcpdump capture decodes in tshark 4.0 with the
 * exported keys, every ICV good (aes-gmac: tshark 4.0 cannot check its ICV, so only the SPI,
 * sequence and cleartext payload are checked there); afterwards none of our entries is left and
 * an entry that is not ours (reqid 7) is untouched.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { deriveEspKeys, VALID_TRANSFORMS, wiresharkChecksIcv, type EncryptionAlg, type IntegrityAlg } from '../../src/ipsec/esp/index.js';
import { buildSaSet, wiresharkLinesForSas, type SaRole, type SecurityAssociation } from '../../src/ipsec/sa/index.js';
import { XfrmDatapath, ipRunner } from '../../src/ipsec/xfrm/index.js';
import { needPeer } from '../support/peers.js';
import { Agent, Capture, createNetnsPair, needKernelEsp, type Side } from './support/netns.js';
import { decodeFrames } from './support/tshark.js';
import { FOREIGN_REQID, addForeignEntries, kernelPolicyReqids, kernelStates, type KernelSa } from './support/xfrm-state.js';

const IK = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);
const CK = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const UDP_PER_FLOW = 2;

interface Scenario {
  name: string;
  integrity: IntegrityAlg;
  encryption: EncryptionAlg;
  family: 4 | 6;
  index: number;
}

const SCENARIOS: Scenario[] = VALID_TRANSFORMS.flatMap((tr, i) =>
  ([4, 6] as const).map((family, j) => ({ name: `${tr.integrity}/${tr.encryption} IPv${family}`, ...tr, family, index: i * 2 + j })),
);

/** The four SAs of one registration as seen by `role` (A is the P-CSCF, B the UE). */
function saSet(s: Scenario, role: SaRole, a: Side, b: Side): SecurityAssociation[] {
  const addr = (x: Side) => (s.family === 4 ? x.v4 : x.v6);
  return buildSaSet({
    setId: s.index + 1,
    role,
    impi: 'alice@ims.lab',
    impus: ['sip:alice@ims.lab'],
    ue: { address: addr(b), spiC: 0x80001000 + s.index * 4, spiS: 0x80001001 + s.index * 4, portC: 31000 + s.index * 2, portS: 31001 + s.index * 2 },
    pcscf: { address: addr(a), spiC: 0x2000 + s.index * 4, spiS: 0x2001 + s.index * 4, portC: 21000 + s.index * 2, portS: 21001 + s.index * 2 },
    integrity: s.integrity,
    encryption: s.encryption,
    mode: 'trans',
    keys: deriveEspKeys(s.integrity, s.encryption, IK, CK),
    state: 'active',
  });
}

function assertOnlyForeignLeft(ns: string): void {
  assert.deepEqual(kernelStates(ns).map((e) => [e.spi, e.reqid]), [[0x7007, FOREIGN_REQID]], `${ns}: states left`);
  assert.deepEqual(kernelPolicyReqids(ns), [FOREIGN_REQID], `${ns}: policies left`);
}

const bySpi = (states: KernelSa[], spi: number): KernelSa => {
  const s = states.find((e) => e.spi === spi);
  assert.ok(s, `SA 0x${spi.toString(16)} is in the kernel`);
  return s;
};

describe('[R-SA-1] [R-SA-3] [R-SA-8] XfrmDatapath in a real kernel: transport mode between two namespaces (TS 33.203 §7.1, Annex H)', () => {
  test('every Annex H transform, IPv4 and IPv6, UDP and TCP: traffic, SAD counters, replay window, tshark ICVs, cleanup', async (t) => {
    if (!(await needKernelEsp(t))) return;
    if (!needPeer(t, 'tcpdump') || !needPeer(t, 'tshark')) return;
    const pair = createNetnsPair(`imsec-kx${process.pid}`);
    t.after(() => pair.remove());
    const { a, b } = pair;
    const dir = mkdtempSync(join(tmpdir(), 'imsec-kernel-xfrm-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const [pcscf, ue] = await Promise.all([Agent.start(a.ns), Agent.start(b.ns)]);
    t.after(() => Promise.all([pcscf.stop(), ue.stop()]));
    addForeignEntries(a.ns);
    addForeignEntries(b.ns);
    const pcap = join(dir, 'xfrm.pcap');
    const capture = await Capture.start(a.ns, a.dev, pcap);
    const keyLines: string[] = [];
    /** Per SPI: packets the sender's kernel counted, and the UDP payloads that crossed it. */
    const expected = new Map<number, { scenario: Scenario; packets: number; payloads: string[] }>();

    for (const s of SCENARIOS) {
      await t.test(s.name, async () => {
        await withSaSets(s, (pSas, pDp) => scenario(s, pSas, pDp));
      });
    }

    /**
     * Installs the scenario's SA set on both sides with XfrmDatapath, runs `body`, then closes the
     * sockets and both datapaths and checks that only the foreign entries are left.
     */
    async function withSaSets(s: Scenario, body: (pSas: SecurityAssociation[], pDp: XfrmDatapath, uSas: SecurityAssociation[], uDp: XfrmDatapath) => Promise<void>): Promise<void> {
      const pSas = saSet(s, 'pcscf', a, b);
      const uSas = saSet(s, 'ue', a, b);
      const pDp = new XfrmDatapath({ runner: ipRunner({ netns: a.ns }) });
      const uDp = new XfrmDatapath({ runner: ipRunner({ netns: b.ns }) });
      try {
        for (const sa of pSas) await pDp.install(sa);
        for (const sa of uSas) await uDp.install(sa);
        await body(pSas, pDp, uSas, uDp);
      } finally {
        await Promise.all([pcscf.closeAll(), ue.closeAll()]);
        await pDp.close();
        await uDp.close();
      }
      assertOnlyForeignLeft(a.ns);
      assertOnlyForeignLeft(b.ns);
    }

    async function scenario(s: Scenario, pSas: SecurityAssociation[], pDp: XfrmDatapath): Promise<void> {
      keyLines.push(...wiresharkLinesForSas(pSas));
      const [ucPs, usPc, pcUs, psUc] = pSas; // flows uc-ps, us-pc, pc-us, ps-uc (build order)
      const uc = ucPs.src;
      const ps = ucPs.dst;
      const us = usPc.src;
      const pc = usPc.dst;
      await Promise.all([ue.udpBind(uc), ue.udpBind(us), pcscf.udpBind(pc), pcscf.udpBind(ps), ue.tcpListen(us), pcscf.tcpListen(ps)]);

      // UDP on each of the four SAs: requests uc→ps and pc→us, responses ps→uc and us→pc.
      const payloads = new Map<number, string[]>();
      for (const [sender, sa] of [[ue, ucPs], [ue, usPc], [pcscf, pcUs], [pcscf, psUc]] as const) {
        const list: string[] = [];
        for (let i = 0; i < UDP_PER_FLOW; i++) {
          const text = `udp ${s.name} ${sa.flow} #${i}`;
          list.push(text);
          await sender.udpSend(sa.src, sa.dst, text);
        }
        payloads.set(sa.spi, list);
      }
      const atP = await pcscf.received(2 * UDP_PER_FLOW);
      const atU = await ue.received(2 * UDP_PER_FLOW);
      assert.deepEqual(atP.map((r) => r.data).sort(), [...payloads.get(ucPs.spi)!, ...payloads.get(usPc.spi)!].sort(), 'UDP at the P-CSCF');
      assert.deepEqual(atU.map((r) => r.data).sort(), [...payloads.get(pcUs.spi)!, ...payloads.get(psUc.spi)!].sort(), 'UDP at the UE');
      for (const r of atP) assert.equal(r.remote.address, uc.address);

      // Exactly UDP_PER_FLOW packets on every SA, on both sides; replay protection on.
      let pStates = kernelStates(a.ns);
      let uStates = kernelStates(b.ns);
      for (const sa of pSas) {
        const sent = bySpi(sa.direction === 'out' ? pStates : uStates, sa.spi);
        const got = bySpi(sa.direction === 'out' ? uStates : pStates, sa.spi);
        assert.equal(sent.oseq, UDP_PER_FLOW, `${sa.flow}: last sequence number sent`);
        assert.equal(got.seq, UDP_PER_FLOW, `${sa.flow}: highest sequence number received`);
        for (const k of [sent, got]) {
          assert.equal(k.packets, UDP_PER_FLOW, `${sa.flow} packets`);
          assert.equal(k.mode, 'transport');
          assert.equal(k.replayWindow, 64, 'anti-replay window (R-SA-8)');
          assert.equal(k.failed, 0);
          assert.equal(k.replayDrops, 0);
          assert.ok(pDp.owns(k.reqid));
        }
      }

      // TCP: the UE connects from port_uc to port_ps, the P-CSCF from port_pc to port_us.
      assert.equal(await ue.tcpExchange(uc, ps, `tcp up ${s.name}`), `ack:tcp up ${s.name}`);
      assert.equal(await pcscf.tcpExchange(pc, us, `tcp down ${s.name}`), `ack:tcp down ${s.name}`);
      assert.deepEqual((await pcscf.received(1)).map((r) => [r.proto, r.data, r.remote.port]), [['tcp', `tcp up ${s.name}`, uc.port]]);
      assert.deepEqual((await ue.received(1)).map((r) => [r.proto, r.data, r.remote.port]), [['tcp', `tcp down ${s.name}`, pc.port]]);

      // What one side's kernel sent on an SA, the other side's kernel received on it.
      pStates = kernelStates(a.ns);
      uStates = kernelStates(b.ns);
      for (const sa of pSas) {
        const sent = bySpi(sa.direction === 'out' ? pStates : uStates, sa.spi);
        const got = bySpi(sa.direction === 'out' ? uStates : pStates, sa.spi);
        assert.ok(sent.packets > UDP_PER_FLOW, `${sa.flow}: TCP crossed it`);
        assert.equal(got.packets, sent.packets, `${sa.flow}: received = sent`);
        expected.set(sa.spi, { scenario: s, packets: sent.packets, payloads: payloads.get(sa.spi)! });
      }
    }

    await t.test('[R-SA-8] a replayed sequence number is dropped by the receiving kernel (RFC 4303 §3.4.3)', async () => {
      // SPIs and ports of its own (an index after the scenarios'), so the capture check is unaffected.
      const s = { ...SCENARIOS.find((x) => x.integrity === 'hmac-sha-1-96' && x.encryption === 'aes-cbc' && x.family === 4)!, index: SCENARIOS.length };
      await withSaSets(s, async (_pSas, _pDp, uSas, uDp) => {
        const ucPs = uSas.find((sa) => sa.flow === 'uc-ps')!;
        await Promise.all([ue.udpBind(ucPs.src), pcscf.udpBind(ucPs.dst)]);
        for (const text of ['r1', 'r2']) await ue.udpSend(ucPs.src, ucPs.dst, text);
        assert.deepEqual((await pcscf.received(2)).map((r) => r.data).sort(), ['r1', 'r2']);
        // Re-installing the UE's outbound SA restarts its sequence numbers at 1: packets 1 and 2
        // are replays for the P-CSCF's inbound SA, packet 3 is new.
        await uDp.remove(ucPs);
        await uDp.install(ucPs);
        for (const text of ['again-1', 'again-2', 'new-3']) await ue.udpSend(ucPs.src, ucPs.dst, text);
        assert.deepEqual((await pcscf.received(1)).map((r) => r.data), ['new-3']);
        assert.deepEqual(await pcscf.received(1, 500), [], 'the replays never arrive');
        const k = bySpi(kernelStates(a.ns), ucPs.spi);
        assert.equal(k.replayDrops, 2, 'the kernel counted two replays');
        assert.equal(k.seq, 3);
      });
    });

    await t.test('a restarted datapath removes entries of our reqid range left by a killed one, and nothing else', async () => {
      const s = SCENARIOS[0];
      const crashed = new XfrmDatapath({ runner: ipRunner({ netns: a.ns }) });
      for (const sa of saSet(s, 'pcscf', a, b)) await crashed.install(sa);
      assert.equal(kernelStates(a.ns).length, 5);
      // The process that installed them is gone: a new instance finds them by reqid.
      const restarted = new XfrmDatapath({ runner: ipRunner({ netns: a.ns }) });
      assert.equal(await restarted.removeStale(), 4 + 8);
      assertOnlyForeignLeft(a.ns);
    });

    await capture.stop();
    await t.test('tshark 4.0 decodes the capture with the exported keys: every ICV good, payloads decrypted', () => {
      const rows = decodeFrames(pcap, keyLines);
      const captured = readFileSync(pcap).toString('latin1');
      for (const [spi, e] of expected) {
        const mine = rows.filter((r) => r.spi === spi);
        assert.equal(mine.length, e.packets, `${e.scenario.name} SPI 0x${spi.toString(16)}: every packet the kernel counted was captured`);
        assert.deepEqual(mine.map((r) => r.seq), Array.from({ length: e.packets }, (_, i) => i + 1), 'sequence numbers 1..n');
        if (wiresharkChecksIcv(e.scenario.integrity)) assert.ok(mine.every((r) => r.icvGood && !r.icvBad), `${e.scenario.name}: ICV good`);
        else assert.ok(mine.every((r) => !r.icvBad), `${e.scenario.name}: tshark 4.0 cannot check aes-gmac`);
        const inner = mine.map((r) => r.inner);
        // aes-gmac (RFC 4543) leaves the payload in the clear behind its IV. tshark 4.0, which has
        // no GMAC, takes IV and payload for a NULL-encrypted UDP datagram whose "ports" are IV bytes:
        // usually shown as data, but a random IV that names a port with a dissector hides it (failed
        // once in 20 runs). So the clear payload is looked for in the captured bytes as well. Every
        // other transform is decrypted by tshark and the UDP payload dissected.
        const seen = (p: string): boolean => (e.scenario.integrity === 'aes-gmac' ? inner.some((x) => x.includes(p)) || captured.includes(p) : inner.includes(p));
        for (const p of e.payloads) assert.ok(seen(p), `${e.scenario.name}: "${p}" in the ESP payload`);
      }
      assert.equal(expected.size, SCENARIOS.length * 4);
    });
  });
});
