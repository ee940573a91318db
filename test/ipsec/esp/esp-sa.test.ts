/**
 * RFC 4303 ESP SA: seal() against an independent packet builder for every TS 33.203 transform,
 * open() of every drop reason, configuration errors, sequence exhaustion and key hygiene.
 */
import assert from 'node:assert/strict';
import { createCipheriv, createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, test } from 'node:test';
import { FixedRng, ImsError, SeededRng, type Rng } from '../../../src/common/index.js';
import {
  decodeEspHeader,
  deriveEspKeys,
  ENCRYPTION_ALGS,
  EspSa,
  INTEGRITY_ALGS,
  isUdpEncapsulatedEsp,
  isValidTransform,
  open,
  seal,
  transformLayout,
  VALID_TRANSFORMS,
  type EspKeys,
} from '../../../src/ipsec/esp/index.js';
import { decodeIpPacket, decodeUdp, encodeUdpPacket, tunnelNextHeader } from '../../../src/ip/index.js';
import { buildEsp, hex, sipRequest } from './helpers.js';

const IK = hex('f769bcd751044604127672711c6d3441');
const CK = hex('b40ba9a3c58b2a05bbf0d987b21bf8cb');
const isCode = (code: string) => (e: unknown) => e instanceof ImsError && e.code === code;
const name = (t: { integrity: string; encryption: string }) => `${t.integrity}/${t.encryption}`;

function sa(t: (typeof VALID_TRANSFORMS)[number], spi = 0x2000, extra: Partial<ConstructorParameters<typeof EspSa>[0]> = {}) {
  return new EspSa({ spi, ...t, keys: deriveEspKeys(t.integrity, t.encryption, IK, CK), ...extra });
}

