/**
 * Group commit of SQN allocations (nodes/hss/group-commit.ts over the store's allocateSqnsMany):
 * concurrent requests share one transaction, each still gets its own distinct SQNs (R-AKA-3),
 * one bad request does not fail the others, and a store without the batch method is called once
 * per request. Also the pooled RNG that feeds RAND.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../../src/common/index.js';
import { NotFoundError, type HssStore } from '../../../src/store/index.js';
import { RegistrationBatcher, SqnBatcher } from '../../../src/nodes/hss/group-commit.js';
import { openStore } from '../../../src/store/index.js';
import { needPostgres, postgresBinDir, startPostgres, type PgServer } from '../../support/postgres.js';
import { alice, memoryStore } from './support.js';

async function store3(): Promise<HssStore> {
  const s = memoryStore();
  for (const i of [1, 2, 3]) await s.createSubscriber(alice(i));
  return s;
}

/** `store` without its batch method `many`, counting the calls of `one`. */
function withoutBatch(store: HssStore, many: 'allocateSqnsMany' | 'setRegistrationsMany', one: 'allocateSqns' | 'setRegistration'): { store: HssStore; calls: () => number } {
  let calls = 0;
  const proxy = new Proxy(store, {
    get(t, p) {
      if (p === many) return undefined;
      const v = Reflect.get(t, p, t) as unknown;
      if (typeof v !== 'function') return v;
      const bound = (v as (...x: unknown[]) => unknown).bind(t);
      return p === one ? (...a: unknown[]) => (calls++, bound(...a)) : bound;
    },
  });
  return { store: proxy, calls: () => calls };
}

describe('SQN group commit', () => {
  test('[R-AKA-3] 30 concurrent allocations run in one transaction and never share an SQN', async () => {
    const store = await store3();
    const b = new SqnBatcher(store);
    const got = await Promise.all(Array.from({ length: 30 }, (_, j) => b.allocate(`alice${(j % 3) + 1}@ims.lab`, j % 2 ? 'scscf.ims.lab' : 'scscf2.ims.lab', 1 + (j % 2))));
    assert.deepEqual(b.stats, { batches: 1, requests: 30, largest: 30 });
    for (const i of [1, 2, 3]) {
      const mine = got.filter((_, j) => (j % 3) + 1 === i).flatMap((a) => a.sqns.map((s) => Math.floor(s / 32)));
      assert.deepEqual([...mine].sort((x, y) => x - y), mine.map((_, x) => x + 1), `alice${i}: SEQ 1..${mine.length}, each once`);
      assert.equal((await store.getSubscriber(`alice${i}@ims.lab`))!.seqHe, mine.length, 'SEQ_HE committed');
    }
  });

  test('[R-AKA-3] an unknown IMPI in a batch gets its NotFoundError; the others still commit', async () => {
    const store = await store3();
    const b = new SqnBatcher(store);
    const [ok1, bad, ok2] = await Promise.allSettled([b.allocate('alice1@ims.lab', 'scscf.ims.lab', 1), b.allocate('ghost@ims.lab', 'scscf.ims.lab', 1), b.allocate('alice2@ims.lab', 'scscf.ims.lab', 1)]);
    assert.equal(ok1.status, 'fulfilled');
    assert.equal(ok2.status, 'fulfilled');
    assert.ok(bad.status === 'rejected' && bad.reason instanceof NotFoundError);
    assert.equal(b.stats.batches, 1);
    assert.equal((await store.getSubscriber('alice1@ims.lab'))!.seqHe, 1);
  });

  test('[R-AKA-3] batches are cut at maxBatch; a store without allocateSqnsMany is called per request', async () => {
    const store = await store3();
    const b = new SqnBatcher(store, { maxBatch: 4 });
    await Promise.all(Array.from({ length: 10 }, () => b.allocate('alice1@ims.lab', 'scscf.ims.lab', 1)));
    assert.deepEqual([b.stats.batches, b.stats.largest], [3, 4]);
    const plain = withoutBatch(store, 'allocateSqnsMany', 'allocateSqns');
    const p = new SqnBatcher(plain.store);
    const r = await Promise.all([p.allocate('alice2@ims.lab', 'scscf.ims.lab', 1), p.allocate('alice2@ims.lab', 'scscf.ims.lab', 1)]);
    assert.equal(plain.calls(), 2);
    assert.notEqual(r[0].sqns[0], r[1].sqns[0]);
  });
});

