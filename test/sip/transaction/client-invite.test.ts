import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startClientInvite, stepClientInvite, type ClientInviteTx } from '../../../src/sip/transaction/client-invite.js';
import { timerConfig } from '../../../src/sip/transaction/timers.js';
import type { ClientTxEvent, TxAction } from '../../../src/sip/transaction/types.js';
import { request, response } from './fixtures.js';

const timers = timerConfig();
const udp = { reliable: false, timers };
const tcp = { reliable: true, timers };

function run(tx: ClientInviteTx, ...events: ClientTxEvent[]): { tx: ClientInviteTx; actions: TxAction[] } {
  let actions: TxAction[] = [];
  for (const e of events) {
    const r = stepClientInvite(tx, e);
    tx = r.tx;
    actions = r.actions;
  }
  return { tx, actions };
}
const kinds = (a: TxAction[]) => a.map((x) => (x.kind === 'startTimer' || x.kind === 'cancelTimer' ? `${x.kind}:${x.name}` : x.kind));
const timerA = { kind: 'timer', name: 'A' } as const;

describe('RFC 3261 §17.1.1.2 INVITE client transaction: Calling', () => {
  test('§17.1.1.2 entering Calling sends the INVITE and starts Timer A = T1 and Timer B = 64*T1 (unreliable)', () => {
    const inv = request('INVITE');
    const { tx, actions } = startClientInvite(inv, udp);
    assert.equal(tx.state, 'calling');
    assert.deepEqual(actions, [
      { kind: 'send', msg: inv },
      { kind: 'startTimer', name: 'A', ms: 500 },
      { kind: 'startTimer', name: 'B', ms: 32000 },
    ]);
  });

  test('§17.1.1.2 a reliable transport does not start Timer A', () => {
    const { actions } = startClientInvite(request('INVITE'), tcp);
    assert.deepEqual(kinds(actions), ['send', 'startTimer:B']);
  });

  test('§17.1.1.2 T1 is configurable: Timer A = T1 and Timer B = 64*T1 follow it', () => {
    const { actions } = startClientInvite(request('INVITE'), { reliable: false, timers: timerConfig({ t1: 100 }) });
    assert.deepEqual(actions.slice(1), [
      { kind: 'startTimer', name: 'A', ms: 100 },
      { kind: 'startTimer', name: 'B', ms: 6400 },
    ]);
  });

  test('§17.1.1.2 Timer A retransmits the INVITE with intervals that double (not capped by T2)', () => {
    const inv = request('INVITE');
    let { tx } = startClientInvite(inv, udp);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = stepClientInvite(tx, timerA);
      tx = r.tx;
      assert.deepEqual(r.actions[0], { kind: 'send', msg: inv });
      const st = r.actions[1];
      assert.ok(st.kind === 'startTimer' && st.name === 'A');
      seen.push(st.ms);
    }
    assert.deepEqual(seen, [1000, 2000, 4000, 8000, 16000, 32000]);
    assert.equal(tx.state, 'calling');
  });

  test('§17.1.1.2 Timer B in Calling: Terminated, TU told of the timeout, no ACK sent', () => {
    const { tx } = startClientInvite(request('INVITE'), udp);
    const r = stepClientInvite(tx, { kind: 'timer', name: 'B' });
    assert.equal(r.tx.state, 'terminated');
    assert.ok(!r.actions.some((a) => a.kind === 'send'));
    assert.deepEqual(r.actions.at(-1), { kind: 'terminated', reason: 'timeout' });
  });

  test('§17.1.4 a transport error in Calling: Terminated, TU informed', () => {
    const { tx } = startClientInvite(request('INVITE'), udp);
    const r = stepClientInvite(tx, { kind: 'transportError' });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions.at(-1), { kind: 'terminated', reason: 'transportError' });
  });

  test('§17.1.1.2 a 1xx in Calling: Proceeding, passed up, retransmissions stop', () => {
    const inv = request('INVITE');
    const ringing = response(inv, 180, 'Ringing');
    const r = run(startClientInvite(inv, udp).tx, { kind: 'response', msg: ringing });
    assert.equal(r.tx.state, 'proceeding');
    assert.deepEqual(kinds(r.actions), ['cancelTimer:A', 'cancelTimer:B', 'passUp']);
    const again = stepClientInvite(r.tx, timerA);
    assert.deepEqual(again.actions, [], 'Timer A no longer retransmits in Proceeding');
  });
});