describe('RFC 4303 §3.3 seal(): every transform, byte for byte', () => {
  const sizes = [0, 1, 2, 3, 4, 13, 14, 15, 16, 17, 31, 100];
  for (const t of VALID_TRANSFORMS) {
    test(`[R-SA-1] ${name(t)}: packets equal the independent builder for payloads of ${sizes.join(', ')} bytes and open() again`, () => {
      const keys = deriveEspKeys(t.integrity, t.encryption, IK, CK);
      const L = transformLayout(t.integrity, t.encryption);
      const tx = sa(t);
      const rx = sa(t);
      let seq = 0;
      for (const n of [...sizes, sipRequest().length]) {
        const payload = n === sipRequest().length ? sipRequest() : Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);
        seq++;
        const iv = L.blockCipher ? Uint8Array.from({ length: L.ivLength }, (_, i) => (seq * 31 + i) & 0xff) : new Uint8Array(0);
        const rng: Rng = new FixedRng([iv.length ? iv : new Uint8Array(0)]);
        const packet = seal(tx, payload, 17, rng);
        // GCM/GMAC: the 8-byte IV is SPI ‖ Seq (unique per key even across the SAs sharing CK/IK).
        const wireIv = L.blockCipher ? iv : L.ivLength ? Buffer.concat([hex('00002000'), Buffer.from([0, 0, 0, seq])]) : new Uint8Array(0);
        const expected = buildEsp({ ...t, spi: 0x2000, seq, iv: wireIv, payload, nextHeader: 17, ...keys });
        assert.equal(Buffer.from(packet).toString('hex'), expected.toString('hex'), `payload of ${n} bytes`);
        assert.equal(packet.length, tx.sealedLength(n));
        const r = open(rx, packet);
        assert.ok(r.ok, `payload of ${n} bytes: ${JSON.stringify(r)}`);
        assert.deepEqual(Buffer.from(r.payload), Buffer.from(payload));
        assert.equal(r.nextHeader, 17);
        assert.equal(r.seq, seq);
      }
      assert.equal(tx.counters.sealed, sizes.length + 1);
      assert.equal(rx.counters.opened, sizes.length + 1);
      assert.equal(tx.lastSeq, sizes.length + 1);
    });
  }

  test('[R-SA-1] aes-cbc and des-ede3-cbc take a fresh IV from the injected Rng for every packet', () => {
    for (const t of VALID_TRANSFORMS.filter((x) => x.encryption.endsWith('cbc'))) {
      const tx = sa(t);
      const L = transformLayout(t.integrity, t.encryption);
      const rng = new SeededRng('iv');
      const a = tx.seal(sipRequest(), 17, rng);
      const b = tx.seal(sipRequest(), 17, rng);
      assert.notDeepEqual(a.subarray(8, 8 + L.ivLength), b.subarray(8, 8 + L.ivLength), name(t));
      const replay = new SeededRng('iv');
      assert.deepEqual(Buffer.from(a.subarray(8, 8 + L.ivLength)), Buffer.from(replay.bytes(L.ivLength)), `${name(t)}: IV comes from the Rng`);
    }
  });

  test('[R-SA-1] GCM/GMAC nonces differ across the SAs of one registration (same CK/IK and salt, distinct SPIs)', () => {
    for (const t of VALID_TRANSFORMS.filter((x) => x.integrity === 'aes-gmac' || x.encryption === 'aes-gcm')) {
      const ivs = new Set<string>();
      for (const spi of [0x1001, 0x1002, 0x80001001, 0x80001002]) {
        const tx = sa(t, spi);
        for (let i = 0; i < 3; i++) ivs.add(Buffer.from(tx.seal(sipRequest(), 17, new SeededRng(0)).subarray(8, 16)).toString('hex'));
      }
      assert.equal(ivs.size, 12, name(t));
    }
  });

  test('[R-SA-1] next header must be a byte (INVALID_ARGUMENT)', () => {
    const tx = sa(VALID_TRANSFORMS[0]);
    for (const nh of [-1, 256, 1.5]) assert.throws(() => tx.seal(new Uint8Array(4), nh, new SeededRng(0)), isCode('INVALID_ARGUMENT'));
    assert.equal(tx.lastSeq, 0, 'a refused packet uses no sequence number');
  });

  test('[R-SA-1] an Rng that returns the wrong IV length is INVALID_ARGUMENT and burns no sequence number', () => {
    const tx = sa({ integrity: 'hmac-md5-96', encryption: 'aes-cbc' });
    const short: Rng = { bytes: () => new Uint8Array(8) };
    assert.throws(() => tx.seal(sipRequest(), 17, short), isCode('INVALID_ARGUMENT'));
    assert.equal(tx.lastSeq, 0);
    assert.equal(tx.seal(sipRequest(), 17, new SeededRng(0)).length, tx.sealedLength(sipRequest().length));
    assert.equal(tx.lastSeq, 1);
  });

  test('[R-SA-1] tunnel mode (RFC 3948 UDP-enc-tun inner packet): IPv4/IPv6 + UDP + SIP survives seal/open intact', () => {
    for (const [version, from, to] of [
      [4, '10.45.0.2', '10.45.0.1'],
      [6, '2001:db8:45::2', '2001:db8:45::1'],
    ] as const) {
      const t = VALID_TRANSFORMS[7];
      const inner = encodeUdpPacket({ address: from, port: 5062 }, { address: to, port: 5064 }, sipRequest(9));
      const r = sa(t).open(sa(t).seal(inner, tunnelNextHeader(version), new SeededRng(0)));
      assert.ok(r.ok);
      assert.equal(r.nextHeader, version === 4 ? 4 : 41);
      const ip = decodeIpPacket(r.payload);
      assert.deepEqual([ip.version, ip.src, ip.dst, ip.protocol], [version, from, to, 17]);
      const udp = decodeUdp(ip.payload, { src: ip.src, dst: ip.dst });
      assert.deepEqual([udp.srcPort, udp.dstPort, Buffer.from(udp.payload)], [5062, 5064, Buffer.from(sipRequest(9))]);
    }
  });

  test('RFC 4303 §3.3.3: the counter never cycles; sealing past 2^32-1 throws ESP_SEQ_EXHAUSTED', () => {
    const t = VALID_TRANSFORMS[3];
    const tx = sa(t, 0x2000, { initialSeq: 0xfffffffe });
    const rx = sa(t);
    const last = tx.seal(sipRequest(), 17, new SeededRng(0));
    assert.equal(decodeEspHeader(last).seq, 0xffffffff);
    assert.ok(rx.open(last).ok);
    assert.throws(() => tx.seal(sipRequest(), 17, new SeededRng(0)), isCode('ESP_SEQ_EXHAUSTED'));
    assert.throws(() => tx.seal(sipRequest(), 17, new SeededRng(0)), isCode('ESP_SEQ_EXHAUSTED'));
    assert.equal(tx.counters.sealed, 1);
  });
});

