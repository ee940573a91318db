/**
 * [O] attacks on `imsec core` as a child process, from another loopback address (127.0.0.2: a
 * host outside the core's trust domain), loopback only and bounded in count and size. Each test
 * runs its attack, checks that it failed, that a legitimate registration, re-registration and
 * MESSAGE still succeed, and that the core's RSS and open descriptors return near their baseline
 * (tolerances in ./support.ts: 8 descriptors, 64 MiB). Timers are shortened through the core's
 * JSON configuration so the suite runs in seconds.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { printCoreLogOnFailure, startCoreProcess, type CoreProcess } from '../support/core-process.js';
import { buildCer, DiameterFramer, encodeMessage, getValue, localCapabilities, type DiameterMessage } from '../../../src/diameter/index.js';
import { pollFor } from '../../support/wait.js';
import { ATTACKER, attackerUdp, backToBaseline, demoUe, FD_TOLERANCE, forgedMessage, legitimateFlow, report, RSS_TOLERANCE_KB, usage, type Usage } from './support.js';

const fromSource = import.meta.url.endsWith('.ts');

/** SIP TCP hygiene of the I-CSCF, shortened for the test (the defaults are 20 s / 120 s). */
const ICSCF_TCP = { partialTimeoutMs: 1500, idleTimeoutMs: 4000, maxConnectionsPerSource: 100, maxConnections: 200 };
/** The core's configuration: only the I-CSCF's TCP timers shortened (the HSS keeps its defaults: 5 s CER timer, 4 KiB before CER). */
const CONFIG = { icscf: { sipPort: 0, settings: { sip: { tcp: ICSCF_TCP } } } };

let core: CoreProcess;
printCoreLogOnFailure(() => core);
let pid: number;
let base: Usage;

before(async () => {
  core = await startCoreProcess(CONFIG, fromSource);
  pid = core.proc.pid!;
  // Warm up (first registrations allocate what every later one reuses), then take the baseline.
  await legitimateFlow(core.pcscfPort);
  base = usage(pid);
  report('baseline', 'before', base);
});

after(async () => {
  if (core) {
    const code = await core.stop();
    assert.equal(code, 0, `imsec core exit code\n${core.stderr()}`);
  }
});

/** After an attack: descriptors and RSS back near the baseline, then the legitimate flow. */
async function recovers(name: string): Promise<void> {
  const after = await backToBaseline(pid, base);
  report(name, 'after', after);
  assert.ok(after.fds <= base.fds + FD_TOLERANCE, `descriptors back near baseline: ${after.fds} vs ${base.fds}`);
  assert.ok(after.rssKb <= base.rssKb + RSS_TOLERANCE_KB, `RSS back near baseline: ${after.rssKb} kB vs ${base.rssKb} kB`);
  await legitimateFlow(core.pcscfPort);
}

