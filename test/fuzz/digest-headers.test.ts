/**
 * Fuzz the Digest header codecs (RFC 3261 §25.1, RFC 2617 §3.2, TS 24.229 §7.2A): the parsers
 * return a value or throw DigestParseError, nothing else; whatever decodes re-encodes to the same
 * value; parse(format(x)) == x for generated values. Failing inputs go to
 * test/fuzz/corpus/digest-headers/ (replayed by test/auth/digest/headers.test.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DigestParseError,
  INTEGRITY_PROTECTED_VALUES,
  canonicalAlgorithm,
  formatAuthenticationInfo,
  formatDigestChallenge,
  formatDigestCredentials,
  parseAuthenticationInfo,
  parseDigestChallenge,
  parseDigestCredentials,
  type AuthParam,
  type AuthenticationInfo,
  type DigestChallenge,
  type DigestCredentials,
} from '../../src/auth/digest/index.js';
import { fuzzTarget } from '../support/fuzz.js';

const RUNS = 1500;
const fuzz = fuzzTarget<never>(import.meta.url, () => ({ ext: '', data: '' }));

type Codec = { name: string; parse: (s: string) => unknown; format: (v: never) => string };
const CODECS: Codec[] = [
  { name: 'challenge', parse: parseDigestChallenge, format: formatDigestChallenge as (v: never) => string },
  { name: 'credentials', parse: parseDigestCredentials, format: formatDigestCredentials as (v: never) => string },
  { name: 'authentication-info', parse: parseAuthenticationInfo, format: formatAuthenticationInfo as (v: never) => string },
];

/** The parser's contract on arbitrary input; on success, the value re-encodes to itself. */
function contract(c: Codec, input: string): boolean {
  let v: unknown;
  try {
    v = c.parse(input);
  } catch (e) {
    if (e instanceof DigestParseError && e.code === 'DIGEST_PARSE') return false;
    throw new Error(`${c.name} threw ${String(e)} for ${JSON.stringify(input)}`);
  }
  assert.deepEqual(c.parse(c.format(v as never)), v, `${c.name} re-encode of ${JSON.stringify(input)}`);
  return true;
}

// ---- generators ----
const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]{1,12}$/;
const token = fc.stringMatching(TOKEN_RE);
const text = fc
  .oneof(fc.string({ unit: 'binary-ascii', maxLength: 24 }), fc.string({ unit: 'grapheme', maxLength: 8 }))
  .filter((s) => !/[\r\n]/.test(s));
const hex = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('hex'));
const hexAnyCase = fc.tuple(hex(0, 32), fc.boolean()).map(([h, up]) => (up ? h.toUpperCase() : h));
const nc = fc.tuple(hex(1, 5), fc.boolean()).map(([h, up]) => (up ? h.toUpperCase() : h));
const algorithm = token.filter((t) => canonicalAlgorithm(t) === t);
const qopValue = fc.oneof(fc.constantFrom('auth', 'auth-int'), token.filter((t) => !['auth', 'auth-int'].includes(t.toLowerCase())));
const uriNoSpace = text.filter((s) => s !== '' && !/[ \t]/.test(s));

function unknownParams(known: string[]): fc.Arbitrary<AuthParam[]> {
  const param = fc.oneof(
    fc.record({ name: token, value: text, quoted: fc.constant(true) }, { noNullPrototype: true }),
    fc.record({ name: token, value: token, quoted: fc.constant(false) }, { noNullPrototype: true }),
  );
  return fc.array(param.filter((p) => !known.includes(p.name.toLowerCase())), { maxLength: 3 });
}

function withParams<T extends object>(v: T, params: AuthParam[]): T & { params?: AuthParam[] } {
  return params.length > 0 ? { ...v, params } : v;
}

