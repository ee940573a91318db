#!/usr/bin/env node
// `npm run lint`: typescript-eslint (eslint.config.mjs) and the two dependency-cruiser layering
// checks (.dependency-cruiser.cjs, .dependency-cruiser-types.cjs). They are independent and eslint
// uses one core, so they run at the same time; each one's output is printed whole, in this order,
// when it ends. The exit status is non-zero when any of them failed.
import { spawn } from 'node:child_process';
import { delimiter, resolve } from 'node:path';

// The project's own tools, also when this script is run without npm.
const env = { ...process.env, PATH: [resolve('node_modules', '.bin'), process.env.PATH].join(delimiter) };

const checks = [
  ['eslint', ['.']],
  ['depcruise', ['src', '--config', '.dependency-cruiser.cjs']],
  ['depcruise', ['src', '--config', '.dependency-cruiser-types.cjs']],
];

function run([cmd, args]) {
  return new Promise((done) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    child.on('error', (err) => done({ code: 1, text: `${cmd}: ${err.message}\n` }));
    child.on('close', (code, signal) => done({ code: code ?? (signal ? 1 : 0), text: Buffer.concat(out).toString() }));
  });
}

const results = await Promise.all(checks.map(run));
let failed = false;
results.forEach(({ code, text }, i) => {
  process.stdout.write(`> ${[checks[i][0], ...checks[i][1]].join(' ')}\n${text}`);
  if (code !== 0) failed = true;
});
process.exit(failed ? 1 : 0);
