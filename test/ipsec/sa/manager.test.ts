import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FixedRng, ManualClock, SeededRng, type Rng } from '../../../src/common/index.js';
import {
  SaManager,
  mirrorSaTable,
  type CreateSetParams,
  type IpsecDatapath,
  type SaEvent,
  type SaSet,
  type SecurityAssociation,
} from '../../../src/ipsec/sa/index.js';

const IK = Uint8Array.from({ length: 16 }, (_, i) => i);
const CK = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i);
const UE_SPIS = { spiC: 0x80000101, spiS: 0x80000102 };
const TEMP_MS = 30_000;
const REG_MS = 600_000;

function pcscf(clock = new ManualClock(), rng: Rng = new SeededRng('pcscf'), extra: Partial<ConstructorParameters<typeof SaManager>[0]> = {}): SaManager {
  return new SaManager({ role: 'pcscf', clock, rng, portRange: { min: 20000, max: 20099 }, temporaryLifetimeMs: TEMP_MS, ...extra });
}

function params(over: Partial<CreateSetParams> = {}): CreateSetParams {
  return {
    impi: 'alice@ims.example',
    impus: ['sip:alice@ims.example', 'tel:+15550100'],
    ueAddress: '10.0.0.2',
    pcscfAddress: '10.0.0.1',
    remote: { ...UE_SPIS, portC: 31000, portS: 31001 },
    integrity: 'hmac-sha-1-96',
    encryption: 'null',
    mode: 'trans',
    ik: IK,
    ck: CK,
    ...over,
  };
}

function create(m: SaManager, over: Partial<CreateSetParams> = {}): SaSet {
  const r = m.createSet(params(over));
  assert.ok(r.ok, JSON.stringify(r));
  return r.set;
}

function record(m: SaManager): SaEvent[] {
  const events: SaEvent[] = [];
  m.on((e) => events.push(e));
  return events;
}

const deleted = (events: SaEvent[]) => events.filter((e): e is Extract<SaEvent, { kind: 'saDeleted' }> => e.kind === 'saDeleted');

/** On the manual clock: set `id` is still `state` 1 ms before `at`, and gone at `at` (R-SA-7). */
function assertLivesUntil(clock: ManualClock, m: SaManager, id: number, at: number, state: SaSet['state']): void {
  clock.advance(at - 1 - clock.now());
  assert.equal(m.get(id)?.state, state, `still ${state} 1 ms before its expiry`);
  assert.equal(m.get(id)?.sas.length, 4, 'all four SAs until then');
  clock.advance(1);
  assert.equal(m.get(id), undefined, 'gone at its expiry');
}

