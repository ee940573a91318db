/**
 * TS 33.203 Annex I key expansion (SPEC R-SA-2). IK and CK are TS 35.208 Test Set 1 outputs
 * (f4 = IK, f3 = CK); every expected key below is written out by hand from the Annex I rule.
 * The salts are recomputed here from the TS 33.220 Annex B.2.0 KDF with S spelled byte by byte.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { ImsError } from '../../../src/common/index.js';
import { deriveEspKeys, EspConfigError, espKeyLengths, kdf33220, VALID_TRANSFORMS } from '../../../src/ipsec/esp/index.js';
import { hex } from './helpers.js';

// TS 35.208 §4.3.1 Test Set 1: f4 (IK) and f3 (CK).
const IK = hex('f769bcd751044604127672711c6d3441');
const CK = hex('b40ba9a3c58b2a05bbf0d987b21bf8cb');
const h = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('TS 33.203 Annex I: integrity keys', () => {
  test('[R-SA-2] hmac-md5-96: IK_ESP = IK_IM (128 bits)', () => {
    const k = deriveEspKeys('hmac-md5-96', 'null', IK, CK);
    assert.equal(h(k.integrityKey), 'f769bcd751044604127672711c6d3441');
    assert.equal(k.encryptionKey.length, 0);
    assert.equal(k.salt.length, 0);
  });

  test('[R-SA-2] hmac-sha-1-96: IK_ESP = IK_IM ‖ 32 zero bits (160 bits), not IK ‖ first 32 bits of IK', () => {
    const k = deriveEspKeys('hmac-sha-1-96', 'null', IK, CK);
    assert.equal(h(k.integrityKey), 'f769bcd751044604127672711c6d3441' + '00000000');
    assert.notEqual(h(k.integrityKey), 'f769bcd751044604127672711c6d3441' + 'f769bcd7');
  });

  test('[R-SA-2] aes-gmac: IK_ESP = IK_IM and salt = last 32 bits of KDF(CK ‖ IK, 0x58 ‖ "AES_GMAC_SALT" ‖ 0x000D)', () => {
    const k = deriveEspKeys('aes-gmac', 'null', IK, CK);
    assert.equal(h(k.integrityKey), 'f769bcd751044604127672711c6d3441');
    // S = FC ‖ P0 ‖ L0, "AES_GMAC_SALT" = 41 45 53 5f 47 4d 41 43 5f 53 41 4c 54 (13 bytes).
    const s = hex('58' + '4145535f474d41435f53414c54' + '000d');
    const key = hex('b40ba9a3c58b2a05bbf0d987b21bf8cb' + 'f769bcd751044604127672711c6d3441');
    const out = createHmac('sha256', key).update(s).digest();
    assert.equal(h(k.salt), out.subarray(28).toString('hex'));
    assert.equal(k.salt.length, 4);
  });
});

describe('TS 33.203 Annex I: encryption keys', () => {
  test('[R-SA-2] des-ede3-cbc: CK_ESP = CK_IM ‖ first 64 bits of CK_IM (192 bits)', () => {
    const k = deriveEspKeys('hmac-sha-1-96', 'des-ede3-cbc', IK, CK);
    assert.equal(h(k.encryptionKey), 'b40ba9a3c58b2a05bbf0d987b21bf8cb' + 'b40ba9a3c58b2a05');
    assert.equal(h(k.integrityKey), 'f769bcd751044604127672711c6d344100000000');
  });

  test('[R-SA-2] aes-cbc: CK_ESP = CK_IM (128 bits)', () => {
    const k = deriveEspKeys('hmac-md5-96', 'aes-cbc', IK, CK);
    assert.equal(h(k.encryptionKey), 'b40ba9a3c58b2a05bbf0d987b21bf8cb');
  });

  test('[R-SA-2] aes-gcm: CK_ESP = CK_IM and salt = last 32 bits of KDF(CK ‖ IK, 0x59 ‖ "AES_GCM_SALT" ‖ 0x000C)', () => {
    const k = deriveEspKeys('null', 'aes-gcm', IK, CK);
    assert.equal(h(k.encryptionKey), 'b40ba9a3c58b2a05bbf0d987b21bf8cb');
    assert.equal(k.integrityKey.length, 0);
    // "AES_GCM_SALT" = 41 45 53 5f 47 43 4d 5f 53 41 4c 54 (12 bytes).
    const s = hex('59' + '4145535f47434d5f53414c54' + '000c');
    const key = hex('b40ba9a3c58b2a05bbf0d987b21bf8cb' + 'f769bcd751044604127672711c6d3441');
    assert.equal(h(k.salt), createHmac('sha256', key).update(s).digest().subarray(28, 32).toString('hex'));
  });

  test('[R-SA-2] the GCM and GMAC salts differ (different FC and label)', () => {
    assert.notEqual(h(deriveEspKeys('null', 'aes-gcm', IK, CK).salt), h(deriveEspKeys('aes-gmac', 'null', IK, CK).salt));
  });

  test('[R-SA-2] TS 33.220 KDF builds S = FC ‖ P0 ‖ L0 with a two-byte big-endian length', () => {
    const key = new Uint8Array(32).fill(7);
    const expected = createHmac('sha256', key).update(hex('10' + '616263' + '0003')).digest().toString('hex');
    assert.equal(h(kdf33220(key, 0x10, 'abc')), expected);
  });
});

describe('Annex I: arguments', () => {
  test('[R-SA-2] every valid transform yields keys of the lengths the SA expects', () => {
    for (const t of VALID_TRANSFORMS) {
      const k = deriveEspKeys(t.integrity, t.encryption, IK, CK);
      const want = espKeyLengths(t.integrity, t.encryption);
      assert.deepEqual([k.integrityKey.length, k.encryptionKey.length, k.salt.length], [want.integrity, want.encryption, want.salt], `${t.integrity}/${t.encryption}`);
    }
  });

  test('[R-SA-2] IK/CK of the wrong length are refused with INVALID_ARGUMENT', () => {
    assert.throws(() => deriveEspKeys('hmac-md5-96', 'null', IK.subarray(0, 15), CK), (e: unknown) => e instanceof ImsError && e.code === 'INVALID_ARGUMENT');
    assert.throws(() => deriveEspKeys('hmac-md5-96', 'aes-cbc', IK, new Uint8Array(17)), (e: unknown) => e instanceof ImsError && e.code === 'INVALID_ARGUMENT');
  });

  test('[R-SA-1] an invalid combination is refused with ESP_CONFIG', () => {
    assert.throws(() => deriveEspKeys('null', 'aes-cbc', IK, CK), (e: unknown) => e instanceof EspConfigError && e.code === 'ESP_CONFIG');
  });

  test('[R-SA-2] derived keys are copies: wiping IK/CK afterwards leaves them intact', () => {
    const ik = Buffer.from(IK);
    const k = deriveEspKeys('hmac-md5-96', 'null', ik, CK);
    ik.fill(0);
    assert.equal(h(k.integrityKey), 'f769bcd751044604127672711c6d3441');
  });
});
