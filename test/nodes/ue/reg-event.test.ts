/**
 * The soft UE's reg-event subscription and the end of a registration (TS 24.229 §5.1.1.3,
 * §5.1.1.6, §5.1.1.7; RFC 6665 §4.1.2) against the scripted P-CSCF/registrar on real loopback
 * sockets, with a ManualClock driving the refresh timer.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock, SeededRng } from '../../../src/common/index.js';
import { type Reginfo, cseqOf, fromTag, toTag, type SipRequest } from '../../../src/sip/index.js';
import { createUe, memorySqnStore, parseUeConfig, type Ue, type UeConfigInput } from '../../../src/nodes/ue/index.js';
import { FakePcscf, HOST, K, OPC } from './support/fake-pcscf.js';
import { waitFor } from '../../support/wait.js';

interface Rig {
  clock: ManualClock;
  pc: FakePcscf;
  ue: Ue;
  close(): Promise<void>;
}

async function rig(cfg: Partial<UeConfigInput> = {}): Promise<Rig> {
  const clock = new ManualClock(1_000_000);
  const pc = await FakePcscf.start({ clock });
  const ue = createUe(
    parseUeConfig({ impi: 'alice@ims.lab', impu: 'sip:alice@ims.lab', k: K, opc: OPC, pcscf: `${HOST}:${pc.unprotectedPort}`, expires: 600, subscribeRegEvent: true, reRegister: { auto: false }, ...cfg }),
    { clock, rng: new SeededRng(11), sqnStore: memorySqnStore() },
  );
  await ue.start();
  return {
    clock,
    pc,
    ue,
    async close() {
      await ue.stop();
      await pc.close();
    },
  };
}

/** Advance the manual clock in steps, letting sockets and promises run between steps. */
async function advance(clock: ManualClock, ms: number, step = 10_000): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await clock.advanceAsync(Math.min(step, ms - t));
  }
}

