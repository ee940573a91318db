import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { topVia, viaReceived, viaRport } from '../../../src/sip/headers/index.js';
import { SipHeaders, SipRequest } from '../../../src/sip/message/index.js';
import { UdpTransport } from '../../../src/sip/transport/udp.js';
import type { InboundMessage } from '../../../src/sip/transport/types.js';
import { headerOf, rawUdp, requestText, silent, type RawUdp } from './raw-peers.js';
import { waitFor as waitUntil } from '../../support/wait.js';

const open: { close(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(open.map((o) => o.close()));
});

async function setup(address: string): Promise<{ t: UdpTransport; peer: RawUdp; got: InboundMessage[] }> {
  const t = await UdpTransport.bind({ address });
  const peer = await rawUdp(address);
  open.push(t, peer);
  const got: InboundMessage[] = [];
  t.onMessage((m) => got.push(m));
  return { t, peer, got };
}

for (const [fam, address, bracketed] of [
  ['IPv4', '127.0.0.1', '127.0.0.1'],
  ['IPv6', '::1', '[::1]'],
] as const) {
  describe(`RFC 3261 §18 UDP transport over ${fam}`, () => {
    test(`§18.2.1 a request arrives with its transport, local and remote address and port (${fam})`, async () => {
      const { t, peer, got } = await setup(address);
      await peer.send(requestText({ via: `SIP/2.0/UDP ${bracketed}:${peer.port};branch=z9hG4bKa1` }), t.local.port);
      await waitUntil(() => got.length === 1);
      const m = got[0];
      assert.equal(m.msg.kind, 'request');
      assert.equal(m.transport, 'udp');
      assert.deepEqual(m.local, { address, port: t.local.port });
      assert.deepEqual(m.remote, { address, port: peer.port });
      assert.equal(m.receivedOn, t);
      assert.equal(t.family, fam === 'IPv4' ? 4 : 6);
      assert.equal(t.counters.received, 1);
    });

    test(`§18.1.1 send() puts the serialized message in one datagram to the destination (${fam})`, async () => {
      const { t, peer } = await setup(address);
      const h = new SipHeaders([
        ['Via', `SIP/2.0/UDP ${bracketed}:${t.local.port};branch=z9hG4bKout`],
        ['To', '<sip:bob@example.com>'],
        ['From', '<sip:alice@example.com>;tag=1'],
        ['Call-ID', 'c1'],
        ['CSeq', '1 OPTIONS'],
        ['Max-Forwards', '70'],
      ]);
      await t.send(new SipRequest('OPTIONS', 'sip:bob@example.com', h), { address, port: peer.port });
      const d = await peer.next();
      assert.match(d.text, /^OPTIONS sip:bob@example\.com SIP\/2\.0\r\n/);
      assert.equal(headerOf(d.text, 'Call-ID'), 'c1');
      assert.equal(headerOf(d.text, 'Content-Length'), '0');
      assert.equal(d.from.port, t.local.port, 'sent from the bound port');
      assert.equal(t.counters.sent, 1);
    });

    test(`RFC 3581 §4 a bare rport is filled with the source port and received is added even when equal (${fam})`, async () => {
      const { t, peer, got } = await setup(address);
      await peer.send(requestText({ via: `SIP/2.0/UDP ${bracketed}:5099;rport;branch=z9hG4bKr1` }), t.local.port);
      await waitUntil(() => got.length === 1);
      const via = topVia(got[0].msg)!;
      assert.equal(viaRport(via), peer.port);
      assert.equal(viaReceived(via), address);
      assert.equal(via.port, 5099, 'sent-by untouched');
    });
  });
}

describe('RFC 3261 §18.2.1 received parameter', () => {
  test('§18.2.1 sent-by is a host name: received= the source address is added', async () => {
    const { t, peer, got } = await setup('127.0.0.1');
    await peer.send(requestText({ via: 'SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKn1' }), t.local.port);
    await waitUntil(() => got.length === 1);
    const via = topVia(got[0].msg)!;
    assert.equal(viaReceived(via), '127.0.0.1');
    assert.equal(viaRport(via), undefined, 'no rport when the client did not ask');
  });

  test('§18.2.1 sent-by equals the source address and no rport: the Via is left as sent', async () => {
    const { t, peer, got } = await setup('127.0.0.1');
    const via = `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKsame`;
    await peer.send(requestText({ via }), t.local.port);
    await waitUntil(() => got.length === 1);
    assert.equal(got[0].msg.headers.get('via'), via);
  });
});

