/**
 * imsec end to end over kernel IPsec: `imsec core` (HSS, S-CSCF, I-CSCF and the P-CSCF with the
 * xfrm datapath) in one network namespace, two soft UEs (src/nodes/ue, xfrm datapath) in another,
 * joined by a veth pair inside user-mode Linux (scripts/lab), transport mode (TS 33.203 Annex H
 * `mod=trans`), SIP over UDP.
 *
 * For every Annex H transform the kernel has: both UEs register (TS 33.203 §6.1/§7: unprotected
 * REGISTER, 401 with the challenge and Security-Server, protected REGISTER, 200), a MESSAGE goes
 * each way, alice re-registers with an SA change-over (§7.4) and messages again, both
 * de-register; then none of our SAs or policies is left on either side and an entry that is not
 * ours (reqid 7) is untouched. Then the P-CSCF is killed with SIGKILL while a UE is registered
 * and restarted: it removes the entries the killed process left (our reqid range) at start. A
 * tcpdump capture decodes in tshark 4.0 with the keys the UEs export: every ICV good (aes-gmac:
 * tshark 4.0 cannot check it), and no SIP in the clear anywhere but the unprotected port 5060.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { VALID_TRANSFORMS, wiresharkChecksIcv, type IntegrityAlg } from '../../src/ipsec/esp/index.js';
import { needPeer } from '../support/peers.js';
import { Capture, CoreProcess, UeDriver, createNetnsPair, needKernelEsp } from './support/netns.js';
import { writeLabCoreConfig } from './support/core-lab.js';
import { rekeyedSpis, spiHistory, spiOfEspSaLine } from './support/capture-check.js';
import { keepingCapture } from './support/keep-capture.js';
import { decodeFrames } from './support/tshark.js';
import { addForeignEntries } from './support/xfrm-state.js';
import { assertClean, entries } from './support/clean.js';

interface Reg {
  alg: string;
  ealg: string;
  mod: string;
}

describe('[R-SM-1] [R-SA-3] [R-RR-2] imsec core and UEs over kernel IPsec in two namespaces (TS 33.203 §6, §7, Annex H mod=trans)', () => {
  test('every transform: register, MESSAGE both ways, re-register, de-register; P-CSCF killed and restarted; tshark', async (t) => {
    if (!(await needKernelEsp(t))) return;
    if (!needPeer(t, 'tcpdump') || !needPeer(t, 'tshark')) return;
    const pair = createNetnsPair(`imsec-ke${process.pid}`);
    t.after(() => pair.remove());
    const { a, b } = pair;
    const dir = mkdtempSync(join(tmpdir(), 'imsec-kernel-core-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const config = writeLabCoreConfig(dir, a.v4);
    addForeignEntries(a.ns);
    addForeignEntries(b.ns);
    const pcap = join(dir, 'core.pcap');
    const capture = await Capture.start(a.ns, a.dev, pcap);
    let core = await CoreProcess.start(a.ns, config);
    const coreLogs = [core.stderr];
    t.after(() => core.stop('SIGKILL'));
    const ues = await UeDriver.start(b.ns);
    t.after(() => ues.stop());
    const pcscf = `${a.v4}:5060`;
    const keys: string[] = [];
    const expectedIcv = new Map<number, boolean>();
    const noteKeys = async (name: string, integrity: IntegrityAlg): Promise<void> => {
      for (const l of await ues.request<string[]>({ op: 'keys', name })) {
        keys.push(l);
        expectedIcv.set(spiOfEspSaLine(l), wiresharkChecksIcv(integrity));
      }
    };

    for (const [i, tr] of VALID_TRANSFORMS.entries()) {
      await t.test(`${tr.integrity}/${tr.encryption}`, async () => {
        const alice = `alice-${i}`;
        const bob = `bob-${i}`;
        const offer = { integrity: [tr.integrity], encryption: [tr.encryption], pcscf, local: b.v4 };
        await ues.request({ op: 'create', name: alice, impi: 'alice@ims.lab', ...offer });
        await ues.request({ op: 'create', name: bob, impi: 'bob@ims.lab', ...offer });
        try {
          for (const name of [alice, bob]) {
            const reg = await ues.request<Reg>({ op: 'register', name });
            assert.deepEqual([reg.alg, reg.ealg, reg.mod], [tr.integrity, tr.encryption, 'trans'], `${name}: the offered transform in transport mode`);
            await noteKeys(name, tr.integrity);
          }
          // Four SAs per registration on each side, in the kernel.
          assert.equal(entries(a.ns).ourStates, 8, 'P-CSCF kernel: 2 × 4 SAs');
          assert.equal(entries(b.ns).ourStates, 8, 'UE kernel: 2 × 4 SAs');

          assert.equal(await ues.request<number>({ op: 'message', name: alice, to: 'sip:bob@ims.lab', text: `hello bob ${i}` }), 200);
          assert.deepEqual(await ues.request<string[]>({ op: 'messages', name: bob, atLeast: 1 }), [`hello bob ${i}`]);
          assert.equal(await ues.request<number>({ op: 'message', name: bob, to: 'sip:alice@ims.lab', text: `hello alice ${i}` }), 200);
          assert.deepEqual(await ues.request<string[]>({ op: 'messages', name: alice, atLeast: 1 }), [`hello alice ${i}`]);

          const again = await ues.request<Reg>({ op: 'reRegister', name: alice });
          assert.deepEqual([again.alg, again.ealg, again.mod], [tr.integrity, tr.encryption, 'trans']);
          await noteKeys(alice, tr.integrity);
          assert.equal(await ues.request<number>({ op: 'message', name: alice, to: 'sip:bob@ims.lab', text: `again ${i}` }), 200, 'MESSAGE over the new SAs');
          assert.deepEqual(await ues.request<string[]>({ op: 'messages', name: bob, atLeast: 1 }), [`again ${i}`]);

          assert.equal(await ues.request<string>({ op: 'deregister', name: alice }), 'deregistered');
          assert.equal(await ues.request<string>({ op: 'deregister', name: bob }), 'deregistered');
        } finally {
          await ues.request({ op: 'stop', name: alice });
          await ues.request({ op: 'stop', name: bob });
        }
        await assertClean(a.ns);
        await assertClean(b.ns);
      });
    }

    await t.test('[R-SA-7] the P-CSCF killed with SIGKILL leaves SAs behind; restarted, it removes them (our reqids only)', async () => {
      const [tr] = VALID_TRANSFORMS;
      await ues.request({ op: 'create', name: 'alice-k', impi: 'alice@ims.lab', integrity: [tr.integrity], encryption: [tr.encryption], pcscf, local: b.v4 });
      try {
        await ues.request({ op: 'register', name: 'alice-k' });
        await noteKeys('alice-k', tr.integrity);
        await core.stop('SIGKILL');
        assert.equal(entries(a.ns).ourStates, 4, 'the killed P-CSCF left its four SAs');
        core = await CoreProcess.start(a.ns, config);
        coreLogs.push(core.stderr);
        assert.deepEqual(entries(a.ns), { ourStates: 0, ourPolicies: 0, foreignIntact: true }, 'removed at start, before serving');
      } finally {
        await ues.request({ op: 'stop', name: 'alice-k' });
      }
      await assertClean(b.ns);
      assert.equal(await core.stop('SIGTERM'), 0);
      await assertClean(a.ns);
    });

    await capture.stop();
    await t.test('tshark 4.0: every ESP packet decodes with the exported keys, ICV good; no SIP in the clear on a protected port', () => keepingCapture(pcap, keys, () => {
      const frames = decodeFrames(pcap, keys);
      const rows = frames.filter((f) => !Number.isNaN(f.spi));
      assert.ok(rows.length > 0, 'ESP captured');
      // tshark takes the first esp_sa record that matches: one SPI exported with two keys would fail the ICVs of the second.
      assert.deepEqual(rekeyedSpis(keys), [], 'every exported SPI has one key');
      for (const r of rows) {
        assert.ok(expectedIcv.has(r.spi), `SPI 0x${r.spi.toString(16)} is one of the exported SAs`);
        if (expectedIcv.get(r.spi)) assert.ok(r.icvGood && !r.icvBad, `SPI 0x${r.spi.toString(16)} seq ${r.seq}: ICV good (${r.where}; tshark: good ${r.icvGood}, bad ${r.icvBad}; ${spiHistory(rows, r.spi)})`);
        else assert.ok(!r.icvBad, 'aes-gmac: tshark 4.0 cannot check the ICV');
      }
      const protectedSip = rows.filter((r) => r.sipMethod !== '' || r.sipStatus !== '').length;
      assert.ok(protectedSip >= VALID_TRANSFORMS.length * 8, `SIP decrypted from ESP (${protectedSip} messages)`);
      const clear = frames.filter((f) => Number.isNaN(f.spi) && (f.sipMethod !== '' || f.sipStatus !== ''));
      assert.ok(clear.length > 0, 'the unprotected REGISTER/401 were captured');
      assert.deepEqual(clear.filter((f) => !f.udpPorts.includes(5060)), [], 'SIP in the clear only on the unprotected port 5060');
    }, { 'core.log': () => coreLogs.map((l) => l()).join('') }));
  });
});
