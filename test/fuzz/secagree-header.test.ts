/**
 * Fuzz the Security-Client/Server/Verify codec (RFC 3329 §2.2, TS 33.203 Annex H): the parser
 * returns a value or throws SecAgreeParseError, nothing else; whatever parses formats and parses
 * again to an equal value; generated mechanisms survive format → parse. Inputs that once failed
 * are kept in test/fuzz/corpus/secagree-header/ and replayed here and by
 * test/secagree/header.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  SecAgreeParseError,
  formatSecurityMechanisms,
  parseSecurityMechanisms,
  type IpsecMode,
  type SecMechanism,
  type SecParam,
} from '../../src/secagree/index.js';
import { repoRoot } from '../support/paths.js';
import { secAgreeExamples } from '../secagree/vectors.js';
import { fuzzTarget, mutatedText } from '../support/fuzz.js';

const RUNS = 1500;
const fuzz = fuzzTarget<string>(import.meta.url, (s) => ({ ext: '.txt', data: s }));
export const CORPUS_DIR = join(repoRoot, 'test', 'fuzz', 'corpus', 'secagree-header');

/** The codec's contract for one input. */
export function secAgreeContract(input: string): void {
  let v: SecMechanism[];
  try {
    v = parseSecurityMechanisms(input);
  } catch (e) {
    if (e instanceof SecAgreeParseError && e.code === 'SECAGREE_PARSE') return;
    throw new Error(`parse threw ${String(e)} for ${JSON.stringify(input)}`);
  }
  assert.deepEqual(parseSecurityMechanisms(formatSecurityMechanisms(v)), v, `re-encode of ${JSON.stringify(input)}`);
}

/** The header values of ../shared/vectors/sec_agree_examples.txt (read by the test that mutates them). */
const seeds = (): string[] => secAgreeExamples.value.flatMap((b) => b.headers.map((h) => h.value));

const TOKEN_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~';
const token = fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 10 });
const KNOWN = new Set(['alg', 'ealg', 'prot', 'mod', 'spi-c', 'spi-s', 'port-c', 'port-s', 'q']);
const quoted = fc
  .string({ unit: fc.constantFrom(...'ab ,;=\t\\"[]é'.split('')), maxLength: 10 })
  .map((s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
const extension: fc.Arbitrary<SecParam> = fc.record(
  { name: token.filter((n) => !KNOWN.has(n.toLowerCase())), value: fc.oneof(token, quoted, fc.constant('[2001:db8::1]')) },
  { requiredKeys: ['name'], noNullPrototype: true },
);
const mechanism: fc.Arbitrary<SecMechanism> = fc.record(
  {
    name: fc.oneof(fc.constantFrom('ipsec-3gpp', 'tls', 'digest', 'ipsec-ike'), token),
    q: fc.integer({ min: 0, max: 1000 }).map((n) => n / 1000),
    alg: fc.oneof(fc.constantFrom('hmac-md5-96', 'hmac-sha-1-96', 'aes-gmac', 'null'), token.map((t) => t.toLowerCase())),
    ealg: fc.oneof(fc.constantFrom('null', 'aes-cbc', 'des-ede3-cbc', 'aes-gcm'), token.map((t) => t.toLowerCase())),
    prot: fc.constantFrom('ah' as const, 'esp' as const),
    mod: fc.constantFrom<IpsecMode>('trans', 'tun', 'UDP-enc-tun'),
    spiC: fc.integer({ min: 0, max: 0xffffffff }),
    spiS: fc.integer({ min: 0, max: 0xffffffff }),
    portC: fc.integer({ min: 0, max: 0xffff }),
    portS: fc.integer({ min: 0, max: 0xffff }),
    extensions: fc.array(extension, { maxLength: 3 }),
  },
  { requiredKeys: ['name', 'extensions'], noNullPrototype: true },
);

/** Noise built from the characters the grammar cares about. */
const noise = fc.string({ unit: fc.constantFrom(...'ipsec-3gpp;alg=hmac,q=0.1 "\\[]:\t\r\n5'.split('')), maxLength: 60 });

/** A seed line with a few characters inserted, deleted or replaced. */
const mutated = (): fc.Arbitrary<string> => mutatedText(fc.constantFrom(...seeds()), ';,="\\ \t\r\n[]:9-aZ', 4);

/** The contract, remembering a failing input for the corpus. */
const guarded = fuzz.guard(secAgreeContract);

describe('fuzz: Security-* header codec (RFC 3329 §2.2)', () => {
  test('corpus inputs keep the contract', () => {
    const files = readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.txt'));
    assert.ok(files.length > 0, 'corpus is not empty');
    for (const f of files) secAgreeContract(readFileSync(join(CORPUS_DIR, f), 'utf8'));
  });

  test('[R-SM-1] arbitrary text: a value or SecAgreeParseError, and what parses re-encodes', () => {
    fc.assert(fc.property(fc.oneof(noise, fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 })), guarded), fuzz.params(RUNS));
  });

  test('[R-SM-1] mutated vector lines keep the contract', secAgreeExamples.options, () => {
    fc.assert(fc.property(mutated(), guarded), fuzz.params(RUNS));
  });

  test('[R-SM-1] generated mechanism lists survive format → parse', () => {
    fc.assert(
      fc.property(fc.array(mechanism, { minLength: 1, maxLength: 4 }), (list) => {
        assert.deepEqual(parseSecurityMechanisms(formatSecurityMechanisms(list)), list);
      }),
      fuzz.params(RUNS),
    );
  });
});
