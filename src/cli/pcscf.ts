/**
 * `imsec pcscf`: runs the P-CSCF (TS 33.203 §7, TS 24.229 §5.2: sec-agree, IPsec SAs towards the
 * UE, SA-table checks, reg-event) until SIGTERM or SIGINT, when it deletes every SA and exits 0.
 *
 *   imsec pcscf                                the lab P-CSCF: SIP 127.0.0.1:5060 (udp+tcp),
 *                                              protected ports 5100-5108, I-CSCF sip:icscf.ims.lab:4060,
 *                                              userspace ESP-in-UDP datapath (mod=UDP-enc-tun)
 *   imsec pcscf --config pcscf.json            a JSON configuration (nodes/pcscf/config.ts)
 *   imsec pcscf --listen 127.0.0.1:0 --protected-ports auto --icscf sip:127.0.0.1:4060
 *   imsec pcscf --datapath xfrm                kernel IPsec (mod=trans) through `ip xfrm`
 *
 * Flags override the file. Logs are pino JSON lines on stderr; once serving, one JSON line
 * `{"ready":true,"sip":PORT,"address":…,"datapath":…}` goes to stdout. No key is ever logged.
 */
import { Command } from 'commander';
import { createLogger } from '../common/log.js';
import { describePcscfConfig, parseHostPort, parsePcscfConfig, parsePortRange, PcscfConfigError, type PcscfConfig, createPcscf, PcscfConfigSchema } from '../nodes/pcscf/index.js';
import { CliFailure } from './errors.js';
import { readJsonConfigFile, addPrintSchema } from './node-process.js';
import { addHttpOptions, announceAndServe, metricsHubFor, type HttpFlags } from './http-flags.js';
import { addConsoleFeedOption, consoleFeedFor } from './console-feed.js';

export interface PcscfFlags extends HttpFlags {
  config?: string;
  listen?: string;
  protectedPorts?: string;
  icscf?: string;
  datapath?: string;
  logLevel?: string;
  consoleFeed?: boolean;
}

/** Reads the configuration file (if any) and applies the flags on top. */
export function pcscfConfigFrom(o: Partial<PcscfFlags>): PcscfConfig {
  const raw: Record<string, unknown> = o.config === undefined ? {} : readJsonConfigFile(o.config, (m) => new PcscfConfigError(m, '--config'));
  const c = parsePcscfConfig(raw);
  if (o.listen !== undefined) c.sip.listen = parseHostPort(o.listen, '--listen');
  if (o.protectedPorts !== undefined) c.protected.ports = parsePortRange(o.protectedPorts, '--protected-ports');
  if (o.icscf !== undefined) c.icscf = parsePcscfConfig({ icscf: o.icscf }).icscf;
  if (o.datapath !== undefined) c.datapath = parsePcscfConfig({ datapath: o.datapath }).datapath;
  if (o.logLevel !== undefined) c.logLevel = parsePcscfConfig({ logLevel: o.logLevel }).logLevel;
  return c;
}

/** Runs the P-CSCF until SIGTERM/SIGINT; resolves after a clean stop. */
export async function runPcscf(o: Partial<PcscfFlags>, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const config = pcscfConfigFrom(o);
  const log = createLogger('pcscf', { level: config.logLevel });
  log.info(describePcscfConfig(config), 'pcscf: starting');
  const hub = metricsHubFor(o);
  const feed = consoleFeedFor(o, 'pcscf');
  const pcscf = createPcscf(config, { logger: log, ...feed?.taps() });
  hub?.addPcscf(pcscf);
  try {
    await pcscf.start();
  } catch (err) {
    feed?.close();
    await pcscf.stop().catch(() => undefined);
    throw new CliFailure(`cannot start the P-CSCF: ${(err as Error).message}`);
  }
  const a = pcscf.address();
  feed?.own({ address: a.sip.address, port: a.sip.port });
  feed?.watchPcscf(pcscf);
  const ready = { ready: true, sip: a.sip.port, address: a.sip.address, protocols: a.sip.protocols, datapath: config.datapath, protectedPorts: config.protected.ports ?? 'auto' };
  await announceAndServe(
    'pcscf',
    o,
    log,
    hub,
    () => {
      feed?.close();
      return pcscf.stop();
    },
    ready,
    out,
  );
}

/** Adds `imsec pcscf`. */
export function registerPcscf(program: Command): void {
  const cmd = program
    .command('pcscf')
    .description('run the P-CSCF: sec-agree and IPsec SAs towards the UE (TS 33.203 §7, TS 24.229 §5.2)')
    .option('--config <file>', 'JSON configuration file (see nodes/pcscf/config.ts)')
    .option('--listen <host:port>', 'unprotected SIP address (default 127.0.0.1:5060; port 0 picks one)')
    .option('--protected-ports <min-max|auto>', 'protected ports: port_ps, then the port_pc pool (default 5100-5108; auto: OS-assigned)')
    .option('--icscf <uri>', 'I-CSCF SIP URI (default sip:icscf.ims.lab:4060)')
    .option('--datapath <kind>', 'userspace (ESP-in-UDP, default) or xfrm (kernel IPsec)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent');
  addHttpOptions(addConsoleFeedOption(addPrintSchema(cmd, PcscfConfigSchema)), 'metrics').action(async (o: PcscfFlags) => runPcscf(o));
}
