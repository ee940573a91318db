/**
 * `imsec scscf --workers 2` as processes (node:cluster) against our HSS node object, with UEs on
 * the SIP stack over loopback: registrations with AKA whichever worker reads each datagram, a
 * MESSAGE routed by a worker that does not own the callee's registration (the replicas), a
 * reg-event subscription whose NOTIFYs come from the registration's owner and whose 200s find
 * it (the branch tags), RTRs the HSS sends to one worker for registrations both own, a clean stop
 * on SIGTERM with no worker left — on SQLite and on PostgreSQL; and the combinations the workers
 * refuse.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SeededRng, systemClock } from '../../../src/common/index.js';
import { createHss, defaultHssConfig } from '../../../src/nodes/hss/index.js';
import { workerOfAor, workerOfKey } from '../../../src/nodes/scscf/index.js';
import { SipHeaders, SipRequest, type SipResponse } from '../../../src/sip/index.js';
import { SipStack } from '../../../src/sip/stack/index.js';
import { UdpTransport, type Destination } from '../../../src/sip/transport/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { repoRoot } from '../../support/paths.js';
import { needPostgres, startPostgres } from '../../support/postgres.js';
import { imsecCommand } from '../hss/process.js';
import { provision, TestIsim } from './harness.js';

interface Ue {
  n: number;
  impu: string;
  impi: string;
  stack: SipStack;
  port: number;
  isim: TestIsim;
  inbox: SipRequest[];
  /** NOTIFY datagrams received, retransmissions included. */
  notifyDatagrams: number;
  cseq: number;
}

async function ue(n: number): Promise<Ue> {
  let notifyDatagrams = 0;
  const t = await UdpTransport.bind({ address: '127.0.0.1', port: 0, onWire: (dir, bytes) => void (dir === 'in' && Buffer.from(bytes.subarray(0, 7)).toString() === 'NOTIFY ' && notifyDatagrams++) });
  const stack = new SipStack({ transports: [t], clock: systemClock, rng: new SeededRng(`w-ue-${n}`) });
  const u: Ue = {
    n, impu: `sip:w${n}@ims.lab`, impi: `w${n}@ims.lab`, stack, port: t.local.port, isim: new TestIsim(), inbox: [], cseq: 0,
    get notifyDatagrams() {
      return notifyDatagrams;
    },
  };
  stack.onRequest((req, ctx) => {
    u.inbox.push(req);
    ctx.reply(200, 'OK');
  });
  return u;
}

function registerReq(u: Ue, authorization: string | undefined): SipRequest {
  return new SipRequest(
    'REGISTER',
    'sip:ims.lab',
    new SipHeaders([
      ['From', `<${u.impu}>;tag=r${u.n}`],
      ['To', `<${u.impu}>`],
      ['Call-ID', `reg-${u.n}`],
      ['CSeq', `${++u.cseq} REGISTER`],
      ['Contact', `<sip:w${u.n}@127.0.0.1:${u.port}>`],
      ['Expires', '600'],
      ['Authorization', authorization ?? `Digest username="${u.impi}", realm="ims.lab", nonce="", uri="sip:ims.lab", response=""`],
    ]),
  );
}

/** A Call-ID that hashes to `worker` (the worker that owns a MESSAGE's transaction). */
function callIdFor(worker: number, prefix: string): string {
  for (let i = 0; ; i++) if (workerOfKey(`${prefix}-${i}`, 2) === worker) return `${prefix}-${i}`;
}

/**
 * The whole run against one registrar store (`sqlite` in the test's directory, or a PostgreSQL
 * URL): registrations, MESSAGEs, reg-event, RTRs, stop.
 */
