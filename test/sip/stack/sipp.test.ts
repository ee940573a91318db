/**
 * Interop with SIPp 3.6 (a third-party SIP implementation, ../shared/INTEROP.md): its built-in
 * `uac` scenario (INVITE, 100/180/200, ACK, BYE) against our stack as UAS, and the same call flow
 * as UAS (test/sip/stack/sipp/uas-no-timewait.xml) against our stack as UAC, over UDP and TCP on
 * loopback.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expiresOf } from '../../../src/sip/headers/index.js';
import { SipHeaders, SipRequest } from '../../../src/sip/message/index.js';
import { SipStack } from '../../../src/sip/stack/index.js';
import { openTransports } from '../../../src/sip/transport/open.js';
import { repoRoot } from '../../support/paths.js';
import { needPeer } from '../../support/peers.js';

/** Our UAS scenario: SIPp's built-in `uas` call flow without its closing 4 s timewait. */
const UAS_SCENARIO = join(repoRoot, 'test', 'sip', 'stack', 'sipp', 'uas-no-timewait.xml');

/** SIPp sends a MESSAGE, a CANCEL for it once it is answered, and a CANCEL for nothing (RFC 3261 §9.2). */
const CANCEL_NON_INVITE_SCENARIO = join(repoRoot, 'test', 'sip', 'stack', 'sipp', 'cancel-non-invite.xml');

/** SIPp sends a malformed Date the UAS does not read, then a malformed Expires it does (RFC 3261 §16.3 step 1). */
const MALFORMED_SCENARIO = join(repoRoot, 'test', 'sip', 'stack', 'sipp', 'malformed-fields.xml');

/** Runs sipp with args; resolves with its exit code and output. */
function sipp(args: string[], timeoutMs = 20000): Promise<{ code: number | null; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-sipp-'));
  return new Promise((resolve) => {
    const p = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const kill = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(kill);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, out });
    });
  });
}

/** A port free for both UDP and TCP right now (SIPp binds it a moment later). */
async function freePort(): Promise<number> {
  const ts = await openTransports({ address: '127.0.0.1' });
  const port = ts[0].local.port;
  await Promise.all(ts.map((t) => t.close()));
  return port;
}

const CALLS = 3;

