/**
 * UAR/UAA (TS 29.228 §6.1.1.1) and LIR/LIA (§6.1.4.1) at the HSS: identity checks, barring,
 * roaming, first/subsequent registration with Server-Capabilities or Server-Name, de-registration
 * queries, and where a terminating request goes. Results are asserted in their namespace:
 * `5003` is the base DIAMETER_AUTHORIZATION_REJECTED, `5003/10415` the 3GPP
 * DIAMETER_ERROR_IDENTITY_NOT_REGISTERED.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLia, parseUaa, UserAuthorizationType } from '../../../src/diameter/index.js';
import { alice, CAPABILITIES, lir, makeCore, mar, memoryStore, REALM, resultOf, sar, sat, SCSCF, SCSCF2, uar } from './support.js';

const IMPI = `alice@${REALM}`;
const IMPU = `sip:alice@${REALM}`;
const TEL = 'tel:+15551000';
const WORK = `sip:alice-work@${REALM}`;
const IFC_UNREG = '<InitialFilterCriteria><Priority>0</Priority><ApplicationServer><ServerName>sip:vm.ims.lab</ServerName></ApplicationServer><ProfilePartIndicator>1</ProfilePartIndicator></InitialFilterCriteria>';

async function setup(extra: Parameters<typeof alice>[1] = {}, coreExtra: Parameters<typeof makeCore>[1] = {}) {
  const store = memoryStore();
  await store.createSubscriber(alice('', extra));
  await store.createSubscriber(alice(2));
  return { store, core: makeCore(store, coreExtra) };
}

describe('TS 29.228 §6.1.1.1 UAR', () => {
  test('[R-REG-1] unknown identities → DIAMETER_ERROR_USER_UNKNOWN; IMPU of another IMPI → DIAMETER_ERROR_IDENTITIES_DONT_MATCH', async () => {
    const { core } = await setup();
    assert.equal(resultOf(await core.handle(uar({ impi: IMPI, impu: 'sip:ghost@ims.lab' }))), '5001/10415');
    assert.equal(resultOf(await core.handle(uar({ impi: 'ghost@ims.lab', impu: IMPU }))), '5001/10415');
    assert.equal(resultOf(await core.handle(uar({ impi: IMPI, impu: 'sip:alice2@ims.lab' }))), '5002/10415');
  });

  test('[R-REG-1] a barred identity may not register: base Result-Code DIAMETER_AUTHORIZATION_REJECTED', async () => {
    const base = alice();
    const { core } = await setup({ impus: base.impus.map((u) => (u.impu === TEL ? { ...u, barred: true } : u)) });
    assert.equal(resultOf(await core.handle(uar({ impi: IMPI, impu: TEL }))), '5003');
    assert.equal(resultOf(await core.handle(uar({ impi: IMPI, impu: IMPU }))), '2001/10415', 'the non-barred IMPU of the same set may');
    assert.equal(resultOf(await core.handle(uar({ impi: IMPI, impu: TEL, type: UserAuthorizationType.DE_REGISTRATION }))), '5003/10415', 'de-registration is not refused for barring');
  });

  test('[R-REG-1] a Visited-Network-Identifier outside the configured list → DIAMETER_ERROR_ROAMING_NOT_ALLOWED', async () => {
    const { core } = await setup({}, { visitedNetworks: [REALM, 'visited.example.net'] });
    assert.equal(resultOf(await core.handle(uar({ impi: IMPI, impu: IMPU, visited: 'visited.example.net' }))), '2001/10415');
    assert.equal(resultOf(await core.handle(uar({ impi: IMPI, impu: IMPU, visited: 'elsewhere.example.org' }))), '5004/10415');
  });

  test('[R-REG-1] first registration: DIAMETER_FIRST_REGISTRATION with Server-Capabilities; once MAR picked an S-CSCF, its Server-Name', async () => {
    const { core } = await setup();
    const first = parseUaa(await core.handle(uar({ impi: IMPI, impu: IMPU })));
    assert.deepEqual([first.result.code, first.result.vendorId], [2001, 10415]);
    assert.deepEqual(first.serverCapabilities, CAPABILITIES);
    assert.equal(first.serverName, undefined);
    await core.handle(mar({ impi: IMPI, impu: IMPU }));
    const pending = parseUaa(await core.handle(uar({ impi: IMPI, impu: TEL })));
    assert.deepEqual([pending.result.code, pending.result.vendorId, pending.serverName, pending.serverCapabilities], [2001, 10415, SCSCF, undefined]);
  });

  test('[R-REG-1] registered: DIAMETER_SUBSEQUENT_REGISTRATION with the Server-Name; another set of the same user goes to the same S-CSCF', async () => {
    const { core } = await setup();
    await core.handle(mar({ impi: IMPI, impu: IMPU }));
    await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.REGISTRATION }));
    const sub = parseUaa(await core.handle(uar({ impi: IMPI, impu: IMPU })));
    assert.deepEqual([sub.result.code, sub.result.vendorId, sub.serverName], [2002, 10415, SCSCF]);
    const other = parseUaa(await core.handle(uar({ impi: IMPI, impu: WORK })));
    assert.deepEqual([other.result.code, other.result.vendorId, other.serverName], [2002, 10415, SCSCF]);
    const recap = parseUaa(await core.handle(uar({ impi: IMPI, impu: IMPU, type: UserAuthorizationType.REGISTRATION_AND_CAPABILITIES })));
    assert.deepEqual([recap.result.code, recap.result.vendorId, recap.serverName], [2001, 10415, undefined], 'REGISTRATION_AND_CAPABILITIES: reselect');
    assert.deepEqual(recap.serverCapabilities, CAPABILITIES);
  });

  test('[R-REG-1] DE_REGISTRATION: not registered → DIAMETER_ERROR_IDENTITY_NOT_REGISTERED; registered → DIAMETER_SUCCESS with Server-Name', async () => {
    const { core } = await setup();
    assert.equal(resultOf(await core.handle(uar({ impi: IMPI, impu: IMPU, type: UserAuthorizationType.DE_REGISTRATION }))), '5003/10415');
    await core.handle(mar({ impi: IMPI, impu: IMPU }));
    assert.equal(resultOf(await core.handle(uar({ impi: IMPI, impu: IMPU, type: UserAuthorizationType.DE_REGISTRATION }))), '5003/10415', 'authentication pending is not registered');
    await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.REGISTRATION }));
    const d = parseUaa(await core.handle(uar({ impi: IMPI, impu: TEL, type: UserAuthorizationType.DE_REGISTRATION })));
    assert.deepEqual([d.result.code, d.result.vendorId, d.serverName], [2001, undefined, SCSCF]);
    assert.equal(core.counters.uar, 3);
    assert.equal(core.counters.results['UAA 2001'], 1);
  });
});

describe('TS 29.228 §6.1.4.1 LIR', () => {
  test('[R-CX-2] unknown → DIAMETER_ERROR_USER_UNKNOWN; not registered → DIAMETER_ERROR_IDENTITY_NOT_REGISTERED; registered → Server-Name', async () => {
    const { core } = await setup();
    assert.equal(resultOf(await core.handle(lir('sip:ghost@ims.lab'))), '5001/10415');
    assert.equal(resultOf(await core.handle(lir(IMPU))), '5003/10415');
    await core.handle(mar({ impi: IMPI, impu: IMPU }));
    assert.equal(resultOf(await core.handle(lir(IMPU))), '5003/10415', 'authentication pending is not registered');
    await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.REGISTRATION }));
    const a = parseLia(await core.handle(lir(TEL)));
    assert.deepEqual([a.result.code, a.result.vendorId, a.serverName], [2001, undefined, SCSCF]);
  });

  test('[R-CX-2] unregistered with an S-CSCF keeping the profile → DIAMETER_UNREGISTERED_SERVICE with its name', async () => {
    const { core } = await setup();
    await core.handle(sar({ impi: IMPI, impus: [IMPU], type: sat.UNREGISTERED_USER, serverName: SCSCF2, originHost: 'scscf2.ims.lab' }));
    const a = parseLia(await core.handle(lir(IMPU)));
    assert.deepEqual([a.result.code, a.result.vendorId, a.serverName], [2003, 10415, SCSCF2]);
  });

  test('[R-CX-2] not registered but with services for the unregistered state → DIAMETER_UNREGISTERED_SERVICE with Server-Capabilities', async () => {
    const { core } = await setup({ serviceProfile: `<IMSSubscription><PrivateID>x</PrivateID><ServiceProfile><PublicIdentity><Identity>sip:x</Identity></PublicIdentity>${IFC_UNREG}</ServiceProfile></IMSSubscription>` });
    const a = parseLia(await core.handle(lir(IMPU)));
    assert.deepEqual([a.result.code, a.result.vendorId, a.serverName], [2003, 10415, undefined]);
    assert.deepEqual(a.serverCapabilities, CAPABILITIES);
    assert.equal(resultOf(await core.handle(lir('sip:alice2@ims.lab'))), '5003/10415', 'a user without such services is not registered');
  });
});
