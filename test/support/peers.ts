/**
 * Third-party peers (../shared/INTEROP.md). A test that needs one calls {@link needPeer}: when
 * the program is missing, the test fails under CI (CI=true) and is skipped loudly elsewhere.
 */
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

export function havePeer(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

/** Returns true when the test may go on; otherwise it has been skipped (or has failed in CI). */
export function needPeer(t: TestContext, program: string): boolean {
  if (havePeer(program)) return true;
  const why = `${program} is not installed (run scripts/setup-peers.sh)`;
  if (process.env.CI === 'true') throw new Error(`CI: ${why}`);
  process.stderr.write(`\n!!! SKIPPED: ${why}\n`);
  t.skip(why);
  return false;
}

/** True when this process may create network namespaces (root with iproute2). */
export function canUseNetns(): boolean {
  return process.getuid?.() === 0 && havePeer('ip');
}
