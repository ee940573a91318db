import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { SipHeaders, SipRequest, SipResponse, createResponse, parseMessage, serializeMessage } from '../../../src/sip/message/index.js';
import type { TcpTransport } from '../../../src/sip/transport/tcp.js';
import { openTransports } from '../../../src/sip/transport/open.js';
import { TransportLayer } from '../../../src/sip/transport/transport-layer.js';
import type { InboundMessage } from '../../../src/sip/transport/types.js';
import { headerOf, rawTcpConnect, rawTcpServer, rawUdp, requestText } from './raw-peers.js';
import { waitFor as waitUntil } from '../../support/wait.js';

const open: { close(): Promise<void> }[] = [];
after(async () => {
  for (const o of open) await o.close();
});

async function layer(address = '127.0.0.1', opts: ConstructorParameters<typeof TransportLayer>[1] = {}) {
  const ts = await openTransports({ address });
  const l = new TransportLayer(ts, opts);
  open.push(l);
  const got: InboundMessage[] = [];
  l.onMessage((m) => got.push(m));
  return { l, ts, got, udp: ts.find((t) => t.protocol === 'udp')!, tcp: ts.find((t) => t.protocol === 'tcp')! };
}

function message(bodyBytes: number, branch = 'z9hG4bKsize'): SipRequest {
  return new SipRequest(
    'MESSAGE',
    'sip:bob@example.com',
    new SipHeaders([
      ['Via', `SIP/2.0/UDP 0.0.0.0;branch=${branch}`],
      ['Max-Forwards', '70'],
      ['To', '<sip:bob@example.com>'],
      ['From', '<sip:alice@example.com>;tag=1'],
      ['Call-ID', 'size-rule'],
      ['CSeq', '1 MESSAGE'],
      ['Content-Type', 'text/plain'],
    ]),
    new Uint8Array(bodyBytes).fill(0x61),
  );
}

describe('RFC 3261 §18.1.1 size rule and Via sent-by', () => {
  test('§18.1.1 a small request for UDP goes over UDP with sent-protocol UDP and our address:port as sent-by', async () => {
    const a = await layer();
    const b = await layer();
    const p = a.l.prepareRequest(message(10), { address: '127.0.0.1', port: b.udp.local.port });
    assert.equal(p.transport, a.udp);
    assert.equal(p.upgraded, false);
    assert.equal(p.request.headers.get('via'), `SIP/2.0/UDP 127.0.0.1:${a.udp.local.port};branch=z9hG4bKsize`);
    await p.transport.send(p.request, p.destination);
    await waitUntil(() => b.got.length === 1);
    assert.equal(b.got[0].transport, 'udp');
  });

  test('§18.1.1 a request larger than 1300 bytes bound for UDP goes over TCP, and the top Via says TCP', async () => {
    const a = await layer();
    const b = await layer();
    const p = a.l.prepareRequest(message(1400), { address: '127.0.0.1', port: b.udp.local.port, transport: 'udp' });
    assert.equal(p.transport, a.tcp);
    assert.equal(p.upgraded, true);
    assert.match(p.request.headers.get('via')!, new RegExp(`^SIP/2\\.0/TCP 127\\.0\\.0\\.1:${a.tcp.local.port};`));
    await p.transport.send(p.request, p.destination);
    await waitUntil(() => b.got.length === 1);
    assert.equal(b.got[0].transport, 'tcp');
    assert.equal(b.got[0].msg.body.length, 1400);
  });

  test('§18.1.1 the threshold is configurable (path MTU known) and the rule can be turned off', async () => {
    const big = await layer('127.0.0.1', { udpMaxRequestBytes: 3000 });
    assert.equal(big.l.prepareRequest(message(1400), { address: '127.0.0.1', port: 5060 }).transport.protocol, 'udp');
    const mtu = await layer('127.0.0.1', { udpMaxRequestBytes: 576 - 200 });
    assert.equal(mtu.l.prepareRequest(message(400), { address: '127.0.0.1', port: 5060 }).transport.protocol, 'tcp');
    const off = await layer('127.0.0.1', { udpMaxRequestBytes: null });
    assert.equal(off.l.prepareRequest(message(5000), { address: '127.0.0.1', port: 5060 }).transport.protocol, 'udp');
  });

  test('§18.1.1 the size rule is measured on the exact bytes: 1300 stays on UDP, 1301 moves to TCP', async () => {
    const a = await layer();
    const base = a.l.prepareRequest(message(0, 'z9hG4bKb0'), { address: '127.0.0.1', port: 5060 });
    const overhead = serializeMessage(base.request).length;
    const digits = (n: number) => String(n).length - 1; // Content-Length grows with the body
    const at = a.l.prepareRequest(message(1300 - overhead - digits(1300 - overhead), 'z9hG4bKb1'), { address: '127.0.0.1', port: 5060 });
    assert.equal(serializeMessage(at.request).length, 1300);
    assert.equal(at.transport.protocol, 'udp');
    const over = a.l.prepareRequest(message(1301 - overhead - digits(1301 - overhead), 'z9hG4bKb2'), { address: '127.0.0.1', port: 5060 });
    assert.equal(over.transport.protocol, 'tcp');
  });

  test('§18.1.1 the size is counted in bytes of the UTF-8 text, with the Content-Length that will be sent', async () => {
    const a = await layer();
    // 500 two-byte characters: 1,000 bytes of the header text, 500 characters.
    const wide = (bodyBytes: number, lengthFields: [string, string][], branch = 'z9hG4bKwide'): SipRequest => {
      const m = message(bodyBytes, branch);
      m.headers.append('Subject', 'é'.repeat(500));
      for (const [name, value] of lengthFields) m.headers.append(name, value);
      return m;
    };
    // No Content-Length, a compact one with a wrong value, two that disagree: the serializer
    // writes one, with the body's length (§18.3, §20.14), and the rule counts that one.
    for (const fields of [[], [['l', '7']], [['Content-Length', '0'], ['Content-Length', '99']]] as [string, string][][]) {
      // The request as it leaves (top Via stamped), at exactly `n` bytes, and the transport chosen.
      const sized = (n: number): string | undefined => {
        for (let body = 0; body < 400; body++) {
          const p = a.l.prepareRequest(wide(body, fields, `z9hG4bKw${body % 10}`), { address: '127.0.0.1', port: 5060 });
          if (serializeMessage(p.request).length === n) return p.transport.protocol;
        }
        return undefined;
      };
      assert.equal(sized(1300), 'udp');
      // 1,301 bytes are 801 characters: only a count of bytes moves it.
      assert.equal(sized(1301), 'tcp');
    }
  });

  test('§18.1.1 a pinned transport (e.g. a protected port) is used as is, without the size rule', async () => {
    const a = await layer();
    const p = a.l.prepareRequest(message(5000), { address: '127.0.0.1', port: 5060, through: a.udp });
    assert.equal(p.transport, a.udp);
  });

  test('§18.1.1 no transport for the destination family is a SipTransportError', async () => {
    const a = await layer();
    assert.throws(() => a.l.prepareRequest(message(1), { address: '::1', port: 5060 }), { code: 'SIP_TRANSPORT' });
  });
});