describe('SQN group commit on PostgreSQL (one UPDATE per batch, rows locked in IMPI order)', () => {
  let pg: PgServer | undefined;
  before(async () => {
    if (postgresBinDir() !== undefined) pg = await startPostgres();
  });
  after(() => pg?.stop());

  test('[R-AKA-3] concurrent batches on two connections: each request its own range, SEQ 1..N per subscriber, errors per request', async (t) => {
    if (!needPostgres(t) || pg === undefined) return;
    const url = await pg.createDatabase();
    const a = await openStore(url);
    const b = await openStore(url);
    try {
      for (const i of [1, 2, 3]) await a.createSubscriber(alice(i));
      const batch = (n: number) => Array.from({ length: n }, (_, j) => ({ impi: j === 5 ? 'ghost@ims.lab' : `alice${3 - (j % 3)}@ims.lab`, originHost: j % 2 ? 'scscf.ims.lab' : 'scscf2.ims.lab', count: 1 + (j % 2) }));
      const results = (await Promise.all([a.allocateSqnsMany!(batch(20)), b.allocateSqnsMany!(batch(20)), a.allocateSqnsMany!(batch(7))])).flat();
      const errors = results.filter((r) => r instanceof Error);
      assert.equal(errors.length, 3, 'the unknown IMPI fails in each batch');
      assert.ok(errors.every((e) => e instanceof NotFoundError));
      const reqs = [...batch(20), ...batch(20), ...batch(7)];
      for (const i of [1, 2, 3]) {
        const seqs = results.flatMap((r, j) => (r instanceof Error || reqs[j].impi !== `alice${i}@ims.lab` ? [] : r.sqns.map((q) => Math.floor(q / 32)))).sort((x, y) => x - y);
        assert.deepEqual(seqs, seqs.map((_, x) => x + 1), `alice${i}: every SEQ once`);
        assert.equal((await a.getSubscriber(`alice${i}@ims.lab`))!.seqHe, seqs.length);
      }
      results.forEach((r, j) => {
        if (!(r instanceof Error)) assert.equal(r.sqns.length, reqs[j].count);
      });
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('registration state group commit (TS 29.228 §6.1.2, §6.3: the flag MAR and SAR write)', () => {
  test('[R-REG-1] [R-REG-2] concurrent updates run in one transaction, in arrival order, each returning the fields before it; every IMPU of the set follows', async () => {
    const store = await store3();
    const b = new RegistrationBatcher(store);
    const [pending, registered, other] = await Promise.all([
      b.set('sip:alice1@ims.lab', { state: 'PENDING', scscfName: 'sip:scscf.ims.lab' }),
      b.set('tel:+15551001', { state: 'REGISTERED', scscfName: 'sip:scscf.ims.lab' }),
      b.set('sip:alice2@ims.lab', { state: 'REGISTERED', scscfName: 'sip:scscf2.ims.lab' }),
    ]);
    assert.deepEqual(b.stats, { batches: 1, requests: 3, largest: 3 });
    assert.deepEqual(pending.map((p) => [p.impu, p.state]), [['sip:alice1@ims.lab', 'NOT_REGISTERED'], ['tel:+15551001', 'NOT_REGISTERED']]);
    assert.deepEqual(registered.map((p) => p.state), ['PENDING', 'PENDING'], 'the second update of the batch sees the first');
    assert.deepEqual(other.map((p) => p.state), ['NOT_REGISTERED', 'NOT_REGISTERED']);
    const now = async (impu: string) => {
      const p = (await store.getPublicIdentity(impu))!;
      return [p.state, p.scscfName];
    };
    assert.deepEqual(await now('sip:alice1@ims.lab'), ['REGISTERED', 'sip:scscf.ims.lab']);
    assert.deepEqual(await now('sip:alice2@ims.lab'), ['REGISTERED', 'sip:scscf2.ims.lab']);
    assert.deepEqual(await now('sip:alice1-work@ims.lab'), ['NOT_REGISTERED', null], 'another implicit set is untouched');
  });

  test('[R-REG-1] an unknown IMPU or a bad state in a batch gets its own typed error; the others still commit', async () => {
    const store = await store3();
    const b = new RegistrationBatcher(store);
    const [ok, ghost, bad] = await Promise.allSettled([
      b.set('sip:alice3@ims.lab', { state: 'REGISTERED', scscfName: 'sip:scscf.ims.lab' }),
      b.set('sip:ghost@ims.lab', { state: 'REGISTERED', scscfName: 'sip:scscf.ims.lab' }),
      b.set('sip:alice2@ims.lab', { state: 'BOGUS' as never }),
    ]);
    assert.equal(ok.status, 'fulfilled');
    assert.ok(ghost.status === 'rejected' && ghost.reason instanceof NotFoundError);
    assert.ok(bad.status === 'rejected' && bad.reason instanceof InvalidArgumentError);
    assert.equal(b.stats.batches, 1);
    assert.equal((await store.getPublicIdentity('sip:alice3@ims.lab'))!.state, 'REGISTERED');
    assert.equal((await store.getPublicIdentity('sip:alice2@ims.lab'))!.state, 'NOT_REGISTERED');
  });

  test('[R-REG-1] a store without setRegistrationsMany is called once per update', async () => {
    const store = await store3();
    const plain = withoutBatch(store, 'setRegistrationsMany', 'setRegistration');
    const b = new RegistrationBatcher(plain.store);
    await Promise.all([b.set('sip:alice1@ims.lab', { state: 'PENDING', scscfName: 'sip:scscf.ims.lab' }), b.set('sip:alice2@ims.lab', { state: 'PENDING', scscfName: 'sip:scscf.ims.lab' })]);
    assert.equal(plain.calls(), 2);
    assert.deepEqual(b.stats, { batches: 0, requests: 0, largest: 0 });
    assert.equal((await store.getPublicIdentity('sip:alice2@ims.lab'))!.state, 'PENDING');
  });
});
