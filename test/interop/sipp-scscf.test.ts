/**
 * Interop: SIPp 3.6 (a real SIP UA computing Digest AKAv1-MD5 from K/OP/AMF, INTEROP.md) as UEs
 * registering DIRECTLY with our S-CSCF, which fetches vectors from our HSS over Diameter Cx. The
 * HSS draws RANDs whose RES has no 0x00 byte (SIPp takes RES with strlen): a test-only Rng.
 * One single registration, then a load run of distinct users from an injection file. Everything
 * runs on 127.0.0.1 with ports chosen by the OS; SIPp gets an explicit free port.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { computeOpc } from '../../src/auth/milenage/milenage.js';
import { fromHex, SeededRng } from '../../src/common/index.js';
import { defaultHssConfig, HssServer, createHss } from '../../src/nodes/hss/index.js';
import { createScscf, parseScscfConfig, type Scscf } from '../../src/nodes/scscf/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { NewSubscriber } from '../../src/store/index.js';
import { resWithoutZeroRng, runSipp, sippRegisterScenario, sippUsersCsv } from '../../src/cli/sipp.js';
import { needPeer, havePeer } from '../support/peers.js';

// TS 35.208 test set 1 K and OP; AMF 8000 (SIPp must be given the AMF of AUTN).
const K = '465b5c8e53c8daa7e3b3c1ed6d0d5c5c';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const AMF = '8000';

function subscriber(user: string): NewSubscriber {
  const k = fromHex(K);
  return {
    impi: `${user}@ims.lab`,
    k,
    opc: computeOpc(k, fromHex(OP)),
    amf: 0x8000,
    seqHe: 0,
    indBits: 5,
    authSchemes: ['Digest-AKAv1-MD5'],
    serviceProfile: null,
    impus: [{ impu: `sip:${user}@ims.lab`, irs: 1, barred: false, pseudonym: false, isDefault: true }],
    implicitSets: [],
  };
}

const LOAD_USERS = Array.from({ length: 500 }, (_, i) => `load${String(i).padStart(4, '0')}`);

describe('interop: SIPp registers with our S-CSCF and HSS (AKAv1-MD5)', { skip: !havePeer('sipp') && process.env.CI !== 'true' ? 'sipp is not installed' : false }, () => {
  let dir: string;
  let hssStore: SqliteStore;
  let hss: HssServer;
  let scscf: Scscf;
  let rng: ReturnType<typeof resWithoutZeroRng>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'imsec-sipp-scscf-'));
    hssStore = new SqliteStore(join(dir, 'hss.sqlite'));
    await hssStore.createSubscribers([subscriber('user1'), ...LOAD_USERS.map(subscriber)]);
    const c = defaultHssConfig(dir);
    c.diameter.listen = { host: '127.0.0.1', port: 0 };
    c.diameter.peers = [{ host: 'scscf.ims.lab' }];
    c.rest = null;
    rng = resWithoutZeroRng(fromHex(K), computeOpc(fromHex(K), fromHex(OP)), new SeededRng('sipp-scscf'));
    hss = createHss(c, { store: hssStore, ownsStore: true, rng });
    await hss.start();
    scscf = createScscf(
      parseScscfConfig({
        sip: { listen: '127.0.0.1:0', protocols: ['udp'] },
        diameter: { hss: { host: 'hss.ims.lab', port: hss.diameterPort } },
        store: `sqlite:${join(dir, 'scscf.sqlite')}`,
        registrar: { sendKeys: false },
        icscf: null,
      }),
    );
    await scscf.start();
    await scscf.waitForHss(5000);
    writeFileSync(join(dir, 'scenario.xml'), sippRegisterScenario({ domain: 'ims.lab', k: K, op: OP, amf: AMF }));
  });

  after(async () => {
    await scscf?.stop();
    await hss?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('[R-AKA-6] [R-REG-2] one SIPp UE registers: 200 OK, the HSS shows it REGISTERED at our S-CSCF', { timeout: 60_000 }, async (t) => {
    if (!needPeer(t, 'sipp')) return;
    writeFileSync(join(dir, 'users.csv'), sippUsersCsv(['user1']));
    const run = await runSipp({ dir, target: { address: '127.0.0.1', port: scscf.address().sip.port }, calls: 1, timeoutSeconds: 30 });
    assert.equal(run.code, 0, `SIPp failed: ${run.stderr}\n${safeRead(join(dir, 'errors.log'))}`);
    assert.equal(run.successful, 1);
    const pub = (await hssStore.getPublicIdentity('sip:user1@ims.lab'))!;
    assert.equal(pub.state, 'REGISTERED');
    assert.equal(pub.scscfName, scscf.serverName());
    const reg = scscf.core.registration('sip:user1@ims.lab');
    assert.ok(reg, 'the S-CSCF holds the registration');
    assert.match(reg.bindings[0].uri, /^sip:user1@127\.0\.0\.1:\d+$/);
  });

  test('[R-AKA-6] load: 500 SIPp users at 50 registrations/s, every one passes (SIPp exit 0, -trace_stat)', { timeout: 120_000 }, async (t) => {
    if (!needPeer(t, 'sipp')) return;
    writeFileSync(join(dir, 'users.csv'), sippUsersCsv(LOAD_USERS));
    const before = scscf.counters();
    const run = await runSipp({ dir, target: { address: '127.0.0.1', port: scscf.address().sip.port }, calls: LOAD_USERS.length, rate: 50, timeoutSeconds: 90 });
    assert.equal(run.code, 0, `SIPp failed (${run.failed} failed calls): ${run.stderr}\n${safeRead(join(dir, 'errors.log'))}`);
    assert.equal(run.successful, LOAD_USERS.length);
    assert.equal(run.failed, 0);
    const after = scscf.counters();
    assert.equal(after.registrations - before.registrations, LOAD_USERS.length);
    assert.equal(after.authFailures - before.authFailures, 0);
    const states = await Promise.all(LOAD_USERS.map((u) => hssStore.getPublicIdentity(`sip:${u}@ims.lab`)));
    assert.ok(states.every((p) => p!.state === 'REGISTERED'), 'the HSS shows every user registered');
    t.diagnostic(`RANDs skipped for a 0x00 in RES: ${rng.skipped}; ${LOAD_USERS.length} registrations in ${run.seconds.toFixed(1)} s`);
  });
});

function safeRead(p: string): string {
  try {
    return readFileSync(p, 'utf8').slice(0, 2000);
  } catch {
    return '';
  }
}
