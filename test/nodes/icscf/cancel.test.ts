/**
 * The I-CSCF as a stateful proxy cancelling an INVITE (RFC 3261 §16.10, §9.1, §16.7), against
 * scripted peers on loopback UDP writing SIP as text: the upstream sends an INVITE routed
 * through the I-CSCF to the scripted downstream, which rings; the upstream cancels. The I-CSCF
 * runs on a ManualClock; its HSS peer is never reached (the request carries its Route).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { ManualClock, SeededRng } from '../../../src/common/index.js';
import { createIcscf, parseIcscfConfig, type Icscf } from '../../../src/nodes/icscf/index.js';
import { RawPort } from '../../support/raw-esp.js';
import { parseSip, plainLeg, runCancel } from '../../support/cancel-scenario.js';

const HOST = '127.0.0.1';

describe('I-CSCF: CANCEL of a proxied INVITE (RFC 3261 §16.10, §9.1)', () => {
  const open: { close(): Promise<void> }[] = [];
  let icscf: Icscf | undefined;
  afterEach(async () => {
    await icscf?.stop();
    for (const p of open.splice(0)) await p.close();
  });

  test('the CANCEL is answered 200 by the I-CSCF, cancels the forwarded INVITE on its branch, the 487 comes back and each ACK stays on its hop; a CANCEL for nothing gets 481', async () => {
    const clock = new ManualClock(1_000_000);
    const up = await RawPort.open(HOST);
    const down = await RawPort.open(HOST);
    open.push(up, down);
    icscf = createIcscf(
      parseIcscfConfig({ logLevel: 'silent', sip: { listen: `${HOST}:0`, protocols: ['udp'] }, diameter: { hss: { connect: `${HOST}:1` } } }),
      { clock, rng: new SeededRng('icscf-cancel') },
    );
    await icscf.start();
    const node = { address: HOST, port: icscf.address().sip.port };
    const r = await runCancel({
      up: plainLeg(up, node),
      down,
      stack: icscf.stack!,
      clock,
      uri: `sip:bob@${HOST}:${down.port}`,
      viaHost: `${HOST}:${up.port}`,
      routes: [`<sip:${HOST}:${down.port};lr>`],
      to: 'sip:bob@ims.lab',
    });
    assert.deepEqual(r.upstream.map((x) => x.status), [100, 180, 200, 487]);
    assert.equal(r.forwarded.headers.get('Max-Forwards'), '69', 'RFC 3261 §16.6 step 3');

    // §9.2: a CANCEL that matches no transaction is answered 481 and goes nowhere.
    await up.send(
      ['CANCEL sip:nobody@ims.lab SIP/2.0', `Via: SIP/2.0/UDP ${HOST}:${up.port};branch=z9hG4bKnothing`, 'Max-Forwards: 70', 'From: <sip:x@ims.lab>;tag=n', 'To: <sip:nobody@ims.lab>', 'Call-ID: nothing', 'CSeq: 1 CANCEL', 'Content-Length: 0', '', ''].join('\r\n'),
      node,
    );
    const nothing = parseSip((await up.next('481')).data);
    assert.equal(nothing.kind === 'response' && nothing.status, 481);
    assert.equal(down.inbox.length, 0);
  });
});
