/**
 * imsec end to end over kernel IPsec beyond core-e2e.test.ts (IPv4, UDP): SIP over TCP, IPv6 and
 * network-initiated re-authentication. `imsec core` (the P-CSCF on the xfrm datapath) bound to an
 * IPv6 address in one network namespace, soft UEs on IPv6 in another, transport mode (esp6),
 * inside user-mode Linux; one core for every scenario (starting it is most of the time here).
 *
 * - TS 33.203 §7.1 binds the SAs to the UE's and the P-CSCF's IP addresses, IPv4 or IPv6 alike.
 * - TCP: §6.2 sets up two SA pairs "shared by TCP and UDP", one between the UE's client port and
 *   the P-CSCF's server port, the other between the P-CSCF's client port and the UE's server
 *   port. So the UE opens its connection from port_uc to port_ps and sends its requests there;
 *   the P-CSCF opens its own from port_pc to the UE's port_us for requests towards the UE (a
 *   terminating MESSAGE, a reg-event NOTIFY); responses ride the request's connection (RFC 3261
 *   §18.2.2); after a change-over (§7.4: new port_uc and port_pc) both use new connections.
 * - Re-authentication: TS 24.229 §5.4.1.6 at the S-CSCF (operator command `reauth`), §5.1.1.5.2
 *   at the UE: re-REGISTER with a fresh AKA run, new SAs, traffic goes on.
 *
 * Scenarios (support/scenarios.ts): the life over UDP (register, MESSAGE each way, re-register,
 * MESSAGE each way, de-register) and a re-authentication; the life over TCP per transform and a
 * re-authentication over TCP. `ip -s xfrm state`: the SAs that carry each flow did, replay state
 * kept, no integrity failure; none of our SAs or policies is left after each scenario. The
 * capture (one tshark pass with the exported keys): every ICV good, SIP inside ESP, nothing in
 * the clear but on 5060, every TCP connection on a protected port opened inside ESP on exactly
 * the flows of §6.2.
 *
 * The TCP life and the re-authentication run for every Annex H transform the kernel takes
 * (about 5 s each; IMSEC_KERNEL_TRANSFORMS=one runs hmac-sha-1-96/aes-cbc and aes-gcm only);
 * IMSEC_KERNEL_FAMILY=4 runs it all on IPv4.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VALID_TRANSFORMS } from '../../src/ipsec/esp/index.js';
import { assertCapture, tcpFlows } from './support/capture-check.js';
import { startCoreLab } from './support/core-lab.js';
import { lifeScenario, reauthScenario, type DriverReg } from './support/scenarios.js';

const SHA1_AES = VALID_TRANSFORMS.find((x) => x.integrity === 'hmac-sha-1-96' && x.encryption === 'aes-cbc')!;
const GCM = VALID_TRANSFORMS.find((x) => x.encryption === 'aes-gcm')!;
const ONE = process.env.IMSEC_KERNEL_TRANSFORMS === 'one';
const TCP_TRANSFORMS = ONE ? [SHA1_AES] : VALID_TRANSFORMS;
const REAUTH_TRANSFORMS = ONE ? [GCM] : VALID_TRANSFORMS;
const FAMILY = process.env.IMSEC_KERNEL_FAMILY === '4' ? 4 : 6;

describe('[R-SM-1] [R-SA-3] [R-RR-1] [R-RR-2] [R-RR-5] imsec core and UEs over kernel IPsec: TCP, IPv6, re-authentication (TS 33.203 §6.2, §7.1, §7.4; TS 24.229 §5.4.1.6)', () => {
  test(`IPv${FAMILY}: the life and a re-authentication over UDP and over TCP; counters, capture`, async (t) => {
    // imsec core's own trust entries (the S-CSCF's and I-CSCF's address:port): the reg-event
    // NOTIFYs of re-authentication, over 1300 bytes, stay on UDP between the core's nodes because
    // their path MTU is known (RFC 3261 §18.1.1).
    const lab = await startCoreLab(t, { prefix: 'imsec-kx', family: FAMILY, admin: true });
    if (!lab) return;
    const udpSets: DriverReg[] = [];
    const tcpSets: DriverReg[] = [];
    await t.test(`UDP, ${SHA1_AES.integrity}/${SHA1_AES.encryption}: register, MESSAGE both ways, re-register, de-register`, async () => {
      const sets = await lifeScenario(lab, { transform: SHA1_AES, transport: 'udp', tag: 'u' });
      for (const s of sets) assert.equal(s.pcscf.address, FAMILY === 6 ? lab.a.v6 : lab.a.v4, "SAs with the P-CSCF's address");
      udpSets.push(...sets);
    });
    for (const [i, transform] of REAUTH_TRANSFORMS.entries()) {
      await t.test(`[R-RR-5] UDP, ${transform.integrity}/${transform.encryption}: network-initiated re-authentication`, async () => {
        udpSets.push(...(await reauthScenario(lab, { transform, transport: 'udp', tag: `r${i}` })));
      });
    }
    for (const [i, transform] of TCP_TRANSFORMS.entries()) {
      await t.test(`TCP, ${transform.integrity}/${transform.encryption}: register, MESSAGE both ways (the P-CSCF opens port_pc → port_us), re-register, de-register`, async () => {
        tcpSets.push(...(await lifeScenario(lab, { transform, transport: 'tcp', tag: `t${i}` })));
      });
    }
    await t.test(`[R-RR-5] TCP, ${GCM.integrity}/${GCM.encryption}: re-authentication, the NOTIFY on the P-CSCF's connection to port_us`, async () => {
      tcpSets.push(...(await reauthScenario(lab, { transform: GCM, transport: 'tcp', tag: 'rt' })));
    });
    assert.equal(await lab.core.stop('SIGTERM'), 0);
    await lab.stopCapture();
    await t.test('capture: ICVs good, SIP inside ESP, clear only on 5060, TCP connections only on the flows of TS 33.203 §6.2', () => {
      assertCapture(lab, { connections: tcpFlows(lab, tcpSets), minSip: udpSets.length * 3, sets: tcpSets });
    });
  });
});
