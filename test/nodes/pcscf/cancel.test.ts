/**
 * The P-CSCF as a stateful proxy cancelling an INVITE (RFC 3261 §16.10, §9.1, §16.7) with the
 * UE side protected: the UE of spec-ue.ts (plain sockets, SAs held by hand, SIP as text)
 * registers, then sends an INVITE over its SAs; the P-CSCF forwards it along the Service-Route
 * to a scripted UDP peer in the S-CSCF's place, which rings; the UE cancels over the same SAs.
 * Every answer to the UE rides the SA towards its port_us from port_pc (R-SA-3, TS 24.229
 * §5.1.1.2.2).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import type { PcscfNode } from '../../../src/nodes/pcscf/index.js';
import { RawPort, openSip, sealSip, spiOf } from '../../support/raw-esp.js';
import { runCancel, type UpstreamLeg } from '../../support/cancel-scenario.js';
import { HOST, StubCore, startPcscf } from './support.js';
import { IMPU, parse, registerBy, SpecUe } from './spec-ue.js';

describe('P-CSCF: CANCEL of an INVITE from a protected UE (RFC 3261 §16.10, §9.1; TS 33.203 §7)', () => {
  const open: { close(): Promise<void> }[] = [];
  let pcscf: PcscfNode | undefined;
  afterEach(async () => {
    await pcscf?.stop();
    for (const p of open.splice(0)) await p.close();
  });

  test('[R-SA-3] the UE\'s CANCEL over its SAs is answered 200 there, cancels the INVITE on its branch towards the S-CSCF, the 487 and each ACK stay on their hops', async () => {
    const clock = new ManualClock(1_000_000);
    const stub = await StubCore.start(clock);
    open.push(stub);
    const ports = await Promise.all([RawPort.open(HOST), RawPort.open(HOST), RawPort.open(HOST), RawPort.open(HOST)]);
    open.push(...ports);
    const [plain, us, uc, down] = ports;
    stub.serviceRoute = `<sip:orig@${HOST}:${down.port};lr>`;
    pcscf = await startPcscf(stub, clock);
    const a = pcscf.address();
    const [server] = pcscf.protectedEndpoints();
    const ue = new SpecUe(plain, us, uc, { address: a.sip.address, port: a.sip.port });
    const { set } = await registerBy(stub, ue, { c: 0x80004001, s: 0x80004002 }, 0);

    const overSas: UpstreamLeg = {
      send: (text) => ue.uc.send(sealSip(set.ucPs, text), { address: HOST, port: server.port }),
      next: async (what) => {
        const d = await ue.us.next(what);
        assert.equal(d.from.port, set.server.portC, `${what}: from port_pc (R-SA-3)`);
        assert.equal(spiOf(d.data), set.pcUs.spi, `${what}: on the SA towards port_us`);
        return parse(openSip(set.pcUs, d.data).text);
      },
    };
    const r = await runCancel({
      up: overSas,
      down,
      stack: pcscf.sipStack!,
      clock,
      uri: 'sip:bob@ims.lab',
      viaHost: `${HOST}:${ue.us.port}`,
      routes: [`<sip:${a.sip.address}:${a.sip.port};lr>`],
      to: 'sip:bob@ims.lab',
      from: IMPU,
      headers: [['P-Preferred-Identity', `<${IMPU}>`]],
    });
    assert.deepEqual(r.upstream.map((x) => x.status), [100, 180, 200, 487]);
    // TS 24.229 §5.2.6.3: the INVITE went along the Service-Route, asserted; the CANCEL follows it (§9.1).
    assert.deepEqual(r.forwarded.headers.getLines('Route'), [stub.serviceRoute]);
    assert.equal(r.forwarded.headers.get('P-Asserted-Identity'), `<${IMPU}>`);
    assert.deepEqual(r.cancel.headers.getLines('Route'), [stub.serviceRoute]);
    assert.equal(ue.uc.inbox.length + ue.plain.inbox.length, 0, 'nothing else reached the UE');
  });
});
