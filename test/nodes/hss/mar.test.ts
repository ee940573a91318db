/**
 * MAR/MAA at the HSS (TS 29.228 §6.3, TS 29.229 §6.1.7–6.1.8): vector batches, SQN handling
 * (TS 33.102 Annex C), resynchronisation (§6.3.5), schemes, identity checks and the
 * authentication-pending state. Requests come from the Diameter package's builders, answers are
 * read with its parsers; SQNs are recovered from AUTN with a Milenage instance of the test's own,
 * and one vector is checked against osmo-auc-gen (an independent C Milenage).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAuts } from '../../../src/auth/aka/index.js';
import { Milenage } from '../../../src/auth/milenage/index.js';
import { ManualClock, toHex } from '../../../src/common/index.js';
import { akaResyncItem, akaVectorOf, DiameterAvpError, parseMaa } from '../../../src/diameter/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { needPeer } from '../../support/peers.js';
import { alice, makeCore, mar, memoryStore, recoverSqn, resultOf, REALM, SCSCF, SCSCF2, SCSCF2_HOST, testSet1 } from './support.js';

const IMPI = `alice@${REALM}`;
const IMPU = `sip:alice@${REALM}`;

async function setup(extra: Parameters<typeof alice>[1] = {}, coreExtra: Parameters<typeof makeCore>[1] = {}) {
  const store = memoryStore();
  await store.createSubscriber(alice('', extra));
  return { store, core: makeCore(store, coreExtra) };
}

describe('TS 29.228 §6.3 MAR: authentication vectors', () => {
  test('[R-AKA-2] a batch of 3 comes back in SIP-Item-Number order with consecutive SQNs, RAND‖AUTN / XRES / CK / IK in place', async () => {
    const { core } = await setup();
    const { k, opc } = testSet1();
    const maa = parseMaa(await core.handle(mar({ impi: IMPI, impu: IMPU, n: 3 })));
    assert.equal(resultOf(await core.handle(mar({ impi: IMPI, impu: IMPU }))), '2001');
    assert.equal(maa.result.code, 2001);
    assert.equal(maa.result.vendorId, undefined, 'DIAMETER_SUCCESS is a base Result-Code');
    assert.equal(maa.userName, IMPI);
    assert.equal(maa.publicIdentity, IMPU);
    assert.equal(maa.sipNumberAuthItems, 3);
    assert.deepEqual(maa.sipAuthDataItems.map((i) => i.itemNumber), [1, 2, 3]);
    const sqns: number[] = [];
    for (const item of maa.sipAuthDataItems) {
      assert.equal(item.scheme, 'Digest-AKAv1-MD5');
      const v = akaVectorOf(item);
      const sqn = recoverSqn(k, opc, v.rand, v.autn);
      sqns.push(sqn);
      const ref = new Milenage(k, opc).all(v.rand, sqn, 0x8000);
      assert.deepEqual(v.xres, ref.res, 'SIP-Authorization = XRES');
      assert.deepEqual(v.ck, ref.ck, 'Confidentiality-Key = CK');
      assert.deepEqual(v.ik, ref.ik, 'Integrity-Key = IK');
      assert.deepEqual(v.autn.subarray(6, 8), Uint8Array.of(0x80, 0x00), 'AMF in AUTN');
      assert.deepEqual(v.autn.subarray(8), ref.macA, 'MAC-A in AUTN');
    }
    const ind = sqns[0] % 32;
    assert.deepEqual(sqns, [1, 2, 3].map((seq) => seq * 32 + ind), 'SEQ 1, 2, 3 with the peer IND (TS 33.102 C.1.2)');
    const rands = new Set(maa.sipAuthDataItems.map((i) => toHex(akaVectorOf(i).rand)));
    assert.equal(rands.size, 3, 'a fresh RAND per vector');
  });

  test('[R-AKA-2] SIP-Number-Auth-Items above the configured cap is cut to the cap; 0 gives one vector', async () => {
    const { core } = await setup({}, { maxAuthItems: 4 });
    const big = parseMaa(await core.handle(mar({ impi: IMPI, impu: IMPU, n: 50 })));
    assert.equal(big.sipAuthDataItems.length, 4);
    assert.equal(big.sipNumberAuthItems, 4);
    const zero = parseMaa(await core.handle(mar({ impi: IMPI, impu: IMPU, n: 0 })));
    assert.equal(zero.sipAuthDataItems.length, 1);
  });

  test('[R-AKA-3] SQNs never repeat across MARs; each requesting S-CSCF gets its own IND and increasing SEQ', async () => {
    const { core } = await setup();
    const { k, opc } = testSet1();
    const seen = new Set<number>();
    const byInd = new Map<number, number[]>();
    for (let i = 0; i < 20; i++) {
      const originHost = i % 2 === 0 ? 'scscf.ims.lab' : SCSCF2_HOST;
      const maa = parseMaa(await core.handle(mar({ impi: IMPI, impu: IMPU, n: 2, originHost, serverName: i % 2 === 0 ? SCSCF : SCSCF2 })));
      for (const item of maa.sipAuthDataItems) {
        const v = akaVectorOf(item);
        const sqn = recoverSqn(k, opc, v.rand, v.autn);
        assert.ok(!seen.has(sqn), `SQN ${sqn} issued twice`);
        seen.add(sqn);
        byInd.set(sqn % 32, [...(byInd.get(sqn % 32) ?? []), sqn]);
      }
    }
    assert.equal(seen.size, 40);
    assert.equal(byInd.size, 2, 'two peers, two IND values');
    for (const list of byInd.values()) assert.deepEqual(list, [...list].sort((a, b) => a - b), 'increasing within an IND');
  });

  test('[R-AKA-3] after the store is closed and reopened the next SQN is above every earlier one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-hss-mar-'));
    try {
      const path = join(dir, 'hss.sqlite');
      const { k, opc } = testSet1();
      let store = new SqliteStore(path);
      await store.createSubscriber(alice());
      const first = parseMaa(await makeCore(store).handle(mar({ impi: IMPI, impu: IMPU, n: 5 })));
      const before = first.sipAuthDataItems.map((i) => recoverSqn(k, opc, akaVectorOf(i).rand, akaVectorOf(i).autn));
      await store.close();
      store = new SqliteStore(path);
      const again = parseMaa(await makeCore(store).handle(mar({ impi: IMPI, impu: IMPU })));
      const v = akaVectorOf(again.sipAuthDataItems[0]);
      assert.ok(recoverSqn(k, opc, v.rand, v.autn) > Math.max(...before));
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('[R-AKA-2] a vector equals what osmo-auc-gen computes for the same K, OPc, SQN, AMF and RAND', async (t) => {
    if (!needPeer(t, 'osmo-auc-gen')) return;
    const { core } = await setup();
    const { k, opc } = testSet1();
    const v = akaVectorOf(parseMaa(await core.handle(mar({ impi: IMPI, impu: IMPU }))).sipAuthDataItems[0]);
    const sqn = recoverSqn(k, opc, v.rand, v.autn);
    const r = spawnSync('osmo-auc-gen', ['-3', '-a', 'milenage', '-k', toHex(k), '-o', toHex(opc), '-s', String(sqn), '-f', '8000', '-r', toHex(v.rand)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const field = (name: string) => new RegExp(`^${name}:\\s*([0-9a-f]+)`, 'm').exec(r.stdout)?.[1];
    assert.equal(toHex(v.autn), field('AUTN'));
    assert.equal(toHex(v.xres), field('RES'));
    assert.equal(toHex(v.ck), field('CK'));
    assert.equal(toHex(v.ik), field('IK'));
  });
});

describe('TS 29.228 §6.3.1 MAR: schemes, identities, peers', () => {
  test('[R-AKA-6] "Unknown" gets the subscriber default; AKAv2 when allowed; a scheme not allowed → DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED', async () => {
    const { core, store } = await setup({ authSchemes: ['Digest-AKAv2-MD5'] });
    const unknown = parseMaa(await core.handle(mar({ impi: IMPI, impu: IMPU, scheme: 'Unknown' })));
    assert.equal(unknown.sipAuthDataItems[0].scheme, 'Digest-AKAv2-MD5');
    assert.equal(resultOf(await core.handle(mar({ impi: IMPI, impu: IMPU, scheme: 'Digest-AKAv1-MD5' }))), '5006/10415');
    assert.equal(resultOf(await core.handle(mar({ impi: IMPI, impu: IMPU, scheme: 'SIP Digest' }))), '5006/10415');
    const seqHe = (await store.getSubscriber(IMPI))!.seqHe;
    assert.equal(seqHe, 1, 'refused requests consumed no SQN');
  });

  test('[R-AKA-6][R-LAB-4] the scheme cache serves within its lifetime and keeps only the subscribers of the last schemeCacheMs (memory per registered UE, issue [K])', async () => {
    const store = memoryStore();
    for (const i of [1, 2, 3]) await store.createSubscriber(alice(i));
    let reads = 0;
    const counted = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'getSubscriber') reads++;
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const clock = new ManualClock(1_000_000);
    const core = makeCore(counted, { clock, schemeCacheMs: 5000 });
    const ask = async (i: number) => assert.equal(resultOf(await core.handle(mar({ impi: `alice${i}@${REALM}`, impu: `sip:alice${i}@${REALM}` }))), '2001');
    await ask(1);
    await ask(2);
    const before = reads;
    clock.advance(4999);
    await ask(1);
    assert.equal(reads, before, 'within 5 s the schemes come from the cache');
    assert.equal(core.cachedSchemes, 2);
    clock.advance(1);
    await ask(3);
    assert.equal(reads, before + 1, 'a new subscriber is read from the store');
    assert.equal(core.cachedSchemes, 1, 'the entries of 5 s ago went when the next one was made');
    await ask(1);
    assert.equal(reads, before + 2, 'an expired entry is read again');
    assert.equal(core.cachedSchemes, 2);
    const uncached = makeCore(store, { clock, schemeCacheMs: 0 });
    await uncached.handle(mar({ impi: `alice2@${REALM}`, impu: `sip:alice2@${REALM}` }));
    assert.equal(uncached.cachedSchemes, 0, 'schemeCacheMs 0 keeps nothing');
  });

  test('[R-CX-2] unknown IMPU or IMPI → DIAMETER_ERROR_USER_UNKNOWN; an IMPU of another user → DIAMETER_ERROR_IDENTITIES_DONT_MATCH', async () => {
    const { core, store } = await setup();
    await store.createSubscriber(alice(2));
    assert.equal(resultOf(await core.handle(mar({ impi: IMPI, impu: 'sip:nobody@ims.lab' }))), '5001/10415');
    assert.equal(resultOf(await core.handle(mar({ impi: 'nobody@ims.lab', impu: IMPU }))), '5001/10415');
    assert.equal(resultOf(await core.handle(mar({ impi: IMPI, impu: 'sip:alice2@ims.lab' }))), '5002/10415');
    assert.equal((await store.getSubscriber(IMPI))!.seqHe, 0);
  });

  test('[R-AKA-3] an Origin-Host that is not a configured peer gets no vectors (DIAMETER_AUTHORIZATION_REJECTED) and consumes no SQN', async () => {
    const { core, store } = await setup();
    const maa = parseMaa(await core.handle(mar({ impi: IMPI, impu: IMPU, originHost: 'rogue.evil.lab' })));
    assert.equal(resultOf(await core.handle(mar({ impi: IMPI, impu: IMPU, originHost: 'rogue.evil.lab' }))), '5003');
    assert.equal(maa.sipAuthDataItems.length, 0);
    assert.equal((await store.getSubscriber(IMPI))!.seqHe, 0);
  });

  test('[R-REG-1] MAR stores the S-CSCF name with the implicit set in authentication pending', async () => {
    const { core, store } = await setup();
    await core.handle(mar({ impi: IMPI, impu: IMPU }));
    const set = (await store.getImplicitSet(IMPU))!;
    assert.deepEqual(set.impus.map((u) => [u.impu, u.state, u.scscfName]), [
      [IMPU, 'PENDING', SCSCF],
      ['tel:+15551000', 'PENDING', SCSCF],
    ]);
    assert.equal((await store.getPublicIdentity(`sip:alice-work@${REALM}`))!.state, 'NOT_REGISTERED', 'the other implicit set is untouched');
  });

  test('[R-CX-2] an MAR without Server-Name is refused with DIAMETER_MISSING_AVP (thrown for the node to answer)', async () => {
    const { core } = await setup();
    const m = mar({ impi: IMPI, impu: IMPU });
    const noName = { ...m, avps: m.avps.filter((a) => a.code !== 602) };
    await assert.rejects(core.handle(noName), (e: unknown) => e instanceof DiameterAvpError && e.resultCode === 5005);
  });
});

describe('TS 33.102 §6.3.5 resynchronisation over MAR (RAND‖AUTS)', () => {
  test('[R-AKA-5] a good AUTS moves SEQ_HE past SQN_MS and fresh vectors follow', async () => {
    const { core, store } = await setup();
    const { k, opc } = testSet1();
    const first = akaVectorOf(parseMaa(await core.handle(mar({ impi: IMPI, impu: IMPU }))).sipAuthDataItems[0]);
    // The USIM has already seen SEQ 1000 (e.g. after use in another network): it answers AUTS.
    const sqnMs = 1000 * 32 + 3;
    const auts = buildAuts(new Milenage(k, opc), first.rand, sqnMs);
    const maa = parseMaa(await core.handle(mar({ impi: IMPI, impu: IMPU, item: akaResyncItem(first.rand, auts), n: 2 })));
    assert.equal(maa.result.code, 2001);
    assert.equal(maa.sipAuthDataItems.length, 2);
    const sqns = maa.sipAuthDataItems.map((i) => recoverSqn(k, opc, akaVectorOf(i).rand, akaVectorOf(i).autn));
    assert.ok(sqns.every((s) => Math.floor(s / 32) > 1000), `fresh SEQ above SEQ_MS: ${sqns.join(',')}`);
    assert.ok(sqns[1] > sqns[0]);
    assert.ok((await store.getSubscriber(IMPI))!.seqHe > 1000);
    assert.equal(core.counters.resyncs, 1);
  });

  test('[R-AKA-5] a bad MAC-S is refused with DIAMETER_AUTHENTICATION_REJECTED and SQN stays untouched', async () => {
    const { core, store } = await setup();
    const { k, opc } = testSet1();
    const first = akaVectorOf(parseMaa(await core.handle(mar({ impi: IMPI, impu: IMPU }))).sipAuthDataItems[0]);
    const seqBefore = (await store.getSubscriber(IMPI))!.seqHe;
    const auts = buildAuts(new Milenage(k, opc), first.rand, 1000 * 32);
    auts[13] ^= 0x01;
    const maa = parseMaa(await core.handle(mar({ impi: IMPI, impu: IMPU, item: akaResyncItem(first.rand, auts) })));
    assert.equal(resultOf(await core.handle(mar({ impi: IMPI, impu: IMPU, item: akaResyncItem(first.rand, auts) }))), '4001');
    assert.equal(maa.result.code, 4001);
    assert.equal(maa.sipAuthDataItems.length, 0, 'no vectors');
    assert.equal((await store.getSubscriber(IMPI))!.seqHe, seqBefore, 'SEQ_HE unchanged');
    assert.equal(core.counters.resyncRejected, 2);
    const next = akaVectorOf(parseMaa(await core.handle(mar({ impi: IMPI, impu: IMPU }))).sipAuthDataItems[0]);
    assert.equal(Math.floor(recoverSqn(k, opc, next.rand, next.autn) / 32), seqBefore + 1, 'the next vector continues from the old SEQ_HE');
  });

  test('[R-AKA-5] a SIP-Authorization that is not RAND‖AUTS (30 bytes) is refused with DIAMETER_INVALID_AVP_VALUE', async () => {
    const { core, store } = await setup();
    await assert.rejects(core.handle(mar({ impi: IMPI, impu: IMPU, item: { scheme: 'Digest-AKAv1-MD5', authorization: new Uint8Array(29) } })), (e: unknown) => e instanceof DiameterAvpError && e.resultCode === 5004);
    assert.equal((await store.getSubscriber(IMPI))!.seqHe, 0);
  });
});
