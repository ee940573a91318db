/**
 * RFC 3539 §3.4 watchdog transitions (pure), and the identifier formats of RFC 6733 §3
 * (Hop-by-Hop, End-to-End) and §8.8 (Session-Id).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FixedRng, ManualClock, SeededRng } from '../../src/common/index.js';
import {
  EndToEndGenerator,
  HopByHopGenerator,
  SessionIdGenerator,
  initialWatchdogState,
  parseSessionId,
  watchdogInterval,
  watchdogStep,
  watchdogUsable,
  type WatchdogEvent,
  type WatchdogState,
} from '../../src/diameter/index.js';

function run(events: WatchdogEvent[], s: WatchdogState = initialWatchdogState): { s: WatchdogState; trail: string[]; actions: string[] } {
  const trail = [s.name];
  const actions: string[] = [];
  for (const e of events) {
    const r = watchdogStep(s, e);
    s = r.state;
    trail.push(s.name);
    actions.push(...r.actions.map((a) => a.kind));
  }
  return { s, trail, actions };
}

describe('RFC 3539 §3.4.1 watchdog', () => {
  test('[R-CX-1] OKAY: first timer sends DWR; a second timer without DWA → SUSPECT (failover); a third → DOWN (close)', () => {
    const r = run([{ kind: 'connectionUp' }, { kind: 'timer' }, { kind: 'timer' }, { kind: 'timer' }]);
    assert.deepEqual(r.trail, ['INITIAL', 'OKAY', 'OKAY', 'SUSPECT', 'DOWN']);
    assert.deepEqual(r.actions, ['setTimer', 'sendDwr', 'setTimer', 'failover', 'setTimer', 'closeConnection', 'setTimer']);
    assert.ok(!watchdogUsable(r.s));
  });

  test('[R-CX-1] a DWA clears the pending flag; traffic resets the timer; SUSPECT + any message → OKAY (failback)', () => {
    const r = run([{ kind: 'connectionUp' }, { kind: 'timer' }, { kind: 'dwa' }, { kind: 'timer' }, { kind: 'message' }]);
    assert.deepEqual(r.trail, ['INITIAL', 'OKAY', 'OKAY', 'OKAY', 'OKAY', 'OKAY']);
    assert.ok(r.s.pending, 'the second DWR is still pending');
    const s = run([{ kind: 'connectionUp' }, { kind: 'timer' }, { kind: 'timer' }, { kind: 'message' }]);
    assert.deepEqual(s.trail.at(-1), 'OKAY');
    assert.ok(s.actions.includes('failback'));
  });

  test('[R-CX-1] after DOWN a new connection goes through REOPEN and needs three DWAs', () => {
    const down = run([{ kind: 'connectionUp' }, { kind: 'connectionDown' }]).s;
    assert.equal(down.name, 'DOWN');
    const r = run([{ kind: 'connectionUp' }, { kind: 'dwa' }, { kind: 'timer' }, { kind: 'dwa' }, { kind: 'timer' }, { kind: 'message' }, { kind: 'dwa' }], down);
    assert.deepEqual(r.trail, ['DOWN', 'REOPEN', 'REOPEN', 'REOPEN', 'REOPEN', 'REOPEN', 'REOPEN', 'OKAY']);
    assert.equal(r.actions.filter((a) => a === 'sendDwr').length, 3);
    assert.ok(r.actions.includes('failback'));
    const dead = run([{ kind: 'connectionUp' }, { kind: 'timer' }, { kind: 'timer' }], down);
    assert.deepEqual(dead.trail, ['DOWN', 'REOPEN', 'REOPEN', 'DOWN'], 'two timers without DWA in REOPEN close the connection');
  });

  test('Tw = Twinit ± 2 s of jitter (never below Twinit - 2 s)', () => {
    assert.equal(watchdogInterval(30000, -2000), 28000);
    assert.equal(watchdogInterval(30000, 5000), 32000);
    assert.equal(watchdogInterval(30000, 0), 30000);
    assert.ok(watchdogInterval(600, 2000) <= 800 && watchdogInterval(600, -2000) >= 400);
  });
});

describe('RFC 6733 §3 / §8.8 identifiers', () => {
  test('[R-CX-1] End-to-End: high 12 bits = low 12 bits of the time (s), low 20 bits random then incremented', () => {
    const clock = new ManualClock(0x12345 * 1000);
    const g = new EndToEndGenerator(clock, new FixedRng([Uint8Array.of(0xff, 0xff, 0xff, 0xfe)]));
    const a = g.take();
    const b = g.take();
    const c = g.take();
    assert.equal(a >>> 20, 0x345);
    assert.equal(a & 0xfffff, 0xffffe);
    assert.equal(b & 0xfffff, 0xfffff);
    assert.equal(c, ((0x346 << 20) | 0) >>> 0, 'the low 20 bits wrap into the time bits');
  });

  test('Hop-by-Hop: random start, monotonically increasing, wraps at 2^32', () => {
    const g = new HopByHopGenerator(new FixedRng([Uint8Array.of(0xff, 0xff, 0xff, 0xff)]));
    assert.deepEqual([g.take(), g.take(), g.take()], [0xffffffff, 0, 1]);
    const r = new HopByHopGenerator(new SeededRng('x'));
    const x = r.take();
    assert.equal(r.take(), (x + 1) >>> 0);
  });

  test('[R-CX-1] Session-Id is <DiameterIdentity>;<high 32>;<low 32>[;<optional>] and unique', () => {
    const g = new SessionIdGenerator('scscf.ims.lab', new ManualClock(1_700_000_000_123));
    const a = g.take();
    const b = g.take('alice');
    assert.equal(a, 'scscf.ims.lab;1700000000;0');
    assert.equal(b, 'scscf.ims.lab;1700000000;1;alice');
    assert.deepEqual(parseSessionId(b), { identity: 'scscf.ims.lab', high: 1700000000, low: 1, optional: 'alice' });
    assert.equal(parseSessionId('no-semicolons'), undefined);
    assert.equal(parseSessionId('h;99999999999;1'), undefined);
    const seen = new Set(Array.from({ length: 1000 }, () => g.take()));
    assert.equal(seen.size, 1000);
  });
});
