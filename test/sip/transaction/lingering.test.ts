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
import { TransactionLayer } from '../../../src/sip/transaction/layer.js';
import { LingeringTable } from '../../../src/sip/transaction/lingering.js';
import { channel, request } from './fixtures.js';
import { countingClock } from '../../support/counting-clock.js';

const tick = () => new Promise<void>((r) => setImmediate(r));


describe('RFC 3261 §17.2.2 Completed non-INVITE server transactions (lingering table)', () => {
  test('§17.2.2 a retransmission in Completed gets the same final response again until Timer J; after it the request is new', () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const ch = channel();
    const first = layer.receiveRequest(request('REGISTER', { branch: 'z9hG4bKl1' }), ch);
    assert.ok(first.kind === 'new');
    const ok = createResponse(first.tx.request, 200);
    first.tx.respond(ok);
    assert.equal(first.tx.state, 'completed');
    assert.equal(layer.size.servers, 1);
    clock.advance(31999);
    const again = layer.receiveRequest(request('REGISTER', { branch: 'z9hG4bKl1' }), ch);
    assert.equal(again.kind, 'absorbed');
    // The table keeps the response's bytes: what goes out again is the same on the wire.
    const wire = (m: SipMessage): string => Buffer.from(serializeMessage(m)).toString('latin1');
    assert.deepEqual(ch.sent.map(wire), [wire(ok), wire(ok)], 'the final response, sent twice');
    assert.equal(layer.counters.absorbed, 1);
    clock.advance(1);
    assert.equal(first.tx.state, 'terminated');
    assert.equal(layer.size.servers, 0);
    assert.equal(layer.receiveRequest(request('REGISTER', { branch: 'z9hG4bKl1' }), ch).kind, 'new');
  });

  test('§17.2.2 many Completed transactions share one timer, and each ends 64*T1 after its own response', () => {
    const { clock, armed } = countingClock();
    const layer = new TransactionLayer({ clock });
    const ch = channel();
    for (let i = 0; i < 100; i++) {
      const r = layer.receiveRequest(request('REGISTER', { branch: `z9hG4bKm${i}` }), ch);
      assert.ok(r.kind === 'new');
      r.tx.respond(createResponse(r.tx.request, 200));
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
    const r = layer.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKs1' }), ch);
    assert.ok(r.kind === 'new');
    const bad = createResponse(r.tx.request, 200);
    bad.reason = 'OK\x01'; // a control character: the serializer refuses it (RFC 3261 §25.1 Reason-Phrase)
    assert.doesNotThrow(() => r.tx.respond(bad));
    await tick();
    assert.equal(layer.size.servers, 0);
    assert.equal(layer.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKs1' }), ch).kind, 'new');
  });

  test('§17.2.4 a transport error on a retransmitted response ends the Completed transaction', async () => {
    const clock = new ManualClock();
    const layer = new TransactionLayer({ clock });
    const ch = channel();
    const r = layer.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKe1' }), ch);
    assert.ok(r.kind === 'new');
    r.tx.respond(createResponse(r.tx.request, 200));
    ch.fail();
    assert.equal(layer.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKe1' }), ch).kind, 'absorbed');
    await tick();
    assert.equal(layer.size.servers, 0);
    assert.equal(layer.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKe1' }), ch).kind, 'new');
  });

  test('§17.2.2 a key added again keeps its newer deadline; clear() stops the timer', () => {
    const clock = new ManualClock();
    const table = new LingeringTable(clock);
    const ch = channel();
    const resp = createResponse(request('OPTIONS', { branch: 'z9hG4bKk' }), 200);
    table.add('k', resp, ch, 1000);
    clock.advance(500);
    table.add('k', resp, ch, 1000);
    clock.advance(600);
    assert.equal(table.size, 1, 'the first deadline passed, the second holds');
    assert.equal(table.resend('k'), true);
    clock.advance(400);
    assert.equal(table.size, 0);
    assert.equal(table.resend('k'), false);
    table.add('j', resp, ch, 1000);
    table.clear();
    assert.equal(table.size, 0);
    clock.advance(2000);
    assert.equal(table.size, 0);
  });
});
