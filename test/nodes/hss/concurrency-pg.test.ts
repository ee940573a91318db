/**
 * R-AKA-3 across processes: two `imsec hss` processes share one PostgreSQL database (a throwaway
 * server, test/support/postgres.ts) and answer many concurrent MARs for the same subscribers
 * from two S-CSCFs, each connected to both HSSs. Every SQN (recovered as AUTN ⊕ AK with the
 * subscriber's keys) must be distinct, each S-CSCF must keep one IND whichever HSS answers, the
 * SEQ values of a subscriber must be exactly 1…N (none lost, none twice), and SQNs issued to one
 * S-CSCF one after another must increase.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DiameterNode } from '../../../src/diameter/io.js';
import { openStore } from '../../../src/store/index.js';
import { needPostgres, postgresBinDir, startPostgres, type PgServer } from '../../support/postgres.js';
import { alice, mar, testSet1 } from './support.js';
import { clientNode, sqnsOf, startHssProcess, type HssProcess } from './process.js';

const USERS = [1, 2, 3];
const impiOf = (i: number) => `alice${i}@ims.lab`;
const impuOf = (i: number) => `sip:alice${i}@ims.lab`;

describe('R-AKA-3: two HSS processes on one PostgreSQL', () => {
  let pg: PgServer | undefined;
  before(async () => {
    if (postgresBinDir() !== undefined) pg = await startPostgres();
  });
  after(() => pg?.stop());

  test('[R-AKA-3] concurrent MARs through two HSSs never get the same SQN; IND per S-CSCF; SEQ 1…N without gaps; sequential SQNs increase', { timeout: 120_000 }, async (t) => {
    if (!needPostgres(t) || pg === undefined) return;
    const url = await pg.createDatabase();
    const seed = await openStore(url);
    for (const i of USERS) await seed.createSubscriber(alice(i));
    await seed.close();
    const { k, opc } = testSet1();
    const procs: HssProcess[] = [];
    const nodes: DiameterNode[] = [];
    try {
      for (const name of ['hss1.ims.lab', 'hss2.ims.lab']) {
        procs.push(await startHssProcess(['--store', url, '--listen', '127.0.0.1:0', '--rest', 'off', '--origin-host', name, '--peer', 'scscf-a.ims.lab', '--peer', 'scscf-b.ims.lab', '--log-level', 'warn']));
      }
      const hss = [
        { host: 'hss1.ims.lab', port: procs[0].diameterPort },
        { host: 'hss2.ims.lab', port: procs[1].diameterPort },
      ];
      for (const s of ['scscf-a.ims.lab', 'scscf-b.ims.lab']) nodes.push(await clientNode(s, hss));

      // Phase 1: 600 MARs (1–3 vectors each), 48 in flight, spread over both S-CSCFs and both HSSs.
      const issued = new Map<string, number[]>(); // `${impi} ${scscf}` → SQNs
      let next = 0;
      const TOTAL = 600;
      const worker = async (): Promise<void> => {
        for (let j = next++; j < TOTAL; j = next++) {
          const user = USERS[j % USERS.length];
          const node = nodes[(j >> 1) % 2];
          const peer = hss[j % 2].host;
          const n = 1 + (j % 3);
          const sqns = sqnsOf(await node.request(mar({ impi: impiOf(user), impu: impuOf(user), n, originHost: node.local.originHost }), { peer }), k, opc);
          assert.equal(sqns.length, n);
          for (let x = 1; x < sqns.length; x++) assert.ok(sqns[x] > sqns[x - 1], 'a batch is in increasing order (R-AKA-2)');
          const key = `${impiOf(user)} ${node.local.originHost}`;
          issued.set(key, [...(issued.get(key) ?? []), ...sqns]);
        }
      };
      await Promise.all(Array.from({ length: 48 }, worker));

      // Phase 2: one S-CSCF asks one MAR at a time, alternating HSSs: its SQNs increase.
      const sequential: number[] = [];
      for (let j = 0; j < 20; j++) {
        sequential.push(...sqnsOf(await nodes[0].request(mar({ impi: impiOf(1), impu: impuOf(1), n: 1, originHost: 'scscf-a.ims.lab' }), { peer: hss[j % 2].host }), k, opc));
      }
      for (let x = 1; x < sequential.length; x++) assert.ok(sequential[x] > sequential[x - 1], `sequential SQNs increase: ${sequential[x - 1]} then ${sequential[x]}`);
      issued.set(`${impiOf(1)} scscf-a.ims.lab`, [...issued.get(`${impiOf(1)} scscf-a.ims.lab`)!, ...sequential]);

      const indOf = new Map<string, Set<number>>();
      for (const i of USERS) {
        const all: number[] = [];
        for (const s of ['scscf-a.ims.lab', 'scscf-b.ims.lab']) {
          const list = issued.get(`${impiOf(i)} ${s}`) ?? [];
          all.push(...list);
          indOf.set(s, new Set([...(indOf.get(s) ?? []), ...list.map((q) => q % 32)]));
        }
        assert.equal(new Set(all).size, all.length, `${impiOf(i)}: no SQN issued twice`);
        const seqs = all.map((q) => Math.floor(q / 32)).sort((a, b) => a - b);
        assert.deepEqual(seqs, seqs.map((_, x) => x + 1), `${impiOf(i)}: SEQ values are exactly 1..${seqs.length}`);
      }
      const a = [...indOf.get('scscf-a.ims.lab')!];
      const b = [...indOf.get('scscf-b.ims.lab')!];
      assert.equal(a.length, 1, 'scscf-a has one IND whichever HSS answered');
      assert.equal(b.length, 1, 'scscf-b has one IND whichever HSS answered');
      assert.notEqual(a[0], b[0], 'the two S-CSCFs have different IND values (TS 33.102 C.1.2)');
    } finally {
      for (const n of nodes) await n.stop();
      for (const p of procs) {
        p.proc.kill('SIGTERM');
        await p.exited;
      }
    }
  });
});
