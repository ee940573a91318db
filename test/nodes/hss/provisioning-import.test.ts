import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../../src/store/index.js';
import { detectFormat, ImportError, importSubscribers, parseCsv, parseImportFile, splitJsonArray } from '../../../src/nodes/hss/provisioning-import.js';
import { repoRoot } from '../../support/paths.js';

const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';

function importError(fn: () => unknown, line: number, text: RegExp): void {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof ImportError, String(e));
    assert.equal(e.code, 'HSS_IMPORT');
    assert.equal(e.line, line, e.message);
    assert.match(e.message, new RegExp(`^line ${line}: `));
    assert.match(e.message, text);
    assert.ok(!e.message.includes(K) && !e.message.includes(OP) && !e.message.includes(OPC), 'key in message');
    return true;
  });
}

describe('CSV records (RFC 4180 §2)', () => {
  test('quoted fields with commas, doubled quotes and line breaks; CRLF; BOM; blank lines skipped', () => {
    const text = '\uFEFFa,b,c\r\n1,"x, ""y""",3\r\n\r\n"multi\nline",,"z"\n   \nlast,2,3';
    assert.deepEqual(parseCsv(text), [
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, "y"', '3'] },
      { line: 4, fields: ['multi\nline', '', 'z'] },
      { line: 7, fields: ['last', '2', '3'] },
    ]);
  });

  test('an unterminated quote, text after a closing quote, a stray quote are errors with the line', () => {
    importError(() => parseCsv('a\n"open\n\n'), 2, /unterminated/);
    importError(() => parseCsv('a\n"x"y\n'), 2, /after a closing quote/);
    importError(() => parseCsv('a\nx"y\n'), 2, /quote inside/);
  });
});

