import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock, SeededRng } from '../../../src/common/index.js';
import { SaManager, mirrorSaTable } from '../../../src/ipsec/sa/index.js';
import { IpsecKernelError, XfrmDatapath, parsePolicyList, parseStateList, type XfrmRunner } from '../../../src/ipsec/xfrm/index.js';
import { CK, CK_HEX, IK, IK_HEX, saSet } from './fixtures.js';

/** A runner that records argv and fails the commands `fail` selects. */
function fakeRunner(fail: (args: readonly string[]) => string | undefined = () => undefined, outputs: Record<string, string> = {}) {
  const calls: string[][] = [];
  const run: XfrmRunner = async (args) => {
    calls.push([...args]);
    const err = fail(args);
    if (err) throw new IpsecKernelError(`ip ${args.slice(0, 3).join(' ')} failed: ${err}`, args.slice(0, 3), `${err}\n`, 2);
    return { stdout: outputs[args.join(' ')] ?? '', stderr: '' };
  };
  return { run, calls };
}

const verb = (c: string[]) => `${c[1]} ${c[2]}${c[1] === 'policy' ? ` ${c[c.indexOf('proto')+1]} ${c[c.indexOf('dir')+1]}` : ''}`;

describe('XfrmDatapath with an injected runner (exact argv to the kernel)', () => {
  test('[R-SA-3] install: the state, then one policy per transport, all with our reqid', async () => {
    const { run, calls } = fakeRunner();
    const dp = new XfrmDatapath({ runner: run, reqidBase: 0x10000, reqidCount: 16 });
    const [sa] = saSet('pcscf', 'hmac-sha-1-96', 'null');
    await dp.install(sa);
    assert.deepEqual(calls.map(verb), ['state add', 'policy add udp in', 'policy add tcp in']);
    for (const c of calls) assert.equal(c[c.indexOf('reqid') + 1], String(0x10000));
    assert.equal(dp.reqidOf(sa), 0x10000);
    await dp.install(sa);
    assert.equal(calls.length, 3, 'installing twice is a no-op');
    await dp.remove(sa);
    assert.deepEqual(calls.slice(3).map(verb), ['policy delete udp in', 'policy delete tcp in', 'state delete']);
    await dp.remove(sa);
    assert.equal(calls.length, 6, 'removing an unknown SA does nothing');
  });

  test('a failed policy rolls the SA back and surfaces IPSEC_KERNEL with stderr', async () => {
    const { run, calls } = fakeRunner((a) => (a[1] === 'policy' && a[2] === 'add' && a.includes('tcp') ? 'RTNETLINK answers: File exists' : undefined));
    const dp = new XfrmDatapath({ runner: run });
    const [sa] = saSet('pcscf', 'hmac-md5-96', 'aes-cbc');
    await assert.rejects(dp.install(sa), (e: unknown) => e instanceof IpsecKernelError && e.code === 'IPSEC_KERNEL' && e.stderr.includes('File exists'));
    assert.deepEqual(calls.map(verb), ['state add', 'policy add udp in', 'policy add tcp in', 'policy delete udp in', 'state delete']);
    assert.equal(dp.reqidOf(sa), undefined);
  });

  test('a failed state add installs nothing', async () => {
    const { run, calls } = fakeRunner((a) => (a[1] === 'state' ? 'Error: Requested type not found.' : undefined));
    const dp = new XfrmDatapath({ runner: run });
    const [sa] = saSet('pcscf', 'hmac-md5-96', 'null');
    await assert.rejects(dp.install(sa), IpsecKernelError);
    assert.equal(calls.length, 1);
  });

  test('[R-SA-3] mirroring a manager installs the four SAs with distinct reqids and removes them on delete', async () => {
    const { run, calls } = fakeRunner();
    const dp = new XfrmDatapath({ runner: run });
    const m = new SaManager({ role: 'pcscf', clock: new ManualClock(), rng: new SeededRng('x') });
    const mirror = mirrorSaTable(m, dp);
    const r = m.createSet({
      impi: 'alice@ims.example',
      impus: [],
      ueAddress: '10.0.0.2',
      pcscfAddress: '10.0.0.1',
      remote: { spiC: 0x80000101, spiS: 0x80000102, portC: 31000, portS: 31001 },
      integrity: 'hmac-sha-1-96',
      encryption: 'null',
      mode: 'trans',
      ik: IK,
      ck: CK,
    });
    assert.ok(r.ok);
    await mirror.idle();
    const adds = calls.filter((c) => c[2] === 'add');
    assert.equal(adds.filter((c) => c[1] === 'state').length, 4);
    assert.equal(adds.filter((c) => c[1] === 'policy').length, 8);
    assert.equal(new Set(adds.filter((c) => c[1] === 'state').map((c) => c[c.indexOf('reqid') + 1])).size, 4);
    m.deleteSet(r.set.id, 'failed');
    await mirror.idle();
    assert.equal(calls.filter((c) => c[2] === 'delete').length, 12);
  });

  test('[R-SA-3] [R-SA-5] with a policy linger: the state goes at once, its policies when the linger ends, so what they select is dropped, not sent in the clear (TS 33.203 §7.1)', async () => {
    const { run, calls } = fakeRunner();
    const clock = new ManualClock(0);
    const dp = new XfrmDatapath({ runner: run, reqidBase: 0x10000, reqidCount: 2, policyLingerMs: 1000, clock });
    const [sa, other] = saSet('pcscf', 'hmac-sha-1-96', 'null');
    await dp.install(sa);
    await dp.remove(sa);
    assert.deepEqual(calls.slice(3).map(verb), ['state delete']);
    // Its reqid stays taken while its policies linger: the next SA gets the other one.
    await dp.install(other);
    assert.equal(dp.reqidOf(other), 0x10001);
    clock.advance(999);
    assert.equal(calls.filter((c) => c[2] === 'delete').length, 1, 'no policy deleted before the linger ends');
    clock.advance(1);
    await dp.close();
    assert.deepEqual(calls.filter((c) => c.includes('dport') && c[c.indexOf('dport') + 1] === String(sa.dst.port) && c[2] === 'delete').map(verb), ['policy delete udp in', 'policy delete tcp in']);
    // Once they are gone the reqid is free again.
    const again = new XfrmDatapath({ runner: run, reqidBase: 0x10000, reqidCount: 1, policyLingerMs: 1000, clock });
    await again.install(sa);
    await again.remove(sa);
    await assert.rejects(again.install(other), /reqid range exhausted/, 'a lingering SA holds its reqid');
    clock.advance(1000);
    await new Promise((r) => setImmediate(r));
    await again.install(other);
    assert.equal(again.reqidOf(other), 0x10000);
    await again.close();
  });

  test('[R-SA-3] a new SA on the selector of a lingering policy takes it over (policy update), and the linger then deletes nothing', async () => {
    const { run, calls } = fakeRunner();
    const clock = new ManualClock(0);
    const dp = new XfrmDatapath({ runner: run, reqidBase: 0x10000, reqidCount: 16, policyLingerMs: 1000, clock });
    const [sa] = saSet('pcscf', 'hmac-sha-1-96', 'null');
    await dp.install(sa);
    await dp.remove(sa);
    const [reused] = saSet('pcscf', 'hmac-sha-1-96', 'aes-cbc');
    await dp.install(reused);
    assert.deepEqual(calls.slice(4).map(verb), ['state add', 'policy update udp in', 'policy update tcp in']);
    assert.equal(calls.at(-1)![calls.at(-1)!.indexOf('reqid') + 1], String(dp.reqidOf(reused)));
    clock.advance(5000);
    assert.equal(calls.length, 7, 'the taken-over policies are not deleted by the old linger');
    await dp.close();
    assert.deepEqual(calls.slice(7).map(verb), ['state delete', 'policy delete udp in', 'policy delete tcp in'], 'close deletes at once (no linger at shutdown)');
  });

  test('close removes what was installed; nothing ever flushes', async () => {
    const { run, calls } = fakeRunner();
    const dp = new XfrmDatapath({ runner: run });
    for (const sa of saSet('ue', 'hmac-sha-1-96', 'aes-cbc')) await dp.install(sa);
    await dp.close();
    assert.equal(calls.filter((c) => c[2] === 'delete').length, 12);
    assert.ok(calls.every((c) => !c.includes('flush') && !c.includes('deleteall')));
  });
});

