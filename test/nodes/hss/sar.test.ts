/**
 * SAR/SAA at the HSS (TS 29.228 §6.1.2.1): every Server-Assignment-Type, the User-Data it returns
 * (TS 29.228 Annex E: the whole implicit registration set, R-REG-2), and the failed or timed-out
 * authentication that puts the registration back where it was (R-AKA-7, R-AKA-8).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSaa } from '../../../src/diameter/index.js';
import type { HssStore } from '../../../src/store/index.js';
import { alice, makeCore, mar, memoryStore, REALM, resultOf, sar, sat, SCSCF, SCSCF2, xmlTexts } from './support.js';

const IMPI = `alice@${REALM}`;
const IMPU = `sip:alice@${REALM}`;
const TEL = 'tel:+15551000';
const WORK = `sip:alice-work@${REALM}`;
const IFC = '<InitialFilterCriteria><Priority>10</Priority><TriggerPoint><ConditionTypeCNF>0</ConditionTypeCNF><SPT><ConditionNegated>0</ConditionNegated><Group>0</Group><Method>INVITE</Method></SPT></TriggerPoint><ApplicationServer><ServerName>sip:as.ims.lab</ServerName><DefaultHandling>0</DefaultHandling></ApplicationServer></InitialFilterCriteria>';

async function setup(extra: Parameters<typeof alice>[1] = {}) {
  const store = memoryStore();
  await store.createSubscriber(alice('', extra));
  await store.createSubscriber(alice(2));
  return { store, core: makeCore(store) };
}

async function states(store: HssStore, ...impus: string[]): Promise<[string, string | null][]> {
  const out: [string, string | null][] = [];
  for (const u of impus) {
    const p = (await store.getPublicIdentity(u))!;
    out.push([p.state, p.scscfName]);
  }
  return out;
}

const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

describe('TS 29.228 §6.1.2.1 SAR: registration and the user profile', () => {
  test('[R-REG-2] REGISTRATION registers the whole implicit set and returns User-Data listing every IMPU of it with the stored profile', async () => {
    const profile = `<?xml version="1.0"?><IMSSubscription><PrivateID>${IMPI}</PrivateID><ServiceProfile><PublicIdentity><Identity>${IMPU}</Identity></PublicIdentity>${IFC}</ServiceProfile></IMSSubscription>`;
    const base = alice();
    const { core, store } = await setup({ serviceProfile: profile, impus: base.impus.map((u) => (u.impu === TEL ? { ...u, barred: true } : u)) });
    await core.handle(mar({ impi: IMPI, impu: IMPU }));
    const saa = parseSaa(await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.REGISTRATION })));
    assert.equal(saa.result.code, 2001);
    assert.equal(saa.userName, IMPI);
    const xml = text(saa.userData);
    assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?><IMSSubscription>/);
    assert.deepEqual(xmlTexts(xml, 'PrivateID'), [IMPI]);
    assert.deepEqual(xmlTexts(xml, 'Identity'), [IMPU, TEL], 'the implicit set, in order, and not the other set');
    assert.deepEqual(xmlTexts(xml, 'BarringIndication'), ['0', '1']);
    assert.equal(xml.match(/<ServiceProfile>/g)?.length, 1);
    assert.ok(xml.includes(IFC), 'the stored initial filter criteria are in the ServiceProfile');
    assert.ok(xml.indexOf('</PublicIdentity>' + IFC) > 0, 'iFC after the public identities (Annex E order)');
    assert.deepEqual(await states(store, IMPU, TEL, WORK), [['REGISTERED', SCSCF], ['REGISTERED', SCSCF], ['NOT_REGISTERED', null]]);
  });

  test('[R-REG-2] a fragment profile is placed inside the ServiceProfile; a set profile wins over the subscriber one; no User-Data when already available', async () => {
    const { core } = await setup({ serviceProfile: '<CoreNetworkServicesAuthorization><SubscribedMediaProfileId>1</SubscribedMediaProfileId></CoreNetworkServicesAuthorization>', implicitSets: [{ irs: 2, serviceProfile: IFC }] });
    const one = text(parseSaa(await core.handle(sar({ impi: IMPI, impus: [TEL], type: sat.REGISTRATION }))).userData);
    assert.deepEqual(xmlTexts(one, 'Identity'), [IMPU, TEL]);
    assert.ok(one.includes('<SubscribedMediaProfileId>1</SubscribedMediaProfileId></CoreNetworkServicesAuthorization></ServiceProfile>'));
    const two = text(parseSaa(await core.handle(sar({ impi: IMPI, impus: [WORK], type: sat.REGISTRATION }))).userData);
    assert.deepEqual(xmlTexts(two, 'Identity'), [WORK]);
    assert.ok(two.includes(IFC) && !two.includes('CoreNetworkServicesAuthorization'));
    const again = parseSaa(await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.RE_REGISTRATION, dataAvailable: true })));
    assert.equal(again.result.code, 2001);
    assert.equal(again.userData, undefined);
  });

  test('[R-REG-1] RE_REGISTRATION keeps the set registered at the S-CSCF', async () => {
    const { core, store } = await setup();
    await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.REGISTRATION }));
    assert.equal(resultOf(await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.RE_REGISTRATION }))), '2001');
    assert.deepEqual(await states(store, IMPU, TEL), [['REGISTERED', SCSCF], ['REGISTERED', SCSCF]]);
  });

  test('[R-CX-2] identity checks: unknown IMPU → 5001, IMPU of another IMPI → 5002, neither IMPU nor IMPI → DIAMETER_MISSING_AVP', async () => {
    const { core } = await setup();
    assert.equal(resultOf(await core.handle(sar({ impi: IMPI, impus: ['sip:ghost@ims.lab'], type: sat.REGISTRATION }))), '5001/10415');
    assert.equal(resultOf(await core.handle(sar({ impi: IMPI, impus: ['sip:alice2@ims.lab'], type: sat.REGISTRATION }))), '5002/10415');
    assert.equal(resultOf(await core.handle(sar({ impus: [], type: sat.REGISTRATION }))), '5005');
    assert.equal(resultOf(await core.handle(sar({ impus: [IMPU], type: sat.NO_ASSIGNMENT }))), '5012', 'no S-CSCF assigned yet');
  });
});

describe('TS 29.228 §6.1.2.1 SAR: failed and timed-out authentication', () => {
  test('[R-AKA-8] AUTHENTICATION_FAILURE after a first MAR returns the set to NOT_REGISTERED without an S-CSCF name', async () => {
    const { core, store } = await setup();
    await core.handle(mar({ impi: IMPI, impu: IMPU }));
    assert.deepEqual(await states(store, IMPU, TEL), [['PENDING', SCSCF], ['PENDING', SCSCF]]);
    assert.equal(resultOf(await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.AUTHENTICATION_FAILURE }))), '2001');
    assert.deepEqual(await states(store, IMPU, TEL), [['NOT_REGISTERED', null], ['NOT_REGISTERED', null]]);
  });

  test('[R-AKA-7][R-AKA-8] a registered user re-authenticated by its S-CSCF stays registered after AUTHENTICATION_TIMEOUT', async () => {
    const { core, store } = await setup();
    await core.handle(mar({ impi: IMPI, impu: IMPU }));
    await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.REGISTRATION }));
    await core.handle(mar({ impi: IMPI, impu: IMPU }));
    assert.deepEqual(await states(store, IMPU), [['REGISTERED', SCSCF]], 're-authentication does not touch the registration');
    assert.equal(resultOf(await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.AUTHENTICATION_TIMEOUT }))), '2001');
    assert.deepEqual(await states(store, IMPU, TEL), [['REGISTERED', SCSCF], ['REGISTERED', SCSCF]]);
  });

  test('[R-AKA-7][R-AKA-8] registered at S-CSCF A, an attacker-triggered authentication at S-CSCF B that fails puts A back', async () => {
    const { core, store } = await setup();
    await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.REGISTRATION }));
    await core.handle(mar({ impi: IMPI, impu: IMPU, serverName: SCSCF2, originHost: 'scscf2.ims.lab' }));
    assert.deepEqual(await states(store, IMPU), [['PENDING', SCSCF2]]);
    // A failure report from the S-CSCF that is not running this authentication is refused.
    assert.equal(resultOf(await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.AUTHENTICATION_FAILURE }))), '5012');
    assert.deepEqual(await states(store, IMPU), [['PENDING', SCSCF2]]);
    assert.equal(resultOf(await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.AUTHENTICATION_FAILURE, serverName: SCSCF2, originHost: 'scscf2.ims.lab' }))), '2001');
    assert.deepEqual(await states(store, IMPU, TEL), [['REGISTERED', SCSCF], ['REGISTERED', SCSCF]]);
  });
});

describe('TS 29.228 §6.1.2.1 SAR: de-registration, unregistered user, no assignment', () => {
  for (const [name, type] of [
    ['USER_DEREGISTRATION', sat.USER_DEREGISTRATION],
    ['TIMEOUT_DEREGISTRATION', sat.TIMEOUT_DEREGISTRATION],
    ['ADMINISTRATIVE_DEREGISTRATION', sat.ADMINISTRATIVE_DEREGISTRATION],
    ['DEREGISTRATION_TOO_MUCH_DATA', sat.DEREGISTRATION_TOO_MUCH_DATA],
  ] as const) {
    test(`[R-REG-1] ${name} by the serving S-CSCF clears state and name for the set; by another S-CSCF it is refused`, async () => {
      const { core, store } = await setup();
      await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.REGISTRATION }));
      assert.equal(resultOf(await core.handle(sar({ impi: IMPI, impus: [TEL], type, serverName: SCSCF2, originHost: 'scscf2.ims.lab' }))), '5012');
      assert.deepEqual(await states(store, IMPU), [['REGISTERED', SCSCF]]);
      assert.equal(resultOf(await core.handle(sar({ impi: IMPI, impus: [TEL], type }))), '2001');
      assert.deepEqual(await states(store, IMPU, TEL), [['NOT_REGISTERED', null], ['NOT_REGISTERED', null]]);
    });
  }

  for (const [name, type] of [
    ['TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME', sat.TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME],
    ['USER_DEREGISTRATION_STORE_SERVER_NAME', sat.USER_DEREGISTRATION_STORE_SERVER_NAME],
  ] as const) {
    test(`[R-REG-1] ${name}: the HSS keeps the S-CSCF name and the set becomes unregistered`, async () => {
      const { core, store } = await setup();
      await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.REGISTRATION }));
      assert.equal(resultOf(await core.handle(sar({ impi: IMPI, impus: [IMPU], type }))), '2001');
      assert.deepEqual(await states(store, IMPU, TEL), [['UNREGISTERED', SCSCF], ['UNREGISTERED', SCSCF]]);
    });
  }

  test('[R-REG-1] a de-registration naming only the IMPI de-registers every set this S-CSCF serves', async () => {
    const { core, store } = await setup();
    await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.REGISTRATION }));
    await core.handle(sar({ impi: IMPI, impus: [WORK], type: sat.REGISTRATION }));
    assert.equal(resultOf(await core.handle(sar({ impi: IMPI, impus: [], type: sat.USER_DEREGISTRATION }))), '2001');
    assert.deepEqual(await states(store, IMPU, TEL, WORK), [['NOT_REGISTERED', null], ['NOT_REGISTERED', null], ['NOT_REGISTERED', null]]);
  });

  test('[R-CX-2] UNREGISTERED_USER: the S-CSCF gets the profile and keeps it; another S-CSCF then gets DIAMETER_ERROR_IDENTITY_ALREADY_REGISTERED with the first one’s name', async () => {
    const { core, store } = await setup();
    const saa = parseSaa(await core.handle(sar({ impus: [TEL], type: sat.UNREGISTERED_USER })));
    assert.equal(saa.result.code, 2001);
    assert.equal(saa.userName, IMPI, 'the IMPI is returned when only an IMPU was given');
    assert.deepEqual(xmlTexts(text(saa.userData), 'Identity'), [IMPU, TEL]);
    assert.deepEqual(await states(store, IMPU, TEL), [['UNREGISTERED', SCSCF], ['UNREGISTERED', SCSCF]]);
    const other = parseSaa(await core.handle(sar({ impus: [TEL], type: sat.UNREGISTERED_USER, serverName: SCSCF2, originHost: 'scscf2.ims.lab' })));
    assert.deepEqual([other.result.code, other.result.vendorId, other.serverName], [5005, 10415, SCSCF]);
  });

  test('[R-CX-2] NO_ASSIGNMENT: the assigned S-CSCF gets the profile with no state change; another gets DIAMETER_UNABLE_TO_COMPLY', async () => {
    const { core, store } = await setup();
    await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.REGISTRATION }));
    const saa = parseSaa(await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.NO_ASSIGNMENT })));
    assert.equal(saa.result.code, 2001);
    assert.deepEqual(xmlTexts(text(saa.userData), 'Identity'), [IMPU, TEL]);
    assert.equal(resultOf(await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.NO_ASSIGNMENT, serverName: SCSCF2 }))), '5012');
    assert.deepEqual(await states(store, IMPU), [['REGISTERED', SCSCF]]);
  });

  test('[R-CX-2] Server-Assignment-Types the HSS does not serve (AAA_USER_DATA_REQUEST, PGW_UPDATE, RESTORATION) → DIAMETER_ERROR_IN_ASSIGNMENT_TYPE', async () => {
    const { core } = await setup();
    for (const type of [sat.AAA_USER_DATA_REQUEST, sat.PGW_UPDATE, sat.RESTORATION, 99]) {
      assert.equal(resultOf(await core.handle(sar({ impi: IMPI, impus: [IMPU], type }))), '5007/10415');
    }
  });
});
