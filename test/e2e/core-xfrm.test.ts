/**
 * `pcscf.datapath: "xfrm"` in the core configuration reaches the P-CSCF: kernel IPsec through
 * `ip xfrm` (C2's XfrmDatapath) and plain sockets on the protected ports. This machine's kernel has
 * no ESP, so an injected runner records the `ip` commands; the registration itself runs over real
 * loopback sockets with a UE on the same datapath. The default stays the userspace one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { XfrmRunner } from '../../src/ipsec/index.js';
import { DEMO_SUBSCRIBERS, createImsCore, parseCoreConfig } from '../../src/nodes/core/index.js';
import { createUe, parseUeConfig } from '../../src/nodes/ue/index.js';

function recorder(): { runner: XfrmRunner; calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    runner: async (args) => {
      calls.push([...args]);
      return { stdout: '', stderr: '' };
    },
  };
}

test('[R-SA-1] [R-SA-3] datapath "xfrm" selects kernel IPsec at the P-CSCF: transport mode, four SAs with both sides\' SPIs installed, removed at stop', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-e2e-core-xfrm-'));
  const pc = recorder();
  const uex = recorder();
  const config = parseCoreConfig({ dataDir: dir, hss: { diameterPort: 0 }, scscf: { sipPort: 0 }, icscf: { sipPort: 0 }, pcscf: { sipPort: 0, protectedPorts: 'auto', datapath: 'xfrm' }, logLevel: 'silent' });
  assert.equal(parseCoreConfig({}).pcscf.datapath, 'userspace', 'userspace is the default');
  const core = createImsCore(config, { xfrmRunner: pc.runner });
  await core.start();
  const alice = DEMO_SUBSCRIBERS[0];
  const ue = createUe(
    parseUeConfig({ impi: alice.impi, impu: alice.impus[0], k: alice.k, op: alice.op, pcscf: `127.0.0.1:${core.addresses().pcscf.sip.port}`, datapath: 'xfrm', reRegister: { auto: false }, subscribeRegEvent: false }),
    { xfrmRunner: uex.runner },
  );
  await ue.start();
  try {
    assert.equal(core.addresses().pcscf.datapath, 'xfrm');
    const reg = await ue.register();
    assert.equal(reg.mod, 'trans', 'the kernel datapath negotiates transport mode');
    await core.pcscf.idle();
    assert.equal(core.pcscf.datapathCounters()?.kind, 'xfrm');
    const states = pc.calls.filter((c) => c[1] === 'state' && c[2] === 'add');
    assert.equal(states.length, 4);
    const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
    const spis = states.map((c) => c[c.indexOf('spi') + 1]).sort();
    assert.deepEqual(spis, core.pcscf.sas().map((s) => hex(s.spi)).sort());
    assert.deepEqual(spis, ue.sa.sas().map((s) => hex(s.spi)).sort(), 'the UE and the P-CSCF install the same four SAs');
    assert.ok(states.every((c) => c.includes('transport')));
  } finally {
    await ue.stop();
    await core.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(pc.calls.filter((c) => c[1] === 'state' && c[2] === 'delete').length, 4, 'every kernel SA removed at stop');
});
