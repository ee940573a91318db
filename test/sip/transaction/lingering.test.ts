/**
 * RFC 3261 §17.2.2: a non-INVITE server transaction in "Completed" (UDP) only absorbs
 * retransmissions until Timer J. The layer keeps just its key, final response's bytes and channel in a
 * table ended by one timer (src/sip/transaction/lingering.ts); these tests drive it with a manual
 * clock.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/index.js';
import { createResponse, type SipMessage } from '../../../src/sip/message/index.js';
import { serializeMessage } from '../../../src/sip/parser/index.js';
import { TransactionLayer, type ServerTransaction, type TxChannel } from '../../../src/sip/transaction/layer.js';
import { LingeringTable } from '../../../src/sip/transaction/lingering.js';
import { channel, request } from './fixtures.js';
import { countingClock } from '../../support/counting-clock.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

/** The server transaction a fresh request starts (§17.2.3: none matches it yet). */
function opened(layer: TransactionLayer, method: string, branch: string, ch: TxChannel = channel()): ServerTransaction {
  const r = layer.receiveRequest(request(method, { branch }), ch);
  assert.ok(r.kind === 'new');
  return r.tx;
}


describe('RFC 3261 §17.2.2 Completed non-INVITE server transactions (lingering table)', () => {
  test('§17.2.2 a retransmission in Completed gets the same final response again until Timer J; after it the request is new', () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const ch = channel();
    const first = opened(layer, 'REGISTER', 'z9hG4bKl1', ch);
    const ok = createResponse(first.request, 200);
    // Bytes past ASCII, which the table keeps one character each: a UTF-8 Reason-Phrase
    // (§25.1 UTF8-NONASCII) and a body with 0x00, 0xC3 0xA9 and 0xFF.
    ok.reason = 'Bien reçu';
    ok.headers.append('Content-Type', 'application/octet-stream');
    ok.body = new Uint8Array([0x00, 0xc3, 0xa9, 0xff]);
    first.respond(ok);
    assert.equal(first.state, 'completed');
    assert.equal(layer.size.servers, 1);
    clock.advance(31999);
    const again = layer.receiveRequest(request('REGISTER', { branch: 'z9hG4bKl1' }), ch);
    assert.equal(again.kind, 'absorbed');
    // The table keeps the response's bytes: what goes out again is the same on the wire.
    const wire = (m: SipMessage): string => Buffer.from(serializeMessage(m)).toString('latin1');
    assert.deepEqual(ch.sent.map(wire), [wire(ok), wire(ok)], 'the final response, sent twice');
    assert.equal(layer.counters.absorbed, 1);
    clock.advance(1);
    assert.equal(first.state, 'terminated');
    assert.equal(layer.size.servers, 0);
    assert.equal(layer.receiveRequest(request('REGISTER', { branch: 'z9hG4bKl1' }), ch).kind, 'new');
  });

  test('§17.2.2 many Completed transactions share one timer, and each ends 64*T1 after its own response', () => {
    const { clock, armed } = countingClock();
    const layer = new TransactionLayer({ clock });
    const ch = channel();
    for (let i = 0; i < 100; i++) {
      const tx = opened(layer, 'REGISTER', `z9hG4bKm${i}`, ch);
      tx.respond(createResponse(tx.request, 200));
      clock.advance(10);
    }
    assert.equal(armed(), 1, 'one timer for all 100');
    assert.equal(layer.size.servers, 100);
    clock.advance(32000 - 1000 + 495); // the first 50 responses (at 0…490 ms) are 64*T1 old
    assert.equal(layer.size.servers, 50);
    clock.advance(500);
    assert.equal(layer.size.servers, 0);
  });

  test('§17.2.4 a final response that cannot be serialized (so not sent) leaves nothing lingering', async () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const ch = channel();
    const tx = opened(layer, 'OPTIONS', 'z9hG4bKs1', ch);
    const bad = createResponse(tx.request, 200);
    bad.reason = 'OK\x01'; // a control character: the serializer refuses it (RFC 3261 §25.1 Reason-Phrase)
    assert.doesNotThrow(() => tx.respond(bad));
    await tick();
    assert.equal(layer.size.servers, 0);
    assert.equal(layer.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKs1' }), ch).kind, 'new');
  });

  test('§17.2.4 a transport error on a retransmitted response ends the Completed transaction', async () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const ch = channel();
    const tx = opened(layer, 'OPTIONS', 'z9hG4bKe1', ch);
    tx.respond(createResponse(tx.request, 200));
    ch.fail();
    assert.equal(layer.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKe1' }), ch).kind, 'absorbed');
    await tick();
    assert.equal(layer.size.servers, 0);
    assert.equal(layer.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKe1' }), ch).kind, 'new');
  });

  test('§17.2.2 a key added again keeps its newer deadline; clear() stops the timer', () => {
    const clock = new ManualClock();
    const table = new LingeringTable(clock, 1000);
    const ch = channel();
    const resp = createResponse(request('OPTIONS', { branch: 'z9hG4bKk' }), 200);
    table.add('k', resp, ch);
    clock.advance(500);
    table.add('k', resp, ch);
    clock.advance(600);
    assert.equal(table.size, 1, 'the first deadline passed, the second holds');
    assert.equal(table.resend('k'), true);
    clock.advance(400);
    assert.equal(table.size, 0);
    assert.equal(table.resend('k'), false);
    table.add('j', resp, ch);
    table.clear();
    assert.equal(table.size, 0);
    clock.advance(2000);
    assert.equal(table.size, 0);
  });

  test('§17.2.2, §16.7 step 9: a transaction whose TU asked to hear of its end (a proxy\'s response context) lingers too, and hears "normal" at Timer J, not before', () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const ch = channel();
    const tx = opened(layer, 'MESSAGE', 'z9hG4bKp1', ch);
    const ends: string[] = [];
    tx.onEnd = (why) => ends.push(why);
    tx.respond(createResponse(tx.request, 200));
    assert.equal(layer.size.servers, 1);
    assert.deepEqual([...layer.serverTransactions()], [], 'handed to the lingering table, not kept whole');
    clock.advance(31999);
    assert.equal(layer.receiveRequest(request('MESSAGE', { branch: 'z9hG4bKp1' }), ch).kind, 'absorbed');
    assert.equal(ch.sent.length, 2, 'the retransmission got the final response again');
    assert.deepEqual(ends, []);
    clock.advance(1);
    assert.deepEqual(ends, ['normal']);
    assert.equal(layer.size.servers, 0);
    clock.advance(64000);
    assert.deepEqual(ends, ['normal'], 'told once');
  });

  test('§17.2.4: the TU hears "transportError" when a resent response fails; a throwing callback harms neither the table nor the other transactions; clear() tells nobody', async () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const ends: string[] = [];
    const failing = channel();
    const a = opened(layer, 'MESSAGE', 'z9hG4bKe2', failing);
    const b = opened(layer, 'MESSAGE', 'z9hG4bKe3');
    const c = opened(layer, 'MESSAGE', 'z9hG4bKe4');
    a.onEnd = (why) => ends.push(`a ${why}`);
    b.onEnd = () => {
      throw new Error('a TU bug');
    };
    c.onEnd = (why) => ends.push(`c ${why}`);
    for (const tx of [a, b, c]) tx.respond(createResponse(tx.request, 200));
    failing.fail();
    assert.equal(layer.receiveRequest(request('MESSAGE', { branch: 'z9hG4bKe2' }), failing).kind, 'absorbed');
    await tick();
    assert.deepEqual(ends, ['a transportError']);
    clock.advance(32000);
    assert.deepEqual(ends, ['a transportError', 'c normal'], 'b threw, c was still told');
    assert.equal(layer.size.servers, 0);
    const d = opened(layer, 'MESSAGE', 'z9hG4bKe5');
    d.onEnd = (why) => ends.push(`d ${why}`);
    d.respond(createResponse(d.request, 200));
    layer.clear();
    clock.advance(32000);
    assert.deepEqual(ends, ['a transportError', 'c normal'], 'a shutdown is no end to report');
  });

  test('§17.2.4: a final response that cannot be serialized ends the transaction at once, and its TU hears so', async () => {
    const layer = new TransactionLayer({ clock: new ManualClock() });
    const tx = opened(layer, 'MESSAGE', 'z9hG4bKs2');
    const ends: string[] = [];
    tx.onEnd = (why) => ends.push(why);
    const bad = createResponse(tx.request, 200);
    bad.reason = 'OK\x01';
    tx.respond(bad);
    await tick();
    assert.deepEqual(ends, ['normal']);
    assert.equal(layer.size.servers, 0);
  });
});
