/**
 * libpcap writer/reader (draft-ietf-opsawg-pcap §4-§5), the conversation recorder and the file
 * edge; tshark reads what we write and reassembles recorded TCP streams.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { ImsError } from '../../src/common/index.js';
import {
  LINKTYPE_ETHERNET,
  PcapFileAppender,
  PcapRecorder,
  PcapWriter,
  pcapFileHeader,
  pcapRecord,
  readPcap,
  writePcapFile,
} from '../../src/capture/index.js';
import { decodeIpPacket, decodeTcp, decodeUdp, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../../src/ip/index.js';
import { needPeer } from '../support/peers.js';

const isCode = (code: string) => (e: unknown) => e instanceof ImsError && e.code === code;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-pcap-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function tsharkFields(file: string, fields: string[], extra: string[] = []): string[][] {
  const args = ['-r', file, ...extra, '-T', 'fields', '-E', 'separator=;'];
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.length)
    .map((l) => l.split(';'));
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 96\r\na=rtpmap:96 AMR-WB/16000\r\na=ptime:20\r\n';
const SIP_OVER_TCP =
  'INVITE sip:bob@ims.lab SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1:5062;branch=z9hG4bKtcp\r\nMax-Forwards: 70\r\n' +
  'From: <sip:alice@ims.lab>;tag=a\r\nTo: <sip:bob@ims.lab>\r\nCall-ID: tcp-1\r\nCSeq: 1 INVITE\r\n' +
  `Contact: <sip:alice@10.0.0.1:5062;transport=tcp>\r\nContent-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n` +
  SDP;

describe('libpcap format', () => {
  test('file header: magic a1b2c3d4 (little-endian), version 2.4, snaplen 65535, LINKTYPE_RAW 101', () => {
    assert.equal(Buffer.from(pcapFileHeader()).toString('hex'), 'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + 'ffff0000' + '65000000');
    assert.equal(Buffer.from(pcapFileHeader({ linktype: LINKTYPE_ETHERNET, snaplen: 1500 })).toString('hex').slice(32), 'dc05000001000000');
  });

  test('record header: seconds, microseconds, captured and original length; snaplen cuts', () => {
    const r = pcapRecord(Uint8Array.from([1, 2, 3, 4, 5]), 1_700_000_123_456.789, 3);
    // 1700000123 s = 0x6553f17b, 456789 µs = 0x0006f855
    assert.equal(Buffer.from(r).toString('hex'), '7bf15365' + '55f80600' + '03000000' + '05000000' + '010203');
    assert.throws(() => pcapRecord(new Uint8Array(1), -1), isCode('INVALID_ARGUMENT'));
    assert.throws(() => pcapRecord(new Uint8Array(1), 2 ** 32 * 1000), isCode('INVALID_ARGUMENT'));
  });

  test('readPcap reads back what PcapWriter wrote', () => {
    const w = new PcapWriter();
    w.add(Uint8Array.from([0x45, 1]), 1000.5).add(Uint8Array.from([0x60]), 2000);
    assert.equal(w.count, 2);
    const f = readPcap(w.toBytes());
    assert.equal(f.linktype, 101);
    assert.equal(f.snaplen, 65535);
    assert.deepEqual(
      f.packets.map((p) => [p.timestampMs, [...p.data], p.originalLength]),
      [
        [1000.5, [0x45, 1], 2],
        [2000, [0x60], 1],
      ],
    );
  });

  test('readPcap reads big-endian and nanosecond files; garbage is PCAP', () => {
    const be = Buffer.from('a1b23c4d' + '0002' + '0004' + '00000000' + '00000000' + '0000ffff' + '00000065' + '00000002' + '000f4240' + '00000001' + '00000001' + '45', 'hex');
    const f = readPcap(be);
    assert.equal(f.nanosecond, true);
    assert.equal(f.packets[0].timestampMs, 2001);
    assert.deepEqual([...f.packets[0].data], [0x45]);
    assert.throws(() => readPcap(Buffer.from('00'.repeat(24), 'hex')), isCode('PCAP'));
    assert.throws(() => readPcap(be.subarray(0, 30)), isCode('PCAP'));
    assert.throws(() => readPcap(be.subarray(0, be.length - 1)), isCode('PCAP'));
    assert.throws(() => readPcap(be.subarray(0, 10)), isCode('PCAP'));
  });
});

describe('PcapRecorder', () => {
  test('UDP, ESP and ESP-in-UDP become IP packets with the right protocol and ports', () => {
    const rec = new PcapRecorder({ startMs: 5000, stepMs: 10 });
    rec.udp({ address: '10.0.0.1', port: 5060 }, { address: '10.0.0.2', port: 5060 }, Buffer.from('x'));
    rec.esp('2001:db8::1', '2001:db8::2', Buffer.from('0000100000000001', 'hex'));
    rec.espInUdp({ address: '10.0.0.1', port: 4500 }, { address: '10.0.0.2', port: 4500 }, Buffer.from('0000100000000001', 'hex'), 9999);
    const f = readPcap(rec.toBytes());
    assert.deepEqual(
      f.packets.map((p) => p.timestampMs),
      [5000, 5010, 9999],
    );
    const [a, b, c] = f.packets.map((p) => decodeIpPacket(p.data));
    assert.deepEqual([a.protocol, b.protocol, c.protocol, b.version], [17, 50, 17, 6]);
    assert.equal(decodeUdp(c.payload, { src: c.src, dst: c.dst }).dstPort, 4500);
  });

  test('TCP: handshake, per-direction sequence numbers across MSS-sized segments, and close', () => {
    const rec = new PcapRecorder();
    const ue = { address: '10.0.0.1', port: 40000 };
    const pcscf = { address: '10.0.0.2', port: 5060 };
    rec.tcp(ue, pcscf, Buffer.alloc(250, 0x61), { mss: 100 });
    rec.tcp(pcscf, ue, Buffer.alloc(30, 0x62));
    rec.tcp(ue, pcscf, Buffer.alloc(10, 0x63));
    rec.tcpClose(ue, pcscf);
    const segs = readPcap(rec.toBytes()).packets.map((p) => {
      const ip = decodeIpPacket(p.data);
      const t = decodeTcp(ip.payload, { src: ip.src, dst: ip.dst });
      return [ip.src === '10.0.0.1' ? 'ue' : 'pcscf', t.flags, t.seq, t.ack, t.payload.length];
    });
    const PA = TCP_PSH | TCP_ACK;
    assert.deepEqual(segs, [
      ['ue', TCP_SYN, 1000, 0, 0],
      ['pcscf', TCP_SYN | TCP_ACK, 5000, 1001, 0],
      ['ue', TCP_ACK, 1001, 5001, 0],
      ['ue', PA, 1001, 5001, 100],
      ['ue', PA, 1101, 5001, 100],
      ['ue', PA, 1201, 5001, 50],
      ['pcscf', PA, 5001, 1251, 30],
      ['ue', PA, 1251, 5031, 10],
      ['ue', TCP_FIN | TCP_ACK, 1261, 5031, 0],
      ['pcscf', TCP_FIN | TCP_ACK, 5031, 1262, 0],
      ['ue', TCP_ACK, 1262, 5032, 0],
    ]);
    assert.throws(() => rec.tcp(ue, pcscf, Buffer.alloc(1), { mss: 0 }), isCode('INVALID_ARGUMENT'));
  });

  test('tshark reassembles a SIP message recorded over TCP in three segments (IPv4 and IPv6)', (t) => {
    if (!needPeer(t, 'tshark')) return;
    const dir = tempDir(t);
    const rec = new PcapRecorder();
    rec.tcp({ address: '10.0.0.1', port: 40000 }, { address: '10.0.0.2', port: 5060 }, Buffer.from(SIP_OVER_TCP), { mss: 200 });
    rec.tcp({ address: '2001:db8::1', port: 40001 }, { address: '2001:db8::2', port: 5060 }, Buffer.from(SIP_OVER_TCP), { mss: 200 });
    const file = join(dir, 'tcp.pcap');
    writePcapFile(file, rec.toBytes());
    const rows = tsharkFields(file, ['frame.number', 'sip.Method', 'sip.Call-ID', 'tcp.analysis.flags', 'tcp.reassembled.length'], ['-o', 'tcp.check_checksum:TRUE']);
    const sip = rows.filter((r) => r[1] !== '');
    assert.deepEqual(
      sip.map((r) => [r[1], r[2], r[4]]),
      [
        ['INVITE', 'tcp-1', String(SIP_OVER_TCP.length)],
        ['INVITE', 'tcp-1', String(SIP_OVER_TCP.length)],
      ],
    );
    assert.ok(rows.every((r) => r[3] === ''), `tshark flagged TCP problems: ${JSON.stringify(rows)}`);
    assert.equal(rows.length, 2 * (3 + Math.ceil(SIP_OVER_TCP.length / 200)));
  });
});

describe('pcap-file edge', () => {
  test('PcapFileAppender creates the file with a header, appends, and reopens an existing file', (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'live.pcap');
    const a = new PcapFileAppender(file);
    a.append(Uint8Array.from([0x45, 0]), 1000);
    const b = new PcapFileAppender(file); // existing file: no second header
    b.append(Uint8Array.from([0x60, 0]), 2000);
    const f = readPcap(new Uint8Array(readFileSync(file)));
    assert.deepEqual(
      f.packets.map((p) => [p.timestampMs, p.data[0]]),
      [
        [1000, 0x45],
        [2000, 0x60],
      ],
    );
    assert.throws(() => new PcapFileAppender(file, { linktype: LINKTYPE_ETHERNET }), isCode('PCAP'));
    writeFileSync(join(dir, 'junk.pcap'), 'not a pcap file at all, really');
    assert.throws(() => new PcapFileAppender(join(dir, 'junk.pcap')), isCode('PCAP'));
  });
});
