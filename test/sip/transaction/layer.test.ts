import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/index.js';
import { createResponse, type SipMessage } from '../../../src/sip/message/index.js';
import { TransactionLayer } from '../../../src/sip/transaction/layer.js';
import { channel, request, response } from './fixtures.js';

const tick = () => new Promise<void>((r) => setImmediate(r));
const label = (m: SipMessage) => (m.kind === 'request' ? m.method : String(m.status));

describe('RFC 3261 §17.1 client transactions driven by an injected clock', () => {
  test('§17.1.2.2 Timer E retransmits at T1, 2T1, 4T1, T2... and Timer F times out at 64*T1 (manual clock, no real time)', () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const ch = channel();
    const ends: string[] = [];
    layer.sendRequest(request('OPTIONS'), ch, { onResponse: () => assert.fail('no response expected'), onTerminated: (r) => ends.push(r) });
    const sendTimes: number[] = [];
    let count = ch.sent.length;
    sendTimes.push(clock.now());
    for (let t = 0; t < 32000; t += 100) {
      clock.advance(100);
      if (ch.sent.length !== count) {
        count = ch.sent.length;
        sendTimes.push(clock.now());
      }
    }
    // 0, 500, 1500, 3500, 7500, then every 4000 ms (T2) until Timer F fires at 32000.
    assert.deepEqual(sendTimes, [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    assert.deepEqual(ends, ['timeout']);
    assert.deepEqual(layer.size, { clients: 0, servers: 0 });
    assert.equal(clock.timers, 0, 'no timer left behind');
  });

  test('§17.1.1.2 Timer A retransmits the INVITE at T1, 3T1, 7T1... (T1 = 100 ms configured) and Timer B ends it at 64*T1', () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock, timers: { t1: 100 } });
    const ch = channel();
    let ended = '';
    layer.sendRequest(request('INVITE'), ch, { onResponse: () => {}, onTerminated: (r) => (ended = r) });
    clock.advance(100 + 200 + 400 + 800 + 1600 + 3200);
    assert.equal(ch.sent.length, 7, 'first send and six retransmissions');
    clock.advance(6400 - 6300);
    assert.equal(ended, 'timeout');
    assert.equal(clock.timers, 0);
  });

  test('§17.1.3 a response matches by top-Via branch and CSeq method; others are not consumed', () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const inv = request('INVITE', { branch: 'z9hG4bKinv1' });
    const got: number[] = [];
    layer.sendRequest(inv, channel(), { onResponse: (r) => got.push(r.status) });
    const otherBranch = response(request('INVITE', { branch: 'z9hG4bKother' }), 180);
    const cancelResp = response(request('CANCEL', { branch: 'z9hG4bKinv1' }), 200);
    assert.equal(layer.receiveResponse(otherBranch), false);
    assert.equal(layer.receiveResponse(cancelResp), false, 'same branch, CSeq method CANCEL: not the INVITE transaction');
    assert.equal(layer.receiveResponse(response(inv, 180)), true);
    assert.deepEqual(got, [180]);
  });

  test('§17.1.1.3 the layer sends the ACK for a non-2xx on the INVITE transaction\'s channel and absorbs the retransmitted final', () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const ch = channel();
    const inv = request('INVITE');
    const got: number[] = [];
    layer.sendRequest(inv, ch, { onResponse: (r) => got.push(r.status) });
    const busy = response(inv, 486, 'Busy Here');
    layer.receiveResponse(busy);
    layer.receiveResponse(busy);
    assert.deepEqual(ch.sent.map(label), ['INVITE', 'ACK', 'ACK']);
    assert.deepEqual(got, [486], 'the retransmission is not passed up');
    clock.advance(32000);
    assert.deepEqual(layer.size, { clients: 0, servers: 0 }, 'Timer D ended it');
  });

  test('§17.1.2.2 a non-INVITE over UDP ends for its TU as it enters "Completed"; until Timer K (T4) its key alone absorbs retransmitted finals, then a response is stray', () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const ch = channel();
    const reg = request('REGISTER', { branch: 'z9hG4bKk1' });
    const got: number[] = [];
    const ends: string[] = [];
    const tx = layer.sendRequest(reg, ch, { onResponse: (r) => got.push(r.status), onTerminated: (r) => ends.push(`${r}@${clock.now()}`) });
    clock.advance(100);
    assert.equal(layer.receiveResponse(response(reg, 200, 'OK')), true);
    assert.deepEqual(got, [200]);
    assert.deepEqual(ends, ['normal@100'], 'told as the final response is passed up: nothing more reaches the TU');
    assert.equal(tx.state, 'completed');
    assert.equal(clock.timers, 1, 'Timer K alone');
    assert.throws(() => layer.sendRequest(request('REGISTER', { branch: 'z9hG4bKk1' }), channel(), { onResponse: () => {} }), { code: 'INVALID_ARGUMENT' }, 'the key is still taken');
    clock.advance(4999);
    assert.equal(layer.receiveResponse(response(reg, 200, 'OK')), true, 'a retransmission is absorbed');
    assert.equal(layer.receiveResponse(response(reg, 404, 'Not Found')), true, 'any final is');
    assert.deepEqual(got, [200], 'and not passed up');
    assert.deepEqual(layer.size, { clients: 1, servers: 0 });
    assert.deepEqual(ch.sent.map(label), ['REGISTER'], 'no retransmission of the request after the final (Timer E cancelled)');
    clock.advance(1);
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(layer.size, { clients: 0, servers: 0 });
    assert.equal(layer.receiveResponse(response(reg, 200, 'OK')), false, 'after Timer K the response is stray');
    assert.deepEqual(ends, ['normal@100'], 'told once');
    assert.equal(clock.timers, 0);
  });

  test('§17.1.2.2 over a reliable transport Timer K is 0: the final response ends the transaction at once', () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const reg = request('REGISTER', { branch: 'z9hG4bKk2' });
    const ends: string[] = [];
    const tx = layer.sendRequest(reg, channel(true), { onResponse: () => {}, onTerminated: (r) => ends.push(r) });
    layer.receiveResponse(response(reg, 200, 'OK'));
    assert.deepEqual(ends, ['normal']);
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(layer.size, { clients: 0, servers: 0 });
    assert.equal(layer.receiveResponse(response(reg, 200, 'OK')), false);
  });

  test('§17.1.4 a send failure is a transport error: the TU is told and the transaction is gone', async () => {
    const layer = new TransactionLayer({ clock: new ManualClock() });
    const ch = channel();
    ch.fail();
    const ended = new Promise<string>((resolve) => layer.sendRequest(request('REGISTER'), ch, { onResponse: () => {}, onTerminated: resolve }));
    assert.equal(await ended, 'transportError');
    assert.deepEqual(layer.size, { clients: 0, servers: 0 });
  });

  test('§17.1 an ACK never starts a client transaction; a duplicate branch+method is refused', () => {
    const layer = new TransactionLayer({ clock: new ManualClock() });
    assert.throws(() => layer.sendRequest(request('ACK'), channel(), { onResponse: () => {} }), { code: 'INVALID_ARGUMENT' });
    layer.sendRequest(request('OPTIONS', { branch: 'z9hG4bKdup' }), channel(), { onResponse: () => {} });
    assert.throws(() => layer.sendRequest(request('OPTIONS', { branch: 'z9hG4bKdup' }), channel(), { onResponse: () => {} }), { code: 'INVALID_ARGUMENT' });
  });
});

