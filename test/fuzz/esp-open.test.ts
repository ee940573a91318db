/**
 * Fuzz ESP open() (RFC 4303 §3.4): for every transform, arbitrary bytes and mutated valid
 * packets never throw and are never accepted; every call moves exactly one counter. Inputs that
 * once failed live in test/fuzz/corpus/esp-open/ and are replayed first.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SeededRng } from '../../src/common/index.js';
import { deriveEspKeys, EspSa, VALID_TRANSFORMS, type EncryptionAlg, type IntegrityAlg } from '../../src/ipsec/esp/index.js';
import { hex, repoRoot, sipRequest } from '../ipsec/esp/helpers.js';
import { fuzzTarget } from '../support/fuzz.js';

const RUNS = 600;
const fuzz = fuzzTarget<never>(import.meta.url, () => ({ ext: '', data: '' }));
const SPI = 0x2000;
const IK = hex('f769bcd751044604127672711c6d3441');
const CK = hex('b40ba9a3c58b2a05bbf0d987b21bf8cb');
export const CORPUS_DIR = join(repoRoot(), 'test', 'fuzz', 'corpus', 'esp-open');

function newSa(integrity: IntegrityAlg, encryption: EncryptionAlg): EspSa {
  return new EspSa({ spi: SPI, integrity, encryption, keys: deriveEspKeys(integrity, encryption, IK, CK) });
}

/** The contract for one input on a fresh SA: no throw, one counter moved, never accepted unless `mayOpen`. */
function openContract(sa: EspSa, packet: Uint8Array, mayOpen = false): void {
  const before = { ...sa.counters };
  let r;
  try {
    r = sa.open(packet);
  } catch (e) {
    throw new Error(`open threw ${String(e)} for ${Buffer.from(packet).toString('hex')}`);
  }
  const moved = (Object.keys(before) as (keyof typeof before)[]).filter((k) => sa.counters[k] !== before[k]);
  assert.equal(moved.length, 1, `exactly one counter moves (${moved.join(',')})`);
  if (!mayOpen) assert.equal(r.ok, false, `accepted ${Buffer.from(packet).toString('hex')}`);
}

interface CorpusEntry {
  integrity: IntegrityAlg;
  encryption: EncryptionAlg;
  packet: string;
  note?: string;
}

function loadCorpus(): { file: string; entry: CorpusEntry }[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, entry: JSON.parse(readFileSync(join(CORPUS_DIR, file), 'utf8')) as CorpusEntry }));
}

const mutation = fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 });

describe('fuzz: ESP open()', () => {
  test('[R-SA-8] corpus replay: kept inputs neither throw nor get accepted', () => {
    const corpus = loadCorpus();
    assert.ok(corpus.length > 0, 'corpus is present');
    for (const { entry } of corpus) openContract(newSa(entry.integrity, entry.encryption), hex(entry.packet), false);
  });

  for (const t of VALID_TRANSFORMS) {
    const label = `${t.integrity}/${t.encryption}`;
    // Valid packets of several sizes to mutate (sealed once, deterministic).
    const tx = newSa(t.integrity, t.encryption);
    const rng = new SeededRng(`fuzz-${label}`);
    const valid = [new Uint8Array(0), Uint8Array.from([1]), sipRequest().subarray(0, 61), sipRequest()].map((p) => tx.seal(p, 17, rng));

    test(`[R-SA-1] ${label}: arbitrary bytes never throw and never open`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, rightSpi) => {
          const b = Buffer.from(bytes);
          if (rightSpi && b.length >= 4) b.writeUInt32BE(SPI, 0); // get past the SPI check
          openContract(newSa(t.integrity, t.encryption), b);
        }),
        fuzz.params(RUNS),
      );
    });

    test(`[R-SA-1] ${label}: mutated valid packets never throw and never open`, () => {
      fc.assert(
        fc.property(fc.constantFrom(...valid.keys()), mutation, fc.integer({ min: -20, max: 20 }), (which, flips, resize) => {
          const src = Buffer.from(valid[which]);
          for (const f of flips) src[f.at % src.length] ^= f.xor;
          const n = Math.max(0, src.length + resize);
          const b = n <= src.length ? src.subarray(0, n) : Buffer.concat([src, Buffer.alloc(n - src.length, 0x5a)]);
          openContract(newSa(t.integrity, t.encryption), b);
        }),
        fuzz.params(RUNS),
      );
    });

    test(`[R-SA-1] ${label}: the unmutated packets do open (the property above is not vacuous)`, () => {
      for (const v of valid) {
        const rx = newSa(t.integrity, t.encryption);
        assert.ok(rx.open(v).ok);
      }
    });
  }
});
