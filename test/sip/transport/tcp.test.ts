import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { SipHeaders, SipRequest, createResponse } from '../../../src/sip/message/index.js';
import { TcpTransport } from '../../../src/sip/transport/tcp.js';
import type { InboundMessage } from '../../../src/sip/transport/types.js';
import { headerOf, rawTcpConnect, rawTcpServer, refusingTcpPort, requestText } from './raw-peers.js';
import { waitFor as waitUntil } from '../../support/wait.js';
import { ManualClock } from '../../../src/common/index.js';

const open: { close(): Promise<void> | void }[] = [];
after(async () => {
  for (const o of open) await o.close();
});

async function listen(address = '127.0.0.1', extra: Partial<Parameters<typeof TcpTransport.listen>[0]> = {}) {
  const t = await TcpTransport.listen({ address, ...extra });
  open.push(t);
  const got: InboundMessage[] = [];
  t.onMessage((m) => got.push(m));
  return { t, got };
}

function options(callId: string, branch: string, host = '127.0.0.1'): SipRequest {
  return new SipRequest(
    'OPTIONS',
    'sip:bob@example.com',
    new SipHeaders([
      ['Via', `SIP/2.0/TCP ${host};branch=${branch}`],
      ['To', '<sip:bob@example.com>'],
      ['From', '<sip:alice@example.com>;tag=9'],
      ['Call-ID', callId],
      ['CSeq', '1 OPTIONS'],
      ['Max-Forwards', '70'],
    ]),
  );
}

for (const [fam, address, bracketed] of [
  ['IPv4', '127.0.0.1', '127.0.0.1'],
  ['IPv6', '::1', '[::1]'],
] as const) {
  describe(`RFC 3261 §18 TCP transport over ${fam}`, () => {
    test(`§18.2.1 a framed request arrives with transport tcp and the connection's addresses (${fam})`, async () => {
      const { t, got } = await listen(address);
      const c = await rawTcpConnect(t.local.port, address);
      open.push(c);
      c.write(requestText({ method: 'REGISTER', via: `SIP/2.0/TCP ${bracketed}:5060;branch=z9hG4bKt1` }));
      await waitUntil(() => got.length === 1);
      assert.equal(got[0].transport, 'tcp');
      assert.deepEqual(got[0].local, { address, port: t.local.port });
      assert.deepEqual(got[0].remote, { address, port: c.localPort });
      assert.equal(t.family, fam === 'IPv4' ? 4 : 6);
    });

    test(`§18.2.2 the response goes back on the connection the request came in on (${fam})`, async () => {
      const { t, got } = await listen(address);
      const c = await rawTcpConnect(t.local.port, address);
      open.push(c);
      c.write(requestText({ via: `SIP/2.0/TCP ${bracketed}:5060;branch=z9hG4bKt2` }));
      await waitUntil(() => got.length === 1);
      const req = got[0].msg as SipRequest;
      await t.send(createResponse(req, 200, 'OK', { toTag: 'x1' }), got[0].remote, { existingOnly: true });
      const text = await c.waitFor('\r\n\r\n');
      assert.match(text, /^SIP\/2\.0 200 OK\r\n/);
      assert.equal(t.counters.connectionsOpened, 1, 'no second connection');
    });
  });
}

