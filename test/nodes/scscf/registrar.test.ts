/**
 * The S-CSCF registrar with IMS AKA (TS 24.229 §5.4.1, TS 33.203 §6.1) over the real HSS core and
 * Diameter codec (see harness.ts). The UE side (RES, AUTS, MAC check) is src/auth's ISIM, never
 * the S-CSCF's own code.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAkaNonce, parseDigestChallenge } from '../../../src/auth/digest/index.js';
import { usimStateFromSqnMs } from '../../../src/auth/index.js';
import { toHex } from '../../../src/common/index.js';
import { ServerAssignmentType as SAT } from '../../../src/diameter/index.js';
import { contactsOf, parsePAssociatedUri, routesOf } from '../../../src/sip/index.js';
import { harness, provision, register, registerFully, send, TestIsim, SERVER_NAME, type Harness } from './harness.js';

async function withUser(opts: Parameters<typeof harness>[0] = {}, impus: Parameters<typeof provision>[2] = ['sip:alice@ims.lab'], extra: Record<string, unknown> = {}): Promise<Harness> {
  const h = await harness(opts);
  await provision(h.hssStore, 'alice@ims.lab', impus, extra);
  return h;
}

const sats = (h: Harness): number[] => h.cx.filter((c) => c.command === 301).map((c) => c.sat!);
const mars = (h: Harness) => h.cx.filter((c) => c.command === 303);
const hssState = async (h: Harness, impu = 'sip:alice@ims.lab') => (await h.hssStore.getPublicIdentity(impu))!.state;

describe('TS 24.229 §5.4.1.2.1: challenge', () => {
  test('[R-AKA-6] 401 carries nonce = base64(RAND‖AUTN), AKAv1-MD5, qop="auth" and the ik/ck the ISIM derives', async () => {
    const h = await withUser();
    try {
      const r = await send(h.core, register({ integrity: 'no' }));
      assert.equal(r.status, 401);
      const ch = parseDigestChallenge(r.headers.get('www-authenticate')!);
      assert.equal(ch.realm, 'ims.lab');
      assert.equal(ch.algorithm, 'AKAv1-MD5');
      assert.deepEqual(ch.qop, ['auth']);
      const { rand, autn, serverData } = parseAkaNonce(ch.nonce);
      assert.equal(serverData.length, 0);
      const isim = new TestIsim();
      const res = isim.answer(r).result;
      assert.equal(res.result, 'ok', 'the ISIM accepts AUTN (MAC-A and SQN)');
      if (res.result !== 'ok') return;
      assert.equal(toHex(ch.ik!), toHex(res.ik), 'ik= is IK for this RAND');
      assert.equal(toHex(ch.ck!), toHex(res.ck), 'ck= is CK for this RAND');
      assert.equal(rand.length + autn.length, 32);
      assert.deepEqual(mars(h), [{ command: 303, items: 1, resync: false }]);
      assert.equal(await hssState(h), 'PENDING', 'MAR put the HSS flag to pending');
    } finally {
      await h.close();
    }
  });

  test('[R-AKA-6] an AKAv2 subscriber is challenged with AKAv2-MD5 and registers with the RFC 4169 password', async () => {
    const h = await withUser({}, ['sip:alice@ims.lab'], { authSchemes: ['Digest-AKAv2-MD5'] });
    try {
      const r1 = await send(h.core, register({ integrity: 'no' }));
      assert.equal(parseDigestChallenge(r1.headers.get('www-authenticate')!).algorithm, 'AKAv2-MD5');
      const isim = new TestIsim();
      const { authorization } = isim.answer(r1, { integrity: 'yes' });
      const r2 = await send(h.core, register({ cseq: 2, authorization }));
      assert.equal(r2.status, 200);
    } finally {
      await h.close();
    }
  });

  test('sendKeys false: the 401 carries no ik/ck (a UA attached without a P-CSCF)', async () => {
    const h = await withUser({ config: { registrar: { sendKeys: false } } });
    try {
      const r = await send(h.core, register({ integrity: 'no' }));
      const ch = parseDigestChallenge(r.headers.get('www-authenticate')!);
      assert.equal(ch.ik, undefined);
      assert.equal(ch.ck, undefined);
    } finally {
      await h.close();
    }
  });

  test('without Authorization the IMPI is derived from the IMPU (TS 24.229 §5.4.1.1 item 3) and the user is challenged', async () => {
    const h = await withUser();
    try {
      const r = await send(h.core, register({ authorization: null }));
      assert.equal(r.status, 401);
      assert.ok(h.core.registrar.pending('alice@ims.lab'));
    } finally {
      await h.close();
    }
  });

  test('[R-AKA-2] vectors of one MAR batch are used first-in first-out, each once; the next MAR comes when they are used up', async () => {
    const h = await withUser({ config: { registrar: { authItems: 3 } } });
    try {
      const isim = new TestIsim();
      const nonces: string[] = [];
      const sqns: number[] = [];
      for (let i = 0; i < 4; i++) {
        const r1 = await send(h.core, register({ integrity: 'no', callId: `c${i}`, cseq: 1 }));
        assert.equal(r1.status, 401);
        const a = isim.answer(r1, { integrity: 'yes' });
        assert.equal(a.result.result, 'ok');
        if (a.result.result === 'ok') sqns.push(a.result.sqn);
        nonces.push(a.challenge.nonce);
        const r2 = await send(h.core, register({ callId: `c${i}`, cseq: 2, authorization: a.authorization }));
        assert.equal(r2.status, 200);
      }
      assert.equal(new Set(nonces).size, 4, 'no vector is sent twice');
      assert.deepEqual([...sqns].sort((a, b) => a - b), sqns, 'SQNs in the order the HSS issued them');
      assert.deepEqual(mars(h).map((m) => m.items), [3, 3], 'one MAR for three challenges, the next for the fourth');
      assert.equal(h.core.registrar.vectors.size('alice@ims.lab'), 2);
    } finally {
      await h.close();
    }
  });
});

describe('TS 24.229 §5.4.1.2.2: authentication and the 200 OK', () => {
  test('[R-REG-2] 200 OK: Service-Route, P-Associated-URI = the non-barred implicit set, Contact with expires, Path; the HSS holds the set REGISTERED', async () => {
    const h = await withUser({}, ['sip:alice@ims.lab', 'tel:+15550001', { impu: 'sip:alice-barred@ims.lab', barred: true }, { impu: 'sip:alice-work@ims.lab', irs: 2 }]);
    try {
      const path = '<sip:term@pcscf.ims.lab:5060;lr>';
      const r = await registerFully(h.core, new TestIsim(), { path: [path], expires: 600 });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('service-route'), '<sip:orig@scscf.ims.lab:6060;lr>');
      assert.deepEqual(parsePAssociatedUri(r.headers.get('p-associated-uri')!).map((n) => n.uri.kind === 'tel' ? `tel:${n.uri.number}` : `sip:${(n.uri as { user: string }).user}@ims.lab`), ['sip:alice@ims.lab', 'tel:+15550001']);
      const contacts = contactsOf(r);
      assert.ok(contacts !== '*' && contacts.length === 1);
      assert.equal(contacts[0].params.get('expires'), '600');
      assert.deepEqual(routesOf(r, 'Path').map((p) => p.uri.kind === 'sip' && p.uri.host), ['pcscf.ims.lab']);
      assert.deepEqual(sats(h), [SAT.REGISTRATION]);
      assert.equal(await hssState(h), 'REGISTERED');
      assert.equal(await hssState(h, 'tel:+15550001'), 'REGISTERED');
      assert.equal(await hssState(h, 'sip:alice-work@ims.lab'), 'NOT_REGISTERED', 'another implicit set is not registered');
      assert.equal(h.core.registration('tel:+15550001')?.aor, 'sip:alice@ims.lab', 'any IMPU of the set finds the registration');
      assert.equal(h.core.registration('sip:alice-work@ims.lab'), undefined);
      assert.deepEqual(h.core.registration('sip:alice@ims.lab')?.bindings[0].path, [path]);
    } finally {
      await h.close();
    }
  });

  test('[R-AKA-7] a wrong response gets 403 and leaves an existing registration exactly as it was', async () => {
    const h = await withUser();
    try {
      const isim = new TestIsim();
      assert.equal((await registerFully(h.core, isim)).status, 200);
      const before = structuredClone(h.core.registration('sip:alice@ims.lab'));
      const stored = await h.store.getRegistration(SERVER_NAME, 'sip:alice@ims.lab');
      h.clock.advance(10_000);
      const r1 = await send(h.core, register({ integrity: 'no', callId: 'x', cseq: 1, contact: '<sip:mallory@203.0.113.9:5060>' }));
      const { authorization } = isim.answer(r1, { integrity: 'yes', tamper: true });
      const r2 = await send(h.core, register({ callId: 'x', cseq: 2, authorization, contact: '<sip:mallory@203.0.113.9:5060>' }));
      assert.equal(r2.status, 403);
      assert.deepEqual(h.core.registration('sip:alice@ims.lab'), before);
      assert.deepEqual(await h.store.getRegistration(SERVER_NAME, 'sip:alice@ims.lab'), stored);
      assert.deepEqual(sats(h), [SAT.REGISTRATION, SAT.AUTHENTICATION_FAILURE]);
      assert.equal(await hssState(h), 'REGISTERED', 'the HSS keeps the user registered');
      assert.equal(h.core.registrar.pending('alice@ims.lab'), undefined);
      assert.equal(h.core.counters.authFailures, 1);
    } finally {
      await h.close();
    }
  });

  test('[R-AKA-7] a wrong response for a user not registered: 403 and the HSS flag goes back to not registered', async () => {
    const h = await withUser();
    try {
      const r1 = await send(h.core, register({ integrity: 'no' }));
      assert.equal(await hssState(h), 'PENDING');
      const { authorization } = new TestIsim().answer(r1, { integrity: 'yes', tamper: true });
      assert.equal((await send(h.core, register({ cseq: 2, authorization }))).status, 403);
      assert.equal(await hssState(h), 'NOT_REGISTERED');
      assert.equal(h.core.registrations().length, 0);
    } finally {
      await h.close();
    }
  });

  test('[R-REG-4] by policy a protected re-registration of a registered user skips AKA: SAR RE_REGISTRATION, 200, no MAR', async () => {
    const h = await withUser({ config: { registrar: { skipAkaWhenProtected: true } } });
    try {
      assert.equal((await registerFully(h.core, new TestIsim())).status, 200);
      const r = await send(h.core, register({ integrity: 'yes', cseq: 3 }));
      assert.equal(r.status, 200);
      assert.equal(mars(h).length, 1);
      assert.deepEqual(sats(h), [SAT.REGISTRATION, SAT.RE_REGISTRATION]);
      assert.equal(h.core.counters.skippedAka, 1);
    } finally {
      await h.close();
    }
  });

  test('[R-REG-4] without the policy a protected re-registration is authenticated again (401)', async () => {
    const h = await withUser();
    try {
      assert.equal((await registerFully(h.core, new TestIsim())).status, 200);
      assert.equal((await send(h.core, register({ integrity: 'yes', cseq: 3 }))).status, 401);
    } finally {
      await h.close();
    }
  });

  test('[R-RR-4] an unprotected REGISTER of a registered user is always challenged, even with the skip policy', async () => {
    const h = await withUser({ config: { registrar: { skipAkaWhenProtected: true } } });
    try {
      assert.equal((await registerFully(h.core, new TestIsim())).status, 200);
      assert.equal((await send(h.core, register({ integrity: 'no', cseq: 3 }))).status, 401);
      assert.equal((await send(h.core, register({ authorization: null, cseq: 4 }))).status, 401);
    } finally {
      await h.close();
    }
  });

  test('[R-RR-4] a correct response marked integrity-protected="no" is not accepted: a new challenge', async () => {
    const h = await withUser();
    try {
      const r1 = await send(h.core, register({ integrity: 'no' }));
      const { authorization, challenge } = new TestIsim().answer(r1, { integrity: 'no' });
      const r2 = await send(h.core, register({ cseq: 2, authorization }));
      assert.equal(r2.status, 401);
      assert.notEqual(parseDigestChallenge(r2.headers.get('www-authenticate')!).nonce, challenge.nonce);
      assert.equal(h.core.registrations().length, 0);
    } finally {
      await h.close();
    }
  });
});

describe('TS 24.229 §5.4.1.2.3: abnormal cases', () => {
  test('[R-FAIL-2] network authentication failure (bad MAC at the UE, empty response, no auts): 403, SAR AUTHENTICATION_FAILURE, nothing half-registered', async () => {
    const h = await withUser();
    try {
      const r1 = await send(h.core, register({ integrity: 'no' }));
      const wrongNetwork = new TestIsim('00112233445566778899aabbccddeeff');
      const a = wrongNetwork.answer(r1, { integrity: 'no' });
      assert.equal(a.result.result, 'mac-failure');
      const r2 = await send(h.core, register({ cseq: 2, authorization: a.authorization }));
      assert.equal(r2.status, 403);
      assert.deepEqual(sats(h), [SAT.AUTHENTICATION_FAILURE]);
      assert.equal(await hssState(h), 'NOT_REGISTERED');
      assert.equal(h.core.registrar.pending('alice@ims.lab'), undefined);
      assert.equal(h.core.registrations().length, 0);
      assert.equal(h.core.counters.networkAuthFailures, 1);
    } finally {
      await h.close();
    }
  });

  test('[R-FAIL-3] synchronisation failure: auts → MAR with RAND‖AUTS → a fresh challenge → registration succeeds', async () => {
    const h = await withUser({ config: { registrar: { authItems: 2 } } });
    try {
      const isim = new TestIsim();
      isim.state = usimStateFromSqnMs(5_000_000);
      const r1 = await send(h.core, register({ integrity: 'no' }));
      const a1 = isim.answer(r1, { integrity: 'no' });
      assert.equal(a1.result.result, 'sync-failure');
      assert.equal(h.core.registrar.vectors.size('alice@ims.lab'), 1, 'one vector of the first batch still held');
      const r2 = await send(h.core, register({ cseq: 2, authorization: a1.authorization }));
      assert.equal(r2.status, 401);
      assert.deepEqual(mars(h).map((m) => m.resync), [false, true]);
      assert.equal(h.core.registrar.vectors.size('alice@ims.lab'), 1, 'the stale vector was dropped; one of the new batch is held');
      const a2 = isim.answer(r2, { integrity: 'yes' });
      assert.equal(a2.result.result, 'ok', 'the new vector is fresh for the ISIM');
      const r3 = await send(h.core, register({ cseq: 3, authorization: a2.authorization }));
      assert.equal(r3.status, 200);
      assert.equal(h.core.counters.resyncs, 1);
    } finally {
      await h.close();
    }
  });

  test('[R-FAIL-3] an AUTS the HSS rejects (bad MAC-S): 403 and SAR AUTHENTICATION_FAILURE', async () => {
    const h = await withUser();
    try {
      const isim = new TestIsim();
      isim.state = usimStateFromSqnMs(5_000_000);
      const r1 = await send(h.core, register({ integrity: 'no' }));
      const a1 = isim.answer(r1, { integrity: 'no' });
      const forged = a1.authorization.replace(/auts="([^"]+)"/, (_m, v: string) => `auts="${Buffer.from(Buffer.from(v, 'base64').map((b, i) => (i === 13 ? b ^ 0xff : b))).toString('base64')}"`);
      const r2 = await send(h.core, register({ cseq: 2, authorization: forged }));
      assert.equal(r2.status, 403);
      assert.deepEqual(sats(h), [SAT.AUTHENTICATION_FAILURE]);
      assert.equal(await hssState(h), 'NOT_REGISTERED');
    } finally {
      await h.close();
    }
  });

  test('[R-AKA-8] no answer within reg-await-auth: SAR AUTHENTICATION_TIMEOUT, the HSS flag goes back; a late answer is challenged again', async () => {
    const h = await withUser();
    try {
      const r1 = await send(h.core, register({ integrity: 'no' }));
      assert.equal(await hssState(h), 'PENDING');
      h.clock.advance(239_000);
      assert.equal(sats(h).length, 0, 'the timer is 4 minutes (TS 24.229 Table 7.8.1)');
      await h.clock.advanceAsync(1_000);
      assert.deepEqual(sats(h), [SAT.AUTHENTICATION_TIMEOUT]);
      assert.equal(await hssState(h), 'NOT_REGISTERED');
      assert.equal(h.core.registrar.pending('alice@ims.lab'), undefined);
      const { authorization } = new TestIsim().answer(r1, { integrity: 'yes' });
      assert.equal((await send(h.core, register({ cseq: 2, authorization }))).status, 401);
      assert.equal(h.core.counters.authTimeouts, 1);
    } finally {
      await h.close();
    }
  });

  test('[R-AKA-8] a registered user whose re-authentication times out stays registered at the S-CSCF and the HSS', async () => {
    const h = await withUser();
    try {
      const isim = new TestIsim();
      assert.equal((await registerFully(h.core, isim, { expires: 3600 })).status, 200);
      assert.equal((await send(h.core, register({ integrity: 'yes', cseq: 3 }))).status, 401);
      await h.clock.advanceAsync(240_000);
      assert.deepEqual(sats(h), [SAT.REGISTRATION, SAT.AUTHENTICATION_TIMEOUT]);
      assert.equal(await hssState(h), 'REGISTERED');
      assert.equal(h.core.registrations().length, 1);
    } finally {
      await h.close();
    }
  });
});

describe('RFC 3261 §10.3 with TS 24.229 §5.4.1.4: expiry and de-registration', () => {
  test('[R-REG-3] below the minimum → 423 with Min-Expires, before any MAR', async () => {
    const h = await withUser({ config: { registrar: { minExpires: 120 } } });
    try {
      const r = await send(h.core, register({ integrity: 'no', expires: 30 }));
      assert.equal(r.status, 423);
      assert.equal(r.headers.get('min-expires'), '120');
      assert.equal(h.cx.length, 0);
    } finally {
      await h.close();
    }
  });

  test('[R-REG-3] longer than the maximum is cut; absent means the default; the contact expires parameter wins over Expires', async () => {
    const h = await withUser({ config: { registrar: { maxExpires: 7200, defaultExpires: 1800 } } });
    try {
      const isim = new TestIsim();
      const exp = (r: Awaited<ReturnType<typeof send>>) => {
        const c = contactsOf(r);
        return c === '*' ? undefined : c.map((x) => x.params.get('expires'));
      };
      assert.deepEqual(exp(await registerFully(h.core, isim, { expires: 600000 })), ['7200']);
      assert.deepEqual(exp(await registerFully(h.core, isim, { callId: 'b', cseq: 10 })), ['1800']);
      assert.deepEqual(exp(await registerFully(h.core, isim, { callId: 'c', cseq: 20, expires: 100, contact: '<sip:alice@192.0.2.10:5070>;expires=900' })), ['900']);
      assert.deepEqual(sats(h), [SAT.REGISTRATION, SAT.RE_REGISTRATION, SAT.RE_REGISTRATION]);
    } finally {
      await h.close();
    }
  });

  test('[R-REG-3] a registration not refreshed in time expires: SAR TIMEOUT_DEREGISTRATION, gone from the table, the store and the HSS', async () => {
    const h = await withUser();
    try {
      assert.equal((await registerFully(h.core, new TestIsim(), { expires: 300 })).status, 200);
      h.clock.advance(299_000);
      assert.equal(h.core.registrations().length, 1);
      await h.clock.advanceAsync(1_000);
      assert.equal(h.core.registrations().length, 0);
      assert.deepEqual(sats(h), [SAT.REGISTRATION, SAT.TIMEOUT_DEREGISTRATION]);
      assert.equal(await h.store.getRegistration(SERVER_NAME, 'sip:alice@ims.lab'), null);
      assert.equal(await hssState(h), 'NOT_REGISTERED');
    } finally {
      await h.close();
    }
  });

  test('[R-REG-3] a re-registration before the end moves the expiry on', async () => {
    const h = await withUser();
    try {
      const isim = new TestIsim();
      assert.equal((await registerFully(h.core, isim, { expires: 300 })).status, 200);
      h.clock.advance(200_000);
      assert.equal((await registerFully(h.core, isim, { expires: 300, cseq: 3 })).status, 200);
      await h.clock.advanceAsync(200_000);
      assert.equal(h.core.registrations().length, 1, 'still registered 400 s after the first REGISTER');
      assert.equal(h.core.registration('sip:alice@ims.lab')!.bindings[0].expiresAt, 1_700_000_000_000 + 200_000 + 300_000);
    } finally {
      await h.close();
    }
  });

  test('de-registration (Expires: 0) after authentication: SAR USER_DEREGISTRATION, 200 without Contact, the HSS flag cleared', async () => {
    const h = await withUser();
    try {
      const isim = new TestIsim();
      assert.equal((await registerFully(h.core, isim)).status, 200);
      const r = await registerFully(h.core, isim, { expires: 0, cseq: 3 });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('contact'), undefined);
      assert.deepEqual(sats(h), [SAT.REGISTRATION, SAT.USER_DEREGISTRATION]);
      assert.equal(h.core.registrations().length, 0);
      assert.equal(await hssState(h), 'NOT_REGISTERED');
    } finally {
      await h.close();
    }
  });

  test('a protected de-registration of a registered user needs no AKA (TS 24.229 §5.4.1.2.2 step 2)', async () => {
    const h = await withUser();
    try {
      assert.equal((await registerFully(h.core, new TestIsim())).status, 200);
      const r = await send(h.core, register({ integrity: 'yes', cseq: 3, expires: 0 }));
      assert.equal(r.status, 200);
      assert.equal(mars(h).length, 1);
      assert.equal(h.core.registrations().length, 0);
    } finally {
      await h.close();
    }
  });

  test('Contact: * with Expires: 0 removes every binding; Contact: * without it is a 400', async () => {
    const h = await withUser();
    try {
      const isim = new TestIsim();
      assert.equal((await registerFully(h.core, isim)).status, 200);
      assert.equal((await registerFully(h.core, isim, { cseq: 3, contact: '<sip:alice@192.0.2.11:5070>' })).status, 200);
      assert.equal(h.core.registration('sip:alice@ims.lab')!.bindings.length, 2);
      assert.equal((await registerFully(h.core, isim, { cseq: 4, contact: '*', expires: 60 })).status, 400);
      assert.equal(h.core.registration('sip:alice@ims.lab')!.bindings.length, 2);
      const r = await registerFully(h.core, isim, { cseq: 6, contact: '*', expires: 0 });
      assert.equal(r.status, 200);
      assert.equal(h.core.registrations().length, 0);
    } finally {
      await h.close();
    }
  });

  test('same Call-ID with a CSeq not above the stored one: the update is refused (RFC 3261 §10.3 step 7)', async () => {
    const h = await withUser({ config: { registrar: { skipAkaWhenProtected: true } } });
    try {
      assert.equal((await registerFully(h.core, new TestIsim(), { cseq: 10 })).status, 200);
      const r = await send(h.core, register({ integrity: 'yes', cseq: 5 }));
      assert.equal(r.status, 500);
      assert.equal(h.core.registration('sip:alice@ims.lab')!.bindings[0].cseq, 11);
    } finally {
      await h.close();
    }
  });

  test('an unknown user: the HSS refuses the MAR and the REGISTER gets 403', async () => {
    const h = await withUser();
    try {
      const r = await send(h.core, register({ integrity: 'no', impu: 'sip:nobody@ims.lab', impi: 'nobody@ims.lab' }));
      assert.equal(r.status, 403);
    } finally {
      await h.close();
    }
  });

  test('a REGISTER without To is a 400', async () => {
    const h = await withUser();
    try {
      const req = register({ integrity: 'no' });
      req.headers.remove('to');
      assert.equal((await send(h.core, req)).status, 400);
    } finally {
      await h.close();
    }
  });
});
