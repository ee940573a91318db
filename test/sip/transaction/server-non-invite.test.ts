import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServerNonInvite, stepServerNonInvite, type ServerNonInviteTx } from '../../../src/sip/transaction/server-non-invite.js';
import { timerConfig } from '../../../src/sip/transaction/timers.js';
import type { ServerTxEvent, TxAction } from '../../../src/sip/transaction/types.js';
import { request, response } from './fixtures.js';

const timers = timerConfig();
const udp = { reliable: false, timers };
const tcp = { reliable: true, timers };

function run(tx: ServerNonInviteTx, ...events: ServerTxEvent[]) {
  let actions: TxAction[] = [];
  for (const e of events) ({ tx, actions } = stepServerNonInvite(tx, e));
  return { tx, actions };
}
const reg = request('REGISTER');
const again = { kind: 'request', msg: reg } as const;
const tu = (status: number) => ({ kind: 'tuResponse', msg: response(reg, status) }) as const;
const statusOf = (a: TxAction) => (a as { msg: { status: number } }).msg.status;

describe('RFC 3261 §17.2.2 non-INVITE server transaction', () => {
  test('§17.2.2 a new request enters Trying and is passed to the TU', () => {
    const { tx, actions } = startServerNonInvite(reg, udp);
    assert.equal(tx.state, 'trying');
    assert.deepEqual(actions, [{ kind: 'passUp', msg: reg }]);
  });

  test('§17.2.2 retransmissions in Trying are discarded', () => {
    const r = run(startServerNonInvite(reg, udp).tx, again);
    assert.equal(r.tx.state, 'trying');
    assert.deepEqual(r.actions, []);
  });

  test('§17.2.2 a 1xx from the TU in Trying: sent, Proceeding', () => {
    const r = run(startServerNonInvite(reg, udp).tx, tu(100));
    assert.equal(r.tx.state, 'proceeding');
    assert.equal(r.actions.length, 1);
    assert.equal(statusOf(r.actions[0]), 100);
  });

  test('§17.2.2 in Proceeding: further 1xx are sent; a retransmission gets the latest 1xx', () => {
    const p = run(startServerNonInvite(reg, udp).tx, tu(100), tu(183));
    assert.equal(p.tx.state, 'proceeding');
    assert.equal(statusOf(p.actions[0]), 183);
    const r = run(p.tx, again);
    assert.equal(r.actions.length, 1);
    assert.equal(statusOf(r.actions[0]), 183);
  });

  test('§17.2.4 a transport error in Proceeding: Terminated, TU informed', () => {
    const r = run(startServerNonInvite(reg, udp).tx, tu(100), { kind: 'transportError' });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions.at(-1), { kind: 'terminated', reason: 'transportError' });
  });

  test('§17.2.2 a final response from the TU in Trying: sent, Completed, Timer J = 64*T1', () => {
    const r = run(startServerNonInvite(reg, udp).tx, tu(200));
    assert.equal(r.tx.state, 'completed');
    assert.equal(statusOf(r.actions[0]), 200);
    assert.deepEqual(r.actions[1], { kind: 'startTimer', name: 'J', ms: 32000 });
  });

  test('§17.2.2 a final response from the TU in Proceeding: Completed', () => {
    const r = run(startServerNonInvite(reg, udp).tx, tu(100), tu(401));
    assert.equal(r.tx.state, 'completed');
    assert.equal(statusOf(r.actions[0]), 401);
  });

  test('§17.2.2 in Completed: a retransmission gets the final response again; later TU responses are discarded', () => {
    const c = run(startServerNonInvite(reg, udp).tx, tu(401)).tx;
    const r = run(c, again);
    assert.equal(r.actions.length, 1);
    assert.equal(statusOf(r.actions[0]), 401);
    assert.deepEqual(run(c, tu(200)).actions, []);
  });

  test('§17.2.4 a transport error in Completed: Terminated, TU informed', () => {
    const r = run(startServerNonInvite(reg, udp).tx, tu(200), { kind: 'transportError' });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions.at(-1), { kind: 'terminated', reason: 'transportError' });
  });

  test('§17.2.2 Timer J in Completed: Terminated', () => {
    const r = run(startServerNonInvite(reg, udp).tx, tu(200), { kind: 'timer', name: 'J' });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions, [{ kind: 'terminated', reason: 'normal' }]);
  });

  test('§17.2.2 Timer J is zero for reliable transports: Terminated at once', () => {
    const r = run(startServerNonInvite(reg, tcp).tx, tu(200));
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions.map((a) => a.kind), ['send', 'terminated']);
  });

  test('§17.2.2 T1 is configurable: Timer J follows 64*T1', () => {
    const r = run(startServerNonInvite(reg, { reliable: false, timers: timerConfig({ t1: 50 }) }).tx, tu(200));
    assert.deepEqual(r.actions[1], { kind: 'startTimer', name: 'J', ms: 3200 });
  });
});
