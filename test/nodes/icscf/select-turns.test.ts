/**
 * S-CSCF selection among equals (src/nodes/icscf/select.ts step 5): when the HSS's
 * Server-Capabilities (TS 29.228 §6.7, TS 29.229 §6.3.4) leave several S-CSCFs tied for first
 * place, successive first registrations take turns over them (TS 24.229 §5.3.1.2: the I-CSCF
 * selects a suitable S-CSCF), so a network of several S-CSCFs shares its load; a better-ranked
 * S-CSCF still always comes first, and the tried ones stay out.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rankScscfs } from '../../../src/nodes/icscf/select.js';

const known = [{ uri: 'sip:s1.ims.lab:6060' }, { uri: 'sip:s2.ims.lab:6060', capabilities: [7] }, { uri: 'sip:s3.ims.lab:6060' }];

describe('TS 24.229 §5.3.1.2 S-CSCF selection: equal S-CSCFs take turns', () => {
  test('[R-REG-1] with no capability asked, the three take turns; the order after the first is kept', () => {
    const firsts = [0, 1, 2, 3, 4, 5].map((turn) => rankScscfs(known, undefined, [], turn)[0]);
    assert.deepEqual(firsts, ['sip:s1.ims.lab:6060', 'sip:s2.ims.lab:6060', 'sip:s3.ims.lab:6060', 'sip:s1.ims.lab:6060', 'sip:s2.ims.lab:6060', 'sip:s3.ims.lab:6060']);
    assert.deepEqual(rankScscfs(known, undefined, [], 1), ['sip:s2.ims.lab:6060', 'sip:s3.ims.lab:6060', 'sip:s1.ims.lab:6060']);
  });

  test('[R-REG-1] an S-CSCF with more optional capabilities is always first; the others keep the configured order', () => {
    for (const turn of [0, 1, 2, 7]) assert.equal(rankScscfs(known, { mandatory: [], optional: [7], serverNames: [] }, [], turn)[0], 'sip:s2.ims.lab:6060');
    assert.deepEqual(rankScscfs(known, { mandatory: [], optional: [7], serverNames: [] }, [], 1), ['sip:s2.ims.lab:6060', 'sip:s1.ims.lab:6060', 'sip:s3.ims.lab:6060']);
  });

  test('[R-REG-1] a tried S-CSCF is left out whatever the turn (TS 24.229 §5.3.1.3 re-selection)', () => {
    for (const turn of [0, 1, 2]) assert.ok(!rankScscfs(known, undefined, ['sip:s2.ims.lab:6060'], turn).includes('sip:s2.ims.lab:6060'));
    assert.deepEqual(rankScscfs(known, undefined, ['sip:s1.ims.lab:6060'], 1), ['sip:s3.ims.lab:6060', 'sip:s2.ims.lab:6060']);
  });
});
