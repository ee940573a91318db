/**
 * The demo must fail loudly: when a step's check does not hold it stops there, says which step
 * and why, leaves nothing running, and reports `ok: false` (the CLI turns that into exit 1). Here
 * alice's ISIM holds a K the HSS does not know, so the network fails her AKA check.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCoreConfig, DEMO_SUBSCRIBERS } from '../../src/nodes/core/index.js';
import { runDemo } from '../../src/nodes/demo/index.js';

test('[R-FAIL-2] [R-AKA-4] a UE with the wrong K: the demo stops at step 1 with a clear line, ok=false, nothing left running', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-e2e-demo-fail-'));
  try {
    const config = parseCoreConfig({ dataDir: dir, hss: { diameterPort: 0 }, scscf: { sipPort: 0 }, icscf: { sipPort: 0 }, pcscf: { sipPort: 0, protectedPorts: 'auto' }, logLevel: 'silent' });
    const lines: string[] = [];
    const wrongK = { ...DEMO_SUBSCRIBERS[0], impus: [...DEMO_SUBSCRIBERS[0].impus], k: '00112233445566778899aabbccddeeff' };
    const r = await runDemo({ config, out: (l) => lines.push(l), users: [wrongK, { ...DEMO_SUBSCRIBERS[1], impus: [...DEMO_SUBSCRIBERS[1].impus] }], stepTimeoutMs: 20_000 });
    assert.equal(r.ok, false);
    assert.equal(r.failure?.step, '1. alice registers');
    assert.equal(r.steps.length, 1);
    assert.equal(r.steps[0].ok, false);
    const text = lines.join('\n');
    assert.match(text, /✘ step "1\. alice registers" failed: /);
    assert.doesNotMatch(text, /demo passed/);
    // The ladder of the failed step is shown: the challenge arrived, the UE answered without a response (MAC failure).
    assert.match(text, /P-CSCF\s+→ alice\s+401 Unauthorized/);
    assert.match(text, /alice\s+→ P-CSCF\s+REGISTER sip:ims\.lab\s+\[no ESP\].*empty response \(auth failure\)/);
    // Nothing secret printed; no protected message went out.
    assert.ok(!text.includes('00112233445566778899aabbccddeeff'));
    assert.equal(r.messages.esp, 0);
    // Every socket of the core and the UEs is closed.
    await new Promise((res) => setTimeout(res, 50));
    const sockets = process.getActiveResourcesInfo().filter((x) => /UDP|TCP|Pipe/i.test(x) && x !== 'PipeWrap');
    assert.deepEqual(sockets, [], 'sockets still open');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
