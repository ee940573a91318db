/**
 * The capture input of `imsec analyze`: pcapng/pcap streaming (draft-ietf-opsawg-pcapng §4,
 * draft-ietf-opsawg-pcap §4-§5), link layers (tcpdump.org LINKTYPE_*), GTP-U (TS 29.281 §5),
 * IP fragments (RFC 791 §3.2, RFC 8200 §4.5), TCP streams (RFC 9293 §3.4) and SCTP DATA
 * (RFC 9260 §3.3.1). tshark reads the same pcapng as the independent check.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  CaptureFormatError,
  CaptureReader,
  decodeGtpu,
  decodeSctp,
  GtpuError,
  IpReassembler,
  LinkLayerError,
  linkPayload,
  LINKTYPE_ETHERNET_II,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW_IP,
  PcapWriter,
  SctpAssembler,
  TcpReassembler,
  type CaptureFrame,
} from '../../src/capture/index.js';
import { encodeIpv4, encodeIpv6, encodeUdpPacket } from '../../src/ip/index.js';
import { needPeer } from '../support/peers.js';
import { PcapngBuilder } from './pcapng-builder.js';

const ip4 = encodeUdpPacket({ address: '10.0.0.1', port: 5060 }, { address: '10.0.0.2', port: 5060 }, Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n'));
const ip6 = encodeUdpPacket({ address: '2001:db8::1', port: 5060 }, { address: '2001:db8::2', port: 5060 }, Buffer.from('SIP/2.0 200 OK\r\n\r\n'));

function frames(bytes: Uint8Array, chunk = bytes.length): Omit<CaptureFrame, 'data'>[] & { data: string }[] {
  const r = new CaptureReader();
  const out: (Omit<CaptureFrame, 'data'> & { data: string })[] = [];
  for (let at = 0; at < bytes.length; at += chunk) r.push(bytes.subarray(at, Math.min(bytes.length, at + chunk)), (f) => out.push({ ...f, data: Buffer.from(f.data).toString('hex') }));
  r.end();
  return out;
}

function sll(ip: Uint8Array): Uint8Array {
  const h = new Uint8Array(16);
  h[14] = ip[0] >>> 4 === 4 ? 0x08 : 0x86;
  h[15] = ip[0] >>> 4 === 4 ? 0x00 : 0xdd;
  return Buffer.concat([h, ip]);
}

function multiSection(): Uint8Array {
  return new PcapngBuilder()
    .section(true)
    .iface(LINKTYPE_LINUX_SLL, 9)
    .iface(LINKTYPE_RAW_IP)
    .packet({ iface: 0, ts: 1_587_110_456_046_480_848n, data: sll(ip4) })
    .other()
    .packet({ iface: 1, ts: 1_587_110_457_000_001n, data: ip6 })
    .section(false)
    .iface(LINKTYPE_RAW_IP, 6)
    .packet({ iface: 0, ts: 1_587_110_458_000_002n, data: ip4 })
    .simplePacket(ip6)
    .toBytes();
}

describe('pcapng and pcap streaming (draft-ietf-opsawg-pcapng §4)', () => {
  test('[R-LAB-2] several sections, byte orders, interfaces, link types and resolutions; any chunking gives the same frames', () => {
    const bytes = multiSection();
    const whole = frames(bytes);
    assert.deepEqual(
      whole.map((f) => [f.number, f.linktype, f.interfaceId, Math.round(f.timestampMs)]),
      [
        [1, LINKTYPE_LINUX_SLL, 0, 1_587_110_456_046],
        [2, LINKTYPE_RAW_IP, 1, 1_587_110_457_000],
        [3, LINKTYPE_RAW_IP, 2, 1_587_110_458_000],
        [4, LINKTYPE_RAW_IP, 2, 0],
      ],
    );
    assert.equal(whole[1].data, Buffer.from(ip6).toString('hex'));
    for (const chunk of [1, 3, 7, 64]) assert.deepEqual(frames(bytes, chunk), whole);
  });

  test('[R-LAB-2] tshark reads the same frames (numbers, times, lengths)', (t) => {
    if (!needPeer(t, 'tshark')) return;
    const dir = mkdtempSync(join(tmpdir(), 'imsec-pcapng-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'x.pcapng');
    // Without the SPB (tshark gives it no time): three EPBs over two sections.
    const bytes = new PcapngBuilder().section(true).iface(LINKTYPE_LINUX_SLL, 9).iface(LINKTYPE_RAW_IP).packet({ iface: 0, ts: 1_587_110_456_046_480_848n, data: sll(ip4) }).packet({ iface: 1, ts: 1_587_110_457_000_001n, data: ip6 }).section(false).iface(LINKTYPE_RAW_IP, 6).packet({ iface: 0, ts: 1_587_110_458_000_002n, data: ip4 }).toBytes();
    writeFileSync(file, bytes);
    const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'frame.len'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const theirs = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    const ours = frames(bytes);
    assert.equal(theirs.length, ours.length);
    theirs.forEach(([n, time, len], i) => {
      assert.equal(Number(n), ours[i].number);
      assert.ok(Math.abs(Number(time) * 1000 - ours[i].timestampMs) < 0.01, `${time} vs ${ours[i].timestampMs}`);
      assert.equal(Number(len), ours[i].originalLength);
    });
  });

  test('[R-LAB-2] classic pcap, either byte order, µs or ns', () => {
    const w = new PcapWriter().add(ip4, 1_700_000_000_123.456).add(ip6, 1_700_000_001_000);
    const le = Buffer.from(w.toBytes());
    assert.deepEqual(frames(le).map((f) => [f.number, f.linktype, Math.round(f.timestampMs * 1000)]), [
      [1, 101, 1_700_000_000_123_456],
      [2, 101, 1_700_000_001_000_000],
    ]);
    // The same file big-endian with nanoseconds.
    const be = Buffer.from(le);
    be.writeUInt32BE(0xa1b23c4d, 0);
    be.writeUInt16BE(2, 4);
    be.writeUInt16BE(4, 6);
    be.writeUInt32BE(65535, 16);
    be.writeUInt32BE(101, 20);
    let at = 24;
    for (const p of [ip4, ip6]) {
      const [sec, usec, cap, orig] = [le.readUInt32LE(at), le.readUInt32LE(at + 4), le.readUInt32LE(at + 8), le.readUInt32LE(at + 12)];
      be.writeUInt32BE(sec, at);
      be.writeUInt32BE(usec * 1000, at + 4);
      be.writeUInt32BE(cap, at + 8);
      be.writeUInt32BE(orig, at + 12);
      at += 16 + p.length;
    }
    assert.deepEqual(frames(be).map((f) => Math.round(f.timestampMs * 1000)), [1_700_000_000_123_456, 1_700_000_001_000_000]);
  });

  test('[R-LAB-2] a truncated or corrupt capture names the frame where it stops', () => {
    const bytes = multiSection();
    const cut = bytes.subarray(0, bytes.length - 10);
    assert.throws(() => frames(cut), (e: unknown) => e instanceof CaptureFormatError && e.frame === 4 && /^frame 4: truncated pcapng block/.test(e.message));
    const bad = Buffer.from(bytes);
    bad.writeUInt32LE(13, 28 + 32 + 20 + 4); // the first packet block's length: not a multiple of 4
    assert.throws(() => frames(bad), (e: unknown) => e instanceof CaptureFormatError && /^frame \d+: pcapng block/.test(e.message));
    assert.throws(() => frames(Buffer.from('hello world, not a capture')), (e: unknown) => e instanceof CaptureFormatError && /not a pcap or pcapng file/.test(e.message));
    const pcap = new PcapWriter().add(ip4, 1).add(ip4, 2).toBytes();
    assert.throws(() => frames(pcap.subarray(0, pcap.length - 3)), (e: unknown) => e instanceof CaptureFormatError && e.frame === 2);
  });
});

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : undefined);

describe('link layers (tcpdump.org LINKTYPE_*)', () => {
  test('[R-LAB-2] Ethernet with VLAN tags, SLL, SLL2, raw, NULL in either order and LOOP give the IP packet', () => {
    const eth = (type: number[], ip: Uint8Array) => Buffer.concat([new Uint8Array(12), Uint8Array.from(type), ip]);
    assert.equal(hex(linkPayload(LINKTYPE_ETHERNET_II, eth([0x08, 0x00], ip4))), hex(ip4));
    assert.equal(hex(linkPayload(LINKTYPE_ETHERNET_II, eth([0x81, 0x00, 0, 5, 0x88, 0xa8, 0, 6, 0x86, 0xdd], ip6))), hex(ip6));
    assert.equal(linkPayload(LINKTYPE_ETHERNET_II, eth([0x08, 0x06], new Uint8Array(28))), undefined, 'ARP');
    assert.equal(hex(linkPayload(LINKTYPE_LINUX_SLL, sll(ip6))), hex(ip6));
    const sll2 = Buffer.concat([Uint8Array.from([0x08, 0x00]), new Uint8Array(18), ip4]);
    assert.equal(hex(linkPayload(LINKTYPE_LINUX_SLL2, sll2)), hex(ip4));
    assert.equal(hex(linkPayload(LINKTYPE_RAW_IP, ip4)), hex(ip4));
    assert.equal(hex(linkPayload(LINKTYPE_NULL, Buffer.concat([Uint8Array.from([2, 0, 0, 0]), ip4]))), hex(ip4));
    assert.equal(hex(linkPayload(LINKTYPE_NULL, Buffer.concat([Uint8Array.from([0, 0, 0, 30]), ip6]))), hex(ip6));
    assert.equal(hex(linkPayload(LINKTYPE_LOOP, Buffer.concat([Uint8Array.from([0, 0, 0, 2]), ip4]))), hex(ip4));
    assert.equal(linkPayload(147, ip4), undefined, 'an unknown link type carries no IP we read');
    assert.throws(() => linkPayload(LINKTYPE_LINUX_SLL2, new Uint8Array(10)), LinkLayerError);
  });
});

describe('GTP-U (TS 29.281 §5)', () => {
  test('[R-LAB-2] a G-PDU with sequence number and an extension header gives the user packet; other messages none', () => {
    const ext = [1, 0xaa, 0xbb, 0]; // one 4-octet extension header, next type 0
    const body = Buffer.concat([Uint8Array.from([0x00, 0x01, 0x00, 0x85]), Uint8Array.from(ext), ip4]);
    const g = Buffer.concat([Uint8Array.from([0x36, 0xff, body.length >> 8, body.length & 0xff, 0, 0, 0, 0x1f]), body]);
    const d = decodeGtpu(g);
    assert.equal(d.teid, 0x1f);
    assert.equal(hex(d.payload), hex(ip4));
    const echo = Uint8Array.from([0x32, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert.equal(decodeGtpu(echo).payload, undefined);
    assert.throws(() => decodeGtpu(Uint8Array.from([0x30, 0xff, 0, 50, 0, 0, 0, 1])), GtpuError);
    assert.throws(() => decodeGtpu(Uint8Array.from([0x50, 0xff, 0, 0, 0, 0, 0, 1])), GtpuError);
  });
});

function fragments4(packet: Uint8Array, size: number): Uint8Array[] {
  const hl = (packet[0] & 0x0f) * 4;
  const payload = packet.subarray(hl);
  const out: Uint8Array[] = [];
  for (let at = 0; at < payload.length; at += size) {
    const piece = payload.subarray(at, Math.min(payload.length, at + size));
    const f = encodeIpv4({ src: packet.subarray(12, 16), dst: packet.subarray(16, 20), protocol: packet[9], id: 0x4242 }, piece);
    const more = at + size < payload.length;
    f[6] = (more ? 0x20 : 0) | ((at / 8) >> 8);
    f[7] = (at / 8) & 0xff;
    out.push(f);
  }
  return out;
}

describe('IP fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5)', () => {
  test('[R-LAB-2] IPv4 fragments in any order give the original datagram; duplicates are ignored', () => {
    const big = encodeUdpPacket({ address: '10.0.0.1', port: 5060 }, { address: '10.0.0.2', port: 5060 }, Buffer.alloc(3000, 0x41));
    const parts = fragments4(big, 1200);
    for (const order of [[0, 1, 2], [2, 0, 1], [1, 2, 1, 0]]) {
      const r = new IpReassembler();
      const results = order.map((i, k) => r.push(parts[i], k, k + 1));
      const done = results.at(-1)!;
      assert.equal(done.kind, 'complete');
      if (done.kind !== 'complete') return;
      assert.deepEqual(Buffer.from(done.packet.subarray(20)), Buffer.from(big.subarray(20)));
      assert.equal(r.pendingCount, 0);
    }
  });

  test('[R-LAB-2] IPv6 Fragment headers; overlaps dropped; a whole packet passes through', () => {
    const payload = Buffer.alloc(100, 7);
    const frag = (offset: number, more: boolean, bytes: Uint8Array) => encodeIpv6({ src: '2001:db8::1', dst: '2001:db8::2', protocol: 44 }, Buffer.concat([Uint8Array.from([17, 0, (offset >> 8) & 0xff, (offset & 0xf8) | (more ? 1 : 0), 0, 0, 0, 9]), bytes]));
    const r = new IpReassembler();
    assert.equal(r.push(frag(48, false, payload.subarray(48)), 0, 1).kind, 'pending');
    const done = r.push(frag(0, true, payload.subarray(0, 48)), 0, 2);
    assert.equal(done.kind, 'complete');
    if (done.kind === 'complete') {
      assert.equal(done.packet[6], 17);
      assert.deepEqual(Buffer.from(done.packet.subarray(40)), payload);
      assert.deepEqual(done.frames, [1, 2]);
    }
    const o = new IpReassembler();
    o.push(frag(0, true, payload.subarray(0, 48)), 0, 1);
    assert.equal(o.push(frag(40, false, payload.subarray(40)), 0, 2).kind, 'dropped');
    assert.equal(new IpReassembler().push(ip4, 0, 1).kind, 'whole');
  });
});

describe('TCP stream reassembly (RFC 9293 §3.4)', () => {
  const stream = Buffer.from('REGISTER sip:ims.lab SIP/2.0\r\nContent-Length: 0\r\n\r\n'.repeat(3));
  const collect = (segs: { seq: number; payload: Uint8Array }[], syn = true): string => {
    const r = new TcpReassembler();
    let out = '';
    if (syn) r.push('k', { seq: 99, flags: 0x02, payload: new Uint8Array(0), frame: 0 });
    segs.forEach((s, i) => {
      for (const d of r.push('k', { seq: s.seq, flags: 0x10, payload: s.payload, frame: i + 1 }).out) if (d.kind === 'data') out += Buffer.from(d.bytes).toString('latin1');
    });
    return out;
  };

  test('[R-LAB-2] cut at every offset, reordered, retransmitted and duplicated: the same bytes once, in order', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const a = { seq: 100, payload: stream.subarray(0, cut) };
      const b = { seq: 100 + cut, payload: stream.subarray(cut) };
      assert.equal(collect([a, b]), stream.toString('latin1'));
      assert.equal(collect([b, a, a, b]), stream.toString('latin1'), `reordered at ${cut}`);
    }
    // Overlapping retransmission carrying old and new bytes.
    assert.equal(collect([{ seq: 100, payload: stream.subarray(0, 20) }, { seq: 110, payload: stream.subarray(10, 40) }, { seq: 140, payload: stream.subarray(40) }]), stream.toString('latin1'));
    // Sequence numbers wrapping past 2^32.
    const r = new TcpReassembler();
    r.push('w', { seq: 0xfffffff0, flags: 0x02, payload: new Uint8Array(0), frame: 0 });
    const got = [...r.push('w', { seq: 0xfffffff1 + 20, flags: 0x10, payload: stream.subarray(20, 40), frame: 2 }).out, ...r.push('w', { seq: 0xfffffff1, flags: 0x10, payload: stream.subarray(0, 20), frame: 1 }).out];
    assert.deepEqual(got.map((d) => (d.kind === 'data' ? Buffer.from(d.bytes).toString('latin1') : 'gap')).join(''), stream.subarray(0, 40).toString('latin1'));
  });

  test('[R-LAB-2] a lost segment: bounded buffering, then a gap is reported and delivery goes on', () => {
    const r = new TcpReassembler();
    r.push('g', { seq: 0, flags: 0x02, payload: new Uint8Array(0), frame: 0 });
    const kinds: string[] = [];
    // Byte 1..1000 lost; 300 segments of 1000 bytes after it exceed the bound.
    for (let i = 1; i <= 300; i++) for (const d of r.push('g', { seq: 1 + i * 1000, flags: 0x10, payload: new Uint8Array(1000), frame: i }).out) kinds.push(d.kind);
    assert.equal(kinds[0], 'gap');
    assert.ok(kinds.filter((k) => k === 'data').length > 100);
  });
});

describe('SCTP DATA chunks (RFC 9260 §3.3.1)', () => {
  test('[R-LAB-2] Diameter user messages, whole and fragmented across chunks', () => {
    const chunk = (tsn: number, flags: number, data: Uint8Array) => {
      const len = 16 + data.length;
      const c = Buffer.alloc((len + 3) & ~3);
      c[0] = 0;
      c[1] = flags;
      c.writeUInt16BE(len, 2);
      c.writeUInt32BE(tsn, 4);
      c.writeUInt16BE(0, 8);
      c.writeUInt32BE(46, 12);
      Buffer.from(data).copy(c, 16);
      return c;
    };
    const hdr = Buffer.from('0f1c0d6e00000001deadbeef', 'hex');
    const msg = Buffer.from('0100001c80000118000000000000000100000002000000000000', 'hex');
    const p = decodeSctp(Buffer.concat([hdr, chunk(1, 3, msg)]));
    assert.deepEqual([p.srcPort, p.dstPort, p.data.length, p.data[0].ppid], [0x0f1c, 0x0d6e, 1, 46]);
    const a = new SctpAssembler();
    assert.equal(hex(a.push('x', p.data[0])), hex(msg));
    const q = decodeSctp(Buffer.concat([hdr, chunk(7, 2, msg.subarray(0, 10)), chunk(8, 1, msg.subarray(10))]));
    assert.equal(a.push('x', q.data[0]), undefined);
    assert.deepEqual(Buffer.from(a.push('x', q.data[1])!), msg);
  });
});
