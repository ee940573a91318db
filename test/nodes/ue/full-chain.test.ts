/**
 * The soft UE through the real core on loopback: G2's P-CSCF (userspace ESP-in-UDP), F2's
 * I-CSCF, F1's S-CSCF and E2's HSS with a temporary SQLite store. The UE side of R-RR-5 (reg
 * event from the S-CSCF through the P-CSCF), R-FAIL-2 and R-FAIL-3 against the real HSS, and the
 * end of a registration with both the UE and the P-CSCF subscribed to the reg event (R-SA-7).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { usimStateFromSqnMs } from '../../../src/auth/index.js';
import { ManualClock, SeededRng } from '../../../src/common/index.js';
import { changeSubscriber, defaultHssConfig, createHss, provisionSubscriber } from '../../../src/nodes/hss/index.js';
import { createIcscf, parseIcscfConfig } from '../../../src/nodes/icscf/index.js';
import { createPcscf, parsePcscfConfig, type PcscfNode } from '../../../src/nodes/pcscf/index.js';
import { createScscf, parseScscfConfig, type Scscf } from '../../../src/nodes/scscf/index.js';
import { createUe, memorySqnStore, parseUeConfig, type Ue, type UeConfigInput } from '../../../src/nodes/ue/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { fileURLToPath } from 'node:url';
import { cliPath, repoRoot } from '../../support/paths.js';
import { waitFor } from '../../support/wait.js';

const HOST = '127.0.0.1';
const REALM = 'ims.lab';
// K and OP of the lab subscribers (OP of TS 35.208 set 1).
const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const T1 = 50;

const undo: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (undo.length > 0) await undo.pop()!().catch(() => undefined);
});

interface Chain {
  pcscf: PcscfNode;
  scscf: Scscf;
  hssStore: SqliteStore;
  ue(user: string, extra?: Partial<UeConfigInput>, store?: ReturnType<typeof memorySqnStore>, clock?: ManualClock): Promise<Ue>;
}

/**
 * The whole core; the P-CSCF subscribes to the reg event after each registration (TS 24.229
 * §5.2.3) unless `pcscfRegEvent: false`.
 */
async function chain(opts: { pcscfRegEvent?: boolean } = {}): Promise<Chain> {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-ue-chain-'));
  undo.push(async () => rmSync(dir, { recursive: true, force: true }));
  const store = new SqliteStore(join(dir, 'hss.sqlite'));
  await provisionSubscriber(store, { impi: `alice@${REALM}`, impus: [`sip:alice@${REALM}`, `tel:+15550001`], k: K, op: OP, amf: '8000' });
  const hc = defaultHssConfig(dir);
  hc.diameter.listen = { host: HOST, port: 0 };
  hc.diameter.peers = [{ host: 'icscf.ims.lab' }, { host: 'scscf.ims.lab' }];
  hc.rest = null;
  hc.serverCapabilities = { mandatory: [], optional: [], serverNames: [] };
  const hss = createHss(hc, { store, ownsStore: true, rng: new SeededRng('ue-chain-hss') });
  await hss.start();
  undo.push(() => hss.stop());
  const scscf = createScscf(
    parseScscfConfig({ sip: { listen: `${HOST}:0`, protocols: ['udp'] }, diameter: { hss: { host: 'hss.ims.lab', port: hss.diameterPort, address: HOST } }, store: `sqlite:${join(dir, 'scscf.sqlite')}`, icscf: null, logLevel: 'silent' }),
    { rng: new SeededRng('ue-chain-scscf') },
  );
  await scscf.start();
  undo.push(() => scscf.stop());
  await scscf.waitForHss(5000);
  const icscf = createIcscf(
    parseIcscfConfig({ logLevel: 'silent', sip: { listen: `${HOST}:0`, protocols: ['udp'], t1Ms: T1 }, diameter: { hss: { connect: `${HOST}:${hss.diameterPort}` } }, scscfs: [scscf.serverName()] }),
    { rng: new SeededRng('ue-chain-icscf') },
  );
  await icscf.start();
  undo.push(() => icscf.stop());
  await icscf.waitForHss(5000);
  const pcscf = createPcscf(
    parsePcscfConfig({
      sip: { listen: `${HOST}:0`, protocols: ['udp'], t1Ms: T1 },
      protected: { ports: 'auto' },
      icscf: `sip:${HOST}:${icscf.address().sip.port}`,
      trustedCore: [`${HOST}:${scscf.address().sip.port}`, `${HOST}:${icscf.address().sip.port}`],
      regEvent: { subscribe: opts.pcscfRegEvent ?? true, expires: 600000 },
      logLevel: 'silent',
    }),
    { rng: new SeededRng('ue-chain-pcscf') },
  );
  await pcscf.start();
  undo.push(() => pcscf.stop());
  return {
    pcscf,
    scscf,
    hssStore: store,
    async ue(user, extra = {}, sqn, clock) {
      const u = createUe(
        parseUeConfig({ impi: `${user}@${REALM}`, impu: `sip:${user}@${REALM}`, k: K, op: OP, pcscf: `${HOST}:${pcscf.address().sip.port}`, expires: 600, reRegister: { auto: false }, subscribeRegEvent: true, timers: { t1: T1 }, ...extra }),
        { rng: new SeededRng(`ue-chain-${user}`), ...(sqn ? { sqnStore: sqn } : {}), ...(clock ? { clock } : {}) },
      );
      await u.start();
      undo.push(() => u.stop());
      return u;
    },
  };
}

