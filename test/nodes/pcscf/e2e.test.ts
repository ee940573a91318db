/**
 * The P-CSCF between real nodes over loopback: G1's soft UE (IMS AKA from its ISIM, sec-agree,
 * userspace ESP-in-UDP), F2's I-CSCF, F1's S-CSCF and E2's HSS (temp SQLite store). Nothing here
 * is a stub: the AKA answer, the SAs on both ends and the Cx exchanges are the real ones.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { SeededRng } from '../../../src/common/index.js';
import { defaultHssConfig, createHss, provisionSubscriber } from '../../../src/nodes/hss/index.js';
import { createIcscf, parseIcscfConfig } from '../../../src/nodes/icscf/index.js';
import { createPcscf, parsePcscfConfig, type PcscfNode } from '../../../src/nodes/pcscf/index.js';
import { createScscf, parseScscfConfig } from '../../../src/nodes/scscf/index.js';
import { createUe, parseUeConfig, type Ue } from '../../../src/nodes/ue/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { HOST, waitFor } from './support.js';

// TS 35.208 test set 1.
const K = '465b5c8e53c8daa7e3b3c1ed6d0d5c5c';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const REALM = 'ims.lab';
const T1 = 50;

type Cleanup = (() => Promise<unknown>)[];
const cleanup: Cleanup = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!().catch(() => undefined);
});

async function core(): Promise<{ pcscf: PcscfNode; scscf: ReturnType<typeof createScscf>; ue: (user: string) => Promise<Ue> }> {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-pcscf-e2e-'));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  const store = new SqliteStore(join(dir, 'hss.sqlite'));
  for (const u of ['alice', 'bob']) await provisionSubscriber(store, { impi: `${u}@${REALM}`, impus: [`sip:${u}@${REALM}`], k: K, op: OP, amf: '8000' });
  const hc = defaultHssConfig(dir);
  hc.diameter.listen = { host: HOST, port: 0 };
  hc.diameter.peers = [{ host: 'icscf.ims.lab' }, { host: 'scscf.ims.lab' }];
  hc.rest = null;
  hc.serverCapabilities = { mandatory: [], optional: [], serverNames: [] };
  const hss = createHss(hc, { store, ownsStore: true, rng: new SeededRng('e2e-hss') });
  await hss.start();
  cleanup.push(() => hss.stop());
  const scscf = createScscf(
    parseScscfConfig({
      sip: { listen: `${HOST}:0`, protocols: ['udp'] },
      diameter: { hss: { host: 'hss.ims.lab', port: hss.diameterPort, address: HOST } },
      store: `sqlite:${join(dir, 'scscf.sqlite')}`,
      icscf: null,
      logLevel: 'silent',
    }),
    { rng: new SeededRng('e2e-scscf') },
  );
  await scscf.start();
  cleanup.push(() => scscf.stop());
  await scscf.waitForHss(5000);
  const icscf = createIcscf(
    parseIcscfConfig({ logLevel: 'silent', sip: { listen: `${HOST}:0`, protocols: ['udp'], t1Ms: T1 }, diameter: { hss: { connect: `${HOST}:${hss.diameterPort}` } }, scscfs: [scscf.serverName()] }),
    { rng: new SeededRng('e2e-icscf') },
  );
  await icscf.start();
  cleanup.push(() => icscf.stop());
  await icscf.waitForHss(5000);
  const pcscf = createPcscf(
    parsePcscfConfig({
      sip: { listen: `${HOST}:0`, protocols: ['udp'], t1Ms: T1 },
      protected: { ports: 'auto' },
      icscf: `sip:${HOST}:${icscf.address().sip.port}`,
      trustedCore: [`${HOST}:${scscf.address().sip.port}`, `${HOST}:${icscf.address().sip.port}`],
      regEvent: { subscribe: true, expires: 600000 },
      logLevel: 'silent',
    }),
    { rng: new SeededRng('e2e-pcscf') },
  );
  await pcscf.start();
  cleanup.push(() => pcscf.stop());
  const ue = async (user: string): Promise<Ue> => {
    const u = createUe(
      parseUeConfig({
        impi: `${user}@${REALM}`,
        impu: `sip:${user}@${REALM}`,
        k: K,
        op: OP,
        pcscf: `${HOST}:${pcscf.address().sip.port}`,
        localAddress: HOST,
        expires: 600,
        reRegister: { auto: false },
        subscribeRegEvent: false,
        timers: { t1: T1 },
      }),
      { rng: new SeededRng(`e2e-ue-${user}`) },
    );
    await u.start();
    cleanup.push(() => u.stop());
    return u;
  };
  return { pcscf, scscf, ue };
}

describe('the P-CSCF with the real UE, I-CSCF, S-CSCF and HSS', () => {
  test('[R-SM-3] [R-SA-4] [R-REG-4] a real UE registers with IMS AKA over the P-CSCF; MESSAGEs cross two pairs of SAs; de-registration cleans up', { timeout: 30_000 }, async () => {
    const { pcscf, scscf, ue } = await core();
    const alice = await ue('alice');
    const bob = await ue('bob');
    await alice.register();
    await bob.register();
    assert.equal(scscf.registrations().length, 2);
    const regs = pcscf.registrations().sort((a, b) => a.impi.localeCompare(b.impi));
    assert.deepEqual(regs.map((r) => [r.impi, r.impus]), [
      ['alice@ims.lab', ['sip:alice@ims.lab']],
      ['bob@ims.lab', ['sip:bob@ims.lab']],
    ]);
    assert.equal(pcscf.sets().filter((s) => s.state === 'active').length, 2);
    // The SPIs each side chose for its inbound SAs: MSB 0 at the P-CSCF, 1 at the UE (R-SA-3).
    for (const row of pcscf.saTable()) assert.equal(row.direction === 'in' ? row.spi < 0x80000000 : row.spi >= 0x80000000, true, `spi ${row.spi} ${row.direction}`);
    // alice → P-CSCF (SA) → S-CSCF → P-CSCF (Path) → bob (SA).
    const got: string[] = [];
    bob.onMessage((m) => got.push(Buffer.from(m.body).toString()));
    const r = await alice.sendMessage('sip:bob@ims.lab', 'hello bob');
    assert.equal(r.status, 200);
    await waitFor(() => got.length === 1, 'MESSAGE at bob');
    assert.deepEqual(got, ['hello bob']);
    assert.equal(pcscf.counters().forwardedOriginating, 1);
    assert.equal(pcscf.counters().forwardedTerminating, 1);
    // De-registration: the 200 over the SA, then nothing of alice left at the P-CSCF.
    await alice.deregister();
    await pcscf.idle();
    assert.deepEqual(pcscf.registrations().map((x) => x.impi), ['bob@ims.lab']);
    assert.equal(pcscf.sets().filter((s) => s.impi === 'alice@ims.lab').length, 0);
    assert.deepEqual(pcscf.pending(), []);
  });

  test('[R-RR-1] [R-RR-2] a real UE re-registers with AKA over its SAs; the P-CSCF changes over when the UE uses the new ones and drops the old after 64·T1', { timeout: 30_000 }, async () => {
    const { pcscf, ue } = await core();
    const alice = await ue('alice');
    const bob = await ue('bob');
    await alice.register();
    await bob.register();
    const first = pcscf.sets().find((s) => s.impi === 'alice@ims.lab')!;
    await alice.reRegister();
    const mine = () => pcscf.sets().filter((s) => s.impi === 'alice@ims.lab');
    // Both sets until alice sends on the new one (R-RR-2).
    assert.deepEqual(mine().map((s) => [s.id === first.id, s.state]).sort(), [[false, 'active'], [true, 'old']]);
    // R-RR-1: port_ps kept, another port_pc.
    const second = mine().find((s) => s.id !== first.id)!;
    assert.equal(second.pcscf.portS, first.pcscf.portS);
    assert.notEqual(second.pcscf.portC, first.pcscf.portC);
    const r = await alice.sendMessage('sip:bob@ims.lab', 'after re-registration');
    assert.equal(r.status, 200);
    // TS 24.229 §5.2.2: alice's first message on the new set cuts the old one to 64·T1 (3.2 s here).
    const cutAt = Date.now();
    assert.deepEqual(mine().map((s) => [s.id, s.state]), [[first.id, 'old'], [second.id, 'active']]);
    const left = mine()[0].expiresAt - cutAt;
    assert.ok(left > 0 && left <= 64 * T1, `old set left for ${left} ms`);
    await waitFor(() => mine().length === 1, 'the old set gone after 64·T1', 64 * T1 + 2000);
    await pcscf.idle();
    assert.deepEqual(mine().map((s) => [s.id, s.state]), [[second.id, 'active']]);
    const got: string[] = [];
    alice.onMessage((m) => got.push(m.text));
    assert.equal((await bob.sendMessage('sip:alice@ims.lab', 'over the new SAs')).status, 200);
    await waitFor(() => got.length === 1, 'MESSAGE at alice');
  });

  test('[R-SA-7] [R-FAIL-4] a network-initiated de-registration reaches the P-CSCF by reg-event and deletes the SAs', { timeout: 30_000 }, async () => {
    const { pcscf, scscf, ue } = await core();
    const alice = await ue('alice');
    await alice.register();
    await waitFor(() => pcscf.registrations()[0]?.subscription === 'active', 'reg-event subscription', 5000);
    assert.ok(await scscf.deregister('sip:alice@ims.lab', { event: 'deactivated' }));
    await waitFor(() => pcscf.registrations().length === 0, 'P-CSCF de-registration', 5000);
    await pcscf.idle();
    assert.deepEqual(pcscf.sets(), []);
    assert.deepEqual(pcscf.pending(), []);
  });
});
