import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Milenage, computeOpc, Aes128 } from '../../src/auth/index.js';
import { fromHex, toHex, InvalidArgumentError } from '../../src/common/index.js';
import { sharedJson } from '../support/shared.js';

interface MilenageSet {
  test_set: number;
  spec: string;
  K: string; RAND: string; SQN: string; AMF: string; OP: string; OPc: string;
  f1: string; f1star: string; f2: string; f3: string; f4: string; f5: string; f5star: string;
}
const vectors = sharedJson<{ ts_35_208_conformance_test_sets: MilenageSet[]; ts_35_207_implementers_test_sets: MilenageSet[] }>('milenage.json');

function checkSet(v: MilenageSet): void {
  assert.equal(toHex(computeOpc(fromHex(v.K), fromHex(v.OP))), v.OPc, 'OPc');
  const m = new Milenage(fromHex(v.K), fromHex(v.OPc));
  const sqn = parseInt(v.SQN, 16);
  const amf = parseInt(v.AMF, 16);
  const rand = fromHex(v.RAND);
  const f1 = m.f1(rand, sqn, amf);
  assert.equal(toHex(f1.macA), v.f1, 'f1 (MAC-A)');
  assert.equal(toHex(f1.macS), v.f1star, 'f1* (MAC-S)');
  const f = m.f2345(rand);
  assert.equal(toHex(f.res), v.f2, 'f2 (RES)');
  assert.equal(toHex(f.ck), v.f3, 'f3 (CK)');
  assert.equal(toHex(f.ik), v.f4, 'f4 (IK)');
  assert.equal(toHex(f.ak), v.f5, 'f5 (AK)');
  assert.equal(toHex(m.f5star(rand)), v.f5star, 'f5* (AK*)');
  // The same values through OP instead of OPc.
  assert.equal(toHex(Milenage.fromOp(fromHex(v.K), fromHex(v.OP)).f2345(rand).res), v.f2, 'f2 via OP');
  const all = m.all(rand, sqn, amf);
  assert.deepEqual([toHex(all.macA), toHex(all.macS), toHex(all.res), toHex(all.ck), toHex(all.ik), toHex(all.ak), toHex(all.akStar)], [v.f1, v.f1star, v.f2, v.f3, v.f4, v.f5, v.f5star]);
}

describe('TS 35.208 §4.3 conformance test sets', vectors.options, () => {
  for (const v of vectors.value.ts_35_208_conformance_test_sets) {
    test(`[R-AKA-1] TS 35.208 test set ${v.test_set}: f1 f1* f2 f3 f4 f5 f5* and OPc`, () => checkSet(v));
  }
});

describe("TS 35.207 implementers' test sets", vectors.options, () => {
  for (const v of vectors.value.ts_35_207_implementers_test_sets) {
    test(`[R-AKA-1] TS 35.207 test set ${v.test_set}: f1 f1* f2 f3 f4 f5 f5* and OPc`, () => checkSet(v));
  }
});

describe('AES-128 kernel (FIPS-197)', () => {
  test('FIPS-197 Appendix C.1 example vector', () => {
    const aes = new Aes128(fromHex('000102030405060708090a0b0c0d0e0f'));
    assert.equal(toHex(aes.encryptBlock(fromHex('00112233445566778899aabbccddeeff'))), '69c4e0d86a7b0430d8cdb78070b4c55a');
  });
  test('rejects keys and inputs of the wrong length with a typed error', () => {
    assert.throws(() => new Aes128(new Uint8Array(15)), InvalidArgumentError);
    assert.throws(() => new Milenage(new Uint8Array(16), new Uint8Array(8)), InvalidArgumentError);
    const m = new Milenage(new Uint8Array(16), new Uint8Array(16));
    assert.throws(() => m.f1(new Uint8Array(16), 2 ** 48, 0), InvalidArgumentError);
    assert.throws(() => m.f1(new Uint8Array(16), 1, 0x10000), InvalidArgumentError);
    assert.throws(() => m.f2345(new Uint8Array(3)), InvalidArgumentError);
  });
});