describe('RFC 3261 §18.1.2 and §18.2.2: responses', () => {
  test('§18.1.2 a response whose top Via sent-by is not ours is dropped and counted', async () => {
    const a = await layer();
    const peer = await rawUdp();
    open.push(peer);
    const foreign = 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKf\r\nTo: <sip:b@x>;tag=1\r\nFrom: <sip:a@x>;tag=2\r\nCall-ID: f\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';
    const ours = foreign.replace('192.0.2.9:5060', `127.0.0.1:${a.udp.local.port}`);
    await peer.send(foreign, a.udp.local.port);
    await peer.send(ours, a.udp.local.port);
    await waitUntil(() => a.got.length === 1);
    assert.equal(a.l.counters.dropped.sentBy, 1);
    assert.equal((a.got[0].msg as SipResponse).status, 200);
  });

  test('RFC 3581 §4 a UDP request with rport is answered to its source port, from the port it arrived on', async () => {
    const a = await layer();
    const peer = await rawUdp();
    open.push(peer);
    await peer.send(requestText({ via: 'SIP/2.0/UDP 127.0.0.1:5999;rport;branch=z9hG4bKrp' }), a.udp.local.port);
    await waitUntil(() => a.got.length === 1);
    const m = a.got[0];
    await a.l.sendResponse(createResponse(m.msg as SipRequest, 200, 'OK', { toTag: 't' }), m);
    const d = await peer.next();
    assert.match(d.text, /^SIP\/2\.0 200 OK/);
    assert.equal(d.from.port, a.udp.local.port);
    assert.match(headerOf(d.text, 'Via')!, new RegExp(`rport=${peer.port}`));
  });

  test('§18.2.2 without rport the response goes to the sent-by port, not the source port', async () => {
    const a = await layer();
    const sender = await rawUdp();
    const listener = await rawUdp();
    open.push(sender, listener);
    await sender.send(requestText({ via: `SIP/2.0/UDP 127.0.0.1:${listener.port};branch=z9hG4bKsb` }), a.udp.local.port);
    await waitUntil(() => a.got.length === 1);
    await a.l.sendResponse(createResponse(a.got[0].msg as SipRequest, 486, 'Busy Here', { toTag: 't' }), a.got[0]);
    assert.match((await listener.next()).text, /^SIP\/2\.0 486 Busy Here/);
  });

  test('§18.2.2 TCP: when the request\'s connection is gone the response opens one to received at the sent-by port', async () => {
    const a = await layer();
    const srv = await rawTcpServer();
    open.push(srv);
    const c = await rawTcpConnect(a.tcp.local.port);
    c.write(requestText({ via: `SIP/2.0/TCP 127.0.0.1:${srv.port};branch=z9hG4bKgone` }));
    await waitUntil(() => a.got.length === 1);
    c.close();
    await waitUntil(() => !(a.tcp as TcpTransport).hasConnection(a.got[0].remote));
    await a.l.sendResponse(createResponse(a.got[0].msg as SipRequest, 200, 'OK', { toTag: 't' }), a.got[0]);
    const conn = await srv.accepted();
    const text = await conn.waitFor('\r\n\r\n');
    assert.equal((parseMessage(Buffer.from(text, 'latin1')) as SipResponse).status, 200);
  });
});