describe('TS 33.203 §7.1 SA set creation at the P-CSCF', () => {
  test('[R-SA-3] the P-CSCF allocates its inbound SPIs (MSB 0, not reserved, not the UE\'s) and two ports from its range', () => {
    const m = pcscf();
    const events = record(m);
    const set = create(m);
    assert.equal(set.state, 'temporary');
    for (const spi of [set.pcscf.spiC, set.pcscf.spiS]) {
      assert.ok(spi >= 256 && spi < 0x80000000, `SPI ${spi}`);
      assert.ok(spi !== UE_SPIS.spiC && spi !== UE_SPIS.spiS);
    }
    assert.notEqual(set.pcscf.spiC, set.pcscf.spiS);
    for (const p of [set.pcscf.portC, set.pcscf.portS]) assert.ok(p >= 20000 && p <= 20099);
    assert.notEqual(set.pcscf.portC, set.pcscf.portS);
    assert.deepEqual(
      events.map((e) => e.kind === 'saCreated' && `${e.sa.flow}:${e.sa.direction}`),
      ['uc-ps:in', 'us-pc:in', 'pc-us:out', 'ps-uc:out'],
    );
    assert.equal(m.findInbound(set.pcscf.spiS)?.flow, 'uc-ps');
    assert.equal(m.findInbound(set.pcscf.spiC)?.flow, 'us-pc');
    assert.equal(m.findInbound(UE_SPIS.spiC), undefined, 'UE SPIs are outbound at the P-CSCF');
  });

  test('[R-SA-3] the P-CSCF never picks an SPI the UE uses (a UE ignoring the MSB rule)', () => {
    const u32 = (v: number) => new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
    const rng = new FixedRng([u32(0x1234), u32(0x5678), u32(0x9abc), u32(0x1234), u32(0xdef0), u32(0), u32(1)]);
    const m = pcscf(new ManualClock(), rng);
    const set = create(m, { remote: { spiC: 0x1234, spiS: 0x5678, portC: 31000, portS: 31001 } });
    assert.deepEqual([set.pcscf.spiC, set.pcscf.spiS], [0x9abc, 0xdef0]);
    const bad = m.createSet(params({ local: { spiC: 0x1234, spiS: 0x7777, portC: 20050, portS: 20051 }, remote: { spiC: 0x1234, spiS: 0x5678, portC: 32000, portS: 32001 } }));
    assert.ok(!bad.ok && bad.reason === 'spi-in-use');
  });

  test('[R-SA-3] [R-RR-1] inbound SPIs are unique among live SAs; a P-CSCF shares its protected ports, a UE does not', () => {
    // TS 33.203 §7.1: SAs are told apart by SPI, so the P-CSCF's port_ps (and its port_pc pool)
    // serve every UE (R-RR-1: port_ps never changes); a UE's protected ports are its own.
    const spis = new Set<number>();
    const m = pcscf();
    assert.equal(m.sharedLocalPorts, true);
    for (let i = 0; i < 40; i++) {
      const r = m.reserveLocal();
      const s = create(m, { impi: `u${i}@ims.example`, ueAddress: `10.0.1.${i + 1}`, local: { ...r, portC: 20001, portS: 20000 } });
      for (const v of [s.pcscf.spiC, s.pcscf.spiS]) spis.add(v);
      assert.deepEqual([s.pcscf.portS, s.pcscf.portC], [20000, 20001], 'every set on the one port_ps and the same port_pc');
    }
    assert.equal(spis.size, 80);
    const u = pcscf(new ManualClock(), new SeededRng('exclusive'), { sharedLocalPorts: false });
    const ports = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const s = create(u, { impi: `u${i}@ims.example`, ueAddress: `10.0.1.${i + 1}` });
      for (const v of [s.pcscf.portC, s.pcscf.portS]) ports.add(v);
    }
    assert.equal(ports.size, 80);
    const taken = [...ports][0];
    const clash = u.createSet(params({ impi: 'v@ims.example', ueAddress: '10.0.2.1', local: { spiC: 0x4001, spiS: 0x4002, portC: taken, portS: 21000 } }));
    assert.ok(!clash.ok && clash.reason === 'port-in-use', JSON.stringify(clash));
  });

  test('[R-SA-2] the SAs carry the Annex I keys (hmac-sha-1-96: IK ‖ 32 zero bits)', () => {
    const set = create(pcscf());
    const expected = new Uint8Array(20);
    expected.set(IK);
    for (const sa of set.sas) assert.deepEqual(sa.keys.integrityKey, expected);
  });
});

