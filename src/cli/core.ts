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
 *   imsec core --web                    also the console on http://127.0.0.1:8088/ (and /metrics there);
 *                                       a token is generated and printed in the ready line ("token",
 *                                       and a login link "web.login") unless --token-file or --no-auth
 *   imsec core --metrics 127.0.0.1:9464 only /metrics, same token rules
 *   imsec core --admin-stdin            the S-CSCF's operator commands on stdin, one JSON answer
 *                                       line each (reauth IMPU SECONDS, deregister IMPU, registrations)
 *   imsec core --processes              each node a process of its own (cli/core-processes.ts)
 *
 * Once every node serves, one JSON line `{"ready":true,…}` with the bound addresses (port 0 is
 * resolved) goes to stdout; logs are pino JSON lines on stderr. Keys never appear in any output.
 */
import { Command } from 'commander';
import { createLogger } from '../common/log.js';
import { CoreConfigError, coreConfigJson, createImsCore, parseCoreConfig, CoreConfigSchema, type CoreConfig } from '../nodes/core/index.js';
import { CliFailure } from './errors.js';
import { checkProcessesLayout, runCoreProcesses } from './core-processes.js';
import { addPrintSchema, readJsonConfigFile } from './node-process.js';
import { serveAdminCommands } from './scscf.js';
import { ImsError } from '../common/index.js';
import { MetricsHub } from '../metrics/index.js';
import { addCoreToHub, consoleTap, coreInstrumentation, startCoreConsole, type CoreConsole, type MetricsListener } from '../web/index.js';
import { addHttpOptions, parseListen, ProcessAccess, restFactoryFor, startProcessMetrics, type HttpFlags } from './http-flags.js';

/** Where `--web` without an address serves the console. */
export const DEFAULT_WEB_LISTEN = '127.0.0.1:8088';

export interface CoreFlags extends HttpFlags {
  /** `--web` (true) or `--web HOST:PORT`. */
  web?: string | boolean;
  config?: string;
  printConfig?: boolean;
  dataDir?: string;
  host?: string;
  logLevel?: string;
  adminStdin?: boolean;
  /** Each node a process of its own (cli/core-processes.ts). */
  processes?: boolean;
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
  const web = o.web === undefined || o.web === false ? undefined : parseListen(o.web === true ? DEFAULT_WEB_LISTEN : o.web, '--web');
  if (o.processes) {
    return runCoreProcesses(config, o, checkProcessesLayout(config, o, web), out, o.adminStdin ? process.stdin : undefined, web);
  }
  const log = createLogger('core', { level: config.logLevel });
  const access = new ProcessAccess(o);
  // --no-auth off loopback is refused before anything starts.
  const webAccess = web ? access.for(web.host) : undefined;
  const hub = new MetricsHub();
  const tap = web ? consoleTap() : undefined;
  const core = createImsCore(config, { logger: log, ...(tap ? { tap } : {}), ...coreInstrumentation(hub), restFactory: restFactoryFor(access) });
  try {
    await core.start();
  } catch (err) {
    await core.stop().catch(() => undefined);
    throw new CliFailure(`cannot start the core: ${(err as Error).message}`);
  }
  addCoreToHub(hub, core);
  let webConsole: CoreConsole | undefined;
  let metrics: MetricsListener | undefined;
  try {
    if (web && webAccess && tap) webConsole = await startCoreConsole(core, { tap, hub, listen: web, access: webAccess });
    metrics = await startProcessMetrics(o, hub, log, access);
  } catch (err) {
    await webConsole?.close();
    await core.stop();
    throw err instanceof ImsError ? err : new CliFailure(`cannot serve the console or metrics: ${(err as Error).message}`);
  }
  const a = core.addresses();
  const http = webConsole !== undefined || metrics !== undefined || a.hss.rest !== null;
  const ready = access.readyFields();
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
      ...(webConsole ? { web: { url: webConsole.server.url, port: webConsole.server.port, ...(ready.token !== undefined ? { login: `${webConsole.server.url}login#token=${ready.token}` } : {}) } } : {}),
      ...(metrics ? { metricsPort: metrics.port } : {}),
      ...(http ? ready : {}),
    }) + '\n',
  );
  const admin = o.adminStdin ? serveAdminCommands(core.scscf, process.stdin, out) : undefined;
  await new Promise<void>((resolve) => {
    let done = false;
    const stop = (why: string): void => {
      if (done) return;
      done = true;
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      log.info({ why }, 'core: stopping');
      admin?.close();
      const closing = Promise.all([webConsole?.close(), metrics?.close()]).catch((err: Error) => log.warn({ err: err.message }, 'core: console close failed'));
      hub.close();
      closing.then(() => core.stop()).then(resolve, (err: Error) => {
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
  const cmd = program
    .command('core')
    .description('run the whole IMS core, in one process or one per node (--processes): HSS, S-CSCF, I-CSCF and P-CSCF (demo subscribers provisioned)')
    .option('--config <file>', 'JSON configuration (the output of --print-config, edited; see nodes/core/config.ts)')
    .option('--print-config', 'print the effective configuration as JSON (keys redacted) and exit')
    .option('--data-dir <dir>', 'directory of the embedded stores (default ./.imsec)')
    .option('--host <ip>', 'address every node binds (default 127.0.0.1)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .option('--web [host:port]', `serve the web console (and /metrics) there (default ${DEFAULT_WEB_LISTEN})`)
    .option('--admin-stdin', "read the S-CSCF's operator commands (reauth, deregister, registrations) from stdin")
    .option('--processes', 'run each node as a process of its own (a core per node)');
  addHttpOptions(addPrintSchema(cmd, CoreConfigSchema), 'console, REST API and metrics').action(async (o: CoreFlags) => runCore(o));
}
