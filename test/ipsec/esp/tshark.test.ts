/**
 * Interop proof with a third-party ESP implementation: Wireshark 4.0 (tshark) decrypts our
 * packets and checks their ICVs with the keys exported by wiresharkEspSaLine (INTEROP.md
 * "tshark ESP"). Transport mode carries UDP + SIP (next header 17); the UDP-encapsulated
 * tunnel-mode packet (RFC 3948) carries inner IPv4 + UDP + SIP (next header 4).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { SeededRng } from '../../../src/common/index.js';
import { PcapRecorder, TSHARK_ESP_PREFS } from '../../../src/capture/index.js';
import { encodeUdp, encodeUdpPacket } from '../../../src/ip/index.js';
import { deriveEspKeys, EspSa, VALID_TRANSFORMS, wiresharkChecksIcv, wiresharkEspSaLine, type EncryptionAlg, type IntegrityAlg } from '../../../src/ipsec/esp/index.js';
import { needPeer } from '../../support/peers.js';
import { hex, sipRequest } from './helpers.js';

const IK = hex('f769bcd751044604127672711c6d3441');
const CK = hex('b40ba9a3c58b2a05bbf0d987b21bf8cb');
const UE = '10.45.0.2';
const PCSCF = '10.45.0.1';

interface Row {
  frame: number;
  spi: string;
  icvGood: string;
  icvBad: string;
  method: string;
  udpPorts: string;
}

/** Runs tshark over `pcap` with the given esp_sa records and returns one row per frame. */
function tshark(pcap: string, saLines: string[], extra: string[] = []): Row[] {
  const args = ['-r', pcap, ...TSHARK_ESP_PREFS];
  for (const l of saLines) args.push('-o', `uat:esp_sa:${l}`);
  args.push(...extra, '-T', 'fields', '-E', 'separator=;', '-e', 'frame.number', '-e', 'esp.spi', '-e', 'esp.icv_good', '-e', 'esp.icv_bad', '-e', 'sip.Method', '-e', 'udp.port');
  const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `tshark failed: ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [frame, spi, icvGood, icvBad, method, udpPorts] = line.split(';');
      return { frame: Number(frame), spi, icvGood, icvBad, method, udpPorts };
    });
}

function withTempDir(t: TestContext, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-esp-tshark-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  fn(dir);
}

function espSa(spi: number, integrity: IntegrityAlg, encryption: EncryptionAlg) {
  const keys = deriveEspKeys(integrity, encryption, IK, CK);
  return { sa: new EspSa({ spi, integrity, encryption, keys }), keys };
}

describe('tshark (Wireshark 4.0) checks our ESP', () => {
  test('[R-SA-1] [R-SA-2] every transform in transport mode: tshark verifies the ICV and decodes the inner SIP', (t) => {
    if (!needPeer(t, 'tshark')) return;
    withTempDir(t, (dir) => {
      const rng = new SeededRng('tshark-transport');
      const rec = new PcapRecorder();
      const lines: string[] = [];
      const expected: { spi: number; checked: boolean }[] = [];
      let spi = 0x1000;
      for (const tr of VALID_TRANSFORMS) {
        for (const family of ['IPv4', 'IPv6'] as const) {
          spi++;
          const [src, dst] = family === 'IPv4' ? [UE, PCSCF] : ['2001:db8::2', '2001:db8::1'];
          const { sa, keys } = espSa(spi, tr.integrity, tr.encryption);
          // Transport mode: ESP carries the UDP datagram (next header 17) with the SIP request.
          const udp = encodeUdp(5062, 5064, sipRequest(spi), { src, dst });
          rec.esp(src, dst, sa.seal(udp, 17, rng));
          lines.push(wiresharkEspSaLine({ family, src, dst, spi, ...tr, keys }));
          expected.push({ spi, checked: wiresharkChecksIcv(tr.integrity) });
        }
      }
      const file = join(dir, 'transport.pcap');
      writeFileSync(file, rec.toBytes());
      const rows = tshark(file, lines);
      assert.equal(rows.length, expected.length);
      rows.forEach((row, i) => {
        const e = expected[i];
        assert.equal(Number(row.spi), e.spi, `frame ${row.frame}`);
        if (e.checked) {
          assert.equal(row.icvGood, '1', `frame ${row.frame} (SPI 0x${e.spi.toString(16)}): icv_good`);
          assert.equal(row.icvBad, '0', `frame ${row.frame}`);
          assert.equal(row.method, 'REGISTER', `frame ${row.frame}: inner SIP decoded`);
          assert.equal(row.udpPorts, '5062,5064');
        } else {
          // Wireshark 4.0 has no AES-GMAC: the ICV is skipped unchecked (the GMAC proof is the
          // published draft-mcgrew-gcm-test-01 vector in vectors.test.ts).
          assert.notEqual(row.icvGood, '1', `frame ${row.frame}: GMAC cannot have been checked`);
        }
      });
      assert.equal(expected.filter((e) => e.checked).length, 14);
    });
  });

  test('[R-SA-1] UDP-encapsulated tunnel mode (RFC 3948): outer UDP → ESP → inner IPv4 + UDP + SIP', (t) => {
    if (!needPeer(t, 'tshark')) return;
    withTempDir(t, (dir) => {
      const rng = new SeededRng('tshark-tunnel');
      const rec = new PcapRecorder();
      const lines: string[] = [];
      const outer = { ue: { address: '198.51.100.7', port: 4500 }, pcscf: { address: '203.0.113.1', port: 4500 } };
      let spi = 0x2000;
      for (const tr of VALID_TRANSFORMS.filter((x) => wiresharkChecksIcv(x.integrity))) {
        spi++;
        const { sa, keys } = espSa(spi, tr.integrity, tr.encryption);
        const inner = encodeUdpPacket({ address: UE, port: 5062 }, { address: PCSCF, port: 5064 }, sipRequest(spi));
        rec.espInUdp(outer.ue, outer.pcscf, sa.seal(inner, 4, rng));
        lines.push(wiresharkEspSaLine({ family: 'IPv4', src: outer.ue.address, dst: outer.pcscf.address, spi, ...tr, keys }));
      }
      // The same on a port other than 4500, told to tshark with -d.
      spi++;
      const { sa, keys } = espSa(spi, 'hmac-sha-1-96', 'aes-cbc');
      const inner = encodeUdpPacket({ address: UE, port: 5062 }, { address: PCSCF, port: 5064 }, sipRequest(spi));
      rec.espInUdp({ address: '198.51.100.7', port: 31800 }, { address: '203.0.113.1', port: 31900 }, sa.seal(inner, 4, rng));
      lines.push(wiresharkEspSaLine({ family: 'IPv4', src: '198.51.100.7', dst: '203.0.113.1', spi, integrity: 'hmac-sha-1-96', encryption: 'aes-cbc', keys }));

      const file = join(dir, 'tunnel.pcap');
      writeFileSync(file, rec.toBytes());
      const rows = tshark(file, lines, ['-d', 'udp.port==31900,udpencap']);
      assert.equal(rows.length, lines.length);
      for (const row of rows) {
        assert.equal(row.icvGood, '1', `frame ${row.frame}`);
        assert.equal(row.method, 'REGISTER', `frame ${row.frame}: inner SIP decoded`);
        // Outer UDP ports, then the inner ones.
        assert.match(row.udpPorts, /^(4500,4500|31800,31900),5062,5064$/, `frame ${row.frame}`);
      }
    });
  });

  test('[R-SA-1] a tampered packet shows icv_bad, its untouched twin icv_good', (t) => {
    if (!needPeer(t, 'tshark')) return;
    withTempDir(t, (dir) => {
      const rng = new SeededRng('tshark-tamper');
      const rec = new PcapRecorder();
      const lines: string[] = [];
      let spi = 0x3000;
      for (const tr of VALID_TRANSFORMS.filter((x) => wiresharkChecksIcv(x.integrity))) {
        spi++;
        const { sa, keys } = espSa(spi, tr.integrity, tr.encryption);
        const packet = sa.seal(encodeUdp(5062, 5064, sipRequest(spi), { src: UE, dst: PCSCF }), 17, rng);
        const bad = Buffer.from(packet);
        bad[bad.length - 20] ^= 0x01; // inside the encrypted/authenticated body
        rec.esp(UE, PCSCF, packet).esp(UE, PCSCF, bad);
        lines.push(wiresharkEspSaLine({ family: 'IPv4', src: UE, dst: PCSCF, spi, ...tr, keys }));
      }
      const file = join(dir, 'tamper.pcap');
      writeFileSync(file, rec.toBytes());
      const rows = tshark(file, lines);
      assert.equal(rows.length, 14);
      rows.forEach((row, i) => {
        if (i % 2 === 0) assert.deepEqual([row.icvGood, row.icvBad], ['1', '0'], `frame ${row.frame}`);
        else assert.deepEqual([row.icvGood, row.icvBad], ['0', '1'], `frame ${row.frame} (tampered)`);
      });
    });
  });

  test('[R-SA-1] protected ports that Wireshark gives to another dissector still get their ICV checked (TSHARK_ESP_PREFS)', (t) => {
    if (!needPeer(t, 'tshark')) return;
    withTempDir(t, (dir) => {
      // TS 33.203 §7.1 protected ports are ephemeral. Wireshark 4.0 registers dissectors on some
      // of them that throw on SIP text, and it adds the ICV verdict only after the inner packet:
      // without udp.try_heuristic_first these frames had no esp.icv_good at all (seen as a
      // random failure of the capture checks, and reproduced port by port over 1024–65535).
      const rng = new SeededRng('tshark-ports');
      const rec = new PcapRecorder();
      const lines: string[] = [];
      const ports = [34980, 37008, 41170, 44818, 47000, 54328];
      ports.forEach((port, i) => {
        const spi = 0x5001 + i;
        const { sa, keys } = espSa(spi, 'hmac-sha-1-96', i % 2 ? 'null' : 'aes-cbc');
        rec.esp(PCSCF, UE, sa.seal(encodeUdp(5101, port, sipRequest(spi), { src: PCSCF, dst: UE }), 17, rng));
        lines.push(wiresharkEspSaLine({ family: 'IPv4', src: PCSCF, dst: UE, spi, integrity: 'hmac-sha-1-96', encryption: i % 2 ? 'null' : 'aes-cbc', keys }));
      });
      const file = join(dir, 'ports.pcap');
      writeFileSync(file, rec.toBytes());
      const rows = tshark(file, lines);
      assert.equal(rows.length, ports.length);
      rows.forEach((row, i) => {
        assert.deepEqual([row.icvGood, row.icvBad], ['1', '0'], `port ${ports[i]}: ICV checked and good`);
        assert.equal(row.method, 'REGISTER', `port ${ports[i]}: inner SIP decoded`);
      });
    });
  });

  test('[R-SA-1] ESP in UDP stays ESP with heuristics first: no heuristic dissector takes the datagrams (TSHARK_ESP_PREFS)', (t) => {
    if (!needPeer(t, 'tshark')) return;
    withTempDir(t, (dir) => {
      // RFC 3948 ESP-in-UDP on port 4500, first packets of 3,000 SAs with random SPIs and
      // aes-cbc ciphertext. With udp.try_heuristic_first every UDP heuristic sees them before
      // the NAT-T port's dissector; six of Wireshark 4.0's take random bytes now and then (RTCP
      // about one in 200). With heuristics first and none turned off, this capture loses 16
      // datagrams (15 to RTCP, 1 to Thrift); without heuristics first, none.
      const rng = new SeededRng('tshark-heuristics');
      const rec = new PcapRecorder();
      const n = 3000;
      const spis: number[] = [];
      for (let i = 0; i < n; i++) {
        const spi = (new DataView(rng.bytes(4).buffer).getUint32(0) | 0x1000) >>> 0;
        spis.push(spi);
        const { sa } = espSa(spi, 'hmac-sha-1-96', 'aes-cbc');
        rec.espInUdp({ address: UE, port: 4500 }, { address: PCSCF, port: 4500 }, sa.seal(encodeUdp(5062, 5064, sipRequest(i), { src: UE, dst: PCSCF }), 17, rng));
      }
      const file = join(dir, 'natt.pcap');
      writeFileSync(file, rec.toBytes());
      const rows = tshark(file, []);
      assert.equal(rows.length, n);
      const lost = rows.filter((r, i) => Number(r.spi) !== spis[i]).map((r) => r.frame);
      assert.deepEqual(lost, [], 'frames not dissected as ESP');
    });
  });

  test('[R-SA-2] a wrong key in the exported line makes tshark report icv_bad (the check is real)', (t) => {
    if (!needPeer(t, 'tshark')) return;
    withTempDir(t, (dir) => {
      const { sa, keys } = espSa(0x4001, 'hmac-sha-1-96', 'null');
      const rec = new PcapRecorder();
      rec.esp(UE, PCSCF, sa.seal(encodeUdp(5062, 5064, sipRequest(), { src: UE, dst: PCSCF }), 17, new SeededRng(0)));
      const file = join(dir, 'wrongkey.pcap');
      writeFileSync(file, rec.toBytes());
      // The seed's rule (IK ‖ first 32 bits of IK) instead of Annex I's zero bits.
      const seedRule = { ...keys, integrityKey: Uint8Array.from([...IK, ...IK.subarray(0, 4)]) };
      const [row] = tshark(file, [wiresharkEspSaLine({ family: 'IPv4', src: UE, dst: PCSCF, spi: 0x4001, integrity: 'hmac-sha-1-96', encryption: 'null', keys: seedRule })]);
      assert.deepEqual([row.icvGood, row.icvBad], ['0', '1']);
    });
  });
});