describe('RFC 3261 §18 TCP connection reuse', () => {
  test('§18.1.1 requests to the same host:port share one connection we opened', async () => {
    const a = await listen();
    const b = await listen();
    await a.t.send(options('c1', 'z9hG4bKr1'), b.t.local);
    await a.t.send(options('c2', 'z9hG4bKr2'), b.t.local);
    await waitUntil(() => b.got.length === 2);
    assert.equal(a.t.counters.connectionsOpened, 1);
    assert.equal(b.t.counters.connectionsOpened, 1);
    assert.equal(a.t.connectionCount, 1);
    assert.equal(b.got[0].remote.port, b.got[1].remote.port, 'same source port: same connection');
  });

  test('§18.1.1 concurrent first sends to one destination open a single connection', async () => {
    const a = await listen();
    const b = await listen();
    await Promise.all([a.t.send(options('p1', 'z9hG4bKp1'), b.t.local), a.t.send(options('p2', 'z9hG4bKp2'), b.t.local)]);
    await waitUntil(() => b.got.length === 2);
    assert.equal(b.t.counters.connectionsOpened, 1);
  });

  test('§18.2.2 a request to the endpoint of a connection the peer opened to us reuses that connection', async () => {
    const { t, got } = await listen();
    const c = await rawTcpConnect(t.local.port);
    open.push(c);
    c.write(requestText({ method: 'REGISTER', via: 'SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKreg' }));
    await waitUntil(() => got.length === 1);
    assert.ok(t.hasConnection(got[0].remote));
    await t.send(options('back', 'z9hG4bKback'), got[0].remote);
    const text = await c.waitFor('Call-ID: back');
    assert.match(text, /OPTIONS sip:bob@example\.com SIP\/2\.0/);
    assert.equal(t.counters.connectionsOpened, 1);
  });

  test('§18.2.2 existingOnly refuses to open a connection', async () => {
    const { t } = await listen();
    const srv = await rawTcpServer();
    open.push(srv);
    await assert.rejects(t.send(options('x', 'z9hG4bKx'), { address: '127.0.0.1', port: srv.port }, { existingOnly: true }), { code: 'SIP_TRANSPORT' });
    assert.equal(srv.conns.length, 0);
  });

  test('§17.1.4 connecting to a port that refuses is a SipTransportError', async () => {
    const { t } = await listen();
    const refusing = await refusingTcpPort();
    open.push(refusing);
    await assert.rejects(t.send(options('y', 'z9hG4bKy'), { address: '127.0.0.1', port: refusing.port }), { code: 'SIP_TRANSPORT' });
  });

  test('§18.2.2 connecting to port 0 (a Via that says so) fails as SipTransportError, not a RangeError', async () => {
    const { t } = await listen();
    await assert.rejects(t.send(options('z', 'z9hG4bKz'), { address: '127.0.0.1', port: 0 }), { code: 'SIP_TRANSPORT' });
  });

  test('§18.3 a message written one byte at a time is framed once', async () => {
    const { t, got } = await listen();
    const c = await rawTcpConnect(t.local.port);
    open.push(c);
    const text = requestText({ via: 'SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKslow', body: 'hello' , extra: ['Content-Type: text/plain'] });
    for (const ch of Buffer.from(text, 'latin1')) {
      c.write(new Uint8Array([ch]));
      await new Promise<void>((r) => setImmediate(r));
    }
    await waitUntil(() => got.length === 1);
    assert.equal(Buffer.from(got[0].msg.body).toString(), 'hello');
  });
});

describe('RFC 3261 §18.3: a TCP peer sending garbage is disconnected and counted', () => {
  test('§18.3 bytes that are not a SIP start line close the connection', async () => {
    const { t, got } = await listen();
    const c = await rawTcpConnect(t.local.port);
    c.write('\x16\x03\x01\x02\x00 this is not SIP\r\n\r\n');
    await c.closed;
    assert.equal(t.counters.disconnectedForGarbage, 1);
    assert.equal(t.counters.dropped.parse, 1);
    assert.equal(got.length, 0);
    await waitUntil(() => t.connectionCount === 0);
  });

  test('§18.3 an endless header line closes the connection as a limit violation', async () => {
    const { t } = await listen('127.0.0.1', { limits: { maxLineLength: 1024, maxMessageBytes: 8192 } });
    const c = await rawTcpConnect(t.local.port);
    c.write('OPTIONS sip:bob@example.com SIP/2.0\r\nX-Endless: ');
    c.write('a'.repeat(4096));
    await c.closed;
    assert.equal(t.counters.dropped.limit, 1);
    assert.equal(t.counters.disconnectedForGarbage, 1);
  });

  test('§18.3 a stream without Content-Length cannot be framed: disconnected', async () => {
    const { t } = await listen();
    const c = await rawTcpConnect(t.local.port);
    c.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKnolen' }).replace(/Content-Length: 0\r\n/, ''));
    await c.closed;
    assert.equal(t.counters.disconnectedForGarbage, 1);
  });

  test('RFC 4475 §3.3.1 a framed request missing a mandatory header is answered 400 on its connection, which stays open', async () => {
    const { t, got } = await listen();
    const c = await rawTcpConnect(t.local.port);
    open.push(c);
    c.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKnocid', omit: ['Call-ID'] }));
    const text = await c.waitFor('\r\n\r\n');
    assert.match(text, /^SIP\/2\.0 400 /);
    assert.equal(headerOf(text, 'CSeq'), '1 OPTIONS');
    c.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKgood' }));
    await waitUntil(() => got.length === 1);
    assert.equal(t.counters.rejected, 1);
  });

  test('RFC 5626 §3.5.1 a double-CRLF ping is answered with a CRLF pong', async () => {
    const { t } = await listen();
    const c = await rawTcpConnect(t.local.port);
    open.push(c);
    c.write('\r\n\r\n');
    assert.equal(await c.waitFor('\r\n'), '\r\n');
  });
});

