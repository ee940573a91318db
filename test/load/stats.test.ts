/**
 * What `imsec load` reports (R-LAB-4): latency percentiles from the log-bucketed histogram within
 * its 2.2 % resolution, failures counted by reason, the summary's rates and failure ratio.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LatencyHistogram, LoadStats, formatSummary, summarize } from '../../src/load/index.js';

describe('load statistics', () => {
  test('[R-LAB-4] p50 and p99 of 1..1000 ms within the bucket resolution, max exact', () => {
    const h = new LatencyHistogram();
    for (let i = 1000; i >= 1; i--) h.record(i);
    const near = (got: number, want: number): void => assert.ok(Math.abs(got - want) / want < 0.025, `${got} vs ${want}`);
    near(h.quantile(0.5), 500);
    near(h.quantile(0.99), 990);
    assert.equal(h.quantile(1), 1000);
    assert.equal(h.max, 1000);
    assert.equal(h.count, 1000);
    assert.equal(new LatencyHistogram().quantile(0.5), 0);
  });

  test('[R-LAB-4] failures by reason, rates from the start to the last completion, failure ratio over every operation', () => {
    const s = new LoadStats();
    for (let i = 0; i < 10; i++) {
      s.started('register');
      if (i < 8) s.succeeded('register', 20, 1000 + i * 250);
      else s.failed('register', i === 8 ? 'timeout' : 'rejected 403', 3000, i === 8 ? undefined : 'REGISTER answered 403 Forbidden');
    }
    s.started('deregister');
    s.succeeded('deregister', 5, 3000);
    const sum = summarize(s, { scenario: 'register', ues: 10, targetRate: 4, startedAt: 1000, elapsedMs: 2000, cpuPercent: 12.34, rssBytes: 2 ** 20 * 50, peakRssBytes: 2 ** 20 * 60 });
    assert.deepEqual(sum.ops.register, { started: 10, ok: 8, failed: 2, retried: 0, perSecond: 4, p50Ms: 20, p99Ms: 20, maxMs: 20, failures: { timeout: 1, 'rejected 403': 1 }, firstDetail: { 'rejected 403': 'REGISTER answered 403 Forbidden' } });
    assert.equal(sum.ops.message, undefined, 'an operation never started is not reported');
    assert.equal(sum.failureRatio, 2 / 11);
    assert.deepEqual(sum.swarm, { cpuPercent: 12.3, rssMiB: 50, peakRssMiB: 60 });
    assert.match(formatSummary(sum), /register +8 ok +2 failed +4\/s .*\(timeout: 1, rejected 403: 1\)\n +first rejected 403: REGISTER answered 403 Forbidden\n/);
  });

  test('[R-LAB-4] the report keeps the first detail of each failure reason, cut to 200 characters', () => {
    const s = new LoadStats();
    s.started('deregister');
    s.failed('deregister', 'security-server', 1, `Security-Server: ${'x'.repeat(300)}`);
    s.failed('deregister', 'security-server', 2, 'a later one');
    const first = s.ops.get('deregister')!.firstDetail.get('security-server')!;
    assert.equal(first.length, 200);
    assert.match(first, /^Security-Server: x+$/);
  });
});
