/**
 * R-LAB-5: the console server over a real core (the demo's, in this process, on loopback) — no
 * secret in any answer, the ESP keys only to an authenticated user, sessions and cross-site
 * request forgery, server-sent events (WHATWG HTML §9.2), the HSS REST API under /api/hss.
 *
 * The demo runs its whole script (registrations, MESSAGE, re-registration, de-registrations)
 * and holds its core open while the checks run, so the ladder has every kind of message.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { MetricsHub } from '../../src/metrics/index.js';
import { parseCoreConfig } from '../../src/nodes/core/index.js';
import { DEMO_SUBSCRIBERS } from '../../src/nodes/core/subscribers.js';
import { runDemo, type DemoResult } from '../../src/nodes/demo/index.js';
import { consoleTap, demoConsoleHooks, resolveHttpAccess, type CoreConsole } from '../../src/web/index.js';
import type { SecurityAssociation } from '../../src/ipsec/index.js';

const TOKEN = 'console-test-token-0123456789';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A demo whose core stays up until `release()`; `secured` false runs it with --no-auth. */
async function heldDemo(secured: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-console-'));
  const sas: SecurityAssociation[] = [];
  const seen = new Set<string>();
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let held!: () => void;
  const holding = new Promise<void>((r) => (held = r));
  let server: CoreConsole | undefined;
  const tap = consoleTap();
  const d = demoConsoleHooks({
    hub: new MetricsHub({ processMetrics: false }),
    web: {
      tap,
      listen: { host: '127.0.0.1', port: 0 },
      access: resolveHttpAccess({ listenHost: '127.0.0.1', ...(secured ? { token: TOKEN } : { noAuth: true }) }),
      onListening: (c) => {
        server = c;
        // What the SA tables showed at any moment of the script (owners, set states).
        c.model.subscribe((e) => {
          if (e.type !== 'state') return;
          for (const set of c.model.state().saSets) seen.add(`${set.owner}|${set.state}`);
        });
      },
    },
    hold: () => {
      held();
      return released;
    },
  });
  const hooks = {
    ...d.hooks,
    onUe: (name: string, ue: Parameters<NonNullable<typeof d.hooks.onUe>>[1]) => {
      d.hooks.onUe!(name, ue);
      ue.sa.on((e) => {
        if (e.kind === 'saCreated') sas.push(e.sa);
      });
    },
  };
  const config = parseCoreConfig({ dataDir: dir, hss: { diameterPort: 0 }, scscf: { sipPort: 0 }, icscf: { sipPort: 0 }, pcscf: { sipPort: 0, protectedPorts: 'auto' }, logLevel: 'silent' });
  const done = runDemo({ config, out: () => undefined, hooks, tap });
  await Promise.race([holding, done]);
  return {
    base: server!.server.url,
    sas,
    seen,
    async stop(): Promise<DemoResult> {
      release();
      const r = await done;
      await d.close();
      rmSync(dir, { recursive: true, force: true });
      return r;
    },
  };
}