describe('abortive close for protected ports: RST, never FIN (TS 33.203 §7.1)', () => {
  /** A transport with one connection a peer opened (one request delivered), and how that connection ends at the peer. */
  async function connected(abortAfterMs: number | undefined) {
    const clock = new ManualClock(0);
    const t = await TcpTransport.listen({ address: '127.0.0.1', clock, ...(abortAfterMs !== undefined ? { abortAfterMs } : {}) });
    const got: InboundMessage[] = [];
    t.onMessage((m) => got.push(m));
    const peer = connect({ port: t.local.port, host: '127.0.0.1', allowHalfOpen: true });
    let data = '';
    peer.on('data', (d: Buffer) => (data += d.toString('latin1')));
    const ended = new Promise<string>((resolve) => {
      peer.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      peer.on('end', () => resolve('end'));
    });
    peer.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKclose' }));
    await waitUntil(() => got.length === 1);
    const done = async (): Promise<void> => {
      peer.destroy();
      await t.close();
    };
    return { t, clock, peer, got, ended, data: () => data, done };
  }

  test('[R-SA-5] closing the transport resets every connection (the peer reads ECONNRESET): no closed socket lives on retransmitting after the SAs are gone', async () => {
    const c = await connected(150);
    await c.t.close();
    assert.equal(await c.ended, 'ECONNRESET');
    await c.done();
  });

  test('without abortive close the transport closes a connection with FIN (the peer reads the end of the stream)', async () => {
    const c = await connected(undefined);
    await c.t.close();
    assert.equal(await c.ended, 'end');
    await c.done();
  });

  test('[R-SA-5] closeFlow: what was sent still arrives, and the connection is reset abortAfterMs later, not closed with FIN', async () => {
    const c = await connected(150);
    const req = c.got[0];
    await c.t.send(createResponse(req.msg as SipRequest, 200, 'OK', { toTag: 'a1' }), req.remote, { existingOnly: true });
    assert.equal(c.t.closeFlow(req.remote, c.t.local.port), true);
    assert.equal(c.t.closeFlow({ address: '127.0.0.1', port: 9 }, c.t.local.port), false, 'no connection with that peer');
    await waitUntil(() => c.data().includes('SIP/2.0 200 OK'));
    let early = false;
    void c.ended.then(() => (early = c.clock.now() < 150));
    c.clock.advance(149);
    await new Promise((r) => setImmediate(r));
    assert.equal(c.t.hasConnection(req.remote), true, 'still open before abortAfterMs');
    c.clock.advance(1);
    assert.equal(await c.ended, 'ECONNRESET');
    assert.equal(early, false);
    await c.done();
  });

  test("[R-SA-5] the peer's FIN does not close our side gracefully: the connection is reset abortAfterMs later", async () => {
    const c = await connected(150);
    const remote = c.got[0].remote;
    const before = c.clock.timers;
    c.peer.end();
    // Our side saw the FIN when it schedules the reset; had it closed gracefully, the peer would read 'end' first.
    await waitUntil(() => c.clock.timers > before);
    assert.equal(c.t.hasConnection(remote), true, 'our side stays open until the reset');
    c.clock.advance(150);
    assert.equal(await c.ended, 'ECONNRESET', 'RST, no FIN back');
    await waitUntil(() => !c.t.hasConnection(remote));
    await c.done();
  });
});