describe('RFC 3261 §18 / RFC 4475: garbage never escapes a UDP transport', () => {
  test('§18.1.2 a datagram of random bytes is counted and dropped; nothing is handed up or answered', async () => {
    const { t, peer, got } = await setup('127.0.0.1');
    await peer.send(new Uint8Array(randomBytes(300)), t.local.port);
    await peer.send('\x00\x01\x02 not SIP at all\r\n\r\n', t.local.port);
    await waitUntil(() => t.counters.dropped.parse === 2);
    assert.equal(got.length, 0);
    assert.ok(await silent(peer));
  });

  test('RFC 4475 §3.3.1 a request missing Call-ID is answered 400 (to the source port, rport) and not handed up', async () => {
    const { t, peer, got } = await setup('127.0.0.1');
    await peer.send(requestText({ via: 'SIP/2.0/UDP 127.0.0.1:5099;rport;branch=z9hG4bKbad', omit: ['Call-ID'] }), t.local.port);
    const d = await peer.next();
    assert.match(d.text, /^SIP\/2\.0 400 /);
    assert.match(headerOf(d.text, 'Via')!, /rport=\d+/);
    assert.match(headerOf(d.text, 'To')!, /;tag=/);
    assert.equal(t.counters.rejected, 1);
    assert.equal(got.length, 0);
  });

  test('§17.1.1.3 an ACK that fails the checks is dropped without an answer', async () => {
    const { t, peer, got } = await setup('127.0.0.1');
    await peer.send(requestText({ method: 'ACK', via: 'SIP/2.0/UDP 127.0.0.1:5099;rport;branch=z9hG4bKack', omit: ['Call-ID'] }), t.local.port);
    await waitUntil(() => t.counters.dropped.invalid === 1);
    assert.ok(await silent(peer));
    assert.equal(got.length, 0);
  });

  test('RFC 4475 §3.1.2 a request with a CSeq method mismatch gets 400; with a bad SIP version 505', async () => {
    const { t, peer } = await setup('127.0.0.1');
    const mismatch = requestText({ via: 'SIP/2.0/UDP 127.0.0.1:5099;rport;branch=z9hG4bKm1' }).replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE');
    await peer.send(mismatch, t.local.port);
    assert.match((await peer.next()).text, /^SIP\/2\.0 400 /);
    const v7 = requestText({ via: 'SIP/2.0/UDP 127.0.0.1:5099;rport;branch=z9hG4bKv7' }).replace('sip:bob@127.0.0.1 SIP/2.0', 'sip:bob@127.0.0.1 SIP/7.0');
    await peer.send(v7, t.local.port);
    assert.match((await peer.next()).text, /^SIP\/2\.0 505 /);
  });

  test('§18.1.2 a datagram over the configured size limit is dropped as a limit violation', async () => {
    const t = await UdpTransport.bind({ address: '127.0.0.1', limits: { maxMessageBytes: 300 } });
    const peer = await rawUdp();
    open.push(t, peer);
    t.onMessage(() => assert.fail('must not be handed up'));
    await peer.send(requestText({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKbig`, body: 'x'.repeat(400) }), t.local.port);
    await waitUntil(() => t.counters.dropped.limit === 1);
  });

  test('RFC 5626 §3.5.1 a CRLF keep-alive datagram is neither garbage nor a message', async () => {
    const { t, peer, got } = await setup('127.0.0.1');
    await peer.send('\r\n\r\n', t.local.port);
    await peer.send(requestText({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKafter` }), t.local.port);
    await waitUntil(() => got.length === 1);
    assert.equal(t.counters.dropped.parse, 0);
  });

  test('§18.1.1 a message too big for a datagram is refused with SipTransportError', async () => {
    const { t } = await setup('127.0.0.1');
    await assert.rejects(t.send(new Uint8Array(70000), { address: '127.0.0.1', port: 9 }), { code: 'SIP_TRANSPORT' });
    assert.equal(t.counters.sendErrors, 1);
  });
});

describe('RFC 3261 §18: send errors are typed', () => {
  test('§18.2.2 a response routed to port 0 (a Via that says so) fails as SipTransportError, not a RangeError', async () => {
    const t = await UdpTransport.bind({ address: '127.0.0.1' });
    open.push(t);
    await assert.rejects(t.send(new Uint8Array(10), { address: '127.0.0.1', port: 0 }), { code: 'SIP_TRANSPORT' });
  });
});
