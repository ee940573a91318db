/**
 * Which worker owns a message (nodes/scscf/affinity.ts) and the channel between workers
 * (nodes/scscf/relay.ts): the owner of a registration's REGISTER and SUBSCRIBE, of a response by
 * its branch tag, of anything else by Call-ID; frames pass with their source, and a frame with a
 * wrong MAC, from an unknown port, or of random bytes is dropped without a throw.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { branchTagOf, ownerOf, workerOfAor, workerOfBranch, workerOfKey, WorkerRelay } from '../../../src/nodes/scscf/index.js';
import { parseMessage } from '../../../src/sip/message/index.js';
import { acceptInbound } from '../../../src/sip/transport/inbound.js';
import { newBranch } from '../../../src/sip/stack/index.js';
import { SeededRng } from '../../../src/common/index.js';

const request = (method: string, to: string, callId: string, extra = ''): Uint8Array =>
  new TextEncoder().encode(`${method} sip:ims.lab SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx${callId}\r\nFrom: <sip:a@ims.lab>;tag=1\r\nTo: <${to}>\r\nCall-ID: ${callId}\r\nCSeq: 1 ${method}\r\nMax-Forwards: 70\r\n${extra}Content-Length: 0\r\n\r\n`);
const response = (branch: string): Uint8Array =>
  new TextEncoder().encode(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:6060;branch=${branch}\r\nFrom: <sip:a@ims.lab>;tag=1\r\nTo: <sip:b@ims.lab>;tag=2\r\nCall-ID: n1\r\nCSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n`);

describe('S-CSCF workers: affinity (RFC 3261 §8.1.1.7 branch, §10.2 AOR)', () => {
  test('[R-AKA-2] a registration\'s REGISTERs and SUBSCRIBEs go to one worker, whatever their Call-ID', () => {
    for (let n = 0; n < 50; n++) {
      const aor = `sip:user${n}@ims.lab`;
      const w = workerOfAor(aor, 3);
      assert.equal(ownerOf(parseMessage(request('REGISTER', aor, `c${n}`)), 3, () => undefined), w);
      assert.equal(ownerOf(parseMessage(request('REGISTER', aor.toUpperCase().replace('SIP:', 'sip:').replace('IMS.LAB', 'ims.lab'), `d${n}`)), 3, () => undefined), workerOfAor(aor.toUpperCase().replace('SIP:', 'sip:').replace('IMS.LAB', 'ims.lab'), 3));
      assert.equal(ownerOf(parseMessage(request('SUBSCRIBE', aor, `e${n}`, 'Event: reg\r\n')), 3, () => undefined), w);
    }
    // A SUBSCRIBE for another identity of the implicit set goes to the registration's owner.
    const other = (() => {
      for (let n = 0; ; n++) if (workerOfAor(`tel:+1555${n}`, 2) !== workerOfAor('sip:alice@ims.lab', 2)) return `tel:+1555${n}`;
    })();
    assert.equal(ownerOf(parseMessage(request('SUBSCRIBE', other, 's1', 'Event: reg\r\n')), 2, (k) => (k.includes('1555') ? 'sip:alice@ims.lab' : undefined)), workerOfAor('sip:alice@ims.lab', 2));
    assert.equal(ownerOf(parseMessage(request('SUBSCRIBE', other, 's1', 'Event: reg\r\n')), 2, () => undefined), workerOfAor(other, 2));
  });

  test('a response goes to the worker whose tag its branch carries; an untagged one to any', () => {
    const rng = new SeededRng('aff');
    for (const w of [0, 1, 5]) {
      const b = newBranch(rng, branchTagOf(w));
      assert.match(b, /^z9hG4bK-w\d+-/);
      assert.equal(workerOfBranch(b), w);
      assert.equal(ownerOf(parseMessage(response(b)), 8, () => undefined), w);
    }
    assert.equal(ownerOf(parseMessage(response('z9hG4bK-w7-abc')), 4, () => undefined), undefined, 'a tag beyond the workers');
    assert.equal(ownerOf(parseMessage(response('z9hG4bKabc')), 4, () => undefined), undefined);
    assert.equal(workerOfBranch(undefined), undefined);
  });

  test('other requests by Call-ID, so a transaction, its CANCEL and its ACK meet (RFC 3261 §9.1, §17.2.3)', () => {
    for (let n = 0; n < 40; n++) {
      const w = workerOfKey(`call-${n}`, 2);
      for (const m of ['INVITE', 'CANCEL', 'ACK', 'MESSAGE']) assert.equal(ownerOf(parseMessage(request(m, `sip:x${n}@ims.lab`, `call-${n}`)), 2, () => undefined), w);
    }
    const spread = new Set(Array.from({ length: 64 }, (_, n) => workerOfKey(`k${n}`, 4)));
    assert.deepEqual([...spread].sort(), [0, 1, 2, 3], 'keys spread over every worker');
  });
});

test('fuzz: whatever a datagram that passed the transport carries, its owner is a worker or any, never a throw', () => {
  const ctx = { protocol: 'udp' as const, local: { address: '127.0.0.1', port: 6060 }, remote: { address: '192.0.2.1', port: 5060 } };
  fc.assert(
    fc.property(
      fc.constantFrom('REGISTER', 'SUBSCRIBE', 'MESSAGE', 'ACK', 'response'),
      fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('sip:a@ims.lab', 'tel:+15550001', '<sip:%41@x>', 'urn:x', '"q" <sip:b@ims.lab;user=phone>')),
      fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('z9hG4bK-w1-x', 'z9hG4bK-w99999-x', 'z9hG4bK-w-x')),
      fc.string({ maxLength: 20 }),
      fc.integer({ min: 1, max: 16 }),
      (method, to, branch, callId, workers) => {
        const head = method === 'response' ? 'SIP/2.0 200 OK' : `${method} sip:ims.lab SIP/2.0`;
        const text = `${head}\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}\r\nFrom: <sip:a@ims.lab>;tag=1\r\nTo: ${to}\r\nCall-ID: ${callId}\r\nCSeq: 1 ${method === 'response' ? 'NOTIFY' : method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
        const r = acceptInbound(new TextEncoder().encode(text), ctx);
        if (r.kind !== 'message') return;
        const w = ownerOf(r.msg, workers, () => undefined);
        assert.ok(w === undefined || (Number.isInteger(w) && w >= 0 && w < workers), String(w));
      },
    ),
    { numRuns: 2000 },
  );
});

describe('S-CSCF workers: the relay between workers', () => {
  async function pair(): Promise<[WorkerRelay, WorkerRelay]> {
    const key = new Uint8Array(32).fill(7);
    const a = new WorkerRelay(0, key);
    const b = new WorkerRelay(1, key);
    const ports = [await a.bind(), await b.bind()];
    a.setPeers(ports);
    b.setPeers(ports);
    return [a, b];
  }

  test('a datagram passes with the address it came from; control frames are told and asked', async () => {
    const [a, b] = await pair();
    try {
      const got = new Promise<[string, { address: string; port: number }]>((r) => b.onSip((bytes, remote) => r([new TextDecoder().decode(bytes), remote])));
      a.passSip(1, new TextEncoder().encode('REGISTER …'), { address: '192.0.2.7', port: 5066 });
      assert.deepEqual(await got, ['REGISTER …', { address: '192.0.2.7', port: 5066 }]);
      const told = new Promise<unknown>((r) => b.onControl(r));
      a.broadcast({ removed: 'sip:x@ims.lab' });
      assert.deepEqual(await told, { removed: 'sip:x@ims.lab' });
      b.onAsk(async (q) => ({ echo: q }));
      assert.deepEqual(await a.ask(1, { op: 'ppr' }, 2000), { echo: { op: 'ppr' } });
      b.onAsk(() => Promise.reject(new Error('no')));
      assert.equal(await a.ask(1, { op: 'ppr' }, 2000), undefined, 'a failed answer');
      assert.equal(a.dropped + b.dropped, 0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('frames with a wrong MAC, from a port not a worker\'s, or of random bytes are dropped, never thrown', async () => {
    const [a, b] = await pair();
    const stranger = createSocket('udp4');
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', () => r()));
    try {
      const seen: unknown[] = [];
      b.onSip((bytes) => seen.push(bytes));
      b.onControl((m) => seen.push(m));
      const bPort = (b as unknown as { peers: number[] }).peers[1];
      // A genuine frame from a, then copied by a stranger: its port is not a worker's.
      const frames: Buffer[] = [];
      const aSocket = (a as unknown as { socket: { send: (...x: unknown[]) => void } }).socket;
      const realSend = aSocket.send.bind(aSocket);
      aSocket.send = (list: unknown, ...rest: unknown[]) => {
        frames.push(Buffer.concat(list as Buffer[]));
        realSend(list, ...rest);
      };
      const arrived = new Promise<void>((r) => b.onControl(() => r()));
      a.broadcast({ n: 1 });
      await arrived;
      aSocket.send = realSend;
      const send = (s: { send: (m: Buffer, port: number, host: string, cb: () => void) => void }, m: Buffer) => new Promise<void>((r) => s.send(m, bPort, '127.0.0.1', () => r()));
      await send(stranger, frames[0]);
      // The same frame from a's own socket with one byte of its body changed.
      const tampered = Buffer.from(frames[0]);
      tampered[tampered.length - 2] ^= 1;
      await send(aSocket, tampered);
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
          await send(aSocket, Buffer.from(bytes));
        }),
        { numRuns: 200 },
      );
      const sentinel = new Promise<void>((r) => b.onControl(() => r()));
      a.broadcast({ n: 2 });
      await sentinel;
      assert.equal(b.dropped, 202, 'the stranger\'s copy, the tampered frame and every random one');
    } finally {
      stranger.close();
      await a.close();
      await b.close();
    }
  });
});
