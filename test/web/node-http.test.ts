/**
 * R-LAB-5 on the node processes: `imsec hss` serves its REST API and /metrics behind one
 * generated token printed in the ready line (RFC 6750 bearer), refuses --no-auth off loopback
 * before starting (one line, exit 2), and `imsec pcscf --metrics` serves Prometheus text on
 * loopback with --no-auth, still checking the Host header (RFC 9110 §15.5.20).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imsecCommand, startHssProcess } from '../nodes/hss/process.js';
import { parseExposition } from '../metrics/exposition.js';
import { startCoreProcess } from '../e2e/support/core-process.js';

function status(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP listeners of the node processes', () => {
  test('[R-LAB-5] imsec hss: one generated token for REST and /metrics; 401 without it; a token file is used and never printed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-hss-http-'));
    const base = ['--data-dir', dir, '--listen', '127.0.0.1:0', '--rest', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--peer', 'scscf.ims.lab', '--log-level', 'warn'];
    try {
      const hss = await startHssProcess(base);
      try {
        assert.match(hss.restToken ?? '', /^[A-Za-z0-9_-]{43}$/);
        const auth = { authorization: `Bearer ${hss.restToken}` };
        const rest = `http://127.0.0.1:${hss.restPort}`;
        assert.equal((await fetch(`${rest}/subscribers`)).status, 401);
        assert.equal((await fetch(`${rest}/subscribers`, { headers: auth })).status, 200);
        const metricsPort = hss.ready.metricsPort as number;
        assert.equal(hss.ready.auth, 'token');
        assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status, 401);
        const m = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { headers: auth });
        assert.equal(m.status, 200);
        assert.match(m.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
        const samples = parseExposition(await m.text());
        assert.equal(samples.get('imsec_hss_vectors_total'), 0);
        assert.ok(samples.names().has('process_resident_memory_bytes'));
      } finally {
        hss.proc.kill('SIGTERM');
        assert.equal(await hss.exited, 0);
      }
      const tokenFile = join(dir, 'token');
      writeFileSync(tokenFile, 'my-configured-token-0123456789\n', { mode: 0o600 });
      const fixed = await startHssProcess([...base, '--token-file', tokenFile]);
      try {
        assert.equal(fixed.restToken, undefined, 'a configured token is not printed');
        assert.equal((await fetch(`http://127.0.0.1:${fixed.restPort}/subscribers`, { headers: { authorization: 'Bearer my-configured-token-0123456789' } })).status, 200);
      } finally {
        fixed.proc.kill('SIGTERM');
        assert.equal(await fixed.exited, 0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('[R-LAB-5] --no-auth off loopback: one clear line, exit 2, nothing started (hss, pcscf, icscf, scscf)', () => {
    const [cmd, ...pre] = imsecCommand();
    const dir = mkdtempSync(join(tmpdir(), 'imsec-never-'));
    try {
      const r = spawnSync(cmd, [...pre, 'hss', '--data-dir', dir, '--listen', '127.0.0.1:0', '--rest', '0.0.0.0:0', '--no-auth'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr.trim(), /^imsec: --no-auth is only allowed on loopback; 0\.0\.0\.0 is not \(give a token\)$/);
      assert.deepEqual(readdirSync(dir), [], 'no store was opened');
      for (const node of ['pcscf', 'icscf', 'scscf']) {
        const n = spawnSync(cmd, [...pre, node, '--listen', '127.0.0.1:0', '--metrics', '0.0.0.0:0', '--no-auth'], { encoding: 'utf8', timeout: 20_000, cwd: dir });
        assert.equal(n.status, 2, node);
        assert.equal(n.stdout, '', `${node} printed no ready line`);
        assert.match(n.stderr.trim().split('\n').at(-1)!, /^imsec: --no-auth is only allowed on loopback/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('[R-LAB-5] imsec core --web --no-auth on loopback: console and /metrics without a token, Host still checked; off loopback: exit 2', async () => {
    const core = await startCoreProcess({}, false, 30_000, ['--web', '127.0.0.1:0', '--no-auth']);
    try {
      const ready = core.ready as { web: { url: string; port: number; login?: string }; auth: string; token?: string };
      assert.deepEqual([ready.auth, ready.token, ready.web.login], ['none', undefined, undefined]);
      assert.equal((await fetch(`${ready.web.url}api/state`)).status, 200);
      assert.equal((await fetch(`${ready.web.url}metrics`)).status, 200);
      assert.equal(await status(ready.web.port, '/api/state', { host: 'rebound.example' }), 421);
    } finally {
      assert.equal(await core.stop(), 0, core.stderr());
    }
    await assert.rejects(startCoreProcess({}, false, 30_000, ['--web', '0.0.0.0:0', '--no-auth']), /exited 2 before it was ready[\s\S]*--no-auth is only allowed on loopback/);
  });

  test('[R-LAB-5] imsec pcscf --metrics with --no-auth on loopback: served without a token, a foreign Host refused', async () => {
    const [cmd, ...pre] = imsecCommand();
    const p = spawn(cmd, [...pre, 'pcscf', '--listen', '127.0.0.1:0', '--protected-ports', 'auto', '--metrics', '127.0.0.1:0', '--no-auth', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    try {
      const port = await readyField(p, 'metricsPort');
      const ready = await readyLine(p);
      assert.equal(ready.auth, 'none');
      assert.equal(ready.token, undefined);
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(r.status, 200);
      const m = parseExposition(await r.text());
      assert.equal(m.get('imsec_sa_sets_created_total', { side: 'pcscf' }), undefined, 'no set yet: the counter has no series');
      assert.equal(m.get('imsec_port_rule_drops_total', { side: 'pcscf' }), 0);
      assert.equal(m.get('imsec_sip_transactions_total', { node: 'pcscf', role: 'server' }), 0);
      assert.equal(await status(port, '/metrics', { host: 'attacker.example' }), 421);
    } finally {
      p.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  });
});

const lines = new WeakMap<object, Promise<Record<string, unknown>>>();

/** The process's ready line (read once from stdout). */
function readyLine(p: { stdout: NodeJS.ReadableStream | null }): Promise<Record<string, unknown>> {
  let got = lines.get(p);
  if (!got) {
    got = new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('no ready line')), 20_000);
      p.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.startsWith('{"ready":true'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as Record<string, unknown>);
        }
      });
    });
    lines.set(p, got);
  }
  return got;
}

async function readyField(p: { stdout: NodeJS.ReadableStream | null }, field: string): Promise<number> {
  return (await readyLine(p))[field] as number;
}
