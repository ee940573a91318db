/**
 * `imsec probe` (dist/src/cli/main.js) inside a network namespace for the kernel tests, and the
 * subscriber file it reads (alice, with bob as the other user of the binding checks).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_SUBSCRIBERS } from '../../../src/nodes/core/index.js';
import { repoRoot } from '../../support/paths.js';

/** Runs the probe CLI in `ns`; resolves with its exit status and output. */
export function probeIn(ns: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('ip', ['netns', 'exec', ns, process.execPath, join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'probe', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Writes alice's subscriber file (bob the victim) into `dir`; returns its path. */
export function writeProbeSubscriber(dir: string): string {
  const [alice, bob] = DEMO_SUBSCRIBERS;
  const file = join(dir, 'alice.json');
  writeFileSync(file, JSON.stringify({ impi: alice.impi, impu: alice.impus[0], k: alice.k, op: alice.op, victim: { impi: bob.impi, impu: bob.impus[0] } }));
  return file;
}
