/**
 * Fuzz the Diameter codec (RFC 6733 §3–4) and the Cx parsers (TS 29.229 §6.1): decoding returns a
 * message or throws an ImsError, nothing else, and never hangs or allocates from a length field;
 * well-formed messages (built by the independent test builder) decode and re-encode to the same
 * bytes; the framer yields the same messages however the stream is cut. Failing inputs belong in
 * test/fuzz/corpus/diameter-message/ (hex, one per file), replayed by test/diameter/corpus.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ImsError } from '../../src/common/index.js';
import {
  DiameterFramer,
  DiameterParseError,
  decodeHeader,
  decodeMessage,
  decodeValue,
  encodeMessage,
  peekHeader,
  peekResultCode,
  readResult,
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
  type DiameterMessage,
} from '../../src/diameter/index.js';
import { wAvp, wMsg } from '../diameter/support/wire.js';
import { fuzzTarget } from '../support/fuzz.js';

const RUNS = 1000;
const fuzz = fuzzTarget<Uint8Array>(import.meta.url, (b) => ({ ext: '.hex', data: `${Buffer.from(b).toString('hex')}\n` }));
const PARSERS = [parseUar, parseUaa, parseSar, parseSaa, parseLir, parseLia, parseMar, parseMaa, parseRtr, parseRta, parsePpr, parsePpa];

/** The contract: a DiameterMessage or an ImsError (an input that breaks it is saved to the corpus). */
const decodeOrTyped = fuzz.guard((b: Uint8Array): DiameterMessage | undefined => {
  try {
    return decodeMessage(b);
  } catch (e) {
    if (!(e instanceof ImsError)) throw e;
    return undefined;
  }
});

// Well-formed AVP trees, built with the independent builder. Codes are drawn from the Cx and base
// ranges so the typed parsers meet real AVP codes with random contents.
const codeArb = fc.oneof(fc.constantFrom(1, 257, 258, 260, 263, 264, 266, 268, 277, 279, 283, 284, 293, 296, 297, 298), fc.integer({ min: 600, max: 660 }), fc.nat());
const leafArb = fc.record({ code: codeArb, flags: fc.constantFrom(0, 0x40, 0x20, 0x60), vendor: fc.option(fc.constantFrom(10415, 13019, 1, 0xffffffff), { nil: undefined }), data: fc.uint8Array({ maxLength: 40 }) });
type Tree = { code: number; flags: number; vendor: number | undefined; data: Uint8Array; kids?: Tree[] };
const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.record({ code: codeArb, flags: fc.constantFrom(0, 0x40), vendor: fc.option(fc.constant(10415), { nil: undefined }), data: fc.constant(new Uint8Array()), kids: fc.array(tie('tree'), { maxLength: 4 }) }),
  ),
}));
const build = (t: Tree): Buffer => wAvp(t.code, t.flags, t.kids ? Buffer.concat(t.kids.map(build)) : Buffer.from(t.data), t.vendor);
const msgArb = fc
  .record({
    flags: fc.constantFrom(0x80, 0xc0, 0x40, 0x00, 0x20, 0x10, 0x0f),
    code: fc.oneof(fc.integer({ min: 300, max: 305 }), fc.constantFrom(257, 280, 282), fc.integer({ min: 0, max: 0xffffff })),
    app: fc.oneof(fc.constant(16777216), fc.constant(0), fc.nat()),
    hbh: fc.nat(),
    e2e: fc.nat(),
    avps: fc.array(tree, { maxLength: 12 }),
  })
  .map((m) => wMsg(m.flags, m.code, m.app, m.hbh, m.e2e, m.avps.map(build)));

/** The message with the padding after each top-level AVP zeroed (found by an independent walk of the length fields). */
function zeroPadding(b: Buffer): Buffer {
  const x = Buffer.from(b);
  for (let at = 20; at + 8 <= x.length; ) {
    const len = x.readUIntBE(at + 5, 3);
    const padded = (len + 3) & ~3;
    x.fill(0, at + len, at + padded);
    at += padded;
  }
  return x;
}

describe('fuzz: Diameter message codec', () => {
  test('[R-CX-1] arbitrary bytes: a message or an ImsError; what decodes re-encodes to a fixed point', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        const m = decodeOrTyped(b);
        if (m) {
          const once = encodeMessage(m);
          assert.deepEqual(encodeMessage(decodeMessage(once)), once);
        }
      }),
      fuzz.params(RUNS),
    );
  });

  test('[R-CX-1] arbitrary bytes behind a valid header (version 1, matching length)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (body, hbh) => {
        const b = wMsg(0x80, 303, 16777216, hbh, 1, [Buffer.from(body.subarray(0, body.length & ~3))]);
        const m = decodeOrTyped(b);
        if (m) assert.equal(Buffer.from(encodeMessage(m)).toString('hex'), zeroPadding(b).toString('hex'));
      }),
      fuzz.params(RUNS),
    );
  });

  test('[R-CX-1] well-formed messages decode and re-encode to the same bytes', () => {
    fc.assert(
      fc.property(msgArb, (b) => {
        const m = decodeMessage(b);
        assert.equal(Buffer.from(encodeMessage(m)).toString('hex'), b.toString('hex'));
      }),
      fuzz.params(RUNS),
    );
  });

  test('[R-CX-2] Cx parsers on random well-formed messages return a value or throw an ImsError', () => {
    fc.assert(
      fc.property(msgArb, (b) => {
        const m = decodeMessage(b);
        for (const p of PARSERS) {
          try {
            p(m);
          } catch (e) {
            if (!(e instanceof ImsError)) throw e;
          }
        }
        for (const a of m.avps) {
          try {
            decodeValue('Grouped', a.data);
          } catch (e) {
            if (!(e instanceof ImsError)) throw e;
          }
        }
      }),
      fuzz.params(RUNS),
    );
  });

  test('mutated well-formed messages: a message or an ImsError', () => {
    fc.assert(
      fc.property(msgArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (b, muts) => {
        const x = Buffer.from(b);
        for (const [at, v] of muts) x[at % x.length] = v;
        decodeOrTyped(x);
      }),
      fuzz.params(RUNS),
    );
  });
});