describe('RFC 3261 §17.1.1.2 INVITE client transaction: Proceeding', () => {
  test('§17.1.1.2 every further 1xx in Proceeding is passed up', () => {
    const inv = request('INVITE');
    const r = run(startClientInvite(inv, udp).tx, { kind: 'response', msg: response(inv, 100, 'Trying') }, { kind: 'response', msg: response(inv, 183, 'Session Progress') });
    assert.equal(r.tx.state, 'proceeding');
    assert.equal(r.actions.length, 1);
    assert.equal(r.actions[0].kind, 'passUp');
    assert.equal((r.actions[0] as { msg: { status: number } }).msg.status, 183);
  });

  test('§17.1.1.2 a 300-699 in Proceeding: ACK sent, response passed up, Completed with Timer D', () => {
    const inv = request('INVITE');
    const r = run(startClientInvite(inv, udp).tx, { kind: 'response', msg: response(inv, 180) }, { kind: 'response', msg: response(inv, 486, 'Busy Here') });
    assert.equal(r.tx.state, 'completed');
    assert.deepEqual(kinds(r.actions), ['send', 'passUp', 'startTimer:D']);
  });

  test('RFC 6026 §8.4 a 2xx in Proceeding: passed up, Accepted with Timer M = 64*T1', () => {
    const inv = request('INVITE');
    const r = run(startClientInvite(inv, udp).tx, { kind: 'response', msg: response(inv, 180) }, { kind: 'response', msg: response(inv, 200, 'OK') });
    assert.equal(r.tx.state, 'accepted');
    assert.deepEqual(r.actions.slice(-1), [{ kind: 'startTimer', name: 'M', ms: 32000 }]);
    assert.ok(!r.actions.some((a) => a.kind === 'send'), 'no ACK for a 2xx from the transaction');
  });
});

