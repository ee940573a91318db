/**
 * `imsec icscf --config FILE` as a process: it reports its OS-chosen ports, routes a REGISTER by
 * UAR against the real HSS to a stub S-CSCF, stops on SIGTERM (exit 0), and never prints Kv — not
 * in its debug logs, not in a configuration error.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { repoRoot } from '../../support/paths.js';
import { imsecCommand, register, sipStack, startHss, startStubScscf, type Cleanup } from './harness.js';

const KV = 'c0ffee00112233445566778899aabbcc';
const cleanup: Cleanup = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!().catch(() => {});
});

describe('imsec icscf: the process', () => {
  test('[R-REG-1] [R-HIDE-1] serves on port 0, routes a REGISTER by UAR, exits 0 on SIGTERM, never logs Kv', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-icscf-cli-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const hss = await startHss(cleanup);
    const scscf = await startStubScscf(cleanup, hss.diameterPort);
    const config = join(dir, 'icscf.json');
    writeFileSync(
      config,
      JSON.stringify({
        sip: { listen: '127.0.0.1:0', protocols: ['udp', 'tcp'] },
        diameter: { hss: { connect: `127.0.0.1:${hss.diameterPort}` } },
        scscfs: [scscf.uri],
        hosts: { 'scscf.ims.lab': '127.0.0.1' },
        thig: { kv: KV, host: 'icscf.ims.lab' },
        logLevel: 'debug',
      }),
    );
    const [cmd, ...pre] = imsecCommand();
    const proc = spawn(cmd, [...pre, 'icscf', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot });
    let err = '';
    let out = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    cleanup.push(async () => void proc.kill('SIGKILL'));
    const ready = await new Promise<{ sip: { udp: number; tcp: number } }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready:\n${err}`)), 20_000);
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.startsWith('{"ready":true'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line));
        }
      });
      void exited.then((code) => reject(new Error(`exited ${code}:\n${err}`)));
    });
    assert.ok(ready.sip.udp > 0 && ready.sip.udp === ready.sip.tcp);

    const pcscf = await sipStack(cleanup);
    // The HSS connection may still be coming up: retry a 480 a few times.
    let status = 0;
    for (let i = 0; i < 50 && status !== 401; i++) {
      status = (await pcscf.stack.sendRequest(register('alice'), { address: '127.0.0.1', port: ready.sip.udp })).status;
      if (status !== 401) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 401);
    assert.equal(scscf.received.length, 1);

    proc.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(err.includes('icscf: ready') && err.includes('UAR'), 'debug logs were written');
    for (const form of [KV, KV.toUpperCase(), Buffer.from(KV, 'hex').toString('base64')]) assert.ok(!err.includes(form) && !out.includes(form), 'Kv leaked into the output');
  });

  test('a bad Kv is a configuration error: exit 2, one line, the value not repeated', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-icscf-bad-'));
    try {
      const config = join(dir, 'icscf.json');
      const bad = 'c0ffee00112233445566778899aabb';
      writeFileSync(config, JSON.stringify({ thig: { kv: bad } }));
      const [cmd, ...pre] = imsecCommand();
      const r = spawnSync(cmd, [...pre, 'icscf', '--config', config], { encoding: 'utf8', cwd: repoRoot });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^imsec: thig\.kv: must be 16 bytes/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.ok(!r.stderr.includes(bad));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
