/**
 * capture/wire-feed.ts: node processes' observations (WireRelay) joined into one trace in the
 * parent (WireMerge) for `imsec core --processes --web`. Each node reports over its own ordered
 * channel, and the channels interleave in any order at the parent: every packet must be recorded
 * exactly once, a TCP stream's bytes exactly once and in order however each end cut it, and an
 * answer never before the request that caused it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { WireMerge, WireRelay, WireTap, type WireFeedMessage, type WirePacket } from '../../src/capture/index.js';

const P = { address: '127.0.0.1', port: 5060 };
const I = { address: '127.0.0.1', port: 4060 };
const UE = { address: '127.0.0.2', port: 40000 };
const HSS = { address: '127.0.0.1', port: 3868 };
const SCSCF_CLIENT = { address: '127.0.0.1', port: 51000 };

/** Two nodes, each with its channel (a relay whose messages queue up until delivered). */
function nodes(): { tap: WireTap; merge: WireMerge; p: WireRelay; i: WireRelay; pq: WireFeedMessage[]; iq: WireFeedMessage[] } {
  const tap = new WireTap();
  const merge = new WireMerge(tap);
  const pq: WireFeedMessage[] = [];
  const iq: WireFeedMessage[] = [];
  const p = new WireRelay((m) => pq.push(m), () => 1);
  const i = new WireRelay((m) => iq.push(m), () => 2);
  p.own('P-CSCF', P, 'udp');
  i.own('I-CSCF', I, 'udp');
  // The declarations reach the parent before any traffic (a node declares its listeners as it starts).
  for (const m of [...pq.splice(0), ...iq.splice(0)]) merge.receive(m);
  return { tap, merge, p, i, pq, iq };
}

const text = (p: WirePacket): string => Buffer.from(p.bytes).toString();
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));