describe('import files', () => {
  const header = 'IMPI,impus,K,op,opc,amf,sqn,Ind_Bits,auth_schemes,barred,pseudonym,service_profile';
  const row = (i: number, extra: Partial<Record<'k' | 'op' | 'opc' | 'amf' | 'sqn' | 'impus', string>> = {}): string =>
    [`u${i}@ims.lab`, extra.impus ?? `sip:u${i}@ims.lab tel:+1555000${i}`, extra.k ?? K, extra.op ?? OP, extra.opc ?? '', extra.amf ?? '', extra.sqn ?? '', '', '', '', '', ''].join(',');

  test('CSV rows become subscribers: lists split on spaces, first IMPU default, flags by name', () => {
    const text = [
      'impi,impus,k,opc,amf,sqn,auth_schemes,barred,pseudonym,service_profile',
      `a@ims.lab,sip:a@ims.lab tel:+1555;phone-context=ims.lab,${K},${OPC},b9b9,64,Digest-AKAv2-MD5 Digest-AKAv1-MD5,tel:+1555;phone-context=ims.lab,,"<IMSSubscription>` + '\n' + `</IMSSubscription>"`,
      `b@ims.lab,sip:b@ims.lab,${K},${OPC},,,,,sip:b@ims.lab,`,
    ].join('\n');
    const rows = parseImportFile(text, 'csv');
    assert.deepEqual(rows.map((r) => r.line), [2, 4]);
    const a = rows[0].subscriber;
    assert.deepEqual([a.impi, a.amf, a.seqHe, a.authSchemes, a.serviceProfile], ['a@ims.lab', 0xb9b9, 2, ['Digest-AKAv2-MD5', 'Digest-AKAv1-MD5'], '<IMSSubscription>\n</IMSSubscription>']);
    assert.deepEqual(a.impus.map((u) => [u.impu, u.isDefault, u.barred, u.irs]), [
      ['sip:a@ims.lab', true, false, 1],
      ['tel:+1555;phone-context=ims.lab', false, true, 1],
    ]);
    assert.equal(Buffer.from(a.opc).toString('hex'), OPC);
    assert.deepEqual(rows[1].subscriber.impus.map((u) => u.pseudonym), [true]);
  });

  test('a bad row is reported with its line number, naming the field and never the key', () => {
    const lines = [header, row(1), row(2), row(3), row(4), row(5), row(6, { k: K.slice(0, 30) })];
    importError(() => parseImportFile(lines.join('\n'), 'csv'), 7, /k must be 16 bytes \(32 hex digits\)/);
    importError(() => parseImportFile([header, row(1), row(2, { op: 'zz' })].join('\n'), 'csv'), 3, /op must be 16 bytes/);
    importError(() => parseImportFile([header, row(1, { opc: OPC })].join('\n'), 'csv'), 2, /either op or opc/);
    importError(() => parseImportFile([header, row(1, { sqn: '-5' })].join('\n'), 'csv'), 2, /sqn must be a decimal integer/);
    importError(() => parseImportFile([header, row(1, { amf: '8' })].join('\n'), 'csv'), 2, /amf must be 2 bytes/);
    importError(() => parseImportFile([header, row(1, { impus: '' })].join('\n'), 'csv'), 2, /impus/);
    importError(() => parseImportFile([header, row(1), `${row(2)},extra`].join('\n'), 'csv'), 3, /expected 12 fields, got 13/);
  });

  test('header problems and duplicates within the file', () => {
    importError(() => parseImportFile(`impi,impus,k,colour\nx@y,sip:x@y,${K},red`, 'csv'), 1, /unknown column "colour"/);
    importError(() => parseImportFile(`impi,k,op\nx@y,${K},${OP}`, 'csv'), 1, /missing column impus/);
    // No header row: the first data row is taken for one, and its K is not repeated in the message.
    importError(() => parseImportFile([row(1), row(2)].join('\n'), 'csv'), 1, /unknown column "u1@ims.lab" \(is the header row missing\?/);
    importError(() => parseImportFile(`${K},u1@ims.lab,sip:u1@ims.lab\n`, 'csv'), 1, /unknown column \(value hidden: it looks like key material\)/);
    importError(() => parseImportFile(`impi,impu,impus,k,op\n`, 'csv'), 1, /column impus appears twice/);
    importError(() => parseImportFile([header, row(1), row(2), row(1, { impus: 'sip:other@ims.lab' })].join('\n'), 'csv'), 4, /IMPI u1@ims.lab is already on line 2/);
    importError(() => parseImportFile([header, row(1), row(2, { impus: 'sip:new@ims.lab tel:+15550001' })].join('\n'), 'csv'), 3, /IMPU tel:\+15550001 is already on line 2/);
    assert.deepEqual(parseImportFile(header + '\n', 'csv'), []);
    assert.deepEqual(parseImportFile('', 'csv'), []);
  });

  test('JSON arrays: elements in the REST form, errors at the line where the element starts', () => {
    const el = (i: number, extra = ''): string => `  {"impi": "j${i}@ims.lab", "impus": ["sip:j${i}@ims.lab", {"impu": "sip:w${i}@ims.lab", "irs": 2}],\n   "k": "${K}", "opc": "${OPC}"${extra}}`;
    const rows = parseImportFile(`[\n${el(1)},\n${el(2, ', "implicitSets": [{"irs": 2, "serviceProfile": "<p/>"}]')}\n]\n`, 'json');
    assert.deepEqual(rows.map((r) => [r.line, r.subscriber.impi]), [[2, 'j1@ims.lab'], [4, 'j2@ims.lab']]);
    assert.deepEqual(rows[1].subscriber.implicitSets, [{ irs: 2, serviceProfile: '<p/>' }]);
    importError(() => parseImportFile(`[\n${el(1)},\n${el(2, ', "sqn": "7"')}\n]`, 'json'), 4, /sqn must be an integer/);
    importError(() => parseImportFile(`[\n${el(1)},\n  {"impi": "x@y", "k": "${K}",, }\n]`, 'json'), 4, /invalid JSON in this array element/);
    importError(() => parseImportFile(`\n\n{"impi": "x"}`, 'json'), 3, /must be an array/);
    importError(() => parseImportFile(`[${el(1)}`, 'json'), 1, /not closed/);
    importError(() => parseImportFile(`[${el(1)}] x`, 'json'), 2, /after the closing/);
    importError(() => parseImportFile(`[1]`, 'json'), 1, /must be a JSON object/);
    assert.deepEqual(parseImportFile(' [ ] ', 'json'), []);
    assert.deepEqual(splitJsonArray('["a,]", {"b": [1, {"c": "}"}]}]'), [{ line: 1, text: '"a,]"' }, { line: 1, text: '{"b": [1, {"c": "}"}]}' }]);
  });

  test('format by extension, else by content', () => {
    assert.equal(detectFormat('subs.CSV', '[x'), 'csv');
    assert.equal(detectFormat('subs.json', 'impi'), 'json');
    assert.equal(detectFormat('subs.txt', '\uFEFF  \n[{}]'), 'json');
    assert.equal(detectFormat('subs', 'impi,impus'), 'csv');
  });

  test('an import clashing with the store names the line and writes nothing', async () => {
    const store = await openStore(':memory:');
    try {
      const [existing] = parseImportFile([header, row(3)].join('\n'), 'csv');
      await store.createSubscriber(existing.subscriber);
      const rows = parseImportFile([header, row(1), row(2), row(3), row(4)].join('\n'), 'csv');
      await assert.rejects(importSubscribers(store, rows), (e) => {
        assert.ok(e instanceof ImportError);
        assert.equal(e.message, 'line 4: IMPI u3@ims.lab already exists in the store');
        return true;
      });
      assert.equal(await store.countSubscribers(), 1);
      const fresh = parseImportFile([header, row(1), row(2)].join('\n'), 'csv');
      const seen: number[] = [];
      assert.equal(await importSubscribers(store, fresh, (d) => seen.push(d)), 2);
      assert.deepEqual(seen, [1, 2]);
      assert.equal(await store.countSubscribers(), 3);
    } finally {
      await store.close();
    }
  });

  test('fuzz corpus inputs (test/fuzz/corpus/store-import) give rows or an ImportError', () => {
    const dir = join(repoRoot, 'test', 'fuzz', 'corpus', 'store-import');
    const files = existsSync(dir) ? readdirSync(dir) : [];
    assert.ok(files.length > 0, 'corpus is empty');
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const format of ['csv', 'json'] as const) {
        try {
          assert.ok(Array.isArray(parseImportFile(text, format)));
        } catch (e) {
          assert.ok(e instanceof ImportError && e.line >= 1, `${f} (${format}): ${String(e)}`);
          assert.ok(!/[0-9a-fA-F]{32}/.test(e.message), `${f} (${format}): key-like text in the message`);
        }
      }
    }
  });
});
