import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, SeededRng } from '../../../src/common/index.js';
import { expiresOf, maxForwardsOf, parsePAssociatedUri, topVia, viaBranch, viasOf } from '../../../src/sip/headers/index.js';
import { SipHeaders, SipRequest, type SipResponse } from '../../../src/sip/message/index.js';
import { SipStack, withoutTopVia, type RequestContext, type SipStackOptions } from '../../../src/sip/stack/index.js';
import { openTransports } from '../../../src/sip/transport/open.js';
import { rawUdp, refusingTcpPort, requestText } from '../transport/raw-peers.js';
import { waitFor as waitUntil } from '../../support/wait.js';

const open: { close(): Promise<void> }[] = [];
after(async () => {
  for (const o of open) await o.close();
});

async function stack(address = '127.0.0.1', opts: Partial<SipStackOptions> = {}): Promise<SipStack> {
  const s = new SipStack({ transports: await openTransports({ address }), ...opts });
  open.push(s);
  return s;
}
function port(s: SipStack, protocol: 'udp' | 'tcp'): number {
  return s.transportLayer.all.find((t) => t.protocol === protocol)!.local.port;
}
function newRequest(s: SipStack, method: string, host = '127.0.0.1', body?: string): SipRequest {
  const h = new SipHeaders([
    ['To', `<sip:bob@${host.includes(':') ? `[${host}]` : host}>`],
    ['From', `<sip:alice@example.com>;tag=${s.newTag()}`],
    ['Call-ID', s.newCallId('example.com')],
    ['CSeq', `1 ${method}`],
  ]);
  if (body) h.append('Content-Type', 'text/plain');
  return new SipRequest(method, `sip:bob@${host.includes(':') ? `[${host}]` : host}`, h, body ? Buffer.from(body) : undefined);
}

for (const [fam, address] of [
  ['IPv4', '127.0.0.1'],
  ['IPv6', '::1'],
] as const) {
  for (const transport of ['udp', 'tcp'] as const) {
    test(`§8.1 / §17 end to end over ${transport.toUpperCase()} ${fam}: request, transaction, final response, and the transport context at the server`, async () => {
      const a = await stack(address);
      const b = await stack(address);
      let seen: RequestContext | undefined;
      b.onRequest((req, ctx) => {
        seen = ctx;
        ctx.reply(200, 'OK');
      });
      const resp = await a.sendRequest(newRequest(a, 'OPTIONS', address), { address, port: port(b, transport), transport });
      assert.equal(resp.status, 200);
      assert.ok(seen);
      assert.equal(seen.transport, transport);
      assert.deepEqual(seen.local, { address, port: port(b, transport) });
      assert.equal(seen.remote.address, address);
      if (transport === 'udp') assert.equal(seen.remote.port, port(a, 'udp'), 'UDP requests leave from the bound port');
      assert.equal(viasOf(resp).length, 1);
      assert.equal(topVia(resp)!.transport, transport.toUpperCase());
    });
  }
}

describe('RFC 3261 §17.1.1 INVITE through two stacks', () => {
  test('§17.1.1.3 a rejected INVITE: 100 and 180 reach the caller, the final 486 resolves, the ACK confirms the server transaction', async () => {
    const a = await stack();
    const b = await stack();
    let serverTx: RequestContext['tx'];
    b.onRequest((req, ctx) => {
      serverTx = ctx.tx;
      ctx.reply(180, 'Ringing');
      ctx.reply(486, 'Busy Here');
    });
    const provisional: number[] = [];
    const resp = await a.sendRequest(newRequest(a, 'INVITE'), { address: '127.0.0.1', port: port(b, 'udp') }, { onProvisional: (r) => provisional.push(r.status) });
    assert.equal(resp.status, 486);
    assert.deepEqual(provisional, [100, 180]);
    await waitUntil(() => serverTx?.state === 'confirmed');
  });

  test('RFC 6026 §7.1 an accepted INVITE: the caller ACKs the 2xx statelessly and the callee\'s ACK handler gets it', async () => {
    const a = await stack();
    const b = await stack();
    const acks: SipRequest[] = [];
    b.onRequest((req, ctx) => void ctx.reply(200, 'OK'));
    b.onAck((ack) => acks.push(ack));
    const inv = newRequest(a, 'INVITE');
    const ok = await a.sendRequest(inv, { address: '127.0.0.1', port: port(b, 'udp') });
    assert.equal(ok.status, 200);
    const ack = newRequest(a, 'ACK');
    ack.headers.set('Call-ID', inv.headers.get('call-id')!);
    ack.headers.set('CSeq', '1 ACK');
    ack.headers.set('To', ok.headers.get('to')!);
    await a.sendStateless(ack, { address: '127.0.0.1', port: port(b, 'udp') });
    await waitUntil(() => acks.length === 1);
    assert.notEqual(viaBranch(topVia(acks[0])!), viaBranch(topVia(inv)!), 'the 2xx ACK is its own transaction (new branch)');
  });
});

