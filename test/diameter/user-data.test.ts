/** The TS 29.228 Annex E User-Data reader (Cx SAA, PPR). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeImsSubscription, formatImsSubscription } from '../../src/diameter/index.js';
import { buildUserData } from '../../src/nodes/hss/index.js';

describe('TS 29.228 Annex E: User-Data', () => {
  test('reads the HSS\'s own User-Data (independent builder): identities, barring, one ServiceProfile per implicit set', () => {
    const xml = buildUserData('alice@ims.lab', [
      { impus: [{ impu: 'sip:alice@ims.lab', barred: false }, { impu: 'tel:+15550001', barred: true }], serviceProfile: '<InitialFilterCriteria><Priority>0</Priority></InitialFilterCriteria>' },
      { impus: [{ impu: 'sip:alice-work@ims.lab', barred: false }], serviceProfile: null },
    ]);
    const s = decodeImsSubscription(xml);
    assert.equal(s.privateId, 'alice@ims.lab');
    assert.deepEqual(
      s.serviceProfiles.map((p) => p.publicIdentities.map((i) => [i.identity, i.barred])),
      [[['sip:alice@ims.lab', false], ['tel:+15550001', true]], [['sip:alice-work@ims.lab', false]]],
    );
  });

  test('format → decode round trip', () => {
    const v = { privateId: 'a@b', serviceProfiles: [{ publicIdentities: [{ identity: 'sip:a@b', barred: false, identityType: 0, displayName: 'A & B' }, { identity: 'tel:+1', barred: true }] }] };
    assert.deepEqual(decodeImsSubscription(formatImsSubscription(v)), v);
    assert.throws(() => decodeImsSubscription('<Other/>'), { code: 'XML_PARSE' });
  });
});
