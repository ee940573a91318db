/**
 * IPv4 (RFC 791), IPv6 (RFC 8200), UDP (RFC 768), TCP (RFC 9293) codecs and the Internet
 * checksum (RFC 1071); checksums are confirmed by tshark's own validators.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ImsError } from '../../src/common/index.js';
import { PcapWriter } from '../../src/capture/index.js';
import {
  decodeIpPacket,
  decodeIpv4,
  decodeIpv6,
  decodeTcp,
  decodeUdp,
  encodeIpPacket,
  encodeIpv4,
  encodeIpv6,
  encodeTcp,
  encodeTcpPacket,
  encodeUdp,
  encodeUdpPacket,
  formatIp,
  internetChecksum,
  ipVersionOf,
  isIpv4Text,
  parseIp,
  TCP_ACK,
  TCP_PSH,
  TCP_SYN,
} from '../../src/ip/index.js';
import { needPeer } from '../support/peers.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const isCode = (code: string) => (e: unknown) => e instanceof ImsError && e.code === code;

describe('RFC 1071 Internet checksum', () => {
  test('RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d', () => {
    assert.equal(internetChecksum(hex('0001f203f4f5f6f7')), 0x220d);
  });

  test('the IPv4 header example 4500 0073 0000 4000 4011 ____ c0a8 0001 c0a8 00c7 has checksum b861', () => {
    // The worked example of the IPv4 header checksum in Wikipedia's "Internet checksum" article.
    assert.equal(internetChecksum(hex('450000730000400040110000c0a80001c0a800c7')), 0xb861);
    assert.equal(internetChecksum(hex('45000073000040004011b861c0a80001c0a800c7')), 0, 'a correct header sums to zero');
  });

  test('odd lengths pad with a zero byte; parts concatenate at even boundaries', () => {
    assert.equal(internetChecksum(hex('0102 03')), internetChecksum(hex('0102 0300')));
    assert.equal(internetChecksum(hex('0102'), hex('0304')), internetChecksum(hex('01020304')));
    assert.equal(internetChecksum(new Uint8Array(100_000).fill(0xff)), 0, 'long runs fold correctly');
  });
});

describe('addresses (RFC 4291 §2.2, RFC 5952)', () => {
  test('IPv4 and IPv6 text parse to bytes and format canonically', () => {
    assert.deepEqual([...parseIp('192.0.2.33')], [192, 0, 2, 33]);
    const cases: [string, string][] = [
      ['2001:db8::1', '2001:db8::1'],
      ['2001:0DB8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // RFC 5952 §4.2.3: first of equal runs
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2: a single 0 is not compressed
      ['::', '::'],
      ['::1', '::1'],
      ['fe80::', 'fe80::'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ];
    for (const [text, canon] of cases) {
      const b = parseIp(text);
      assert.equal(b.length, 16, text);
      assert.equal(formatIp(b), canon, text);
    }
    assert.equal(ipVersionOf('10.0.0.1'), 4);
    assert.equal(ipVersionOf('2001:db8::1'), 6);
  });

  test('malformed addresses are refused (INVALID_ARGUMENT)', () => {
    for (const bad of ['', '1.2.3', '1.2.3.256', '01.2.3.4', '1.2.3.4.5', ':::', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'g::1', '::1.2.3', '1.2.3.4::', 'fe80::1%eth0']) {
      assert.equal(ipVersionOf(bad), 0, bad);
      assert.throws(() => parseIp(bad), isCode('INVALID_ARGUMENT'), bad);
    }
  });

  test('[R-SA-4] IPv4 text, as the SA selectors compare it, is read by one scan exactly as RFC 791 dotted decimal without leading zeros (fuzz against the rule)', () => {
    // The rule, written plainly: four parts, each 0 or 1-3 digits without a leading zero, at most 255.
    const rule = (s: string): number[] | undefined => {
      const parts = s.split('.');
      if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
      return parts.map(Number);
    };
    for (const [text, ok] of [['0.0.0.0', true], ['255.255.255.255', true], ['256.1.1.1', false], ['1.2.3.04', false], ['1..2.3', false], ['1.2.3.', false], ['.1.2.3', false], ['1.2.3.4 ', false], ['1.2.3.1000', false], ['١.2.3.4', false]] as const) {
      assert.equal(isIpv4Text(text), ok, text);
    }
    const digitsAndDots = fc.stringMatching(/^[0-9.]{0,17}$/);
    const octets = fc.array(fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('00', '01', '007', '', '1a')), { minLength: 3, maxLength: 5 }).map((a) => a.join('.'));
    fc.assert(
      fc.property(fc.oneof(digitsAndDots, octets, fc.string({ maxLength: 16 })), (s) => {
        const want = rule(s);
        assert.equal(isIpv4Text(s), want !== undefined, s);
        assert.equal(ipVersionOf(s) === 4, want !== undefined, s);
        if (want) assert.deepEqual([...parseIp(s)], want, s);
        else if (ipVersionOf(s) === 0) assert.throws(() => parseIp(s), isCode('INVALID_ARGUMENT'), s);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('RFC 791 IPv4', () => {
  test('encodes the header field by field (checksum from RFC 1071) and decodes it back', () => {
    const p = encodeIpv4({ src: '192.168.0.1', dst: '192.168.0.199', protocol: 17, ttl: 64, id: 0, dontFragment: true }, new Uint8Array(95));
    // Same header as the checksum example above: total length 0x73 = 115, DF, TTL 64, UDP.
    assert.equal(Buffer.from(p.subarray(0, 20)).toString('hex'), '45000073000040004011b861c0a80001c0a800c7');
    const d = decodeIpv4(p);
    assert.equal(formatIp(d.src), '192.168.0.1');
    assert.equal(d.protocol, 17);
    assert.equal(d.dontFragment, true);
    assert.equal(d.payload.length, 95);
  });

  test('decode errors are IP_PARSE: short, wrong version, bad IHL, bad length, bad checksum', () => {
    const good = encodeIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6 }, new Uint8Array(8));
    const mut = (f: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      f(b);
      return b;
    };
    const bads: Uint8Array[] = [
      good.subarray(0, 19),
      mut((b) => (b[0] = 0x55)),
      mut((b) => (b[0] = 0x44)),
      mut((b) => (b[0] = 0x4f)),
      mut((b) => b.writeUInt16BE(29, 2)),
      mut((b) => b.writeUInt16BE(19, 2)),
      mut((b) => (b[8] ^= 1)),
    ];
    for (const [i, b] of bads.entries()) assert.throws(() => decodeIpv4(b), isCode('IP_PARSE'), `case ${i}`);
    assert.equal(decodeIpv4(mut((b) => (b[8] ^= 1)), { verifyChecksum: false }).ttl, 65);
  });

  test('trailing link-layer padding is cut at Total Length; fragments are flagged', () => {
    const p = Buffer.concat([encodeIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17 }, hex('aabb')), Buffer.alloc(6)]);
    assert.deepEqual([...decodeIpPacket(p).payload], [0xaa, 0xbb]);
    const frag = Buffer.from(encodeIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17 }, hex('aabb')));
    frag[6] = 0x20; // MF
    frag.writeUInt16BE(0, 10);
    frag.writeUInt16BE(internetChecksum(frag.subarray(0, 20)), 10);
    assert.equal(decodeIpPacket(frag).fragment, true);
  });

  test('encode refuses out-of-range fields and IPv6 addresses (INVALID_ARGUMENT)', () => {
    assert.throws(() => encodeIpv4({ src: '::1', dst: '::1', protocol: 17 }, new Uint8Array(0)), isCode('INVALID_ARGUMENT'));
    assert.throws(() => encodeIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 256 }, new Uint8Array(0)), isCode('INVALID_ARGUMENT'));
    assert.throws(() => encodeIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17 }, new Uint8Array(65516)), isCode('INVALID_ARGUMENT'));
  });
});

describe('RFC 8200 IPv6', () => {
  test('encodes the fixed header field by field and decodes it back', () => {
    const p = encodeIpv6({ src: '2001:db8::1', dst: '2001:db8::2', protocol: 17, hopLimit: 255, trafficClass: 0xb8, flowLabel: 0xabcde }, hex('0102'));
    assert.equal(
      Buffer.from(p).toString('hex'),
      '6b8abcde' + '0002' + '11' + 'ff' + '20010db8000000000000000000000001' + '20010db8000000000000000000000002' + '0102',
    );
    const d = decodeIpv6(p);
    assert.deepEqual([d.trafficClass, d.flowLabel, d.hopLimit, d.protocol], [0xb8, 0xabcde, 255, 17]);
  });

  test('extension headers are walked to the upper layer (hop-by-hop, destination options, fragment)', () => {
    const hbh = hex('3c00' + '010400000000'); // next: dest opts, 8 bytes, PadN
    const dst = hex('2c01' + '0104000000000000' + '000000000000'); // next: fragment, 16 bytes
    const frag = hex('1100' + '0001' + '12345678'); // next: UDP, offset 0, M=1
    const udp = hex('13c413c4000a0000ffff');
    const p = encodeIpv6({ src: '2001:db8::1', dst: '2001:db8::2', protocol: 0 }, Buffer.concat([hbh, dst, frag, udp]));
    const d = decodeIpPacket(p);
    assert.equal(d.protocol, 17);
    assert.equal(d.fragment, true);
    assert.equal(d.headerLength, 40 + 8 + 16 + 8);
    assert.deepEqual(Buffer.from(d.payload), udp);
  });

  test('decode errors are IP_PARSE', () => {
    const good = encodeIpv6({ src: '2001:db8::1', dst: '2001:db8::2', protocol: 17 }, hex('00'));
    const mut = (f: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      f(b);
      return b;
    };
    for (const b of [
      good.subarray(0, 39),
      mut((b) => (b[0] = 0x40)),
      mut((b) => b.writeUInt16BE(2, 4)),
      mut((b) => (b[6] = 0)), // hop-by-hop header truncated
      encodeIpv6({ src: '::1', dst: '::1', protocol: 60 }, hex('11ff000000000000')), // dest opts longer than the payload
    ]) {
      assert.throws(() => decodeIpv6(b), isCode('IP_PARSE'));
    }
  });
});

describe('RFC 768 UDP and RFC 9293 TCP', () => {
  test('UDP: header, pseudo-header checksum, round trip; a wrong checksum is IP_PARSE', () => {
    const pseudo = { src: '10.0.0.1', dst: '10.0.0.2' };
    const u = encodeUdp(5060, 5062, hex('deadbeef'), pseudo);
    assert.equal(Buffer.from(u.subarray(0, 6)).toString('hex'), '13c413c6000c');
    const d = decodeUdp(u, pseudo);
    assert.deepEqual([d.srcPort, d.dstPort, d.length, Buffer.from(d.payload).toString('hex')], [5060, 5062, 12, 'deadbeef']);
    assert.throws(() => decodeUdp(u, { src: '10.0.0.1', dst: '10.0.0.3' }), isCode('IP_PARSE'));
    const z = encodeUdp(4500, 4500, hex('01'), pseudo, { zeroChecksum: true });
    assert.equal(decodeUdp(z, pseudo).checksum, 0, 'zero means no checksum over IPv4 (RFC 3948 §2.1 allows it)');
    assert.throws(() => encodeUdp(1, 2, hex('01'), { src: '::1', dst: '::2' }, { zeroChecksum: true }), isCode('INVALID_ARGUMENT'));
    const z6 = Buffer.from(encodeUdp(1, 2, hex('01'), { src: '::1', dst: '::2' }));
    z6.writeUInt16BE(0, 6);
    assert.throws(() => decodeUdp(z6, { src: '::1', dst: '::2' }), isCode('IP_PARSE'));
    for (const bad of [hex('0001000200'), hex('000100020007000000'), hex('000100020010000000')]) assert.throws(() => decodeUdp(bad), isCode('IP_PARSE'));
  });

  test('UDP checksum that computes to 0 is sent as ffff (RFC 768)', () => {
    // Replacing the 2-byte payload 0000 by the word w adds w to the sum S; with w = ck = ~S the
    // sum becomes ffff and the checksum 0, which must go on the wire as ffff.
    const pseudo = { src: '10.0.0.1', dst: '10.0.0.2' };
    const base = encodeUdp(1000, 2000, hex('0000'), pseudo);
    const ck = (base[6] << 8) | base[7];
    const u = encodeUdp(1000, 2000, Buffer.from([ck >> 8, ck & 0xff]), pseudo);
    assert.equal((u[6] << 8) | u[7], 0xffff);
    assert.equal(decodeUdp(u, pseudo).checksum, 0xffff);
  });

  test('TCP: header fields, options padding, checksum round trip; errors are IP_PARSE', () => {
    const pseudo = { src: '2001:db8::1', dst: '2001:db8::2' };
    const t = encodeTcp({ srcPort: 5060, dstPort: 40000, seq: 0xfffffff0, ack: 7, flags: TCP_SYN | TCP_ACK, window: 1000, options: hex('020405b4') }, hex(''), pseudo);
    assert.equal(t.length, 24);
    const d = decodeTcp(t, pseudo);
    assert.deepEqual([d.srcPort, d.dstPort, d.seq, d.ack, d.flags, d.window, d.headerLength], [5060, 40000, 0xfffffff0, 7, TCP_SYN | TCP_ACK, 1000, 24]);
    assert.equal(Buffer.from(d.options).toString('hex'), '020405b4');
    const bad = Buffer.from(t);
    bad[6] ^= 1;
    assert.throws(() => decodeTcp(bad, pseudo), isCode('IP_PARSE'));
    assert.throws(() => decodeTcp(hex('00'.repeat(19))), isCode('IP_PARSE'));
    const off = Buffer.from(t);
    off[12] = 0xf0;
    assert.throws(() => decodeTcp(off), isCode('IP_PARSE'));
    assert.throws(() => encodeTcp({ srcPort: 1, dstPort: 2, seq: -1, ack: 0, flags: 0 }, hex(''), pseudo), isCode('INVALID_ARGUMENT'));
  });
});

describe('tshark validates our checksums', () => {
  test('IPv4 header, UDP and TCP checksums over IPv4 and IPv6 are all "Good" to tshark', (t) => {
    if (!needPeer(t, 'tshark')) return;
    const dir = mkdtempSync(join(tmpdir(), 'imsec-ip-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const w = new PcapWriter();
    const a4 = { address: '10.0.0.1', port: 5060 };
    const b4 = { address: '10.0.0.2', port: 5062 };
    const a6 = { address: '2001:db8::1', port: 5060 };
    const b6 = { address: '2001:db8::2', port: 5062 };
    const odd = Buffer.from('an odd-length payload!!');
    w.add(encodeUdpPacket(a4, b4, odd), 1000);
    w.add(encodeUdpPacket(a6, b6, odd), 1001);
    w.add(encodeTcpPacket(a4, b4, { seq: 1, ack: 1, flags: TCP_PSH | TCP_ACK }, odd), 1002);
    w.add(encodeTcpPacket(a6, b6, { seq: 1, ack: 1, flags: TCP_PSH | TCP_ACK }, odd), 1003);
    w.add(encodeIpPacket({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 50, id: 0x1234, ttl: 3 }, hex('0000100000000001')), 1004);
    const file = join(dir, 'ck.pcap');
    writeFileSync(file, w.toBytes());
    const r = spawnSync(
      'tshark',
      ['-r', file, '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=;', '-e', 'ip.checksum.status', '-e', 'udp.checksum.status', '-e', 'tcp.checksum.status', '-e', 'ip.ttl', '-e', 'ipv6.src'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['1;1;;64;', ';1;;;2001:db8::1', '1;;1;64;', ';;1;;2001:db8::1', '1;;;3;']);
  });
});
