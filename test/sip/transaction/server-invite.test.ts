import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServerInvite, stepServerInvite, type ServerInviteTx } from '../../../src/sip/transaction/server-invite.js';
import { timerConfig } from '../../../src/sip/transaction/timers.js';
import type { ServerTxEvent, TxAction } from '../../../src/sip/transaction/types.js';
import { request, response } from './fixtures.js';

const timers = timerConfig();
const udp = { reliable: false, timers };
const tcp = { reliable: true, timers };

function run(tx: ServerInviteTx, ...events: ServerTxEvent[]) {
  let actions: TxAction[] = [];
  for (const e of events) ({ tx, actions } = stepServerInvite(tx, e));
  return { tx, actions };
}
const kinds = (a: TxAction[]) => a.map((x) => (x.kind === 'startTimer' || x.kind === 'cancelTimer' ? `${x.kind}:${x.name}` : x.kind));
const inv = request('INVITE');
const ack = request('ACK', { cseqMethod: 'ACK', toTag: 'a6c85cf' });
const again = { kind: 'request', msg: inv } as const;
const tu = (status: number) => ({ kind: 'tuResponse', msg: response(inv, status) }) as const;

describe('RFC 3261 §17.2.1 INVITE server transaction: Proceeding', () => {
  test('§17.2.1 a new INVITE enters Proceeding and is passed to the TU', () => {
    const { tx, actions } = startServerInvite(inv, udp);
    assert.equal(tx.state, 'proceeding');
    assert.deepEqual(actions, [{ kind: 'passUp', msg: inv }]);
  });

  test('§17.2.1 provisional responses from the TU are sent and keep the state', () => {
    const trying = response(inv, 100, 'Trying');
    const r = run(startServerInvite(inv, udp).tx, { kind: 'tuResponse', msg: trying });
    assert.equal(r.tx.state, 'proceeding');
    assert.deepEqual(r.actions, [{ kind: 'send', msg: trying }]);
  });

  test('§17.2.1 a retransmitted INVITE in Proceeding gets the most recent provisional response', () => {
    const ringing = response(inv, 180, 'Ringing');
    const r = run(startServerInvite(inv, udp).tx, tu(100), { kind: 'tuResponse', msg: ringing }, again);
    assert.deepEqual(r.actions, [{ kind: 'send', msg: ringing }]);
    assert.deepEqual(run(startServerInvite(inv, udp).tx, again).actions, [], 'nothing to resend before any response');
  });

  test('RFC 6026 Figure 7: a transport error in Proceeding informs the TU and keeps the state', () => {
    const r = run(startServerInvite(inv, udp).tx, tu(180), { kind: 'transportError' });
    assert.equal(r.tx.state, 'proceeding');
    assert.deepEqual(r.actions, [{ kind: 'informTu', reason: 'transportError' }]);
  });

  test('§17.2.1 a 300-699 from the TU: sent, Completed, Timer G = T1 and Timer H = 64*T1', () => {
    const busy = response(inv, 486, 'Busy Here');
    const r = run(startServerInvite(inv, udp).tx, { kind: 'tuResponse', msg: busy });
    assert.equal(r.tx.state, 'completed');
    assert.deepEqual(r.actions, [
      { kind: 'send', msg: busy },
      { kind: 'startTimer', name: 'G', ms: 500 },
      { kind: 'startTimer', name: 'H', ms: 32000 },
    ]);
  });

  test('§17.2.1 a reliable transport does not start Timer G', () => {
    assert.deepEqual(kinds(run(startServerInvite(inv, tcp).tx, tu(486)).actions), ['send', 'startTimer:H']);
  });

  test('RFC 6026 §7.1 a 2xx from the TU: sent, Accepted, Timer L = 64*T1', () => {
    const ok = response(inv, 200, 'OK');
    const r = run(startServerInvite(inv, udp).tx, { kind: 'tuResponse', msg: ok });
    assert.equal(r.tx.state, 'accepted');
    assert.deepEqual(r.actions, [
      { kind: 'send', msg: ok },
      { kind: 'startTimer', name: 'L', ms: 32000 },
    ]);
  });
});

