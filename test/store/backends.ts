/**
 * Runs store tests against both implementations: SQLite on a temp file and PostgreSQL on a
 * throwaway server (test/support/postgres.ts) started once per test file, a fresh database
 * per store. Call {@link storeBackends} at the top level of a test file.
 */
import { after, before, type TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type HssStore, type NewSubscriber, type OpenStoreOptions } from '../../src/store/index.js';
import { needPostgres, postgresBinDir, startPostgres, type PgServer } from '../support/postgres.js';

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** A URL for a fresh, empty store; null when the backend is unavailable (test skipped). */
  freshUrl(t: TestContext): Promise<string | null>;
  /** Opens a fresh store (closed automatically at the end of the file). */
  open(t: TestContext, opts?: OpenStoreOptions): Promise<HssStore | null>;
  /** Opens the store at a URL (closed automatically at the end of the file). */
  reopen(url: string, opts?: OpenStoreOptions): Promise<HssStore>;
}

export function storeBackends(): Backend[] {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-store-'));
  let server: PgServer | undefined;
  let n = 0;
  const open: HssStore[] = [];
  before(async () => {
    if (postgresBinDir() !== undefined) server = await startPostgres();
  });
  after(async () => {
    for (const s of open) await s.close().catch(() => {});
    server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const track = async (url: string, opts?: OpenStoreOptions): Promise<HssStore> => {
    const s = await openStore(url, opts);
    open.push(s);
    return s;
  };
  const make = (name: Backend['name'], fresh: (t: TestContext) => Promise<string | null>): Backend => ({
    name,
    freshUrl: fresh,
    async open(t, opts) {
      const url = await fresh(t);
      return url === null ? null : track(url, opts);
    },
    reopen: track,
  });
  return [
    make('sqlite', async () => `sqlite:${join(dir, `hss-${++n}.sqlite`)}`),
    make('postgres', async (t) => {
      if (!needPostgres(t)) return null;
      if (server === undefined) throw new Error('PostgreSQL server did not start');
      return server.createSchema();
    }),
  ];
}

/** TS 35.208 test set 1 keys (K, OP → OPc), reused as provisioning data. */
export const SET1 = {
  k: Uint8Array.from(Buffer.from('465b5ce8b199b49faa5f0a2ee238a6bc', 'hex')),
  op: Uint8Array.from(Buffer.from('cdc202d5123e20f62b6d676ac72cb318', 'hex')),
  opc: Uint8Array.from(Buffer.from('cd63cb71954a9f4e48a5994e37a02baf', 'hex')),
};

/** A subscriber `user<i>@ims.example.net` with IMPUs sip:user<i>@… (set 1, default) and tel:+1555000<i> (set 1). */
export function subscriber(i: number | string, extra: Partial<NewSubscriber> = {}): NewSubscriber {
  return {
    impi: `user${i}@ims.example.net`,
    k: SET1.k,
    opc: SET1.opc,
    amf: 0x8000,
    seqHe: 0,
    indBits: 5,
    authSchemes: ['Digest-AKAv1-MD5'],
    serviceProfile: null,
    impus: [
      { impu: `sip:user${i}@ims.example.net`, irs: 1, barred: false, pseudonym: false, isDefault: true },
      { impu: `tel:+1555000${i}`, irs: 1, barred: false, pseudonym: false, isDefault: false },
    ],
    implicitSets: [],
    ...extra,
  };
}
