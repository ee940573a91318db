/**
 * The demo's own capture (`imsec demo --pcap F --keys K`, UDP-encapsulated ESP with
 * hmac-sha-1-96/aes-cbc): decoded without keys (MAA and the S-CSCF's 401 are in it) and with its
 * keys file, every ESP verified, every registration rebuilt, and no finding at all (the UE and
 * P-CSCF follow R-SA-3's UDP flows and R-RR-1's ports as [H] set them).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Analyzer, parseKeysFile, type AnalysisReport } from '../../src/analyze/index.js';
import { readCaptureFile } from '../../src/capture/index.js';
import { cliPath } from '../support/paths.js';

function analyze(pcap: string, keys?: string): AnalysisReport {
  const a = new Analyzer(keys ? { keys: parseKeysFile(readFileSync(keys, 'utf8')) } : {});
  readCaptureFile(pcap, (f) => a.frame(f));
  return a.finish();
}

describe('imsec demo --pcap --keys', () => {
  test('[R-LAB-2][R-SA-1][R-SA-2][R-SA-3][R-RR-1] the demo capture decodes fully, with and without its keys file, and shows no finding', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-analyze-demo-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const pcap = join(dir, 'demo.pcap');
    const keys = join(dir, 'demo.keys');
    const run = spawnSync(process.execPath, [cliPath, 'demo', '--pcap', pcap, '--keys', keys, '--no-color'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.status, 0, run.stderr);
    for (const r of [analyze(pcap), analyze(pcap, keys)]) {
      assert.equal(r.summary.problems, 0);
      assert.equal(r.summary.esp.packets, 16);
      assert.equal(r.summary.esp.verified, 16);
      assert.equal(r.registrations.length, 2);
      assert.deepEqual(r.registrations.map((g) => g.state), ['deregistered', 'deregistered']);
      assert.deepEqual(r.registrations.map((g) => g.digest.failed), [0, 0]);
      assert.ok(r.registrations.every((g) => g.digest.verified >= 1 && g.nonceMatchesMaa === true));
      assert.deepEqual(r.saSets.map((s) => s.state), ['deleted', 'deleted', 'deleted']);
      assert.deepEqual(r.findings, []);
      // Every protected message of the demo's own ladder is on ours.
      assert.equal(r.ladder.filter((l) => l.esp).length, 16);
    }
  });
});
