/**
 * The scenarios the `imsec core` kernel tests run against a {@link CoreLab}, two soft UEs each
 * (alice and bob, imsec core's built-in subscribers), SIP over UDP or TCP:
 * - {@link lifeScenario}: TS 33.203 §6–§7 end to end — both register, a MESSAGE each way,
 *   alice re-registers with a change-over (§7.4) and MESSAGEs go each way on the new set, both
 *   de-register;
 * - {@link reauthScenario}: network-initiated re-authentication (TS 24.229 §5.4.1.6 at the
 *   S-CSCF, §5.1.1.5.2 at the UE): the operator's `reauth`, a reg-event NOTIFY "shortened"
 *   through the P-CSCF over the SAs, the UE's re-REGISTER with a fresh AKA run, new SAs, and
 *   MESSAGEs each way on them.
 * After each, none of our SAs or policies is left in either namespace. Each returns the SA
 * sets the UEs had, for the capture checks.
 */
import assert from 'node:assert/strict';
import type { EncryptionAlg, IntegrityAlg } from '../../../src/ipsec/esp/index.js';
import { assertClean, ours } from './clean.js';
import type { CoreLab } from './core-lab.js';
import { kernelStates } from './xfrm-state.js';

export interface SetPorts {
  portC: number;
  portS: number;
  spiC: number;
  spiS: number;
}

/** What ue-driver.ts reports of a registration. */
export interface DriverReg {
  alg: string;
  ealg: string;
  mod: string;
  setId: number;
  expires: number;
  ue: SetPorts;
  pcscf: SetPorts & { address: string };
}

export interface ScenarioOptions {
  transform: { integrity: IntegrityAlg; encryption: EncryptionAlg };
  transport: 'udp' | 'tcp';
  /** Distinguishes the UEs and texts of one run from another's. */
  tag: string;
}

/** Runs `body` with UEs alice-TAG and bob-TAG, then stops them and checks both kernels are clean. */
async function withUes(lab: CoreLab, o: ScenarioOptions, subscribe: boolean, body: (alice: string, bob: string) => Promise<void>): Promise<void> {
  const [alice, bob] = [`alice-${o.tag}`, `bob-${o.tag}`];
  const offer = { integrity: [o.transform.integrity], encryption: [o.transform.encryption], pcscf: lab.pcscf, local: lab.local, transport: o.transport };
  await lab.ues.request({ op: 'create', name: alice, impi: 'alice@ims.lab', subscribeRegEvent: subscribe, ...offer });
  await lab.ues.request({ op: 'create', name: bob, impi: 'bob@ims.lab', ...offer });
  try {
    await body(alice, bob);
  } finally {
    await lab.ues.request({ op: 'stop', name: alice });
    await lab.ues.request({ op: 'stop', name: bob });
  }
  await assertClean(lab.a.ns);
  await assertClean(lab.b.ns);
}

async function register(lab: CoreLab, name: string, o: ScenarioOptions): Promise<DriverReg> {
  const reg = await lab.ues.request<DriverReg>({ op: 'register', name });
  assert.deepEqual([reg.alg, reg.ealg, reg.mod], [o.transform.integrity, o.transform.encryption, 'trans'], `${name}: the offered transform in transport mode`);
  await lab.noteKeys(name, o.transform.integrity);
  return reg;
}

/** A MESSAGE from `from` to `to`'s IMPU, answered 200, received by `to`. */
export async function message(lab: CoreLab, from: string, to: string, text: string, what?: string): Promise<void> {
  const user = to.split('-')[0];
  assert.equal(await lab.ues.request<number>({ op: 'message', name: from, to: `sip:${user}@ims.lab`, text }), 200, what ?? `${from} → ${to}`);
  assert.deepEqual(await lab.ues.request<string[]>({ op: 'messages', name: to, atLeast: 1 }), [text], `${to} got it`);
}

/**
 * `ip -s xfrm state` in the UEs' namespace: the SAs of `reg` that carry traffic did, with replay
 * state kept and no integrity failure. Over UDP requests and responses flow port_uc → port_ps and
 * port_pc → port_us (TS 24.229 §5.1.1.2.2); over TCP each connection uses both SAs of its pair.
 */
