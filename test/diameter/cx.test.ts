/**
 * Cx commands, TS 29.229 §6.1 (CCFs), §6.2 (result codes), §6.3 (AVPs); TS 29.228 §6.3 for the
 * IMS AKA contents of SIP-Auth-Data-Item. Expected bytes come from the independent builder in
 * support/wire.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AVPS,
  CX_APPLICATION_ID,
  CxCommand,
  CxExperimentalResultCode,
  CxResult,
  DiameterAvpError,
  ReasonCode,
  ResultCode,
  ServerAssignmentType,
  SipAuthScheme,
  UserAuthorizationType,
  UserDataAlreadyAvailable,
  akaAuthDataItem,
  akaResyncItem,
  akaVectorOf,
  buildLia,
  buildLir,
  buildMaa,
  buildMar,
  buildPpa,
  buildPpr,
  buildRta,
  buildRtr,
  buildSaa,
  buildSar,
  buildUaa,
  buildUar,
  decodeMessage,
  encodeMessage,
  findAvp,
  getValue,
  parseLia,
  parseLir,
  parseMaa,
  parseMar,
  parsePpa,
  parsePpr,
  parseRta,
  parseRtr,
  parseSaa,
  parseSar,
  parseUaa,
  parseUar,
  rawAvp,
  resyncInfoOf,
  type DiameterMessage,
} from '../../src/diameter/index.js';
import { M, hex, u32, wAvp, wMsg } from './support/wire.js';

const T = 10415;
const wire = (m: DiameterMessage): DiameterMessage => decodeMessage(encodeMessage(m));
const head = { sessionId: 'scscf.ims.lab;1700000000;7', originHost: 'scscf.ims.lab', originRealm: 'ims.lab', destinationRealm: 'ims.lab' };
const hssId = { originHost: 'hss.ims.lab', originRealm: 'ims.lab' };
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

// TS 35.208 Test Set 1 values (RAND, AUTN-shaped, XRES/RES, CK, IK): only their sizes and places matter here.
const RAND = bytes('23553cbe9637a89d218ae64dae47bf35');
const AUTN = bytes('55f328b43577b9b94a9ffac354dfafb3');
const XRES = bytes('a54211d5e3ba50bf');
const CK = bytes('b40ba9a3c58b2a05bbf0d987b21bf8cb');
const IK = bytes('f769bcd751044604127672711c6d3441');
const AUTS = bytes('0102030405060708090a0b0c0d0e');

describe('TS 29.229 §6.1.7 Multimedia-Auth-Request', () => {
  test('[R-CX-2] MAR bytes match the CCF built independently (flags, vendor, order)', () => {
    const mar = buildMar(
      { ...head, userName: 'alice@ims.lab', publicIdentity: 'sip:alice@ims.lab', sipAuthDataItem: { scheme: 'Digest-AKAv1-MD5' }, sipNumberAuthItems: 2, serverName: 'sip:scscf.ims.lab:6060' },
      { hopByHop: 0x11, endToEnd: 0x22 },
    );
    const expected = wMsg(0xc0, 303, 16777216, 0x11, 0x22, [
      wAvp(263, M, head.sessionId),
      wAvp(260, M, Buffer.concat([wAvp(266, M, u32(T)), wAvp(258, M, u32(16777216))])),
      wAvp(277, M, u32(1)),
      wAvp(264, M, 'scscf.ims.lab'),
      wAvp(296, M, 'ims.lab'),
      wAvp(283, M, 'ims.lab'),
      wAvp(1, M, 'alice@ims.lab'),
      wAvp(601, M, 'sip:alice@ims.lab', T),
      wAvp(612, M, wAvp(608, M, 'Digest-AKAv1-MD5', T), T),
      wAvp(607, M, u32(2), T),
      wAvp(602, M, 'sip:scscf.ims.lab:6060', T),
    ]);
    assert.equal(hex(encodeMessage(mar)), hex(expected));
    assert.deepEqual(parseMar(decodeMessage(expected)), {
      ...head,
      userName: 'alice@ims.lab',
      publicIdentity: 'sip:alice@ims.lab',
      sipAuthDataItem: { scheme: 'Digest-AKAv1-MD5' },
      sipNumberAuthItems: 2,
      serverName: 'sip:scscf.ims.lab:6060',
    });
  });

  test('[R-CX-2] resync MAR carries RAND‖AUTS (16+14 bytes) in SIP-Authorization (TS 29.228 §6.3.1)', () => {
    const mar = wire(
      buildMar({ ...head, userName: 'alice@ims.lab', publicIdentity: 'sip:alice@ims.lab', sipAuthDataItem: akaResyncItem(RAND, AUTS), sipNumberAuthItems: 1, serverName: 'sip:scscf.ims.lab' }),
    );
    const item = findAvp(mar.avps, 'SIP-Auth-Data-Item');
    assert.ok(item);
    const inner = getValue(mar.avps, 'SIP-Auth-Data-Item') ?? [];
    assert.equal(hex(getValue(inner, 'SIP-Authorization') ?? new Uint8Array()), hex(RAND) + hex(AUTS));
    const r = resyncInfoOf(parseMar(mar).sipAuthDataItem);
    assert.ok(r);
    assert.equal(hex(r.rand), hex(RAND));
    assert.equal(hex(r.auts), hex(AUTS));
    assert.equal(resyncInfoOf({ scheme: 'Digest-AKAv1-MD5' }), undefined);
  });
});

describe('TS 29.229 §6.1.8 Multimedia-Auth-Answer', () => {
  test('[R-CX-2] MAA puts RAND‖AUTN, XRES, CK, IK into SIP-Authenticate, SIP-Authorization, Confidentiality-Key, Integrity-Key', () => {
    const req = wire(buildMar({ ...head, userName: 'alice@ims.lab', publicIdentity: 'sip:alice@ims.lab', sipAuthDataItem: { scheme: SipAuthScheme.UNKNOWN }, sipNumberAuthItems: 2, serverName: 's' }, { hopByHop: 5, endToEnd: 6 }));
    const vectors = [0, 1].map((i) => ({ rand: RAND.map((b) => b ^ i), autn: AUTN, xres: XRES, ck: CK, ik: IK }));
    const maa = wire(
      buildMaa(req, { ...hssId, result: CxResult.SUCCESS, userName: 'alice@ims.lab', publicIdentity: 'sip:alice@ims.lab', sipNumberAuthItems: 2, sipAuthDataItems: vectors.map((v, i) => akaAuthDataItem(v, { itemNumber: i + 1 })) }),
    );
    assert.equal(maa.hopByHop, 5);
    assert.equal(maa.endToEnd, 6);
    assert.equal(maa.flags & 0x80, 0);
    const itemBytes = encodeMessage(maa);
    const firstItem = wAvp(
      612,
      M,
      Buffer.concat([
        wAvp(613, M, u32(1), T),
        wAvp(608, M, 'Digest-AKAv1-MD5', T),
        wAvp(609, M, Buffer.concat([RAND, AUTN]), T),
        wAvp(610, M, Buffer.from(XRES), T),
        wAvp(625, M, Buffer.from(CK), T),
        wAvp(626, M, Buffer.from(IK), T),
      ]),
      T,
    );
    assert.ok(hex(itemBytes).includes(hex(firstItem)), 'first SIP-Auth-Data-Item laid out per TS 29.229 §6.3.13');
    const p = parseMaa(maa);
    assert.deepEqual(p.result, { code: 2001 });
    assert.equal(p.sessionId, head.sessionId);
    assert.equal(p.sipAuthDataItems.length, 2);
    const v1 = akaVectorOf(p.sipAuthDataItems[1]);
    assert.deepEqual([hex(v1.rand), hex(v1.autn), hex(v1.xres), hex(v1.ck), hex(v1.ik)], [hex(vectors[1].rand), hex(AUTN), hex(XRES), hex(CK), hex(IK)]);
    assert.throws(() => akaVectorOf({ scheme: 'x', authenticate: RAND }), (e: unknown) => e instanceof DiameterAvpError && e.resultCode === 5005);
  });
});

describe('TS 29.229 §6.2 results: two namespaces', () => {
  test('[R-CX-2] 3GPP codes travel in Experimental-Result {Vendor-Id 10415}; base codes in Result-Code', () => {
    const req = wire(buildLir({ ...head, publicIdentity: 'sip:bob@ims.lab' }));
    const a = encodeMessage(buildLia(req, { ...hssId, result: CxResult.ERROR_IDENTITY_NOT_REGISTERED }));
    assert.ok(hex(a).includes(hex(wAvp(297, M, Buffer.concat([wAvp(266, M, u32(T)), wAvp(298, M, u32(5003))])))));
    assert.equal(findAvp(decodeMessage(a).avps, 'Result-Code'), undefined);
    const b = encodeMessage(buildLia(req, { ...hssId, result: CxResult.AUTHORIZATION_REJECTED }));
    assert.ok(hex(b).includes(hex(wAvp(268, M, u32(5003)))));
    assert.deepEqual(parseLia(decodeMessage(a)).result, { vendorId: 10415, code: 5003 });
    assert.deepEqual(parseLia(decodeMessage(b)).result, { code: 5003 });
  });

  test('Cx result code values per TS 29.229 §6.2.1/§6.2.2 and RFC 6733 §7.1', () => {
    assert.deepEqual(
      { ...CxExperimentalResultCode },
      {
        DIAMETER_FIRST_REGISTRATION: 2001,
        DIAMETER_SUBSEQUENT_REGISTRATION: 2002,
        DIAMETER_UNREGISTERED_SERVICE: 2003,
        DIAMETER_SUCCESS_SERVER_NAME_NOT_STORED: 2004,
        DIAMETER_ERROR_USER_UNKNOWN: 5001,
        DIAMETER_ERROR_IDENTITIES_DONT_MATCH: 5002,
        DIAMETER_ERROR_IDENTITY_NOT_REGISTERED: 5003,
        DIAMETER_ERROR_ROAMING_NOT_ALLOWED: 5004,
        DIAMETER_ERROR_IDENTITY_ALREADY_REGISTERED: 5005,
        DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED: 5006,
        DIAMETER_ERROR_IN_ASSIGNMENT_TYPE: 5007,
        DIAMETER_ERROR_TOO_MUCH_DATA: 5008,
        DIAMETER_ERROR_NOT_SUPPORTED_USER_DATA: 5009,
        DIAMETER_ERROR_FEATURE_UNSUPPORTED: 5011,
        DIAMETER_ERROR_SERVING_NODE_FEATURE_UNSUPPORTED: 5012,
      },
    );
    assert.equal(ResultCode.DIAMETER_AUTHORIZATION_REJECTED, 5003);
    assert.equal(ResultCode.DIAMETER_AVP_UNSUPPORTED, 5001);
    assert.equal(ResultCode.DIAMETER_UNKNOWN_PEER, 3010);
    assert.equal(ServerAssignmentType.RESTORATION, 14);
    assert.equal(ServerAssignmentType.AAA_USER_DATA_REQUEST, 12);
    assert.equal(UserAuthorizationType.REGISTRATION_AND_CAPABILITIES, 2);
    assert.equal(ReasonCode.REMOVE_S_CSCF, 3);
    assert.equal(UserDataAlreadyAvailable.USER_DATA_ALREADY_AVAILABLE, 1);
  });
});

describe('TS 29.229 §6.1 every command round-trips through bytes', () => {
  const checkHeader = (m: DiameterMessage, code: number, request: boolean): void => {
    assert.equal(m.commandCode, code);
    assert.equal(m.applicationId, CX_APPLICATION_ID);
    assert.equal((m.flags & 0x80) !== 0, request, 'R bit');
    assert.equal(m.flags & 0x40, 0x40, 'P bit (PXY in the CCF)');
    assert.equal(getValue(m.avps, 'Auth-Session-State'), 1, 'NO_STATE_MAINTAINED');
    const vsai = getValue(m.avps, 'Vendor-Specific-Application-Id') ?? [];
    assert.deepEqual([getValue(vsai, 'Vendor-Id'), getValue(vsai, 'Auth-Application-Id')], [10415, 16777216]);
  };

  test('[R-CX-2] UAR/UAA (§6.1.1, §6.1.2)', () => {
    const uar = { ...head, userName: 'alice@ims.lab', publicIdentity: 'sip:alice@ims.lab', visitedNetworkIdentifier: new TextEncoder().encode('ims.lab'), userAuthorizationType: UserAuthorizationType.REGISTRATION };
    const req = wire(buildUar(uar));
    checkHeader(req, CxCommand.USER_AUTHORIZATION, true);
    assert.deepEqual(parseUar(req), uar);
    const uaa = { ...hssId, result: CxResult.FIRST_REGISTRATION, serverCapabilities: { mandatory: [1, 2], optional: [3], serverNames: ['sip:scscf1.ims.lab'] } };
    const ans = wire(buildUaa(req, uaa));
    checkHeader(ans, CxCommand.USER_AUTHORIZATION, false);
    assert.deepEqual(parseUaa(ans), { ...uaa, sessionId: head.sessionId });
  });

  test('[R-CX-2] SAR/SAA (§6.1.3, §6.1.4)', () => {
    const sar = {
      ...head,
      userName: 'alice@ims.lab',
      publicIdentities: ['sip:alice@ims.lab', 'tel:+15551234'],
      serverName: 'sip:scscf.ims.lab',
      serverAssignmentType: ServerAssignmentType.REGISTRATION,
      userDataAlreadyAvailable: UserDataAlreadyAvailable.USER_DATA_NOT_AVAILABLE,
      supportedFeatures: [{ vendorId: 10415, featureListId: 1, featureList: 3 }],
    };
    const req = wire(buildSar(sar));
    checkHeader(req, CxCommand.SERVER_ASSIGNMENT, true);
    assert.deepEqual(parseSar(req), sar);
    const saa = {
      ...hssId,
      result: CxResult.SUCCESS,
      userName: 'alice@ims.lab',
      userData: new TextEncoder().encode('<IMSSubscription/>'),
      chargingInformation: { primaryEventChargingFunctionName: 'aaa://ecf.ims.lab' },
      associatedIdentities: ['alice2@ims.lab'],
    };
    const ans = wire(buildSaa(req, saa));
    checkHeader(ans, CxCommand.SERVER_ASSIGNMENT, false);
    const p = parseSaa(ans);
    assert.deepEqual({ ...p, userData: hex(p.userData as Uint8Array) }, { ...saa, sessionId: head.sessionId, userData: hex(saa.userData) });
  });

  test('[R-CX-2] LIR/LIA (§6.1.5, §6.1.6)', () => {
    const lir = { ...head, publicIdentity: 'sip:bob@ims.lab', originatingRequest: 0 };
    const req = wire(buildLir(lir));
    checkHeader(req, CxCommand.LOCATION_INFO, true);
    assert.deepEqual(parseLir(req), lir);
    const lia = { ...hssId, result: CxResult.SUCCESS, serverName: 'sip:scscf.ims.lab' };
    assert.deepEqual(parseLia(wire(buildLia(req, lia))), { ...lia, sessionId: head.sessionId });
  });

  test('[R-CX-2] RTR/RTA (§6.1.9, §6.1.10): Destination-Host is required', () => {
    const rtr = {
      ...hssId,
      sessionId: 'hss.ims.lab;1;1',
      destinationHost: 'scscf.ims.lab',
      destinationRealm: 'ims.lab',
      userName: 'alice@ims.lab',
      publicIdentities: ['sip:alice@ims.lab'],
      deregistrationReason: { code: ReasonCode.PERMANENT_TERMINATION, info: 'subscription ended' },
    };
    const req = wire(buildRtr(rtr));
    checkHeader(req, CxCommand.REGISTRATION_TERMINATION, true);
    assert.deepEqual(parseRtr(req), rtr);
    const rta = { originHost: 'scscf.ims.lab', originRealm: 'ims.lab', result: CxResult.SUCCESS };
    assert.deepEqual(parseRta(wire(buildRta(req, rta))), { ...rta, sessionId: rtr.sessionId });
    const noHost = { ...rtr } as Partial<typeof rtr>;
    delete noHost.destinationHost;
    assert.throws(() => buildRtr(noHost as typeof rtr), (e: unknown) => e instanceof DiameterAvpError && e.resultCode === 5005);
  });

  test('[R-CX-2] PPR/PPA (§6.1.11, §6.1.12)', () => {
    const ppr = { ...hssId, sessionId: 'hss.ims.lab;1;2', destinationHost: 'scscf.ims.lab', destinationRealm: 'ims.lab', userName: 'alice@ims.lab', chargingInformation: { primaryChargingCollectionFunctionName: 'aaa://ccf.ims.lab' } };
    const req = wire(buildPpr(ppr));
    checkHeader(req, CxCommand.PUSH_PROFILE, true);
    assert.deepEqual(parsePpr(req), ppr);
    const ppa = { originHost: 'scscf.ims.lab', originRealm: 'ims.lab', result: CxResult.ERROR_NOT_SUPPORTED_USER_DATA };
    assert.deepEqual(parsePpa(wire(buildPpa(req, ppa))), { ...ppa, sessionId: ppr.sessionId });
  });
});

describe('TS 29.229 §6.1 *[ AVP ] and errors', () => {
  test('[R-CX-2] unknown AVPs are kept in extraAvps and re-encoded', () => {
    const odd = rawAvp(9000, new Uint8Array([9, 8, 7]), { vendorId: 99 });
    const req = wire(buildLir({ ...head, publicIdentity: 'sip:bob@ims.lab', extraAvps: [odd] }));
    const p = parseLir(req);
    assert.equal(p.extraAvps?.length, 1);
    assert.deepEqual([p.extraAvps?.[0].code, p.extraAvps?.[0].vendorId, hex(p.extraAvps?.[0].data ?? new Uint8Array())], [9000, 99, '090807']);
    assert.equal(hex(encodeMessage(buildLir(p))), hex(encodeMessage({ ...req, hopByHop: 0, endToEnd: 0 })));
  });

  test('a missing {AVP} is DIAMETER_MISSING_AVP (5005) with a Failed-AVP example carrying the Vendor-Id', () => {
    const req = wire(buildLir({ ...head, publicIdentity: 'sip:bob@ims.lab' }));
    const stripped = { ...req, avps: req.avps.filter((a) => a.code !== 601) };
    assert.throws(
      () => parseLir(stripped),
      (e: unknown) => e instanceof DiameterAvpError && e.code === 'DIAMETER_AVP' && e.resultCode === 5005 && e.avp?.code === 601 && e.avp.vendorId === 10415 && (e.avp.flags & 0xc0) === 0xc0,
    );
  });

  test('parsing the wrong command is DIAMETER_COMMAND_UNSUPPORTED (3001)', () => {
    const req = wire(buildLir({ ...head, publicIdentity: 'sip:bob@ims.lab' }));
    assert.throws(() => parseMar(req), (e: unknown) => e instanceof DiameterAvpError && e.resultCode === 3001);
    assert.throws(() => parseLia(req), (e: unknown) => e instanceof DiameterAvpError && e.resultCode === 3001);
  });

  test('TS 29.229 Table 6.3.1 flags: 600–626 and 633 set M and V; 628–632 and 634+ set V only', () => {
    for (const [name, s] of Object.entries(AVPS)) {
      if ((s as { vendorId?: number }).vendorId !== 10415) continue;
      const c = s.code;
      const mustM = (c >= 600 && c <= 626) || c === 633;
      assert.equal(s.m, mustM, `${name} (${c})`);
    }
  });
});
