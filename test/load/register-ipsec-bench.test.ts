/**
 * `imsec bench register-ipsec` (issue [K]: registrations with IMS AKA and IPsec through `imsec
 * core`, with none and with N registered) run small. What it reports must be what happened: every
 * registration of each round and of the fill answered, the CPU per registration of the core (read
 * from /proc for the core's process) and of the swarm (this process) both measured, and the text
 * giving both. The figures themselves are the bench's, not asserted here (R-LAB-4).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatRegisterIpsecBench, runRegisterIpsecBench } from '../../src/cli/bench-register-ipsec.js';

describe('bench register-ipsec, run small', () => {
  test('[R-LAB-4] every registration of the rounds and the fill succeeds; core and swarm CPU per registration are both reported', async () => {
    const r = await runRegisterIpsecBench({ registered: 8, probe: 6, rate: 40, rounds: 1, settleMs: 0 });
    assert.equal(r.loaded.registered, 8, 'the fill registered every UE');
    assert.equal(r.fill.failures, 0);
    assert.equal(r.empty.failures, 0);
    assert.equal(r.loaded.failures, 0);
    for (const [what, x] of [['empty', r.empty], ['loaded', r.loaded]] as const) {
      assert.ok(x.perSecond > 0, `${what}: a rate`);
      assert.ok(x.coreCpuMs > 0 && x.coreCpuMs < 1000, `${what}: the core's CPU per registration, ${x.coreCpuMs} ms`);
      assert.ok(x.swarmCpuMs > 0 && x.swarmCpuMs < 1000, `${what}: the swarm's CPU per registration, ${x.swarmCpuMs} ms`);
    }
    assert.ok(Math.abs(r.cpuFlatness - r.empty.coreCpuMs / r.loaded.coreCpuMs) < 1e-9);
    const text = formatRegisterIpsecBench(r);
    assert.match(text, /nobody registered: .* CPU per registration: core [\d.]+ ms, swarm [\d.]+ ms/);
    assert.match(text, / {5}8 registered: .* CPU per registration: core [\d.]+ ms, swarm [\d.]+ ms/);
  });
});
