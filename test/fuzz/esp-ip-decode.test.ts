/**
 * Fuzz the IP/UDP/TCP decoders and the pcap reader that the ESP datapath and the pcap tools
 * feed with untrusted bytes: they return a value or throw an ImsError (IP_PARSE / PCAP), nothing
 * else; whatever decodes re-encodes to the same fields; generated packets round-trip exactly.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ImsError } from '../../src/common/index.js';
import { readPcap } from '../../src/capture/index.js';
import { decodeIpPacket, decodeTcp, decodeUdp, encodeIpPacket, encodeTcpPacket, encodeUdpPacket, formatIp, parseIp, type DecodedIpPacket } from '../../src/ip/index.js';
import { fuzzTarget } from '../support/fuzz.js';

const RUNS = 1500;
const fuzz = fuzzTarget<never>(import.meta.url, () => ({ ext: '', data: '' }));

function onlyImsError(fn: () => unknown, codes: string[]): unknown {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ImsError && codes.includes(e.code)) return undefined;
    throw e;
  }
}

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIp(b));
const pair = fc.oneof(fc.tuple(ipv4, ipv4), fc.tuple(ipv6, ipv6));

/** Valid packets to mutate: UDP and TCP over both families. */
const packets = [
  encodeUdpPacket({ address: '10.0.0.1', port: 5060 }, { address: '10.0.0.2', port: 5062 }, Buffer.from('REGISTER sip:ims.lab SIP/2.0\r\n\r\n')),
  encodeUdpPacket({ address: '2001:db8::1', port: 5060 }, { address: '2001:db8::2', port: 5062 }, Buffer.from('SIP/2.0 200 OK\r\n\r\n')),
  encodeTcpPacket({ address: '10.0.0.1', port: 40000 }, { address: '10.0.0.2', port: 5060 }, { seq: 1, ack: 2, flags: 0x18 }, Buffer.from('OPTIONS')),
  encodeIpPacket({ src: '2001:db8::1', dst: '2001:db8::2', protocol: 0 }, Buffer.from('3c0001040000000011000001000000001122', 'hex')),
];

function reencodes(d: DecodedIpPacket, original: Uint8Array): void {
  // Our encoder writes no IPv4 options or IPv6 extension headers: compare the fields it carries.
  if (d.headerLength !== (d.version === 4 ? 20 : 40)) return;
  const again = decodeIpPacket(encodeIpPacket({ src: d.src, dst: d.dst, protocol: d.protocol, ttl: d.ttl }, d.payload));
  assert.deepEqual([again.version, again.src, again.dst, again.protocol, again.ttl, Buffer.from(again.payload)], [d.version, d.src, d.dst, d.protocol, d.ttl, Buffer.from(d.payload)], Buffer.from(original).toString('hex'));
}

describe('fuzz: IP decoders', () => {
  test('decodeIpPacket on arbitrary bytes returns or throws IP_PARSE; what decodes re-encodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.constantFrom(0x45, 0x46, 0x60, 0x4f, 0x00), (bytes, first) => {
        const b = Uint8Array.from(bytes);
        if (b.length) b[0] = first;
        const d = onlyImsError(() => decodeIpPacket(b), ['IP_PARSE']) as DecodedIpPacket | undefined;
        if (d) reencodes(d, b);
      }),
      fuzz.params(RUNS),
    );
  });

  test('mutated valid packets: decodeIpPacket, decodeUdp and decodeTcp only throw IP_PARSE', () => {
    fc.assert(
      fc.property(fc.constantFrom(...packets.keys()), fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { maxLength: 4 }), fc.integer({ min: -30, max: 5 }), (i, flips, cut) => {
        const b = Buffer.from(packets[i]);
        for (const f of flips) b[f.at % b.length] ^= f.xor;
        const bytes = b.subarray(0, Math.max(0, b.length + Math.min(cut, 0)));
        const d = onlyImsError(() => decodeIpPacket(bytes), ['IP_PARSE']) as DecodedIpPacket | undefined;
        if (!d) return;
        reencodes(d, bytes);
        const pseudo = { src: d.src, dst: d.dst };
        onlyImsError(() => decodeUdp(d.payload, pseudo), ['IP_PARSE']);
        onlyImsError(() => decodeTcp(d.payload, pseudo), ['IP_PARSE']);
      }),
      fuzz.params(RUNS),
    );
  });

  test('generated UDP packets round-trip exactly through encode and decode', () => {
    fc.assert(
      fc.property(pair, fc.nat(65535), fc.nat(65535), fc.uint8Array({ maxLength: 200 }), ([src, dst], sp, dp, payload) => {
        const p = encodeUdpPacket({ address: src, port: sp }, { address: dst, port: dp }, payload);
        const d = decodeIpPacket(p);
        assert.deepEqual([d.src, d.dst, d.protocol], [formatIp(parseIp(src)), formatIp(parseIp(dst)), 17]);
        assert.equal(parseIp(d.src).length, d.version === 4 ? 4 : 16);
        const u = decodeUdp(d.payload, { src: d.src, dst: d.dst });
        assert.deepEqual([u.srcPort, u.dstPort, Buffer.from(u.payload)], [sp, dp, Buffer.from(payload)]);
      }),
      fuzz.params(500),
    );
  });

  test('readPcap on arbitrary bytes returns or throws PCAP', () => {
    const head = Buffer.from('d4c3b2a10200040000000000000000000000010065000000', 'hex');
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ maxLength: 100 }), (withHeader, rest) => {
        onlyImsError(() => readPcap(withHeader ? Buffer.concat([head, rest]) : rest), ['PCAP']);
      }),
      fuzz.params(RUNS),
    );
  });
});
