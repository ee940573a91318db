#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node:test.
// Arguments narrow the run: `npm test -- sip` runs files whose path contains "sip".
//
// Two runs: the host run (every file outside dist/test/kernel) and the kernel tests
// (dist/test/kernel) as a separate `node --test` inside ONE user-mode Linux boot
// (scripts/lab/run.sh): this host's kernel has no ESP. They run at the same time (the guest is
// one CPU and spends much of its time waiting on timers), the kernel run's output held back and
// printed after the host run's; IMSEC_KERNEL_TESTS=after runs them one after the other. Without
// user-mode Linux the kernel run fails under CI=true and is skipped, loudly, elsewhere. The exit
// status is non-zero when either run failed.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { spawn } from 'node:child_process';

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const KERNEL_DIR = join('dist', 'test', 'kernel');
const filters = process.argv.slice(2);
const files = walk('dist/test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const isKernel = (f) => f.startsWith(KERNEL_DIR + '/');
const hostFiles = files.filter((f) => !isKernel(f));
const kernelFiles = files.filter(isKernel);

// A test file that leaves a handle open (socket, server, timer, child) fails, naming the handles:
// test/support/leak-check preloads into every file, host and kernel, and ends it 20 s after its last test if
// it is still alive (no --test-force-exit, which would hide the leak). --test-timeout fails a
// single test that runs away, and the whole run has a ceiling well under CI's limit.
const PER_TEST_MS = 240_000;
const WHOLE_RUN_MS = 25 * 60_000;
const LEAK_CHECK = './dist/test/support/leak-check.js';
// The kernel part: one boot for every kernel test file, beside the host run. Alone it took
// 221–229 s in CI for five files; on a machine loaded by other work (load 15–20 on 2 cores) the
// six files took 511 s alone, and 585 s beside a host run of 811 s (which it then did not
// lengthen). On a slow day (2026-12-05) the eight files took 722–773 s beside a host run of
// 544 s. The hard stop is 20 minutes, inside the host run's own ceiling, so that load does not
// cut it short.
const KERNEL_RUN_S = 1200;
const KERNEL_PER_TEST_MS = 240_000;

function runHost() {
  if (hostFiles.length === 0) return Promise.resolve(0);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', LEAK_CHECK, '--test', '--test-concurrency=2', `--test-timeout=${PER_TEST_MS}`, ...hostFiles], { stdio: 'inherit' });
    const timer = setTimeout(() => {
      console.error(`run-tests: the host run exceeded ${WHOLE_RUN_MS / 60_000} minutes`);
      child.kill('SIGKILL');
    }, WHOLE_RUN_MS);
    child.on('error', (e) => console.error(`run-tests: ${e.message}`));
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve(status ?? 1);
    });
  });
}

function haveUml() {
  const uml = process.env.IMSEC_LAB_UML ?? 'linux.uml';
  if (uml.includes('/')) return existsSync(uml);
  return (process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, uml)));
}

/** `ℹ tests N`, `ℹ pass N`, … of the spec reporter's summary. */
function specSummary(text) {
  const out = {};
  const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
  for (const m of plain.matchAll(/^\S* ?(tests|pass|fail|skipped|todo|cancelled) (\d+)\s*$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

/**
 * Runs a command; resolves to its exit status and what it printed. `live` copies its output
 * through as it comes; otherwise `flush()` prints it (stdout and stderr, each in order).
 */
function tee(cmd, args, live) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', live ? 'inherit' : 'pipe'] });
    let text = '';
    let errText = '';
    child.stderr?.on('data', (d) => (errText += d.toString('utf8')));
    child.stdout.on('data', (d) => {
      if (live) process.stdout.write(d);
      text += d.toString('utf8');
    });
    const flush = () => {
      if (live) return;
      process.stdout.write(text);
      process.stderr.write(errText);
    };
    child.on('error', (e) => {
      console.error(`run-tests: ${e.message}`);
      resolve({ status: 1, text, flush });
    });
    child.on('close', (status) => resolve({ status: status ?? 1, text, flush }));
  });
}

/** The kernel run; resolves to its exit status and a function printing its output and summary. */
async function runKernel(live) {
  const quiet = { flush: () => undefined };
  if (kernelFiles.length === 0) return { status: 0, ...quiet };
  if (!haveUml()) {
    const why = `kernel tests (${kernelFiles.length} files) need user-mode Linux (linux.uml): run scripts/setup-peers.sh`;
    if (process.env.CI === 'true') return { status: 1, flush: () => console.error(`run-tests: CI: ${why}`) };
    return { status: 0, flush: () => console.error(`\n!!! SKIPPED: ${why}\n`) };
  }
  const started = Date.now();
  // One boot for every kernel test file; the spec reporter's summary gives the counts.
  const { status, text, flush } = await tee('bash', [
    'scripts/lab/run.sh', '--timeout', String(KERNEL_RUN_S), '--',
    'node', '--import', LEAK_CHECK, '--test', '--test-concurrency=1', `--test-timeout=${KERNEL_PER_TEST_MS}`, '--test-reporter=spec',
    ...kernelFiles,
  ], live);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const s = specSummary(text);
  const summary =
    `kernel tests (user-mode Linux): ${s.tests ?? '?'} tests in ${kernelFiles.length} files, ${s.pass ?? '?'} passed, ${s.fail ?? '?'} failed, ` +
    `${s.skipped ?? 0} skipped, ${s.todo ?? 0} todo, ${seconds} s including boot${status === 124 ? ' (time limit reached)' : ''}`;
  return {
    status,
    flush: () => {
      flush();
      console.log(summary);
    },
  };
}

const started = Date.now();
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1);
let hostStatus;
let kernel;
if (process.env.IMSEC_KERNEL_TESTS === 'after') {
  hostStatus = await runHost();
  kernel = await runKernel(true);
} else {
  const kernelRun = runKernel(false);
  hostStatus = await runHost();
  if (hostFiles.length > 0 && kernelFiles.length > 0) console.log(`host tests done in ${seconds(started)} s; the kernel tests (running since the start):`);
  kernel = await kernelRun;
}
kernel.flush();
if (hostFiles.length > 0 && kernelFiles.length > 0) console.log(`run-tests: ${seconds(started)} s in all`);
process.exit(hostStatus !== 0 ? hostStatus : kernel.status);
