/**
 * Running `ip` (iproute2). The only place in the project that starts it: execFile with an
 * argument array (or one argument list per line of `ip -batch`, see ./batch.ts), never a shell
 * string. Tests inject their own {@link XfrmRunner}.
 */
import { execFile } from 'node:child_process';
import { IpsecKernelError } from './errors.js';
import { redactArgs } from './argv.js';
import { IpBatch } from './batch.js';
import { InvalidArgumentError } from '../../common/index.js';

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
  /** Per-command time limit in ms (default 10 s; listing commands only). */
  timeoutMs?: number;
  /**
   * Send `xfrm state|policy add|delete` through one long-lived `ip -batch` process (default
   * true): one process start per namespace instead of one per command.
   */
  batch?: boolean;
}

/** Commands that change the tables and print nothing when they succeed. */
function batchable(args: readonly string[]): boolean {
  return args[0] === 'xfrm' && (args[1] === 'state' || args[1] === 'policy') && (args[2] === 'add' || args[2] === 'delete');
}

function kernelError(argv: readonly string[], stderr: string, code: number | undefined, fallback: string): IpsecKernelError {
  const shown = redactArgs(argv);
  // Never a child_process error message: Node puts the whole command line, keys included, in it.
  const why = stderr.trim() || (code !== undefined ? `exit status ${code}` : fallback);
  return new IpsecKernelError(`ip ${shown.join(' ')} failed: ${why}`, shown, stderr, code);
}

/** The real runner: `execFile(ip, [-n netns,] ...args)`. */
export function ipRunner(opts: IpRunnerOptions = {}): XfrmRunner {
  const ip = opts.ipPath ?? 'ip';
  const batch = opts.batch === false ? undefined : new IpBatch(ip, opts.netns);
  return (args) => {
    const argv = opts.netns ? ['-n', opts.netns, ...args] : [...args];
    if (batch && batchable(args)) {
      return batch.run(args).then(
        (stderr) => ({ stdout: '', stderr }),
        (e: unknown) => {
          if (e instanceof InvalidArgumentError) throw e;
          const { stderr, exitCode } = e as { stderr: string; exitCode?: number };
          throw kernelError(argv, stderr, exitCode, 'ip did not run');
        },
      );
    }
    return new Promise((resolve, reject) => {
      execFile(ip, argv, { timeout: opts.timeoutMs ?? 10_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const code = typeof err.code === 'number' ? err.code : undefined;
        reject(kernelError(argv, stderr, code, String(err.code ?? err.signal ?? 'did not run')));
      });
    });
  };
}