describe('TS 33.203 §7.4 SA lifetimes', () => {
  test('[R-SA-7] a temporary set expires after the await-auth lifetime on the injected clock', () => {
    const clock = new ManualClock();
    const m = pcscf(clock);
    const events = record(m);
    const set = create(m);
    clock.advance(TEMP_MS - 1);
    assert.equal(m.get(set.id)?.state, 'temporary');
    clock.advance(1);
    assert.equal(m.get(set.id), undefined);
    assert.equal(set.state, 'deleted');
    assert.deepEqual(
      deleted(events).map((e) => e.reason),
      ['expired', 'expired', 'expired', 'expired'],
    );
    assert.equal(m.findInbound(set.pcscf.spiS), undefined);
  });

  test('[R-SA-7] an active set lives for the registration expiry + 30 s; a refresh extends it, never shortens it; shorten cuts it', () => {
    // TS 24.229 §5.1.1.5.1 / §5.2.2.3: after the 200 OK the SAs live for the registration's
    // expiry + 30 s; a re-registration without new SAs: max(current expiry, now + expires + 30 s).
    const clock = new ManualClock();
    const m = pcscf(clock);
    const set = create(m);
    clock.advance(10_000);
    m.activate(set.id, REG_MS);
    assert.equal(set.state, 'active');
    assert.equal(set.expiresAt, 10_000 + REG_MS + 30_000);
    m.refresh(set.id, 60_000);
    assert.equal(set.expiresAt, 10_000 + REG_MS + 30_000, 'a shorter refresh keeps the current expiry');
    clock.advance(REG_MS - 5_000);
    m.refresh(set.id, REG_MS);
    assert.equal(set.expiresAt, 5_000 + 2 * REG_MS + 30_000);
    assertLivesUntil(clock, m, set.id, set.expiresAt, 'active');
    assert.equal(clock.timers, 0, 'no timer left behind');
    // R-RR-5 (network-initiated re-authentication): shorten cuts the lifetime, never lengthens it.
    const s2 = create(m);
    m.activate(s2.id, REG_MS);
    const t0 = clock.now();
    m.shorten(s2.id, 20_000);
    assert.equal(s2.expiresAt, t0 + 20_000);
    m.shorten(s2.id, 50_000);
    assert.equal(s2.expiresAt, t0 + 20_000, 'a longer value leaves the set as it is');
    assertLivesUntil(clock, m, s2.id, t0 + 20_000, 'active');
  });

  test('[R-SA-7] the temporary set lives reg-await-auth (4 minutes) by default', () => {
    // TS 24.229 §5.2.2.1 and Table 7.8.1: reg-await-auth = 4 minutes.
    const clock = new ManualClock();
    const m = new SaManager({ role: 'pcscf', clock, rng: new SeededRng('default') });
    assert.equal(m.temporaryLifetimeMs, 240_000);
    const set = create(m);
    assert.equal(set.expiresAt, 240_000);
    assertLivesUntil(clock, m, set.id, 240_000, 'temporary');
  });

  test('[R-SA-7] a new active set lives at least as long as the one it replaces', () => {
    // TS 24.229 §5.1.1.5.1: the longer of the previous set's remaining lifetime and the new
    // registration's expiry + 30 s.
    const clock = new ManualClock();
    const m = pcscf(clock);
    const a = create(m);
    m.activate(a.id, REG_MS);
    clock.advance(1_000);
    const b = create(m, { remote: { spiC: 0x80000201, spiS: 0x80000202, portC: 31002, portS: 31001 } });
    m.activate(b.id, 60_000);
    assert.equal(b.expiresAt, REG_MS + 30_000, 'inherits the old set\'s remaining lifetime');
    clock.advance(1_000);
    const c = create(m, { remote: { spiC: 0x80000301, spiS: 0x80000302, portC: 31003, portS: 31001 } });
    m.activate(c.id, 2 * REG_MS);
    assert.equal(c.expiresAt, 2_000 + 2 * REG_MS + 30_000, 'the new expiry + 30 s when it is later');
  });

  test('[R-SA-7] de-registration deletes every set of the IMPI, and only those', () => {
    const m = pcscf();
    const events = record(m);
    const a = create(m);
    m.activate(a.id, REG_MS);
    create(m, { remote: { ...UE_SPIS, portC: 31002, portS: 31001 } });
    const other = create(m, { impi: 'bob@ims.example', ueAddress: '10.0.0.9' });
    m.deleteImpi('alice@ims.example');
    assert.deepEqual(
      m.sets().map((s) => s.id),
      [other.id],
    );
    assert.equal(deleted(events).length, 8);
    assert.ok(deleted(events).every((e) => e.reason === 'deregistered'));
  });
});

