import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SeededRng } from '../../../src/common/index.js';
import { encodeUdpPacket } from '../../../src/ip/index.js';
import { EspSa, VALID_TRANSFORMS, deriveEspKeys, type EncryptionAlg, type IntegrityAlg } from '../../../src/ipsec/esp/index.js';
import { NEXT_HEADER_IPV4, canonicalIp, decapsulate, encapsulate } from '../../../src/ipsec/udp-encap/index.js';

const IK = Uint8Array.from({ length: 16 }, (_, i) => 0x40 + i);
const CK = Uint8Array.from({ length: 16 }, (_, i) => 0x80 + i);
const SIP = new TextEncoder().encode('REGISTER sip:ims.example SIP/2.0\r\nContent-Length: 0\r\n\r\n');

function pair(integrity: IntegrityAlg, encryption: EncryptionAlg, spi = 0x1234) {
  const keys = deriveEspKeys(integrity, encryption, IK, CK);
  return { tx: new EspSa({ spi, integrity, encryption, keys }), rx: new EspSa({ spi, integrity, encryption, keys }) };
}

describe('RFC 3948 / RFC 4303 §3.1.2 tunnel-mode encapsulation (mod=UDP-enc-tun)', () => {
  for (const family of ['IPv4', 'IPv6'] as const) {
    const from = family === 'IPv4' ? { address: '10.0.0.2', port: 31000 } : { address: '2001:db8::2', port: 31000 };
    const to = family === 'IPv4' ? { address: '10.0.0.1', port: 20001 } : { address: '2001:db8::1', port: 20001 };
    for (const t of VALID_TRANSFORMS) {
      test(`[R-SA-1] ${family} ${t.integrity}/${t.encryption}: SIP in inner IP + UDP in ESP, and back`, () => {
        const { tx, rx } = pair(t.integrity, t.encryption);
        const rng = new SeededRng(`${family}${t.integrity}${t.encryption}`);
        for (let seq = 1; seq <= 3; seq++) {
          const r = decapsulate(rx, encapsulate(tx, from, to, SIP, rng));
          assert.ok(r.ok, JSON.stringify(r));
          assert.deepEqual([r.src, r.dst, r.seq], [from, to, seq]);
          assert.deepEqual(Buffer.from(r.payload), Buffer.from(SIP));
        }
      });
    }
  }

  test('[R-SA-1] the ESP payload is the inner IPv4 packet (Next Header 4) with the selector addresses and ports', () => {
    const { tx, rx } = pair('hmac-sha-1-96', 'null');
    const esp = encapsulate(tx, { address: '10.0.0.2', port: 31000 }, { address: '10.0.0.1', port: 20001 }, SIP, new SeededRng(1));
    const opened = rx.open(esp);
    assert.ok(opened.ok);
    assert.equal(opened.nextHeader, NEXT_HEADER_IPV4);
    const ip = opened.payload;
    // RFC 791 header fields read by hand: version/IHL, protocol, addresses; then the UDP ports.
    assert.equal(ip[0], 0x45);
    assert.equal(ip[9], 17);
    assert.deepEqual([...ip.subarray(12, 20)], [10, 0, 0, 2, 10, 0, 0, 1]);
    assert.deepEqual([(ip[20] << 8) | ip[21], (ip[22] << 8) | ip[23]], [31000, 20001]);
    assert.equal(Buffer.from(ip.subarray(28)).toString(), Buffer.from(SIP).toString());
  });

  test('[R-SA-8] tampered and replayed packets are drops, not throws', () => {
    const { tx, rx } = pair('hmac-md5-96', 'aes-cbc');
    const rng = new SeededRng(2);
    const p1 = encapsulate(tx, { address: '10.0.0.2', port: 1 }, { address: '10.0.0.1', port: 2 }, SIP, rng);
    const bad = Uint8Array.from(p1);
    bad[30] ^= 0x80;
    assert.deepEqual(decapsulate(rx, bad), { ok: false, reason: 'icv' });
    assert.ok(decapsulate(rx, p1).ok);
    assert.deepEqual(decapsulate(rx, p1), { ok: false, reason: 'replay' });
    assert.deepEqual(decapsulate(rx, p1.subarray(0, 10)), { ok: false, reason: 'malformed' });
  });

  test('a payload that is not a whole IP + UDP packet is dropped as inner', () => {
    const { tx, rx } = pair('hmac-sha-1-96', 'null');
    const rng = new SeededRng(3);
    const udp = encodeUdpPacket({ address: '10.0.0.2', port: 1 }, { address: '10.0.0.1', port: 2 }, SIP);
    assert.deepEqual(decapsulate(rx, tx.seal(udp, 17, rng)), { ok: false, reason: 'inner' }, 'next header 17 is transport mode');
    assert.deepEqual(decapsulate(rx, tx.seal(SIP, 4, rng)), { ok: false, reason: 'inner' }, 'SIP text is not an IPv4 packet');
    const badSum = Uint8Array.from(udp);
    badSum[26] ^= 0xff; // UDP checksum
    assert.deepEqual(decapsulate(rx, tx.seal(badSum, 4, rng)), { ok: false, reason: 'inner' });
    assert.deepEqual(decapsulate(rx, tx.seal(udp, 41, rng)), { ok: false, reason: 'inner' }, 'IPv4 packet labelled IPv6');
  });

  test('canonicalIp normalises address text (RFC 5952)', () => {
    assert.equal(canonicalIp('2001:DB8:0:0::1'), '2001:db8::1');
    assert.equal(canonicalIp('127.0.0.1'), '127.0.0.1');
  });
});
