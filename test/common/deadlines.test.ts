/**
 * The SA table's lifetimes at scale (issue [K]: "no timer or promise chain per SA that grows with
 * the table"): every set's end (TS 24.229 §5.1.1.5.1, R-SA-7) and every reservation's
 * (reg-await-auth, Table 7.8.1) sit in one min-heap with one armed clock timer. The heap must fire
 * exactly what a timer per entry fired, in the same order, whatever the order of set/move/delete.
 * Entries that all live the same time (the transactions' Timers J and K) need no heap: one FIFO
 * and one timer (ExpiringMap).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeadlineQueue, ExpiringMap, ManualClock, SeededRng, randomU32 } from '../../src/common/index.js';
import { SaManager } from '../../src/ipsec/index.js';

const IK = new Uint8Array(16).fill(7);
const CK = new Uint8Array(16).fill(9);

describe('TS 24.229 §5.1.1.5.1 SA lifetimes on one heap and one timer', () => {
  test('[R-SA-7] entries fire in deadline order (ties: the order set), moved and deleted ones as a timer each would', () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    const q = new DeadlineQueue<string>(clock, (k) => fired.push(`${k}@${clock.now()}`));
    q.set('c', 300);
    q.set('a', 100);
    q.set('b', 100);
    q.set('d', 50);
    q.set('d', 400); // moved later
    q.set('e', 250);
    q.delete('e');
    q.set('f', 200);
    q.set('f', 20); // moved earlier
    assert.equal(clock.timers, 1, 'one armed timer for five deadlines');
    clock.advance(1000);
    assert.deepEqual(fired, ['f@20', 'a@100', 'b@100', 'c@300', 'd@400']);
    assert.equal(q.size, 0);
    assert.equal(clock.timers, 0, 'nothing armed once the heap is empty');
  });

  test('[R-SA-7] random set/move/delete: the heap fires what independent timers fire (seeded, 2,000 operations)', () => {
    const rng = new SeededRng(42);
    const pick = (n: number): number => randomU32(rng) % n;
    const heapClock = new ManualClock(0);
    const refClock = new ManualClock(0);
    const heapFired: string[] = [];
    const refFired: string[] = [];
    const q = new DeadlineQueue<number>(heapClock, (k) => heapFired.push(`${k}@${heapClock.now()}`));
    const refTimers = new Map<number, { cancel(): void }>();
    for (let i = 0; i < 2000; i++) {
      const key = pick(200);
      if (pick(4) === 0) {
        q.delete(key);
        refTimers.get(key)?.cancel();
        refTimers.delete(key);
      } else {
        const at = heapClock.now() + pick(1000);
        q.set(key, at);
        refTimers.get(key)?.cancel();
        refTimers.set(key, refClock.setTimeout(at - refClock.now(), () => (refTimers.delete(key), refFired.push(`${key}@${refClock.now()}`))));
      }
      if (pick(10) === 0) {
        const step = pick(300);
        heapClock.advance(step);
        refClock.advance(step);
      }
      assert.ok(heapClock.timers <= 1, 'never more than one armed timer');
    }
    heapClock.advance(10_000);
    refClock.advance(10_000);
    // Same deadlines fire at the same times; among equal times the reference keeps set order too.
    assert.deepEqual(heapFired, refFired);
    assert.ok(heapFired.length > 100, 'the property exercised many expiries');
  });

  test('[R-SA-7] an SaManager with 1,000 sets and reservations holds ONE clock timer, and expires them all on time', () => {
    const clock = new ManualClock(0);
    const sa = new SaManager({ role: 'pcscf', clock, rng: new SeededRng(3), temporaryLifetimeMs: 10_000 });
    for (let n = 0; n < 1000; n++) {
      const r = sa.createSet({ impi: `u${n}@ims.lab`, impus: [`sip:u${n}@ims.lab`], ueAddress: `10.0.${n >> 8}.${n & 255}`, pcscfAddress: '127.0.0.1', remote: { spiC: 0x80000100 + 2 * n, spiS: 0x80000101 + 2 * n, portC: 40000, portS: 40001 }, integrity: 'hmac-sha-1-96', encryption: 'null', mode: 'UDP-enc-tun', ik: IK, ck: CK });
      assert.ok(r.ok);
      if (n % 2 === 0) sa.activate(r.set.id, 60_000);
    }
    sa.reserveLocal();
    assert.equal(clock.timers, 1, 'one timer for 1,000 sets and a reservation');
    clock.advance(9_999);
    assert.equal(sa.sets().length, 1000);
    clock.advance(1);
    assert.equal(sa.sets().length, 500, 'the 500 temporary sets end after reg-await-auth');
    clock.advance(60_000 + 30_000 - 10_000 - 1);
    assert.equal(sa.sets().length, 500);
    clock.advance(1);
    assert.equal(sa.sets().length, 0, 'the active ones at expiry + 30 s (R-SA-7)');
    assert.equal(clock.timers, 0);
  });
});

describe('RFC 3261 §17.1.2.2 Timer K and §17.2.2 Timer J: entries of one lifetime on one FIFO and one timer', () => {
  test('[R-LAB-4] each entry expires its lifetime after it was set, in order, under ONE clock timer; one deleted early is not reported', () => {
    const clock = new ManualClock(0);
    const expired: string[] = [];
    const m = new ExpiringMap<number>(clock, 5000, (k, v) => expired.push(`${k}=${v}@${clock.now()}`));
    m.set('a', 1);
    clock.advance(1000);
    m.set('b', 2);
    m.set('c', 3);
    clock.advance(1000);
    m.set('d', 4);
    assert.equal(clock.timers, 1, 'one armed timer for four entries');
    assert.equal(m.delete('c'), true);
    assert.equal(m.delete('c'), false);
    assert.equal(m.get('c'), undefined);
    assert.equal(m.get('b'), 2);
    clock.advance(2999);
    assert.deepEqual(expired, []);
    clock.advance(1);
    assert.deepEqual(expired, ['a=1@5000']);
    clock.advance(2000);
    assert.deepEqual(expired, ['a=1@5000', 'b=2@6000', 'd=4@7000']);
    assert.equal(m.size, 0);
    assert.equal(clock.timers, 0, 'no timer left behind');
  });

  test('[R-LAB-4] a key set again keeps its newer value and deadline; a set from the expiry callback does not delay the next expiry; clear() stops the timer', () => {
    const clock = new ManualClock(0);
    const expired: string[] = [];
    const m = new ExpiringMap<string>(clock, 1000, (k, v) => {
      expired.push(`${k}=${v}@${clock.now()}`);
      if (k === 'x') m.set('z', 'from-callback');
    });
    m.set('k', 'old');
    clock.advance(500);
    m.set('k', 'new');
    m.set('x', 'x');
    clock.advance(100);
    m.set('y', 'y');
    clock.advance(400);
    assert.deepEqual(expired, [], 'the first slot of k is skipped: k was set again');
    assert.equal(m.get('k'), 'new');
    clock.advance(500);
    assert.deepEqual(expired, ['k=new@1500', 'x=x@1500']);
    clock.advance(100);
    assert.deepEqual(expired, ['k=new@1500', 'x=x@1500', 'y=y@1600'], 'y on time, though z was set (deadline 2500) while the timer was down');
    m.set('w', 'w');
    m.clear();
    assert.equal(m.size, 0);
    assert.equal(clock.timers, 0);
    clock.advance(5000);
    assert.equal(expired.length, 3);
  });

  test('[R-LAB-4] after the FIFO is compacted (past 1,024 expired slots) every live key still finds its value and expires on time', () => {
    const clock = new ManualClock(0);
    const expired: number[] = [];
    const m = new ExpiringMap<number>(clock, 100, (_k, v) => expired.push(v));
    for (let i = 0; i < 3000; i++) {
      m.set(`k${i}`, i);
      if (i % 3 === 0) m.delete(`k${i}`);
      if (i < 2500) clock.advance(i % 2);
    }
    // Entry i was set at floor(i/2) (1250 from i = 2500 on): at 1250, entries 0..2301 are past due.
    assert.equal(clock.now(), 1250);
    assert.equal(expired.length, 2302 - 768, 'the entries past due but the deleted ones');
    for (let i = 2302; i < 3000; i++) assert.equal(m.get(`k${i}`), i % 3 === 0 ? undefined : i);
    assert.ok(expired.every((v) => v % 3 !== 0), 'no deleted entry is reported');
    clock.advance(1000);
    assert.equal(m.size, 0);
    assert.equal(expired.length, 2000, 'every entry not deleted expired once');
    assert.deepEqual(expired, [...expired].sort((a, b) => a - b), 'in the order set');
  });
});
