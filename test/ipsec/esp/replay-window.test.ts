/**
 * RFC 4303 §3.4.3 anti-replay window (SPEC R-SA-8), on its own and inside an SA.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ImsError, SeededRng } from '../../../src/common/index.js';
import { deriveEspKeys, EspSa, ReplayWindow } from '../../../src/ipsec/esp/index.js';
import { hex, sipRequest } from './helpers.js';
import { fcParams } from '../../support/fuzz.js';

describe('RFC 4303 §3.4.3 ReplayWindow', () => {
  test('[R-SA-8] an in-window reordered packet is accepted once, its duplicate is not', () => {
    const w = new ReplayWindow(64);
    for (const s of [1, 2, 5]) assert.equal(w.accept(s), true);
    assert.equal(w.check(4), 'new', '4 arrives late but inside the window');
    w.update(4);
    assert.equal(w.check(4), 'duplicate');
    assert.equal(w.check(3), 'new');
    assert.equal(w.check(5), 'duplicate');
    assert.equal(w.top, 5);
  });

  test('[R-SA-8] the window slides: packets left of top - W + 1 are too old', () => {
    const w = new ReplayWindow(64);
    assert.equal(w.accept(100), true);
    assert.equal(w.check(37), 'new', '100 - 37 = 63 < 64: inside');
    assert.equal(w.check(36), 'too-old', '100 - 36 = 64: outside');
    assert.equal(w.accept(200), true);
    assert.equal(w.check(137), 'new');
    assert.equal(w.check(136), 'too-old');
    assert.equal(w.check(100), 'too-old', 'an accepted number falls out as the window slides');
  });

  test('[R-SA-8] a jump larger than the window clears every old bit', () => {
    const w = new ReplayWindow(32);
    for (let s = 1; s <= 40; s++) assert.ok(w.accept(s));
    assert.ok(w.accept(1000));
    for (let s = 969; s < 1000; s++) assert.equal(w.check(s), 'new', `seq ${s}`);
    assert.equal(w.check(968), 'too-old');
  });

  test('[R-SA-8] sequence number 0 is never valid; 2^32-1 is', () => {
    const w = new ReplayWindow();
    assert.equal(w.check(0), 'too-old');
    assert.ok(w.accept(0xffffffff));
    assert.equal(w.check(0xffffffff), 'duplicate');
    assert.equal(w.check(0xffffffff - 63), 'new');
    assert.equal(w.check(0xffffffff - 64), 'too-old');
  });

  test('[R-SA-8] window sizes are validated (INVALID_ARGUMENT)', () => {
    for (const bad of [0, -1, 1.5, 65537, Number.NaN]) {
      assert.throws(() => new ReplayWindow(bad), (e: unknown) => e instanceof ImsError && e.code === 'INVALID_ARGUMENT', String(bad));
    }
    assert.equal(new ReplayWindow(1).size, 1);
    assert.equal(new ReplayWindow().size, 64);
  });

  test('[R-SA-8] reset() forgets the history', () => {
    const w = new ReplayWindow(8);
    w.accept(5);
    w.reset();
    assert.equal(w.top, 0);
    assert.equal(w.check(5), 'new');
  });

  test('[R-SA-8] agrees with a naive set-based model for any arrival order and window size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.constantFrom(0, 0xffffffff - 3000),
        // A sender's counter as seen by a receiver: mostly rising, with reordering, repeats and gaps.
        fc.array(fc.integer({ min: -150, max: 60 }), { minLength: 20, maxLength: 300 }),
        (size, base, deltas) => {
          let at = 0;
          const seqs = deltas.map((d) => {
            at = Math.max(0, at + d + 8);
            return Math.min(0xffffffff, base + at);
          });
          const w = new ReplayWindow(size);
          const seen = new Set<number>();
          let top = 0;
          for (const s of seqs) {
            const modelOk = s !== 0 && !seen.has(s) && (s > top || top - s < size);
            const verdict = w.check(s);
            assert.equal(verdict === 'new', modelOk, `size ${size}, seq ${s}, top ${top}`);
            if (modelOk) {
              w.update(s);
              seen.add(s);
              top = Math.max(top, s);
            }
          }
        },
      ),
      fcParams(import.meta.url, 400),
    );
  });
});

describe('RFC 4303 §3.4.3 inside an SA (check before the ICV, update after it)', () => {
  const IK = hex('f769bcd751044604127672711c6d3441');
  const CK = hex('b40ba9a3c58b2a05bbf0d987b21bf8cb');
  const pair = (window?: number) => {
    const keys = deriveEspKeys('hmac-sha-1-96', 'aes-cbc', IK, CK);
    return {
      tx: new EspSa({ spi: 0x1234, integrity: 'hmac-sha-1-96', encryption: 'aes-cbc', keys }),
      rx: new EspSa({ spi: 0x1234, integrity: 'hmac-sha-1-96', encryption: 'aes-cbc', keys, replayWindow: window }),
    };
  };
  const rng = new SeededRng('replay');

  test('[R-SA-8] replayed packet is dropped and counted', () => {
    const { tx, rx } = pair();
    const p = tx.seal(sipRequest(), 17, rng);
    assert.equal(rx.open(p).ok, true);
    assert.deepEqual(rx.open(p), { ok: false, reason: 'replay' });
    assert.deepEqual(rx.open(p), { ok: false, reason: 'replay' });
    assert.equal(rx.counters.droppedReplay, 2);
    assert.equal(rx.counters.opened, 1);
  });

  test('[R-SA-8] in-window reorder is accepted once; too old is dropped and counted', () => {
    const { tx, rx } = pair(4);
    const ps = Array.from({ length: 8 }, (_, i) => tx.seal(sipRequest(i), 17, rng));
    assert.ok(rx.open(ps[5]).ok); // seq 6
    assert.ok(rx.open(ps[3]).ok); // seq 4: 6 - 4 < 4
    assert.deepEqual(rx.open(ps[3]), { ok: false, reason: 'replay' });
    assert.deepEqual(rx.open(ps[1]), { ok: false, reason: 'replay' }); // seq 2: 6 - 2 = 4, too old
    assert.ok(rx.open(ps[7]).ok); // seq 8 slides the window
    assert.deepEqual(rx.open(ps[3]), { ok: false, reason: 'replay' }); // seq 4 now too old
    assert.ok(rx.open(ps[4]).ok); // seq 5: 8 - 5 < 4
    assert.equal(rx.counters.droppedReplay, 3);
    assert.equal(rx.counters.opened, 4);
  });

  test('[R-SA-8] an ICV failure is counted and does not advance the window', () => {
    const { tx, rx } = pair();
    const ps = Array.from({ length: 3 }, (_, i) => tx.seal(sipRequest(i), 17, rng));
    const forged = Buffer.from(ps[2]);
    forged[forged.length - 1] ^= 0xff;
    assert.deepEqual(rx.open(forged), { ok: false, reason: 'icv' });
    assert.equal(rx.counters.droppedIcv, 1);
    assert.equal(rx.replay.top, 0, 'the forged seq 3 did not move the window');
    // The genuine packet with the same sequence number still gets through, once.
    assert.ok(rx.open(ps[2]).ok);
    assert.ok(rx.open(ps[0]).ok);
    assert.equal(rx.replay.top, 3);
  });

  test('[R-SA-8] a forged far-ahead sequence number cannot push genuine packets out of the window', () => {
    const { tx, rx } = pair(64);
    const p1 = tx.seal(sipRequest(1), 17, rng);
    const forged = Buffer.from(tx.seal(sipRequest(2), 17, rng));
    forged.writeUInt32BE(1_000_000, 4); // an attacker rewrites the sequence number
    assert.deepEqual(rx.open(forged), { ok: false, reason: 'icv' });
    assert.ok(rx.open(p1).ok);
  });
});
