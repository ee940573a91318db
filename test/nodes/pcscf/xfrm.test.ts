/**
 * `datapath: "xfrm"` at the P-CSCF: the SAs go to the kernel through `ip xfrm` (C2's
 * XfrmDatapath) and SIP runs over plain sockets on the protected ports (G1's
 * KernelSocketCarrier). This machine's kernel has no ESP, so an injected runner records the
 * commands instead of running `ip`; the registration itself runs over real loopback sockets.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock, SeededRng } from '../../../src/common/index.js';
import { SaManager, type XfrmRunner } from '../../../src/ipsec/index.js';
import { KernelSocketCarrier, inboundSaLookup } from '../../../src/ipsec/index.js';
import { ProtectedTransport } from '../../../src/sip/transport/protected/index.js';
import { securityServerOf } from '../../../src/sip/index.js';
import { HOST, ScriptedUe, StubCore, startPcscf } from './support.js';

describe('P-CSCF datapath selection', () => {
  test('[R-SA-1] [R-SA-3] datapath xfrm: mod=trans negotiated, four kernel SAs with our SPIs installed and removed', async () => {
    const calls: string[][] = [];
    const runner: XfrmRunner = async (args) => {
      calls.push([...args]);
      return { stdout: '', stderr: '' };
    };
    const clock = new ManualClock(0);
    const stub = await StubCore.start(clock);
    const { createPcscf, parsePcscfConfig } = await import('../../../src/nodes/pcscf/index.js');
    const pcscf = createPcscf(
      parsePcscfConfig({ sip: { listen: `${HOST}:0`, protocols: ['udp'] }, protected: { ports: 'auto' }, icscf: stub.uri, trustedCore: [`${HOST}:${stub.port}`], regEvent: { subscribe: false }, datapath: 'xfrm' }),
      { clock, rng: new SeededRng('xfrm'), xfrmRunner: runner },
    );
    await pcscf.start();
    const a = pcscf.address();
    // The UE side runs on plain sockets too (as it would with kernel IPsec), its protected ports bound there.
    const ueMgr = new SaManager({ role: 'ue', clock, rng: new SeededRng('ue-x') });
    const carrier = new KernelSocketCarrier(HOST, inboundSaLookup(ueMgr));
    const ue = await ScriptedUe.create({ address: a.sip.address, port: a.sip.port }, clock, { mods: ['trans', 'UDP-enc-tun'], portsOn: carrier });
    try {
      const r1 = await ue.sendUnprotected(ue.registerRequest());
      assert.equal(r1.status, 401);
      const ss = securityServerOf(r1)[0];
      assert.equal(ss.mod, 'trans', 'the kernel datapath negotiates transport mode');
      // Four `ip xfrm state add`, one per SA, with the P-CSCF's and the UE's SPIs.
      const states = calls.filter((c) => c[1] === 'state' && c[2] === 'add');
      assert.equal(states.length, 4);
      const spis = states.map((c) => c[c.indexOf('spi') + 1]).sort();
      const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
      assert.deepEqual(spis, [ss.spiC!, ss.spiS!, ue.local.spiC, ue.local.spiS].map(hex).sort());
      assert.ok(states.every((c) => c.includes('transport')));
      assert.equal(calls.filter((c) => c[1] === 'policy' && c[2] === 'add').length, 8, 'one policy per SA and transport');
      // The protected REGISTER over plain sockets on the protected ports.
      const acc = (await import('../../../src/secagree/index.js')).ueAcceptSecurityServer(ue.offer, securityServerOf(r1));
      assert.ok(acc.ok);
      ue.accepted = acc;
      const made = ueMgr.createSet({ impi: ue.impi, impus: [ue.impu], ueAddress: HOST, pcscfAddress: HOST, remote: acc.pcscf, local: ue.local, integrity: acc.alg, encryption: acc.ealg, mode: acc.mod, ik: stub.keys[0].ik, ck: stub.keys[0].ck });
      assert.ok(made.ok);
      await carrier.bind(ue.local.portC);
      await carrier.bind(ue.local.portS);
      const t = new ProtectedTransport({ carrier, address: HOST, serverPort: ue.local.portS, clientPort: ue.local.portC });
      ue.stack.transportLayer.add(t);
      const r2 = await ue.stack.sendRequest(ue.answerRequest(), { address: HOST, port: acc.pcscf.portS, through: t });
      assert.equal(r2.status, 200);
      assert.equal(pcscf.sets()[0].state, 'active');
      assert.equal(pcscf.datapathCounters()?.kind, 'xfrm');
    } finally {
      await ue.close();
      await pcscf.stop();
      await carrier.close();
      await stub.close();
    }
    // Everything installed was removed again on stop.
    assert.equal(calls.filter((c) => c[1] === 'state' && c[2] === 'delete').length, 4);
    assert.equal(calls.filter((c) => c[1] === 'policy' && c[2] === 'delete').length, 8);
  });

  test('[R-SA-3] with a configured range the protected ports come from it (and the registration completes on them)', async () => {
    const clock = new ManualClock(0);
    const stub = await StubCore.start(clock);
    const min = 40_000 + Math.floor(Math.random() * 200) * 100;
    const pcscf = await startPcscf(stub, clock, { protected: { ports: `${min}-${min + 99}` } });
    const a = pcscf.address();
    const ue = await ScriptedUe.create({ address: a.sip.address, port: a.sip.port }, clock);
    try {
      await ue.register(stub);
      const s = pcscf.sets()[0];
      for (const p of [s.pcscf.portC, s.pcscf.portS]) assert.ok(p >= min && p <= min + 99, `port ${p}`);
      assert.notEqual(s.pcscf.portC, s.pcscf.portS);
    } finally {
      await ue.close();
      await pcscf.stop();
      await stub.close();
    }
  });

  test('datapath userspace (default) negotiates mod=UDP-enc-tun (RFC 3948)', async () => {
    const clock = new ManualClock(0);
    const stub = await StubCore.start(clock);
    const pcscf = await startPcscf(stub, clock);
    const a = pcscf.address();
    const ue = await ScriptedUe.create({ address: a.sip.address, port: a.sip.port }, clock, { mods: ['trans', 'UDP-enc-tun'] });
    try {
      const r1 = await ue.sendUnprotected(ue.registerRequest());
      assert.equal(securityServerOf(r1)[0].mod, 'UDP-enc-tun');
      assert.equal(pcscf.datapathCounters()?.kind, 'userspace');
    } finally {
      await ue.close();
      await pcscf.stop();
      await stub.close();
    }
  });
});
