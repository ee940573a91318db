/**
 * Fuzz the parsers `imsec analyze` feeds with untrusted capture bytes (fixed seeds): the pcap/pcapng
 * stream reader, link layers, GTP-U, IP fragment and TCP stream reassembly, SCTP, the keys file,
 * and the whole analyser. Each returns a value or throws its ImsError, never anything else; the
 * reassemblers give back exactly what was cut up, in any order.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Analyzer, parseKeysFile } from '../../src/analyze/index.js';
import { CaptureReader, decodeGtpu, decodeSctp, IpReassembler, linkPayload, TcpReassembler, type CaptureFrame } from '../../src/capture/index.js';
import { ImsError } from '../../src/common/index.js';
import { encodeIpv4 } from '../../src/ip/index.js';
import { buildRegistration } from '../analyze/support.js';
import { PcapngBuilder } from '../capture/pcapng-builder.js';

const SEED = 42;

function only(fn: () => unknown, codes: string[]): unknown {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ImsError && codes.includes(e.code)) return undefined;
    throw e;
  }
}

const valid = new PcapngBuilder().section(true).iface(113, 9).iface(101).packet({ iface: 0, ts: 1n, data: new Uint8Array(40).fill(0x45) }).other().section(false).iface(1).packet({ iface: 0, ts: 2n, data: new Uint8Array(60) }).simplePacket(new Uint8Array(30)).toBytes();
const registration = buildRegistration().pcap;

function readAll(bytes: Uint8Array, chunk: number): CaptureFrame[] {
  const r = new CaptureReader();
  const out: CaptureFrame[] = [];
  for (let at = 0; at < bytes.length; at += chunk) r.push(bytes.subarray(at, at + chunk), (f) => out.push({ ...f, data: Uint8Array.from(f.data) }));
  r.end();
  return out;
}

const mutated = (base: Uint8Array) =>
  fc.tuple(fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { maxLength: 6 }), fc.nat()).map(([flips, cut]) => {
    const b = Buffer.from(base);
    for (const f of flips) b[f.at % b.length] ^= f.xor;
    return b.subarray(0, b.length - (cut % 16));
  });

describe('fuzz: capture input of imsec analyze', () => {
  test('CaptureReader: arbitrary and mutated pcap/pcapng bytes, any chunking: frames or PCAP errors only', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated(valid), mutated(registration)), fc.integer({ min: 1, max: 97 }), (bytes, chunk) => {
        only(() => readAll(bytes, chunk), ['PCAP']);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  test('CaptureReader: every chunking of a valid file gives the same frames', () => {
    const whole = readAll(registration, registration.length);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4096 }), (chunk) => {
        assert.deepEqual(readAll(registration, chunk), whole);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  test('link layers and GTP-U: arbitrary frames give an IP packet, nothing, or a PCAP error', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147), fc.uint8Array({ maxLength: 64 }), (lt, bytes) => {
        only(() => linkPayload(lt, bytes), ['PCAP']);
        only(() => decodeGtpu(bytes), ['PCAP']);
        only(() => decodeSctp(bytes), ['PCAP']);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  test('IpReassembler: arbitrary packets only throw IP_PARSE; random fragmentation in random order rebuilds the datagram', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 80 }), { maxLength: 8 }), (packets) => {
        const r = new IpReassembler();
        packets.forEach((p, i) => {
          p[0] = (p[0] & 0x0f) | (i % 2 ? 0x40 : 0x60);
          only(() => r.push(p, i, i + 1), ['IP_PARSE']);
        });
      }),
      { seed: SEED, numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 3000 }), fc.integer({ min: 1, max: 40 }), fc.nat(), (payload, units, shuffle) => {
        const size = units * 8;
        const pieces: Uint8Array[] = [];
        for (let at = 0; at < payload.length; at += size) {
          const f = encodeIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, id: 7 }, payload.subarray(at, at + size));
          const more = at + size < payload.length;
          f[6] = (more ? 0x20 : 0) | ((at / 8) >> 8);
          f[7] = (at / 8) & 0xff;
          pieces.push(f);
        }
        const order = pieces.map((_, i) => i).sort((a, b) => ((a * 7919 + shuffle) % 101) - ((b * 7919 + shuffle) % 101));
        const r = new IpReassembler();
        const results = order.map((i, k) => r.push(pieces[i], 0, k + 1));
        const last = results.at(-1)!;
        if (pieces.length === 1) return assert.equal(last.kind, 'whole');
        assert.equal(last.kind, 'complete');
        if (last.kind === 'complete') assert.equal(Buffer.from(last.packet.subarray(20)).toString('hex'), Buffer.from(payload).toString('hex'));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  test('TcpReassembler: any segmentation, order and duplication delivers the stream exactly once', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 6 }), fc.nat(), fc.integer({ min: 0, max: 0xffffffff }), (stream, cuts, dups, shuffle, isn) => {
        const points = [...new Set(cuts.map((c) => c % stream.length))].filter((c) => c > 0).sort((a, b) => a - b);
        const bounds = [0, ...points, stream.length];
        const segs = bounds.slice(1).map((end, i) => ({ off: bounds[i], bytes: stream.subarray(bounds[i], end) }));
        for (const d of dups) segs.push(segs[d % segs.length]);
        const order = segs.map((_, i) => i).sort((a, b) => ((a * 31 + shuffle) % 17) - ((b * 31 + shuffle) % 17));
        const r = new TcpReassembler();
        r.push('s', { seq: isn, flags: 0x02, payload: new Uint8Array(0), frame: 0 });
        const out: Uint8Array[] = [];
        for (const i of order) for (const d of r.push('s', { seq: (isn + 1 + segs[i].off) >>> 0, flags: 0x10, payload: segs[i].bytes, frame: i }).out) if (d.kind === 'data') out.push(d.bytes);
        assert.equal(Buffer.concat(out).toString('hex'), Buffer.from(stream).toString('hex'));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  test('Analyzer: arbitrary and mutated frames of every link type never throw; problems name frames', () => {
    const frames = readAll(registration, registration.length);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(1, 101, 113, 276, 0), fc.oneof(fc.uint8Array({ maxLength: 120 }), fc.constantFrom(...frames.map((f) => f.data)).chain((d) => mutated(d)))), { maxLength: 20 }), (list) => {
        const a = new Analyzer();
        list.forEach(([linktype, data], i) => a.frame({ number: i + 1, timestampMs: i, linktype, interfaceId: 0, data, originalLength: data.length }));
        const r = a.finish();
        for (const p of r.problems) assert.ok(p.frame >= 1 && p.frame <= list.length);
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  test('parseKeysFile: arbitrary text gives SAs or a CONFIG error naming the line', () => {
    const line = '"IPv4","10.0.0.1","10.0.0.2","0x00001000","AES-CBC [RFC3602]","0x00112233445566778899aabbccddeeff","HMAC-SHA-1-96 [RFC2404]","0x00112233445566778899aabbccddeeff00000000"';
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), mutated(Buffer.from(line)).map((b) => b.toString('latin1'))), (text) => {
        only(() => parseKeysFile(text), ['CONFIG']);
      }),
      { seed: SEED, numRuns: 2000 },
    );
    assert.equal(parseKeysFile(line)[0].spi, 0x1000);
  });
});
