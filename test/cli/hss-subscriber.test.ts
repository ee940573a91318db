import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../support/paths.js';
import { needPostgres, startPostgres } from '../support/postgres.js';
import { ProgressBar } from '../../src/cli/hss-subscriber.js';

// TS 35.208 test set 1.
const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';

const dir = mkdtempSync(join(tmpdir(), 'imsec-hss-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshStore = (): string => `sqlite:${join(dir, `hss-${++n}.sqlite`)}`;

function imsec(args: string[], cwd = dir): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', cwd });
  for (const s of [K, OP, OPC]) assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `key material printed by ${args.slice(0, 3).join(' ')}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[], cwd?: string): unknown {
  const r = imsec(args, cwd);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  return JSON.parse(r.stdout);
}

/** Exit code and exactly one stderr line, nothing on stdout. */
function fails(args: string[], code: number, line: RegExp): string {
  const r = imsec(args);
  assert.equal(r.code, code, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^imsec: [^\n]+\n$/);
  assert.match(r.stderr, line);
  return r.stderr;
}

const add = (store: string, impi = 'alice@ims.lab', ...extra: string[]): string[] => [
  'hss', 'subscriber', 'add', '--store', store, '--impi', impi, '--impu', `sip:${impi}`, '--k', K, '--op', OP, ...extra,
];

describe('imsec hss subscriber', () => {
  test('add prints the subscriber without keys; show and list read it back; the SQLite file is 0600', () => {
    const store = freshStore();
    const v = ok(add(store, 'alice@ims.lab', '--impu', 'tel:+15550100', '--barred', 'tel:+15550100', '--amf', 'b9b9', '--sqn', '64', '--auth-scheme', 'Digest-AKAv2-MD5')) as Record<string, unknown>;
    assert.deepEqual(v, {
      impi: 'alice@ims.lab',
      impus: [
        { impu: 'sip:alice@ims.lab', irs: 1, default: true, barred: false, pseudonym: false, state: 'NOT_REGISTERED', scscfName: null },
        { impu: 'tel:+15550100', irs: 1, default: false, barred: true, pseudonym: false, state: 'NOT_REGISTERED', scscfName: null },
      ],
      amf: 'b9b9',
      seqHe: 2,
      indBits: 5,
      authSchemes: ['Digest-AKAv2-MD5'],
      serviceProfile: null,
      implicitSets: [],
    });
    assert.deepEqual(ok(['hss', 'subscriber', 'show', 'alice@ims.lab', '--store', store]), v);
    ok(add(store, 'bob@ims.lab', '--pseudonym', 'sip:bob@ims.lab'));
    const list = ok(['hss', 'subscriber', 'list', '--store', store]) as { impi: string; impus: { pseudonym: boolean }[] }[];
    assert.deepEqual(list.map((s) => s.impi), ['alice@ims.lab', 'bob@ims.lab']);
    assert.equal(list[1].impus[0].pseudonym, true);
    assert.deepEqual((ok(['hss', 'subscriber', 'list', '--store', store, '--limit', '1', '--after', 'alice@ims.lab']) as { impi: string }[]).map((s) => s.impi), ['bob@ims.lab']);
    assert.equal(statSync(store.slice('sqlite:'.length)).mode & 0o777, 0o600);
  });

  test('bad input: one line, exit 2, and a bad key is never echoed', () => {
    const store = freshStore();
    const bad = K.slice(0, 30) + 'zz';
    const line = fails(['hss', 'subscriber', 'add', '--store', store, '--impi', 'a@ims.lab', '--impu', 'sip:a@ims.lab', '--k', bad, '--opc', OPC], 2, /^imsec: --k must be 16 bytes \(32 hex digits\)\n$/);
    assert.ok(!line.includes(bad));
    fails(['hss', 'subscriber', 'add', '--store', store, '--impi', 'a@ims.lab', '--impu', 'sip:a@ims.lab', '--k', K], 2, /^imsec: missing --op or --opc\n$/);
    fails(['hss', 'subscriber', 'add', '--store', store, '--impi', 'a@ims.lab', '--impu', 'sip:a@ims.lab', '--k', K, '--op', OP, '--opc', OPC], 2, /^imsec: give either --op or --opc, not both\n$/);
    fails(['hss', 'subscriber', 'add', '--store', store, '--impu', 'sip:a@ims.lab', '--k', K, '--op', OP], 2, /missing --impi/);
    fails(add(store, 'a@ims.lab', '--barred', 'tel:+1'), 2, /--barred names "tel:\+1", which is not one of the IMPUs/);
    fails(add(store, 'a@ims.lab', '--amf', '8'), 2, /--amf must be 2 bytes/);
    fails(add('mysql://db/x'), 2, /unsupported store URL scheme "mysql"/);
    assert.deepEqual(ok(['hss', 'subscriber', 'list', '--store', store]), []);
  });

  test('duplicates and unknown IMPIs: one line, exit 1', () => {
    const store = freshStore();
    ok(add(store));
    fails(add(store), 1, /^imsec: IMPI alice@ims.lab already exists\n$/);
    fails(['hss', 'subscriber', 'show', 'nobody@ims.lab', '--store', store], 1, /no subscriber with IMPI nobody@ims.lab/);
    fails(['hss', 'subscriber', 'delete', 'nobody@ims.lab', '--store', store], 1, /no subscriber/);
  });

  test('update changes flags and fields; delete removes', () => {
    const store = freshStore();
    ok(add(store, 'alice@ims.lab', '--impu', 'tel:+15550100', '--barred', 'tel:+15550100'));
    const u = ok(['hss', 'subscriber', 'update', 'alice@ims.lab', '--store', store, '--unbarred', 'tel:+15550100', '--pseudonym', 'sip:alice@ims.lab', '--amf', '0001']) as {
      amf: string;
      impus: { impu: string; barred: boolean; pseudonym: boolean; default: boolean }[];
    };
    assert.equal(u.amf, '0001');
    assert.deepEqual(u.impus.map((x) => [x.impu, x.default, x.barred, x.pseudonym]), [['sip:alice@ims.lab', true, false, true], ['tel:+15550100', false, false, false]]);
    const r = ok(['hss', 'subscriber', 'update', 'alice@ims.lab', '--store', store, '--impu', 'tel:+15550100', '--k', K, '--opc', OPC]) as { impus: { impu: string; default: boolean }[] };
    assert.deepEqual(r.impus.map((x) => [x.impu, x.default]), [['tel:+15550100', true]]);
    fails(['hss', 'subscriber', 'update', 'alice@ims.lab', '--store', store, '--opc', OPC], 2, /--k is required to change op\/opc/);
    fails(['hss', 'subscriber', 'update', 'alice@ims.lab', '--store', store], 2, /nothing to change/);
    assert.deepEqual(ok(['hss', 'subscriber', 'delete', 'alice@ims.lab', '--store', store]), { deleted: 'alice@ims.lab' });
    assert.deepEqual(ok(['hss', 'subscriber', 'list', '--store', store]), []);
  });

  test('with no --store the embedded store is ./.imsec/hss.sqlite', () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    ok(['hss', 'subscriber', 'add', '--impi', 'a@ims.lab', '--impu', 'sip:a@ims.lab', '--k', K, '--opc', OPC], cwd);
    assert.ok(existsSync(join(cwd, '.imsec', 'hss.sqlite')));
    assert.equal((ok(['hss', 'subscriber', 'list'], cwd) as unknown[]).length, 1);
  });

  test('a PostgreSQL store given by URL works the same', async (t) => {
    if (!needPostgres(t)) return;
    const pg = await startPostgres();
    try {
      const url = await pg.createSchema();
      ok(add(url));
      assert.deepEqual((ok(['hss', 'subscriber', 'list', '--store', url]) as { impi: string }[]).map((s) => s.impi), ['alice@ims.lab']);
      fails(add(url), 1, /already exists/);
    } finally {
      pg.stop();
    }
  });
});

describe('imsec hss import', () => {
  const header = 'impi,impus,k,op,opc,amf,sqn';
  const row = (i: number, k = K): string => `u${i}@ims.lab,sip:u${i}@ims.lab tel:+1555000${i},${k},${OP},,,`;

  test('a CSV file goes in whole, in one transaction', () => {
    const store = freshStore();
    const file = join(dir, 'subs.csv');
    writeFileSync(file, [header, row(1), row(2), row(3)].join('\n') + '\n');
    assert.deepEqual(ok(['hss', 'import', file, '--store', store]), { imported: 3, format: 'csv' });
    const list = ok(['hss', 'subscriber', 'list', '--store', store]) as { impi: string; impus: unknown[] }[];
    assert.deepEqual(list.map((s) => [s.impi, s.impus.length]), [['u1@ims.lab', 2], ['u2@ims.lab', 2], ['u3@ims.lab', 2]]);
  });

  test('a bad row fails the whole file with its line number, exit 2, nothing imported', () => {
    const store = freshStore();
    const file = join(dir, 'bad.csv');
    const short = K.slice(0, 30);
    writeFileSync(file, [header, row(1), row(2), row(3), row(4), row(5), row(6, short), row(7)].join('\n'));
    const line = fails(['hss', 'import', file, '--store', store], 2, /^imsec: line 7: k must be 16 bytes \(32 hex digits\)\n$/);
    assert.ok(!line.includes(short));
    assert.deepEqual(ok(['hss', 'subscriber', 'list', '--store', store]), []);
  });

  test('a row clashing with the store names its line; a JSON file can carry implicit sets', () => {
    const store = freshStore();
    ok(add(store, 'u2@ims.lab'));
    const csv = join(dir, 'clash.csv');
    writeFileSync(csv, [header, row(1), row(2)].join('\n'));
    fails(['hss', 'import', csv, '--store', store], 2, /^imsec: line 3: IMPI u2@ims.lab already exists in the store\n$/);
    assert.equal((ok(['hss', 'subscriber', 'list', '--store', store]) as unknown[]).length, 1);
    const json = join(dir, 'subs.data');
    writeFileSync(json, JSON.stringify([{ impi: 'j@ims.lab', impus: ['sip:j@ims.lab', { impu: 'sip:j-work@ims.lab', irs: 2 }], k: K, opc: OPC, implicitSets: [{ irs: 2, serviceProfile: '<w/>' }] }], null, 1));
    assert.deepEqual(ok(['hss', 'import', json, '--store', store]), { imported: 1, format: 'json' });
    const j = ok(['hss', 'subscriber', 'show', 'j@ims.lab', '--store', store]) as { implicitSets: unknown; impus: { irs: number }[] };
    assert.deepEqual([j.implicitSets, j.impus.map((u) => u.irs)], [[{ irs: 2, serviceProfile: '<w/>' }], [1, 2]]);
    fails(['hss', 'import', join(dir, 'missing.csv'), '--store', store], 2, /cannot read .*missing.csv: ENOENT/);
  });
});

describe('import progress bar', () => {
  function sink(isTTY: boolean): { isTTY: boolean; text: string; write(s: string): boolean } {
    return {
      isTTY,
      text: '',
      write(s: string) {
        this.text += s;
        return true;
      },
    };
  }

  test('on a terminal: redrawn in place at most every 100 ms, newline at the end', () => {
    let now = 0;
    const out = sink(true);
    const bar = new ProgressBar(out as unknown as NodeJS.WritableStream, 'import', () => now);
    bar.update(1, 10);
    now = 150;
    bar.update(5, 10);
    now = 200;
    bar.update(6, 10);
    now = 400;
    bar.update(10, 10);
    bar.end();
    assert.equal(out.text, `\rimport [${'#'.repeat(15)}${'.'.repeat(15)}] 50% 5/10\rimport [${'#'.repeat(30)}] 100% 10/10\n`);
  });

  test('on a pipe: plain lines at most every 2 s; a run shorter than that prints nothing', () => {
    let now = 0;
    const out = sink(false);
    const bar = new ProgressBar(out as unknown as NodeJS.WritableStream, 'import', () => now);
    now = 2500;
    bar.update(3, 4);
    now = 2600;
    bar.update(4, 4);
    bar.end();
    assert.equal(out.text, 'import: 3/4 (75%)\nimport: 4/4 (100%)\n');
    const quiet = sink(false);
    const b2 = new ProgressBar(quiet as unknown as NodeJS.WritableStream, 'import', () => 0);
    b2.update(4, 4);
    b2.end();
    assert.equal(quiet.text, '');
  });
});