describe('TS 33.203 §7.4 change-over on re-registration', () => {
  test('[R-RR-2] P-CSCF: keeps the old set and sends on it until the UE uses the new inbound SA, then cuts it to 64·T1', () => {
    // TS 24.229 §5.2.2 (SPEC R-RR-2): the old set keeps both directions; the UE's first message
    // on the new set cuts the old set's lifetime to 64·T1 (changeOverMs), then it expires.
    const clock = new ManualClock();
    const m = pcscf(clock);
    assert.equal(m.changeOverMs, 32_000, 'default 64·T1 with T1 = 500 ms');
    const events = record(m);
    const a = create(m);
    m.activate(a.id, REG_MS);
    const b = create(m, { remote: { spiC: 0x80000201, spiS: 0x80000202, portC: 31002, portS: 31001 } });
    assert.equal(m.preferredSet('alice@ims.example', '10.0.0.2')?.id, a.id);
    m.noteInbound(b.id); // the protected REGISTER on the temporary set does not end the change-over
    clock.advance(5_000);
    m.activate(b.id, REG_MS);
    assert.deepEqual([a.state, b.state], ['old', 'active']);
    assert.equal(a.sas.length, 4, 'all four old SAs kept');
    assert.equal(a.expiresAt, REG_MS + 30_000, 'the old set keeps its lifetime until the change-over');
    assert.equal(m.preferredSet('alice@ims.example', '10.0.0.2')?.id, a.id, 'keeps sending on the old set');
    m.noteInbound(a.id);
    assert.equal(m.get(a.id)?.expiresAt, REG_MS + 30_000, 'traffic on the old set does not cut it');
    m.noteInbound(b.id);
    assert.equal(m.get(a.id)?.state, 'old', 'the old set stays for the transactions still on it');
    assert.equal(a.expiresAt, 5_000 + 32_000);
    assert.equal(a.sas.length, 4);
    assert.equal(m.preferredSet('alice@ims.example', '10.0.0.2')?.id, b.id);
    assert.equal(deleted(events).length, 0);
    assertLivesUntil(clock, m, a.id, 5_000 + 32_000, 'old');
    assert.deepEqual(
      deleted(events).map((e) => `${e.sa.setId}:${e.reason}`),
      [`${a.id}:replaced`, `${a.id}:replaced`, `${a.id}:replaced`, `${a.id}:replaced`],
    );
    assert.equal(m.get(b.id)?.state, 'active');
  });

  test('[R-RR-2] UE: keeps the old set, both directions, until the P-CSCF\'s first message on the new one, then for 64·T1', () => {
    // TS 24.229 §5.1.1.5.1 (SPEC R-RR-2): the UE sends on the new set at once and keeps the old
    // one until the first message from the P-CSCF on the new set and its transactions are over.
    const clock = new ManualClock();
    const m = new SaManager({ role: 'ue', clock, rng: new SeededRng('ue'), temporaryLifetimeMs: TEMP_MS, changeOverMs: 16_000 });
    const events = record(m);
    const pc = { spiC: 0x1001, spiS: 0x1002, portC: 20000, portS: 20001 };
    const a = create(m, { remote: pc });
    m.activate(a.id, REG_MS);
    const b = create(m, { remote: { spiC: 0x1003, spiS: 0x1004, portC: 20002, portS: 20001 } });
    assert.equal(m.preferredSet('alice@ims.example', '10.0.0.2')?.id, a.id);
    m.activate(b.id, REG_MS);
    assert.deepEqual(
      a.sas.map((sa) => `${sa.flow}:${sa.direction}`).sort(),
      ['pc-us:in', 'ps-uc:in', 'uc-ps:out', 'us-pc:out'],
    );
    assert.equal(a.state, 'old');
    assert.equal(deleted(events).length, 0, 'no old SA goes at activation');
    assert.equal(m.preferredSet('alice@ims.example', '10.0.0.2')?.id, b.id, 'the UE sends on the new SAs');
    clock.advance(1_000);
    m.noteInbound(a.id);
    assert.equal(a.expiresAt, REG_MS + 30_000, 'a message on the old set does not end the change-over');
    m.noteInbound(b.id);
    assert.equal(a.expiresAt, 1_000 + 16_000);
    assertLivesUntil(clock, m, a.id, 1_000 + 16_000, 'old');
    assert.deepEqual(
      deleted(events).map((e) => e.reason),
      ['replaced', 'replaced', 'replaced', 'replaced'],
      'the end of a change-over: the old set was replaced',
    );
  });

  test('[R-RR-3] a failed re-registration deletes the new set and keeps the old one', () => {
    const m = pcscf();
    const a = create(m);
    m.activate(a.id, REG_MS);
    const b = create(m, { remote: { spiC: 0x80000201, spiS: 0x80000202, portC: 31002, portS: 31001 } });
    m.deleteSet(b.id, 'failed');
    assert.deepEqual(
      m.sets().map((s) => [s.id, s.state]),
      [[a.id, 'active']],
    );
    assert.equal(m.preferredSet('alice@ims.example', '10.0.0.2')?.id, a.id);
  });
});