describe('RFC 4303 §3.4 open(): drops are returned and counted', () => {
  for (const t of VALID_TRANSFORMS) {
    test(`[R-SA-1] ${name(t)}: changing any single byte makes the packet fail, and the right counter moves`, () => {
      const tx = sa(t);
      const packet = tx.seal(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 17, new SeededRng(1));
      for (let i = 0; i < packet.length; i++) {
        const rx = sa(t);
        const bad = Buffer.from(packet);
        bad[i] ^= 1 << (i % 8);
        const r = rx.open(bad);
        assert.equal(r.ok, false, `byte ${i}`);
        const want = i < 4 ? 'spi' : 'icv';
        assert.deepEqual(r, { ok: false, reason: want }, `byte ${i}`);
        assert.equal(want === 'spi' ? rx.counters.droppedSpi : rx.counters.droppedIcv, 1);
        assert.equal(rx.counters.opened, 0);
      }
      assert.ok(sa(t).open(packet).ok, 'the untouched packet opens');
    });
  }

  test('[R-SA-1] truncated or misaligned packets are malformed (no exception), and counted', () => {
    for (const t of VALID_TRANSFORMS) {
      const packet = sa(t).seal(sipRequest(), 17, new SeededRng(2));
      const rx = sa(t);
      const L = transformLayout(t.integrity, t.encryption);
      const cuts = [0, 1, 7, 8, 8 + L.ivLength + L.icvLength + 1];
      if (L.blockCipher) cuts.push(packet.length - 1, packet.length - L.align + 1);
      for (const n of cuts) assert.deepEqual(rx.open(packet.subarray(0, n)), { ok: false, reason: 'malformed' }, `${name(t)} cut at ${n}`);
      assert.equal(rx.counters.droppedMalformed, cuts.length, name(t));
      // A cut that keeps the length plausible reaches the ICV check, and fails there.
      assert.deepEqual(rx.open(packet.subarray(0, packet.length - L.align)), { ok: false, reason: 'icv' }, name(t));
    }
  });

  test('[R-SA-1] a packet for another SPI is dropped as spi', () => {
    const t = VALID_TRANSFORMS[4];
    const packet = sa(t, 0x3000).seal(sipRequest(), 17, new SeededRng(3));
    const rx = sa(t, 0x3001);
    assert.deepEqual(rx.open(packet), { ok: false, reason: 'spi' });
    assert.equal(rx.counters.droppedSpi, 1);
  });

  test('RFC 4303 §2.4: padding is inspected (malformed when not 1, 2, 3, …) unless checkPadding is off', () => {
    const t = { integrity: 'hmac-sha-1-96', encryption: 'aes-cbc' } as const;
    const keys = deriveEspKeys(t.integrity, t.encryption, IK, CK);
    // Payload of 5 bytes: 9 padding bytes to reach one 16-byte block; make them zeros.
    const payload = Buffer.from('hello');
    const good = buildEsp({ ...t, spi: 0x2000, seq: 1, iv: new Uint8Array(16), payload, nextHeader: 17, ...keys });
    // The same packet with zero padding (hello ‖ 9 × 00 ‖ 9 ‖ 17), built by hand:
    const plain = Buffer.concat([payload, Buffer.alloc(9), Buffer.from([9, 17])]);
    const c = createCipheriv('aes-128-cbc', keys.encryptionKey, Buffer.alloc(16)).setAutoPadding(false);
    const body = Buffer.concat([hex('0000200000000001'), Buffer.alloc(16), c.update(plain), c.final()]);
    const bad = Buffer.concat([body, createHmac('sha1', keys.integrityKey).update(body).digest().subarray(0, 12)]);
    assert.equal(bad.length, good.length);
    assert.ok(sa(t).open(good).ok);
    const strict = sa(t);
    assert.deepEqual(strict.open(bad), { ok: false, reason: 'malformed' });
    assert.equal(strict.counters.droppedMalformed, 1);
    const lax = sa(t, 0x2000, { checkPadding: false });
    const r = lax.open(bad);
    assert.ok(r.ok);
    assert.equal(Buffer.from(r.payload).toString(), 'hello');
  });

  test('[R-SA-1] a Pad Length beyond the decrypted data is malformed, after the ICV verified', () => {
    const t = { integrity: 'hmac-md5-96', encryption: 'null' } as const;
    const keys = deriveEspKeys(t.integrity, t.encryption, IK, CK);
    const body = Buffer.concat([hex('0000200000000009'), Buffer.from([0xaa, 0xbb, 200, 17])]);
    const packet = Buffer.concat([body, createHmac('md5', keys.integrityKey).update(body).digest().subarray(0, 12)]);
    const rx = sa(t);
    assert.deepEqual(rx.open(packet), { ok: false, reason: 'malformed' });
    assert.equal(rx.counters.droppedIcv, 0);
    assert.equal(rx.replay.top, 9, 'authentic packets move the window even when their content is bad');
  });
});

