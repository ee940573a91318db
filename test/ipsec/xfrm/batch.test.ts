/**
 * The `ip -batch` coprocess behind ipRunner (src/ipsec/xfrm/batch.ts): quoting, per-command
 * results and errors, recovery when `ip` exits. Runs against the host kernel's XFRM policies in
 * a namespace of its own (policies need no ESP support; states would).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test, type TestContext } from 'node:test';
import { InvalidArgumentError } from '../../../src/common/index.js';
import { IpsecKernelError, ipRunner, parsePolicyList, type XfrmRunner } from '../../../src/ipsec/xfrm/index.js';
import { batchLine } from '../../../src/ipsec/xfrm/batch.js';
import { canUseNetns } from '../../support/peers.js';

function netns(t: TestContext): XfrmRunner | undefined {
  if (!canUseNetns()) {
    t.skip('network namespaces need root and iproute2');
    return undefined;
  }
  const name = `imsec-batch-${process.pid}`;
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  assert.equal(spawnSync('ip', ['netns', 'add', name]).status, 0);
  t.after(() => spawnSync('ip', ['netns', 'del', name]));
  return ipRunner({ netns: name });
}

const policy = (sport: number): string[] => [
  'xfrm', 'policy', 'add', 'src', '10.0.0.1/32', 'dst', '10.0.0.2/32', 'proto', 'udp', 'sport', String(sport), 'dir', 'out',
  'tmpl', 'proto', 'esp', 'reqid', '9', 'mode', 'transport',
];

describe('ip -batch coprocess (ip(8) -batch, iproute2 6.x)', () => {
  test('[R-SA-3] every argument travels double-quoted; one that cannot is refused, not mangled', () => {
    assert.equal(batchLine(['xfrm', 'state', 'add', 'enc', 'ecb(cipher_null)', '']), '"xfrm" "state" "add" "enc" "ecb(cipher_null)" ""');
    for (const bad of ['a"b', "a'b", 'a\\b', 'a\nb', '#x']) assert.throws(() => batchLine(['xfrm', bad]), InvalidArgumentError);
  });

  test('[R-SA-3] commands run in order with their own result; a failure names its stderr and the next command still runs', async (t) => {
    const run = netns(t);
    if (!run) return;
    await Promise.all([1, 2, 3, 4, 5].map((i) => run(policy(1000 + i))));
    await assert.rejects(run(policy(1001)), (e: unknown) => e instanceof IpsecKernelError && /File exists/.test(e.stderr) && /File exists/.test(e.message));
    await run(policy(1006));
    const listed = parsePolicyList((await run(['xfrm', 'policy', 'list'])).stdout);
    assert.equal(listed.filter((p) => p.reqid === 9).length, 6);
  });

  test('[R-SA-3] when ip exits on a parse error the command fails with its message and the next one starts a new ip', async (t) => {
    const run = netns(t);
    if (!run) return;
    await assert.rejects(run(['xfrm', 'policy', 'add', 'src', 'not-an-address', 'dir', 'out']), (e: unknown) => e instanceof IpsecKernelError && /not-an-address/.test(e.stderr));
    await run(policy(2000));
    assert.equal(parsePolicyList((await run(['xfrm', 'policy', 'list'])).stdout).length, 1);
  });
});
