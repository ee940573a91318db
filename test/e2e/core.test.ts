/**
 * `imsec core` as a real process: --print-config shows every node's address and port with the
 * keys redacted, --config takes that JSON back (edited), and a soft UE (G1's library) registers
 * with IMS AKA and IPsec against a core started with every port 0, which then stops cleanly on
 * SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { cliPath, repoRoot } from '../support/paths.js';
import { createUe, parseUeConfig, type Ue } from '../../src/nodes/ue/index.js';

const fromSource = import.meta.url.endsWith('.ts');
const imsec = fromSource ? [process.execPath, '--import', import.meta.resolve('tsx'), join(repoRoot, 'src', 'cli', 'main.ts')] : [process.execPath, cliPath];

// TS 35.208 test set 4 (K, OP): a subscriber that is not one of the built-in demo ones.
const CAROL = { impi: 'carol@ims.lab', impus: ['sip:carol@ims.lab', 'tel:+15550103'], k: '9e5944aea94b81165c82fbf9f32db751', op: '223014c5806694c007ca1eeef57f004f' };

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'imsec-e2e-core-'));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], cwd: string): { proc: ChildProcess; done: Promise<Done>; stdout: () => string; stderr: () => string } {
  const proc = spawn(imsec[0], [...imsec.slice(1), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Done>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  cleanup.push(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return { proc, done, stdout: () => stdout, stderr: () => stderr };
}

async function runToEnd(args: string[], cwd: string, timeoutMs = 30_000): Promise<Done> {
  const p = start(args, cwd);
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), timeoutMs);
  const d = await p.done;
  clearTimeout(timer);
  return d;
}

describe('imsec core', () => {
  test('--print-config: every node with its address and port, realm, data directory, subscribers with keys redacted', async () => {
    const dir = tempDir();
    const r = await runToEnd(['core', '--print-config'], dir);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout) as Record<string, any>;
    assert.equal(c.realm, 'ims.lab');
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.dataDir, './.imsec');
    assert.equal(c.hss.diameterPort, 3868);
    assert.equal(c.scscf.sipPort, 6060);
    assert.equal(c.icscf.sipPort, 4060);
    assert.equal(c.pcscf.sipPort, 5060);
    assert.equal(c.pcscf.protectedPorts, '5100-5108');
    assert.equal(c.pcscf.datapath, 'userspace');
    assert.deepEqual(
      c.subscribers.map((s: { impi: string }) => s.impi),
      ['alice@ims.lab', 'bob@ims.lab'],
    );
    for (const s of c.subscribers) {
      assert.equal(s.k, '[secret]');
      assert.equal(s.op, '[secret]');
      assert.ok(s.impus.some((u: string) => u.startsWith('tel:')), 'a tel IMPU in the implicit set');
    }
    assert.doesNotMatch(r.stdout, /[0-9a-f]{32}/, 'no key in the printed configuration');
    assert.ok(!existsSync(join(dir, '.imsec')), 'printing the configuration creates nothing');
  });

  test('--config takes the printed configuration back, edited; a mistake is refused with exit 2', async () => {
    const dir = tempDir();
    const printed = JSON.parse((await runToEnd(['core', '--print-config'], dir)).stdout) as Record<string, any>;
    printed.hss.diameterPort = 0;
    printed.scscf.sipPort = 0;
    printed.pcscf.protectedPorts = 'auto';
    printed.dataDir = join(dir, 'data');
    printed.pcscf.settings = { policy: { algs: ['hmac-md5-96'] } };
    printed.subscribers.push({ ...CAROL, amf: '8000' });
    writeFileSync(join(dir, 'core.json'), JSON.stringify(printed));
    const again = await runToEnd(['core', '--config', 'core.json', '--print-config'], dir);
    assert.equal(again.code, 0, again.stderr);
    const back = JSON.parse(again.stdout) as Record<string, any>;
    // The edits survive; alice's and bob's "[secret]" stand for their built-in keys; carol's key is redacted on output.
    assert.deepEqual(back, { ...printed, subscribers: [...printed.subscribers.slice(0, 2), { ...CAROL, k: '[secret]', op: '[secret]', amf: '8000' }] });

    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...printed, hss: { ...printed.hss, diameterPrt: 1 } }));
    const bad = await runToEnd(['core', '--config', 'bad.json', '--print-config'], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^imsec: hss\.diameterPrt: unknown setting/m);

    writeFileSync(join(dir, 'redacted.json'), JSON.stringify({ subscribers: [{ ...CAROL, k: '[secret]' }] }));
    const red = await runToEnd(['core', '--config', 'redacted.json', '--print-config'], dir);
    assert.equal(red.code, 2);
    assert.match(red.stderr, /^imsec: subscribers\[0\]\.k: is redacted/m);
  });

  test('[R-REG-1] [R-REG-2] [R-SM-6] [R-SA-3] a UE registers against a running imsec core (every port 0); SIGTERM stops every node cleanly', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'core.json'),
      JSON.stringify({
        dataDir: join(dir, 'data'),
        hss: { diameterPort: 0 },
        scscf: { sipPort: 0 },
        icscf: { sipPort: 0 },
        pcscf: { sipPort: 0, protectedPorts: 'auto' },
        subscribers: [CAROL],
        logLevel: 'warn',
      }),
    );
    const core = start(['core', '--config', 'core.json'], dir);
    const ready = await new Promise<Record<string, any>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line\n${core.stderr()}`)), 30_000);
      const poll = setInterval(() => {
        const line = core.stdout().split('\n').find((l) => l.startsWith('{"ready":true'));
        if (line) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve(JSON.parse(line));
        }
      }, 20);
      void core.done.then((d) => {
        clearInterval(poll);
        clearTimeout(timer);
        reject(new Error(`imsec core exited ${d.code} before it was ready\n${d.stderr}`));
      });
    });
    for (const node of ['scscf', 'icscf', 'pcscf']) assert.ok(ready[node].sip.port > 0, `${node} port`);
    assert.ok(ready.hss.diameter.port > 0);
    assert.match(ready.scscf.serverName, new RegExp(`^sip:scscf\\.ims\\.lab:${ready.scscf.sip.port}$`));
    assert.deepEqual(ready.subscribers, ['carol@ims.lab']);

    let ue: Ue | undefined;
    try {
      ue = createUe(
        parseUeConfig({ impi: CAROL.impi, impu: CAROL.impus[0], k: CAROL.k, op: CAROL.op, pcscf: `127.0.0.1:${ready.pcscf.sip.port}`, reRegister: { auto: false }, subscribeRegEvent: false }),
      );
      await ue.start();
      const reg = await ue.register();
      assert.deepEqual(reg.impus, CAROL.impus, 'the implicit set reaches the UE');
      assert.equal(ue.state().state, 'registered');
      const sas = ue.sa.sas();
      assert.equal(sas.length, 4);
      assert.ok(sas.filter((s) => s.direction === 'in').every((s) => s.spi >= 0x80000000), 'the UE chose its inbound SPIs with the MSB set');
      const resp = await ue.sendMessage(CAROL.impus[0], 'note to self through the core');
      assert.equal(resp.status, 200);
    } finally {
      await ue?.stop();
    }
    core.proc.kill('SIGTERM');
    const end = await Promise.race([core.done, new Promise<Done>((_, reject) => setTimeout(() => reject(new Error('no exit 10 s after SIGTERM')), 10_000))]);
    assert.equal(end.code, 0, end.stderr);
    assert.doesNotMatch(end.stderr, /"level":(50|60)/, 'no error logged');
    assert.ok(!end.stdout.includes(CAROL.k) && !end.stderr.includes(CAROL.k), 'K never in the output');
  });
});
