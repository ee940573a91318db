/**
 * SIP over TCP through kernel IPsec: `imsec core` (the P-CSCF on the xfrm datapath) in one
 * network namespace, soft UEs with `transport: "tcp"` in another, transport mode, inside
 * user-mode Linux.
 *
 * TS 33.203 §6.2: the two SA pairs are "shared by TCP and UDP", one between the UE's client port
 * and the P-CSCF's server port, the other between the P-CSCF's client port and the UE's server
 * port. So over TCP the UE opens its connection from port_uc to port_ps and sends its requests
 * there, and the P-CSCF opens its own from port_pc to the UE's port_us for requests towards the
 * UE (a terminating MESSAGE, a reg-event NOTIFY); responses ride the request's connection
 * (RFC 3261 §18.2.2). After a change-over (§7.4: new port_uc and port_pc) both sides use new
 * connections from the new ports.
 *
 * Per transform (support/scenarios.ts): register, MESSAGE each way, re-register, MESSAGE each
 * way, de-register; then a network-initiated re-authentication (TS 24.229 §5.4.1.6, §5.1.1.5.2)
 * over TCP. `ip -s xfrm state`: all four SAs of each set carried packets. The capture: every
 * connection on a protected port opens inside ESP on exactly the flows above, every ICV good,
 * nothing in the clear but on 5060. None of our SAs or policies is left after each scenario.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VALID_TRANSFORMS } from '../../src/ipsec/esp/index.js';
import { assertCapture, tcpFlows } from './support/capture-check.js';
import { startCoreLab } from './support/core-lab.js';
import { lifeScenario, reauthScenario, type DriverReg } from './support/scenarios.js';

/**
 * The transforms of the life over TCP: every Annex H transform with IMSEC_KERNEL_TRANSFORMS=all
 * (all eight pass), else hmac-sha-1-96/aes-cbc and aes-gcm (core-e2e.test.ts covers all eight
 * over UDP).
 */
const TRANSFORMS = process.env.IMSEC_KERNEL_TRANSFORMS === 'all' ? VALID_TRANSFORMS : VALID_TRANSFORMS.filter((x) => (x.integrity === 'hmac-sha-1-96' && x.encryption === 'aes-cbc') || x.encryption === 'aes-gcm');

describe('[R-SA-3] [R-RR-1] [R-RR-2] [R-RR-5] SIP over TCP over kernel IPsec (TS 33.203 §6.2, §7.1, §7.4; RFC 3261 §18.2.2)', () => {
  test('over TCP: the life per transform, the P-CSCF opening port_pc → port_us; network-initiated re-authentication; counters, capture', async (t) => {
    // The trust domain is the core's address (its namespace holds only core nodes): the S-CSCF
    // sends a reg-event NOTIFY larger than 1300 bytes over TCP (RFC 3261 §18.1.1), from an
    // ephemeral port that imsec core's default port-qualified trust entries do not match.
    const lab = await startCoreLab(t, { prefix: 'imsec-kt', admin: true, trustedCore: (a) => [a.v4] });
    if (!lab) return;
    const sets: DriverReg[] = [];
    for (const [i, transform] of TRANSFORMS.entries()) {
      await t.test(`${transform.integrity}/${transform.encryption}: register, MESSAGE both ways, re-register, de-register`, async () => {
        sets.push(...(await lifeScenario(lab, { transform, transport: 'tcp', tag: `t${i}` })));
      });
    }
    await t.test('[R-RR-5] network-initiated re-authentication over TCP: NOTIFY on the P-CSCF’s connection to port_us, new SAs, new connections', async () => {
      sets.push(...(await reauthScenario(lab, { transform: TRANSFORMS[0], transport: 'tcp', tag: 'reauth' })));
    });
    assert.equal(await lab.core.stop('SIGTERM'), 0);
    await lab.capture.stop();
    await t.test('capture: connections on protected ports open inside ESP on the flows of TS 33.203 §6.2 only; ICVs good; clear only on 5060', () => {
      assertCapture(lab, { connections: tcpFlows(lab, sets), minSip: 0 });
    });
  });
});
