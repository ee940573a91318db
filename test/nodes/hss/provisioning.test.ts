import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../../src/common/errors.js';
import { openStore } from '../../../src/store/index.js';
import { changeSubscriber, impusFromLists, parsePatchInput, parseSubscriberInput, provisionSubscriber } from '../../../src/nodes/hss/provisioning.js';
import { sharedJson } from '../../support/shared.js';
import { SET1 } from './support.js';

interface MilenageSet {
  test_set: number;
  K: string;
  OP: string;
  OPc: string;
}

// TS 35.208 §4.3 conformance test sets (../shared/vectors/milenage.json): OPc is published next to K and OP.
const milenage = sharedJson<{ ts_35_208_conformance_test_sets: MilenageSet[] }>('milenage.json');
const K = SET1.K;
const OP = SET1.OP;

const base = { impi: 'alice@ims.lab', impus: ['sip:alice@ims.lab', 'tel:+15550100'], k: K, op: OP };

function rejects(fn: () => unknown, field: string, text?: RegExp): void {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof InvalidArgumentError, String(e));
    assert.equal(e.argument, field);
    if (text !== undefined) assert.match(e.message, text);
    assert.ok(!e.message.toLowerCase().includes(K) && !e.message.toLowerCase().includes(OP), 'key in message');
    return true;
  });
}

