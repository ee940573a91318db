/**
 * `imsec core`: the whole IMS core in one process — HSS (embedded SQLite in the data directory),
 * S-CSCF, I-CSCF and P-CSCF on loopback with the default ports, and the demo subscribers
 * provisioned — until SIGINT or SIGTERM, when every node stops cleanly (DPR to the Diameter peers,
 * SAs removed, stores closed) and the command exits 0.
 *
 *   imsec core                          HSS 127.0.0.1:3868, S-CSCF :6060, I-CSCF :4060, P-CSCF :5060
 *                                       (protected ports 5100-5108), data in ./.imsec
 *   imsec core --print-config           the effective configuration as JSON (keys as "[secret]"), then exit
 *   imsec core --config core.json       that JSON back, edited (nodes/core/config.ts); "[secret]" keeps
 *                                       the built-in key of a demo subscriber
 *   imsec core --data-dir /tmp/lab --log-level warn
 *
 * Once every node serves, one JSON line `{"ready":true,…}` with the bound addresses (port 0 is
 * resolved) goes to stdout; logs are pino JSON lines on stderr. Keys never appear in any output.
 */
import { Command } from 'commander';
import { createLogger } from '../common/log.js';
import { CoreConfigError, coreConfigJson, parseCoreConfig, startImsCore, type CoreConfig, type ImsCore } from '../nodes/core/index.js';
import { CliFailure } from './errors.js';
import { readJsonConfigFile } from './node-process.js';

export interface CoreFlags {
  config?: string;
  printConfig?: boolean;
  dataDir?: string;
  host?: string;
  logLevel?: string;
}

/** The configuration file (if any) with the flags on top. */
export function coreConfigFrom(o: CoreFlags): CoreConfig {
  let raw: Record<string, unknown> = {};
  if (o.config !== undefined) {
    // The file may hold keys: its content is never echoed.
    raw = readJsonConfigFile(o.config, (message) => new CoreConfigError(message, '--config'));
  }
  if (o.dataDir !== undefined) raw = { ...raw, dataDir: o.dataDir };
  if (o.host !== undefined) raw = { ...raw, host: o.host };
  if (o.logLevel !== undefined) raw = { ...raw, logLevel: o.logLevel };
  return parseCoreConfig(raw);
}

/** Runs the core until SIGTERM/SIGINT (or `until` resolves, for tests); resolves after a clean stop. */
export async function runCore(o: CoreFlags, out: NodeJS.WritableStream = process.stdout, until?: Promise<unknown>): Promise<void> {
  const config = coreConfigFrom(o);
  if (o.printConfig) {
    out.write(JSON.stringify(coreConfigJson(config), null, 2) + '\n');
    return;
  }
  const log = createLogger('core', { level: config.logLevel });
  let core: ImsCore;
  try {
    core = await startImsCore(config, { logger: log });
  } catch (err) {
    throw new CliFailure(`cannot start the core: ${(err as Error).message}`);
  }
  const a = core.addresses();
  out.write(
    JSON.stringify({
      ready: true,
      realm: a.realm,
      dataDir: a.dataDir,
      hss: { diameter: a.hss.diameter, rest: a.hss.rest, originHost: a.hss.originHost },
      scscf: { sip: a.scscf.sip, serverName: a.scscf.serverName },
      icscf: { sip: a.icscf.sip },
      pcscf: { sip: a.pcscf.sip, protectedPorts: a.pcscf.protectedPorts, datapath: a.pcscf.datapath },
      subscribers: core.provisioned.map((p) => p.impi),
    }) + '\n',
  );
  await new Promise<void>((resolve) => {
    let done = false;
    const stop = (why: string): void => {
      if (done) return;
      done = true;
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      log.info({ why }, 'core: stopping');
      core.stop().then(resolve, (err: Error) => {
        log.error({ err: err.message }, 'core: stop failed');
        resolve();
      });
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    until?.then(() => stop('done'), () => stop('done'));
  });
}

/** Adds `imsec core`. */
export function registerCore(program: Command): void {
  program
    .command('core')
    .description('run the whole IMS core in one process: HSS, S-CSCF, I-CSCF and P-CSCF (demo subscribers provisioned)')
    .option('--config <file>', 'JSON configuration (the output of --print-config, edited; see nodes/core/config.ts)')
    .option('--print-config', 'print the effective configuration as JSON (keys redacted) and exit')
    .option('--data-dir <dir>', 'directory of the embedded stores (default ./.imsec)')
    .option('--host <ip>', 'address every node binds (default 127.0.0.1)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .action(async (o: CoreFlags) => runCore(o));
}
