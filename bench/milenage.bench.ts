/**
 * Milenage vector generation, with libosmocore's C implementation measured in the same run as
 * the baseline (issue [A]: "at least as fast as libosmocore"). The baseline needs cc and
 * libosmocore-dev (scripts/setup-peers.sh installs it); without them it is reported missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMilenageBench } from '../src/cli/bench-milenage.js';

function libosmocoreRate(): number | undefined {
  const src = fileURLToPath(new URL('../../bench/baseline/osmo-milenage.c', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'imsec-bench-'));
  try {
    const bin = join(dir, 'osmo-milenage');
    const cc = spawnSync('cc', ['-O2', src, '-losmogsm', '-losmocore', '-o', bin], { encoding: 'utf8' });
    if (cc.status !== 0) {
      console.log(`libosmocore baseline: not built (${(cc.stderr || cc.error?.message || '').split('\n')[0]})`);
      return undefined;
    }
    return Number(execFileSync(bin, { encoding: 'utf8' }).trim());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const base = libosmocoreRate();
const r = runMilenageBench();
console.log(`milenage single AV/s (median, each a different K/OPc): ${r.single_av_per_s}`);
console.log(`milenage batch-of-5 AV/s (median):                    ${r.batch_av_per_s}`);
console.log(`node:crypto single AV/s (median):                     ${r.node_crypto_single_av_per_s}`);
if (base !== undefined) {
  console.log(`libosmocore osmo_auth_gen_vec AV/s (median, same run): ${base}`);
  console.log(`ratio single/libosmocore: ${(r.single_av_per_s / base).toFixed(2)}`);
}
