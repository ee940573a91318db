/**
 * `imsec core --processes --web` (cli/core-processes.ts, cli/console-feed.ts,
 * web/processes-console.ts): the console of a core whose four nodes are processes of their own.
 * The reference is the console of the same core in one process (`imsec core --web`): alice
 * registers through each with `imsec ue register` (IMS AKA, sec-agree, IPsec: TS 33.203 §6–§7,
 * TS 24.229 §5.1.1.2), and the two ladders must be the same messages on the same legs in the
 * same order, the protected ones decoded from ESP, with nothing twice. tshark, a decoder nobody
 * here wrote, reads the processes' capture with the console's esp_sa keys: every ESP ICV good, as
 * many SIP and Diameter messages as the ladder shows (the Diameter streams joined from two
 * processes' chunks). The registrations, the P-CSCF's SA table, /api/hss (passed on to the HSS
 * process) and /metrics (the four processes') answer as in one process.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { espSaArgs, tsharkDecodeArgs } from '../../src/capture/index.js';
import { printCoreLogOnFailure, startCoreProcess, type CoreProcess } from '../e2e/support/core-process.js';
import { needPeer } from '../support/peers.js';
import { cliPath } from '../support/paths.js';

const ALICE = { impi: 'alice@ims.lab', impu: 'sip:alice@ims.lab', k: '465b5ce8b199b49faa5f0a2ee238a6bc', op: 'cdc202d5123e20f62b6d676ac72cb318' };

interface Entry {
  id: number;
  leg: string;
  from: string;
  to: string;
  kind: string;
  summary: string;
  notes: string[];
  esp?: { spi: number; seq: number };
}

/** A console of a running core, read with the core's token. */
function consoleOf(core: CoreProcess): { get(path: string, init?: RequestInit): Promise<Response>; json<T>(path: string): Promise<T> } {
  const ready = core.ready as { web: { url: string }; token: string };
  const get = (path: string, init: RequestInit = {}): Promise<Response> => fetch(new URL(path, ready.web.url), { ...init, headers: { authorization: `Bearer ${ready.token}`, ...(init.headers as Record<string, string> | undefined) } });
  return { get, json: async <T>(path: string) => (await (await get(path)).json()) as T };
}

