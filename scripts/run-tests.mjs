#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node:test.
// Arguments narrow the run: `npm test -- sip` runs files whose path contains "sip".
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('dist/test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// A test file that leaves a handle open (socket, server, timer, child) fails, naming the handles:
// test/support/leak-check preloads into every file and ends it 20 s after its last test if it is
// still alive (no --test-force-exit, which would hide the leak). --test-timeout fails a single
// test that runs away, and the whole run has a ceiling well under CI's limit.
const PER_TEST_MS = 240_000;
const WHOLE_RUN_MS = 25 * 60_000;
const LEAK_CHECK = './dist/test/support/leak-check.js';
const r = spawnSync(process.execPath, ['--import', LEAK_CHECK, '--test', '--test-concurrency=2', `--test-timeout=${PER_TEST_MS}`, ...files], {
  stdio: 'inherit',
  timeout: WHOLE_RUN_MS,
  killSignal: 'SIGKILL',
});
if (r.error) console.error(`run-tests: ${r.error.message}`);
process.exit(r.status ?? 1);
