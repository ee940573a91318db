/**
 * Scale-out (issue [K] item 5): two S-CSCFs and two HSS processes on ONE PostgreSQL store, behind
 * one I-CSCF and one P-CSCF (src/cli/scale-out-topology.ts), under a swarm of a few hundred UEs
 * with IMS AKA and IPsec each (R-LAB-4).
 *
 * 1. Churn: every UE registers, de-registers and registers again. The I-CSCF hands first
 *    registrations to the two S-CSCFs in turn (one counter for all users), so a UE's second
 *    registration may go through either S-CSCF and HSS process: the two processes allocate SQNs
 *    for the same IMPIs from the shared store. Every SQN a UE's ISIM accepted must be new to it, and none may be
 *    refused as out of range (TS 33.102 §6.3.3, Annex C): no SQN is issued twice across processes
 *    (R-AKA-3). Afterwards the store holds no registration (R-FAIL-4).
 * 2. Register and stay: every registration is in the store, REGISTERED with the S-CSCF that
 *    served it, and both S-CSCFs served some (R-REG-1: the HSS keeps the flag and the name).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startScaleOut, type ScaleOutTopology } from '../../src/cli/scale-out-topology.js';
import { driveLoad, rangeRows, toLoadSubscribers } from '../../src/load/index.js';
import { openStore } from '../../src/store/index.js';
import { needPostgres, startPostgres, type PgServer } from '../support/postgres.js';

const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const UES = 200;
const rows = rangeRows({ prefix: 'scale', from: 1, to: UES }, { k: K, op: OP }, 'ims.lab');
const subscribers = toLoadSubscribers(rows);

describe('scale-out: two S-CSCF/HSS pairs on one PostgreSQL behind one I-CSCF, under the swarm', () => {
  let pg: PgServer | undefined;
  let net: ScaleOutTopology | undefined;
  let url = '';
  let dir = '';
  let skip = false;
  before(async (t) => {
    if (!needPostgres(t as never)) return void (skip = true);
    pg = await startPostgres();
    url = await pg.createDatabase();
    const store = await openStore(url);
    try {
      await store.createSubscribers(rows.map((r) => r.subscriber));
    } finally {
      await store.close();
    }
    dir = mkdtempSync(join(tmpdir(), 'imsec-scale-out-'));
    net = await startScaleOut({ storeUrl: url, pairs: 2, dir });
  });
  after(async () => {
    await net?.stop();
    pg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Registrations in the store: REGISTERED public identities per S-CSCF name. */
  async function registered(): Promise<number[]> {
    const store = await openStore(url);
    try {
      return await Promise.all(net!.scscfNames.map(async (n) => (await store.listServedImpus(n, ['REGISTERED'])).length));
    } finally {
      await store.close();
    }
  }

  test(`[R-AKA-3] [R-LAB-4] churn of ${UES} UEs through both HSS processes: every SQN accepted is new to its ISIM, none refused, nothing left registered`, async (t) => {
    if (skip) return t.skip('no PostgreSQL');
    const seen = new Map<string, number[]>();
    const refused: string[] = [];
    const s = await driveLoad({
      pcscf: net!.pcscf,
      subscribers,
      scenario: 'churn',
      rate: 50,
      // A bounded queue: on a loaded machine every PostgreSQL round trip waits for the scheduler.
      maxInFlight: 40,
      count: 2 * UES,
      liveMs: 200,
      firstAddress: '127.20.0.1',
      portBase: 15000,
      onAka: (impi, outcome) => {
        if (typeof outcome === 'number') seen.set(impi, [...(seen.get(impi) ?? []), outcome]);
        else refused.push(`${impi}: ${outcome}`);
      },
    });
    if (s.failureRatio > 0) for (const n of net!.nodes) process.stderr.write(`--- ${n.name}\n${n.stderr().slice(-3000)}\n`);
    assert.equal(s.failureRatio, 0, JSON.stringify(s.ops));
    assert.equal(s.ops.register?.ok, 2 * UES);
    assert.equal(s.ops.deregister?.ok, 2 * UES);
    assert.deepEqual(refused, [], 'no challenge refused by an ISIM (a reused SQN would be out of range)');
    const twice = [...seen.values()].filter((sqns) => sqns.length >= 2);
    assert.ok(twice.length >= UES * 0.9, `most UEs authenticated twice (${twice.length})`);
    for (const [impi, sqns] of seen) assert.equal(new Set(sqns).size, sqns.length, `${impi}: SQNs ${sqns.join(', ')} all distinct`);
    assert.deepEqual(await registered(), [0, 0], 'no registration left in the store');
  });

  test(`[R-REG-1] [R-LAB-4] ${UES} UEs register and stay: every registration is in the store, shared by both S-CSCFs`, async (t) => {
    if (skip) return t.skip('no PostgreSQL');
    const s = await driveLoad({ pcscf: net!.pcscf, subscribers, scenario: 'register', rate: 50, maxInFlight: 40, firstAddress: '127.21.0.1', portBase: 15000, deregisterAtEnd: false });
    assert.equal(s.failureRatio, 0, JSON.stringify(s.ops));
    assert.equal(s.ops.register?.ok, UES);
    const perScscf = await registered();
    assert.equal(perScscf[0] + perScscf[1], UES, `every registration in the store (${perScscf.join(' + ')})`);
    assert.ok(perScscf.every((n) => n >= UES / 4), `both S-CSCFs serve a share (${perScscf.join(' / ')})`);
  });
});
