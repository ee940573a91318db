import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startClientNonInvite, stepClientNonInvite, type ClientNonInviteTx } from '../../../src/sip/transaction/client-non-invite.js';
import { timerConfig } from '../../../src/sip/transaction/timers.js';
import type { ClientTxEvent, TxAction } from '../../../src/sip/transaction/types.js';
import { request, response } from './fixtures.js';

const timers = timerConfig();
const udp = { reliable: false, timers };
const tcp = { reliable: true, timers };
const E = { kind: 'timer', name: 'E' } as const;
const F = { kind: 'timer', name: 'F' } as const;

function run(tx: ClientNonInviteTx, ...events: ClientTxEvent[]) {
  let actions: TxAction[] = [];
  for (const e of events) ({ tx, actions } = stepClientNonInvite(tx, e));
  return { tx, actions };
}
const kinds = (a: TxAction[]) => a.map((x) => (x.kind === 'startTimer' || x.kind === 'cancelTimer' ? `${x.kind}:${x.name}` : x.kind));
function eIntervals(tx: ClientNonInviteTx, n: number): { tx: ClientNonInviteTx; ms: number[] } {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = stepClientNonInvite(tx, E);
    tx = r.tx;
    assert.equal(r.actions[0].kind, 'send');
    const st = r.actions[1];
    assert.ok(st.kind === 'startTimer' && st.name === 'E');
    ms.push(st.ms);
  }
  return { tx, ms };
}

describe('RFC 3261 §17.1.2.2 non-INVITE client transaction: Trying', () => {
  test('§17.1.2.2 entering Trying sends the request, starts Timer E = T1 and Timer F = 64*T1', () => {
    const reg = request('REGISTER');
    const { tx, actions } = startClientNonInvite(reg, udp);
    assert.equal(tx.state, 'trying');
    assert.deepEqual(actions, [
      { kind: 'send', msg: reg },
      { kind: 'startTimer', name: 'E', ms: 500 },
      { kind: 'startTimer', name: 'F', ms: 32000 },
    ]);
  });

  test('§17.1.2.2 a reliable transport does not start Timer E', () => {
    assert.deepEqual(kinds(startClientNonInvite(request('OPTIONS'), tcp).actions), ['send', 'startTimer:F']);
  });

  test('§17.1.2.2 Timer E in Trying: retransmit, interval MIN(2^n*T1, T2)', () => {
    const { ms, tx } = eIntervals(startClientNonInvite(request('REGISTER'), udp).tx, 6);
    assert.deepEqual(ms, [1000, 2000, 4000, 4000, 4000, 4000]);
    assert.equal(tx.state, 'trying');
  });

  test('§17.1.2.2 T2 is configurable and caps Timer E', () => {
    const { ms } = eIntervals(startClientNonInvite(request('REGISTER'), { reliable: false, timers: timerConfig({ t1: 100, t2: 300 }) }).tx, 4);
    assert.deepEqual(ms, [200, 300, 300, 300]);
  });

  test('§17.1.2.2 Timer F in Trying: Terminated, TU told of the timeout', () => {
    const r = run(startClientNonInvite(request('REGISTER'), udp).tx, F);
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions.at(-1), { kind: 'terminated', reason: 'timeout' });
  });

  test('§17.1.4 a transport error in Trying: Terminated, TU informed', () => {
    const r = run(startClientNonInvite(request('REGISTER'), udp).tx, { kind: 'transportError' });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions.at(-1), { kind: 'terminated', reason: 'transportError' });
  });

  test('§17.1.2.2 a 1xx in Trying: Proceeding, passed up', () => {
    const reg = request('REGISTER');
    const trying = response(reg, 100, 'Trying');
    const r = run(startClientNonInvite(reg, udp).tx, { kind: 'response', msg: trying });
    assert.equal(r.tx.state, 'proceeding');
    assert.deepEqual(r.actions, [{ kind: 'passUp', msg: trying }]);
  });

  test('§17.1.2.2 a final response in Trying: passed up, Completed, Timer K = T4; E and F stopped', () => {
    const reg = request('REGISTER');
    const ok = response(reg, 401, 'Unauthorized');
    const r = run(startClientNonInvite(reg, udp).tx, { kind: 'response', msg: ok });
    assert.equal(r.tx.state, 'completed');
    assert.deepEqual(r.actions, [
      { kind: 'cancelTimer', name: 'E' },
      { kind: 'cancelTimer', name: 'F' },
      { kind: 'passUp', msg: ok },
      { kind: 'startTimer', name: 'K', ms: 5000 },
    ]);
  });
});

describe('RFC 3261 §17.1.2.2 non-INVITE client transaction: Proceeding', () => {
  const proceeding = () => {
    const reg = request('REGISTER');
    return { reg, tx: run(startClientNonInvite(reg, udp).tx, { kind: 'response', msg: response(reg, 100) }).tx };
  };

  test('§17.1.2.2 Timer E in Proceeding: retransmit and reset E to T2', () => {
    const { ms } = eIntervals(proceeding().tx, 3);
    assert.deepEqual(ms, [4000, 4000, 4000]);
  });

  test('§17.1.2.2 further 1xx in Proceeding are passed up', () => {
    const { reg, tx } = proceeding();
    const r = run(tx, { kind: 'response', msg: response(reg, 180) });
    assert.equal(r.tx.state, 'proceeding');
    assert.equal(r.actions[0].kind, 'passUp');
  });

  test('§17.1.2.2 Timer F in Proceeding: Terminated with a timeout', () => {
    const r = run(proceeding().tx, F);
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions.at(-1), { kind: 'terminated', reason: 'timeout' });
  });

  test('§17.1.4 a transport error in Proceeding: Terminated, TU informed', () => {
    const r = run(proceeding().tx, { kind: 'transportError' });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions.at(-1), { kind: 'terminated', reason: 'transportError' });
  });

  test('§17.1.2.2 a final response in Proceeding: Completed', () => {
    const { reg, tx } = proceeding();
    const r = run(tx, { kind: 'response', msg: response(reg, 200) });
    assert.equal(r.tx.state, 'completed');
    assert.deepEqual(kinds(r.actions), ['cancelTimer:E', 'cancelTimer:F', 'passUp', 'startTimer:K']);
  });
});

describe('RFC 3261 §17.1.2.2 non-INVITE client transaction: Completed', () => {
  test('§17.1.2.2 retransmitted final responses in Completed are absorbed', () => {
    const reg = request('REGISTER');
    const ok = response(reg, 200);
    const r = run(startClientNonInvite(reg, udp).tx, { kind: 'response', msg: ok }, { kind: 'response', msg: ok });
    assert.equal(r.tx.state, 'completed');
    assert.deepEqual(r.actions, []);
    assert.deepEqual(stepClientNonInvite(r.tx, E).actions, [], 'no retransmission in Completed');
  });

  test('§17.1.2.2 Timer K in Completed: Terminated', () => {
    const reg = request('REGISTER');
    const r = run(startClientNonInvite(reg, udp).tx, { kind: 'response', msg: response(reg, 200) }, { kind: 'timer', name: 'K' });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(r.actions, [{ kind: 'terminated', reason: 'normal' }]);
  });

  test('§17.1.2.2 Timer K is zero for reliable transports: Terminated at once', () => {
    const reg = request('REGISTER');
    const r = run(startClientNonInvite(reg, tcp).tx, { kind: 'response', msg: response(reg, 200) });
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(kinds(r.actions), ['cancelTimer:E', 'cancelTimer:F', 'passUp', 'terminated']);
  });
});
