#!/usr/bin/env node
// `npm run lint`: typescript-eslint (eslint.config.js) and the two dependency-cruiser layering
// checks (.dependency-cruiser.cjs, .dependency-cruiser-types.cjs). They are independent, so they run
// at the same time; each one's output is printed whole, in this order, when it ends. The exit status
// is non-zero when any of them failed. eslint is the long one (about 50 s on 2 cores, against 11 and
// 5 s), so the two others run at the lowest priority: on 2 cores they would otherwise slow it by as
// much as they take (lint 63 s instead of 54 s, measured).
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { delimiter, resolve } from 'node:path';

// The project's own tools, also when this script is run without npm.
const env = { ...process.env, PATH: [resolve('node_modules', '.bin'), process.env.PATH].join(delimiter) };

const checks = [
  ['eslint', ['.']],
  ['depcruise', ['src', '--config', '.dependency-cruiser.cjs'], { lowPriority: true }],
  ['depcruise', ['src', '--config', '.dependency-cruiser-types.cjs'], { lowPriority: true }],
];

function run([cmd, args, { lowPriority = false } = {}]) {
  return new Promise((done) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    if (lowPriority && child.pid !== undefined) setPriority(child.pid, 19);
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