export function assertSasUsed(lab: CoreLab, reg: DriverReg, transport: 'udp' | 'tcp'): void {
  const sas = kernelStates(lab.b.ns).filter((s) => ours(s.reqid));
  const used = transport === 'tcp' ? [reg.ue.spiC, reg.ue.spiS, reg.pcscf.spiC, reg.pcscf.spiS] : [reg.ue.spiS, reg.pcscf.spiS];
  for (const spi of used) {
    const sa = sas.find((s) => s.spi === spi);
    assert.ok(sa, `SA 0x${spi.toString(16)} in the UE's kernel`);
    assert.ok(sa.packets > 0, `SA 0x${spi.toString(16)} carried packets`);
    assert.ok(sa.dst === lab.local ? sa.replayWindow > 0 : sa.oseq > 0, `SA 0x${spi.toString(16)}: replay window (inbound) / sequence numbers (outbound)`);
    assert.equal(sa.failed, 0, `SA 0x${spi.toString(16)}: no integrity failure`);
  }
}

/** The whole life of two registrations (see the module comment); resolves with every set used. */
export async function lifeScenario(lab: CoreLab, o: ScenarioOptions): Promise<DriverReg[]> {
  const sets: DriverReg[] = [];
  await withUes(lab, o, false, async (alice, bob) => {
    const first = await register(lab, alice, o);
    const bobs = await register(lab, bob, o);
    sets.push(first, bobs);
    await message(lab, alice, bob, `hello bob ${o.tag}`);
    await message(lab, bob, alice, `hello alice ${o.tag}`);
    assertSasUsed(lab, first, o.transport);
    assertSasUsed(lab, bobs, o.transport);

    const again = await lab.ues.request<DriverReg>({ op: 'reRegister', name: alice });
    await lab.noteKeys(alice, o.transform.integrity);
    sets.push(again);
    assert.deepEqual([again.alg, again.ealg, again.mod], [o.transform.integrity, o.transform.encryption, 'trans']);
    assert.notEqual(again.ue.portC, first.ue.portC, 'TS 33.203 §7.4: a new port_uc');
    assert.equal(again.ue.portS, first.ue.portS, 'port_us kept');
    await message(lab, alice, bob, `again ${o.tag}`, 'MESSAGE on the new set');
    await message(lab, bob, alice, `back ${o.tag}`, 'the P-CSCF reaches alice on the new set');

    await deregister(lab, alice, bob);
  });
  return sets;
}

/** Both de-register (TS 24.229 §5.1.1.6), each de-REGISTER answered 200 (not left to time out). */
async function deregister(lab: CoreLab, ...names: string[]): Promise<void> {
  for (const name of names) {
    assert.equal(await lab.ues.request<string>({ op: 'deregister', name }), 'deregistered');
    assert.equal(await lab.ues.request<unknown>({ op: 'lastFailure', name }), null, `${name}: the de-REGISTER answered 200`);
  }
}

/** Polls `read` every 100 ms until it gives `want` (at most `ms`); resolves with the last value. */
async function until<T>(read: () => Promise<T>, want: T, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await read();
  while (v !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    v = await read();
  }
  return v;
}

/** Network-initiated re-authentication of alice (see the module comment); the lab's core must take operator commands. */
export async function reauthScenario(lab: CoreLab, o: ScenarioOptions): Promise<DriverReg[]> {
  const sets: DriverReg[] = [];
  await withUes(lab, o, true, async (alice, bob) => {
    const first = await register(lab, alice, o);
    sets.push(first, await register(lab, bob, o));
    // TS 24.229 §5.1.1.3: the reg-event subscription, through the P-CSCF, over the SAs.
    assert.equal(await until(() => lab.ues.request<string>({ op: 'subscription', name: alice }), 'active', 10_000), 'active', 'alice subscribed to her reg event');

    assert.deepEqual(await lab.core.admin('reauth sip:alice@ims.lab 30'), { ok: true, command: 'reauth', impu: 'sip:alice@ims.lab', seconds: 30 });
    const again = await lab.ues.request<DriverReg>({ op: 'waitNewSet', name: alice, notSetId: first.setId, timeoutMs: 15_000 });
    await lab.noteKeys(alice, o.transform.integrity);
    sets.push(again);
    assert.deepEqual([again.alg, again.ealg], [o.transform.integrity, o.transform.encryption]);
    assert.notDeepEqual([again.ue.spiC, again.ue.spiS], [first.ue.spiC, first.ue.spiS], 'TS 33.203 §7.4: new SPIs');
    assert.notEqual(again.ue.portC, first.ue.portC, 'a new port_uc');
    assert.equal(again.ue.portS, first.ue.portS, 'port_us kept');
    assert.ok(again.expires > 30, `a full registration again (${again.expires} s), not the shortened 30 s`);

    await message(lab, alice, bob, `after reauth ${o.tag}`, 'MESSAGE on the new SAs');
    await message(lab, bob, alice, `to the re-authenticated alice ${o.tag}`);
    assertSasUsed(lab, again, o.transport);

    await deregister(lab, alice, bob);
  });
  return sets;
}
