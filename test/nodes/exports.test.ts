/**
 * The nodes are library objects (README "The network and its commands"): `imsec/nodes`, resolved
 * through package.json's exports as a user's code would, starts a whole core and a UE registers
 * through it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

describe('imsec/nodes', () => {
  test('[R-REG-1] [R-SM-1] the package subpath builds a core and a UE that registers through it', async () => {
    const nodes = await import('imsec/nodes');
    const dir = mkdtempSync(join(tmpdir(), 'imsec-nodes-'));
    const core = nodes.createImsCore(nodes.parseCoreConfig({ dataDir: dir, hss: { diameterPort: 0 }, scscf: { sipPort: 0 }, icscf: { sipPort: 0 }, pcscf: { sipPort: 0, protectedPorts: 'auto' }, logLevel: 'silent' }));
    try {
      await core.start();
      const a = core.addresses();
      const ue = nodes.createUe(nodes.parseUeConfig({ impi: 'alice@ims.lab', impu: 'sip:alice@ims.lab', k: '465b5ce8b199b49faa5f0a2ee238a6bc', op: 'cdc202d5123e20f62b6d676ac72cb318', pcscf: `127.0.0.1:${a.pcscf.sip.port}`, subscribeRegEvent: false, reRegister: { auto: false } }));
      await ue.start();
      try {
        const reg = await ue.register();
        assert.deepEqual(reg.impus, ['sip:alice@ims.lab', 'tel:+15550101']);
        assert.equal(ue.saTable().length, 8, 'four SAs, UDP and TCP rows');
        await ue.deregister();
        assert.equal(ue.state().state, 'deregistered');
      } finally {
        await ue.stop();
      }
    } finally {
      await core.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
