/**
 * `imsec ue register --stay` (issue [H] §5) against `imsec core`, both real processes on
 * loopback: it stays registered, re-registers before expiry with a new SA set (R-REG-3, R-RR-1),
 * prints every event as one JSON line, answers a MESSAGE another UE sends, and de-registers
 * cleanly on SIGTERM (TS 24.229 §5.1.1.6).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { cliPath } from '../support/paths.js';
import { startCoreProcess } from './support/core-process.js';

const ALICE = ['--impi', 'alice@ims.lab', '--impu', 'sip:alice@ims.lab', '--k', '465b5ce8b199b49faa5f0a2ee238a6bc', '--op', 'cdc202d5123e20f62b6d676ac72cb318'];
const BOB = ['--impi', 'bob@ims.lab', '--impu', 'sip:bob@ims.lab', '--k', 'fec86ba6eb707ed08905757b1bb44b8f', '--op', 'dbc59adcb6f9a0ef735477b7fadf8374'];

function run(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cliPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
  });
}

describe('imsec ue register --stay', () => {
  test('[R-REG-3] [R-RR-1] [R-RR-2] [R-SA-7] stays registered, re-registers with a new set, prints received requests, de-registers on SIGTERM', async () => {
    const core = await startCoreProcess({ scscf: { sipPort: 0, settings: { registrar: { minExpires: 1 } } } }, false);
    const stay = spawn(process.execPath, [cliPath, 'ue', 'register', ...ALICE, '--pcscf', `127.0.0.1:${core.pcscfPort}`, '--expires', '4', '--stay'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    stay.stdout.on('data', (d) => (out += d));
    stay.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => stay.on('exit', (code) => resolve(code)));
    const events = (): Record<string, any>[] => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
    const until = async (cond: (e: Record<string, any>[]) => boolean, what: string, ms = 20_000): Promise<void> => {
      const end = Date.now() + ms;
      while (!cond(events())) {
        if (Date.now() > end || stay.exitCode !== null) throw new Error(`timed out waiting for ${what}\nstdout: ${out}\nstderr: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await until((e) => e.some((x) => x.event === 'registered'), 'the registration');
      const first = events().find((x) => x.event === 'registered')!;
      assert.deepEqual(first.impus, ['sip:alice@ims.lab', 'tel:+15550101']);
      // Bob sends Alice a MESSAGE; the staying UE answers it and prints it.
      const bob = await run(['ue', 'register', ...BOB, '--pcscf', `127.0.0.1:${core.pcscfPort}`, '--message', 'sip:alice@ims.lab', 'hello alice', '--deregister']);
      assert.equal(bob.code, 0, bob.stderr);
      assert.equal(JSON.parse(bob.stdout).message.status, 200);
      await until((e) => e.some((x) => x.event === 'message'), 'the MESSAGE');
      const msg = events().find((x) => x.event === 'message')!;
      assert.equal(msg.text, 'hello alice');
      assert.ok(events().some((x) => x.event === 'request' && x.method === 'MESSAGE' && x.status === 200));
      // Expiry 4 s: the re-registration after 2 s brings a new set (new SPIs and port_uc, same port_us).
      await until((e) => e.filter((x) => x.event === 'registered').length >= 2, 'the re-registration');
      const [a, b] = events().filter((x) => x.event === 'registered');
      assert.ok(events().some((x) => x.event === 'state' && x.state === 'reregistering'));
      assert.notEqual(b.ue.spiC, a.ue.spiC);
      assert.notEqual(b.ue.portC, a.ue.portC);
      assert.equal(b.ue.portS, a.ue.portS, 'R-RR-1: port_us kept');
      assert.equal(b.pcscf.portS, a.pcscf.portS, 'R-RR-1: port_ps kept');
      assert.notEqual(b.pcscf.portC, a.pcscf.portC, 'R-RR-1: a new port_pc');
      stay.kill('SIGTERM');
      assert.equal(await exited, 0, err);
      const last = events().at(-1)!;
      assert.equal(last.event, 'deregistered');
      assert.equal(last.confirmed, true);
      assert.ok(!out.includes('465b5ce8b199b49faa5f0a2ee238a6bc'), 'no key in the output');
    } finally {
      if (stay.exitCode === null) stay.kill('SIGKILL');
      await exited;
      await core.stop();
    }
  });
});