async function twoWorkers(store: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-scscf-workers-'));
  const hssStore = new SqliteStore(join(dir, 'hss.sqlite'));
  const N = 8;
  for (let n = 0; n < N; n++) await provision(hssStore, `w${n}@ims.lab`, [`sip:w${n}@ims.lab`]);
  const owners = Array.from({ length: N }, (_, n) => workerOfAor(`sip:w${n}@ims.lab`, 2));
  assert.ok(owners.includes(0) && owners.includes(1), `both workers own registrations: ${owners.join(',')}`);
  const hc = defaultHssConfig(dir);
  hc.diameter.listen = { host: '127.0.0.1', port: 0 };
  hc.diameter.peers = [{ host: 'scscf-w0.ims.lab' }, { host: 'scscf-w1.ims.lab' }];
  hc.rest = null;
  const hss = createHss(hc, { store: hssStore, ownsStore: true, rng: new SeededRng('workers-hss') });
  await hss.start();
  const ues: Ue[] = [];
  for (let n = 0; n < N; n++) ues.push(await ue(n));
  const cfg = join(dir, 'scscf.json');
  writeFileSync(cfg, JSON.stringify({ sip: { listen: '127.0.0.1:0', protocols: ['udp'] }, diameter: { hss: { host: 'hss.ims.lab', port: hss.diameterPort } }, store: store === 'sqlite' ? `sqlite:${join(dir, 'scscf.sqlite')}` : store, icscf: null, registrar: { sendKeys: false }, logLevel: 'warn' }));
  const [cmd, ...pre] = imsecCommand();
  const proc = spawn(cmd, [...pre, 'scscf', '--config', cfg, '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot });
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  let out = '';
  const readyLine = new Promise<Record<string, unknown>>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const i = out.indexOf('\n');
      if (i >= 0) resolve(JSON.parse(out.slice(0, i)) as Record<string, unknown>);
    });
    void exited.then((c) => reject(new Error(`exited ${c} before ready: ${err}`)));
  });
  try {
    const ready = (await readyLine) as { ready: boolean; sip: { udp: number; tcp: number | null }; serverName: string; workers: number[]; originHosts: string[] };
    assert.equal(ready.ready, true);
    assert.deepEqual(ready.originHosts, ['scscf-w0.ims.lab', 'scscf-w1.ims.lab'], 'each worker its own Diameter identity');
    assert.equal(ready.sip.tcp, null);
    assert.equal(ready.workers.length, 2);
    assert.notEqual(ready.workers[0], ready.workers[1]);
    const dest: Destination = { address: '127.0.0.1', port: ready.sip.udp, transport: 'udp' };

    // Both workers' Diameter connections must be up before the first MAR: retry the first REGISTER.
    const until = Date.now() + 20_000;
    for (const u of ues) {
      let r1: SipResponse;
      do {
        r1 = await u.stack.sendRequest(registerReq(u, undefined), dest);
        if (r1.status !== 401) await new Promise((r) => setTimeout(r, 200));
      } while (r1.status !== 401 && Date.now() < until);
      assert.equal(r1.status, 401, `w${u.n}: ${r1.status} ${err}`);
      const { authorization } = u.isim.answer(r1, { impi: u.impi });
      const r2 = await u.stack.sendRequest(registerReq(u, authorization), dest);
      assert.equal(r2.status, 200, `w${u.n}: the answer reached the worker holding the challenge`);
      assert.equal((await hssStore.getPublicIdentity(u.impu))!.state, 'REGISTERED');
    }

    // A MESSAGE whose Call-ID belongs to the worker that does not own the callee: routed by replica.
    const [a] = ues;
    for (const b of ues.slice(1)) {
      const h = new SipHeaders([
        ['Route', `<sip:orig@scscf.ims.lab:${ready.sip.udp};lr>`],
        ['From', `<${a.impu}>;tag=m${b.n}`],
        ['To', `<${b.impu}>`],
        ['Call-ID', callIdFor(1 - owners[b.n], `msg-${b.n}`)],
        ['CSeq', '1 MESSAGE'],
        ['P-Asserted-Identity', `<${a.impu}>`],
        ['Content-Type', 'text/plain'],
      ]);
      const r = await a.stack.sendRequest(new SipRequest('MESSAGE', b.impu, h, new TextEncoder().encode(`to w${b.n}`)), dest);
      assert.equal(r.status, 200, `MESSAGE to w${b.n} (owned by worker ${owners[b.n]})`);
      assert.equal(b.inbox.filter((m) => m.method === 'MESSAGE').length, 1);
      assert.equal(b.inbox.find((m) => m.method === 'MESSAGE')!.uri, `sip:w${b.n}@127.0.0.1:${b.port}`);
    }

    // Each UE subscribes to its own reg event: the owner answers and NOTIFYs (TS 24.229 §5.4.2.1.2).
    for (const u of ues) {
      const h = new SipHeaders([
        ['From', `<${u.impu}>;tag=s${u.n}`],
        ['To', `<${u.impu}>`],
        ['Call-ID', `sub-${u.n}`],
        ['CSeq', '1 SUBSCRIBE'],
        ['Contact', `<sip:w${u.n}@127.0.0.1:${u.port}>`],
        ['Event', 'reg'],
        ['Accept', 'application/reginfo+xml'],
        ['Expires', '600'],
        ['P-Asserted-Identity', `<${u.impu}>`],
      ]);
      const r = await u.stack.sendRequest(new SipRequest('SUBSCRIBE', u.impu, h), dest);
      assert.equal(r.status, 200, `SUBSCRIBE w${u.n}`);
    }
    const notifies = (u: Ue) => u.inbox.filter((m) => m.method === 'NOTIFY');
    const waitFor = async (what: string, ok: () => boolean): Promise<void> => {
      const end = Date.now() + 10_000;
      while (!ok()) {
        if (Date.now() > end) throw new Error(`${what}: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await waitFor('a first NOTIFY for every subscription', () => ues.every((u) => notifies(u).length >= 1));

    // The HSS de-registers every user through the one connection it used last: each worker acts
    // on what it owns and asks the other for the rest (TS 29.228 §6.1.3 RTR).
    for (const u of ues) {
      const results = await hss.deregister({ impi: u.impi });
      assert.deepEqual(results.map((x) => x.ok), [true], `RTR for w${u.n}`);
    }
    await waitFor('a terminating NOTIFY from each owner', () => ues.every((u) => notifies(u).some((m) => /terminated/i.test(m.headers.get('subscription-state') ?? ''))));
    // Each NOTIFY's 200 found the worker that sent it (its branch tag): no NOTIFY came again (RFC 3261 §17.1.2.2).
    await new Promise((r) => setTimeout(r, 600)); // past T1, when a NOTIFY left unanswered comes again
    for (const u of ues) assert.equal(u.notifyDatagrams, notifies(u).length, `w${u.n}: each NOTIFY once on the wire`);
    const h = new SipHeaders([['Route', `<sip:orig@scscf.ims.lab:${ready.sip.udp};lr>`], ['From', `<${a.impu}>;tag=x`], ['To', `<${ues[1].impu}>`], ['Call-ID', callIdFor(1 - owners[1], 'gone')], ['CSeq', '1 MESSAGE'], ['P-Asserted-Identity', `<${a.impu}>`]]);
    assert.notEqual((await a.stack.sendRequest(new SipRequest('MESSAGE', ues[1].impu, h), dest)).status, 200, 'the de-registered callee is gone from the replicas too');

    proc.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    for (const pid of ready.workers) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} gone`);
  } finally {
    proc.kill('SIGKILL');
    for (const u of ues) await u.stack.close();
    await hss.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('imsec scscf --workers (node:cluster, one UDP port, one store)', () => {
  test('[R-AKA-2] [R-REG-1] [R-CX-2] two workers on SQLite: AKA registrations, routing by replica, reg-event from the owner, RTR to either worker, clean stop', { timeout: 90_000 }, () => twoWorkers('sqlite'));

  test('[R-AKA-2] [R-REG-1] [R-CX-2] two workers on PostgreSQL: the same', { timeout: 120_000 }, async (t) => {
    if (!needPostgres(t)) return;
    const pg = await startPostgres();
    try {
      await twoWorkers(await pg.createDatabase());
    } finally {
      pg.stop();
    }
  });

  test('what the workers cannot serve is refused with one line and exit 2, before anything starts', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-scscf-workers-bad-'));
    try {
      const run = async (config: Record<string, unknown>, args: string[]): Promise<{ code: number | null; err: string }> => {
        const cfg = join(dir, 'c.json');
        writeFileSync(cfg, JSON.stringify(config));
        const [cmd, ...pre] = imsecCommand();
        const proc = spawn(cmd, [...pre, 'scscf', '--config', cfg, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot });
        let err = '';
        proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
        return { code, err };
      };
      const udp = { sip: { listen: '127.0.0.1:0', protocols: ['udp'] } };
      const cases: [Record<string, unknown>, string[], RegExp][] = [
        [{ sip: { listen: '127.0.0.1:0', protocols: ['udp', 'tcp'] } }, ['--workers', '2'], /^imsec: --workers serves SIP over UDP only/],
        [udp, ['--workers', '2', '--admin-stdin'], /^imsec: --workers cannot be used with --admin-stdin/],
        [udp, ['--workers', '0'], /^imsec: --workers must be an integer from 1 to 16/],
        [udp, ['--workers', 'two'], /^imsec: --workers must be an integer from 1 to 16/],
      ];
      for (const [config, args, message] of cases) {
        const r = await run(config, args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
        assert.match(r.err, message);
        assert.equal(r.err.trim().split('\n').length, 1, 'one line');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