describe('RFC 3261 §17.1.1.3 ACK for non-2xx and the Completed state', () => {
  test('§17.1.1.3 the ACK: same Request-URI, Call-ID, From, CSeq number; To from the response; one Via = top Via of the INVITE; Routes kept', () => {
    const inv = request('INVITE', { routes: ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>'] });
    inv.headers.prepend('Via', 'SIP/2.0/UDP top.example.com;branch=z9hG4bKtop');
    const busy = response(inv, 486, 'Busy Here', 'uastag1');
    const r = stepClientInvite(startClientInvite(inv, udp).tx, { kind: 'response', msg: busy });
    const send = r.actions[2];
    assert.equal(send.kind, 'send');
    const ack = (send as { msg: import('../../../src/sip/message/message.js').SipRequest }).msg;
    assert.equal(ack.method, 'ACK');
    assert.equal(ack.uri, 'sip:bob@biloxi.com');
    assert.deepEqual(ack.headers.getAll('via'), ['SIP/2.0/UDP top.example.com;branch=z9hG4bKtop']);
    assert.equal(ack.headers.get('to'), 'Bob <sip:bob@biloxi.com>;tag=uastag1');
    assert.equal(ack.headers.get('from'), 'Alice <sip:alice@atlanta.com>;tag=1928301774');
    assert.equal(ack.headers.get('call-id'), 'a84b4c76e66710@pc33.atlanta.com');
    assert.equal(ack.headers.get('cseq'), '314159 ACK');
    assert.deepEqual(ack.headers.getAll('route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    assert.equal(ack.body.length, 0);
  });

  test('§17.1.1.2 a 300-699 in Calling: Completed, Timer D = 32 s for unreliable transports, A and B stopped', () => {
    const inv = request('INVITE');
    const r = stepClientInvite(startClientInvite(inv, udp).tx, { kind: 'response', msg: response(inv, 404, 'Not Found') });
    assert.equal(r.tx.state, 'completed');
    assert.deepEqual(kinds(r.actions), ['cancelTimer:A', 'cancelTimer:B', 'send', 'passUp', 'startTimer:D']);
    assert.deepEqual(r.actions.at(-1), { kind: 'startTimer', name: 'D', ms: 32000 });
  });

  test('§17.1.1.2 retransmissions of the final response in Completed resend the ACK and are not passed up', () => {
    const inv = request('INVITE');
    const busy = response(inv, 486, 'Busy Here');
    const first = stepClientInvite(startClientInvite(inv, udp).tx, { kind: 'response', msg: busy });
    const ack = (first.actions.find((a) => a.kind === 'send') as { msg: unknown }).msg;
    const r = stepClientInvite(first.tx, { kind: 'response', msg: busy });
    assert.deepEqual(r.actions, [{ kind: 'send', msg: ack }]);
    assert.equal(r.tx.state, 'completed');
  });

  test('§17.1.1.2 Timer D in Completed: Terminated', () => {
    const inv = request('INVITE');
    const r = run(startClientInvite(inv, udp).tx, { kind: 'response', msg: response(inv, 603, 'Decline') }, { kind: 'timer', name: 'D' });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions, [{ kind: 'terminated', reason: 'normal' }]);
  });

  test('§17.1.1.2 Timer D is zero for reliable transports: the ACK goes out and the transaction ends at once', () => {
    const inv = request('INVITE');
    const r = stepClientInvite(startClientInvite(inv, tcp).tx, { kind: 'response', msg: response(inv, 486) });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(kinds(r.actions), ['cancelTimer:A', 'cancelTimer:B', 'send', 'passUp', 'terminated']);
  });

  test('§17.1.4 a transport error while sending the ACK in Completed: Terminated, TU informed', () => {
    const inv = request('INVITE');
    const r = run(startClientInvite(inv, udp).tx, { kind: 'response', msg: response(inv, 486) }, { kind: 'transportError' });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions.at(-1), { kind: 'terminated', reason: 'transportError' });
  });
});

describe('RFC 6026 §8.4 INVITE client transaction: Accepted', () => {
  test('RFC 6026 §8.4 a 2xx in Calling: Accepted, passed up, Timer M; A and B stopped', () => {
    const inv = request('INVITE');
    const ok = response(inv, 200, 'OK');
    const r = stepClientInvite(startClientInvite(inv, udp).tx, { kind: 'response', msg: ok });
    assert.equal(r.tx.state, 'accepted');
    assert.deepEqual(r.actions, [
      { kind: 'cancelTimer', name: 'A' },
      { kind: 'cancelTimer', name: 'B' },
      { kind: 'passUp', msg: ok },
      { kind: 'startTimer', name: 'M', ms: 32000 },
    ]);
  });

  test('RFC 6026 §8.4 further 2xx (retransmitted or forked) in Accepted are passed up, never ACKed by the transaction', () => {
    const inv = request('INVITE');
    const ok1 = response(inv, 200, 'OK', 'fork1');
    const ok2 = response(inv, 200, 'OK', 'fork2');
    const r = run(startClientInvite(inv, udp).tx, { kind: 'response', msg: ok1 }, { kind: 'response', msg: ok2 });
    assert.equal(r.tx.state, 'accepted');
    assert.deepEqual(r.actions, [{ kind: 'passUp', msg: ok2 }]);
  });

  test('RFC 6026 §8.4 non-2xx responses and Timer A in Accepted are ignored', () => {
    const inv = request('INVITE');
    const r1 = run(startClientInvite(inv, udp).tx, { kind: 'response', msg: response(inv, 200) }, { kind: 'response', msg: response(inv, 486) });
    assert.deepEqual(r1.actions, []);
    assert.deepEqual(stepClientInvite(r1.tx, timerA).actions, []);
    assert.deepEqual(stepClientInvite(r1.tx, { kind: 'response', msg: response(inv, 180) }).actions, []);
  });

  test('RFC 6026 §8.4 Timer M in Accepted: Terminated', () => {
    const inv = request('INVITE');
    const r = run(startClientInvite(inv, udp).tx, { kind: 'response', msg: response(inv, 200) }, { kind: 'timer', name: 'M' });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions, [{ kind: 'terminated', reason: 'normal' }]);
  });

  test('§17.1.1.2 a Terminated transaction ignores everything', () => {
    const inv = request('INVITE');
    const r = run(startClientInvite(inv, udp).tx, { kind: 'timer', name: 'B' });
    for (const e of [{ kind: 'response', msg: response(inv, 200) }, timerA, { kind: 'transportError' }] as ClientTxEvent[]) {
      const s = stepClientInvite(r.tx, e);
      assert.equal(s.tx.state, 'terminated');
      assert.deepEqual(s.actions, []);
    }
  });
});
