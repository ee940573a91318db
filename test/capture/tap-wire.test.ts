/**
 * The wire taps: the hub keeps each packet once (the sender's copy when both ends are tapped),
 * the real sockets report what they send and receive (B2's UDP/TCP transports, D's Diameter TCP
 * connections through the tap wrapper), the pcap reads back (C1's reader and IP decoders), and
 * the tshark helpers build what the e2e demo test runs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { espFinderLua, espSaArgs, PcapRecorder, readPcap, recordPackets, shellWord, tapDiameterTransport, tsharkDecodeArgs, tsharkDecodeCommand, WireTap, type WirePacket } from '../../src/capture/index.js';
import { tcpTransport } from '../../src/diameter/io.js';
import { decodeIpPacket, decodeTcp, decodeUdp, IPPROTO_TCP, IPPROTO_UDP } from '../../src/ip/index.js';
import { TcpTransport, UdpTransport } from '../../src/sip/transport/index.js';
import { waitFor } from '../support/wait.js';

const LO = '127.0.0.1';
const bytes = (s: string) => new TextEncoder().encode(s);

describe('WireTap', () => {
  test('both ends tapped: the sender copy is kept once; an untapped sender is taken from the receiver', () => {
    let now = 1000;
    const tap = new WireTap({ now: () => now++ });
    const a = { address: LO, port: 1000 };
    const b = { address: '::ffff:127.0.0.1', port: 2000 };
    const ue = { address: LO, port: 3000 };
    tap.own('B', b);
    tap.observe('A', 'sip', 'out', bytes('x'), a, b, 'udp');
    tap.observe('B', 'sip', 'in', bytes('x'), { address: LO, port: 2000 }, a, 'udp');
    tap.observe('B', 'sip', 'in', bytes('y'), b, ue, 'udp');
    const ps = tap.packets();
    assert.equal(ps.length, 2);
    assert.deepEqual([ps[0].from, ps[0].to], [a, { address: LO, port: 2000 }], 'IPv4-mapped shown as IPv4');
    assert.deepEqual([ps[1].from, ps[1].to, ps[1].seq], [ue, { address: LO, port: 2000 }, 2]);
    assert.equal(tap.nameOf(a), 'A');
    assert.equal(tap.nameOf(ue), undefined);
    tap.name(ue, 'alice');
    assert.equal(tap.nameOf({ address: LO, port: 3000 }), 'alice');
  });

  test('a UDP and a TCP socket with one port number keep their own names, and neither hides the other\'s traffic', () => {
    // Seen in a full run: the HSS's Diameter port (TCP) had the number of one of bob's SIP ports
    // (UDP), and the demo's ladder showed "I-CSCF → bob  Cx UAR".
    const tap = new WireTap();
    const x = { address: LO, port: 4000 };
    tap.own('HSS', x, 'tcp');
    tap.name(x, 'bob');
    assert.deepEqual([tap.nameOf(x, 'tcp'), tap.nameOf(x, 'udp')], ['HSS', 'bob']);
    tap.observe('P-CSCF', 'sip', 'in', bytes('z'), { address: LO, port: 5060 }, x, 'udp');
    assert.equal(tap.packets().length, 1, "bob's datagram is not taken for the HSS's own traffic");
  });

  test('a throwing listener does not break the trace; packets are copies', () => {
    const tap = new WireTap();
    tap.onPacket(() => {
      throw new Error('boom');
    });
    const seen: WirePacket[] = [];
    tap.onPacket((p) => seen.push(p));
    const buf = bytes('abc');
    tap.observe('A', 'esp', 'out', buf, { address: LO, port: 1 }, { address: LO, port: 2 }, 'udp');
    buf[0] = 0;
    assert.equal(seen.length, 1);
    assert.equal(new TextDecoder().decode(tap.packets()[0].bytes), 'abc');
  });

  test('recordPackets: UDP datagrams, ESP in UDP on their real ports, TCP with a handshake and running sequence numbers', () => {
    const tap = new WireTap({ now: () => 1_700_000_000_000 });
    const c = { address: LO, port: 40000 };
    const s = { address: LO, port: 3868 };
    tap.observe('S', 'diameter', 'out', bytes('AAAA'), c, s, 'tcp');
    tap.observe('H', 'diameter', 'out', bytes('BBBBBB'), s, c, 'tcp');
    tap.observe('S', 'diameter', 'out', bytes('CC'), c, s, 'tcp');
    tap.observe('P', 'esp', 'out', bytes('\x00\x00\x12\x34esp'), { address: LO, port: 5101 }, { address: LO, port: 41000 }, 'udp');
    const pcap = readPcap(recordPackets(new PcapRecorder(), tap.packets()).toBytes());
    assert.equal(pcap.packets.length, 3 + 3 + 1);
    const tcp = pcap.packets.slice(0, 6).map((p) => decodeIpPacket(p.data)).map((ip) => ({ ip, tcp: decodeTcp(ip.payload) }));
    assert.ok(tcp.every((x) => x.ip.protocol === IPPROTO_TCP));
    const [data1, data2, data3] = tcp.slice(3).map((x) => x.tcp);
    assert.deepEqual([data1.srcPort, data1.dstPort, new TextDecoder().decode(data1.payload)], [40000, 3868, 'AAAA']);
    assert.equal(data3.seq, data1.seq + 4, 'the client side runs on');
    assert.equal(data2.ack, data1.seq + 4);
    const esp = decodeIpPacket(pcap.packets[6].data);
    assert.equal(esp.protocol, IPPROTO_UDP);
    const udp = decodeUdp(esp.payload);
    assert.deepEqual([udp.srcPort, udp.dstPort], [5101, 41000]);
  });
});

describe('taps on real sockets', () => {
  test('SIP over UDP: the sender reports out, the receiver in, with the real ports', async () => {
    const a = await UdpTransport.bind({ address: LO, port: 0 });
    const b = await UdpTransport.bind({ address: LO, port: 0 });
    const seen: string[] = [];
    a.onWire = (dir, buf, local, remote, proto) => seen.push(`a ${dir} ${local.port}>${remote.port} ${proto} ${buf.length}`);
    b.onWire = (dir, buf, local, remote, proto) => seen.push(`b ${dir} ${local.port}<${remote.port} ${proto} ${buf.length}`);
    b.onMessage(() => undefined);
    try {
      await a.send(bytes('OPTIONS sip:x SIP/2.0\r\n\r\n'), b.local);
      await waitFor(() => seen.length === 2);
      assert.deepEqual(seen, [`a out ${a.local.port}>${b.local.port} udp 25`, `b in ${b.local.port}<${a.local.port} udp 25`]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('SIP over TCP: the connecting side reports its ephemeral port, not the listening one', async () => {
    const a = await TcpTransport.listen({ address: LO, port: 0 });
    const b = await TcpTransport.listen({ address: LO, port: 0 });
    const out: { local: number; remote: number }[] = [];
    const inb: { local: number; remote: number }[] = [];
    a.onWire = (dir, _b, local, remote) => dir === 'out' && out.push({ local: local.port, remote: remote.port });
    b.onWire = (dir, _b, local, remote) => dir === 'in' && inb.push({ local: local.port, remote: remote.port });
    try {
      await a.send(bytes('\r\n\r\n'), b.local);
      await waitFor(() => inb.length === 1);
      assert.equal(out[0].remote, b.local.port);
      assert.notEqual(out[0].local, a.local.port, 'an outgoing connection has its own port');
      assert.deepEqual(inb[0], { local: b.local.port, remote: out[0].local });
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('Diameter: the tapped transport reports both directions with both ends, and loses no early byte', async () => {
    const seen: string[] = [];
    const t = tapDiameterTransport(tcpTransport, (dir, buf, local, remote) => seen.push(`${dir} ${local.port}>${remote.port} ${new TextDecoder().decode(buf)}`));
    const got: string[] = [];
    let serverConn: { write(b: Uint8Array): void } | undefined;
    const listener = await t.listen(LO, 0, (c) => {
      serverConn = c;
      // The server subscribes late: the client's first bytes must still arrive.
      setTimeout(() => c.onData((d) => got.push(new TextDecoder().decode(d))), 30);
    });
    const client = await t.connect(LO, listener.port, 2000);
    try {
      client.write(bytes('ping'));
      await waitFor(() => got.join('') === 'ping');
      const cgot: string[] = [];
      client.onData((d) => cgot.push(new TextDecoder().decode(d)));
      serverConn!.write(bytes('pong'));
      await waitFor(() => cgot.join('') === 'pong');
      const cport = Number(client.local!.split(':').pop());
      assert.ok(cport > 0);
      assert.deepEqual(seen.sort(), [`in ${cport}>${listener.port} pong`, `in ${listener.port}>${cport} ping`, `out ${cport}>${listener.port} ping`, `out ${listener.port}>${cport} pong`].sort());
    } finally {
      client.destroy();
      await listener.close();
    }
  });
});

describe('tshark helpers', () => {
  test('the ESP finder lists SPIs and protected ports, nothing else', () => {
    const lua = espFinderLua({ spis: [0x80000001, 0x1234], ports: [5101, 41000, 5101] });
    assert.match(lua, /\[0x00001234\] = true,\n {2}\[0x80000001\] = true,/);
    assert.match(lua, /\[5101\] = true,\n {2}\[41000\] = true,\n\}/);
    assert.match(lua, /register_heuristic\("udp", heuristic\)/);
    assert.doesNotMatch(lua, /[0-9a-f]{32}/);
  });

  test('the command reads the keys from the file at run time and quotes paths for the shell', () => {
    const cmd = tsharkDecodeCommand({ pcapPath: 'my demo.pcap', keysPath: 'k.keys', luaPath: 'd.lua', diameterPorts: [3868, 33000], sipUdpPorts: [5060, 40000, 0], sipTcpPorts: [6060] });
    assert.equal(
      cmd,
      "sed 's/^/-ouat:esp_sa:/' k.keys | xargs -d '\\n' tshark -r 'my demo.pcap' -X lua_script:d.lua -o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE -o udp.try_heuristic_first:TRUE --disable-heuristic rtcp_udp --disable-heuristic cltp_udp --disable-heuristic wg --disable-heuristic mp2t_udp --disable-heuristic thrift_udp --disable-heuristic pathport_udp -d tcp.port==33000,diameter -d udp.port==40000,sip -d tcp.port==6060,sip",
    );
    assert.equal(tsharkDecodeCommand({ pcapPath: 'a.pcap' }), 'tshark -r a.pcap -o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE -o udp.try_heuristic_first:TRUE --disable-heuristic rtcp_udp --disable-heuristic cltp_udp --disable-heuristic wg --disable-heuristic mp2t_udp --disable-heuristic thrift_udp --disable-heuristic pathport_udp');
    assert.deepEqual(tsharkDecodeArgs({ pcapPath: 'a.pcap', diameterPorts: [3868] }).slice(0, 2), ['-r', 'a.pcap']);
    assert.equal(shellWord("it's"), `'it'\\''s'`);
    assert.deepEqual(espSaArgs('"IPv4","a","b"\n# comment\n\n'), ['-o', 'uat:esp_sa:"IPv4","a","b"']);
  });
});