describe('console server over the demo core', () => {
  let demo: Awaited<ReturnType<typeof heldDemo>>;
  const auth = { authorization: `Bearer ${TOKEN}` };
  let secrets: string[] = [];

  before(async () => {
    demo = await heldDemo(true);
    // K and OP of the demo subscribers, and IK / CK of every SA set (hmac-sha-1-96 key = IK ‖ 0^32, aes-cbc key = CK: TS 33.203 Annex I).
    secrets = [...DEMO_SUBSCRIBERS.flatMap((s) => [s.k, s.op ?? s.opc ?? '']), ...demo.sas.flatMap((sa) => [hex(sa.keys.integrityKey.subarray(0, 16)), hex(sa.keys.encryptionKey)])].filter((s) => s.length === 32);
  });
  after(async () => {
    const r = await demo.stop();
    assert.equal(r.ok, true, r.failure?.message);
  });

  async function get(path: string, headers: Record<string, string> = auth): Promise<{ status: number; text: string; headers: Headers }> {
    const r = await fetch(demo.base + path.replace(/^\//, ''), { headers, redirect: 'manual' });
    const text = await r.text();
    for (const s of secrets) assert.ok(!text.toLowerCase().includes(s), `${path} carries key material`);
    return { status: r.status, text, headers: r.headers };
  }

  test('[R-LAB-5] [R-AKA-6] no answer carries K, OP, IK or CK: state, ladder, every message text, metrics, subscribers', async () => {
    assert.ok(secrets.length >= 2 + 2 * 3 * 2, 'keys of both users and of every SA set are checked');
    const ladder = JSON.parse((await get('/api/ladder')).text) as { entries: { id: number; summary: string; kind: string }[] };
    assert.ok(ladder.entries.length > 40);
    // One text per 401: a REGISTER retransmitted on a slow machine gets the same 401 again.
    const withIkCk = new Set<string>();
    for (const e of ladder.entries) {
      const m = await get(`/api/messages/${e.id}`);
      assert.equal(m.status, 200);
      const { text } = JSON.parse(m.text) as { text: string };
      if (/ik="\[secret\]", ck="\[secret\]"/.test(text)) withIkCk.add(text);
    }
    assert.equal(withIkCk.size, 3 * 2, 'the S-CSCF 401 of each AKA run, on the S-CSCF and I-CSCF legs, shown with [secret]');
    const maa = ladder.entries.find((e) => e.summary === 'MAA')!;
    assert.match((await get(`/api/messages/${maa.id}`)).text, /Confidentiality-Key: \[secret\][\s\S]*Integrity-Key: \[secret\]|Integrity-Key: \[secret\][\s\S]*Confidentiality-Key: \[secret\]/);
    for (const path of ['/', '/api/state', '/metrics', '/api/hss/subscribers', '/api/hss/subscribers/alice@ims.lab', '/api/hss/openapi.json', '/assets/console.js', '/capture.lua']) {
      assert.equal((await get(path)).status, 200, path);
    }
  });

  test('[R-LAB-5] [R-RR-2] the SA tables showed the P-CSCF and both UEs, and the old set beside the new one during alice\'s change-over', () => {
    for (const owner of ['P-CSCF', 'UE alice', 'UE bob']) assert.ok(demo.seen.has(`${owner}|active`), `${owner} active`);
    assert.ok(demo.seen.has('P-CSCF|old'), 'the P-CSCF kept the old set during the change-over');
    assert.ok(demo.seen.has('UE alice|old'), 'alice kept her old set until the first message on the new one');
  });

  test('[R-LAB-5] the ESP keys (esp_sa) and the capture go to an authenticated user only', async () => {
    assert.equal((await get('/capture.keys', {})).status, 401);
    assert.equal((await get('/capture.pcap', {})).status, 401);
    const r = await fetch(`${demo.base}capture.keys`, { headers: auth });
    assert.equal(r.status, 200);
    const lines = (await r.text()).trim().split('\n');
    assert.equal(lines.length, demo.sas.length, 'one esp_sa record per SA');
    const pcap = await fetch(`${demo.base}capture.pcap`, { headers: auth });
    assert.equal(Buffer.from(await pcap.arrayBuffer()).readUInt32LE(0), 0xa1b2c3d4);
  });

  test('[R-LAB-5] sign-in: a browser without a session is sent to /login; a wrong token is refused; the session cookie is HttpOnly and SameSite=Strict', async () => {
    const page = await get('/', { accept: 'text/html' });
    assert.equal(page.status, 303, 'to the login page');
    assert.equal(page.headers.get('location'), '/login');
    const bad = await fetch(`${demo.base}login`, { method: 'POST', body: new URLSearchParams({ token: 'wrong-token-0123456789' }), redirect: 'manual' });
    assert.equal(bad.status, 401);
    const ok = await fetch(`${demo.base}login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
    assert.equal(ok.status, 303, 'signed in');
    const cookie = ok.headers.get('set-cookie')!;
    assert.match(cookie, /^imsec_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\//);
    const session = { cookie: cookie.split(';')[0] };
    assert.equal((await get('/api/state', session)).status, 200);
    // A change with the cookie needs an Origin naming this server (cross-site request forgery).
    const body = JSON.stringify({ amf: '8001' });
    const url = `${demo.base}api/hss/subscribers/bob@ims.lab`;
    const forged = await fetch(url, { method: 'PATCH', headers: { ...session, 'content-type': 'application/json', origin: 'http://evil.example' }, body });
    assert.equal(forged.status, 403);
    const noOrigin = await fetch(url, { method: 'PATCH', headers: { ...session, 'content-type': 'application/json' }, body });
    assert.equal(noOrigin.status, 403);
    const same = await fetch(url, { method: 'PATCH', headers: { ...session, 'content-type': 'application/json', origin: demo.base.replace(/\/$/, '') }, body });
    assert.equal(same.status, 200, 'same origin');
    const out = await fetch(`${demo.base}logout`, { method: 'POST', headers: { ...session, origin: demo.base.replace(/\/$/, '') }, redirect: 'manual' });
    assert.equal(out.status, 303, 'signed out');
    assert.equal((await get('/api/state', session)).status, 401, 'the session is gone after sign-out');
  });

  test('[R-LAB-5] server-sent events: the ladder so far, then the state', async () => {
    const ctl = new AbortController();
    const r = await fetch(`${demo.base}api/events`, { headers: auth, signal: ctl.signal });
    assert.equal(r.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = r.body!.getReader();
    let text = '';
    while (!text.includes('event: state')) text += new TextDecoder().decode((await reader.read()).value);
    ctl.abort();
    await reader.cancel().catch(() => undefined);
    const first = /^event: message\ndata: (.*)$/m.exec(text)!;
    assert.equal(JSON.parse(first[1]).id, 1);
    assert.ok(text.indexOf('event: message') < text.indexOf('event: state'));
    for (const s of secrets) assert.ok(!text.toLowerCase().includes(s));
  });

  test('[R-LAB-5] the console refuses a foreign Host (421) and has the CSP of guard.ts', async () => {
    const port = Number(new URL(demo.base).port);
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/api/state', headers: { ...auth, host } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end();
      });
    assert.equal(await status('evil.example'), 421, 'DNS rebinding: a name of another site');
    assert.equal(await status(`localhost:${port}`), 200);
    const page = await get('/');
    assert.match(page.headers.get('content-security-policy')!, /^default-src 'none'; script-src 'self'/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
  });
});

describe('console with --no-auth on loopback', () => {
  test('[R-LAB-5] no token needed for the page and the API, but the capture and the ESP keys (key material) are refused (403)', async () => {
    const demo = await heldDemo(false);
    try {
      assert.equal((await fetch(`${demo.base}api/state`)).status, 200);
      assert.equal((await fetch(`${demo.base}api/hss/subscribers`)).status, 200);
      const keys = await fetch(`${demo.base}capture.keys`);
      assert.equal(keys.status, 403);
      assert.equal((await fetch(`${demo.base}capture.pcap`)).status, 403, 'the Cx MAAs in the capture carry CK and IK');
      assert.doesNotMatch(await keys.text(), /"0x[0-9a-f]{8}"/);
    } finally {
      const r = await demo.stop();
      assert.equal(r.ok, true, r.failure?.message);
    }
  });
});
