/**
 * The one node shape (nodes/common/node.ts, README "The network and its commands"): every node —
 * HSS, S-CSCF, I-CSCF, P-CSCF, UE, and the core that assembles the first four — is built unstarted
 * by its `create…(config, deps)`, started once, and reports `status()`, `address()` (what it
 * bound) and `counters()` (R-LAB-5: what metrics and the console read); `stop()` is idempotent and
 * leaves no socket open. All on 127.0.0.1 with OS-chosen ports.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/common/index.js';
import { NodeLifecycle, type ImsNode } from '../../src/nodes/common/index.js';
import { createImsCore, DEMO_SUBSCRIBERS, parseCoreConfig } from '../../src/nodes/core/index.js';
import { createPcscf, parsePcscfConfig } from '../../src/nodes/pcscf/index.js';
import { createUe, parseUeConfig } from '../../src/nodes/ue/index.js';

const HOST = '127.0.0.1';

/** Open sockets and listeners of this process, by kind (libuv's resource names). */
function sockets(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) if (/UDP|TCP|Pipe/i.test(r)) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/** Waits until the socket counts are back to `before` (closing a socket finishes on a later tick), or fails naming them. */
async function socketsBackTo(before: Record<string, number>): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (JSON.stringify(sockets()) === JSON.stringify(before)) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(sockets(), before, 'every socket the nodes opened is closed');
}

/** What every node reports while running: its kind, `running`, counters of numbers. */
function assertRunning(node: ImsNode, kind: string): void {
  const st = node.status();
  assert.equal(st.kind, kind);
  assert.equal(st.state, 'running', `${kind} is running`);
  assert.equal(typeof st.since, 'number');
  const numbers = (o: object): number[] => Object.values(o).flatMap((v: unknown) => (typeof v === 'number' ? [v] : v !== null && typeof v === 'object' ? numbers(v) : []));
  assert.ok(numbers(node.counters()).length > 0, `${kind} counters hold numbers`);
}

