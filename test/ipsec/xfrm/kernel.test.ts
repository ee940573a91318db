/**
 * The xfrm datapath against the real Linux kernel, always inside a network namespace this test
 * creates and deletes (never the host's tables). A kernel without ESP (as on the project's build
 * machine: `ip xfrm state add ... proto esp` answers "Requested type not found") skips the
 * state tests with that message; policies work on every XFRM kernel and are always tested.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test, type TestContext } from 'node:test';
import { ManualClock, SeededRng } from '../../../src/common/index.js';
import { SaManager, mirrorSaTable } from '../../../src/ipsec/sa/index.js';
import {
  IpsecKernelError,
  XfrmDatapath,
  ipRunner,
  parsePolicyList,
  parseStateList,
  probeKernelEsp,
  xfrmPolicyAddArgs,
  xfrmStateAddArgs,
  type XfrmRunner,
} from '../../../src/ipsec/xfrm/index.js';
import { canUseNetns } from '../../support/peers.js';
import { CK, CK_HEX, IK, IK_HEX, saSet } from './fixtures.js';

let seq = 0;

/** A fresh network namespace for this test, deleted afterwards; undefined (test skipped) without root. */
function netns(t: TestContext): XfrmRunner | undefined {
  if (!canUseNetns()) {
    t.skip('network namespaces need root and iproute2');
    return undefined;
  }
  const name = `imsec-c2-xfrm-${process.pid}-${seq++}`;
  const r = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ip netns add: ${r.stderr}`);
  t.after(() => {
    spawnSync('ip', ['netns', 'del', name]);
  });
  return ipRunner({ netns: name });
}

describe('Linux XFRM in a private network namespace', () => {
  test('[R-SA-3] the kernel accepts our policies; cleanup deletes our reqids and nothing else', async (t) => {
    const run = netns(t);
    if (!run) return;
    const dp = new XfrmDatapath({ runner: run });
    const opts = { reqid: dp.reqidBase + 3 };
    for (const sa of saSet('pcscf', 'hmac-sha-1-96', 'null')) for (const tr of sa.transports) await run(xfrmPolicyAddArgs(sa, tr, opts));
    for (const sa of saSet('ue', 'hmac-md5-96', 'aes-cbc', 'trans', { ue: '2001:db8::2', pcscf: '2001:db8::1' })) await run(xfrmPolicyAddArgs(sa, 'udp', opts));
    await run(['xfrm', 'policy', 'add', 'src', '192.0.2.7/32', 'dst', '192.0.2.8/32', 'dir', 'out', 'tmpl', 'src', '192.0.2.7', 'dst', '192.0.2.8', 'proto', 'esp', 'reqid', '7', 'mode', 'tunnel']);
    const listed = parsePolicyList((await run(['xfrm', 'policy', 'list'])).stdout);
    assert.equal(listed.filter((e) => e.reqid === opts.reqid).length, 12);
    assert.equal(await dp.removeStale(), 12);
    const left = parsePolicyList((await run(['xfrm', 'policy', 'list'])).stdout);
    assert.deepEqual(
      left.map((e) => e.reqid),
      [7],
    );
  });

  test('[R-SA-1] a kernel error is IPSEC_KERNEL with the stderr of ip and no key in the message', async (t) => {
    const run = netns(t);
    if (!run) return;
    const [sa] = saSet('pcscf', 'hmac-sha-1-96', 'aes-cbc');
    const args = xfrmStateAddArgs(sa, { reqid: 1 }).map((a) => (a === 'hmac(sha1)' ? 'hmac(imsec-no-such-alg)' : a));
    await assert.rejects(run(args), (e: unknown) => {
      assert.ok(e instanceof IpsecKernelError && e.code === 'IPSEC_KERNEL');
      assert.ok(e.stderr.trim().length > 0, 'stderr carried');
      assert.ok(!e.message.includes(IK_HEX) && !e.message.includes(CK_HEX), e.message);
      return true;
    });
  });

  test('[R-SA-1] [R-SA-3] [R-SA-8] the four SAs of a set go into the kernel and out again', async (t) => {
    const run = netns(t);
    if (!run) return;
    const probe = await probeKernelEsp(run);
    if (!probe.ok) {
      const why = `kernel has no ESP: ip xfrm state add ... proto esp answered "${probe.reason}"`;
      process.stderr.write(`\n!!! SKIPPED: ${why}\n`);
      t.skip(why);
      return;
    }
    const dp = new XfrmDatapath({ runner: run });
    const m = new SaManager({ role: 'pcscf', clock: new ManualClock(), rng: new SeededRng('kernel') });
    const errors: unknown[] = [];
    const mirror = mirrorSaTable(m, dp, { onError: (e) => errors.push(e) });
    const r = m.createSet({
      impi: 'alice@ims.example',
      impus: [],
      ueAddress: '10.0.0.2',
      pcscfAddress: '10.0.0.1',
      remote: { spiC: 0x80000101, spiS: 0x80000102, portC: 31000, portS: 31001 },
      integrity: 'hmac-sha-1-96',
      encryption: 'aes-cbc',
      mode: 'trans',
      ik: IK,
      ck: CK,
    });
    assert.ok(r.ok);
    await mirror.idle();
    assert.deepEqual(errors, []);
    const states = parseStateList((await run(['xfrm', 'state', 'list', 'nokeys'])).stdout);
    assert.equal(states.filter((s) => dp.owns(s.reqid)).length, 4);
    m.deleteSet(r.set.id, 'removed');
    await mirror.idle();
    assert.equal(parseStateList((await run(['xfrm', 'state', 'list', 'nokeys'])).stdout).length, 0);
    assert.equal(parsePolicyList((await run(['xfrm', 'policy', 'list'])).stdout).length, 0);
  });
});