describe('interop: SIPp 3.6 against the stack (RFC 3261 §17 over real sockets)', () => {
  test('§16.3 step 1 SIPp → our UAS: a malformed Date it does not read gets 200 and arrives as sent; a malformed Expires it reads gets 400', async (t) => {
    if (!needPeer(t, 'sipp')) return;
    const s = new SipStack({ transports: await openTransports({ address: '127.0.0.1' }) });
    const port = s.transportLayer.all.find((x) => x.protocol === 'udp')!.local.port;
    const dates: (string | undefined)[] = [];
    s.onRequest((req, ctx) => {
      dates.push(req.headers.get('Date'));
      ctx.reply(200, 'OK', { headers: [['Expires', String(expiresOf(req) ?? 0)]] });
    });
    try {
      const r = await sipp(['-sf', MALFORMED_SCENARIO, `127.0.0.1:${port}`, '-i', '127.0.0.1', '-p', String(await freePort()), '-t', 'u1', '-m', '1', '-timeout', '15']);
      assert.equal(r.code, 0, r.out.slice(-2000));
      assert.deepEqual(dates, ['Fri, 01 Jan 2010 16:00:00 EST', undefined]);
      assert.equal(s.counters.rejected, 0, 'nothing refused at the transport: the 400 is the reader\'s');
    } finally {
      await s.close();
    }
  });

  test('§9.2 SIPp → a proxy\'s stack: the CANCEL of an answered MESSAGE (its transaction "Completed") gets 200 and never reaches the TU; a CANCEL matching nothing gets 481', async (t) => {
    if (!needPeer(t, 'sipp')) return;
    const s = new SipStack({ transports: await openTransports({ address: '127.0.0.1' }), proxy: true });
    const port = s.transportLayer.all.find((x) => x.protocol === 'udp')!.local.port;
    const seen: string[] = [];
    s.onRequest((req, ctx) => {
      seen.push(req.method);
      ctx.reply(200, 'OK');
    });
    try {
      const r = await sipp(['-sf', CANCEL_NON_INVITE_SCENARIO, `127.0.0.1:${port}`, '-i', '127.0.0.1', '-p', String(await freePort()), '-t', 'u1', '-m', '1', '-timeout', '15']);
      assert.equal(r.code, 0, r.out.slice(-2000));
      assert.deepEqual(seen, ['MESSAGE'], 'the CANCELs are answered by the stack, not passed up');
    } finally {
      await s.close();
    }
  });

  for (const transport of ['udp', 'tcp'] as const) {
    test(`§13 / §17 SIPp uac → our UAS over ${transport.toUpperCase()}: ${CALLS} calls INVITE/100/180/200/ACK/BYE all succeed`, async (t) => {
      if (!needPeer(t, 'sipp')) return;
      const s = new SipStack({ transports: await openTransports({ address: '127.0.0.1' }) });
      const port = s.transportLayer.all[0].local.port;
      const seen: string[] = [];
      let acks = 0;
      s.onRequest((req, ctx) => {
        seen.push(`${req.method}/${ctx.transport}`);
        if (req.method === 'INVITE') {
          ctx.reply(180, 'Ringing');
          ctx.reply(200, 'OK', { headers: [['Contact', `<sip:uas@127.0.0.1:${port};transport=${transport}>`]] });
        } else ctx.reply(200, 'OK');
      });
      s.onAck(() => acks++);
      try {
        const r = await sipp(['-sn', 'uac', `127.0.0.1:${port}`, '-i', '127.0.0.1', '-p', String(await freePort()), '-t', transport === 'udp' ? 'u1' : 't1', '-m', String(CALLS), '-r', '10', '-timeout', '15']);
        assert.equal(r.code, 0, r.out.slice(-2000));
        assert.deepEqual(seen.filter((x) => x.startsWith('INVITE')).length, CALLS);
        assert.deepEqual(seen.filter((x) => x === `BYE/${transport}`).length, CALLS);
        assert.equal(acks, CALLS);
        assert.equal(s.counters.dropped.parse + s.counters.dropped.invalid + s.counters.rejected, 0);
      } finally {
        await s.close();
      }
    });

    test(`§13 / §17 our UAC → SIPp UAS over ${transport.toUpperCase()}: INVITE gets 180 and 200, ACK and BYE complete the call`, async (t) => {
      if (!needPeer(t, 'sipp')) return;
      const port = await freePort();
      const run = sipp(['-sf', UAS_SCENARIO, '-i', '127.0.0.1', '-p', String(port), '-t', transport === 'udp' ? 'u1' : 't1', '-m', '1', '-timeout', '15']);
      const s = new SipStack({ transports: await openTransports({ address: '127.0.0.1' }) });
      try {
        const dest = { address: '127.0.0.1', port, transport };
        const target = `sip:service@127.0.0.1:${port}`;
        const tag = s.newTag();
        const callId = s.newCallId('127.0.0.1');
        const from = `<sip:uac@127.0.0.1>;tag=${tag}`;
        const headers = (to: string, cseq: string) => new SipHeaders([['To', to], ['From', from], ['Call-ID', callId], ['CSeq', cseq], ['Contact', '<sip:uac@127.0.0.1>']]);
        const provisional: number[] = [];
        let ok;
        for (let attempt = 0; ; attempt++) {
          try {
            ok = await s.sendRequest(new SipRequest('INVITE', target, headers(`<${target}>`, '1 INVITE')), dest, { onProvisional: (r) => provisional.push(r.status) });
            break;
          } catch (e) {
            // SIPp may not be listening yet: a refused TCP connect or an unanswered UDP send.
            if (attempt > 20 || transport === 'udp') throw e;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        assert.equal(ok.status, 200);
        assert.ok(provisional.includes(180));
        const to = ok.headers.get('to')!;
        await s.sendStateless(new SipRequest('ACK', target, headers(to, '1 ACK')), dest);
        const bye = await s.sendRequest(new SipRequest('BYE', target, headers(to, '2 BYE')), dest);
        assert.equal(bye.status, 200);
        const r = await run;
        assert.equal(r.code, 0, r.out.slice(-2000));
      } finally {
        await s.close();
      }
    });
  }
});
