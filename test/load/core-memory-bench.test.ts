/**
 * `imsec bench core-memory` (issue [K] item 4: memory per registered UE, node by node) run small:
 * `imsec core --processes` (HSS, S-CSCF, I-CSCF, P-CSCF, each a process) and `imsec core` in one
 * process, each warmed up and filled by the swarm with IMS AKA and IPsec (R-LAB-4). What it
 * reports must be what happened: every UE of the fill registered at both, a reading for each of
 * the four node processes, and a per-UE figure that is each node's RSS growth ÷ the UEs
 * registered. The figures themselves are the bench's, not asserted here.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatCoreMemoryBench, runCoreMemoryBench } from '../../src/cli/bench-core-memory.js';

describe('bench core-memory, run small', () => {
  test('[R-LAB-4] per-node processes and imsec core each register the whole fill; per-UE figures are RSS growth ÷ registered', async () => {
    const r = await runCoreMemoryBench({ registered: 12, warmUp: 3, rate: 50, settleMs: 0 });
    assert.equal(r.registered, 12);
    assert.equal(r.oneProcess.registered, 12);
    assert.deepEqual(Object.keys(r.nodes).sort(), ['hss', 'icscf', 'pcscf', 'scscf']);
    for (const [name, n] of Object.entries(r.nodes)) {
      assert.ok(n.rssBeforeMiB > 10, `${name} has a resident set`);
      assert.ok(Math.abs(n.bytesPerUe - ((n.rssAfterMiB - n.rssBeforeMiB) * 2 ** 20) / 12) < 1e-6, `${name}: growth ÷ UEs`);
    }
    const sum = Object.values(r.nodes).reduce((a, n) => a + n.bytesPerUe, 0);
    assert.ok(Math.abs(r.bytesPerUe - sum) < 1e-6);
    assert.ok(Math.abs(r.ratio - sum / r.oneProcess.bytesPerUe) < 1e-9 || r.oneProcess.bytesPerUe === 0);
    const text = formatCoreMemoryBench(r);
    assert.match(text, /pcscf +RSS [\d.]+ → [\d.]+ MiB/);
    assert.match(text, /baseline, same run: imsec core \(one process\), 12 registered/);
  });
});