/** `stream` in consecutive pieces, cut at each of `cuts` (taken modulo its length + 1). */
function cutAt(stream: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, stream.length]) {
    out.push(stream.subarray(prev, p));
    prev = p;
  }
  return out;
}

describe('fuzz: framer', () => {
  test('[R-CX-1] a stream of well-formed messages cut at random points yields the same messages', () => {
    fc.assert(
      fc.property(fc.array(msgArb, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 8 }), (msgs, cuts) => {
        const f = new DiameterFramer();
        const got: string[] = [];
        for (const piece of cutAt(Buffer.concat(msgs), cuts)) f.push(piece, (_m, raw) => got.push(Buffer.from(raw).toString('hex')));
        assert.deepEqual(got, msgs.map((m) => m.toString('hex')));
        assert.equal(f.buffered, 0);
      }),
      fuzz.params(300),
    );
  });

  test('[R-CX-1] pushFrames hands out the same frames as push, cut at the same points', () => {
    fc.assert(
      fc.property(fc.array(msgArb, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 8 }), (msgs, cuts) => {
        const f = new DiameterFramer();
        const got: string[] = [];
        for (const piece of cutAt(Buffer.concat(msgs), cuts)) f.pushFrames(piece, (raw) => got.push(Buffer.from(raw).toString('hex')));
        assert.deepEqual(got, msgs.map((m) => m.toString('hex')));
      }),
      fuzz.params(300),
    );
  });

  test('random bytes into the framer: messages, typed errors, never anything else', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), (chunks) => {
        const f = new DiameterFramer({ maxMessageSize: 1024 });
        try {
          for (const c of chunks) f.push(c, () => {}, (e) => assert.ok(e instanceof DiameterParseError));
        } catch (e) {
          if (!(e instanceof DiameterParseError)) throw e;
        }
        assert.ok(f.buffered <= 1024 + 64);
      }),
      fuzz.params(RUNS),
    );
  });
});

/** What `readResult` gives for the decoded message (undefined where it throws). */
function decodedResult(b: Uint8Array): number | undefined {
  try {
    return readResult(decodeMessage(b).avps)?.code;
  } catch (e) {
    if (!(e instanceof ImsError)) throw e;
    return undefined;
  }
}

// The metrics read each message in place (codec/peek.ts) instead of decoding it a second time:
// the reading must agree with the decoder's (RFC 6733 §3 header, §7.1 Result-Code, §7.6
// Experimental-Result) on every message.
describe('fuzz: reading a message in place', () => {
  const resultArb = fc.oneof(
    fc.record({ rc: fc.oneof(fc.constantFrom(2001, 5001, 3002), fc.nat()) }).map(({ rc }) => wAvp(268, 0x40, Buffer.from([rc >>> 24, (rc >>> 16) & 255, (rc >>> 8) & 255, rc & 255]))),
    fc
      .record({ vendor: fc.option(fc.constantFrom(10415, 0), { nil: undefined }), code: fc.constantFrom(2001, 2002, 5001, 5003), withVendorId: fc.boolean() })
      .map(({ vendor, code, withVendorId }) =>
        wAvp(297, 0x40, Buffer.concat([...(withVendorId ? [wAvp(266, 0x40, Buffer.from([0, 0, 0x28, 0xaf]))] : []), wAvp(298, 0x40, Buffer.from([0, 0, code >> 8, code & 255]))]), vendor),
      ),
  );
  const answerArb = fc
    .record({ before: fc.array(tree, { maxLength: 4 }), result: fc.array(resultArb, { maxLength: 2 }), after: fc.array(tree, { maxLength: 4 }), flags: fc.constantFrom(0x00, 0x40, 0x80, 0x20), hbh: fc.nat() })
    .map((m) => wMsg(m.flags, 301, 16777216, m.hbh, 7, [...m.before.map(build), ...m.result, ...m.after.map(build)]));

  test('[R-CX-1] [R-LAB-5] the header fields and the result agree with decodeMessage and readResult', () => {
    fc.assert(
      fc.property(fc.oneof(answerArb, msgArb), (b) => {
        const h = decodeHeader(b);
        assert.deepEqual(peekHeader(b), { request: (h.flags & 0x80) !== 0, commandCode: h.commandCode, hopByHop: h.hopByHop });
        assert.equal(peekResultCode(b), decodedResult(b));
      }),
      fuzz.params(RUNS),
    );
  });

  test('[R-CX-1] arbitrary AVP bytes behind a framed header: the reading agrees with the decoder, and never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(0x00, 0x80), (body, flags) => {
        const b = wMsg(flags, 301, 16777216, 1, 1, [Buffer.from(body.subarray(0, body.length & ~3))]);
        assert.equal(peekResultCode(b), decodedResult(b));
      }),
      fuzz.params(RUNS),
    );
  });
});
