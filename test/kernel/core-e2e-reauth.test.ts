/**
 * Network-initiated re-authentication over kernel IPsec: `imsec core --admin-stdin` (the P-CSCF
 * on the xfrm datapath) in one network namespace, two soft UEs in another, transport mode, SIP
 * over UDP, inside user-mode Linux.
 *
 * TS 24.229 §5.4.1.6: the S-CSCF shortens the registration and tells the UE in a reg-event NOTIFY
 * (RFC 3680 event "shortened", the new expires); TS 24.229 §5.1.1.5.2 / R-RR-5: the UE
 * re-authenticates within that time — a re-REGISTER over its current SAs, a fresh AKA challenge,
 * and new SAs (TS 33.203 §7.4) that take over. Here the operator command `reauth IMPU 30` starts
 * it; alice, subscribed to her reg event, ends up on a new SA set with new SPIs and a new
 * port_uc, and MESSAGEs go both ways on it. Then both de-register and none of our SAs or
 * policies is left; the capture decodes with the exported keys, every ICV good.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VALID_TRANSFORMS } from '../../src/ipsec/esp/index.js';
import { assertClean, ours } from './support/clean.js';
import { startCoreLab } from './support/core-lab.js';
import { decodeFrames } from './support/tshark.js';
import { kernelStates } from './support/xfrm-state.js';

interface Reg {
  alg: string;
  ealg: string;
  setId: number;
  expires: number;
  ue: { portC: number; portS: number; spiC: number; spiS: number };
}

const TRANSFORM = VALID_TRANSFORMS.find((x) => x.encryption === 'aes-gcm')!;

/** Polls `read` every 100 ms until it gives `want` (at most `ms`); resolves with the last value. */
async function until<T>(read: () => Promise<T>, want: T, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await read();
  while (v !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    v = await read();
  }
  return v;
}

describe('[R-RR-5] [R-RR-1] [R-RR-2] network-initiated re-authentication over kernel IPsec (TS 24.229 §5.4.1.6, §5.1.1.5.2; TS 33.203 §7.4)', () => {
  test(`${TRANSFORM.integrity}/${TRANSFORM.encryption}: reauth by the S-CSCF, the UE re-authenticates on new SAs, traffic goes on`, async (t) => {
    // The trust domain is the core's address (its namespace holds only core nodes): the S-CSCF
    // sends a reg-event NOTIFY larger than 1300 bytes over TCP (RFC 3261 §18.1.1), from an
    // ephemeral port that a port-qualified trust entry (imsec core's default) does not match.
    const lab = await startCoreLab(t, { prefix: 'imsec-kr', admin: true, trustedCore: (a) => [a.v4] });
    if (!lab) return;
    const { a, b, ues } = lab;
    const offer = { integrity: [TRANSFORM.integrity], encryption: [TRANSFORM.encryption], pcscf: lab.pcscf, local: lab.local };
    await ues.request({ op: 'create', name: 'alice', impi: 'alice@ims.lab', subscribeRegEvent: true, ...offer });
    await ues.request({ op: 'create', name: 'bob', impi: 'bob@ims.lab', ...offer });
    try {
      const first = await ues.request<Reg>({ op: 'register', name: 'alice' });
      await lab.noteKeys('alice', TRANSFORM.integrity);
      await ues.request<Reg>({ op: 'register', name: 'bob' });
      await lab.noteKeys('bob', TRANSFORM.integrity);
      // TS 24.229 §5.1.1.3: the reg-event subscription, through the P-CSCF, over the SAs.
      assert.equal(await until(() => ues.request<string>({ op: 'subscription', name: 'alice' }), 'active', 10_000), 'active', 'alice subscribed to her reg event');

      assert.deepEqual(await lab.core.admin('reauth sip:alice@ims.lab 30'), { ok: true, command: 'reauth', impu: 'sip:alice@ims.lab', seconds: 30 });
      const again = await ues.request<Reg>({ op: 'waitNewSet', name: 'alice', notSetId: first.setId, timeoutMs: 15_000 });
      assert.deepEqual([again.alg, again.ealg], [TRANSFORM.integrity, TRANSFORM.encryption]);
      assert.notDeepEqual([again.ue.spiC, again.ue.spiS], [first.ue.spiC, first.ue.spiS], 'TS 33.203 §7.4: new SPIs');
      assert.notEqual(again.ue.portC, first.ue.portC, 'a new port_uc');
      assert.equal(again.ue.portS, first.ue.portS, 'port_us kept');
      assert.ok(again.expires > 30, `a full registration again (${again.expires} s), not the shortened 30 s`);
      await lab.noteKeys('alice', TRANSFORM.integrity);

      // The kernel holds the new set (the old one until the change-over ends).
      const sas = kernelStates(b.ns).filter((s) => ours(s.reqid));
      for (const spi of [again.ue.spiC, again.ue.spiS]) assert.ok(sas.some((s) => s.spi === spi), `new inbound SA 0x${spi.toString(16)} in the UE's kernel`);

      assert.equal(await ues.request<number>({ op: 'message', name: 'alice', to: 'sip:bob@ims.lab', text: 'after reauth' }), 200, 'MESSAGE on the new SAs');
      assert.deepEqual(await ues.request<string[]>({ op: 'messages', name: 'bob', atLeast: 1 }), ['after reauth']);
      assert.equal(await ues.request<number>({ op: 'message', name: 'bob', to: 'sip:alice@ims.lab', text: 'to the re-authenticated alice' }), 200);
      assert.deepEqual(await ues.request<string[]>({ op: 'messages', name: 'alice', atLeast: 1 }), ['to the re-authenticated alice']);
      const inbound = kernelStates(b.ns).filter((s) => s.spi === again.ue.spiS || s.spi === again.ue.spiC);
      assert.ok(inbound.reduce((n, s) => n + s.packets, 0) >= 2, 'the answers and the MESSAGE to alice came in on the new SAs');

      assert.equal(await ues.request<string>({ op: 'deregister', name: 'alice' }), 'deregistered');
      assert.equal(await ues.request<string>({ op: 'deregister', name: 'bob' }), 'deregistered');
    } finally {
      await ues.request({ op: 'stop', name: 'alice' });
      await ues.request({ op: 'stop', name: 'bob' });
    }
    await assertClean(a.ns);
    await assertClean(b.ns);
    assert.equal(await lab.core.stop('SIGTERM'), 0);
    await lab.capture.stop();

    const esp = decodeFrames(lab.pcap, lab.keys).filter((f) => !Number.isNaN(f.spi));
    assert.ok(esp.length >= 12, `ESP captured (${esp.length})`);
    for (const f of esp) assert.ok(lab.checksIcv.has(f.spi) && f.icvGood && !f.icvBad, `SPI 0x${f.spi.toString(16)} seq ${f.seq}: an exported SA, ICV good`);
    assert.ok(
      esp.some((f) => f.sipMethod === 'NOTIFY'),
      'the NOTIFY that shortened the registration came inside ESP',
    );
  });
});
