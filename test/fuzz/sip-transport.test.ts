/**
 * Fuzz the SIP transports (RFC 3261 §18): whatever bytes arrive, a transport hands up a message,
 * answers it, drops it with a counted reason or ignores a keep-alive — it never throws, never
 * hangs, and keeps serving. Inputs that once failed are kept (hex) in
 * test/fuzz/corpus/sip-transport/ and replayed here.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { parseMessage, serializeMessage, validateCore } from '../../src/sip/message/index.js';
import { SipStack } from '../../src/sip/stack/index.js';
import { acceptInbound } from '../../src/sip/transport/inbound.js';
import { openTransports } from '../../src/sip/transport/open.js';
import { repoRoot } from '../support/paths.js';
import { rawTcpConnect, rawUdp, requestText } from '../sip/transport/raw-peers.js';
import { fuzzTarget } from '../support/fuzz.js';
import { waitFor as waitUntil } from '../support/wait.js';

const fuzz = fuzzTarget<Uint8Array>(import.meta.url, (b) => ({ ext: '.hex', data: `${Buffer.from(b).toString('hex')}\n` }));

const CORPUS_DIR = join(repoRoot, 'test', 'fuzz', 'corpus', 'sip-transport');
const ctx = { protocol: 'udp' as const, local: { address: '127.0.0.1', port: 5060 }, remote: { address: '192.0.2.1', port: 9988 } };

const open: { close(): Promise<void> }[] = [];
after(async () => {
  for (const o of open) await o.close();
});

/** The transport's contract for one datagram. */
function inboundContract(bytes: Uint8Array): void {
  let r: ReturnType<typeof acceptInbound>;
  try {
    r = acceptInbound(bytes, ctx);
  } catch (e) {
    throw new Error(`acceptInbound threw ${String(e)} for ${Buffer.from(bytes).toString('hex')}`);
  }
  switch (r.kind) {
    case 'message':
      // Whatever is handed up re-encodes and parses again, and its core fields, which every
      // element reads without a check of its own, are well-formed (RFC 3261 §16.3 step 1).
      assert.equal(parseMessage(serializeMessage(r.msg)).kind, r.msg.kind);
      validateCore(r.msg);
      break;
    case 'reject':
      assert.ok(r.response.status >= 400 && r.response.status < 600);
      assert.ok(serializeMessage(r.response).length > 0);
      assert.ok(r.destination.port > 0 && r.destination.port < 65536);
      break;
    case 'drop':
      assert.ok(['parse', 'limit', 'invalid'].includes(r.reason));
      break;
    case 'keepalive':
      break;
  }
}

function corpus(): { name: string; bytes: Uint8Array }[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.hex'))
    .sort()
    .map((name) => ({ name, bytes: new Uint8Array(Buffer.from(readFileSync(join(CORPUS_DIR, name), 'utf8').trim(), 'hex')) }));
}

const seeds = [
  requestText({ via: 'SIP/2.0/UDP 127.0.0.1:5099;rport;branch=z9hG4bKs1' }),
  requestText({ method: 'INVITE', via: 'SIP/2.0/UDP [::1]:5099;branch=z9hG4bKs2', body: 'v=0\r\n', extra: ['Content-Type: application/sdp'] }),
  'SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKs3\r\nTo: <sip:b@x>;tag=1\r\nFrom: <sip:a@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n',
].map((s) => new Uint8Array(Buffer.from(s, 'latin1')));

/** A seed with some bytes replaced, some cut off, or junk inserted. */
const mutated = fc
  .tuple(
    fc.constantFrom(...seeds),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    fc.option(fc.nat(), { nil: undefined }),
    fc.constantFrom('', ';rport', ';received=', ', SIP/2.0/UDP', '\r\n\r\n', ':99999', '\x00', '\r\n '),
  )
  .map(([seed, edits, cut, junk]) => {
    const b = Buffer.from(seed);
    for (const [pos, byte] of edits) b[pos % b.length] = byte;
    const at = Math.min(b.length, 40 + ((cut ?? 0) % 200));
    const withJunk = Buffer.concat([b.subarray(0, at), Buffer.from(junk, 'latin1'), b.subarray(at)]);
    return new Uint8Array(cut === undefined ? withJunk : withJunk.subarray(0, Math.max(1, cut % withJunk.length)));
  });

/** The contract, remembering a failing input for the corpus. */
const guarded = fuzz.guard(inboundContract);

describe('fuzz: the inbound step of a SIP transport (RFC 3261 §18.2.1)', () => {
  test('corpus: every kept input keeps the contract', () => {
    const files = corpus();
    assert.ok(files.length >= 5);
    for (const f of files) inboundContract(f.bytes);
  });

  test('random bytes: a value, never an exception', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => guarded(b)), fuzz.params(1500));
  });

  test('mutated SIP messages: a value, never an exception; what is handed up re-encodes', () => {
    fc.assert(fc.property(mutated, (b) => guarded(b)), fuzz.params(2000));
  });
});

describe('fuzz: live transports keep serving after garbage', () => {
  test('random and mutated datagrams into a UDP transport never crash it; a valid request is answered afterwards', async () => {
    const transports = await openTransports({ address: '127.0.0.1' });
    const s = new SipStack({ transports });
    open.push(s);
    s.onRequest((req, c) => void c.reply(200, 'OK'));
    const udpPort = transports.find((t) => t.protocol === 'udp')!.local.port;
    const peer = await rawUdp();
    open.push(peer);
    const inputs = fc.sample(fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 600 }), mutated), { numRuns: 300, seed: 4475 });
    for (const b of inputs) await peer.send(b, udpPort);
    // Let the socket take in what the kernel kept, drain whatever answers the garbage produced,
    // then check the stack still works.
    await waitUntil(() => s.counters.dropped.parse > 0);
    while (await peer.next(100).then(() => true, () => false));
    await peer.send(requestText({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKalive`, callId: 'alive' }), udpPort);
    for (;;) {
      const d = await peer.next();
      if (d.text.includes('Call-ID: alive')) {
        assert.match(d.text, /^SIP\/2\.0 200 OK/);
        break;
      }
    }
    assert.ok(s.counters.dropped.parse > 0, 'garbage was counted');
  });

  test('garbage streams into a TCP transport cost only their own connection', async () => {
    const transports = await openTransports({ address: '127.0.0.1', protocols: ['tcp'] });
    const s = new SipStack({ transports });
    open.push(s);
    s.onRequest((req, c) => void c.reply(200, 'OK'));
    const tcpPort = transports[0].local.port;
    const inputs = fc.sample(fc.uint8Array({ minLength: 64, maxLength: 2000 }), { numRuns: 20, seed: 3261 });
    for (const b of inputs) {
      const c = await rawTcpConnect(tcpPort);
      c.write(b);
      c.write('\r\n\r\n');
      c.close();
    }
    const good = await rawTcpConnect(tcpPort);
    good.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKtcpalive', callId: 'tcp-alive' }));
    assert.match(await good.waitFor('\r\n\r\n'), /^SIP\/2\.0 200 OK/);
    good.close();
    await waitUntil(() => s.counters.disconnectedForGarbage >= 1);
  });
});