// iproute2 6.1 `ip xfrm state list nokeys` / `ip xfrm policy list` output (keys never listed).
const STATES = `src 10.0.0.2 dst 10.0.0.1
	proto esp spi 0x00001002 reqid 1229783045 mode transport
	replay-window 64 
	auth-trunc hmac(sha1) 96
	enc ecb(cipher_null) 
	anti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000
	sel src 0.0.0.0/0 dst 0.0.0.0/0 
src 192.0.2.7 dst 192.0.2.8
	proto esp spi 0x0000abcd reqid 7 mode tunnel
	replay-window 0 
`;
const POLICIES = `src 10.0.0.2/32 dst 10.0.0.1/32 proto udp sport 31000 dport 20001 
	dir in priority 1000 ptype main 
	tmpl src 10.0.0.2 dst 10.0.0.1
		proto esp reqid 1229783045 mode transport
src 192.0.2.7/32 dst 192.0.2.8/32 
	dir out priority 0 ptype main 
	tmpl src 192.0.2.7 dst 192.0.2.8
		proto esp reqid 7 mode tunnel
src 0.0.0.0/0 dst 0.0.0.0/0 
	socket in priority 0 ptype main 
`;

describe('cleanup touches only our own entries', () => {
  test('the list parsers find reqids and build exact deletes', () => {
    assert.deepEqual(parseStateList(STATES), [
      { reqid: 1229783045, deleteArgs: ['xfrm', 'state', 'delete', 'src', '10.0.0.2', 'dst', '10.0.0.1', 'proto', 'esp', 'spi', '0x00001002'] },
      { reqid: 7, deleteArgs: ['xfrm', 'state', 'delete', 'src', '192.0.2.7', 'dst', '192.0.2.8', 'proto', 'esp', 'spi', '0x0000abcd'] },
    ]);
    assert.deepEqual(parsePolicyList(POLICIES), [
      { reqid: 1229783045, deleteArgs: ['xfrm', 'policy', 'delete', 'src', '10.0.0.2/32', 'dst', '10.0.0.1/32', 'proto', 'udp', 'sport', '31000', 'dport', '20001', 'dir', 'in'] },
      { reqid: 7, deleteArgs: ['xfrm', 'policy', 'delete', 'src', '192.0.2.7/32', 'dst', '192.0.2.8/32', 'dir', 'out'] },
    ]);
  });

  test('removeStale deletes our reqid range only, listing states without keys', async () => {
    const { run, calls } = fakeRunner(undefined, { 'xfrm state list nokeys': STATES, 'xfrm policy list': POLICIES });
    const dp = new XfrmDatapath({ runner: run });
    assert.equal(await dp.removeStale(), 2);
    const deletes = calls.filter((c) => c[2] === 'delete');
    assert.deepEqual(
      deletes.map((c) => c.join(' ')),
      [
        'xfrm policy delete src 10.0.0.2/32 dst 10.0.0.1/32 proto udp sport 31000 dport 20001 dir in',
        'xfrm state delete src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x00001002',
      ],
    );
    assert.ok(calls.every((c) => !(c[1] === 'state' && c[2] === 'list') || c.includes('nokeys')));
    assert.ok(calls.every((c) => !c.includes('flush') && !c.includes('deleteall')));
  });
});

describe('IPSEC_KERNEL errors', () => {
  test('an error message names the command without its keys', async () => {
    const [sa] = saSet('pcscf', 'hmac-sha-1-96', 'aes-cbc');
    const { ipRunner } = await import('../../../src/ipsec/xfrm/index.js');
    // /bin/false stands in for `ip` and fails every command.
    const dp = new XfrmDatapath({ runner: ipRunner({ ipPath: '/bin/false' }) });
    await assert.rejects(dp.install(sa), (e: unknown) => {
      assert.ok(e instanceof IpsecKernelError && e.code === 'IPSEC_KERNEL');
      assert.ok(!e.message.includes(IK_HEX) && !e.message.includes(CK_HEX), e.message);
      assert.ok(!e.command.join(' ').includes(IK_HEX));
      assert.ok(e.message.includes('[key]') && e.message.includes('exit status 1'), e.message);
      assert.equal(e.exitCode, 1);
      return true;
    });
  });
});
