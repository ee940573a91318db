/**
 * `imsec core` as a real child process for end-to-end tests: written configuration (every port
 * 0, a temporary data directory), the `{"ready":true,…}` line parsed, and a bounded stop
 * (SIGTERM, then SIGKILL) that also removes the temporary directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'node:test';
import { cliPath, repoRoot } from '../../support/paths.js';

export interface CoreProcess {
  proc: ChildProcess;
  /** The parsed ready line (actual ports of every node). */
  ready: Record<string, any>;
  /** P-CSCF unprotected SIP port. */
  pcscfPort: number;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, SIGKILL after `graceMs`; removes the data directory. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/** Run `imsec core --config FILE [ARGS]` with `config` (merged over every-port-0 defaults). */
export async function startCoreProcess(config: Record<string, unknown>, fromSource: boolean, readyTimeoutMs = 30_000, args: readonly string[] = []): Promise<CoreProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-e2e-spec-'));
  const full = {
    dataDir: join(dir, 'data'),
    hss: { diameterPort: 0 },
    scscf: { sipPort: 0 },
    icscf: { sipPort: 0 },
    pcscf: { sipPort: 0, protectedPorts: 'auto' },
    logLevel: 'warn',
    ...config,
  };
  writeFileSync(join(dir, 'core.json'), JSON.stringify(full));
  const cmd = fromSource ? [process.execPath, '--import', import.meta.resolve('tsx'), join(repoRoot, 'src', 'cli', 'main.ts')] : [process.execPath, cliPath];
  // With --admin-stdin the core reads operator commands: its stdin is a pipe (`proc.stdin`).
  const proc = spawn(cmd[0], [...cmd.slice(1), 'core', '--config', 'core.json', ...args], { cwd: dir, stdio: [args.includes('--admin-stdin') ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  let ready: Record<string, any>;
  try {
    ready = await new Promise<Record<string, any>>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no ready line in ${readyTimeoutMs} ms\n${err}`)), readyTimeoutMs);
      const poll = setInterval(() => {
        const line = out.split('\n').find((l) => l.startsWith('{"ready":true'));
        if (line) finish(undefined, JSON.parse(line) as Record<string, any>);
      }, 20);
      void exited.then((code) => finish(new Error(`imsec core exited ${code} before it was ready\n${err}`)));
      function finish(e?: Error, v?: Record<string, any>): void {
        clearInterval(poll);
        clearTimeout(timer);
        if (e) reject(e);
        else resolve(v!);
      }
    });
  } catch (e) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
    cleanup();
    throw e;
  }
  return {
    proc,
    ready,
    pcscfPort: ready.pcscf.sip.port as number,
    stdout: () => out,
    stderr: () => err,
    async stop(graceMs = 10_000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      cleanup();
      return code;
    },
  };
}

/** At most this many of the core's log lines are printed for one failed test (the last ones). */
const LOG_LINES_ON_FAILURE = 200;

/**
 * When a test of the calling suite fails, prints as diagnostics the log lines the core wrote
 * during that test (warn and above at the default level): the failure then names the node and
 * the reason, not only the symptom the test saw. Call it at the top level of the file or suite.
 */
export function printCoreLogOnFailure(core: () => CoreProcess | undefined): void {
  let from = 0;
  beforeEach(() => {
    from = core()?.stderr().length ?? 0;
  });
  afterEach((t) => {
    const c = core();
    // `passed` is there at run time (Node 20.16+); @types/node does not declare it yet.
    if (!('diagnostic' in t) || (t as { passed?: boolean }).passed !== false || !c) return;
    const lines = c.stderr().slice(from).split('\n').filter((l) => l.trim() !== '');
    t.diagnostic(`imsec core log during this test: ${lines.length} lines${lines.length > LOG_LINES_ON_FAILURE ? `, the last ${LOG_LINES_ON_FAILURE}` : ''}`);
    for (const l of lines.slice(-LOG_LINES_ON_FAILURE)) t.diagnostic(l);
  });
}