describe('RFC 3261 §17.2 server transactions and §17.2.3 matching', () => {
  const trying = (inv: Parameters<typeof createResponse>[0]) => createResponse(inv, 100, 'Trying');

  test('§17.2.1 a new INVITE gets a 100 (Trying) at once and is handed to the TU', () => {
    const layer = new TransactionLayer({ clock: new ManualClock(), trying });
    const ch = channel();
    const r = layer.receiveRequest(request('INVITE'), ch);
    assert.equal(r.kind, 'new');
    assert.deepEqual(ch.sent.map(label), ['100']);
  });

  test('§17.2.3 a retransmission (same branch, sent-by, method) is absorbed and answered with the last response', () => {
    const layer = new TransactionLayer({ clock: new ManualClock() });
    const ch = channel();
    const reg = request('REGISTER');
    const r = layer.receiveRequest(reg, ch);
    assert.equal(r.kind, 'new');
    if (r.kind !== 'new') return;
    r.tx.respond(response(reg, 401, 'Unauthorized'));
    const again = layer.receiveRequest(request('REGISTER'), channel());
    assert.equal(again.kind, 'absorbed');
    assert.deepEqual(ch.sent.map(label), ['401', '401']);
  });

  test('§17.2.3 a different sent-by or method is a different transaction', () => {
    const layer = new TransactionLayer({ clock: new ManualClock() });
    assert.equal(layer.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKsame' }), channel()).kind, 'new');
    assert.equal(layer.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKsame', sentBy: 'other.example.com' }), channel()).kind, 'new');
    assert.equal(layer.receiveRequest(request('CANCEL', { branch: 'z9hG4bKsame' }), channel()).kind, 'new');
    assert.equal(layer.size.servers, 3);
  });

  test('§17.2.3 the ACK of a non-2xx matches the INVITE transaction and moves it to Confirmed; Timer I then ends it', () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const ch = channel();
    const inv = request('INVITE');
    const r = layer.receiveRequest(inv, ch);
    assert.ok(r.kind === 'new');
    r.tx.respond(response(inv, 486, 'Busy Here'));
    clock.advance(500);
    assert.deepEqual(ch.sent.map(label), ['486', '486'], 'Timer G retransmission');
    const ack = layer.receiveRequest(request('ACK', { cseqMethod: 'ACK', toTag: 'a6c85cf' }), ch);
    assert.equal(ack.kind, 'absorbed');
    assert.equal(r.tx.state, 'confirmed');
    clock.advance(5000);
    assert.equal(r.tx.state, 'terminated');
    assert.deepEqual(layer.size, { clients: 0, servers: 0 });
    assert.equal(clock.timers, 0);
  });

  test('RFC 6026 §7.1 after a 2xx: INVITE retransmissions are absorbed, the ACK goes to the TU, Timer L ends it', () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock, trying });
    const ch = channel();
    const inv = request('INVITE');
    const r = layer.receiveRequest(inv, ch);
    assert.ok(r.kind === 'new');
    r.tx.respond(response(inv, 200, 'OK'));
    assert.equal(layer.receiveRequest(request('INVITE'), ch).kind, 'absorbed');
    assert.deepEqual(ch.sent.map(label), ['100', '200'], 'no resend of the 2xx by the transaction');
    const ack = layer.receiveRequest(request('ACK', { cseqMethod: 'ACK', toTag: 'a6c85cf' }), ch);
    assert.equal(ack.kind, 'ack');
    assert.equal(ack.kind === 'ack' && ack.tx, r.tx);
    clock.advance(32000);
    assert.equal(r.tx.state, 'terminated');
    assert.equal(layer.receiveRequest(request('ACK', { cseqMethod: 'ACK', toTag: 'a6c85cf' }), ch).kind, 'ack', 'a late ACK still reaches the TU');
  });

  test('§17.2.1 Timer H: no ACK after a non-2xx ends the transaction and tells the TU', () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const inv = request('INVITE');
    const r = layer.receiveRequest(inv, channel());
    assert.ok(r.kind === 'new');
    let end = '';
    r.tx.onEnd = (why) => (end = why);
    r.tx.respond(response(inv, 603, 'Decline'));
    clock.advance(31999);
    assert.equal(end, '');
    clock.advance(1);
    assert.equal(end, 'timeout');
  });

  test('§17.2.2 Timer J keeps a non-INVITE transaction to absorb retransmissions, for 64*T1 on UDP and 0 on TCP', () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const udp = layer.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKu' }), channel(false));
    const tcp = layer.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKt' }), channel(true));
    assert.ok(udp.kind === 'new' && tcp.kind === 'new');
    udp.tx.respond(createResponse(udp.tx.request, 200));
    tcp.tx.respond(createResponse(tcp.tx.request, 200));
    assert.equal(tcp.tx.state, 'terminated');
    assert.equal(udp.tx.state, 'completed');
    clock.advance(32000);
    assert.equal(udp.tx.state, 'terminated');
  });

  test('§17.2.3 RFC 2543 requests (no magic cookie) match on Request-URI, From tag, Call-ID, CSeq and top Via', () => {
    const layer = new TransactionLayer({ clock: new ManualClock() });
    const ch = channel();
    const inv = request('INVITE', { branch: 'oldstyle1' });
    const r = layer.receiveRequest(inv, ch);
    assert.ok(r.kind === 'new');
    r.tx.respond(response(inv, 404, 'Not Found'));
    assert.equal(layer.receiveRequest(request('INVITE', { branch: 'oldstyle1' }), ch).kind, 'absorbed');
    assert.equal(layer.receiveRequest(request('ACK', { branch: 'oldstyle1', cseqMethod: 'ACK', toTag: 'a6c85cf' }), ch).kind, 'absorbed');
    assert.equal(r.tx.state, 'confirmed');
    assert.equal(layer.receiveRequest(request('INVITE', { branch: 'oldstyle1', cseq: 2 }), ch).kind, 'new', 'another CSeq is another transaction');
  });

  test('§9.2 findInviteFor: a CANCEL finds the INVITE server transaction it refers to', () => {
    const layer = new TransactionLayer({ clock: new ManualClock() });
    const r = layer.receiveRequest(request('INVITE', { branch: 'z9hG4bKc1' }), channel());
    assert.ok(r.kind === 'new');
    assert.equal(layer.findInviteFor(request('CANCEL', { branch: 'z9hG4bKc1' })), r.tx);
    assert.equal(layer.findInviteFor(request('CANCEL', { branch: 'z9hG4bKc2' })), undefined);
  });

  test('§9.2 hasNonInviteFor: a CANCEL matches a non-INVITE server transaction by its key and origin, any method but CANCEL and ACK, until Timer J', () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const ue = { ...channel(), origin: 'udp|10.0.0.2:5100|10.0.0.1:5101' };
    const cancel = (branch: string) => request('CANCEL', { branch, cseqMethod: 'CANCEL' });
    const r = layer.receiveRequest(request('MESSAGE', { branch: 'z9hG4bKm1' }), ue);
    assert.ok(r.kind === 'new');
    assert.equal(layer.hasNonInviteFor(cancel('z9hG4bKm1'), ue.origin), true, 'the MESSAGE, still "Trying"');
    assert.equal(layer.hasNonInviteFor(cancel('z9hG4bKm2'), ue.origin), false, 'another branch');
    assert.equal(layer.hasNonInviteFor(cancel('z9hG4bKm1'), 'udp|10.0.0.66:5060|10.0.0.1:5060'), false, 'another origin');
    assert.equal(layer.findInviteFor(cancel('z9hG4bKm1'), ue.origin), undefined, 'not an INVITE');
    r.tx.respond(response(r.tx.request, 200, 'OK'));
    assert.equal(layer.hasNonInviteFor(cancel('z9hG4bKm1'), ue.origin), true, '"Completed": it exists until Timer J');
    clock.advance(64 * 500 - 1);
    assert.equal(layer.hasNonInviteFor(cancel('z9hG4bKm1'), ue.origin), true);
    clock.advance(1);
    assert.equal(layer.hasNonInviteFor(cancel('z9hG4bKm1'), ue.origin), false, 'Timer J (64*T1) ended it');
    // An INVITE is not a non-INVITE, and a CANCEL or an ACK is no transaction a CANCEL cancels.
    assert.ok(layer.receiveRequest(request('INVITE', { branch: 'z9hG4bKi1' }), ue).kind === 'new');
    assert.ok(layer.receiveRequest(request('CANCEL', { branch: 'z9hG4bKc1', cseqMethod: 'CANCEL' }), ue).kind === 'new');
    assert.equal(layer.hasNonInviteFor(cancel('z9hG4bKi1'), ue.origin), false);
    assert.equal(layer.hasNonInviteFor(cancel('z9hG4bKc1'), ue.origin), false);
    // A peer's extension methods: 32 non-INVITE methods are remembered (MESSAGE and X0…X30), later ones are not.
    for (let i = 0; i < 33; i++) layer.receiveRequest(request(`X${i}`, { branch: `z9hG4bKx${i}`, cseqMethod: `X${i}` }), ue);
    assert.equal(layer.hasNonInviteFor(cancel('z9hG4bKx30'), ue.origin), true);
    assert.equal(layer.hasNonInviteFor(cancel('z9hG4bKx31'), ue.origin), false, 'the 33rd method is not remembered');
    layer.clear();
  });

  test('§17.2.4 a response the TU gives inside its own handler is queued and sent in order', async () => {
    const layer = new TransactionLayer({ clock: new ManualClock(), trying });
    const ch = channel();
    const inv = request('INVITE');
    const r = layer.receiveRequest(inv, ch);
    assert.ok(r.kind === 'new');
    r.tx.respond(response(inv, 180, 'Ringing'));
    r.tx.respond(response(inv, 200, 'OK'));
    assert.deepEqual(ch.sent.map(label), ['100', '180', '200']);
    ch.fail();
    let informed = 0;
    r.tx.onTransportError = () => informed++;
    r.tx.respond(response(inv, 200, 'OK'));
    await tick();
    assert.equal(informed, 1, 'RFC 6026 Figure 7: the TU hears of the transport error in Accepted');
    assert.equal(r.tx.state, 'accepted');
  });
});