const challenge: fc.Arbitrary<DigestChallenge> = fc
  .tuple(
    fc.record(
      {
        realm: text,
        nonce: text,
        domain: fc.array(uriNoSpace, { maxLength: 3 }),
        opaque: text,
        stale: fc.boolean(),
        algorithm,
        qop: fc.array(qopValue, { minLength: 1, maxLength: 3 }),
        ik: fc.uint8Array({ maxLength: 16 }),
        ck: fc.uint8Array({ maxLength: 16 }),
      },
      { requiredKeys: ['realm', 'nonce'], noNullPrototype: true },
    ),
    unknownParams(['realm', 'domain', 'nonce', 'opaque', 'stale', 'algorithm', 'qop', 'ik', 'ck']),
  )
  .map(([c, p]) => withParams(c, p));

const credentials: fc.Arbitrary<DigestCredentials> = fc
  .tuple(
    fc.record(
      {
        username: text,
        realm: text,
        nonce: text,
        uri: text,
        response: hexAnyCase,
        algorithm,
        cnonce: text,
        opaque: text,
        qop: qopValue,
        nc,
        auts: fc.uint8Array({ minLength: 14, maxLength: 14 }),
        integrityProtected: fc.constantFrom(...INTEGRITY_PROTECTED_VALUES),
      },
      { requiredKeys: ['username', 'realm', 'nonce', 'uri', 'response'], noNullPrototype: true },
    ),
    unknownParams(['username', 'realm', 'nonce', 'uri', 'response', 'algorithm', 'cnonce', 'opaque', 'qop', 'nc', 'auts', 'integrity-protected']),
  )
  .map(([c, p]) => withParams(c, p));

const authInfo: fc.Arbitrary<AuthenticationInfo> = fc
  .tuple(
    fc.record({ nextnonce: text, qop: qopValue, rspauth: hexAnyCase, cnonce: text, nc }, { requiredKeys: [], noNullPrototype: true }),
    unknownParams(['nextnonce', 'qop', 'rspauth', 'cnonce', 'nc']),
  )
  .map(([a, p]) => withParams(a, p))
  .filter((a) => Object.keys(a).length > 0);

/** Header-shaped noise: fragments of the grammar glued at random. */
const FRAGMENTS = [
  'Digest', 'digest', ' ', '\t', '\r\n ', '\r\n', '\n', ',', '=', '"', '\\', '\\"', 'realm', 'nonce', 'ik', 'ck', 'qop', 'nc', 'auts',
  'response', 'uri', 'username', 'integrity-protected', 'algorithm', 'stale', 'domain', 'rspauth', 'nextnonce', 'cnonce', 'opaque',
  'abc', '00000001', 'AKAv1-MD5', 'auth', 'auth-int', 'yes', 'TRUE', 'f769bcd7', 'AAAAAAAAAAAAAAAAAAAA', '==', '\u0000', '\u00e9', '\ud83d',
];
const noise = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }).map((a) => a.join(''));

