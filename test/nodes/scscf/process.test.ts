/**
 * `imsec scscf` as a process (the compiled CLI under npm test, the TypeScript entry through tsx
 * otherwise) against our HSS node object: configuration file, ready line, a UE registering over
 * UDP, the operator commands on stdin, and a clean stop on SIGTERM. Also the configuration parser.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SeededRng, systemClock } from '../../../src/common/index.js';
import { defaultHssConfig, createHss } from '../../../src/nodes/hss/index.js';
import { defaultScscfConfig, parseScscfConfig } from '../../../src/nodes/scscf/index.js';
import { SipHeaders, SipRequest } from '../../../src/sip/index.js';
import { SipStack } from '../../../src/sip/stack/index.js';
import { UdpTransport } from '../../../src/sip/transport/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { repoRoot } from '../../support/paths.js';
import { imsecCommand } from '../hss/process.js';
import { provision, TestIsim } from './harness.js';

describe('S-CSCF configuration (nodes/scscf/config.ts)', () => {
  test('defaults are the lab deployment; a partial file keeps the rest', () => {
    const d = defaultScscfConfig();
    assert.equal(d.serverName, 'sip:scscf.ims.lab:6060');
    assert.deepEqual(d.sip.listen, { host: '127.0.0.1', port: 6060 });
    assert.equal(d.diameter.originHost, 'scscf.ims.lab');
    assert.equal(d.registrar.awaitAuthSeconds, 240);
    const c = parseScscfConfig({ registrar: { authItems: 3 }, diameter: { hss: { host: 'hss2.ims.lab', port: 3869 } } });
    assert.equal(c.registrar.authItems, 3);
    assert.equal(c.registrar.minExpires, 60);
    assert.deepEqual(c.diameter.hss, { host: 'hss2.ims.lab', realm: 'ims.lab', port: 3869 });
  });

  test('unknown keys and bad values are CONFIG errors naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [{ registar: {} }, /registar/],
      [{ registrar: { minExpires: 0 } }, /registrar\.minExpires/],
      [{ registrar: { minExpires: 100, maxExpires: 50, defaultExpires: 60 } }, /registrar\.minExpires/],
      [{ registrar: { authScheme: 'MD5' } }, /registrar\.authScheme/],
      [{ serverName: 'tel:+1' }, /serverName/],
      [{ sip: { listen: 'nowhere' } }, /sip\.listen/],
      [{ sip: { protocols: ['sctp'] } }, /sip\.protocols/],
      [{ icscf: 'http://x' }, /icscf/],
      [[], /config/],
    ];
    for (const [raw, field] of bad) assert.throws(() => parseScscfConfig(raw), (e: unknown) => (e as { code?: string }).code === 'CONFIG' && field.test((e as Error).message), JSON.stringify(raw));
  });
});

describe('imsec scscf (process)', () => {
  test('[R-REG-2] starts from a config file, registers a UE with AKA, answers operator commands on stdin, stops on SIGTERM', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-scscf-proc-'));
    const hssStore = new SqliteStore(join(dir, 'hss.sqlite'));
    await provision(hssStore, 'alice@ims.lab', ['sip:alice@ims.lab']);
    const hc = defaultHssConfig(dir);
    hc.diameter.listen = { host: '127.0.0.1', port: 0 };
    hc.diameter.peers = [{ host: 'scscf.ims.lab' }];
    hc.rest = null;
    const hss = createHss(hc, { store: hssStore, ownsStore: true, rng: new SeededRng('proc-hss') });
    await hss.start();
    const t = await UdpTransport.bind({ address: '127.0.0.1', port: 0 });
    const ue = new SipStack({ transports: [t], clock: systemClock });
    const cfg = join(dir, 'scscf.json');
    writeFileSync(cfg, JSON.stringify({ sip: { listen: '127.0.0.1:0', protocols: ['udp', 'tcp'] }, diameter: { hss: { host: 'hss.ims.lab', port: hss.diameterPort } }, store: `sqlite:${join(dir, 'scscf.sqlite')}`, logLevel: 'warn' }));
    const [cmd, ...pre] = imsecCommand();
    const proc = spawn(cmd, [...pre, 'scscf', '--config', cfg, '--admin-stdin'], { stdio: ['pipe', 'pipe', 'pipe'], cwd: repoRoot });
    const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const lines: Record<string, unknown>[] = [];
    let buf = '';
    const waiters: (() => void)[] = [];
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
        buf = buf.slice(i + 1);
        waiters.splice(0).forEach((w) => w());
      }
    });
    const nextLine = async (n: number): Promise<Record<string, unknown>> => {
      const until = Date.now() + 20_000;
      while (lines.length < n) {
        if (Date.now() > until) throw new Error(`no output line ${n}:\n${err}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
      return lines[n - 1];
    };
    try {
      const ready = (await nextLine(1)) as { ready: boolean; sip: { udp: number; tcp: number }; serverName: string };
      assert.equal(ready.ready, true);
      assert.equal(ready.sip.udp, ready.sip.tcp, 'UDP and TCP on one port');
      assert.equal(ready.serverName, `sip:scscf.ims.lab:${ready.sip.udp}`);
      const dest = { address: '127.0.0.1', port: ready.sip.udp, transport: 'udp' as const };
      const reg = (cseq: number, auth: string) =>
        new SipRequest('REGISTER', 'sip:ims.lab', new SipHeaders([['From', '<sip:alice@ims.lab>;tag=a'], ['To', '<sip:alice@ims.lab>'], ['Call-ID', 'p1'], ['CSeq', `${cseq} REGISTER`], ['Contact', `<sip:alice@127.0.0.1:${t.local.port}>`], ['Expires', '600'], ['Authorization', auth]]));
      // The HSS side of the connection must be up too before the first MAR.
      const until = Date.now() + 10_000;
      let r1 = await ue.sendRequest(reg(1, 'Digest username="alice@ims.lab", realm="ims.lab", nonce="", uri="sip:ims.lab", response=""'), dest);
      while (r1.status !== 401 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 200));
        r1 = await ue.sendRequest(reg(1, 'Digest username="alice@ims.lab", realm="ims.lab", nonce="", uri="sip:ims.lab", response=""'), dest);
      }
      assert.equal(r1.status, 401);
      const { authorization } = new TestIsim().answer(r1);
      assert.equal((await ue.sendRequest(reg(2, authorization), dest)).status, 200);
      assert.equal((await hssStore.getPublicIdentity('sip:alice@ims.lab'))!.state, 'REGISTERED');
      proc.stdin.write('registrations\n');
      const regs = (await nextLine(2)) as { ok: boolean; registrations: { aor: string; contacts: { uri: string }[] }[] };
      assert.deepEqual(regs.registrations.map((r) => [r.aor, r.contacts[0].uri]), [['sip:alice@ims.lab', `sip:alice@127.0.0.1:${t.local.port}`]]);
      proc.stdin.write('reauth sip:alice@ims.lab 30\n');
      assert.deepEqual(await nextLine(3), { ok: true, command: 'reauth', impu: 'sip:alice@ims.lab', seconds: 30 });
      proc.stdin.write('deregister sip:alice@ims.lab\n');
      assert.deepEqual(await nextLine(4), { ok: true, command: 'deregister', impu: 'sip:alice@ims.lab' });
      assert.equal((await hssStore.getPublicIdentity('sip:alice@ims.lab'))!.state, 'NOT_REGISTERED', 'SAR ADMINISTRATIVE_DEREGISTRATION reached the HSS');
      proc.stdin.write('bogus\n');
      assert.equal((await nextLine(5)).ok, false);
      proc.kill('SIGTERM');
      assert.equal(await exited, 0, err);
    } finally {
      proc.kill('SIGKILL');
      await ue.close();
      await hss.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a configuration file that does not parse: exit 2 and one line on stderr', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-scscf-bad-'));
    try {
      const cfg = join(dir, 'bad.json');
      writeFileSync(cfg, JSON.stringify({ registrar: { minExpires: -1 } }));
      const [cmd, ...pre] = imsecCommand();
      const proc = spawn(cmd, [...pre, 'scscf', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot });
      let err = '';
      proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
      assert.equal(code, 2);
      assert.match(err, /^imsec: registrar\.minExpires: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