describe('WireMerge: the wire of several node processes as one trace', () => {
  test('[R-LAB-5] a datagram between two tapped nodes is recorded once, whichever end reports first; one from an untapped UE once', () => {
    for (const order of ['sender first', 'receiver first'] as const) {
      const { tap, merge, p, i, pq, iq } = nodes();
      p.sipObserver('P-CSCF')('out', bytes('REGISTER'), P, I, 'udp');
      i.sipObserver('I-CSCF')('in', bytes('REGISTER'), I, P, 'udp');
      for (const m of order === 'sender first' ? [...pq, ...iq] : [...iq, ...pq]) merge.receive(m);
      assert.deepEqual(
        tap.packets().map((x) => [text(x), x.from.port, x.to.port, x.kind]),
        [['REGISTER', 5060, 4060, 'sip']],
        order,
      );
      assert.equal(tap.nameOf(P, 'udp'), 'P-CSCF');
      pq.length = 0;
      p.sipObserver('P-CSCF')('in', bytes('REGISTER ue'), P, UE, 'udp');
      for (const m of pq) merge.receive(m);
      assert.deepEqual(tap.packets().map(text), ['REGISTER', 'REGISTER ue']);
    }
  });

  test('[R-LAB-5] the answer never comes before its request: the receiver reports the request before what it sent in answer', () => {
    const { tap, merge, p, i, pq, iq } = nodes();
    // P sends the REGISTER; I receives it and answers 401; P receives the 401.
    p.sipObserver('P-CSCF')('out', bytes('REGISTER'), P, I, 'udp');
    i.sipObserver('I-CSCF')('in', bytes('REGISTER'), I, P, 'udp');
    i.sipObserver('I-CSCF')('out', bytes('401'), I, P, 'udp');
    p.sipObserver('P-CSCF')('in', bytes('401'), P, I, 'udp');
    // I's channel is delivered whole before P's.
    for (const m of [...iq, ...pq]) merge.receive(m);
    assert.deepEqual(tap.packets().map(text), ['REGISTER', '401']);
  });

  test('[R-LAB-5] a retransmission (the same bytes again) is recorded again: each copy pairs with one of the other end', () => {
    const { tap, merge, p, i, pq, iq } = nodes();
    for (let n = 0; n < 2; n++) {
      p.sipObserver('P-CSCF')('out', bytes('REGISTER'), P, I, 'udp');
      i.sipObserver('I-CSCF')('in', bytes('REGISTER'), I, P, 'udp');
    }
    for (const m of [...pq, ...iq]) merge.receive(m);
    assert.deepEqual(tap.packets().map(text), ['REGISTER', 'REGISTER']);
  });

  test('[R-LAB-5] datagrams between tapped nodes, both copies in any interleaving of the two channels: each recorded exactly once, in an order that respects each channel', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.constantFrom('A', 'B', 'C')), { minLength: 1, maxLength: 12 }), fc.array(fc.boolean(), { maxLength: 40 }), (sends, picks) => {
        const { tap, merge, p, i, pq, iq } = nodes();
        const sent: string[] = [];
        sends.forEach(([fromP, body], n) => {
          const b = `${body}${n % 3}`;
          sent.push(b);
          if (fromP) {
            p.sipObserver('P-CSCF')('out', bytes(b), P, I, 'udp');
            i.sipObserver('I-CSCF')('in', bytes(b), I, P, 'udp');
          } else {
            i.sipObserver('I-CSCF')('out', bytes(b), I, P, 'udp');
            p.sipObserver('P-CSCF')('in', bytes(b), P, I, 'udp');
          }
        });
        let k = 0;
        while (pq.length > 0 || iq.length > 0) {
          const fromP = iq.length === 0 || (pq.length > 0 && (picks[k++ % Math.max(picks.length, 1)] ?? true));
          merge.receive((fromP ? pq : iq).shift()!);
        }
        assert.deepEqual(tap.packets().map(text).sort(), [...sent].sort());
      }),
    );
  });

  test('[R-LAB-5] a TCP stream cut differently by writer and reader, the chunks interleaved in any order: its bytes recorded once and in order', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 10 }), fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 10 }), fc.array(fc.boolean(), { maxLength: 30 }), (stream, writeCuts, readCuts, picks) => {
        const tap = new WireTap();
        const merge = new WireMerge(tap);
        const sq: WireFeedMessage[] = [];
        const hq: WireFeedMessage[] = [];
        const s = new WireRelay((m) => sq.push(m));
        const h = new WireRelay((m) => hq.push(m));
        const chunks = (cuts: number[]): Uint8Array[] => {
          const out: Uint8Array[] = [];
          let at = 0;
          for (const c of cuts) {
            if (at >= stream.length) break;
            out.push(stream.subarray(at, Math.min(at + c, stream.length)));
            at += c;
          }
          if (at < stream.length) out.push(stream.subarray(at));
          return out;
        };
        for (const c of chunks(writeCuts)) s.diameterObserver('S-CSCF')('out', c, SCSCF_CLIENT, HSS, 'tcp');
        for (const c of chunks(readCuts)) h.diameterObserver('HSS')('in', c, HSS, SCSCF_CLIENT, 'tcp');
        let k = 0;
        while (sq.length > 0 || hq.length > 0) {
          const fromS = hq.length === 0 || (sq.length > 0 && (picks[k++ % Math.max(picks.length, 1)] ?? true));
          merge.receive((fromS ? sq : hq).shift()!);
        }
        const recorded = Buffer.concat(tap.packets().map((x) => x.bytes));
        assert.deepEqual(new Uint8Array(recorded), stream);
        for (const x of tap.packets()) assert.deepEqual([x.from.port, x.to.port, x.kind, x.proto], [51000, 3868, 'diameter', 'tcp']);
      }),
    );
  });

  test('[R-LAB-5] second copies still awaited are bounded: a datagram the receiver never reported (dropped by its socket) is forgotten oldest first, and the later ones still pair', () => {
    const tap = new WireTap();
    const merge = new WireMerge(tap, 2);
    const q: WireFeedMessage[] = [];
    const r = new WireRelay((m) => q.push(m));
    r.own('I-CSCF', I, 'udp');
    for (const b of ['lost', 'b', 'c']) r.sipObserver('P-CSCF')('out', bytes(b), P, I, 'udp');
    for (const b of ['b', 'c']) r.sipObserver('I-CSCF')('in', bytes(b), I, P, 'udp');
    for (const m of q) merge.receive(m);
    assert.deepEqual(tap.packets().map(text), ['lost', 'b', 'c']);
    // Nothing is awaited any more: the next copy of b is a new datagram.
    q.length = 0;
    r.sipObserver('I-CSCF')('in', bytes('b'), I, P, 'udp');
    for (const m of q) merge.receive(m);
    assert.deepEqual(tap.packets().map(text), ['lost', 'b', 'c', 'b']);
  });

  test('[R-LAB-5] WireRelay sends a copy of exactly the observed bytes (never the buffer they are a view into), its ends and its time', () => {
    const sent: WireFeedMessage[] = [];
    const relay = new WireRelay((m) => sent.push(m), () => 1234);
    const big = new Uint8Array(8192).fill(7);
    const view = big.subarray(100, 110);
    relay.espObserver('P-CSCF')('out', P, UE, view);
    big.fill(0);
    const m = sent[0];
    assert.ok(m.t === 'wire');
    assert.equal(m.bytes.buffer.byteLength, 10);
    assert.deepEqual([...m.bytes], Array(10).fill(7));
    assert.deepEqual([m.node, m.kind, m.dir, m.proto, m.local, m.remote, m.at], ['P-CSCF', 'esp', 'out', 'udp', P, UE, 1234]);
    // Messages from anything but a node process are ignored by the merge.
    const tap = new WireTap();
    new WireMerge(tap).receive({ t: 'bogus' } as unknown as WireFeedMessage);
    assert.equal(tap.packets().length, 0);
  });
});