describe('one node shape (README: the nodes are library objects)', () => {
  test('[R-LAB-5] [R-REG-1] the core and each of its nodes, and a UE: created, started, inspected, stopped twice, nothing left open', async () => {
    const before = sockets();
    const dir = mkdtempSync(join(tmpdir(), 'imsec-shape-'));
    const core = createImsCore(parseCoreConfig({ dataDir: dir, hss: { diameterPort: 0 }, scscf: { sipPort: 0 }, icscf: { sipPort: 0 }, pcscf: { sipPort: 0, protectedPorts: 'auto' }, logLevel: 'silent' }));
    assert.equal(core.status().state, 'created');
    assert.throws(() => core.address(), /not started/);
    assert.deepEqual(sockets(), before, 'creating binds nothing');
    try {
      await core.start();
      await assert.rejects(core.start(), /cannot start: it is running/, 'a node starts once');
      assertRunning(core, 'core');
      for (const [node, kind] of [[core.hss, 'hss'], [core.scscf, 'scscf'], [core.icscf, 'icscf'], [core.pcscf, 'pcscf']] as const) assertRunning(node, kind);

      // address(): what each bound, by protocol.
      const hssAddr = core.hss.address();
      assert.equal(hssAddr.diameter.address, HOST);
      assert.ok(hssAddr.diameter.port > 0);
      for (const n of [core.scscf, core.icscf, core.pcscf]) {
        const sip = n.address().sip;
        assert.equal(sip.address, HOST, `${n.kind} SIP address`);
        assert.ok(sip.port > 0, `${n.kind} SIP port`);
        assert.ok(sip.protocols.includes('udp'), `${n.kind} serves UDP`);
      }
      assert.deepEqual(core.address().sip, core.pcscf.address().sip, "the core's SIP entry is the P-CSCF");
      assert.deepEqual(core.address().diameter, hssAddr.diameter, "the core's Diameter entry is the HSS");

      // The UE: built unstarted, then started.
      const alice = DEMO_SUBSCRIBERS[0];
      const ue = createUe(parseUeConfig({ impi: alice.impi, impu: alice.impus[0], k: alice.k, op: alice.op, pcscf: `${HOST}:${core.pcscf.address().sip.port}`, subscribeRegEvent: false, reRegister: { auto: false } }));
      assert.equal(ue.status().state, 'created');
      assert.throws(() => ue.address(), /not started/);
      await ue.start();
      assertRunning(ue, 'ue');
      assert.equal(ue.address().sip.address, HOST);
      assert.ok(ue.address().protectedServer.port > 0);

      // counters() is a method on every node, and live: one registration moves each of them.
      await ue.register();
      const c = core.counters();
      assert.ok(c.hss.mar >= 1, 'the HSS answered a MAR');
      assert.ok(c.icscf.uar >= 1, 'the I-CSCF sent a UAR');
      assert.equal(c.pcscf.registered, 1, 'the P-CSCF registered alice');
      assert.equal(core.pcscf.counters().registered, 1);
      assert.equal(ue.counters().portRule, 0);
      await ue.deregister();

      await Promise.all([ue.stop(), ue.stop()]);
      await ue.stop();
      assert.equal(ue.status().state, 'stopped');
      await assert.rejects(ue.start(), /cannot start: it is stopped/, 'a stopped node does not start again');
    } finally {
      const first = core.stop();
      const second = core.stop();
      await Promise.all([first, second]);
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(core.status().state, 'stopped');
    for (const [node, kind] of [[core.hss, 'hss'], [core.scscf, 'scscf'], [core.icscf, 'icscf'], [core.pcscf, 'pcscf']] as const) {
      assert.equal(node.status().state, 'stopped', `${kind} stopped`);
      await node.stop(); // idempotent: resolves again
    }
    await socketsBackTo(before);
  });

  test('[R-LAB-5] a P-CSCF alone: stop before start binds and closes nothing; after start, two stops close it once', async () => {
    const before = sockets();
    const config = () => parsePcscfConfig({ sip: { listen: `${HOST}:0`, protocols: ['udp'] }, protected: { ports: 'auto' }, icscf: `sip:${HOST}:9` });
    const never = createPcscf(config());
    await never.stop();
    assert.equal(never.status().state, 'stopped');
    await assert.rejects(never.start(), /cannot start: it is stopped/);
    assert.deepEqual(sockets(), before);

    const pcscf = createPcscf(config());
    await pcscf.start();
    assert.ok(pcscf.address().sip.port > 0);
    assert.ok(pcscf.protectedEndpoints().length > 1, 'port_ps and the port_pc pool are bound');
    assert.equal(pcscf.counters().registerReceived, 0);
    await Promise.all([pcscf.stop(), pcscf.stop()]);
    assert.equal(pcscf.status().state, 'stopped');
    await socketsBackTo(before);
  });

  test('[R-LAB-5] the shared lifecycle: one start, one close, the time of each state on the injected clock', async () => {
    const clock = new ManualClock(1000);
    const life = new NodeLifecycle('hss', clock);
    assert.deepEqual(life.status(), { kind: 'hss', state: 'created', since: 1000 });
    clock.advance(5);
    life.begin();
    assert.deepEqual(life.status(), { kind: 'hss', state: 'starting', since: 1005 });
    assert.throws(() => life.begin(), /cannot start: it is starting/);
    clock.advance(5);
    life.running();
    assert.deepEqual(life.status(), { kind: 'hss', state: 'running', since: 1010 });
    let closes = 0;
    let release!: () => void;
    const close = (): Promise<void> => {
      closes++;
      return new Promise<void>((r) => (release = r));
    };
    const a = life.stop(close);
    const b = life.stop(close);
    assert.equal(a, b, 'every stop returns the first one');
    assert.equal(life.state, 'stopping');
    clock.advance(5);
    release();
    await a;
    assert.equal(closes, 1, 'close ran once');
    assert.deepEqual(life.status(), { kind: 'hss', state: 'stopped', since: 1015 });

    const unused = new NodeLifecycle('ue', clock);
    await unused.stop(close);
    assert.equal(closes, 1, 'a node never started has nothing to close');
    assert.equal(unused.state, 'stopped');
  });
});