describe('SA configuration', () => {
  test('[R-SA-1] exactly the eight TS 33.203 combinations are valid; the rest fail with ESP_CONFIG', () => {
    let valid = 0;
    for (const integrity of INTEGRITY_ALGS) {
      for (const encryption of ENCRYPTION_ALGS) {
        const keys: EspKeys = { integrityKey: new Uint8Array(0), encryptionKey: new Uint8Array(0), salt: new Uint8Array(0) };
        if (isValidTransform(integrity, encryption)) {
          valid++;
          assert.ok(deriveEspKeys(integrity, encryption, IK, CK));
        } else {
          assert.throws(() => new EspSa({ spi: 0x1000, integrity, encryption, keys }), isCode('ESP_CONFIG'), `${integrity}/${encryption}`);
          assert.throws(() => transformLayout(integrity, encryption), isCode('ESP_CONFIG'));
        }
      }
    }
    assert.equal(valid, 8);
    assert.equal(isValidTransform('null', 'null'), false, 'no ESP without integrity');
    assert.equal(isValidTransform('hmac-sha-1-96', 'aes-gcm'), false);
    assert.equal(isValidTransform('aes-gmac', 'aes-cbc'), false);
    assert.throws(() => transformLayout('hmac-sha-256-128' as never, 'null'), isCode('ESP_CONFIG'));
    assert.throws(() => transformLayout('hmac-md5-96', 'blowfish' as never), isCode('ESP_CONFIG'));
  });

  test('[R-SA-3] SPIs 0 and 1-255 are refused (RFC 4303 §2.1), as are non-integers', () => {
    const t = VALID_TRANSFORMS[0];
    for (const spi of [0, 1, 255, -5, 2 ** 32, 1.5]) assert.throws(() => sa(t, spi), isCode('ESP_CONFIG'), String(spi));
    assert.equal(sa(t, 256).spi, 256);
    assert.equal(sa(t, 0xffffffff).spi, 0xffffffff);
  });

  test('[R-SA-2] keys of the wrong length for the transform are refused with ESP_CONFIG', () => {
    const keys = deriveEspKeys('hmac-md5-96', 'null', IK, CK);
    assert.throws(() => new EspSa({ spi: 0x1000, integrity: 'hmac-sha-1-96', encryption: 'null', keys }), isCode('ESP_CONFIG'));
    const gcm = deriveEspKeys('null', 'aes-gcm', IK, CK);
    assert.throws(() => new EspSa({ spi: 0x1000, integrity: 'null', encryption: 'aes-gcm', keys: { ...gcm, salt: new Uint8Array(0) } }), isCode('ESP_CONFIG'));
  });

  test('keys never appear in toJSON(), JSON.stringify or inspect()', () => {
    for (const t of VALID_TRANSFORMS) {
      const s = sa(t);
      const keys = deriveEspKeys(t.integrity, t.encryption, IK, CK);
      // String(s) on purpose: what an SA prints when a log line interpolates it.
      // eslint-disable-next-line @typescript-eslint/no-base-to-string
      const texts = [JSON.stringify(s), inspect(s, { depth: 5, showHidden: true }), String(s)];
      for (const k of [keys.integrityKey.subarray(0, 16), keys.encryptionKey.subarray(0, 16), keys.salt]) {
        if (!k.length) continue;
        const hx = Buffer.from(k).toString('hex');
        for (const text of texts) {
          assert.ok(!text.toLowerCase().includes(hx), `${name(t)} leaks a key`);
          assert.ok(!text.includes(Buffer.from(k).toString('base64')), `${name(t)} leaks a key (base64)`);
        }
      }
      assert.match(JSON.stringify(s), /"spi":8192/);
    }
  });
});

describe('RFC 4303 §2.1 / RFC 3948 §2.2 header helpers', () => {
  test('decodeEspHeader reads SPI and sequence number; fewer than 8 bytes is ESP_PARSE', () => {
    assert.deepEqual(decodeEspHeader(hex('deadbeef00000102ffff')), { spi: 0xdeadbeef, seq: 0x102 });
    assert.throws(() => decodeEspHeader(hex('deadbeef000001')), isCode('ESP_PARSE'));
  });

  test('isUdpEncapsulatedEsp tells ESP from the Non-ESP Marker and NAT keepalives', () => {
    assert.equal(isUdpEncapsulatedEsp(hex('0000100000000001aabbccdd')), true);
    assert.equal(isUdpEncapsulatedEsp(hex('00000000aabbccddeeff0011')), false, 'Non-ESP Marker (IKE)');
    assert.equal(isUdpEncapsulatedEsp(hex('ff')), false, 'NAT-keepalive');
    assert.equal(isUdpEncapsulatedEsp(hex('00001000')), false, 'too short');
  });
});

