/**
 * Preloaded into every test file by scripts/run-tests.mjs (`--import`): a handle left open after
 * the file's last test and hooks (a socket, a server, a timer, a child process) fails the file,
 * naming the handles, instead of keeping it alive or being hidden by --test-force-exit.
 *
 * After the root test's hooks start, a timer (unref'd, so it never keeps the process alive itself)
 * gives the file LEAK_GRACE_MS to let its event loop drain; if the process is still running then,
 * something leaked.
 */
import { after } from 'node:test';

const LEAK_GRACE_MS = 20_000;

function describeHandle(h: unknown): string {
  const name = (h as { constructor?: { name?: string } })?.constructor?.name ?? typeof h;
  try {
    const a = (h as { address?: () => unknown }).address?.();
    if (a && typeof a === 'object') return `${name} ${JSON.stringify(a)}`;
    const pid = (h as { pid?: number }).pid;
    if (name === 'ChildProcess' && pid !== undefined) return `${name} pid ${pid} ${(h as { spawnfile?: string }).spawnfile ?? ''}`;
  } catch {
    // a closed handle may throw on address(): its name is enough
  }
  return name;
}

after(() => {
  setTimeout(() => {
    const stdio = new Set<unknown>([process.stdin, process.stdout, process.stderr]);
    const active = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h) => !stdio.has(h));
    process.stderr.write(`\n!!! LEAKED HANDLES ${LEAK_GRACE_MS} ms after the last test: ${active.map(describeHandle).join('; ') || '(none listed: a pending request)'}\n`);
    process.exit(70);
  }, LEAK_GRACE_MS).unref();
});
