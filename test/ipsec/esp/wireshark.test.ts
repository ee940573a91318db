/**
 * The Wireshark 4.0 `esp_sa` UAT record (8 quoted fields) produced by wiresharkEspSaLine; the
 * tshark tests prove tshark accepts and uses these records.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImsError } from '../../../src/common/index.js';
import { deriveEspKeys, wiresharkChecksIcv, wiresharkEspSaLine } from '../../../src/ipsec/esp/index.js';
import { hex } from './helpers.js';

const IK = hex('f769bcd751044604127672711c6d3441');
const CK = hex('b40ba9a3c58b2a05bbf0d987b21bf8cb');

describe('wiresharkEspSaLine', () => {
  test('[R-SA-2] hmac-sha-1-96 + aes-cbc: eight quoted fields with the Annex I keys', () => {
    const keys = deriveEspKeys('hmac-sha-1-96', 'aes-cbc', IK, CK);
    assert.equal(
      wiresharkEspSaLine({ family: 'IPv4', src: '10.0.0.1', dst: '10.0.0.2', spi: 0x1234, integrity: 'hmac-sha-1-96', encryption: 'aes-cbc', keys }),
      '"IPv4","10.0.0.1","10.0.0.2","0x00001234","AES-CBC [RFC3602]","0xb40ba9a3c58b2a05bbf0d987b21bf8cb","HMAC-SHA-1-96 [RFC2404]","0xf769bcd751044604127672711c6d344100000000"',
    );
  });

  test('[R-SA-2] null encryption has an empty key; 3DES and GCM use their Wireshark 4.0 names', () => {
    const md5 = deriveEspKeys('hmac-md5-96', 'null', IK, CK);
    assert.equal(
      wiresharkEspSaLine({ family: 'IPv6', src: '2001:db8::1', dst: '*', spi: 0xfffffffe, integrity: 'hmac-md5-96', encryption: 'null', keys: md5 }),
      '"IPv6","2001:db8::1","*","0xfffffffe","NULL","","HMAC-MD5-96 [RFC2403]","0xf769bcd751044604127672711c6d3441"',
    );
    const des = deriveEspKeys('hmac-md5-96', 'des-ede3-cbc', IK, CK);
    assert.match(wiresharkEspSaLine({ family: 'IPv4', src: 'a', dst: 'b', spi: 256, integrity: 'hmac-md5-96', encryption: 'des-ede3-cbc', keys: des }), /"TripleDES-CBC \[RFC2451\]","0xb40ba9a3c58b2a05bbf0d987b21bf8cbb40ba9a3c58b2a05"/);
    const gcm = deriveEspKeys('null', 'aes-gcm', IK, CK);
    const line = wiresharkEspSaLine({ family: 'IPv4', src: 'a', dst: 'b', spi: 256, integrity: 'null', encryption: 'aes-gcm', keys: gcm });
    // RFC 4106 §8.1: the keying material is the AES key followed by the 4-byte salt.
    assert.ok(line.endsWith(`"AES-GCM with 16 octet ICV [RFC4106]","0xb40ba9a3c58b2a05bbf0d987b21bf8cb${Buffer.from(gcm.salt).toString('hex')}","NULL",""`), line);
  });

  test('Wireshark 4.0 cannot check AES-GMAC; every other transform it can', () => {
    assert.equal(wiresharkChecksIcv('aes-gmac'), false);
    for (const a of ['hmac-md5-96', 'hmac-sha-1-96', 'null'] as const) assert.equal(wiresharkChecksIcv(a), true);
  });

  test('quotes inside addresses are escaped; invalid transforms are ESP_CONFIG', () => {
    const keys = deriveEspKeys('hmac-md5-96', 'null', IK, CK);
    assert.match(wiresharkEspSaLine({ family: 'IPv4', src: 'a"b', dst: 'c', spi: 256, integrity: 'hmac-md5-96', encryption: 'null', keys }), /^"IPv4","a\\"b","c"/);
    assert.throws(
      () => wiresharkEspSaLine({ family: 'IPv4', src: 'a', dst: 'b', spi: 256, integrity: 'null', encryption: 'null', keys }),
      (e: unknown) => e instanceof ImsError && e.code === 'ESP_CONFIG',
    );
  });
});
