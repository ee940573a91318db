/**
 * Fuzz the HSS import parser (src/nodes/hss/provisioning-import.ts): on any text, CSV or JSON,
 * it returns rows or throws an ImportError with a line number inside the text, nothing else,
 * and never hangs. CSV written by an independent RFC 4180 writer reads back field for field with
 * the right start lines; JSON arrays split back into their elements. Failing inputs go to
 * test/fuzz/corpus/store-import/ (replayed by test/nodes/hss/provisioning-import.test.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ImportError, parseCsv, parseImportFile, splitJsonArray } from '../../src/nodes/hss/provisioning-import.js';
import { fuzzTarget } from '../support/fuzz.js';

const RUNS = 1000;
const fuzz = fuzzTarget<never>(import.meta.url, () => ({ ext: '', data: '' }));
const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';

function contract(text: string, format: 'csv' | 'json'): void {
  const lines = text.split('\n').length;
  try {
    const rows = parseImportFile(text, format);
    for (const r of rows) assert.ok(r.line >= 1 && r.line <= lines);
  } catch (e) {
    if (!(e instanceof ImportError)) throw new Error(`${format}: threw ${String(e)} for ${JSON.stringify(text.slice(0, 200))}`);
    assert.ok(e.line >= 1 && e.line <= lines + 1, `line ${e.line} outside the text (${lines} lines)`);
    assert.ok(!e.message.includes(K) && !e.message.includes(OPC), 'key in message');
  }
}

/** Independent RFC 4180 writer: quote a field when it holds a comma, quote, CR or LF. */
function writeCsv(rows: string[][], eol: string): string {
  return rows.map((r) => r.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',')).join(eol);
}

const csvChar = fc.constantFrom('a', 'b', '1', ' ', ',', '"', '\n', '\r', ':', '@', ';', '+');
const field = fc.array(csvChar, { maxLength: 8 }).map((a) => a.join(''));

// Text near the formats: pieces of headers, keys, quotes and brackets.
const piece = fc.constantFrom('impi', 'impus', 'k', 'op', 'opc', ',', '"', '\n', '\r\n', '[', ']', '{', '}', ':', K, OPC, 'sip:a@b', 'a@b', '\\', ' ', '"impi"', 'null', '1');
const nearFormat = fc.array(piece, { maxLength: 40 }).map((a) => a.join(''));

describe('fuzz: import parser', () => {
  test('any text, CSV or JSON: rows or an ImportError with a line inside the text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), nearFormat), (text) => {
        contract(text, 'csv');
        contract(text, 'json');
      }),
      fuzz.params(RUNS),
    );
  });

  test('CSV from an independent writer reads back field for field, with each record start line', () => {
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 2, maxLength: 5 }), { minLength: 1, maxLength: 6 }), fc.constantFrom('\n', '\r\n'), (rows, eol) => {
        const text = writeCsv(rows, eol);
        const got = parseCsv(text);
        assert.deepEqual(got.map((r) => r.fields), rows);
        let line = 1;
        rows.forEach((r, i) => {
          assert.equal(got[i].line, line);
          line += writeCsv([r], eol).split('\n').length;
        });
      }),
      fuzz.params(RUNS),
    );
  });

  test('a JSON array splits into its elements, each re-parsing to the same value at its start line', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 6 }), fc.constantFrom(undefined, 1, 2), (values, indent) => {
        const text = JSON.stringify(values, null, indent);
        const parts = splitJsonArray(text);
        assert.deepEqual(
          parts.map((p) => JSON.parse(p.text)),
          JSON.parse(text),
        );
        for (const p of parts) {
          const offset = text.indexOf(p.text, 0);
          assert.ok(offset >= 0);
          assert.ok(p.line >= 1 && p.line <= text.split('\n').length);
        }
        if (indent !== undefined) {
          // Element j spans as many lines as its own pretty form; element i starts after those.
          let line = 2;
          values.forEach((v, i) => {
            assert.equal(parts[i].line, line);
            line += JSON.stringify(v, null, indent).split('\n').length;
          });
        }
      }),
      fuzz.params(RUNS),
    );
  });

  test('subscriber objects with fields mutated or dropped: rows or an ImportError at the element line', () => {
    const value = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom(K, OPC, 'sip:x@y', 'x@y', '8000'), fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }));
    const keys = fc.constantFrom('impi', 'impus', 'k', 'op', 'opc', 'amf', 'sqn', 'indBits', 'authSchemes', 'serviceProfile', 'implicitSets', 'other');
    const sub = fc.record({ mutate: fc.dictionary(keys, value, { maxKeys: 3 }), drop: fc.subarray(['impi', 'impus', 'k', 'opc']) }).map(({ mutate, drop }) => {
      const o: Record<string, unknown> = { impi: 'u@ims.lab', impus: ['sip:u@ims.lab'], k: K, opc: OPC, ...mutate };
      for (const d of drop) delete o[d];
      return o;
    });
    fc.assert(
      fc.property(fc.array(sub, { maxLength: 4 }), (subs) => {
        const text = '[\n' + subs.map((s) => JSON.stringify(s)).join(',\n') + '\n]';
        try {
          const rows = parseImportFile(text, 'json');
          rows.forEach((r, i) => assert.equal(r.line, i + 2));
        } catch (e) {
          assert.ok(e instanceof ImportError, String(e));
          assert.ok(e.line >= 2 && e.line <= subs.length + 1);
          assert.ok(!e.message.includes(K) && !e.message.includes(OPC));
        }
      }),
      fuzz.params(RUNS),
    );
  });
});