/** `imsec ue register` for alice through the core's P-CSCF; resolves with its exit code. */
function registerAlice(core: CoreProcess): Promise<{ code: number | null; err: string }> {
  const p = spawn(process.execPath, [cliPath, 'ue', 'register', '--impi', ALICE.impi, '--impu', ALICE.impu, '--k', ALICE.k, '--op', ALICE.op, '--pcscf', `127.0.0.1:${core.pcscfPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => p.on('exit', (code) => resolve({ code, err })));
}

/** Registers alice and waits until the ladder has the reg-event NOTIFY's 200 OK (TS 24.229 §5.2.3), the last message of her registration. */
async function ladderOfRegistration(core: CoreProcess): Promise<Entry[]> {
  const c = consoleOf(core);
  const r = await registerAlice(core);
  assert.equal(r.code, 0, r.err);
  let entries: Entry[] = [];
  const done = (): boolean => entries.some((e) => e.summary === '200 OK (NOTIFY)');
  for (let i = 0; i < 400 && !done(); i++) {
    entries = (await c.json<{ entries: Entry[] }>('/api/ladder')).entries;
    if (!done()) await new Promise((res) => setTimeout(res, 25));
  }
  assert.ok(done(), `the ladder ends with the NOTIFY's 200 OK:\n${entries.map((e) => e.summary).join('\n')}`);
  return entries;
}

/** What two layouts must agree on: each message's leg, ends, kind, summary, notes, and whether it came in ESP (port numbers masked: each core has its own). */
function shape(entries: Entry[]): string[] {
  return entries.map((e) => [e.leg, e.from, e.to, e.kind, e.summary, e.notes.join(','), e.esp ? 'esp' : 'clear'].join(' | ').replace(/:\d+/g, ':N'));
}

describe('imsec core --processes --web: the console of a core run as four processes', () => {
  let one: CoreProcess | undefined;
  let procs: CoreProcess | undefined;
  let reference: Entry[] = [];
  let ladder: Entry[] = [];
  printCoreLogOnFailure(() => procs);
  before(async () => {
    one = await startCoreProcess({}, false, 60_000, ['--web', '127.0.0.1:0']);
    reference = await ladderOfRegistration(one);
    procs = await startCoreProcess({}, false, 60_000, ['--processes', '--web', '127.0.0.1:0']);
    ladder = await ladderOfRegistration(procs);
  });
  after(async () => {
    await one?.stop();
    await procs?.stop();
  });

  test('[R-LAB-5] [R-SA-1] [R-REG-1] the ladder: the same messages on the same legs in the same order as one process shows, protected ones decoded from ESP, none twice', () => {
    assert.equal(procs!.ready.layout, 'processes');
    assert.match((procs!.ready as { web: { url: string } }).web.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match((procs!.ready as { web: { login: string } }).web.login, /login#token=/);
    assert.deepEqual(shape(ladder), shape(reference));
    // TS 33.203 §7.1: the second REGISTER and its 200 OK travel in the SAs; the first and its 401 in the clear.
    const uePcscf = ladder.filter((e) => e.leg === 'UE–P-CSCF').map((e) => `${e.summary} ${e.esp ? 'esp' : 'clear'}`);
    assert.deepEqual(uePcscf, ['REGISTER sip:ims.lab clear', '401 Unauthorized (REGISTER) clear', 'REGISTER sip:ims.lab esp', '200 OK (REGISTER) esp']);
    assert.equal(ladder.filter((e) => e.leg === 'S-CSCF–HSS').map((e) => e.summary).join(' '), 'MAR MAA SAR SAA');
  });

  test('[R-LAB-5] [R-SA-4] registrations and the P-CSCF SA table: alice with her implicit set, her four SAs with the SPIs her ESP carried', async () => {
    type State = { registrations: { impi: string; impus: string[]; pcscf?: { setId: number } }[]; saSets: { owner: string; impi: string; state: string; sas: { spi: number; direction: string }[] }[] };
    // The node processes report their tables a few times a second (cli/console-feed.ts): the last report may be a moment behind the ladder.
    let state: State = { registrations: [], saSets: [] };
    for (let i = 0; i < 100 && !(state.registrations[0]?.pcscf !== undefined && state.saSets.length > 0); i++) {
      if (i > 0) await new Promise((res) => setTimeout(res, 20));
      state = await consoleOf(procs!).json<State>('/api/state');
    }
    assert.deepEqual(
      state.registrations.map((r) => [r.impi, r.impus, r.pcscf !== undefined]),
      [['alice@ims.lab', ['sip:alice@ims.lab', 'tel:+15550101'], true]],
    );
    assert.equal(state.saSets.length, 1);
    const set = state.saSets[0];
    assert.deepEqual([set.owner, set.impi, set.state, set.sas.length], ['P-CSCF', 'alice@ims.lab', 'active', 4]);
    const inbound = new Set(set.sas.filter((sa) => sa.direction === 'in').map((sa) => sa.spi));
    const outbound = new Set(set.sas.filter((sa) => sa.direction === 'out').map((sa) => sa.spi));
    const esp = ladder.filter((e) => e.esp !== undefined);
    assert.ok(inbound.has(esp.find((e) => e.to === 'P-CSCF')!.esp!.spi), 'the protected REGISTER came on an inbound SA of the table');
    assert.ok(outbound.has(esp.find((e) => e.from === 'P-CSCF')!.esp!.spi), 'its 200 OK left on an outbound SA of the table');
  });

  test('[R-LAB-5] [R-SA-1] [R-CX-1] tshark reads the processes\' capture with the console\'s keys: every ESP ICV good, SIP inside, as many SIP and Diameter messages as the ladder', async (t) => {
    if (!needPeer(t, 'tshark')) return;
    const c = consoleOf(procs!);
    const dir = mkdtempSync(join(tmpdir(), 'imsec-procs-console-'));
    try {
      const pcap = Buffer.from(await (await c.get('/capture.pcap')).arrayBuffer());
      assert.equal(pcap.readUInt32LE(0), 0xa1b2c3d4, 'a pcap file');
      writeFileSync(join(dir, 'c.pcap'), pcap);
      writeFileSync(join(dir, 'c.lua'), await (await c.get('/capture.lua')).text());
      const keys = await (await c.get('/capture.keys')).text();
      assert.equal(keys.trim().split('\n').length, 4, 'the four SAs of alice');
      const r = procs!.ready as { hss: { diameter: { port: number } }; scscf: { sip: { port: number } }; icscf: { sip: { port: number } } };
      const args = [...tsharkDecodeArgs({ pcapPath: join(dir, 'c.pcap'), luaPath: join(dir, 'c.lua'), diameterPorts: [r.hss.diameter.port], sipUdpPorts: [procs!.pcscfPort, r.scscf.sip.port, r.icscf.sip.port] }), ...espSaArgs(keys)];
      const fields = ['esp.spi', 'esp.icv_good', 'sip.Method', 'sip.Status-Code', 'diameter.cmd.code'];
      const ts = spawnSync('tshark', [...args, '-T', 'fields', '-E', 'separator=;', '-E', 'occurrence=a', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(ts.status, 0, ts.stderr);
      const rows = ts.stdout.trim().split('\n').map((l) => l.split(';'));
      const esp = rows.filter((x) => x[0] !== '');
      assert.equal(esp.length, ladder.filter((e) => e.esp).length);
      for (const x of esp) assert.ok(x[1] === '1' && (x[2] !== '' || x[3] !== ''), `ESP with a good ICV and SIP inside: ${x.join(';')}`);
      const count = (cells: string[]): number => cells.filter((v) => v !== '').flatMap((v) => v.split(',')).length;
      assert.equal(count(rows.map((x) => x[2] || x[3])), ladder.filter((e) => e.kind === 'sip').length, 'SIP messages');
      // The ladder shows the Cx messages of the registration; the capture also has the CER/CEA and DWR/DWA before it.
      const cx = rows.map((x) => x[4]).filter((v) => v !== '').flatMap((v) => v.split(','));
      assert.equal(cx.filter((code) => ['300', '301', '303'].includes(code)).length, ladder.filter((e) => e.kind === 'diameter').length, `Diameter: ${cx.join(' ')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('[R-LAB-5] [R-AKA-6] no answer carries K, OP, IK, CK or an ESP key: ladder, every message text, state, metrics; the 401s show ik and ck as [secret]', async () => {
    const c = consoleOf(procs!);
    // IK and CK as the S-CSCF sent them (the capture holds them: TS 33.203 §7.2), the ESP keys as the console gives them to an authenticated user.
    const pcap = Buffer.from(await (await c.get('/capture.pcap')).arrayBuffer()).toString('latin1');
    const ikck = [...pcap.matchAll(/(?:ik|ck)="([0-9a-f]{32})"/g)].map((m) => m[1]);
    assert.ok(ikck.length >= 2, 'IK and CK found in the capture');
    const espKeys = [...(await (await c.get('/capture.keys')).text()).matchAll(/0x([0-9a-f]{32,})/g)].map((m) => m[1].slice(0, 32));
    assert.ok(espKeys.length >= 4, 'the ESP keys of the four SAs');
    const secrets = [ALICE.k, ALICE.op, ...ikck, ...espKeys];
    const texts: string[] = [];
    for (const e of ladder) {
      const r = await c.get(`/api/messages/${e.id}`);
      assert.equal(r.status, 200);
      texts.push(((await r.json()) as { text: string }).text);
    }
    assert.equal(texts.filter((t) => /ik="\[secret\]", ck="\[secret\]"/.test(t)).length, 2, 'the S-CSCF\'s 401 on the S-CSCF and I-CSCF legs, ik and ck shown as [secret]');
    for (const path of ['/api/ladder', '/api/state', '/metrics', '/api/hss/subscribers/alice%40ims.lab']) texts.push(await (await c.get(path)).text());
    for (const text of texts) for (const secret of secrets) assert.ok(!text.toLowerCase().includes(secret), 'key material in an answer');
  });

  test('[R-LAB-5] /api/hss reaches the HSS process (provisioned through it, read back), /metrics joins the four processes, and without the token neither answers', async () => {
    const c = consoleOf(procs!);
    const list = await c.json<{ subscribers: { impi: string }[] }>('/api/hss/subscribers');
    assert.deepEqual(list.subscribers.map((s) => s.impi).sort(), ['alice@ims.lab', 'bob@ims.lab']);
    const created = await c.get('/api/hss/subscribers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ impi: 'carol@ims.lab', impus: ['sip:carol@ims.lab'], k: '0396eb317b6d1c36f19c1c84cd6ffd16', opc: '53c15671c60a4b731c55b4a441c0bde2' }) });
    assert.equal(created.status, 201, await created.clone().text());
    const carol = await c.get('/api/hss/subscribers/carol%40ims.lab');
    assert.equal(carol.status, 200);
    const body = await carol.text();
    assert.match(body, /carol@ims\.lab/);
    assert.ok(!body.includes('0396eb317b6d1c36f19c1c84cd6ffd16'), 'K is write-only');
    assert.equal((await c.get('/api/hss/subscribers/nobody%40ims.lab')).status, 404);
    // A path that would resolve to another host as a URL reference stays a path of the HSS process (its 404, not a request elsewhere).
    assert.equal((await c.get('/api/hss//127.0.0.2:9/subscribers')).status, 404);
    const metrics = await (await c.get('/metrics')).text();
    for (const p of ['hss', 'scscf', 'icscf', 'pcscf']) assert.match(metrics, new RegExp(`process="${p}"`));
    const url = (procs!.ready as { web: { url: string } }).web.url;
    for (const path of ['/api/hss/subscribers', '/metrics', '/api/ladder']) assert.equal((await fetch(new URL(path, url))).status, 401, path);
  });

  test('[R-LAB-5] --no-auth off loopback is refused before any node starts: one line, exit 2', () => {
    const r = spawnSync(process.execPath, [cliPath, 'core', '--processes', '--web', '0.0.0.0:0', '--no-auth'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /--no-auth is only allowed on loopback/);
  });
});
