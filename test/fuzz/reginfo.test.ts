/**
 * Fuzz the reginfo codec (RFC 3680 §5.4) and the bounded XML reader under it: decoding returns a
 * value or throws XmlParseError (XML_PARSE), nothing else, and never hangs; whatever decodes
 * encodes and decodes again to an equal value; generated documents survive encode → decode.
 * Inputs worth keeping live in test/fuzz/corpus/reginfo/ and are replayed here and by
 * test/sip/reginfo/reginfo.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CONTACT_EVENTS, decodeReginfo, encodeReginfo, type Reginfo, type ReginfoContact } from '../../src/sip/index.js';
import { decodeImsSubscription, formatImsSubscription } from '../../src/diameter/index.js';
import { XmlParseError } from '../../src/xml/index.js';
import { repoRoot } from '../support/paths.js';
import { fuzzTarget, mutatedText } from '../support/fuzz.js';

const RUNS = 1000;
const fuzz = fuzzTarget<string | Uint8Array>(import.meta.url, (s) => ({ ext: '.xml', data: s }));
const CORPUS_DIR = join(repoRoot, 'test', 'fuzz', 'corpus', 'reginfo');

function contract(input: string | Uint8Array): void {
  let v: Reginfo;
  try {
    v = decodeReginfo(input);
  } catch (e) {
    if (e instanceof XmlParseError && e.code === 'XML_PARSE') return;
    throw new Error(`decode threw ${String(e)} for ${JSON.stringify(typeof input === 'string' ? input.slice(0, 200) : '(bytes)')}`);
  }
  assert.deepEqual(decodeReginfo(encodeReginfo(v)), v);
}

const corpus = readdirSync(CORPUS_DIR).map((f) => readFileSync(join(CORPUS_DIR, f), 'utf8'));
const example = readFileSync(join(repoRoot, 'test', 'vectors', 'rfc3680', 'example-5.3.xml'), 'utf8');
const seeds = [example, ...corpus];

const text = fc.string({ unit: fc.constantFrom(...'ab <>&"\'\t\n;:@=é€'.split('')), maxLength: 12 });
const uriText = fc.string({ unit: fc.constantFrom(...'sip:alice@192.0.2.1;x=<>&"'.split('')), minLength: 1, maxLength: 20 }).filter((s) => s.trim() === s && s !== '');
const num = fc.integer({ min: 0, max: 2 ** 40 });
const contact: fc.Arbitrary<ReginfoContact> = fc.record(
  {
    id: text,
    state: fc.constantFrom('active' as const, 'terminated' as const),
    event: fc.constantFrom(...CONTACT_EVENTS),
    uri: uriText,
    expires: num,
    durationRegistered: num,
    retryAfter: num,
    q: text,
    callId: text,
    cseq: num,
    displayName: text,
    unknownParams: fc.array(fc.record({ name: text, value: text }, { noNullPrototype: true }), { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: ['id', 'state', 'event', 'uri'], noNullPrototype: true },
);
const reginfo: fc.Arbitrary<Reginfo> = fc.record(
  {
    version: num,
    state: fc.constantFrom('full' as const, 'partial' as const),
    registrations: fc.array(
      fc.record(
        { aor: uriText, id: text, state: fc.constantFrom('init' as const, 'active' as const, 'terminated' as const), contacts: fc.array(contact, { maxLength: 3 }) },
        { noNullPrototype: true },
      ),
      { maxLength: 3 },
    ),
  },
  { noNullPrototype: true },
);

/** A seed with a few characters inserted, deleted or replaced. */
const mutated = mutatedText(fc.constantFrom(...seeds), '<>/="\'&;#x!-[]? \n0aZ', 5);

/** The contract, remembering a failing input for the corpus. */
const guarded = fuzz.guard(contract);

describe('fuzz: reginfo codec', () => {
  test('corpus and the RFC 3680 example keep the contract', () => {
    for (const s of seeds) contract(s);
  });

  test('mutated documents: a value or XML_PARSE, and re-encoding is stable', () => {
    fc.assert(fc.property(mutated, (s) => guarded(s)), fuzz.params(RUNS));
  });

  test('arbitrary text and bytes: a value or XML_PARSE', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => guarded(s)), fuzz.params(RUNS));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => guarded(b)), fuzz.params(RUNS));
  });

  test('User-Data (TS 29.228 Annex E) through the same reader: a value or XML_PARSE, and re-formatting is stable', () => {
    const seed = '<IMSSubscription><PrivateID>a@b</PrivateID><ServiceProfile><PublicIdentity><BarringIndication>1</BarringIndication><Identity>sip:a@b</Identity></PublicIdentity></ServiceProfile></IMSSubscription>';
    const edits = fc.array(fc.tuple(fc.nat(), fc.constantFrom(...'<>/="&;x0 1'.split(''))), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(edits, (es) => {
        let doc = seed;
        for (const [at, ch] of es) {
          const i = at % (doc.length + 1);
          doc = doc.slice(0, i) + ch + doc.slice(i + 1);
        }
        try {
          const v = decodeImsSubscription(doc);
          assert.deepEqual(decodeImsSubscription(formatImsSubscription(v)), v);
        } catch (e) {
          if (!(e instanceof XmlParseError)) throw e;
        }
      }),
      fuzz.params(RUNS),
    );
  });

  test('generated documents survive encode → decode', () => {
    fc.assert(fc.property(reginfo, (r) => assert.deepEqual(decodeReginfo(encodeReginfo(r)), r)), fuzz.params(RUNS));
  });
});
