import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { ConflictError, NotFoundError, type HssStore, type PublicIdentitySpec } from '../../src/store/index.js';
import { SET1, storeBackends, subscriber } from './backends.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function impu(impu: string, irs = 1, extra: Partial<PublicIdentitySpec> = {}): PublicIdentitySpec {
  return { impu, irs, barred: false, pseudonym: false, isDefault: false, ...extra };
}

for (const b of storeBackends()) {
  describe(`HssStore provisioning on ${b.name}`, () => {
    test('a created subscriber reads back field by field, with no key material', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      const created = await s.createSubscriber(
        subscriber(1, {
          amf: 0xb9b9,
          seqHe: 7,
          authSchemes: ['Digest-AKAv1-MD5', 'Digest-AKAv2-MD5'],
          serviceProfile: '<IMSSubscription/>',
          impus: [
            impu('sip:user1@ims.example.net', 1, { isDefault: true }),
            impu('tel:+15550001', 1, { barred: true }),
            impu('sip:anon1@ims.example.net', 2, { pseudonym: true }),
          ],
          implicitSets: [{ irs: 2, serviceProfile: '<IMSSubscription><set2/></IMSSubscription>' }],
        }),
      );
      const got = await s.getSubscriber('user1@ims.example.net');
      assert.deepEqual(got, created);
      assert.deepEqual(got, {
        impi: 'user1@ims.example.net',
        amf: 0xb9b9,
        seqHe: 7,
        indBits: 5,
        authSchemes: ['Digest-AKAv1-MD5', 'Digest-AKAv2-MD5'],
        serviceProfile: '<IMSSubscription/>',
        implicitSets: [{ irs: 2, serviceProfile: '<IMSSubscription><set2/></IMSSubscription>' }],
        impus: [
          { impu: 'sip:user1@ims.example.net', impi: 'user1@ims.example.net', irs: 1, barred: false, pseudonym: false, isDefault: true, state: 'NOT_REGISTERED', scscfName: null },
          { impu: 'tel:+15550001', impi: 'user1@ims.example.net', irs: 1, barred: true, pseudonym: false, isDefault: false, state: 'NOT_REGISTERED', scscfName: null },
          { impu: 'sip:anon1@ims.example.net', impi: 'user1@ims.example.net', irs: 2, barred: false, pseudonym: true, isDefault: false, state: 'NOT_REGISTERED', scscfName: null },
        ],
      });
      const text = JSON.stringify([got, await s.listSubscribers(), await s.getPublicIdentity('tel:+15550001'), await s.getImplicitSet('tel:+15550001')]);
      assert.ok(!text.includes(hex(SET1.k)) && !text.includes(hex(SET1.opc)), 'K/OPc leaked');
      assert.ok(!('k' in got) && !('opc' in got));
      assert.equal(await s.getSubscriber('nobody@ims.example.net'), null);
      assert.equal(await s.countSubscribers(), 1);
    });

    test('a duplicate IMPI or IMPU is a ConflictError naming it, and nothing is written', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await s.createSubscriber(subscriber(1));
      await assert.rejects(s.createSubscriber(subscriber(1, { impus: [impu('sip:other@ims.example.net', 1, { isDefault: true })] })), (e) => {
        assert.ok(e instanceof ConflictError);
        assert.equal(e.code, 'STORE_CONFLICT');
        assert.equal(e.field, 'impi');
        return true;
      });
      await assert.rejects(s.createSubscriber(subscriber(2, { impus: [impu('sip:new2@ims.example.net', 1, { isDefault: true }), impu('tel:+15550001')] })), (e) => {
        assert.ok(e instanceof ConflictError);
        assert.equal(e.field, 'impu');
        assert.equal(e.value, 'tel:+15550001');
        return true;
      });
      assert.equal(await s.getSubscriber('user2@ims.example.net'), null);
      assert.equal(await s.getPublicIdentity('sip:new2@ims.example.net'), null);
    });

    test('a bulk insert is all or nothing and reports the index of the clash', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await s.createSubscriber(subscriber(3));
      const progress: number[] = [];
      await assert.rejects(s.createSubscribers([subscriber(1), subscriber(2), subscriber(3), subscriber(4)], (d) => progress.push(d)), (e) => {
        assert.ok(e instanceof ConflictError);
        assert.equal(e.index, 2);
        return true;
      });
      assert.ok(progress.every((d) => d <= 2), `progress went past the clash: ${progress.join(',')}`);
      assert.equal(await s.countSubscribers(), 1);
      assert.equal(await s.getSubscriber('user1@ims.example.net'), null);
      progress.length = 0;
      assert.equal(await s.createSubscribers([subscriber(1), subscriber(2)], (d, total) => progress.push(d * 10 + total)), 2);
      assert.equal(progress[progress.length - 1], 22, 'the last progress report is done = total');
      await assert.rejects(s.createSubscribers([subscriber(7), subscriber(7)]), (e) => e instanceof ConflictError && e.index === 1);
      assert.equal(await s.getSubscriber('user7@ims.example.net'), null);
      assert.equal(await s.countSubscribers(), 3);
    });

    test('invalid records are refused with InvalidArgumentError naming the field, never the key', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      const bad: [string, Parameters<typeof subscriber>[1]][] = [
        ['k', { k: new Uint8Array(15) }],
        ['opc', { opc: new Uint8Array(17) }],
        ['amf', { amf: 0x10000 }],
        ['seqHe', { seqHe: 2 ** 43 }],
        ['impus', { impus: [] }],
        ['impus', { impus: [impu('sip:a@ims.example.net'), impu('sip:b@ims.example.net')] }],
        ['impu', { impus: [impu('mailto:a@ims.example.net', 1, { isDefault: true })] }],
        ['authSchemes', { authSchemes: [] }],
        ['implicitSets', { implicitSets: [{ irs: 9, serviceProfile: 'x' }] }],
      ];
      for (const [field, extra] of bad) {
        await assert.rejects(s.createSubscriber(subscriber(1, extra)), (e) => {
          assert.ok(e instanceof InvalidArgumentError, field);
          assert.equal(e.argument, field);
          assert.ok(!e.message.includes(hex(SET1.k)));
          return true;
        });
      }
      await assert.rejects(s.createSubscriber(subscriber('x y')), InvalidArgumentError);
      assert.equal(await s.countSubscribers(), 0);
    });

    test('update changes only what the patch names; kept IMPUs keep their registration', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await s.createSubscriber(subscriber(1));
      await s.createSubscriber(subscriber(2));
      await s.setRegistration('sip:user1@ims.example.net', { state: 'REGISTERED', scscfName: 'sip:scscf.ims.example.net' });
      const u = await s.updateSubscriber('user1@ims.example.net', {
        amf: 0x0001,
        impus: [impu('sip:user1@ims.example.net', 1, { isDefault: true, barred: false }), impu('sip:extra1@ims.example.net', 2)],
        implicitSets: [{ irs: 2, serviceProfile: '<p/>' }],
      });
      assert.equal(u.amf, 1);
      assert.equal(u.seqHe, 0);
      assert.deepEqual(u.impus.map((x) => [x.impu, x.irs, x.state, x.scscfName]), [
        ['sip:user1@ims.example.net', 1, 'REGISTERED', 'sip:scscf.ims.example.net'],
        ['sip:extra1@ims.example.net', 2, 'NOT_REGISTERED', null],
      ]);
      assert.deepEqual(u.implicitSets, [{ irs: 2, serviceProfile: '<p/>' }]);
      assert.equal(await s.getPublicIdentity('tel:+15550001'), null);
      await assert.rejects(s.updateSubscriber('user1@ims.example.net', { k: SET1.k }), (e) => e instanceof InvalidArgumentError && e.argument === 'opc');
      await assert.rejects(s.updateSubscriber('nobody@ims.example.net', { amf: 1 }), (e) => e instanceof NotFoundError && e.code === 'STORE_NOT_FOUND');
      await assert.rejects(
        s.updateSubscriber('user1@ims.example.net', { impus: [impu('sip:user1@ims.example.net', 1, { isDefault: true }), impu('tel:+15550002')] }),
        (e) => e instanceof ConflictError && e.value === 'tel:+15550002',
      );
      assert.deepEqual((await s.getSubscriber('user1@ims.example.net'))!.impus.length, 2);
      const k2 = new Uint8Array(16).fill(7);
      await s.updateSubscriber('user1@ims.example.net', { k: k2, opc: k2 });
      const a = await s.allocateSqns('user1@ims.example.net', 'scscf.example.net', 1);
      assert.deepEqual([hex(a.k), hex(a.opc), a.amf], [hex(k2), hex(k2), 1]);
    });

    test('delete removes the subscriber and its IMPUs; a second delete reports false', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await s.createSubscriber(subscriber(1));
      assert.equal(await s.deleteSubscriber('user1@ims.example.net'), true);
      assert.equal(await s.deleteSubscriber('user1@ims.example.net'), false);
      assert.equal(await s.getPublicIdentity('tel:+15550001'), null);
      await s.createSubscriber(subscriber(1));
      assert.equal(await s.countSubscribers(), 1);
    });

    test('list pages by IMPI with limit and after', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await s.createSubscribers([5, 3, 1, 4, 2].map((i) => subscriber(i)));
      const p1 = await s.listSubscribers({ limit: 2 });
      assert.deepEqual(p1.map((x) => x.impi), ['user1@ims.example.net', 'user2@ims.example.net']);
      const p2 = await s.listSubscribers({ limit: 2, after: p1[1].impi });
      assert.deepEqual(p2.map((x) => x.impi), ['user3@ims.example.net', 'user4@ims.example.net']);
      assert.deepEqual((await s.listSubscribers({ after: p2[1].impi })).map((x) => x.impi), ['user5@ims.example.net']);
      assert.equal(p1[0].impus.length, 2);
      await assert.rejects(s.listSubscribers({ limit: 0 }), InvalidArgumentError);
    });
  });

  describe(`HssStore Cx lookups and registration state on ${b.name}`, () => {
    async function twoSets(s: HssStore): Promise<void> {
      await s.createSubscriber(
        subscriber(1, {
          serviceProfile: '<sub/>',
          impus: [impu('sip:user1@ims.example.net', 1, { isDefault: true }), impu('tel:+15550001', 1), impu('sip:work1@ims.example.net', 2)],
          implicitSets: [{ irs: 2, serviceProfile: '<work/>' }],
        }),
      );
      await s.createSubscriber(subscriber(2));
    }

    test('[R-REG-1] matchIdentities maps onto Cx results: MATCH, USER_UNKNOWN, IDENTITIES_DONT_MATCH', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await twoSets(s);
      assert.equal(await s.matchIdentities('user1@ims.example.net', 'tel:+15550001'), 'MATCH');
      assert.equal(await s.matchIdentities('user1@ims.example.net', 'sip:user2@ims.example.net'), 'IDENTITIES_DONT_MATCH');
      assert.equal(await s.matchIdentities('user1@ims.example.net', 'sip:nobody@ims.example.net'), 'USER_UNKNOWN');
      assert.equal(await s.matchIdentities('nobody@ims.example.net', 'tel:+15550001'), 'USER_UNKNOWN');
    });

    test('[R-REG-2] the implicit set of an IMPU holds exactly its set, with the set profile or else the subscriber profile', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await twoSets(s);
      const one = await s.getImplicitSet('tel:+15550001');
      assert.deepEqual([one!.impi, one!.irs, one!.serviceProfile, one!.impus.map((x) => x.impu)], ['user1@ims.example.net', 1, '<sub/>', ['sip:user1@ims.example.net', 'tel:+15550001']]);
      const two = await s.getImplicitSet('sip:work1@ims.example.net');
      assert.deepEqual([two!.irs, two!.serviceProfile, two!.impus.map((x) => x.impu)], [2, '<work/>', ['sip:work1@ims.example.net']]);
      assert.equal(await s.getImplicitSet('sip:nobody@ims.example.net'), null);
      assert.equal((await s.getPublicIdentity('sip:work1@ims.example.net'))!.irs, 2);
    });

    test('[R-REG-2] setRegistration moves the whole implicit set at once and returns the previous fields', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await twoSets(s);
      const prev = await s.setRegistration('tel:+15550001', { state: 'REGISTERED', scscfName: 'sip:scscf1.ims.example.net' });
      assert.deepEqual(prev, [
        { impu: 'sip:user1@ims.example.net', state: 'NOT_REGISTERED', scscfName: null },
        { impu: 'tel:+15550001', state: 'NOT_REGISTERED', scscfName: null },
      ]);
      const set = await s.getImplicitSet('sip:user1@ims.example.net');
      assert.deepEqual(set!.impus.map((x) => [x.state, x.scscfName]), [['REGISTERED', 'sip:scscf1.ims.example.net'], ['REGISTERED', 'sip:scscf1.ims.example.net']]);
      assert.equal((await s.getPublicIdentity('sip:work1@ims.example.net'))!.state, 'NOT_REGISTERED');
      const again = await s.setRegistration('sip:user1@ims.example.net', { state: 'UNREGISTERED' });
      assert.deepEqual(again.map((x) => [x.state, x.scscfName]), [['REGISTERED', 'sip:scscf1.ims.example.net'], ['REGISTERED', 'sip:scscf1.ims.example.net']]);
      assert.equal((await s.getPublicIdentity('tel:+15550001'))!.scscfName, 'sip:scscf1.ims.example.net', 'undefined scscfName keeps the name');
      await assert.rejects(s.setRegistration('sip:nobody@ims.example.net', { state: 'REGISTERED' }), NotFoundError);
      await assert.rejects(s.setRegistration('tel:+15550001', { state: 'BOGUS' as never }), InvalidArgumentError);
    });

    test('[R-REG-1] [R-REG-2] setRegistrationsMany: one transaction, in order, each update seeing the ones before it (the same set named by two IMPUs), a bad update failing alone', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await twoSets(s);
      assert.equal(typeof s.setRegistrationsMany, 'function', `${b.name} has the group commit`);
      const r = await s.setRegistrationsMany!([
        { impu: 'sip:user1@ims.example.net', update: { state: 'PENDING', scscfName: 'sip:scscf1.ims.example.net' } },
        { impu: 'sip:user2@ims.example.net', update: { state: 'REGISTERED', scscfName: 'sip:scscf2.ims.example.net' } },
        { impu: 'sip:nobody@ims.example.net', update: { state: 'REGISTERED' } },
        { impu: 'tel:+15550001', update: { state: 'REGISTERED' } },
        { impu: 'sip:work1@ims.example.net', update: { state: 'BOGUS' as never } },
      ]);
      assert.deepEqual(r[0], [
        { impu: 'sip:user1@ims.example.net', state: 'NOT_REGISTERED', scscfName: null },
        { impu: 'tel:+15550001', state: 'NOT_REGISTERED', scscfName: null },
      ]);
      assert.deepEqual(r[1], [
        { impu: 'sip:user2@ims.example.net', state: 'NOT_REGISTERED', scscfName: null },
        { impu: 'tel:+15550002', state: 'NOT_REGISTERED', scscfName: null },
      ]);
      assert.ok(r[2] instanceof NotFoundError);
      assert.deepEqual(r[3], [
        { impu: 'sip:user1@ims.example.net', state: 'PENDING', scscfName: 'sip:scscf1.ims.example.net' },
        { impu: 'tel:+15550001', state: 'PENDING', scscfName: 'sip:scscf1.ims.example.net' },
      ], 'the fourth update sees the first: same set through its other IMPU');
      assert.ok(r[4] instanceof InvalidArgumentError);
      const now = async (impu: string) => {
        const p = (await s.getPublicIdentity(impu))!;
        return [p.state, p.scscfName];
      };
      assert.deepEqual(await now('tel:+15550001'), ['REGISTERED', 'sip:scscf1.ims.example.net']);
      assert.deepEqual(await now('tel:+15550002'), ['REGISTERED', 'sip:scscf2.ims.example.net']);
      assert.deepEqual(await now('sip:work1@ims.example.net'), ['NOT_REGISTERED', null], 'the bad update changed nothing');
      // PENDING then REGISTERED in one batch: REGISTERED forgets what PENDING remembered (R-AKA-8).
      assert.deepEqual((await s.revertPending('sip:user1@ims.example.net')).map((x) => x.state), ['REGISTERED', 'REGISTERED']);
      assert.deepEqual(await s.setRegistrationsMany!([]), []);
    });

    test('[R-REG-1] two stores on one database (two HSS processes) committing batches that name the same sets in opposite orders both commit: no deadlock', async (t) => {
      const url = await b.freshUrl(t);
      if (url === null) return;
      const one = await b.reopen(url);
      const two = b.name === 'sqlite' ? one : await b.reopen(url);
      await one.createSubscribers(Array.from({ length: 12 }, (_, i) => subscriber(i + 10)));
      const impus = Array.from({ length: 12 }, (_, i) => `sip:user${i + 10}@ims.example.net`);
      for (let round = 0; round < 10; round++) {
        const state = round % 2 === 0 ? 'REGISTERED' : 'NOT_REGISTERED';
        const batch = (order: string[]) => order.map((impu) => ({ impu, update: { state, scscfName: state === 'REGISTERED' ? 'sip:scscf1.ims.example.net' : null } as const }));
        const [a, c] = await Promise.all([one.setRegistrationsMany!(batch(impus)), two.setRegistrationsMany!(batch([...impus].reverse()))]);
        assert.deepEqual([...a, ...c].filter((x) => x instanceof Error), [], `round ${round}`);
      }
      assert.deepEqual(new Set(await Promise.all(impus.map(async (u) => (await one.getPublicIdentity(u))!.state))), new Set(['NOT_REGISTERED']));
    });

    test('[R-AKA-8] a pending authentication that fails or times out puts the set back exactly as it was', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await twoSets(s);
      await s.setRegistration('tel:+15550001', { state: 'UNREGISTERED', scscfName: 'sip:old.ims.example.net' });
      const prev = await s.setRegistration('tel:+15550001', { state: 'PENDING', scscfName: 'sip:new.ims.example.net' });
      assert.deepEqual(prev.map((x) => [x.state, x.scscfName]), [['UNREGISTERED', 'sip:old.ims.example.net'], ['UNREGISTERED', 'sip:old.ims.example.net']]);
      // A second MAR while pending must not overwrite the remembered state.
      await s.setRegistration('tel:+15550001', { state: 'PENDING', scscfName: 'sip:new.ims.example.net' });
      const after = await s.revertPending('sip:user1@ims.example.net');
      assert.deepEqual(after, [
        { impu: 'sip:user1@ims.example.net', state: 'UNREGISTERED', scscfName: 'sip:old.ims.example.net' },
        { impu: 'tel:+15550001', state: 'UNREGISTERED', scscfName: 'sip:old.ims.example.net' },
      ]);
      assert.deepEqual(
        (await s.getImplicitSet('tel:+15550001'))!.impus.map((x) => [x.state, x.scscfName]),
        [['UNREGISTERED', 'sip:old.ims.example.net'], ['UNREGISTERED', 'sip:old.ims.example.net']],
      );
      // From NOT_REGISTERED: back to NOT_REGISTERED with no S-CSCF name.
      await s.setRegistration('sip:work1@ims.example.net', { state: 'PENDING', scscfName: 'sip:new.ims.example.net' });
      assert.deepEqual(await s.revertPending('sip:work1@ims.example.net'), [{ impu: 'sip:work1@ims.example.net', state: 'NOT_REGISTERED', scscfName: null }]);
      // The snapshot route: restoreRegistration puts back what setRegistration returned.
      const snap = await s.setRegistration('sip:user2@ims.example.net', { state: 'PENDING', scscfName: 'sip:x.ims.example.net' });
      await s.restoreRegistration(snap);
      assert.deepEqual((await s.getImplicitSet('sip:user2@ims.example.net'))!.impus.map((x) => [x.state, x.scscfName]), [['NOT_REGISTERED', null], ['NOT_REGISTERED', null]]);
    });

    test('[R-AKA-7] reverting a failed re-authentication leaves a registered user registered', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await twoSets(s);
      await s.setRegistration('tel:+15550001', { state: 'REGISTERED', scscfName: 'sip:scscf1.ims.example.net' });
      const after = await s.revertPending('tel:+15550001');
      assert.deepEqual(after.map((x) => [x.state, x.scscfName]), [['REGISTERED', 'sip:scscf1.ims.example.net'], ['REGISTERED', 'sip:scscf1.ims.example.net']]);
    });

    test('[R-REG-1] S-CSCF name set and cleared per set; listServedImpus filters by S-CSCF and state', async (t) => {
      const s = await b.open(t);
      if (s === null) return;
      await twoSets(s);
      await s.setRegistration('tel:+15550001', { state: 'REGISTERED', scscfName: 'sip:a.ims.example.net' });
      await s.setRegistration('sip:work1@ims.example.net', { state: 'UNREGISTERED', scscfName: 'sip:a.ims.example.net' });
      await s.setRegistration('sip:user2@ims.example.net', { state: 'REGISTERED', scscfName: 'sip:b.ims.example.net' });
      assert.deepEqual((await s.listServedImpus('sip:a.ims.example.net')).map((x) => x.impu), ['sip:user1@ims.example.net', 'tel:+15550001']);
      assert.deepEqual((await s.listServedImpus('sip:a.ims.example.net', ['REGISTERED', 'UNREGISTERED'])).map((x) => x.impu), [
        'sip:user1@ims.example.net', 'sip:work1@ims.example.net', 'tel:+15550001',
      ]);
      const prev = await s.setScscfName('sip:user1@ims.example.net', null);
      assert.deepEqual(prev.map((x) => x.scscfName), ['sip:a.ims.example.net', 'sip:a.ims.example.net']);
      assert.deepEqual((await s.listServedImpus('sip:a.ims.example.net')).map((x) => x.impu), []);
      assert.equal((await s.getPublicIdentity('sip:user1@ims.example.net'))!.state, 'REGISTERED');
    });
  });
}