describe('TS 33.203 §7.1 rule 3: at most three SAs per direction per transport per IMPI', () => {
  const countRows = (m: SaManager, impi: string) => {
    const n = new Map<string, number>();
    for (const r of m.saTable().filter((x) => x.impi === impi)) {
      // One SA per (direction, transport, UE port role) per set: port-c flows vs port-s flows.
      const k = `${r.direction}/${r.transport}/${r.uePort === 31001 ? 's' : 'c'}`;
      n.set(k, (n.get(k) ?? 0) + 1);
    }
    return Math.max(...n.values());
  };

  test('[R-SA-6] a fourth set evicts the oldest temporary set', () => {
    const m = pcscf();
    const events = record(m);
    const sets = [0, 1, 2].map((i) => create(m, { remote: { spiC: 0x80000301 + 2 * i, spiS: 0x80000302 + 2 * i, portC: 31002 + i, portS: 31001 } }));
    assert.equal(countRows(m, 'alice@ims.example'), 3);
    const fourth = create(m, { remote: { spiC: 0x80000401, spiS: 0x80000402, portC: 31010, portS: 31001 } });
    assert.equal(m.get(sets[0].id), undefined);
    assert.ok(deleted(events).every((e) => e.sa.setId === sets[0].id && e.reason === 'evicted'));
    assert.equal(deleted(events).length, 4);
    assert.deepEqual(
      m.sets().map((s) => s.id),
      [sets[1].id, sets[2].id, fourth.id],
    );
    assert.equal(countRows(m, 'alice@ims.example'), 3);
  });

  test('[R-SA-6] with no temporary set the oldest old set goes; active sets are never evicted', () => {
    const m = pcscf();
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = create(m, { remote: { spiC: 0x80000301 + 2 * i, spiS: 0x80000302 + 2 * i, portC: 31002 + i, portS: 31001 } });
      m.activate(s.id, REG_MS);
      ids.push(s.id);
    }
    assert.deepEqual(
      m.sets().map((s) => s.state),
      ['old', 'old', 'active'],
    );
    create(m, { remote: { spiC: 0x80000401, spiS: 0x80000402, portC: 31010, portS: 31001 } });
    assert.equal(m.get(ids[0]), undefined);
    assert.deepEqual(
      m.sets().map((s) => s.state),
      ['old', 'active', 'temporary'],
    );
  });

  test('[R-SA-6] when all three sets are active (three addresses) a fourth is refused and nothing is created', () => {
    const m = pcscf();
    for (let i = 0; i < 3; i++) m.activate(create(m, { ueAddress: `10.0.0.${i + 2}` }).id, REG_MS);
    const events = record(m);
    const r = m.createSet(params({ ueAddress: '10.0.0.9' }));
    assert.ok(!r.ok && r.reason === 'sa-limit');
    assert.equal(events.length, 0);
    assert.equal(m.sets().length, 3);
  });
});

