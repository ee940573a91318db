/**
 * Cx requests built by another implementation: PyHSS's own test encoder (nickvsnetworking/pyhss
 * tests/test_Diameter.py, ../shared/vectors/real/diameter). Each decodes with imsec's RFC 6733
 * codec, re-encodes to the same bytes, and parses as the TS 29.229 command it is (R-CX-1,
 * R-CX-2). PyHSS names its MAR file "MAA"; the bytes are a request (R flag, command 303).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fromHex, toHex } from '../../src/common/index.js';
import { decodeMessage, encodeMessage, isRequest } from '../../src/diameter/codec/index.js';
import { CX_APPLICATION_ID, parseMar, parseRtr, parseSar, parseUar } from '../../src/diameter/cx/index.js';
import { needShared } from '../support/shared.js';

const CASES: { file: string; command: number; check: (m: ReturnType<typeof decodeMessage>) => void }[] = [
  { file: 'pyhss_test_Diameter_Cx_UAR.hex', command: 300, check: (m) => assert.match(parseUar(m).publicIdentity, /^sip:|^tel:/) },
  { file: 'pyhss_test_Diameter_Cx_SAR.hex', command: 301, check: (m) => assert.ok(parseSar(m).publicIdentities.length > 0) },
  { file: 'pyhss_test_Diameter_Cx_MAA.hex', command: 303, check: (m) => assert.ok(parseMar(m).userName.length > 0) },
  { file: 'pyhss_test_Diameter_Cx_RTR.hex', command: 304, check: (m) => assert.ok(parseRtr(m).userName.length > 0) },
];

describe("PyHSS's Cx messages (a third-party encoder)", () => {
  for (const c of CASES) {
    test(`[R-CX-1] [R-CX-2] ${c.file}: decodes, round-trips byte for byte, parses as command ${c.command}`, (t) => {
      const path = needShared(t, 'real', 'diameter', c.file);
      if (!path) return;
      const bytes = fromHex(readFileSync(path, 'utf8').trim());
      const m = decodeMessage(bytes);
      assert.equal(m.commandCode, c.command);
      assert.equal(m.applicationId, CX_APPLICATION_ID);
      assert.equal(isRequest(m), true);
      assert.equal(toHex(encodeMessage(m)), toHex(bytes), 'the same bytes again');
      c.check(m);
    });
  }
});
