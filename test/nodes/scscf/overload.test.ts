/**
 * The S-CSCF under overload and with an HSS that does not answer: 503 Service Unavailable with
 * Retry-After (RFC 3261 §21.5.4: "temporarily unable to process the request due to a temporary
 * overloading"; §20.33 Retry-After), never a 500; a 500 only for an unexpected HSS error
 * (RFC 3261 §21.5.1). The HSS's answers are scripted between the Cx client and the HSS core
 * (harness.ts `hssAnswer`); DIAMETER_TOO_BUSY (3004) and DIAMETER_UNABLE_TO_DELIVER (3002) are
 * RFC 6733 §7.1.3 transient failures.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildErrorAnswer, ResultCode, type DiameterMessage } from '../../../src/diameter/index.js';
import type { SipResponse } from '../../../src/sip/index.js';
import { harness, provision, register, registerFully, send, settle, TestIsim, type HarnessOptions } from './harness.js';

const MAR = 303;
const SAR = 301;

async function withAlice(o: HarnessOptions) {
  const h = await harness(o);
  await provision(h.hssStore, 'alice@ims.lab', ['sip:alice@ims.lab']);
  return h;
}

function errorAnswer(req: DiameterMessage, resultCode: number): DiameterMessage {
  return buildErrorAnswer(req, { originHost: 'hss.ims.lab', originRealm: 'ims.lab', resultCode });
}

function assert503(r: SipResponse, retryAfter: string): void {
  assert.equal(r.status, 503);
  assert.equal(r.reason, 'Service Unavailable');
  assert.equal(r.headers.get('retry-after'), retryAfter);
}

describe('S-CSCF admission: overload.maxRegistrations REGISTERs in progress (RFC 3261 §21.5.4)', () => {
  test('[R-LAB-4] beyond the cap a REGISTER gets 503 with Retry-After at once; once the held ones are answered, REGISTERs are challenged again', async () => {
    const held: (() => void)[] = [];
    const h = await withAlice({
      config: { overload: { maxRegistrations: 2, retryAfterSeconds: 7 } },
      // Every MAR waits until the test lets it through: the REGISTERs stay in progress.
      hssAnswer: async (req, hss) => {
        if (req.commandCode === MAR) await new Promise<void>((go) => held.push(go));
        return hss();
      },
    });
    await provision(h.hssStore, 'bob@ims.lab', ['sip:bob@ims.lab']);
    try {
      const first = send(h.core, register({ integrity: 'no', callId: 'c1' }));
      const second = send(h.core, register({ integrity: 'no', callId: 'c2', impi: 'bob@ims.lab', impu: 'sip:bob@ims.lab' }));
      await settle();
      assert.equal(held.length, 2, 'both REGISTERs wait on their MAR');
      assert.equal(h.core.counters.registering, 2);
      const third = await send(h.core, register({ integrity: 'no', callId: 'c3' }));
      assert503(third, '7');
      assert.equal(h.core.counters.overloadRejected, 1);
      assert.equal(h.cx.filter((c) => c.command === MAR).length, 2, 'the refused REGISTER cost no MAR');
      for (const go of held.splice(0)) go();
      assert.equal((await first).status, 401);
      assert.equal((await second).status, 401);
      assert.equal(h.core.counters.registering, 0);
      const later = send(h.core, register({ integrity: 'no', callId: 'c4' }));
      await settle();
      for (const go of held.splice(0)) go();
      assert.equal((await later).status, 401, 'room again: challenged');
      assert.equal(h.core.counters.overloadRejected, 1);
    } finally {
      await h.close();
    }
  });

  test('a REGISTER that fails in the registrar (a bad one: 400) frees its place too', async () => {
    const h = await withAlice({ config: { overload: { maxRegistrations: 1 } } });
    try {
      const bad = register({ integrity: 'no' });
      bad.headers.remove('call-id');
      assert.equal((await send(h.core, bad)).status, 400);
      assert.equal(h.core.counters.registering, 0);
      assert.equal((await send(h.core, register({ integrity: 'no' }))).status, 401);
    } finally {
      await h.close();
    }
  });
});

describe('S-CSCF with an HSS that does not answer: 503 with Retry-After, not 500', () => {
  test('[R-FAIL-4] no MAA (the Diameter request fails: time-out, no usable peer) → 503, Retry-After from overload.retryAfterSeconds, Warning "HSS unavailable"', async () => {
    const h = await withAlice({
      config: { overload: { retryAfterSeconds: 11 } },
      hssAnswer: () => Promise.reject(new Error('request timed out after 5000 ms')),
    });
    try {
      const r = await send(h.core, register({ integrity: 'no' }));
      assert503(r, '11');
      assert.match(r.headers.get('warning') ?? '', /HSS unavailable/);
      assert.equal(h.core.counters.hssBusy, 1);
    } finally {
      await h.close();
    }
  });

  for (const [name, code] of [['DIAMETER_TOO_BUSY', ResultCode.DIAMETER_TOO_BUSY], ['DIAMETER_UNABLE_TO_DELIVER', ResultCode.DIAMETER_UNABLE_TO_DELIVER]] as const) {
    test(`an MAA with ${name} (${code}, RFC 6733 §7.1.3) → 503 with Retry-After`, async () => {
      const h = await withAlice({ hssAnswer: async (req) => errorAnswer(req, code) });
      try {
        assert503(await send(h.core, register({ integrity: 'no' })), '5');
        assert.equal(h.core.counters.hssBusy, 1);
      } finally {
        await h.close();
      }
    });
  }

  test('[R-FAIL-4] the SAR after a good AKA answer gets no answer → 503 with Retry-After; the user is not registered, and registers once the HSS is back', async () => {
    let failSar = true;
    const h = await withAlice({ hssAnswer: (req, hss) => (failSar && req.commandCode === SAR ? Promise.reject(new Error('no usable peer')) : hss()) });
    try {
      const isim = new TestIsim();
      assert503(await registerFully(h.core, isim), '5');
      assert.equal(h.core.registration('sip:alice@ims.lab'), undefined);
      failSar = false;
      assert.equal((await registerFully(h.core, isim, { cseq: 3 })).status, 200);
    } finally {
      await h.close();
    }
  });

  test('an unexpected HSS failure (DIAMETER_UNABLE_TO_COMPLY 5012) is a 500 Server Internal Error (RFC 3261 §21.5.1), not counted as busy', async () => {
    const h = await withAlice({ hssAnswer: async (req) => errorAnswer(req, ResultCode.DIAMETER_UNABLE_TO_COMPLY) });
    try {
      const r = await send(h.core, register({ integrity: 'no' }));
      assert.equal(r.status, 500);
      assert.equal(r.headers.get('retry-after'), undefined);
      assert.equal(h.core.counters.hssBusy, 0);
    } finally {
      await h.close();
    }
  });
});