/** `p`, or a failure after `ms` of real time (an answer lost for good would wait for a ManualClock timer forever). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

function terminated(ue: Ue, event: 'deactivated' | 'rejected'): Reginfo {
  const c = ue.address().protectedServer;
  return { version: 1, state: 'full', registrations: [{ aor: 'sip:alice@ims.lab', id: 'a1', state: 'terminated', contacts: [{ id: 'c1', state: 'terminated', event, uri: `sip:${c.address}:${c.port}`, expires: 0 }] }] };
}

const subscribes = (pc: FakePcscf): SipRequest[] => pc.received.filter((x) => x.req.method === 'SUBSCRIBE').map((x) => x.req);

describe('TS 24.229 §5.1.1.3 / RFC 6665 §4.1.2.1: the UE refreshes its reg-event subscription', () => {
  test('[R-RR-5] granted 600 s: refreshed inside the dialog after 300 s, over the SAs, along the route set, then every 300 s', async () => {
    const r = await rig({ expires: 3600 });
    try {
      r.pc.script.expires = 3600;
      r.pc.script.subscriptionExpires = 600;
      await r.ue.register();
      await waitFor(() => r.ue.state().subscription === 'active' && r.ue.state().subscriptionRefreshAt !== undefined);
      const t0 = r.clock.now();
      assert.equal(r.ue.state().subscriptionRefreshAt, t0 + 300_000, 'half of 600 s (TS 24.229 §5.1.1.3)');
      assert.equal(r.ue.state().subscriptionExpiresAt, t0 + 600_000);
      await advance(r.clock, 299_000);
      assert.equal(subscribes(r.pc).length, 1, 'not before its time');
      await advance(r.clock, 1_000, 1_000);
      await waitFor(() => subscribes(r.pc).length === 2);
      const [first, refresh] = subscribes(r.pc);
      const x = r.pc.received.find((e) => e.req === refresh)!;
      assert.equal(x.protected, true, 'over the SAs');
      // RFC 3261 §12.2.1.1: same dialog, next CSeq, remote target, route set (P-CSCF entry = its protected port).
      assert.equal(refresh.headers.get('call-id'), first.headers.get('call-id'));
      assert.equal(fromTag(refresh), fromTag(first));
      assert.equal(toTag(refresh), r.pc.notifierTag);
      assert.equal(cseqOf(refresh)?.seq, 2);
      assert.equal(refresh.uri, 'sip:scscf.ims.lab:6060');
      assert.deepEqual(refresh.headers.getAll('route'), [`<sip:${HOST}:${r.pc.portS};lr>`, `<sip:${HOST}:${r.pc.unprotectedPort};lr>`]);
      assert.equal(refresh.headers.get('event'), 'reg');
      await waitFor(() => r.ue.state().subscriptionRefreshAt === r.clock.now() + 300_000);
      assert.equal(r.ue.state().subscription, 'active');
      await advance(r.clock, 300_000, 50_000);
      await waitFor(() => subscribes(r.pc).length === 3);
      assert.equal(cseqOf(subscribes(r.pc)[2])?.seq, 3);
    } finally {
      await r.close();
    }
  });

  test('a shorter grant is refreshed at its half; a 481 to the refresh starts a new subscription; the registration ending ends the refreshes', async () => {
    const r = await rig();
    try {
      r.pc.script.subscriptionExpires = 100;
      await r.ue.register();
      await waitFor(() => r.ue.state().subscriptionRefreshAt !== undefined);
      assert.equal(r.ue.state().subscriptionRefreshAt, r.clock.now() + 50_000);
      r.pc.script.refreshStatus = 481;
      await advance(r.clock, 50_000, 25_000);
      await waitFor(() => subscribes(r.pc).length === 3);
      const [first, refresh, fresh] = subscribes(r.pc);
      assert.equal(toTag(refresh), r.pc.notifierTag);
      assert.equal(toTag(fresh), undefined, 'a new dialog');
      assert.notEqual(fresh.headers.get('call-id'), first.headers.get('call-id'));
      await waitFor(() => r.ue.state().subscription === 'active');
      await r.ue.deregister();
      assert.equal(r.ue.state().subscription, 'none');
      assert.equal(r.ue.state().subscriptionRefreshAt, undefined);
      await advance(r.clock, 200_000, 50_000);
      assert.equal(subscribes(r.pc).length, 3, 'no refresh without a registration');
    } finally {
      await r.close();
    }
  });
});

describe('TS 24.229 §5.1.1.6 / §5.1.1.7: the end of a registration at the UE', () => {
  test('[R-SA-7] a NOTIFY "terminated" overtaking the 200 to the de-REGISTER leaves the SAs to that 200', async () => {
    const r = await rig({ subscribeRegEvent: false });
    try {
      await r.ue.register();
      let notified: number | undefined;
      r.pc.script.beforeDeregistered = async () => {
        notified = (await r.pc.notifyReg(r.ue.address().protectedServer, terminated(r.ue, 'deactivated'), 'terminated;reason=noresource')).status;
        await new Promise((res) => setTimeout(res, 20));
      };
      await within(r.ue.deregister(), 3000, '200 to the de-REGISTER');
      assert.equal(notified, 200);
      assert.equal(r.ue.state().state, 'deregistered');
      assert.equal(r.ue.state().lastFailure, undefined, 'the 200 arrived over the SAs');
      assert.deepEqual(r.ue.saTable(), []);
    } finally {
      await r.close();
    }
  });

  test('[R-RR-5] NOTIFY "deactivated" with automatic registration on: the UE answers, drops its SAs and registers again', async () => {
    const r = await rig({ subscribeRegEvent: false, reRegister: { auto: true } });
    try {
      const first = await r.ue.register();
      const resp = await r.pc.notifyReg(r.ue.address().protectedServer, terminated(r.ue, 'deactivated'), 'terminated;reason=deactivated');
      assert.equal(resp.status, 200);
      await waitFor(() => r.pc.registers().length === 4 && r.ue.state().state === 'registered');
      const [, , again] = r.pc.registers();
      assert.equal(again.protected, false, 'a new initial registration, unprotected (TS 24.229 §5.1.1.2)');
      assert.notEqual(r.ue.state().registration!.setId, first.setId);
      assert.equal(r.ue.sa.get(first.setId), undefined, 'the old SAs are gone');
      assert.equal(r.ue.state().lastFailure, undefined);
    } finally {
      await r.close();
    }
  });

  test('[R-RR-5] NOTIFY "rejected": the UE stays de-registered even with automatic registration on', async () => {
    const r = await rig({ subscribeRegEvent: false, reRegister: { auto: true } });
    try {
      await r.ue.register();
      const resp = await r.pc.notifyReg(r.ue.address().protectedServer, terminated(r.ue, 'rejected'), 'terminated;reason=rejected');
      assert.equal(resp.status, 200);
      await waitFor(() => r.ue.state().state === 'deregistered');
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(r.ue.state().state, 'deregistered');
      assert.equal(r.pc.registers().length, 2, 'no new REGISTER');
      assert.equal(r.ue.state().lastFailure?.detail, 'network: rejected');
      assert.deepEqual(r.ue.saTable(), []);
    } finally {
      await r.close();
    }
  });
});