describe('server transactions bound to where their request came from (TS 33.203 §7.3, RFC 3261 §17.2.3, §9.2)', () => {
  test('[R-SA-4] a CANCEL from elsewhere that copies the branch and sent-by neither finds the INVITE nor absorbs the real CANCEL', () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const overSa = { ...channel(), origin: 'udp|10.0.0.2:5100|10.0.0.1:5101' };
    const inClear = { ...channel(), origin: 'udp|10.0.0.66:5060|10.0.0.1:5060' };
    const invite = layer.receiveRequest(request('INVITE', { branch: 'z9hG4bKcall1' }), overSa);
    assert.equal(invite.kind, 'new');
    const cancel = () => request('CANCEL', { branch: 'z9hG4bKcall1', cseqMethod: 'CANCEL' });
    // §9.2 finds the INVITE a CANCEL cancels by the same key: only from the INVITE's origin.
    assert.equal(layer.findInviteFor(cancel(), inClear.origin), undefined, 'the spoofed CANCEL finds no INVITE');
    assert.equal(layer.findInviteFor(cancel(), overSa.origin), invite.tx);
    const spoofed = layer.receiveRequest(cancel(), inClear);
    assert.equal(spoofed.kind, 'new');
    spoofed.tx.respond(response(spoofed.tx.request, 481));
    // The UE's own CANCEL over its SAs is a transaction of its own, not a retransmission of the spoofed one.
    const real = layer.receiveRequest(cancel(), overSa);
    assert.equal(real.kind, 'new', 'the real CANCEL reaches the TU');
    assert.notEqual(real.tx.key, spoofed.tx.key);
    // Without an origin (a transport that gives none) §17.2.3's key alone decides, as before.
    const a = layer.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKopt' }), channel());
    const b = layer.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKopt' }), channel());
    assert.equal(a.kind, 'new');
    assert.equal(b.kind, 'absorbed');
    layer.clear();
  });
});