/** Grammar-shaped lists: known and unknown names, tokens and quoted values, random LWS. */
const KNOWN_NAMES = [
  'realm', 'domain', 'nonce', 'opaque', 'stale', 'algorithm', 'qop', 'ik', 'ck', 'username', 'uri', 'response', 'cnonce', 'nc', 'auts',
  'integrity-protected', 'nextnonce', 'rspauth',
];
const lws = fc.constantFrom('', ' ', '\t', '\r\n ', '  ');
const pname = fc.oneof(fc.constantFrom(...KNOWN_NAMES), fc.constantFrom(...KNOWN_NAMES).map((n) => n.toUpperCase()), token);
const quotedText = text.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`);
const pvalue = fc.oneof(
  token,
  quotedText,
  fc.constantFrom('""', '"auth,auth-int"', '"auth"', '"yes"', 'no', 'true', '"AKAv1-MD5"', '00000001', '"0a4f113b"', `"${'ab'.repeat(16)}"`, '"AAAAAAAAAAAAAAAAAAAAAA=="'),
  hex(1, 16).map((h) => `"${h}"`),
);
const param = fc.tuple(lws, pname, lws, pvalue, lws);
/** `required` names always appear (a quoted value, hex for `response`), mixed in among random ones. */
function structured(schemes: string[], required: string[]): fc.Arbitrary<string> {
  const valueFor = (n: string) => (n === 'response' ? hex(0, 16).map((h) => `"${h}"`) : quotedText);
  const req = fc.tuple(...required.map((n) => fc.tuple(lws, fc.constantFrom(n, n.toUpperCase()), lws, valueFor(n), lws)));
  return fc
    .tuple(fc.constantFrom(...schemes), req, fc.array(param, { maxLength: 5 }))
    .chain(([scheme, r, extra]) => {
      const all = [...(r as [string, string, string, string, string][]), ...extra];
      return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }).map((ps) => ({ scheme, ps }));
    })
    .map(({ scheme, ps }) => scheme + ps.map(([a, n, b, v, c]) => `${a}${n}${b}=${c}${v}`).join(','));
}
const DIGEST_SCHEMES = ['Digest ', 'digest\t', 'DIGEST\r\n ', 'Digest', ''];
const STRUCTURED: Record<string, fc.Arbitrary<string>> = {
  challenge: structured(DIGEST_SCHEMES, ['realm', 'nonce']),
  credentials: structured(DIGEST_SCHEMES, ['username', 'realm', 'nonce', 'uri', 'response']),
  'authentication-info': structured(['', ' ', 'Digest '], []),
};

/** A valid header with a few random edits. */
function mutated<T>(arb: fc.Arbitrary<T>, format: (v: T) => string): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.nat(), fc.nat(3), fc.constantFrom(...FRAGMENTS));
  return fc.tuple(arb, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([v, edits]) => {
    let s = format(v);
    for (const [at, len, ins] of edits) {
      const i = at % (s.length + 1);
      s = s.slice(0, i) + ins + s.slice(i + len);
    }
    return s;
  });
}

describe('fuzz: Digest header parsers return a value or throw DigestParseError', () => {
  for (const c of CODECS) {
    test(`[R-AKA-6] ${c.name}: arbitrary strings and grammar-shaped lists`, () => {
      let parsed = 0;
      fc.assert(
        fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 120 }), noise, { arbitrary: STRUCTURED[c.name], weight: 4 }), (s) => {
          if (contract(c, s)) parsed++;
        }),
        fuzz.params(RUNS),
      );
      // The re-encode half of the contract only runs on inputs that parse: make sure there were some.
      assert.ok(parsed > RUNS / 200, `only ${parsed} inputs parsed`);
    });
  }
  test('[R-AKA-6] mutated valid headers, fed to every parser', () => {
    const inputs = fc.oneof(mutated(challenge, formatDigestChallenge), mutated(credentials, formatDigestCredentials), mutated(authInfo, formatAuthenticationInfo));
    let parsed = 0;
    fc.assert(
      fc.property(inputs, (s) => {
        for (const c of CODECS) if (contract(c, s)) parsed++;
      }),
      fuzz.params(RUNS),
    );
    assert.ok(parsed > RUNS / 200, `only ${parsed} inputs parsed`);
  });
});

describe('fuzz: parse(format(x)) == x', () => {
  test('[R-AKA-6] challenge (with ik/ck and unknown params)', () => {
    fc.assert(fc.property(challenge, (ch) => assert.deepEqual(parseDigestChallenge(formatDigestChallenge(ch)), ch)), fuzz.params(RUNS));
  });
  test('[R-AKA-6] credentials (with auts, integrity-protected and unknown params)', () => {
    fc.assert(fc.property(credentials, (cr) => assert.deepEqual(parseDigestCredentials(formatDigestCredentials(cr)), cr)), fuzz.params(RUNS));
  });
  test('[R-AKA-6] Authentication-Info', () => {
    fc.assert(fc.property(authInfo, (ai) => assert.deepEqual(parseAuthenticationInfo(formatAuthenticationInfo(ai)), ai)), fuzz.params(RUNS));
  });
});
