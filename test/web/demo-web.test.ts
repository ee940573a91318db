/**
 * R-LAB-5: `imsec demo --web` as a child process. The console is announced before the first
 * step (a login link with a generated token), stays up after the demo until SIGTERM, and a
 * scrape of its /metrics after the demo shows the counts of the demo's script (two initial
 * registrations, one re-registration with SA change-over, two de-registrations; TS 33.203 §6–§7).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { imsecCommand } from '../nodes/hss/process.js';
import { parseExposition } from '../metrics/exposition.js';

describe('imsec demo --web', () => {
  test('[R-LAB-5] the console serves during and after the demo; /metrics after it shows the demo\'s counts; SIGTERM ends it with exit 0', { timeout: 90_000 }, async () => {
    const [cmd, ...pre] = imsecCommand();
    const p = spawn(cmd, [...pre, 'demo', '--web', '127.0.0.1:0', '--no-color'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    let out = '';
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the demo did not finish:\n${out}\n${err}`)), 60_000);
        p.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('still serving')) {
            clearTimeout(timer);
            resolve();
          }
        });
        void exited.then((code) => reject(new Error(`the demo exited ${code}:\n${out}\n${err}`)));
      });
      const lines = out.split('\n');
      const first = lines.findIndex((l) => l.startsWith('console  http://'));
      assert.ok(first >= 0 && first < lines.findIndex((l) => l.includes('alice registers')), 'the console is announced before the first step');
      const login = /^console {2}(http:\/\/127\.0\.0\.1:(\d+)\/)login#token=([A-Za-z0-9_-]{43})$/.exec(lines[first])!;
      assert.ok(login, lines[first]);
      const [, base, , token] = login;
      assert.match(out, /✔ no SA, no registration left on any node/);
      assert.equal((await fetch(`${base}metrics`)).status, 401);
      const m = parseExposition(await (await fetch(`${base}metrics`, { headers: { authorization: `Bearer ${token}` } })).text());
      assert.equal(m.get('imsec_registrations_total', { kind: 'initial', outcome: 'success' }), 2);
      assert.equal(m.get('imsec_registrations_total', { kind: 're', outcome: 'success' }), 1);
      assert.equal(m.get('imsec_registrations_total', { kind: 'de', outcome: 'success' }), 2);
      assert.equal(m.get('imsec_sa_sets_created_total', { side: 'ue' }), 3);
      assert.equal(m.get('imsec_sa_sets_deleted_total', { side: 'pcscf', reason: 'deregistered' }), 3, 'the old set lives 64·T1 past the change-over (R-RR-2): the de-registrations end all three');
      assert.equal(m.get('imsec_diameter_requests_total', { node: 'hss', role: 'server', command: 'MAR', result: '2001' }), 3);
      const state = (await (await fetch(`${base}api/state`, { headers: { authorization: `Bearer ${token}` } })).json()) as { registrations: unknown[]; saSets: unknown[]; messages: number };
      assert.deepEqual([state.registrations.length, state.saSets.length], [0, 0]);
      assert.ok(state.messages > 60, `the whole ladder is kept (${state.messages})`);
    } finally {
      p.kill('SIGTERM');
      assert.equal(await exited, 0, err);
    }
  });
});
