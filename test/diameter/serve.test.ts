/**
 * The base-protocol checks in front of the application (RFC 6733 §4.1, §6.2, §7.1, §7.2):
 * unknown mandatory AVP, application not negotiated, no handler, handler errors.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/common/log.js';
import {
  DiameterAvpError,
  answerRequest,
  buildLia,
  buildLir,
  defaultDictionary,
  findAvp,
  getValue,
  parseLir,
  rawAvp,
  CxResult,
  type Capabilities,
  type ServeContext,
} from '../../src/diameter/index.js';

const caps = (host: string, appId = 16777216): Capabilities => ({
  originHost: host,
  originRealm: 'ims.lab',
  hostIpAddresses: ['127.0.0.1'],
  vendorId: 0,
  productName: 't',
  supportedVendorIds: [10415],
  authApplicationIds: [],
  acctApplicationIds: [],
  vendorSpecificApplicationIds: [{ vendorId: 10415, authApplicationId: appId }],
});
const ctx = (over: Partial<ServeContext> = {}): ServeContext => ({
  local: caps('hss.ims.lab'),
  peerCaps: caps('icscf.ims.lab'),
  peerHost: 'icscf.ims.lab',
  dictionary: defaultDictionary,
  handler: (req) => buildLia(req, { originHost: 'hss.ims.lab', originRealm: 'ims.lab', result: CxResult.SUCCESS }),
  log: silentLogger,
  ...over,
});
const lir = { ...buildLir({ sessionId: 'icscf.ims.lab;1;1', originHost: 'icscf.ims.lab', originRealm: 'ims.lab', destinationRealm: 'ims.lab', publicIdentity: 'sip:bob@ims.lab' }), hopByHop: 77, endToEnd: 88 };

describe('RFC 6733 §6.2 / §7 serving a request', () => {
  test('[R-CX-1] the handler answer goes out with the request identifiers', async () => {
    const a = await answerRequest(lir, ctx());
    assert.deepEqual([a.hopByHop, a.endToEnd, a.flags & 0x80, getValue(a.avps, 'Result-Code')], [77, 88, 0, 2001]);
  });

  test('an application not negotiated in CER/CEA → 3007 with the E bit; Relay matches everything', async () => {
    const a = await answerRequest(lir, ctx({ peerCaps: caps('icscf.ims.lab', 16777217) }));
    assert.equal(getValue(a.avps, 'Result-Code'), 3007);
    assert.equal(a.flags & 0x20, 0x20);
    const r = await answerRequest(lir, ctx({ peerCaps: { ...caps('icscf.ims.lab', 16777217), authApplicationIds: [0xffffffff] } }));
    assert.equal(getValue(r.avps, 'Result-Code'), 2001);
  });

  test('[R-CX-1] an unknown AVP with M inside a known Grouped AVP is also DIAMETER_AVP_UNSUPPORTED', async () => {
    const inner = rawAvp(7777, new Uint8Array(4), { vendorId: 5, mandatory: true });
    const withGroup = { ...lir, avps: [...lir.avps, { ...rawAvp(279, new Uint8Array(), { mandatory: true }), data: encodeGroup([inner]) }] };
    const a = await answerRequest(withGroup, ctx());
    assert.equal(getValue(a.avps, 'Result-Code'), 5001);
    assert.equal(a.flags & 0x20, 0, "5xxx answers go without the 'E' bit");
    assert.ok(findAvp(a.avps, 'Vendor-Specific-Application-Id'), 'the Cx answer keeps Vendor-Specific-Application-Id');
    assert.deepEqual((getValue(a.avps, 'Failed-AVP') ?? []).map((x) => x.code), [7777]);
  });

  test('no handler → 3001; a DiameterAvpError → its Result-Code and Failed-AVP; a crash → 5012', async () => {
    assert.equal(getValue((await answerRequest(lir, ctx({ handler: undefined }))).avps, 'Result-Code'), 3001);
    const missing = await answerRequest({ ...lir, avps: lir.avps.filter((x) => x.code !== 601) }, ctx({ handler: (r) => (parseLir(r), buildLia(r, { originHost: 'h', originRealm: 'r', result: CxResult.SUCCESS })) }));
    assert.equal(getValue(missing.avps, 'Result-Code'), 5005);
    assert.deepEqual((getValue(missing.avps, 'Failed-AVP') ?? []).map((x) => [x.code, x.vendorId]), [[601, 10415]]);
    const crash = await answerRequest(lir, ctx({ handler: () => { throw new Error('boom'); } }));
    assert.equal(getValue(crash.avps, 'Result-Code'), 5012);
    assert.equal(getValue(crash.avps, 'Error-Message'), 'request handler failed', 'internal error text is not leaked');
    const thrown = await answerRequest(lir, ctx({ handler: () => { throw new DiameterAvpError('bad value', 5004); } }));
    assert.equal(getValue(thrown.avps, 'Result-Code'), 5004);
  });
});

function encodeGroup(avps: ReturnType<typeof rawAvp>[]): Uint8Array {
  const parts = avps.map((a) => {
    const hdr = a.flags & 0x80 ? 12 : 8;
    const b = Buffer.alloc((hdr + a.data.length + 3) & ~3);
    b.writeUInt32BE(a.code, 0);
    b.writeUInt8(a.flags, 4);
    b.writeUIntBE(hdr + a.data.length, 5, 3);
    if (hdr === 12) b.writeUInt32BE(a.vendorId, 8);
    Buffer.from(a.data).copy(b, hdr);
    return b;
  });
  return new Uint8Array(Buffer.concat(parts));
}
