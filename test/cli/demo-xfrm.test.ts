/**
 * `imsec demo --datapath xfrm` on the host: this machine's kernel has no ESP (and a CI user may
 * not be root), so the demo must refuse in one clear line naming the way to run it (inside
 * `imsec lab`), exit 1 and leave no network namespace behind. The demo itself is proven inside
 * user-mode Linux (test/kernel/demo-xfrm.test.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { cliPath } from '../support/paths.js';

function demo(...args: string[]) {
  return spawnSync(process.execPath, [cliPath, 'demo', '--no-color', ...args], { encoding: 'utf8', timeout: 120_000 });
}

function demoNamespaces(): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout?.split('\n').filter((l) => l.startsWith('imsec-demo-')) ?? [];
}

describe('imsec demo --datapath xfrm outside a kernel with ESP', () => {
  test('one line naming imsec lab, exit 1, no namespace left (or, on a host with root and ESP, the demo passes)', () => {
    const r = demo('--datapath', 'xfrm');
    if (r.status === 0) {
      // A host that has both: the demo ran for real.
      assert.match(r.stdout, /demo passed/);
    } else {
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '', 'nothing on stdout');
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^imsec: demo --datapath xfrm needs root and a kernel with ESP: run it as `imsec lab -- imsec demo --datapath xfrm`/);
    }
    assert.deepEqual(demoNamespaces(), []);
  });

  test('the userspace demo\'s file and console options are refused with --datapath xfrm (exit 2); an unknown datapath too', () => {
    const r = demo('--datapath', 'xfrm', '--pcap', 'x.pcap');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^imsec: --datapath xfrm does not take --pcap\n$/);
    const bad = demo('--datapath', 'kernel');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--datapath must be userspace or xfrm, not kernel/);
  });
});
