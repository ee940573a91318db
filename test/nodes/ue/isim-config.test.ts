/**
 * The soft ISIM with its SQN file (TS 33.102 Annex C.2, kept between runs) and the UE
 * configuration parser (TS 35.208 set 1 for OP → OPc).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Milenage, generateVector } from '../../../src/auth/index.js';
import { toHex } from '../../../src/common/index.js';
import { SoftIsim, fileSqnStore, parseUeConfig } from '../../../src/nodes/ue/index.js';
import { sharedJson } from '../../support/shared.js';

const milenage = sharedJson<{ ts_35_208_conformance_test_sets: Array<{ test_set: number; K: string; OP: string; OPc: string }> }>('milenage.json');
const set1Of = () => milenage.value.ts_35_208_conformance_test_sets.find((s) => s.test_set === 1)!;

describe('TS 33.102 Annex C.2: the ISIM SQN array survives restarts', milenage.options, () => {
  const set1 = set1Of();
  test('[R-AKA-3] [R-AKA-4] an accepted SQN is written atomically without K/OPc and refused by the next run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-ue-'));
    try {
      const path = join(dir, 'sub', 'alice.sqn.json');
      const k = Buffer.from(set1.K, 'hex');
      const opc = Buffer.from(set1.OPc, 'hex');
      const net = new Milenage(k, opc);
      const v = generateVector(net, new Uint8Array(16).fill(7), 5 * 32 + 3, 0x8000);
      const isim1 = new SoftIsim(k, opc, fileSqnStore(path, 'alice@ims.lab'));
      const r1 = isim1.authenticate(v.rand, v.autn);
      assert.equal(r1.result, 'ok');
      const text = readFileSync(path, 'utf8');
      const saved = JSON.parse(text) as { impi: string; slots: number[] };
      assert.equal(saved.impi, 'alice@ims.lab');
      assert.equal(saved.slots[3], 5 * 32 + 3);
      for (const secret of [set1.K, set1.OPc, set1.OP]) assert.ok(!text.toLowerCase().includes(secret.toLowerCase()), 'no key material in the SQN file');
      assert.deepEqual(readdirSync(join(dir, 'sub')), ['alice.sqn.json'], 'no temporary file left behind');
      // A new process (new ISIM from the same file) refuses the replayed challenge.
      const isim2 = new SoftIsim(k, opc, fileSqnStore(path, 'alice@ims.lab'));
      assert.equal(isim2.sqnMs, 5 * 32 + 3);
      assert.equal(isim2.authenticate(v.rand, v.autn).result, 'sync-failure');
      // A file of another subscriber is not silently used.
      assert.throws(() => new SoftIsim(k, opc, fileSqnStore(path, 'bob@ims.lab')), (e: Error & { code?: string }) => e.code === 'CONFIG');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('UE configuration', milenage.options, () => {
  const set1 = set1Of();
  const base = { impi: 'alice@ims.lab', impu: 'sip:alice@ims.lab', k: set1.K, pcscf: '127.0.0.1:5060' };
  test('defaults, home domain from the IMPU, OP turned into OPc (TS 35.208 set 1)', () => {
    const c = parseUeConfig({ ...base, op: set1.OP });
    assert.equal(toHex(c.opc), set1.OPc.toLowerCase());
    assert.equal(c.homeDomain, 'ims.lab');
    assert.deepEqual(c.pcscf, { host: '127.0.0.1', port: 5060 });
    assert.equal(c.mode, 'UDP-enc-tun');
    assert.equal(c.datapath, 'userspace');
    assert.equal(c.expires, 600000);
    assert.deepEqual(c.integrity, ['hmac-sha-1-96', 'hmac-md5-96']);
    assert.equal(parseUeConfig({ ...base, opc: set1.OPc, datapath: 'xfrm' }).mode, 'trans');
    assert.deepEqual(parseUeConfig({ ...base, opc: set1.OPc, pcscf: '[::1]:5070' }).pcscf, { host: '::1', port: 5070 });
  });
  const badCases: Array<[string, Record<string, unknown>, string]> = [
    ['no OP/OPc', { ...base }, 'opc'],
    ['both OP and OPc', { ...base, op: set1.OP, opc: set1.OPc }, 'op'],
    ['short K', { ...base, k: 'abcd', opc: set1.OPc }, 'k'],
    ['IMPU not SIP', { ...base, impu: 'alice', opc: set1.OPc }, 'impu'],
    ['bad pcscf', { ...base, pcscf: 'host:99999', opc: set1.OPc }, 'pcscf'],
    ['unknown alg', { ...base, opc: set1.OPc, integrity: ['hmac-sha-256'] }, 'integrity'],
    ['userspace with trans', { ...base, opc: set1.OPc, mode: 'trans' }, 'mode'],
    ['null integrity without gcm', { ...base, opc: set1.OPc, integrity: ['null'], encryption: ['null'] }, 'integrity'],
  ];
  for (const [what, input, field] of badCases) {
    test(`refused with INVALID_ARGUMENT naming the field: ${what}`, () => {
      assert.throws(() => parseUeConfig(input), (e: Error & { code?: string; argument?: string }) => e.code === 'INVALID_ARGUMENT' && e.argument === field);
    });
  }
});
