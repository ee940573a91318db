/**
 * `imsec ue register` (issue [G] §1.7) run in-process through the CLI runner against the scripted
 * P-CSCF on loopback: JSON summary, MESSAGE, de-registration, config file, exit codes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { runCli } from '../../../src/cli/program.js';
import { fileURLToPath } from 'node:url';
import { cliPath, repoRoot } from '../../support/paths.js';
import { FakePcscf, HOST, K, OPC } from './support/fake-pcscf.js';

/**
 * Runs the real CLI as a process (asynchronously: the scripted P-CSCF lives in this process).
 * Compiled tests run the compiled CLI; tests run from TypeScript run the TypeScript CLI.
 */
function imsec(...argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const compiled = fileURLToPath(import.meta.url).includes(`${join('dist', 'test')}`);
  const args = compiled ? [cliPath, ...argv] : ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), ...argv];
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
  });
}

const ID = ['--impi', 'alice@ims.lab', '--impu', 'sip:alice@ims.lab'];

describe('imsec ue register', () => {
  test('[R-SM-1] [R-SA-3] registers, sends a MESSAGE, de-registers and prints one JSON summary', async () => {
    const pc = await FakePcscf.start();
    try {
      const r = await imsec('ue', 'register', ...ID, '--k', K, '--opc', OPC, '--pcscf', `${HOST}:${pc.unprotectedPort}`, '--message', 'sip:bob@ims.lab', 'hello from the CLI', '--deregister');
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 1);
      const s = JSON.parse(lines[0]);
      assert.equal(s.registered, true);
      assert.deepEqual(s.impus, ['sip:alice@ims.lab', 'tel:+15551234']);
      assert.ok(s.ue.spiC >= 0x80000000 && s.ue.spiS >= 0x80000000);
      assert.equal(s.sas.length, 4);
      assert.deepEqual(s.message, { to: 'sip:bob@ims.lab', status: 200 });
      assert.equal(s.deregistered, true);
      assert.ok(!r.stdout.toLowerCase().includes(K) && !r.stdout.toLowerCase().includes(OPC), 'no key material in the output');
      const methods = pc.received.map((x) => `${x.req.method}${x.protected ? '/p' : ''}`);
      assert.deepEqual(methods, ['REGISTER', 'REGISTER/p', 'MESSAGE/p', 'REGISTER/p']);
    } finally {
      await pc.close();
    }
  });

  test('[R-AKA-3] --config file with flags on top; the SQN file is written and used by the next run', async () => {
    const pc = await FakePcscf.start();
    const dir = mkdtempSync(join(tmpdir(), 'imsec-ue-cli-'));
    try {
      const cfg = join(dir, 'ue.json');
      const sqn = join(dir, 'alice.sqn.json');
      writeFileSync(cfg, JSON.stringify({ impi: 'alice@ims.lab', impu: 'sip:alice@ims.lab', k: K, opc: OPC, pcscf: '127.0.0.1:1', sqnFile: sqn, expires: 300 }));
      const r = await imsec('ue', 'register', '--config', cfg, '--pcscf', `${HOST}:${pc.unprotectedPort}`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).expires, 600);
      const saved = JSON.parse(readFileSync(sqn, 'utf8'));
      assert.ok(Math.max(...saved.slots) > 0);
      assert.ok(!readFileSync(sqn, 'utf8').includes(K));
      // Replay the old network state: the fake's SEQ_HE goes back, the saved array refuses it and AUTS resyncs.
      pc.seqHe = 0;
      const again = await imsec('ue', 'register', '--config', cfg, '--pcscf', `${HOST}:${pc.unprotectedPort}`);
      assert.equal(again.code, 0, again.stderr);
      assert.ok(pc.registers().some((x) => x.auth?.auts !== undefined), 'the second run resynchronised');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await pc.close();
    }
  });

  test('[R-FAIL-2] a failed registration is one line and exit 1', async () => {
    const pc = await FakePcscf.start();
    pc.script.badMac = true;
    try {
      const r = await imsec('ue', 'register', ...ID, '--k', K, '--opc', OPC, '--pcscf', `${HOST}:${pc.unprotectedPort}`);
      assert.equal(r.code, 1);
      assert.match(r.stderr.trim(), /^imsec: registration failed: mac-failure/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    } finally {
      await pc.close();
    }
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['missing K', [...ID, '--opc', OPC, '--pcscf', '127.0.0.1:5060'], /k: must be 32 hex digits/],
    ['bad P-CSCF port', [...ID, '--k', K, '--opc', OPC, '--pcscf', '127.0.0.1:70000'], /pcscf/],
    ['OP and OPc', [...ID, '--k', K, '--op', OPC, '--opc', OPC, '--pcscf', '127.0.0.1:5060'], /--op or --opc, not both/],
    ['unknown algorithm', [...ID, '--k', K, '--opc', OPC, '--pcscf', '127.0.0.1:5060', '--integrity', 'sha9'], /integrity/],
    ['missing config file', ['--config', '/nonexistent/ue.json'], /cannot read/],
    ['--message with one value', [...ID, '--k', K, '--opc', OPC, '--pcscf', '127.0.0.1:5060', '--message', 'sip:bob@ims.lab'], /--message takes two values/],
  ];
  for (const [what, args, re] of bad) {
    test(`bad input (${what}): one line, exit 2`, async () => {
      // In-process through the CLI runner (no sockets are opened before the input is checked).
      let err = '';
      const stderr = new PassThrough().on('data', (d) => (err += d));
      const code = await runCli(['ue', 'register', ...args], { stdout: new PassThrough(), stderr });
      assert.equal(code, 2, err);
      assert.match(err, re);
      assert.equal(err.trim().split('\n').length, 1);
    });
  }
});
