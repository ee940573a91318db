#!/usr/bin/env node
// Open-ended fuzzing (`npm run fuzz`): the property tests (test/fuzz/ and every other file using
// test/support/fuzz.ts) with random seeds and IMSEC_FUZZ_FACTOR times their runs (default 20).
// A failing input is written to test/fuzz/corpus/<target>/ (replayed by `npm test` from then on)
// and the seed is printed. Never under CI: `npm test` runs the same properties with fixed seeds.
//
//   npm run fuzz                      every property file, one round
//   npm run fuzz -- sip --rounds 5    files whose path contains "sip", five rounds (new seeds each)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

if (process.env.CI === 'true') {
  console.error('run-fuzz: not under CI (npm test runs every property with its fixed seed)');
  process.exit(2);
}

const args = process.argv.slice(2);
let rounds = 1;
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--rounds') rounds = Number(args[++i]);
  else filters.push(args[i]);
}
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error('run-fuzz: --rounds takes a positive integer');
  process.exit(2);
}

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

// Property files: the compiled tests that use test/support/fuzz (fcParams or fuzzTarget).
const files = walk('dist/test')
  .filter((f) => /support\/fuzz\.js['"]/.test(readFileSync(f, 'utf8')))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('run-fuzz: no property test file matched');
  process.exit(1);
}

for (let round = 1; round <= rounds; round++) {
  console.log(`run-fuzz: round ${round}/${rounds}, ${files.length} files`);
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-force-exit', '--test-timeout=1800000', ...files], {
    stdio: 'inherit',
    env: { ...process.env, IMSEC_FUZZ: '1' },
  });
  if (r.status !== 0) {
    console.error('run-fuzz: a property failed; its seed is printed above and its input saved under test/fuzz/corpus/');
    process.exit(r.status ?? 1);
  }
}
