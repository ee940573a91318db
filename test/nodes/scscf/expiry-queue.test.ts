/**
 * R-REG-3: the S-CSCF ends registrations when their bindings expire (RFC 3261 §10.3). The expiry
 * times of every registration live in one queue with one timer (src/nodes/scscf/table.ts
 * ExpiryQueue), driven here by a manual clock.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExpiryQueue } from '../../../src/nodes/scscf/table.js';
import { countingClock } from '../../support/counting-clock.js';

function setUp() {
  const { clock, armed } = countingClock();
  const due: string[] = [];
  const q = new ExpiryQueue(clock, (aor) => due.push(aor));
  return { clock, q, due, armed };
}

describe('[R-REG-3] one expiry queue for every registration', () => {
  test('[R-REG-3] registrations expire in time order, each at its own time, with one timer armed at a time', () => {
    const { clock, q, due, armed } = setUp();
    for (let i = 999; i >= 0; i--) q.schedule(`sip:u${i}@ims.lab`, 1000 + i * 10);
    assert.equal(q.size, 1000);
    const armedAfterSchedule = armed();
    assert.ok(armedAfterSchedule <= 1000, 'a timer is re-armed only for an earlier head');
    clock.advance(1000);
    assert.deepEqual(due, ['sip:u0@ims.lab']);
    clock.advance(5);
    assert.equal(due.length, 1, 'nothing before its time');
    clock.advance(9995);
    assert.equal(due.length, 1000);
    assert.deepEqual(due.slice(0, 3), ['sip:u0@ims.lab', 'sip:u1@ims.lab', 'sip:u2@ims.lab']);
    assert.equal(q.size, 0);
    assert.equal(armed() - armedAfterSchedule, 999, 'after each expiry one timer for the next, none after the last');
  });

  test('[R-REG-3] a re-registration moves the expiry; a de-registration cancels it', () => {
    const { clock, q, due } = setUp();
    q.schedule('sip:alice@ims.lab', 1000);
    q.schedule('sip:bob@ims.lab', 1000);
    q.schedule('sip:alice@ims.lab', 5000);
    q.cancel('sip:bob@ims.lab');
    clock.advance(4999);
    assert.deepEqual(due, [], 'alice moved on, bob is gone');
    clock.advance(1);
    assert.deepEqual(due, ['sip:alice@ims.lab']);
  });

  test('[R-REG-3] stale entries are dropped as the heap grows; clear() stops everything', () => {
    const { clock, q, due } = setUp();
    for (let round = 0; round < 50; round++) for (let i = 0; i < 10; i++) q.schedule(`sip:u${i}@ims.lab`, 100_000 + round);
    assert.equal(q.size, 10);
    clock.advance(100_049);
    assert.equal(due.length, 10, 'each once, at its last time');
    q.schedule('sip:late@ims.lab', 200_000);
    q.clear();
    clock.advance(200_000);
    assert.equal(due.length, 10);
  });
});
