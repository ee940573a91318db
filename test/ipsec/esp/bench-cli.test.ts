/**
 * `imsec bench esp`: output shape and argument errors only (tiny rounds; the figures themselves
 * belong to `npm run bench`, never to tests).
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { runEspBench } from '../../../src/cli/bench-esp.js';
import { runCli } from '../../../src/cli/program.js';

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  // The bench action writes to process.stdout like the other benches; capture it for the call.
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  try {
    const code = await runCli(argv, { stdout: out, stderr: err });
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = write;
  }
}

describe('imsec bench esp', () => {
  test('--json prints one object with pps and ratio_to_bare per transform and size', async () => {
    const r = await cli(['bench', 'esp', '--json', '--ms', '5', '--rounds', '1', '--sizes', '64,200', '--transform', 'hmac-sha-1-96/null,null/aes-gcm']);
    assert.equal(r.code, 0, r.stderr);
    // Only what the bench printed: the test runner's own reports also pass through process.stdout
    // while the command's modules load.
    const lines = r.stdout.match(/\{"unit".*\}/g) ?? [];
    assert.equal(lines.length, 1);
    const j = JSON.parse(lines[0]);
    assert.deepEqual(Object.keys(j.results), ['hmac-sha-1-96/null', 'null/aes-gcm']);
    for (const bySize of Object.values<Record<string, { pps: number; bare_pps: number; ratio_to_bare: number }>>(j.results)) {
      assert.deepEqual(Object.keys(bySize), ['64', '200']);
      for (const c of Object.values(bySize)) {
        assert.ok(c.pps > 0 && c.bare_pps > 0);
        // The ratio is taken before pps and bare_pps are rounded to integers: it lies between the
        // ratios their rounding allows, each rounded to 2 places.
        const r2 = (x: number): number => Math.round(x * 100) / 100;
        const [lo, hi] = [r2((c.pps - 0.5) / (c.bare_pps + 0.5)), r2((c.pps + 0.5) / (c.bare_pps - 0.5))];
        assert.ok(c.ratio_to_bare >= lo && c.ratio_to_bare <= hi, `ratio ${c.ratio_to_bare} within ${lo}..${hi}`);
      }
    }
  });

  test('a bad transform or size is a usage error (exit 2, one line)', async () => {
    for (const argv of [
      ['bench', 'esp', '--transform', 'hmac-sha-256/null', '--ms', '1', '--rounds', '1'],
      ['bench', 'esp', '--sizes', 'big'],
      ['bench', 'esp', '--rounds', '0'],
    ]) {
      const r = await cli(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, /^imsec: .+\n$/);
    }
  });

  test('runEspBench covers all eight transforms by default', () => {
    const r = runEspBench({ ms: 1, rounds: 1, sizes: [16] });
    assert.equal(Object.keys(r.results).length, 8);
  });
});
