/**
 * Issue [H] §3 on the real Samsung/Kamailio registration (../shared/vectors/real/pcap): every SIP
 * message in it, those inside ESP included, parses with imsec's parser and round-trips through
 * its printed form; every Diameter message parses — Cx with its typed TS 29.229 parser, Gx/Rx
 * and the rest as generic RFC 6733 messages that re-encode to the same bytes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toHex } from '../../src/common/index.js';
import { Analyzer } from '../../src/analyze/index.js';
import { readCaptureFile } from '../../src/capture/index.js';
import { decodeMessage, encodeMessage, isRequest, type DiameterMessage } from '../../src/diameter/codec/index.js';
import { CX_APPLICATION_ID, parseMaa, parseMar, parseSaa, parseSar, parseUaa, parseUar } from '../../src/diameter/cx/index.js';
import { parseMessage, serializeMessage, type SipMessage } from '../../src/sip/index.js';
import { needShared } from '../support/shared.js';

const CX_PARSERS: Record<number, [(m: DiameterMessage) => unknown, (m: DiameterMessage) => unknown]> = {
  300: [parseUar, parseUaa],
  301: [parseSar, parseSaa],
  303: [parseMar, parseMaa],
};

describe('the real registration capture, message by message', () => {
  test('[R-SA-1] [R-CX-1] [R-CX-2] every SIP message (inside ESP too) parses and round-trips; every Diameter message parses (Cx typed, Gx/Rx generic)', (t) => {
    const path = needShared(t, 'real', 'pcap', 'open5gs_ipsec_reg.pcapng');
    if (!path) return;
    const sip: { m: SipMessage; protected: boolean }[] = [];
    const diameter: DiameterMessage[] = [];
    const a = new Analyzer({ observe: { sip: (ev) => sip.push({ m: ev.message, protected: ev.protection !== undefined }), diameter: (ev) => diameter.push(ev.message) } });
    readCaptureFile(path, (f) => a.frame(f));
    a.finish();

    assert.ok(sip.length >= 20, `SIP messages: ${sip.length}`);
    assert.ok(sip.filter((s) => s.protected).length >= 3, 'the protected REGISTER and its neighbours came out of ESP');
    for (const { m } of sip) {
      const printed = serializeMessage(m);
      const again = parseMessage(printed);
      assert.equal(toHex(serializeMessage(again)), toHex(printed), 'parse ∘ print is the identity on the printed form');
      assert.equal(again.kind, m.kind);
      assert.deepEqual([...again.headers], [...m.headers], "the same headers in the same order");
    }

    const apps = new Set(diameter.map((m) => m.applicationId));
    assert.ok(apps.has(CX_APPLICATION_ID), 'Cx');
    assert.ok([...apps].some((id) => id !== CX_APPLICATION_ID && id !== 0), 'another application (Gx/Rx) as well');
    let typed = 0;
    for (const m of diameter) {
      const bytes = encodeMessage(m);
      assert.equal(toHex(encodeMessage(decodeMessage(bytes))), toHex(bytes));
      const parsers = m.applicationId === CX_APPLICATION_ID ? CX_PARSERS[m.commandCode] : undefined;
      if (parsers) {
        parsers[isRequest(m) ? 0 : 1](m);
        typed++;
      }
    }
    assert.ok(typed >= 6, `typed Cx messages: ${typed} (UAR/UAA, MAR/MAA, SAR/SAA)`);
  });
});
