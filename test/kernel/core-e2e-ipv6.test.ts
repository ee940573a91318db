/**
 * IPv6 end to end over kernel IPsec: `imsec core` bound to an IPv6 address (the P-CSCF on the
 * xfrm datapath) in one network namespace, two soft UEs on IPv6 in another, transport mode,
 * SIP over UDP, inside user-mode Linux. TS 33.203 §7.1 binds the SAs to the IP addresses of UE
 * and P-CSCF, IPv4 or IPv6 alike (Annex H: ESP in transport mode with esp6).
 *
 * The whole life: both UEs register (unprotected REGISTER, 401, protected REGISTER, 200), a
 * MESSAGE goes each way, alice re-registers with a change-over (§7.4) and both message again,
 * both de-register. The kernel's SAs name the IPv6 addresses and carry the traffic (replay
 * window set, no integrity failure); afterwards none of our SAs or policies is left. The capture
 * decodes in tshark with the exported keys: every ICV good, no SIP in the clear but on 5060.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VALID_TRANSFORMS } from '../../src/ipsec/esp/index.js';
import { assertClean, entries, ours } from './support/clean.js';
import { startCoreLab } from './support/core-lab.js';
import { decodeFrames } from './support/tshark.js';
import { kernelStates } from './support/xfrm-state.js';

interface Reg {
  alg: string;
  ealg: string;
  mod: string;
  ue: { portC: number; portS: number };
  pcscf: { address: string };
}

const TRANSFORM = VALID_TRANSFORMS.find((x) => x.integrity === 'hmac-sha-1-96' && x.encryption === 'aes-cbc')!;

describe('[R-SM-1] [R-SA-3] [R-RR-2] imsec core and UEs over kernel IPsec on IPv6 (TS 33.203 §7.1, §7.4, Annex H mod=trans)', () => {
  test(`IPv6, ${TRANSFORM.integrity}/${TRANSFORM.encryption}: register, MESSAGE both ways, re-register, de-register; counters, capture`, async (t) => {
    const lab = await startCoreLab(t, { prefix: 'imsec-k6', family: 6 });
    if (!lab) return;
    const { a, b, ues } = lab;
    const offer = { integrity: [TRANSFORM.integrity], encryption: [TRANSFORM.encryption], pcscf: lab.pcscf, local: lab.local };
    await ues.request({ op: 'create', name: 'alice', impi: 'alice@ims.lab', ...offer });
    await ues.request({ op: 'create', name: 'bob', impi: 'bob@ims.lab', ...offer });
    try {
      for (const name of ['alice', 'bob']) {
        const reg = await ues.request<Reg>({ op: 'register', name });
        assert.deepEqual([reg.alg, reg.ealg, reg.mod, reg.pcscf.address], [TRANSFORM.integrity, TRANSFORM.encryption, 'trans', a.v6], `${name}: registered with the P-CSCF's IPv6 address`);
        await lab.noteKeys(name, TRANSFORM.integrity);
      }
      assert.equal(await ues.request<number>({ op: 'message', name: 'alice', to: 'sip:bob@ims.lab', text: 'hello bob over IPv6' }), 200);
      assert.deepEqual(await ues.request<string[]>({ op: 'messages', name: 'bob', atLeast: 1 }), ['hello bob over IPv6']);
      assert.equal(await ues.request<number>({ op: 'message', name: 'bob', to: 'sip:alice@ims.lab', text: 'hello alice over IPv6' }), 200);
      assert.deepEqual(await ues.request<string[]>({ op: 'messages', name: 'alice', atLeast: 1 }), ['hello alice over IPv6']);

      // ip -s xfrm state: 2 × 4 SAs between the two IPv6 addresses, in use, replay protection on.
      const sas = kernelStates(b.ns).filter((s) => ours(s.reqid));
      assert.equal(sas.length, 8, 'UE kernel: 2 × 4 SAs');
      for (const s of sas) {
        assert.deepEqual([s.src, s.dst].sort(), [a.v6, b.v6].sort(), `SA 0x${s.spi.toString(16)} between the IPv6 addresses`);
        assert.equal(s.mode, 'transport');
        assert.equal(s.failed, 0, 'no integrity failure');
      }
      assert.ok(
        sas.filter((s) => s.dst === b.v6).every((s) => s.replayWindow > 0),
        'inbound SAs keep a replay window',
      );
      assert.ok(sas.filter((s) => s.dst === a.v6).reduce((n, s) => n + s.packets, 0) >= 6, 'the UEs sent their requests and answers inside ESP');

      const again = await ues.request<Reg>({ op: 'reRegister', name: 'alice' });
      assert.deepEqual([again.alg, again.ealg, again.mod], [TRANSFORM.integrity, TRANSFORM.encryption, 'trans']);
      await lab.noteKeys('alice', TRANSFORM.integrity);
      assert.equal(await ues.request<number>({ op: 'message', name: 'alice', to: 'sip:bob@ims.lab', text: 'again over IPv6' }), 200, 'MESSAGE over the new SAs');
      assert.deepEqual(await ues.request<string[]>({ op: 'messages', name: 'bob', atLeast: 1 }), ['again over IPv6']);
      assert.equal(await ues.request<number>({ op: 'message', name: 'bob', to: 'sip:alice@ims.lab', text: 'back over IPv6' }), 200, 'the P-CSCF reaches alice on the new set');
      assert.deepEqual(await ues.request<string[]>({ op: 'messages', name: 'alice', atLeast: 1 }), ['back over IPv6']);

      assert.equal(await ues.request<string>({ op: 'deregister', name: 'alice' }), 'deregistered');
      assert.equal(await ues.request<string>({ op: 'deregister', name: 'bob' }), 'deregistered');
    } finally {
      await ues.request({ op: 'stop', name: 'alice' });
      await ues.request({ op: 'stop', name: 'bob' });
    }
    await assertClean(a.ns);
    await assertClean(b.ns);
    assert.equal(entries(a.ns).ourStates, 0);
    assert.equal(await lab.core.stop('SIGTERM'), 0);
    await lab.capture.stop();

    const frames = decodeFrames(lab.pcap, lab.keys);
    const esp = frames.filter((f) => !Number.isNaN(f.spi));
    assert.ok(esp.length >= 16, `ESP over IPv6 captured (${esp.length} packets)`);
    for (const f of esp) assert.ok(lab.checksIcv.has(f.spi) && f.icvGood && !f.icvBad, `SPI 0x${f.spi.toString(16)} seq ${f.seq}: an exported SA, ICV good`);
    assert.ok(esp.filter((f) => f.sipMethod !== '' || f.sipStatus !== '').length >= 16, 'SIP decrypted from ESP');
    const clear = frames.filter((f) => Number.isNaN(f.spi) && (f.sipMethod !== '' || f.sipStatus !== ''));
    assert.ok(clear.length > 0, 'the unprotected REGISTER/401 were captured');
    assert.deepEqual(clear.filter((f) => !f.udpPorts.includes(5060)), [], 'SIP in the clear only on the unprotected port 5060');
  });
});
