/**
 * IPv6 end to end over kernel IPsec: `imsec core` bound to an IPv6 address (the P-CSCF on the
 * xfrm datapath) in one network namespace, soft UEs on IPv6 in another, transport mode (esp6),
 * inside user-mode Linux. TS 33.203 §7.1 binds the SAs to the UE's and the P-CSCF's IP
 * addresses, IPv4 or IPv6 alike.
 *
 * Over UDP (support/scenarios.ts): register, MESSAGE each way, re-register with change-over
 * (§7.4), MESSAGE each way, de-register; a network-initiated re-authentication (TS 24.229
 * §5.4.1.6, §5.1.1.5.2); and the life once more over TCP. `ip -s xfrm state`: the SAs name the
 * IPv6 addresses and carried the traffic, replay state kept. The capture decodes with the
 * exported keys: every ICV good, SIP inside ESP, nothing in the clear but on 5060, no TCP
 * connection but on the flows of TS 33.203 §6.2. None of our SAs or policies is left after each
 * scenario.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VALID_TRANSFORMS } from '../../src/ipsec/esp/index.js';
import { assertCapture, tcpFlows } from './support/capture-check.js';
import { startCoreLab } from './support/core-lab.js';
import { lifeScenario, reauthScenario, type DriverReg } from './support/scenarios.js';

const SHA1_AES = VALID_TRANSFORMS.find((x) => x.integrity === 'hmac-sha-1-96' && x.encryption === 'aes-cbc')!;
const GCM = VALID_TRANSFORMS.find((x) => x.encryption === 'aes-gcm')!;

describe('[R-SM-1] [R-SA-3] [R-RR-2] [R-RR-5] imsec core and UEs over kernel IPsec on IPv6 (TS 33.203 §7.1, §7.4, Annex H mod=trans)', () => {
  test('IPv6: the life over UDP, re-authentication, the life over TCP; counters, capture', async (t) => {
    const lab = await startCoreLab(t, { prefix: 'imsec-k6', family: 6, admin: true, trustedCore: (a) => [a.v6] });
    if (!lab) return;
    const udpSets: DriverReg[] = [];
    const tcpSets: DriverReg[] = [];
    await t.test(`UDP, ${SHA1_AES.integrity}/${SHA1_AES.encryption}: register, MESSAGE both ways, re-register, de-register`, async () => {
      const sets = await lifeScenario(lab, { transform: SHA1_AES, transport: 'udp', tag: 'u6' });
      for (const s of sets) assert.equal(s.pcscf.address, lab.a.v6, 'SAs with the P-CSCF’s IPv6 address');
      udpSets.push(...sets);
    });
    await t.test(`[R-RR-5] UDP, ${GCM.integrity}/${GCM.encryption}: network-initiated re-authentication`, async () => {
      udpSets.push(...(await reauthScenario(lab, { transform: GCM, transport: 'udp', tag: 'r6' })));
    });
    await t.test(`TCP, ${GCM.integrity}/${GCM.encryption}: register, MESSAGE both ways, re-register, de-register`, async () => {
      tcpSets.push(...(await lifeScenario(lab, { transform: GCM, transport: 'tcp', tag: 't6' })));
    });
    assert.equal(await lab.core.stop('SIGTERM'), 0);
    await lab.capture.stop();
    await t.test('capture: ICVs good, SIP inside ESP, clear only on 5060, TCP only on the flows of TS 33.203 §6.2', () => {
      assertCapture(lab, { connections: tcpFlows(lab, tcpSets), minSip: udpSets.length * 3 });
    });
  });
});
