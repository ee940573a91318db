/**
 * The probe's own rules (R-LAB-3): it sends only to the target's address, paces itself, and
 * its exit status is non-zero exactly when a check FAILs. Crafted ESP differs from a good
 * packet only in the crafted field (RFC 4303 §2: SPI, sequence number, ICV).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/common/index.js';
import { craftedSa, exitStatus, handSa, openSip, Pacer, ProbeError, RawPort, sealSip, seqOf, spiOf, targetGuard, withBadIcv, type ProbeReport } from '../../src/probe/index.js';

const ik = new Uint8Array(16).fill(0x11);
const ck = new Uint8Array(16).fill(0x22);
const a = { address: '127.0.0.1', port: 5000 };
const b = { address: '127.0.0.1', port: 6000 };

describe('probe rules (R-LAB-3)', () => {
  test('[R-LAB-3] the guard refuses every address but the target\'s, before a byte leaves', async () => {
    const guard = targetGuard({ address: '127.0.0.1', port: 5060 });
    assert.doesNotThrow(() => guard({ address: '127.0.0.1', port: 5100 }));
    assert.throws(() => guard({ address: '127.0.0.2', port: 5060 }), (e: unknown) => e instanceof ProbeError && e.code === 'PROBE');
    assert.throws(() => guard({ address: '::1', port: 5060 }), ProbeError);
    const sent: string[] = [];
    const port = await RawPort.open('127.0.0.1', 0, { guard, tap: (d, _l, r) => sent.push(`${d} ${r.address}`) });
    await assert.rejects(port.send('x', { address: '127.0.0.2', port: 9 }), ProbeError);
    assert.deepEqual(sent, [], 'nothing was tapped as sent');
    await port.close();
  });

  test('[R-LAB-3] the pacer spaces datagrams at 1/rate on the clock', async () => {
    const clock = new ManualClock(0);
    const p = new Pacer(clock, 10);
    const times: number[] = [];
    const all = [0, 1, 2].map(async () => {
      await p.slot();
      times.push(clock.now());
    });
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      clock.advance(100);
    }
    await Promise.all(all);
    assert.deepEqual(times, [0, 100, 200]);
    assert.equal(p.sent, 3);
    assert.throws(() => new Pacer(clock, 0));
  });

  test('[R-LAB-3] exit status 1 when any check FAILs, 0 for PASS and NOT TESTABLE', () => {
    const rep = (verdicts: ('PASS' | 'FAIL' | 'NOT TESTABLE')[]): ProbeReport => ({
      target: 't', datapath: 'userspace', subscriber: 's', startedAt: '', bounds: {}, frames: 0, datagramsSent: 0,
      results: verdicts.map((v, i) => ({ id: `c${i}`, title: '', spec: [], clause: '', verdict: v, reason: '', evidence: [], ms: 0 })),
    });
    assert.equal(exitStatus(rep(['PASS', 'NOT TESTABLE'])), 0);
    assert.equal(exitStatus(rep(['PASS', 'FAIL', 'NOT TESTABLE'])), 1);
  });

  test('[R-SA-8] [R-SA-3] crafted ESP: another SPI, a sequence number of its own, a flipped ICV — the good SA refuses each (RFC 4303 §3.4)', () => {
    const out = handSa({ spi: 0x1000, alg: 'hmac-sha-1-96', ealg: 'null', ik, ck, src: a, dst: b });
    const inn = handSa({ spi: 0x1000, alg: 'hmac-sha-1-96', ealg: 'null', ik, ck, src: a, dst: b });
    const good = sealSip(out, 'OPTIONS sip:x SIP/2.0\r\n\r\n');
    assert.equal(openSip(inn, good).text, 'OPTIONS sip:x SIP/2.0\r\n\r\n');
    assert.throws(() => openSip(inn, good), /replay/, 'the same datagram twice');
    assert.throws(() => openSip(inn, withBadIcv(sealSip(out, 'a'))), /icv/);
    const far = craftedSa(out, { initialSeq: 10_000 });
    const ahead = sealSip(far, 'b');
    assert.equal(seqOf(ahead), 10_001);
    assert.equal(openSip(inn, ahead).seq, 10_001);
    assert.throws(() => openSip(inn, sealSip(out, 'c')), /replay/, 'left of the window');
    const other = sealSip(craftedSa(out, { spi: 0x2000 }), 'd');
    assert.equal(spiOf(other), 0x2000);
    const inner = openSip(handSa({ spi: 0x1000, alg: 'hmac-sha-1-96', ealg: 'null', ik, ck, src: a, dst: b }), sealSip(handSa({ spi: 0x1000, alg: 'hmac-sha-1-96', ealg: 'null', ik, ck, src: a, dst: b }), 'e', { src: { address: '192.0.2.1', port: 1 } }));
    assert.deepEqual(inner.src, { address: '192.0.2.1', port: 1 }, 'the inner source is what the crafter wrote');
  });
});