describe('RFC 3261 §17 timers and retransmissions with real sockets and a manual clock', () => {
  test('§17.1.2.2 an unanswered OPTIONS is retransmitted on Timer E and rejected with SIP_TIMEOUT at Timer F', async () => {
    const clock = new ManualClock();
    const a = await stack('127.0.0.1', { clock });
    const silentPeer = await rawUdp();
    open.push(silentPeer);
    const p = a.sendRequest(newRequest(a, 'OPTIONS'), { address: '127.0.0.1', port: silentPeer.port });
    const outcome = p.then(() => 'resolved', (e: { code?: string }) => e.code);
    await silentPeer.next();
    for (const step of [500, 1000, 2000]) {
      clock.advance(step);
      const d = await silentPeer.next();
      assert.match(d.text, /^OPTIONS /);
    }
    clock.advance(32000);
    assert.equal(await outcome, 'SIP_TIMEOUT');
    assert.deepEqual(a.transactions.size, { clients: 0, servers: 0 });
  });

  test('§17.2.2 a retransmitted request is absorbed by the server transaction and answered with the same response', async () => {
    const b = await stack();
    let calls = 0;
    b.onRequest((req, ctx) => {
      calls++;
      ctx.reply(401, 'Unauthorized');
    });
    const peer = await rawUdp();
    open.push(peer);
    const text = requestText({ method: 'REGISTER', via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKretx` });
    await peer.send(text, port(b, 'udp'));
    const first = await peer.next();
    await peer.send(text, port(b, 'udp'));
    const second = await peer.next();
    assert.equal(calls, 1);
    assert.match(first.text, /^SIP\/2\.0 401 /);
    assert.equal(second.text, first.text, 'byte-identical retransmission, same To tag');
  });

  test('§8.2 a request handler that throws leaves no request unanswered: 500', async () => {
    const a = await stack();
    const b = await stack();
    b.onRequest(() => {
      throw new Error('boom');
    });
    assert.equal((await a.sendRequest(newRequest(a, 'OPTIONS'), { address: '127.0.0.1', port: port(b, 'udp') })).status, 500);
  });

  test('§16.3 step 1 / §8.2: a header field the handler reads and cannot parse gets 400 naming it; one it does not read reaches it unchanged', async () => {
    const a = await stack();
    const b = await stack();
    const dates: (string | undefined)[] = [];
    b.onRequest(async (req, ctx) => {
      dates.push(req.headers.get('Date'));
      await Promise.resolve();
      ctx.reply(200, 'OK', { headers: [['Expires', String(expiresOf(req) ?? 0)]] });
    });
    const dest = { address: '127.0.0.1', port: port(b, 'udp') };
    const badDate = newRequest(a, 'OPTIONS');
    badDate.headers.append('Date', 'Fri, 01 Jan 2010 16:00:00 EST');
    assert.equal((await a.sendRequest(badDate, dest)).status, 200);
    assert.deepEqual(dates, ['Fri, 01 Jan 2010 16:00:00 EST']);
    const badExpires = newRequest(a, 'OPTIONS');
    badExpires.headers.append('Expires', 'soon');
    const r = await a.sendRequest(badExpires, dest);
    assert.equal(r.status, 400);
    assert.equal(r.reason, 'Bad Expires');
  });

  test('§21.5.3: a header field of a response from downstream that the proxying handler reads and cannot parse gets 502, not 400 (the request is not at fault)', async () => {
    const a = await stack();
    const b = await stack('127.0.0.1', { proxy: true });
    const c = await stack();
    c.onRequest((_req, ctx) => void ctx.reply(200, 'OK', { headers: [['P-Associated-URI', '<sip:alice@example.com']] }));
    b.onRequest(async (req, ctx) => {
      const resp = await ctx.proxy().forward(req, { address: '127.0.0.1', port: port(c, 'udp') });
      parsePAssociatedUri(resp.headers.get('P-Associated-URI')!);
      ctx.respond(resp);
    });
    const r = await a.sendRequest(newRequest(a, 'OPTIONS'), { address: '127.0.0.1', port: port(b, 'udp') });
    assert.equal(r.status, 502);
    assert.equal(r.reason, 'Bad Gateway');
  });

  test('§17.1.4 a TCP destination that refuses the connection rejects with SIP_TRANSPORT', async () => {
    const a = await stack();
    const refusing = await refusingTcpPort();
    open.push(refusing);
    await assert.rejects(a.sendRequest(newRequest(a, 'OPTIONS'), { address: '127.0.0.1', port: refusing.port, transport: 'tcp' }), { code: 'SIP_TRANSPORT' });
  });
});

describe('RFC 3261 §18.1.1 and §16.6 through the stack', () => {
  test('§18.1.1 a large MESSAGE addressed to UDP arrives over TCP', async () => {
    const a = await stack();
    const b = await stack();
    let via = '';
    b.onRequest((req, ctx) => {
      via = `${ctx.transport}:${topVia(req)!.transport}`;
      ctx.reply(200, 'OK');
    });
    const resp = await a.sendRequest(newRequest(a, 'MESSAGE', '127.0.0.1', 'x'.repeat(2000)), { address: '127.0.0.1', port: port(b, 'udp') });
    assert.equal(resp.status, 200);
    assert.equal(via, 'tcp:TCP');
  });

  test('§16.6 forwardRequest: the proxy pushes its Via with a fresh branch, decrements Max-Forwards, and relays the answer', async () => {
    const uac = await stack();
    const proxy = await stack('127.0.0.1', { rng: new SeededRng('proxy') });
    const uas = await stack();
    let atUas: SipRequest | undefined;
    uas.onRequest((req, ctx) => {
      atUas = req;
      ctx.reply(200, 'OK');
    });
    proxy.onRequest(async (req, ctx) => {
      const resp = await proxy.forwardRequest(req, { address: '127.0.0.1', port: port(uas, 'udp') });
      ctx.respond(withoutTopVia(resp));
    });
    const req = newRequest(uac, 'OPTIONS');
    const resp: SipResponse = await uac.sendRequest(req, { address: '127.0.0.1', port: port(proxy, 'udp') });
    assert.equal(resp.status, 200);
    assert.equal(viasOf(resp).length, 1, 'the proxy removed its own Via');
    assert.ok(atUas);
    const vias = viasOf(atUas);
    assert.equal(vias.length, 2);
    assert.equal(vias[0].port, port(proxy, 'udp'));
    assert.match(viaBranch(vias[0])!, /^z9hG4bK[0-9a-f]{20}$/);
    assert.notEqual(viaBranch(vias[0]), viaBranch(vias[1]));
    assert.equal(maxForwardsOf(atUas), 69);
    assert.equal(maxForwardsOf(req), 70, 'the original request is not modified');
  });

  test('§8.1.1.7 branches, tags and Call-IDs come from the injected Rng: the same seed gives the same ids', async () => {
    const x = await stack('127.0.0.1', { rng: new SeededRng(7) });
    const y = await stack('127.0.0.1', { rng: new SeededRng(7) });
    assert.deepEqual([x.newBranch(), x.newTag(), x.newCallId('h')], [y.newBranch(), y.newTag(), y.newCallId('h')]);
    assert.match(x.newBranch(), /^z9hG4bK/);
  });
});
