/**
 * The TCP framer (RFC 6733 §2.1, §3 Message Length): split-buffer test at every offset,
 * back-to-back messages, and refusal of bad or oversized lengths before any buffering.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DiameterFramer, DiameterParseError, encodeMessage, type DiameterMessage } from '../../src/diameter/index.js';
import { M, hex, u32, wAvp, wMsg } from './support/wire.js';

const A = wMsg(0x80, 280, 0, 1, 11, [wAvp(264, M, 'scscf.ims.lab'), wAvp(296, M, 'ims.lab')]);
const B = wMsg(0x00, 280, 0, 1, 11, [wAvp(268, M, u32(2001)), wAvp(264, M, 'hss.ims.lab'), wAvp(296, M, 'ims.lab')]);
const C = wMsg(0xc0, 303, 16777216, 2, 12, [wAvp(263, M, 'scscf.ims.lab;1;2'), wAvp(601, M, 'sip:alice@ims.lab', 10415)]);
const STREAM = Buffer.concat([A, B, C]);

function collect(chunks: Uint8Array[], f = new DiameterFramer()): string[] {
  const out: string[] = [];
  for (const c of chunks) f.push(c, (m: DiameterMessage, raw) => out.push(`${m.commandCode}:${m.hopByHop}:${hex(raw)}:${hex(encodeMessage(m))}`));
  return out;
}

describe('RFC 6733 §3 stream framing', () => {
  const expected = [A, B, C].map((b) => {
    const h = hex(b);
    return `${b.readUIntBE(5, 3)}:${b.readUInt32BE(12)}:${h}:${h}`;
  });

  test('[R-CX-1] three messages in one chunk come out in order', () => {
    assert.deepEqual(collect([STREAM]), expected);
  });

  test('[R-CX-1] split-buffer: cut the stream at every offset, same messages', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      assert.deepEqual(collect([STREAM.subarray(0, i), STREAM.subarray(i)]), expected, `cut at ${i}`);
    }
  });

  test('split into three pieces at every pair of offsets (step 7), and byte by byte', () => {
    for (let i = 0; i < STREAM.length; i += 7) {
      for (let j = i; j <= STREAM.length; j += 7) {
        assert.deepEqual(collect([STREAM.subarray(0, i), STREAM.subarray(i, j), STREAM.subarray(j)]), expected);
      }
    }
    assert.deepEqual(collect([...STREAM].map((b) => Uint8Array.of(b))), expected);
  });

  test('a Message Length over the limit is refused from the first 4 bytes', () => {
    const f = new DiameterFramer({ maxMessageSize: 4096 });
    const hdr = Buffer.from([1, 0x10, 0x00, 0x00]);
    assert.throws(() => f.push(hdr, () => assert.fail('no message expected')), (e: unknown) => e instanceof DiameterParseError && e.resultCode === 5015);
    assert.equal(f.buffered, 0);
    assert.throws(() => f.push(A, () => {}), DiameterParseError, 'a broken framer refuses further input');
  });

  test('bad version and bad length are framing errors', () => {
    assert.throws(() => new DiameterFramer().push(Buffer.from([2, 0, 0, 20]), () => {}), (e: unknown) => e instanceof DiameterParseError && e.resultCode === 5011);
    assert.throws(() => new DiameterFramer().push(Buffer.from([1, 0, 0, 22]), () => {}), (e: unknown) => e instanceof DiameterParseError && e.resultCode === 5015);
  });

  test('a well-framed message with a bad AVP goes to onError and the stream continues', () => {
    const bad = Buffer.from(wMsg(0x80, 280, 0, 3, 13, [wAvp(264, M, 'abcd')]));
    bad.writeUIntBE(4, 25, 3);
    const errs: number[] = [];
    const got: number[] = [];
    new DiameterFramer().push(Buffer.concat([bad, A]), (m) => got.push(m.hopByHop), (e, raw) => errs.push(e.resultCode, raw.length));
    assert.deepEqual(errs, [5014, bad.length]);
    assert.deepEqual(got, [1]);
  });
});
