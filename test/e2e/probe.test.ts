/**
 * `imsec probe` (R-LAB-3, issue [N]) against imsec's own P-CSCF: `imsec core` runs as a child
 * process (every port 0, userspace ESP, reg-await-auth shortened to 1.5 s), the probe as another
 * child process on loopback. Every check must PASS, each with its SPEC IDs, clause and frames
 * that exist in the pcap it wrote; the keys file holds the esp_sa records (mode 0600).
 * Bounded waits are real time: they wait for another process's packets, not for a timer of ours.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readPcap } from '../../src/capture/index.js';
import { DEMO_SUBSCRIBERS } from '../../src/nodes/core/index.js';
import { ALL_CHECKS, type ProbeReport } from '../../src/probe/index.js';
import { cliPath, repoRoot } from '../support/paths.js';
import { printCoreLogOnFailure, startCoreProcess, type CoreProcess } from './support/core-process.js';

const fromSource = import.meta.url.endsWith('.ts');

function imsec(args: string[], timeoutMs = 180_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cmd = fromSource ? [process.execPath, '--import', import.meta.resolve('tsx'), join(repoRoot, 'src', 'cli', 'main.ts')] : [process.execPath, cliPath];
  return new Promise((resolve) => {
    const p = spawn(cmd[0], [...cmd.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('imsec probe against imsec core (userspace ESP, mod=UDP-enc-tun)', () => {
  let core: CoreProcess;
  printCoreLogOnFailure(() => core);
  let dir: string;
  let target: string;
  before(async () => {
    // Logging at info: a failed test prints the core's lines of that test (printCoreLogOnFailure).
    core = await startCoreProcess({ pcscf: { sipPort: 0, protectedPorts: 'auto', settings: { registrationTimerMs: 1500 } }, logLevel: 'info' }, fromSource);
    target = `127.0.0.1:${core.pcscfPort}`;
    dir = mkdtempSync(join(tmpdir(), 'imsec-probe-'));
    const [alice, bob] = DEMO_SUBSCRIBERS;
    writeFileSync(join(dir, 'alice.json'), JSON.stringify({ impi: alice.impi, impu: alice.impus[0], k: alice.k, op: alice.op, victim: { impi: bob.impi, impu: bob.impus[0] } }));
  });
  after(async () => {
    await core?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('[R-LAB-3] [R-SM-4] [R-SM-2] [R-SA-4] [R-SA-9] [R-SA-8] [R-SA-3] [R-SA-5] [R-AKA-7] [R-SA-6] [R-AKA-6] [R-FAIL-4] every check PASSes, with SPEC IDs, clause and frames of the written pcap (TS 33.203 §7; RFC 3329 §2.3.1; RFC 4303 §3.4)', async () => {
    const pcap = join(dir, 'run.pcap');
    const keys = join(dir, 'run.keys');
    const r = await imsec(['probe', '--pcscf', target, '--subscriber', join(dir, 'alice.json'), '--json', '--pcap', pcap, '--keys', keys, '--local', '127.0.0.1', '--rate', '200', '--quiet-ms', '400', '--answer-ms', '3000', '--await-auth', '2']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const rep = JSON.parse(r.stdout) as ProbeReport & { tally: Record<string, number> };
    assert.deepEqual(rep.results.map((c) => c.id), ALL_CHECKS.map((c) => c.id), 'every check ran, in order');
    for (const c of rep.results) {
      assert.equal(c.verdict, 'PASS', `${c.id}: ${c.reason}`);
      assert.ok(c.spec.length > 0 && c.spec.every((s) => /^R-[A-Z]+-\d+$/.test(s)), `${c.id} has SPEC IDs`);
      assert.match(c.clause, /(TS \d+\.\d+|RFC \d+) §/, `${c.id} cites a clause`);
      assert.ok(c.evidence.length > 0, `${c.id} has packet evidence`);
      for (const e of c.evidence) assert.ok(e.frame >= 1 && e.frame <= rep.frames, `${c.id}: frame ${e.frame} of ${rep.frames}`);
    }
    assert.deepEqual(rep.tally, { PASS: ALL_CHECKS.length, FAIL: 0, 'NOT TESTABLE': 0 });
    assert.equal(rep.bounds.flood, 16);
    assert.equal(rep.bounds.rate, 200);
    // The pcap holds exactly the frames the report numbers; every one is loopback UDP to or from the target's address.
    const cap = readPcap(readFileSync(pcap));
    assert.equal(cap.packets.length, rep.frames);
    for (const p of cap.packets) {
      assert.equal(p.data[0] >> 4, 4);
      assert.equal(p.data[9], 17, 'UDP');
      assert.deepEqual([...p.data.subarray(12, 20)], [127, 0, 0, 1, 127, 0, 0, 1]);
    }
    // Keys: Wireshark esp_sa records, four per registered set, readable by the owner only.
    const lines = readFileSync(keys, 'utf8').trim().split('\n');
    assert.ok(lines.length >= 4 * 20, `${lines.length} esp_sa records`);
    for (const l of lines) assert.match(l, /^"IPv4","127\.0\.0\.1","127\.0\.0\.1","0x[0-9a-f]{8}","NULL","","HMAC-(SHA-1|MD5)-96 \[RFC240[34]\]","0x[0-9a-f]+"$/);
    assert.equal(statSync(keys).mode & 0o777, 0o600);
    assert.doesNotMatch(r.stdout, /465b5ce8b199b49faa5f0a2ee238a6bc|cdc202d5123e20f62b6d676ac72cb318/i, 'K/OP never printed');
  });

  test('[R-LAB-3] terminal report for --only: the verdict line, reason, SPEC ID and frames; exit 0', async () => {
    const r = await imsec(['probe', '--pcscf', target, '--subscriber', join(dir, 'alice.json'), '--only', 'esp.wrong-icv,ports', '--local', '127.0.0.1', '--quiet-ms', '400']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^PASS +esp\.wrong-icv +a packet with a wrong ICV$/m);
    assert.match(r.stdout, /^PASS +ports\.unprotected-request /m);
    assert.match(r.stdout, /^PASS +ports\.plain-on-protected /m);
    assert.doesNotMatch(r.stdout, /bid-down|availability/);
    assert.match(r.stdout, /R-FAIL-1 R-SA-8 · RFC 4303 §3\.4\.4/);
    assert.match(r.stdout, /frames: #\d+ /);
    assert.match(r.stdout, /^3 PASS, 0 FAIL, 0 NOT TESTABLE; \d+ datagrams sent/m);
  });

  test('[R-LAB-3] --datapath xfrm: the checks that need a crafted ESP packet are NOT TESTABLE with the reason, nothing sent, exit 0', async () => {
    const r = await imsec(['probe', '--pcscf', target, '--subscriber', join(dir, 'alice.json'), '--datapath', 'xfrm', '--only', 'esp.replay,esp.out-of-window,esp.reflection,esp.wrong-icv,esp.unknown-spi,binding.source', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as ProbeReport;
    assert.equal(rep.datapath, 'xfrm');
    assert.equal(rep.results.length, 6);
    for (const c of rep.results) assert.equal(c.verdict, 'NOT TESTABLE');
    assert.match(rep.results.find((c) => c.id === 'esp.replay')!.reason, /raw IP socket/);
    assert.equal(rep.datagramsSent, 0, 'nothing was sent');
  });

  test('[R-LAB-3] bad arguments: one line on stderr, exit 2, nothing sent', async () => {
    const cases: [string[], RegExp][] = [
      [['probe', '--pcscf', target], /--subscriber FILE is required/],
      [['probe', '--pcscf', target, '--subscriber', join(dir, 'alice.json'), '--pcap', join(dir, 'x.pcap')], /--pcap and --keys go together/],
      [['probe', '--pcscf', target, '--subscriber', join(dir, 'alice.json'), '--only', 'nope'], /no check named nope/],
      [['probe', '--pcscf', target, '--subscriber', join(dir, 'missing.json')], /missing\.json/],
      [['probe', '--pcscf', target, '--subscriber', join(dir, 'alice.json'), '--rate', '0'], /--rate must be/],
    ];
    for (const [args, msg] of cases) {
      const r = await imsec(args, 30_000);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, msg);
      assert.equal(r.stdout, '');
    }
  });
});