describe('provisioning input (REST/JSON form)', () => {
  test('[R-AKA-1] an OP given at provisioning becomes the published OPc (TS 35.208 sets) and is not kept', milenage.options, () => {
    const sets = milenage.value.ts_35_208_conformance_test_sets.map((v) => ({ set: v.test_set, k: v.K, op: v.OP, opc: v.OPc }));
    for (const v of sets) {
      const s = parseSubscriberInput({ ...base, k: v.k, op: v.op });
      assert.equal(Buffer.from(s.opc).toString('hex'), v.opc, `set ${v.set}`);
      assert.ok(!('op' in s));
      assert.ok(!JSON.stringify(s, (_k, x) => (x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x)).includes(v.op));
    }
  });

  test('defaults: AMF 8000, SEQ_HE 0, IND 5 bits, AKAv1, first IMPU the default in set 1', () => {
    const s = parseSubscriberInput({ ...base, opc: SET1.OPc, op: undefined });
    assert.deepEqual(
      { amf: s.amf, seqHe: s.seqHe, indBits: s.indBits, authSchemes: s.authSchemes, impus: s.impus, implicitSets: s.implicitSets, serviceProfile: s.serviceProfile },
      {
        amf: 0x8000, seqHe: 0, indBits: 5, authSchemes: ['Digest-AKAv1-MD5'], serviceProfile: null, implicitSets: [],
        impus: [
          { impu: 'sip:alice@ims.lab', irs: 1, barred: false, pseudonym: false, isDefault: true },
          { impu: 'tel:+15550100', irs: 1, barred: false, pseudonym: false, isDefault: false },
        ],
      },
    );
  });

  test('[R-AKA-3] sqn is the highest SQN used: SEQ_HE is its SEQ part (TS 33.102 C.1.1)', () => {
    assert.equal(parseSubscriberInput({ ...base, sqn: 32 * 77 + 5 }).seqHe, 77);
    assert.equal(parseSubscriberInput({ ...base, sqn: 77, indBits: 0 }).seqHe, 77);
    assert.equal(parsePatchInput({ sqn: 32 * 9 }, 5).seqHe, 9);
    assert.equal(parsePatchInput({ sqn: 8 * 9, indBits: 3 }, 5).seqHe, 9);
  });

  test('[R-ANON-2] IMPU objects carry set, barring, pseudonym and an explicit default', () => {
    const s = parseSubscriberInput({
      ...base,
      impus: ['sip:alice@ims.lab', { impu: 'sip:anon-7f3@ims.lab', irs: 2, pseudonym: true, default: true }, { impu: 'tel:+15550100', barred: true }],
      implicitSets: [{ irs: 2, serviceProfile: '<x/>' }],
    });
    assert.deepEqual(s.impus, [
      { impu: 'sip:alice@ims.lab', irs: 1, barred: false, pseudonym: false, isDefault: false },
      { impu: 'sip:anon-7f3@ims.lab', irs: 2, barred: false, pseudonym: true, isDefault: true },
      { impu: 'tel:+15550100', irs: 1, barred: true, pseudonym: false, isDefault: false },
    ]);
    assert.deepEqual(s.implicitSets, [{ irs: 2, serviceProfile: '<x/>' }]);
  });

  test('bad input names the field and never quotes a key', () => {
    rejects(() => parseSubscriberInput({ ...base, k: K.slice(2) }), 'k', /^k must be 16 bytes/);
    rejects(() => parseSubscriberInput({ ...base, k: K.slice(0, 30) + 'zz' }), 'k');
    rejects(() => parseSubscriberInput({ ...base, op: OP + '00' }), 'op');
    rejects(() => parseSubscriberInput({ ...base, opc: OP }), 'op', /either op or opc/);
    rejects(() => parseSubscriberInput({ ...base, op: undefined }), 'opc', /op or opc is required/);
    rejects(() => parseSubscriberInput({ ...base, k: undefined }), 'k', /required/);
    rejects(() => parseSubscriberInput({ ...base, amf: '80000' }), 'amf');
    rejects(() => parseSubscriberInput({ ...base, sqn: -1 }), 'sqn');
    rejects(() => parseSubscriberInput({ ...base, sqn: 2 ** 48 }), 'sqn');
    rejects(() => parseSubscriberInput({ ...base, impi: 'no-realm' }), 'impi');
    rejects(() => parseSubscriberInput({ ...base, impus: [] }), 'impus');
    rejects(() => parseSubscriberInput({ ...base, impus: ['mailto:x@y'] }), 'impu');
    rejects(() => parseSubscriberInput({ ...base, impus: ['sip:a@b', 'sip:a@b'] }), 'impus', /twice/);
    rejects(() => parseSubscriberInput({ ...base, impus: [{ impu: 'sip:a@b', default: true }, { impu: 'sip:c@b', default: true }] }), 'impus');
    rejects(() => parseSubscriberInput({ ...base, authSchemes: ['SIP Digest'] }), 'authSchemes');
    rejects(() => parseSubscriberInput({ ...base, color: 'red' }), 'color', /unknown field/);
    rejects(() => parseSubscriberInput({ ...base, impus: [{ impu: 'sip:a@b', colour: 1 }] }), 'colour');
    rejects(() => parseSubscriberInput([]), 'subscriber');
    rejects(() => parsePatchInput({ op: OP }, 5), 'k', /required to change/);
    rejects(() => parsePatchInput({ impi: 'x@y' }, 5), 'impi');
  });

  test('CLI/CSV lists: --barred and --pseudonym must name listed IMPUs', () => {
    assert.deepEqual(impusFromLists(['sip:a@b', 'tel:+1'], ['tel:+1'], ['sip:a@b']), [
      { impu: 'sip:a@b', barred: false, pseudonym: true },
      { impu: 'tel:+1', barred: true, pseudonym: false },
    ]);
    rejects(() => impusFromLists(['sip:a@b'], ['tel:+1']), 'barred');
  });

  test('provision and change through a store; the public view has no key material', async () => {
    const store = await openStore(':memory:');
    try {
      const v = await provisionSubscriber(store, { ...base, amf: 'B9B9' });
      assert.equal(v.amf, 'b9b9');
      assert.deepEqual(Object.keys(v).sort(), ['amf', 'authSchemes', 'impi', 'implicitSets', 'impus', 'indBits', 'seqHe', 'serviceProfile']);
      const c = await changeSubscriber(store, 'alice@ims.lab', { impus: [{ impu: 'tel:+15550100', default: true }], sqn: 64 });
      assert.deepEqual([c.seqHe, c.impus.map((u) => [u.impu, u.default])], [2, [['tel:+15550100', true]]]);
      const a = await store.allocateSqns('alice@ims.lab', 'scscf.ims.lab', 1);
      assert.equal(Buffer.from(a.opc).toString('hex'), SET1.OPc);
      assert.deepEqual(a.sqns, [3 * 32]);
    } finally {
      await store.close();
    }
  });
});