describe('RFC 3261 §17.2.1 INVITE server transaction: Completed and Confirmed', () => {
  const completed = () => run(startServerInvite(inv, udp).tx, tu(486)).tx;

  test('§17.2.1 Timer G retransmits the final response with intervals MIN(2^n*T1, T2)', () => {
    let tx = completed();
    const ms: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = stepServerInvite(tx, { kind: 'timer', name: 'G' });
      tx = r.tx;
      assert.equal(r.actions[0].kind, 'send');
      assert.equal((r.actions[0] as { msg: { status: number } }).msg.status, 486);
      const st = r.actions[1];
      assert.ok(st.kind === 'startTimer' && st.name === 'G');
      ms.push(st.ms);
    }
    assert.deepEqual(ms, [1000, 2000, 4000, 4000, 4000]);
  });

  test('§17.2.1 a retransmitted INVITE in Completed gets the final response again', () => {
    const r = run(completed(), again);
    assert.equal(r.tx.state, 'completed');
    assert.equal(r.actions.length, 1);
    assert.equal((r.actions[0] as { msg: { status: number } }).msg.status, 486);
  });

  test('§17.2.1 Timer H in Completed: Terminated, the TU told the ACK never came', () => {
    const r = run(completed(), { kind: 'timer', name: 'H' });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions.at(-1), { kind: 'terminated', reason: 'timeout' });
  });

  test('RFC 6026 Figure 7: a transport error in Completed informs the TU; Timer H still ends it', () => {
    const r = run(completed(), { kind: 'transportError' });
    assert.equal(r.tx.state, 'completed');
    assert.deepEqual(r.actions, [{ kind: 'informTu', reason: 'transportError' }]);
  });

  test('§17.2.1 the ACK in Completed: Confirmed, Timer I = T4, G and H stopped, ACK not passed up', () => {
    const r = run(completed(), { kind: 'request', msg: ack });
    assert.equal(r.tx.state, 'confirmed');
    assert.deepEqual(r.actions, [
      { kind: 'cancelTimer', name: 'G' },
      { kind: 'cancelTimer', name: 'H' },
      { kind: 'startTimer', name: 'I', ms: 5000 },
    ]);
  });

  test('§17.2.1 ACK retransmissions in Confirmed are absorbed; Timer I: Terminated', () => {
    const confirmed = run(completed(), { kind: 'request', msg: ack }).tx;
    assert.deepEqual(run(confirmed, { kind: 'request', msg: ack }).actions, []);
    assert.deepEqual(run(confirmed, again).actions, []);
    const r = run(confirmed, { kind: 'timer', name: 'I' });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions, [{ kind: 'terminated', reason: 'normal' }]);
  });

  test('§17.2.1 Timer I is zero for reliable transports: the ACK ends the transaction', () => {
    const tx = run(startServerInvite(inv, tcp).tx, tu(486)).tx;
    const r = run(tx, { kind: 'request', msg: ack });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions.at(-1), { kind: 'terminated', reason: 'normal' });
  });

  test('§17.2.1 responses from the TU after the final one are not sent', () => {
    assert.deepEqual(run(completed(), tu(200)).actions, []);
  });
});

describe('RFC 6026 §7.1 INVITE server transaction: Accepted', () => {
  const accepted = () => run(startServerInvite(inv, udp).tx, tu(200)).tx;

  test('RFC 6026 §7.1 retransmitted INVITEs in Accepted are absorbed: not resent, not passed to the TU', () => {
    const r = run(accepted(), again);
    assert.equal(r.tx.state, 'accepted');
    assert.deepEqual(r.actions, []);
  });

  test('RFC 6026 §7.1 an ACK in Accepted is passed to the TU (it acknowledges the 2xx)', () => {
    const ack2xx = request('ACK', { cseqMethod: 'ACK', toTag: 'a6c85cf' });
    const r = run(accepted(), { kind: 'request', msg: ack2xx });
    assert.equal(r.tx.state, 'accepted');
    assert.deepEqual(r.actions, [{ kind: 'passUp', msg: ack2xx }]);
  });

  test('RFC 6026 §7.1 2xx retransmissions from the TU in Accepted are sent; other responses are not', () => {
    const ok = response(inv, 200, 'OK');
    assert.deepEqual(run(accepted(), { kind: 'tuResponse', msg: ok }).actions, [{ kind: 'send', msg: ok }]);
    assert.deepEqual(run(accepted(), tu(486)).actions, []);
    assert.deepEqual(run(accepted(), tu(180)).actions, []);
  });

  test('RFC 6026 Figure 7: a transport error in Accepted informs the TU and keeps the state', () => {
    const r = run(accepted(), { kind: 'transportError' });
    assert.equal(r.tx.state, 'accepted');
    assert.deepEqual(r.actions, [{ kind: 'informTu', reason: 'transportError' }]);
  });

  test('RFC 6026 §8.7 Timer L in Accepted: Terminated', () => {
    const r = run(accepted(), { kind: 'timer', name: 'L' });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions, [{ kind: 'terminated', reason: 'normal' }]);
  });
});
