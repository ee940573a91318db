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
import { cseqOf, type SipRequest } from '../../../src/sip/index.js';
import { RawPort, sipText } from '../../support/raw-esp.js';
import { answerText, parseSip, plainLeg, runCancel } from '../../support/cancel-scenario.js';

const HOST = '127.0.0.1';

describe('I-CSCF: CANCEL of a proxied INVITE (RFC 3261 §16.10, §9.1)', () => {
  const open: { close(): Promise<void> }[] = [];
  let icscf: Icscf | undefined;
  afterEach(async () => {
    await icscf?.stop();
    for (const p of open.splice(0)) await p.close();
  });

  /** The I-CSCF on a manual clock between two scripted UDP peers; its HSS is never reached. */
  async function start(seed: string) {
    const clock = new ManualClock(1_000_000);
    const up = await RawPort.open(HOST);
    const down = await RawPort.open(HOST);
    open.push(up, down);
    icscf = createIcscf(
      parseIcscfConfig({ logLevel: 'silent', sip: { listen: `${HOST}:0`, protocols: ['udp'] }, diameter: { hss: { connect: `${HOST}:1` } } }),
      { clock, rng: new SeededRng(seed) },
    );
    await icscf.start();
    return { clock, up, down, cscf: icscf, node: { address: HOST, port: icscf.address().sip.port } };
  }

  test('the CANCEL is answered 200 by the I-CSCF, cancels the forwarded INVITE on its branch, the 487 comes back and each ACK stays on its hop; a CANCEL for nothing gets 481', async () => {
    const { clock, up, down, cscf, node } = await start('icscf-cancel');
    const r = await runCancel({
      up: plainLeg(up, node),
      down,
      stack: cscf.stack!,
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

  test('a CANCEL of a proxied MESSAGE is answered 200 and changes nothing: no CANCEL downstream, the MESSAGE\'s 200 relayed; 200 too while the MESSAGE is "Completed", 481 after its Timer J (RFC 3261 §9.2, §9.1)', async () => {
    const { clock, up, down, cscf, node } = await start('icscf-cancel-message');
    const uri = `sip:bob@${HOST}:${down.port}`;
    const common = (branch: string, n: number): [string, string][] => [
      ['Via', `SIP/2.0/UDP ${HOST}:${up.port};branch=${branch}`], ['Max-Forwards', '70'], ['Route', `<sip:${HOST}:${down.port};lr>`],
      ['From', '<sip:alice@ims.lab>;tag=m1'], ['To', '<sip:bob@ims.lab>'], ['Call-ID', `cancel-message-${n}`],
    ];
    const message = (branch: string, n: number) => sipText(`MESSAGE ${uri} SIP/2.0`, [...common(branch, n), ['CSeq', `${n} MESSAGE`], ['Content-Type', 'text/plain']], 'hi');
    // §9.1: the CANCEL has the Request-URI, Call-ID, To, From, CSeq number and top Via of the request it cancels.
    const cancel = (branch: string, n: number) => sipText(`CANCEL ${uri} SIP/2.0`, [...common(branch, n), ['CSeq', `${n} CANCEL`]]);
    const next = async (what: string) => parseSip((await up.next(what)).data);

    // The MESSAGE still waiting for its answer downstream.
    await up.send(message('z9hG4bKmsg1', 1), node);
    const d1 = await down.next('the forwarded MESSAGE');
    const forwarded = parseSip(d1.data) as SipRequest;
    assert.equal(forwarded.kind === 'request' && forwarded.method, 'MESSAGE');
    await up.send(cancel('z9hG4bKmsg1', 1), node);
    const ok = await next('200 to the CANCEL');
    // §9.2: "Regardless of the method of the original request, as long as the CANCEL matched an
    // existing transaction, the UAS answers the CANCEL request itself with a 200 (OK) response."
    assert.equal(ok.kind === 'response' && ok.status, 200);
    assert.deepEqual(cseqOf(ok), { seq: 1, method: 'CANCEL' });
    assert.deepEqual(ok.headers.getLines('Via'), [`SIP/2.0/UDP ${HOST}:${up.port};branch=z9hG4bKmsg1`]);
    // §9.1: "A CANCEL request SHOULD NOT be sent to cancel a request other than INVITE": the
    // MESSAGE goes on, and its 200 comes back.
    await down.send(answerText(forwarded, 200, 'OK', 'b1'), d1.from);
    const relayed = await next('the MESSAGE\'s 200');
    assert.equal(relayed.kind === 'response' && relayed.status, 200);
    assert.deepEqual(cseqOf(relayed), { seq: 1, method: 'MESSAGE' });

    // A MESSAGE already answered: its transaction is "Completed" until Timer J, and still matches.
    await up.send(message('z9hG4bKmsg2', 2), node);
    const d2 = await down.next('the second MESSAGE');
    await down.send(answerText(parseSip(d2.data), 200, 'OK', 'b2'), d2.from);
    assert.equal((await next('the second MESSAGE\'s 200')).kind, 'response');
    await up.send(cancel('z9hG4bKmsg2', 2), node);
    const completed = await next('200 to the CANCEL of an answered MESSAGE');
    assert.equal(completed.kind === 'response' && completed.status, 200);
    assert.deepEqual(cseqOf(completed), { seq: 2, method: 'CANCEL' });

    // After Timer J (64*T1) nothing matches (the CANCELs' own transactions are gone too).
    await clock.advanceAsync(64 * cscf.stack!.transactions.timers.t1);
    assert.deepEqual(cscf.stack!.transactions.size, { clients: 0, servers: 0 });
    await up.send(cancel('z9hG4bKmsg2', 2), node);
    const gone = await next('481 after Timer J');
    assert.equal(gone.kind === 'response' && gone.status, 481, '§9.2: no matching transaction');
    assert.equal(down.inbox.length, 0, 'nothing but the two MESSAGEs and no CANCEL went downstream');
  });
});
