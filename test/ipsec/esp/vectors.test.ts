/**
 * Published vectors: RFC 2202 (HMAC-MD5 / HMAC-SHA-1 and their 96-bit truncations, RFC 2403 /
 * RFC 2404), RFC 3602 §4 (AES-CBC) and draft-mcgrew-gcm-test-01 (ESP with AES-GCM and AES-GMAC).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FixedRng } from '../../../src/common/index.js';
import { EspSa, hmac96, type EspKeys } from '../../../src/ipsec/esp/index.js';
import { decodeIpPacket } from '../../../src/ip/index.js';
import { readVectors } from '../../support/paths.js';
import { sharedJson } from '../../support/shared.js';
import { hex } from './helpers.js';

interface HmacVector {
  id: string;
  algorithm: string;
  test_case: number;
  key_hex: string;
  data_hex: string;
  digest: string;
}
interface TruncatedVector {
  id: string;
  algorithm: string;
  key_hex: string;
  data_hex: string;
  mac: string;
  mac_len_bytes: number;
}
const hmac = sharedJson<{ rfc2202: HmacVector[]; truncated: TruncatedVector[] }>('hmac.json');

interface CbcVector {
  id: string;
  rfc3602_case: number;
  key_hex: string;
  iv_hex: string;
  plaintext_hex: string;
  ciphertext_hex: string;
}
const cbc = sharedJson<{ vectors: CbcVector[] }>('aes_cbc.json');

interface GcmVector {
  id: string;
  key_hex: string;
  salt_hex: string;
  iv_hex: string;
  aad_hex: string;
  ciphertext_hex: string;
  tag_hex: string;
}
const gcmFile = readVectors<{ gcm: GcmVector[]; gmac: Omit<GcmVector, 'ciphertext_hex'>[] }>('draft-mcgrew-gcm-test', 'esp_gcm_gmac.json');

const algOf = (a: string) => (a.includes('MD5') ? 'hmac-md5-96' : 'hmac-sha-1-96') as 'hmac-md5-96' | 'hmac-sha-1-96';

describe('RFC 2202 / RFC 2403 / RFC 2404: HMAC-96 ICV', hmac.options, () => {
  const hmacFile = hmac.value;
  assert.equal(hmacFile.rfc2202.length, 14);
  for (const v of hmacFile.rfc2202) {
    test(`[R-SA-1] ${v.id} (RFC 2202 test case ${v.test_case}): ICV is the leftmost 96 bits of the digest`, () => {
      const icv = hmac96(algOf(v.algorithm), hex(v.key_hex), hex(v.data_hex));
      assert.equal(Buffer.from(icv).toString('hex'), v.digest.slice(0, 24));
    });
  }
  for (const v of hmacFile.truncated.filter((t) => t.mac_len_bytes === 12)) {
    test(`[R-SA-1] ${v.id}: published 96-bit MAC`, () => {
      assert.equal(Buffer.from(hmac96(algOf(v.algorithm), hex(v.key_hex), hex(v.data_hex))).toString('hex'), v.mac);
    });
  }

  // RFC 2202 cases 3 and 5 have keys of exactly the ESP key length (16 / 20 bytes) and data long
  // enough to read as an ESP packet, so open() can be fed the published data ‖ MAC-96.
  for (const v of hmacFile.rfc2202.filter((x) => x.test_case === 3 || x.test_case === 5)) {
    test(`[R-SA-1] ${v.id}: open() accepts the published ICV and rejects a one-bit change`, () => {
      const alg = algOf(v.algorithm);
      const data = hex(v.data_hex);
      const keys: EspKeys = { integrityKey: hex(v.key_hex), encryptionKey: new Uint8Array(0), salt: new Uint8Array(0) };
      const spi = data.readUInt32BE(0);
      const packet = Buffer.concat([data, hex(v.digest.slice(0, 24))]);

      const good = new EspSa({ spi, integrity: alg, encryption: 'null', keys });
      const r = good.open(packet);
      // The data is no valid ESP trailer, so the packet ends as malformed — but only after
      // the ICV verified: the window moved and no ICV drop was counted.
      assert.deepEqual(r, { ok: false, reason: 'malformed' });
      assert.equal(good.counters.droppedIcv, 0);
      assert.equal(good.replay.top, data.readUInt32BE(4));

      const bad = new EspSa({ spi, integrity: alg, encryption: 'null', keys });
      const flipped = Buffer.from(packet);
      flipped[flipped.length - 1] ^= 0x01;
      assert.deepEqual(bad.open(flipped), { ok: false, reason: 'icv' });
      assert.equal(bad.counters.droppedIcv, 1);
      assert.equal(bad.replay.top, 0);
    });
  }
});

describe('RFC 3602 §4: AES-CBC inside seal()', cbc.options, () => {
  const cbcFile = cbc.value;
  assert.equal(cbcFile.vectors.length, 4);
  for (const v of cbcFile.vectors) {
    test(`[R-SA-1] ${v.id} (RFC 3602 Case #${v.rfc3602_case}): ciphertext blocks after the IV equal the published ones`, () => {
      const keys: EspKeys = { integrityKey: new Uint8Array(20).fill(0x11), encryptionKey: hex(v.key_hex), salt: new Uint8Array(0) };
      const sa = new EspSa({ spi: 0x1000, integrity: 'hmac-sha-1-96', encryption: 'aes-cbc', keys });
      const plain = hex(v.plaintext_hex);
      const packet = Buffer.from(sa.seal(plain, 4, new FixedRng([hex(v.iv_hex)])));
      assert.equal(packet.subarray(8, 24).toString('hex'), v.iv_hex, 'IV follows the sequence number');
      // CBC: the first k ciphertext blocks depend only on the first k plaintext blocks.
      assert.equal(packet.subarray(24, 24 + plain.length).toString('hex'), v.ciphertext_hex);
      // The block-aligned payload still gets a full block of padding + trailer (RFC 4303 §2.4).
      assert.equal(packet.length, 8 + 16 + plain.length + 16 + 12);
      const rx = new EspSa({ spi: 0x1000, integrity: 'hmac-sha-1-96', encryption: 'aes-cbc', keys });
      const r = rx.open(packet);
      assert.ok(r.ok);
      assert.equal(Buffer.from(r.payload).toString('hex'), v.plaintext_hex);
      assert.equal(r.nextHeader, 4);
    });
  }
});

describe('draft-mcgrew-gcm-test-01: ESP AES-GCM (RFC 4106) and AES-GMAC (RFC 4543) packets', () => {
  for (const v of gcmFile.gcm) {
    test(`[R-SA-1] ${v.id}: open() verifies and decrypts the published packet`, () => {
      const aad = hex(v.aad_hex);
      const packet = Buffer.concat([aad, hex(v.iv_hex), hex(v.ciphertext_hex), hex(v.tag_hex)]);
      const keys: EspKeys = { integrityKey: new Uint8Array(0), encryptionKey: hex(v.key_hex), salt: hex(v.salt_hex) };
      const sa = new EspSa({ spi: aad.readUInt32BE(0), integrity: 'null', encryption: 'aes-gcm', keys });
      const r = sa.open(packet);
      assert.ok(r.ok, `dropped: ${JSON.stringify(r)}`);
      assert.equal(r.seq, aad.readUInt32BE(4));
      if (r.payload.length > 0) {
        // Page 7 carries an IPv4 packet: it must decode with a valid header checksum.
        const ip = decodeIpPacket(r.payload);
        assert.equal(ip.version, 4);
      }
      const tampered = Buffer.from(packet);
      tampered[20] ^= 0x80;
      const sa2 = new EspSa({ spi: aad.readUInt32BE(0), integrity: 'null', encryption: 'aes-gcm', keys });
      assert.deepEqual(sa2.open(tampered), { ok: false, reason: 'icv' });
    });
  }

  test('[R-SA-1] draft-mcgrew-gcm-test-01-page-16: sequence number 2^32-1 and an empty payload', () => {
    const v = gcmFile.gcm.find((x) => x.id.endsWith('page-16'))!;
    const packet = Buffer.concat([hex(v.aad_hex), hex(v.iv_hex), hex(v.ciphertext_hex), hex(v.tag_hex)]);
    const sa = new EspSa({ spi: 0x335467ae, integrity: 'null', encryption: 'aes-gcm', keys: { integrityKey: new Uint8Array(0), encryptionKey: hex(v.key_hex), salt: hex(v.salt_hex) } });
    const r = sa.open(packet);
    assert.ok(r.ok);
    assert.equal(r.seq, 0xffffffff);
    assert.equal(r.payload.length, 0);
    assert.equal(r.nextHeader, 1);
  });

  for (const v of gcmFile.gmac) {
    test(`[R-SA-1] ${v.id}: open() verifies the published GMAC packet (AAD covers SPI, Seq, IV, payload and trailer)`, () => {
      const body = hex(v.aad_hex);
      const packet = Buffer.concat([body, hex(v.tag_hex)]);
      const keys: EspKeys = { integrityKey: hex(v.key_hex), encryptionKey: new Uint8Array(0), salt: hex(v.salt_hex) };
      const sa = new EspSa({ spi: body.readUInt32BE(0), integrity: 'aes-gmac', encryption: 'null', keys });
      const r = sa.open(packet);
      assert.ok(r.ok, `dropped: ${JSON.stringify(r)}`);
      assert.equal(r.seq, 7);
      assert.equal(Buffer.from(r.payload).toString('hex'), body.subarray(16, body.length - 4).toString('hex'));
      assert.equal(decodeIpPacket(r.payload).protocol, 1, 'the payload is the ICMP packet of the draft');

      for (const at of [3, 7, 12, 40, packet.length - 1]) {
        const sa2 = new EspSa({ spi: body.readUInt32BE(0), integrity: 'aes-gmac', encryption: 'null', keys });
        const t = Buffer.from(packet);
        t[at] ^= 0x04;
        const rr = sa2.open(t);
        assert.equal(rr.ok, false, `byte ${at} changed`);
      }
    });
  }
});
