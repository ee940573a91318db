/**
 * Running `ip` (iproute2). The only place in the project that starts it: execFile with an
 * argument array, never a shell string. Tests inject their own {@link XfrmRunner}.
 */
import { execFile } from 'node:child_process';
import { IpsecKernelError } from './errors.js';
import { redactArgs } from './argv.js';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs `ip <args>`; rejects with {@link IpsecKernelError} on failure. */
export type XfrmRunner = (args: readonly string[]) => Promise<RunResult>;

export interface IpRunnerOptions {
  /** Path of the `ip` program (default `ip` from PATH). */
  ipPath?: string;
  /** Run inside this network namespace (`ip -n NAME ...`). */
  netns?: string;
  /** Per-command time limit in ms (default 10 s). */
  timeoutMs?: number;
}

/** The real runner: `execFile(ip, [-n netns,] ...args)`. */
export function ipRunner(opts: IpRunnerOptions = {}): XfrmRunner {
  const ip = opts.ipPath ?? 'ip';
  return (args) =>
    new Promise((resolve, reject) => {
      const argv = opts.netns ? ['-n', opts.netns, ...args] : [...args];
      execFile(ip, argv, { timeout: opts.timeoutMs ?? 10_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const code = typeof err.code === 'number' ? err.code : undefined;
        const shown = redactArgs(argv);
        // Never err.message: Node puts the whole command line, keys included, in it.
        const why = stderr.trim() || (code !== undefined ? `exit status ${code}` : String(err.code ?? err.signal ?? 'did not run'));
        reject(new IpsecKernelError(`ip ${shown.join(' ')} failed: ${why}`, shown, stderr, code));
      });
    });
}
