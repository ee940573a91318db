/**
 * How `imsec bench scscf` (src/cli/bench-scscf.ts) reduces its interleaved rounds to one figure
 * per S-CSCF and a ratio (R-LAB-4, [K]'s S-CSCF target): the median over the rounds where some
 * step passed. A round that collapsed (its first step failed) is missing, not 0/s: with 0s in the
 * median the printed ratio followed which side had collapsed (seen at the ninth stop: 1.92 from
 * one run where Kamailio lost a round, 1.02 from the next).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { scscfRatio, summarizeScscf, type ScscfRound, type ScscfStep } from '../../src/cli/bench-scscf.js';

function step(rate: number, achieved: number, passed: boolean, cpu = 0.5): ScscfStep {
  return { rate, successful: achieved * 2, failed: passed ? 0 : 20, achieved_per_s: achieved, avg_ms: 5, scscf_cpu_ms: cpu, hss_cpu_ms: cpu / 2, passed };
}

function round(target: 'imsec' | 'kamailio', n: number, steps: ScscfStep[]): ScscfRound {
  const passed = steps.filter((s) => s.passed);
  return { target, round: n, steps, ...(passed.length ? { best: passed[passed.length - 1] } : {}) };
}

describe('bench scscf: the summary over rounds', () => {
  test('[R-LAB-4] a collapsed round is left out of the median, and counted as not passed', () => {
    const rounds = [
      round('imsec', 1, [step(500, 498, true, 0.6), step(1000, 990, true, 0.5), step(1500, 1200, false)]),
      round('kamailio', 1, [step(500, 497, true, 0.7), step(1000, 940, true, 0.8), step(1500, 1100, false)]),
      round('kamailio', 2, [step(500, 499, true), step(1000, 960, true, 0.9), step(1500, 1450, true, 0.6), step(2000, 1500, false)]),
      round('imsec', 2, [step(500, 499, true), step(1000, 995, true), step(1500, 1480, true, 0.4), step(2000, 1000, false)]),
      round('imsec', 3, [step(500, 10, false)]),
      round('kamailio', 3, [step(500, 480, true, 1.1), step(1000, 0, false)]),
    ];
    const imsec = summarizeScscf(rounds, 'imsec');
    assert.deepEqual(imsec, { per_s: (990 + 1480) / 2, scscf_cpu_ms: (0.5 + 0.4) / 2, hss_cpu_ms: (0.25 + 0.2) / 2, rounds_passed: 2, rounds: 3 });
    const kamailio = summarizeScscf(rounds, 'kamailio');
    assert.deepEqual(kamailio, { per_s: 940, scscf_cpu_ms: 0.8, hss_cpu_ms: 0.4, rounds_passed: 3, rounds: 3 });
    assert.equal(scscfRatio(imsec, kamailio), 1.31);
  });

  test('[R-LAB-4] a side with no passing round has no figure, and there is no ratio', () => {
    const rounds = [round('imsec', 1, [step(500, 498, true)]), round('kamailio', 1, [step(500, 3, false)])];
    const kamailio = summarizeScscf(rounds, 'kamailio');
    assert.equal(kamailio.rounds_passed, 0);
    assert.ok(Number.isNaN(kamailio.per_s));
    assert.ok(Number.isNaN(kamailio.scscf_cpu_ms));
    assert.ok(Number.isNaN(scscfRatio(summarizeScscf(rounds, 'imsec'), kamailio)));
    assert.ok(Number.isNaN(scscfRatio(kamailio, summarizeScscf(rounds, 'imsec'))));
  });
});
