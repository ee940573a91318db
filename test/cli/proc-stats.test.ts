/**
 * cli/proc-stats.ts `CpuCounter`: the CPU time of a process group for the benchmarks, kept when a
 * process of the group exits (a Kamailio worker that crashes under `bench scscf`), where a plain
 * sum over the live processes drops it and a step's difference came out negative.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { CpuCounter, cpuMsOf } from '../../src/cli/proc-stats.js';

/** A group leader whose child burns 300 ms of CPU, says `burnt`, and exits when the leader is written to (then the leader says `gone`). */
const LEADER = `
const { spawn } = require('node:child_process');
const b = spawn(process.execPath, ['-e', "const e = Date.now() + 300; while (Date.now() < e); process.stdout.write('burnt\\\\n'); process.stdin.on('end', () => process.exit(0)); process.stdin.resume();"], { stdio: ['pipe', 'inherit', 'inherit'] });
process.stdin.once('data', () => b.stdin.end());
b.on('exit', () => process.stdout.write('gone\\n'));
process.stdin.resume();
`;

describe('CpuCounter', () => {
  test('[R-LAB-4] a process that exits keeps its CPU time in the counter, which never goes down; the live sum drops it', async () => {
    const leader = spawn(process.execPath, ['-e', LEADER], { detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      let out = '';
      leader.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      while (!out.includes('burnt')) await once(leader.stdout, 'data');
      const sel = { pgrp: leader.pid! };
      const counter = new CpuCounter();
      const withWorker = counter.read(sel);
      const liveBefore = cpuMsOf(sel);
      assert.ok(withWorker >= 200, `the worker's CPU time is counted (${withWorker} ms)`);
      assert.equal(withWorker, liveBefore);
      leader.stdin.write('x');
      while (!out.includes('gone')) await once(leader.stdout, 'data');
      const liveAfter = cpuMsOf(sel);
      assert.ok(liveAfter < liveBefore - 150, `the live sum lost the worker (${liveBefore} → ${liveAfter} ms)`);
      const after = counter.read(sel);
      assert.ok(after >= withWorker, `the counter kept it (${withWorker} → ${after} ms)`);
      assert.ok(after - withWorker < 150, 'and did not count it twice');
    } finally {
      leader.kill('SIGKILL');
      await once(leader, 'exit').catch(() => undefined);
    }
  });
});
