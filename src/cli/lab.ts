/**
 * `imsec lab -- COMMAND [ARG...]`: run a command as root inside a real Linux kernel (user-mode
 * Linux 6.1, Debian `user-mode-linux`) that has ESP, XFRM, veth and network namespaces, with this
 * host's files as its root file system — kernel IPsec without root and without touching the
 * host's kernel tables. A thin front for `scripts/lab/run.sh` (the same script `npm test` uses
 * for the kernel tests): output and exit status of the command pass through.
 *
 *   imsec lab -- ip xfrm state
 *   imsec lab --timeout 120 -- node dist/src/cli/main.js demo --datapath xfrm
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError as CommanderArgError } from 'commander';
import { CliFailure } from './errors.js';

/** scripts/lab/run.sh of this checkout (the CLI runs from dist/src/cli). */
export function labScriptPath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'scripts', 'lab', 'run.sh');
}

export interface LabFlags {
  timeout: number;
  mem: string;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CommanderArgError('must be a positive whole number of seconds');
  return n;
}

/** Whether the user-mode Linux kernel (`linux.uml`, or IMSEC_LAB_UML) is on PATH. */
export function haveUml(env: NodeJS.ProcessEnv = process.env): boolean {
  const uml = env.IMSEC_LAB_UML ?? 'linux.uml';
  if (uml.includes('/')) return existsSync(uml);
  return (env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, uml)));
}

/** Runs the command in the lab; resolves to its exit status (124: the time limit ran out). */
export function runInLab(command: readonly string[], o: LabFlags): Promise<number> {
  const script = labScriptPath();
  if (!existsSync(script)) return Promise.reject(new CliFailure(`lab script not found: ${script} (imsec lab needs a source checkout)`));
  if (!haveUml()) return Promise.reject(new CliFailure('user-mode Linux (linux.uml) is not installed: run scripts/setup-peers.sh'));
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, '--timeout', String(o.timeout), '--mem', o.mem, '--', ...command], { stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt).on('SIGTERM', onTerm);
    child.on('error', (e) => reject(new CliFailure(`cannot run the lab: ${e.message}`)));
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt).off('SIGTERM', onTerm);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

/** Adds `imsec lab`. */
export function registerLab(program: Command): void {
  program
    .command('lab')
    .description('run a command as root in a user-mode Linux kernel with ESP/XFRM (no root on this host needed)')
    .usage('[--timeout SECONDS] [--mem SIZE] -- COMMAND [ARG...]')
    .option('--timeout <seconds>', 'stop the kernel after this many seconds (exit 124)', positiveInt, 600)
    .option('--mem <size>', 'guest memory, e.g. 512M or 2G', '1G')
    .argument('<command...>', 'the command and its arguments (after --)')
    .action(async (command: string[], o: LabFlags) => {
      const code = await runInLab(command, o);
      if (code !== 0) throw new CliFailure(`lab: the command exited with status ${code}`, code);
    });
}