describe('the soft UE through the real P-CSCF, I-CSCF, S-CSCF and HSS', () => {
  test('[R-REG-1] [R-REG-2] [R-SM-6] [R-SA-3] registration with IMS AKA; the implicit set arrives; UE and P-CSCF SA tables mirror each other', { timeout: 30_000 }, async () => {
    const c = await chain();
    const alice = await c.ue('alice');
    const reg = await alice.register();
    assert.deepEqual(reg.impus, ['sip:alice@ims.lab', 'tel:+15550001']);
    assert.ok(reg.serviceRoute.length >= 1, 'Service-Route from the S-CSCF');
    await waitFor(() => alice.state().subscription === 'active', 5000);
    await c.pcscf.idle();
    // Every UE inbound SPI is a P-CSCF outbound SPI and vice versa; each side chose its own inbound ones.
    const ueRows = alice.saTable().filter((r) => r.transport === 'udp');
    const pcRows = c.pcscf.saTable().filter((r) => r.transport === 'udp' && r.impi === 'alice@ims.lab');
    const spis = (rows: typeof ueRows, d: 'in' | 'out') => rows.filter((r) => r.direction === d).map((r) => r.spi).sort();
    assert.deepEqual(spis(ueRows, 'in'), spis(pcRows, 'out'));
    assert.deepEqual(spis(ueRows, 'out'), spis(pcRows, 'in'));
    assert.ok(spis(ueRows, 'in').every((s) => s >= 0x80000000) && spis(ueRows, 'out').every((s) => s < 0x80000000));
    assert.equal(c.scscf.registrations().length, 1);
  });

  test('[R-RR-5] network-initiated re-authentication: NOTIFY "shortened" through the P-CSCF, the UE re-registers with a fresh AKA run', { timeout: 30_000 }, async () => {
    const c = await chain();
    const alice = await c.ue('alice');
    const first = await alice.register();
    await waitFor(() => alice.state().subscription === 'active', 5000);
    assert.equal(await c.scscf.reauthenticate('sip:alice@ims.lab', 30), true);
    await waitFor(() => alice.state().state === 'registered' && alice.state().registration!.setId !== first.setId, 10_000);
    assert.equal(alice.state().registration!.expires, 600);
    await c.pcscf.idle();
    assert.equal((await alice.sendMessage('sip:alice@ims.lab', 'note to self')).status < 300, true);
  });

  test('[R-RR-5] [R-SA-7] [R-FAIL-4] network-initiated de-registration with both subscriptions: the NOTIFY reaches the UE over its SAs, the UE answers; no SA and no registration anywhere', { timeout: 30_000 }, async () => {
    const c = await chain();
    const alice = await c.ue('alice');
    await alice.register();
    await waitFor(() => alice.state().subscription === 'active' && c.pcscf.registrations()[0]?.subscription === 'active', 5000);
    const relayed = c.pcscf.counters().forwardedTerminating;
    assert.equal(await c.scscf.deregister('sip:alice@ims.lab', { event: 'deactivated' }), true);
    await waitFor(() => alice.state().state === 'deregistered', 5000);
    assert.equal(alice.state().lastFailure?.detail, 'network: deactivated', 'the NOTIFY meant for the UE got through');
    assert.ok(c.pcscf.counters().forwardedTerminating > relayed);
    assert.deepEqual(alice.saTable(), []);
    // The UE answered the NOTIFY: the P-CSCF need not wait for its grace.
    await waitFor(() => c.pcscf.registrations().length === 0, 1500);
    await c.pcscf.idle();
    assert.deepEqual(c.pcscf.sets(), []);
    assert.deepEqual(c.pcscf.pending(), []);
    assert.equal(c.scscf.registrations().length, 0);
    assert.equal(c.pcscf.counters().deregistered, 1);
  });

  test('[R-RR-5] [R-SA-7] TS 24.229 §5.1.1.7: after "deactivated" the UE registers again through the whole chain; the old SAs are gone everywhere', { timeout: 30_000 }, async () => {
    const c = await chain();
    const alice = await c.ue('alice', { reRegister: { auto: true } });
    const first = await alice.register();
    await waitFor(() => alice.state().subscription === 'active' && c.pcscf.registrations()[0]?.subscription === 'active', 5000);
    const oldPcscfSet = c.pcscf.sets()[0].id;
    assert.equal(await c.scscf.deregister('sip:alice@ims.lab', { event: 'deactivated' }), true);
    await waitFor(() => alice.state().state === 'registered' && alice.state().registration!.setId !== first.setId, 10_000);
    await waitFor(() => c.pcscf.registrations().length === 1 && c.pcscf.registrations()[0].ending === undefined && c.pcscf.sets().length === 1, 5000);
    await c.pcscf.idle();
    assert.notEqual(c.pcscf.sets()[0].id, oldPcscfSet);
    assert.equal(c.pcscf.sets()[0].state, 'active');
    assert.equal(alice.sa.get(first.setId), undefined);
    assert.equal(c.scscf.registrations().length, 1);
    assert.equal((await alice.sendMessage('sip:alice@ims.lab', 'back again')).status, 200);
  });

  test('[R-RR-5] [R-SA-7] "rejected": the UE stays de-registered, nothing of it is left in the core', { timeout: 30_000 }, async () => {
    const c = await chain();
    const alice = await c.ue('alice', { reRegister: { auto: true } });
    await alice.register();
    await waitFor(() => alice.state().subscription === 'active' && c.pcscf.registrations()[0]?.subscription === 'active', 5000);
    assert.equal(await c.scscf.deregister('sip:alice@ims.lab', { event: 'rejected' }), true);
    await waitFor(() => alice.state().state === 'deregistered', 5000);
    await waitFor(() => c.pcscf.registrations().length === 0 && c.pcscf.sets().length === 0, 3000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(alice.state().state, 'deregistered');
    assert.equal(alice.state().lastFailure?.detail, 'network: rejected');
    assert.deepEqual(alice.saTable(), []);
    assert.deepEqual(c.pcscf.pending(), []);
    assert.equal(c.scscf.registrations().length, 0);
  });

  test('[R-RR-5] TS 24.229 §5.1.1.3: the UE refreshes its reg-event subscription inside the dialog through the P-CSCF; the S-CSCF extends the same subscription', { timeout: 30_000 }, async () => {
    const c = await chain();
    // Only the UE runs on a manual clock: its refresh timer is driven, the core keeps real time.
    const clock = new ManualClock(Date.now());
    const alice = await c.ue('alice', {}, undefined, clock);
    await alice.register();
    await waitFor(() => alice.state().subscription === 'active' && alice.state().subscriptionRefreshAt !== undefined && c.pcscf.registrations()[0]?.subscription === 'active', 5000);
    const ueSubs = () => c.scscf.core.notifier.subscriptionsOf('sip:alice@ims.lab').filter((x) => x.subscriber === 'ue');
    assert.equal(ueSubs().length, 1);
    const before = { expiresAt: ueSubs()[0].expiresAt, cseq: ueSubs()[0].localCseq, notifies: c.scscf.counters().notifies };
    assert.equal(alice.state().subscriptionRefreshAt, clock.now() + 300_000, 'half of the 600 s granted');
    clock.advance(300_000);
    await waitFor(() => c.scscf.counters().notifies > before.notifies && alice.state().subscriptionRefreshAt === clock.now() + 300_000, 5000);
    assert.equal(ueSubs().length, 1, 'the same subscription, no second one');
    assert.ok(ueSubs()[0].expiresAt > before.expiresAt, 'extended by the refresh');
    assert.equal(ueSubs()[0].localCseq, before.cseq + 1, 'and notified once more (RFC 6665 §4.2.1.2)');
    assert.equal(alice.state().subscription, 'active');
    assert.equal(c.scscf.core.notifier.size, 2, 'the UE\'s and the P-CSCF\'s');
  });

  test('[R-FAIL-3] [R-AKA-5] an ISIM ahead of the HSS sends AUTS; the HSS resynchronises and the registration succeeds', { timeout: 30_000 }, async () => {
    const c = await chain();
    const sqn = memorySqnStore(usimStateFromSqnMs(5000 * 32));
    const alice = await c.ue('alice', { subscribeRegEvent: false }, sqn);
    await alice.register();
    assert.equal(alice.state().state, 'registered');
    assert.ok(Math.max(...sqn.state!.slots) > 5000 * 32, 'the accepted SQN came after SQN_MS');
  });

  test('[R-FAIL-2] [R-AKA-7] a wrong K at the UE: MAC failure reported, no registration and no SA anywhere', { timeout: 30_000 }, async () => {
    const c = await chain();
    const alice = await c.ue('alice', { k: '00112233445566778899aabbccddeeff', subscribeRegEvent: false });
    await assert.rejects(alice.register(), (e: Error & { reason?: string }) => e.reason === 'mac-failure');
    assert.deepEqual(alice.saTable(), []);
    await c.pcscf.idle();
    await waitFor(() => c.pcscf.sets().length === 0 && c.pcscf.pending().length === 0, 5000);
    assert.equal(c.scscf.registrations().length, 0);
  });

  for (const ueSubscribes of [false, true]) {
    test(`[R-SA-7] [R-FAIL-4] with the P-CSCF's own subscription${ueSubscribes ? ' and the UE\'s' : ''}, the de-REGISTER is answered promptly over the SAs, then nothing of the UE is left in the core`, { timeout: 30_000 }, async () => {
      const c = await chain();
      const alice = await c.ue('alice', { subscribeRegEvent: ueSubscribes });
      await alice.register();
      await waitFor(() => c.pcscf.registrations()[0]?.subscription === 'active' && (!ueSubscribes || alice.state().subscription === 'active'), 5000);
      const t0 = Date.now();
      await alice.deregister();
      const took = Date.now() - t0;
      assert.equal(alice.state().state, 'deregistered');
      assert.equal(alice.state().lastFailure, undefined, 'the 200 to the de-REGISTER arrived');
      assert.ok(took < 1500, `answered in ${took} ms (Timer F would be ${64 * T1} ms)`);
      assert.deepEqual(alice.saTable(), []);
      await c.pcscf.idle();
      await waitFor(() => c.pcscf.sets().length === 0 && c.pcscf.registrations().length === 0 && c.scscf.registrations().length === 0, 5000);
      assert.deepEqual(c.pcscf.pending(), []);
    });
  }

  test('[R-SA-5] [R-FAIL-3] [R-AKA-5] a synchronisation failure during a re-registration is reported over the existing SAs; the HSS resynchronises and the re-registration succeeds', { timeout: 30_000 }, async () => {
    const c = await chain();
    const alice = await c.ue('alice', { subscribeRegEvent: false });
    const first = await alice.register();
    // The HSS forgets the SQNs it issued (e.g. restored from an old backup): its next challenge is stale for the ISIM.
    await changeSubscriber(c.hssStore, `alice@${REALM}`, { sqn: 0 });
    const again = await alice.reRegister();
    assert.notEqual(again.setId, first.setId);
    assert.equal(c.scscf.counters().resyncs, 1, 'AUTS reached the S-CSCF');
    assert.equal(c.pcscf.counters().portRuleRejected, 0);
    await c.pcscf.idle();
    assert.equal((await alice.sendMessage('sip:alice@ims.lab', 'after resync')).status, 200);
  });

  test('[R-SA-5] [R-FAIL-2] [R-AKA-7] a network-authentication failure during a re-registration is reported over the existing SAs; the registration and its SAs stay', { timeout: 30_000 }, async () => {
    const c = await chain();
    const alice = await c.ue('alice', { subscribeRegEvent: false });
    const first = await alice.register();
    // The network now holds another K: its next challenge fails the ISIM's MAC check.
    await changeSubscriber(c.hssStore, `alice@${REALM}`, { k: '00112233445566778899aabbccddeeff', op: OP });
    await assert.rejects(alice.reRegister(), (e: Error & { reason?: string }) => e.reason === 'mac-failure');
    assert.equal(c.scscf.counters().networkAuthFailures, 1, 'the report reached the S-CSCF');
    assert.equal(c.pcscf.counters().portRuleRejected, 0);
    assert.equal(alice.state().state, 'registered');
    assert.equal(alice.state().registration!.setId, first.setId);
    await c.pcscf.idle();
    await waitFor(() => c.pcscf.sets().length === 1 && c.pcscf.pending().length === 0, 3000);
    assert.equal(c.pcscf.sets()[0].state, 'active');
    assert.equal(c.pcscf.registrations().length, 1);
    assert.equal(c.scscf.registrations().length, 1, 'a failed authentication never de-registers (R-AKA-7)');
  });

  test('[R-SM-6] `imsec ue register` as a process registers through the real core, sends a MESSAGE and de-registers', { timeout: 60_000 }, async () => {
    const c = await chain();
    const compiled = fileURLToPath(import.meta.url).includes(join('dist', 'test'));
    const entry = compiled ? [cliPath] : ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts')];
    const args = [...entry, 'ue', 'register', '--impi', 'alice@ims.lab', '--impu', 'sip:alice@ims.lab', '--k', K, '--op', OP, '--pcscf', `${HOST}:${c.pcscf.address().sip.port}`, '--message', 'sip:alice@ims.lab', 'to myself', '--deregister'];
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (err += d));
      p.on('close', (code) => resolve({ code, out, err }));
    });
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out);
    assert.equal(s.registered, true);
    assert.deepEqual(s.impus, ['sip:alice@ims.lab', 'tel:+15550001']);
    assert.equal(s.message.status, 200);
    assert.equal(s.deregistered, true);
    await c.pcscf.idle();
    await waitFor(() => c.pcscf.sets().length === 0 && c.scscf.registrations().length === 0, 5000);
  });
});