describe('TS 33.203 §7.1 SA table', () => {
  test('[R-SA-4] rows hold (UE IP, UE protected port, transport, SPI, IMPI, IMPUs) and are found by selector', () => {
    const m = pcscf();
    const set = create(m);
    const rows = m.lookupBySelector({ ueAddress: '10.0.0.2', uePort: 31000, transport: 'tcp' });
    assert.deepEqual(
      rows.map((r) => [r.ueAddress, r.uePort, r.transport, r.spi, r.direction, r.impi, r.impus]),
      [
        ['10.0.0.2', 31000, 'tcp', set.pcscf.spiS, 'in', 'alice@ims.example', ['sip:alice@ims.example', 'tel:+15550100']],
        ['10.0.0.2', 31000, 'tcp', UE_SPIS.spiC, 'out', 'alice@ims.example', ['sip:alice@ims.example', 'tel:+15550100']],
      ],
    );
    assert.equal(m.saTable().length, 8, 'four SAs, two transports');
    assert.deepEqual(m.lookupBySelector({ ueAddress: '10.0.0.3', uePort: 31000, transport: 'udp' }), []);
  });

  test('[R-SA-4] a UE protected port bound to one IMPI cannot be set up for another', () => {
    const m = pcscf();
    create(m);
    const r = m.createSet(params({ impi: 'mallory@ims.example', remote: { spiC: 0x80000501, spiS: 0x80000502, portC: 31005, portS: 31001 } }));
    assert.ok(!r.ok && r.reason === 'selector-in-use');
    const elsewhere = m.createSet(params({ impi: 'mallory@ims.example', ueAddress: '10.0.0.3' }));
    assert.ok(elsewhere.ok, 'the same ports at another address are fine');
  });

  test('findOutbound picks the SA of the selector', () => {
    const m = pcscf();
    const set = create(m);
    const sa = m.findOutbound({ address: '10.0.0.1', port: set.pcscf.portS }, { address: '10.0.0.2', port: 31000 });
    assert.equal(sa?.flow, 'ps-uc');
    assert.equal(sa?.spi, UE_SPIS.spiC);
    assert.equal(m.findOutbound({ address: '10.0.0.1', port: set.pcscf.portS }, { address: '10.0.0.2', port: 31001 }), undefined);
  });
});

describe('UE reservations', () => {
  test('[R-SA-3] the UE reserves MSB-1 SPIs and two ports before its offer; they expire unused', () => {
    const clock = new ManualClock();
    const m = new SaManager({ role: 'ue', clock, rng: new SeededRng('ue'), portRange: { min: 40000, max: 40001 }, temporaryLifetimeMs: TEMP_MS });
    const r = m.reserveLocal();
    assert.ok(r.spiC >= 0x80000000 && r.spiS >= 0x80000000 && r.spiC !== r.spiS);
    assert.deepEqual([r.portC, r.portS].sort(), [40000, 40001]);
    assert.throws(() => m.reserveLocal(), /no free protected port/);
    clock.advance(TEMP_MS);
    const again = m.reserveLocal();
    const set = create(m, { local: again, remote: { spiC: 0x1001, spiS: 0x1002, portC: 20000, portS: 20001 } });
    assert.deepEqual([set.ue.spiC, set.ue.spiS, set.ue.portC, set.ue.portS], [again.spiC, again.spiS, again.portC, again.portS]);
  });
});

describe('datapath mirroring', () => {
  test('[R-SA-3] installs every created SA and removes every deleted one, in order per SA', async () => {
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const dp: IpsecDatapath = {
      name: 'fake',
      async install(sa: SecurityAssociation) {
        await gate;
        log.push(`+${sa.flow}`);
      },
      async remove(sa: SecurityAssociation) {
        log.push(`-${sa.flow}`);
      },
      async close() {},
    };
    const m = pcscf();
    const mirror = mirrorSaTable(m, dp);
    const set = create(m);
    m.deleteSet(set.id, 'failed');
    await new Promise((r) => setImmediate(r));
    assert.equal(log.length, 0, 'removes wait for their installs');
    release();
    await mirror.idle();
    for (const f of ['uc-ps', 'us-pc', 'pc-us', 'ps-uc']) assert.ok(log.indexOf(`+${f}`) < log.indexOf(`-${f}`) && log.includes(`-${f}`), f);
    mirror.stop();
    create(m);
    await mirror.idle();
    assert.equal(log.length, 8, 'a stopped mirror installs nothing');
  });

  test('install failures reach onError and the table keeps going', async () => {
    const errors: string[] = [];
    const dp: IpsecDatapath = {
      name: 'failing',
      install: async () => Promise.reject(new Error('nope')),
      remove: async () => undefined,
      close: async () => undefined,
    };
    const m = pcscf();
    const mirror = mirrorSaTable(m, dp, { onError: (e, sa, op) => errors.push(`${op}:${sa.flow}:${(e as Error).message}`) });
    create(m);
    await mirror.idle();
    assert.equal(errors.length, 4);
    assert.ok(errors.every((e) => e.startsWith('install:') && e.endsWith(':nope')));
  });
});
