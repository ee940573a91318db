/**
 * `imsec icscf`: runs the I-CSCF (TS 24.229 §5.3: UAR/LIR routing to the S-CSCF, topology hiding
 * with the network key Kv) until SIGTERM or SIGINT, when it sends DPR to the HSS (RFC 6733 §5.4)
 * and exits 0.
 *
 *   imsec icscf                               the lab I-CSCF: SIP 127.0.0.1:4060 (udp+tcp),
 *                                             HSS hss.ims.lab at 127.0.0.1:3868, S-CSCF sip:scscf.ims.lab:6060
 *   imsec icscf --config icscf.json           a JSON configuration (nodes/icscf/config.ts)
 *   imsec icscf --config icscf.json --listen 127.0.0.1:0 --hss 127.0.0.1:3869
 *
 * Flags override the file. Logs are pino JSON lines on stderr; once serving, one JSON line
 * `{"ready":true,"sip":{"udp":…,"tcp":…},…}` goes to stdout. Kv (`thig.kv`) is never logged.
 */
import { Command } from 'commander';
import { createLogger } from '../common/log.js';
import { describeIcscfConfig, IcscfConfigError, parseHostPort, parseIcscfConfig, type IcscfConfig, createIcscf, IcscfConfigSchema } from '../nodes/icscf/index.js';
import { CliFailure } from './errors.js';
import { readJsonConfigFile, readySip, addPrintSchema } from './node-process.js';
import { addHttpOptions, announceAndServe, meteredDiameter, metricsHubFor, type HttpFlags } from './http-flags.js';
import { addConsoleFeedOption, consoleFeedFor } from './console-feed.js';

export interface IcscfFlags extends HttpFlags {
  config?: string;
  listen?: string;
  hss?: string;
  logLevel?: string;
  consoleFeed?: boolean;
}

/** Reads the configuration file (if any) and applies the flags on top. */
export function icscfConfigFrom(o: Partial<IcscfFlags>): IcscfConfig {
  // The file may hold Kv: readJsonConfigFile never echoes any of it.
  const raw: Record<string, unknown> = o.config === undefined ? {} : readJsonConfigFile(o.config, (m) => new IcscfConfigError(m, '--config'));
  const c = parseIcscfConfig(raw);
  if (o.listen !== undefined) c.sip.listen = parseHostPort(o.listen, '--listen');
  if (o.hss !== undefined) c.diameter.hss.connect = parseHostPort(o.hss, '--hss');
  if (o.logLevel !== undefined) c.logLevel = parseIcscfConfig({ logLevel: o.logLevel }).logLevel;
  return c;
}

/** Runs the I-CSCF until SIGTERM/SIGINT; resolves after a clean stop. */
export async function runIcscf(o: Partial<IcscfFlags>, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const config = icscfConfigFrom(o);
  const log = createLogger('icscf', { level: config.logLevel });
  log.info(describeIcscfConfig(config), 'icscf: starting');
  const hub = metricsHubFor(o);
  const feed = consoleFeedFor(o, 'icscf');
  const diameter = meteredDiameter(hub, 'icscf');
  const icscf = createIcscf(config, { logger: log, diameterTransport: feed ? feed.diameter(diameter) : diameter });
  hub?.addIcscf(icscf);
  try {
    await icscf.start();
  } catch (err) {
    feed?.close();
    throw new CliFailure(`cannot start the I-CSCF: ${(err as Error).message}`);
  }
  if (feed && icscf.stack) feed.tapSip(icscf.stack.transportLayer.all);
  const ready = { ready: true, ...readySip(icscf.address().sip), originHost: config.diameter.originHost, thig: config.thig !== null };
  await announceAndServe(
    'icscf',
    o,
    log,
    hub,
    () => {
      feed?.close();
      return icscf.stop();
    },
    ready,
    out,
  );
}

/** Adds `imsec icscf`. */
export function registerIcscf(program: Command): void {
  const cmd = program
    .command('icscf')
    .description('run the I-CSCF: UAR/LIR routing to the S-CSCF (TS 24.229 §5.3) and topology hiding with Kv')
    .option('--config <file>', 'JSON configuration file (see nodes/icscf/config.ts)')
    .option('--listen <host:port>', 'SIP listen address (default 127.0.0.1:4060; port 0 picks one)')
    .option('--hss <host:port>', 'HSS Diameter address (default 127.0.0.1:3868)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent');
  addHttpOptions(addConsoleFeedOption(addPrintSchema(cmd, IcscfConfigSchema)), 'metrics').action(async (o: IcscfFlags) => runIcscf(o));
}