describe('[O] attacks on imsec core (RFC 3325, TS 24.229 §4.4 and §5.4.3.1, RFC 6733 §5.3)', () => {
  test('[R-ANON-1] [O] P-Asserted-Identity forged to the I-CSCF never reaches the callee (RFC 3325 §5)', async () => {
    const bob = await demoUe('bob@ims.lab', core.pcscfPort);
    const evil = await attackerUdp();
    try {
      await bob.ue.register();
      const port = core.ready.icscf.sip.port as number;
      await evil.send(forgedMessage({ target: 'sip:bob@ims.lab', claimed: 'sip:alice@ims.lab', via: `${ATTACKER}:${evil.socket.address().port}`, callId: 'forged-pai-1', body: 'from alice, honest' }), port);
      assert.ok(await pollFor(() => evil.replies.some((r) => /^SIP\/2\.0 [2-6]\d\d/.test(r)), 10_000), 'the attacker gets a final response');
      report('pai-forgery', 'during', usage(pid));
      const forged = bob.received.filter((m) => m.method === 'MESSAGE' && /alice@ims\.lab/.test(m.headers.get('p-asserted-identity') ?? ''));
      assert.equal(forged.length, 0, 'bob never sees alice asserted by the attacker');
      await bob.ue.deregister();
    } finally {
      await evil.close();
      await bob.ue.stop().catch(() => undefined);
    }
    await recovers('pai-forgery');
  });

  test('[O] an originating request sent straight to the S-CSCF is refused (TS 24.229 §5.4.3.1: only the P-CSCF in Path)', async () => {
    const bob = await demoUe('bob@ims.lab', core.pcscfPort);
    const alice = await demoUe('alice@ims.lab', core.pcscfPort);
    const evil = await attackerUdp();
    try {
      await bob.ue.register();
      await alice.ue.register();
      const host = new URL((core.ready.scscf.serverName as string).replace(/^sip:/, 'http://')).hostname;
      const port = core.ready.scscf.sip.port as number;
      const msg = forgedMessage({ target: 'sip:bob@ims.lab', claimed: 'sip:alice@ims.lab', via: `${ATTACKER}:${evil.socket.address().port}`, route: `<sip:orig@${host}:${port};lr>`, callId: 'orig-direct-1', body: 'served as alice?' });
      await evil.send(msg, port);
      assert.ok(await pollFor(() => evil.replies.some((r) => /^SIP\/2\.0 [2-6]\d\d/.test(r)), 10_000), 'the attacker gets a final response');
      report('originating-direct', 'during', usage(pid));
      const final = evil.replies.find((r) => /^SIP\/2\.0 [2-6]\d\d/.test(r))!;
      assert.match(final, /^SIP\/2\.0 403/, 'refused');
      assert.equal(bob.received.filter((m) => m.method === 'MESSAGE').length, 0, 'nothing reached bob');
      await alice.ue.deregister();
      await bob.ue.deregister();
    } finally {
      await evil.close();
      await alice.ue.stop().catch(() => undefined);
      await bob.ue.stop().catch(() => undefined);
    }
    await recovers('originating-direct');
  });

  test('[R-AKA-6] [O] a REGISTER sent to the I-CSCF from outside gets its challenge without the AKA keys (TS 33.203 §6.1, TS 24.229 §7.2A.4)', async () => {
    const evil = await attackerUdp();
    try {
      const via = `${ATTACKER}:${evil.socket.address().port}`;
      const reg = [
        'REGISTER sip:ims.lab SIP/2.0',
        `Via: SIP/2.0/UDP ${via};branch=z9hG4bKkeys1`,
        'Max-Forwards: 70',
        'From: <sip:alice@ims.lab>;tag=evil2',
        'To: <sip:alice@ims.lab>',
        'Call-ID: steal-keys-1',
        'CSeq: 1 REGISTER',
        `Contact: <sip:alice@${via}>`,
        'Authorization: Digest username="alice@ims.lab", realm="ims.lab", nonce="", uri="sip:ims.lab", response=""',
        'Expires: 600',
        'Content-Length: 0',
      ];
      await evil.send(`${reg.join('\r\n')}\r\n\r\n`, core.ready.icscf.sip.port as number);
      assert.ok(await pollFor(() => evil.replies.some((r) => /^SIP\/2\.0 [2-6]\d\d/.test(r)), 10_000), 'the attacker gets a final response');
      report('register-for-keys', 'during', usage(pid));
      const final = evil.replies.find((r) => /^SIP\/2\.0 [2-6]\d\d/.test(r))!;
      assert.match(final, /^SIP\/2\.0 401/);
      assert.match(final, /nonce="/);
      assert.doesNotMatch(final, /\b(ik|ck)="?[0-9a-fA-F]{32}/, 'no IK or CK for the attacker');
    } finally {
      await evil.close();
    }
    await recovers('register-for-keys');
  });

  test('[R-AKA-7] [O] half-open registrations: 200 initial REGISTERs for known IMPIs that never finish lock nobody out, never get a 500, and a registered UE re-registers after them', async () => {
    const alice = await demoUe('alice@ims.lab', core.pcscfPort);
    const evil = await attackerUdp();
    const half = (i: number): string => {
      const impi = i % 2 === 0 ? 'alice@ims.lab' : 'bob@ims.lab';
      return [
        'REGISTER sip:ims.lab SIP/2.0',
        `Via: SIP/2.0/UDP ${ATTACKER}:${evil.socket.address().port};branch=z9hG4bKhalf${i};rport`,
        'Max-Forwards: 70',
        `From: <sip:${impi}>;tag=h${i}`,
        `To: <sip:${impi}>`,
        `Call-ID: half-open-${i}`,
        'CSeq: 1 REGISTER',
        `Contact: <sip:${ATTACKER}:${evil.socket.address().port}>`,
        `Authorization: Digest username="${impi}", realm="ims.lab", uri="sip:ims.lab", nonce="", response=""`,
        `Security-Client: ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;mod=UDP-enc-tun;spi-c=${0x80001000 + 2 * i};spi-s=${0x80001001 + 2 * i};port-c=${20000 + 2 * i};port-s=${20001 + 2 * i}`,
        'Require: sec-agree',
        'Proxy-Require: sec-agree',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    };
    const finals = (): string[] => evil.replies.filter((r) => /^SIP\/2\.0 [2-6]\d\d /.test(r));
    try {
      await alice.ue.register();
      for (let i = 0; i < 200; i++) {
        await evil.send(half(i), core.pcscfPort);
        // Paced by the answers: a half-open flood, not a UDP burst the kernel would drop.
        if (i % 20 === 19) await pollFor(() => finals().length >= i - 10, 10_000);
      }
      assert.ok(await pollFor(() => finals().length >= 200, 20_000), `every REGISTER answered (${finals().length}/200)`);
      const codes = finals().map((r) => r.slice(8, 11));
      assert.ok(!codes.includes('500'), 'never 500');
      assert.ok(codes.every((c) => c === '401' || c === '503'), `401 (one attempt per IMPI) or 503 past a cap: ${[...new Set(codes)].join(',')}`);
      const during = usage(pid);
      report('half-open', 'during', during);
      // The registered UE re-registers over its SAs: its attempt is never capped by the others'.
      const r = await alice.ue.reRegister();
      assert.ok(r.expires > 0);
      assert.equal(alice.ue.state().state, 'registered');
      await alice.ue.deregister();
    } finally {
      await alice.ue.stop().catch(() => undefined);
      await evil.close();
    }
    await recovers('half-open');
  });

  test('[O] TCP slowloris: 300 connections each holding half a request are cut by the cap and the partial-message timer', async () => {
    const port = core.ready.icscf.sip.port as number;
    const half = 'MESSAGE sip:bob@ims.lab SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.2;branch=z9hG4bKslow\r\nMax-Forwards: 70\r\n';
    const socks: Socket[] = [];
    let closedByServer = 0;
    try {
      for (let i = 0; i < 300; i++) {
        const s = connect({ port, host: '127.0.0.1', localAddress: ATTACKER });
        s.on('error', () => undefined);
        s.once('close', () => closedByServer++);
        s.once('connect', () => s.write(half));
        socks.push(s);
      }
      await pollFor(() => socks.every((s) => !s.connecting), 10_000);
      const during = usage(pid);
      report('slowloris', 'during', during);
      assert.ok(during.fds <= base.fds + ICSCF_TCP.maxConnectionsPerSource + FD_TOLERANCE, `the per-source cap holds: ${during.fds} descriptors`);
      assert.ok(await pollFor(() => closedByServer === socks.length, 15_000), `every attacking connection closed by the core (${closedByServer}/${socks.length})`);
    } finally {
      for (const s of socks) s.destroy();
    }
    await recovers('slowloris');
  });

  test('[O] TCP flood on the P-CSCF\'s unprotected port: the per-source cap (default 128) bounds it, other clients still connect, UEs still register', async () => {
    const port = core.pcscfPort;
    const half = 'REGISTER sip:ims.lab SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.2;branch=z9hG4bKflood\r\n';
    const socks: Socket[] = [];
    let refused = 0;
    try {
      for (let i = 0; i < 300; i++) {
        const s = connect({ port, host: '127.0.0.1', localAddress: ATTACKER });
        s.on('error', () => undefined);
        s.once('close', () => refused++);
        s.once('connect', () => s.write(half));
        socks.push(s);
      }
      // Every connection beyond the cap is closed by the core at once.
      await pollFor(() => refused >= 300 - 128, 10_000);
      const during = usage(pid);
      report('pcscf-tcp-flood', 'during', during);
      assert.ok(during.fds <= base.fds + 128 + FD_TOLERANCE, `the default per-source cap holds: ${during.fds} descriptors`);
      // Another host is not locked out, and UEs register and talk meanwhile.
      const other = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.3' });
      other.on('error', () => undefined);
      let otherClosed = false;
      other.once('close', () => (otherClosed = true));
      await new Promise<void>((r) => other.once('connect', () => r()));
      await legitimateFlow(core.pcscfPort);
      assert.equal(otherClosed, false, 'a client from another address keeps its connection');
      other.destroy();
    } finally {
      for (const s of socks) s.destroy();
    }
    await recovers('pcscf-tcp-flood');
  });

  test('[O] Diameter flood before CER: 100 connections announcing 4 MiB and sending 1 MiB each are cut at once, not at the CER timer (RFC 6733 §5.3)', async () => {
    const port = core.ready.hss.diameter.port as number;
    const header = Buffer.alloc(20);
    header.writeUInt8(1, 0);
    header.writeUIntBE(4 * 1024 * 1024, 1, 3);
    header.writeUInt8(0x80, 4);
    header.writeUIntBE(257, 5, 3);
    const filler = Buffer.alloc(1024 * 1024, 0x41);
    const socks: Socket[] = [];
    let closedByServer = 0;
    const started = Date.now();
    try {
      for (let i = 0; i < 100; i++) {
        const s = connect({ port, host: '127.0.0.1', localAddress: ATTACKER });
        s.on('error', () => undefined);
        s.once('close', () => closedByServer++);
        s.once('connect', () => {
          s.write(header);
          s.write(filler);
        });
        socks.push(s);
      }
      await pollFor(() => socks.every((s) => !s.connecting), 10_000);
      const during = usage(pid);
      report('diameter-pre-cer', 'during', during);
      // Well before the 5 s CER timer: the announced length alone is refused.
      assert.ok(await pollFor(() => closedByServer === socks.length, 3000), `every flooding connection closed by the HSS (${closedByServer}/${socks.length} in ${Date.now() - started} ms)`);
      assert.ok(during.rssKb <= base.rssKb + RSS_TOLERANCE_KB, `nothing buffered for them: RSS ${during.rssKb} kB vs ${base.rssKb} kB`);
    } finally {
      for (const s of socks) s.destroy();
    }
    await recovers('diameter-pre-cer');
  });

  test('[R-CX-1] [O] a Diameter peer claiming the S-CSCF\'s Origin-Host from another address gets DIAMETER_UNKNOWN_PEER, no vectors (RFC 6733 §5.3)', async () => {
    const port = core.ready.hss.diameter.port as number;
    const caps = localCapabilities({ originHost: 'scscf.ims.lab', originRealm: 'ims.lab', hostIpAddresses: [ATTACKER], peers: [] }, Date.now());
    const cer = encodeMessage({ ...buildCer(caps), hopByHop: 7, endToEnd: 7 });
    const s = connect({ port, host: '127.0.0.1', localAddress: ATTACKER });
    s.on('error', () => undefined);
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.once('connect', () => s.write(cer));
    try {
      assert.ok(await pollFor(() => Buffer.concat(got).length >= 20, 5000), 'a CEA came back');
      const answers: DiameterMessage[] = [];
      new DiameterFramer().push(Buffer.concat(got), (m) => answers.push(m));
      report('rogue-cer', 'during', usage(pid));
      assert.equal(getValue(answers[0].avps, 'Result-Code'), 3010);
      await closed;
    } finally {
      s.destroy();
    }
    await recovers('rogue-cer');
  });
});

