/**
 * What every node runner (`imsec hss`, `icscf`, `scscf`, `pcscf`, `core`, `ue register`) does
 * around its node: print the JSON Schema of its configuration file (`--print-schema`), read the
 * JSON configuration file given with `--config`, and, once the node serves, wait for SIGTERM or
 * SIGINT, stop the node cleanly (DPR to Diameter peers per RFC 6733 §5.4, SAs removed, stores
 * closed) and resolve so the process exits 0.
 */
import { readFileSync } from 'node:fs';
import { CommanderError, type Command } from 'commander';
import type { TSchema } from 'typebox';
import type { Logger } from '../common/log.js';
import type { SipAddress } from '../nodes/common/index.js';
import { documentSchema } from '../nodes/common/index.js';

/**
 * Adds `--print-schema` to a node's command: instead of running, print the JSON Schema (2020-12)
 * of its configuration file, the one its parser checks with (nodes/<node>/config.ts), and exit 0.
 */
export function addPrintSchema(cmd: Command, schema: TSchema): Command {
  return cmd.option('--print-schema', 'print the JSON Schema of the configuration file and exit').hook('preAction', (self) => {
    if (self.opts<{ printSchema?: boolean }>().printSchema !== true) return;
    self.configureOutput().writeOut?.(`${JSON.stringify(documentSchema(schema), null, 2)}\n`);
    throw new CommanderError(0, 'imsec.printSchema', 'schema printed');
  });
}

/**
 * Reads `path` and parses it as JSON (the node's parser checks the shape). A file that cannot be
 * read gives `cannot read PATH: CODE` (the errno code, e.g. ENOENT); one that does not parse gives
 * `PATH is not valid JSON`. Neither message carries any of the file's content: a configuration
 * may hold K, OPc, Kv or a database password, and V8's JSON.parse messages quote the text.
 * @param makeError builds the error to throw from the message (usually the node's ConfigError on
 *   field `--config`, so the CLI exits 2).
 */
export function readJsonConfigFile(path: string, makeError: (message: string) => Error): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw makeError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw makeError(`${path} is not valid JSON`);
  }
}

/**
 * Serves until SIGTERM or SIGINT (or until `until` settles, for tests), then logs
 * `NAME: stopping` with the signal, calls `stop` once and resolves when it settles. A failed stop
 * is logged as `NAME: stop failed` and still resolves: the process exits after a best-effort stop.
 * The signal handlers are removed before `stop` runs.
 */
export function serveUntilSignal(name: string, stop: () => Promise<void>, log: Logger, until?: Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      log.info({ signal }, `${name}: stopping`);
      stop().then(resolve, (err: Error) => {
        log.error({ err: err.message }, `${name}: stop failed`);
        resolve();
      });
    };
    const onTerm = (): void => onSignal('SIGTERM');
    const onInt = (): void => onSignal('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    until?.then(
      () => onSignal('done'),
      () => onSignal('done'),
    );
  });
}

/** The `sip` and `address` fields of a SIP node's `{"ready":true,…}` line: its port by protocol (null when not served). */
export function readySip(a: SipAddress): { sip: { udp: number | null; tcp: number | null }; address: string } {
  return { sip: { udp: a.protocols.includes('udp') ? a.port : null, tcp: a.protocols.includes('tcp') ? a.port : null }, address: a.address };
}
