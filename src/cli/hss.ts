/**
 * `imsec hss`: runs the HSS (Diameter Cx server, TS 29.228/29.229, plus the provisioning REST API)
 * until SIGTERM or SIGINT, when it sends DPR to its peers (RFC 6733 §5.4) and exits 0.
 * `imsec hss subscriber …` and `imsec hss import …` (cli/hss-subscriber.ts) hang under it.
 *
 *   imsec hss                                   embedded SQLite in ./.imsec, Diameter 127.0.0.1:3868,
 *                                               REST 127.0.0.1:8080, peers scscf.ims.lab, icscf.ims.lab
 *   imsec hss --config hss.json                 a JSON configuration (nodes/hss/config.ts)
 *   imsec hss --listen 127.0.0.1:3869 --peer scscf.ims.lab --store postgres://hss@db/hss --rest off
 *
 * Flags override the configuration file. Logs are pino JSON lines on stderr; once serving, one
 * JSON line `{"ready":true,"diameterPort":…,"restPort":…}` goes to stdout. Keys never appear in a
 * log line.
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { createLogger } from '../common/log.js';
import { openStore, redactStoreUrl } from '../store/index.js';
import { defaultHostIps, describeConfig, HssConfigError, parseHostPort, parseHssConfig, type HssConfig, createHss, HssConfigSchema } from '../nodes/hss/index.js';
import { tapDiameterTransport } from '../capture/index.js';
import { tcpTransport } from '../diameter/io.js';
import { MetricsHub } from '../metrics/index.js';
import type { MetricsListener } from '../web/index.js';
import { addHttpOptions, parseListen, ProcessAccess, restFactoryFor, startProcessMetrics, type HttpFlags } from './http-flags.js';
import { registerHssProvisioning } from './hss-subscriber.js';
import { intArg } from './args.js';
import { CliFailure } from './errors.js';
import { readJsonConfigFile, serveUntilSignal, addPrintSchema } from './node-process.js';
import { addConsoleFeedOption, consoleFeedFor } from './console-feed.js';

export interface HssFlags extends HttpFlags {
  config?: string;
  listen?: string;
  originHost?: string;
  originRealm?: string;
  peer: string[];
  store?: string;
  dataDir?: string;
  rest?: string;
  maxAuthItems?: string;
  logLevel?: string;
  consoleFeed?: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** Reads the configuration file (if any) and applies the flags on top. */
export function hssConfigFrom(o: Partial<HssFlags>): HssConfig {
  let raw: Record<string, unknown> = o.config === undefined ? {} : readJsonConfigFile(o.config, (m) => new HssConfigError(m, '--config'));
  if (o.dataDir !== undefined) {
    raw = { ...raw, dataDir: o.dataDir };
    if (raw.store === undefined) raw.store = `sqlite:${join(o.dataDir, 'hss.sqlite')}`;
  }
  const c = parseHssConfig(raw);
  if (o.store !== undefined) c.store = o.store;
  if (o.listen !== undefined) {
    c.diameter.listen = parseHostPort(o.listen, '--listen');
    const d = raw.diameter as Record<string, unknown> | undefined;
    if (d?.hostIpAddresses === undefined) c.diameter.hostIpAddresses = defaultHostIps(c.diameter.listen.host);
  }
  if (o.originHost !== undefined) c.diameter.originHost = o.originHost;
  if (o.originRealm !== undefined) c.diameter.originRealm = o.originRealm;
  if (o.peer !== undefined && o.peer.length > 0) c.diameter.peers = o.peer.map((host) => ({ host }));
  if (o.rest !== undefined) c.rest = o.rest === 'off' ? null : { listen: parseHostPort(o.rest, '--rest') };
  if (o.maxAuthItems !== undefined) c.maxAuthItems = intArg(o.maxAuthItems, '--max-auth-items', 1, 100);
  if (o.logLevel !== undefined) c.logLevel = parseHssConfig({ logLevel: o.logLevel }).logLevel;
  return c;
}

/** Runs the HSS until SIGTERM/SIGINT; resolves after a clean stop. */
export async function runHss(o: Partial<HssFlags>, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const config = hssConfigFrom(o);
  const log = createLogger('hss', { level: config.logLevel });
  // --no-auth off loopback, or an unreadable token file: exit 2 before anything starts.
  const access = new ProcessAccess(o);
  if (config.rest !== null) access.for(config.rest.listen.host);
  if (o.metrics !== undefined) access.for(parseListen(o.metrics, '--metrics').host);
  log.info(describeConfig(config), 'hss: starting');
  let store;
  try {
    store = await openStore(config.store);
  } catch (err) {
    throw new CliFailure(`cannot open store ${redactStoreUrl(config.store)}: ${(err as Error).message}`);
  }
  const hub = new MetricsHub();
  const feed = consoleFeedFor(o, 'hss');
  const diameter = tapDiameterTransport(tcpTransport, hub.diameterSink('hss'));
  const hss = createHss(config, {
    store: hub.wrapStore(store),
    ownsStore: true,
    logger: log,
    transport: feed ? feed.diameter(diameter) : diameter,
    rest: restFactoryFor(access),
  });
  try {
    await hss.start();
  } catch (err) {
    feed?.close();
    await hss.stop().catch(() => undefined);
    throw new CliFailure(`cannot start the HSS: ${(err as Error).message}`);
  }
  if (feed && hss.diameterPort !== undefined) feed.own({ address: config.diameter.listen.host, port: hss.diameterPort }, 'tcp');
  hub.addHss(hss);
  let metrics: MetricsListener | undefined;
  try {
    metrics = await startProcessMetrics(o, hub, log, access);
  } catch (err) {
    await hss.stop();
    throw new CliFailure(`cannot serve metrics: ${(err as Error).message}`);
  }
  // One JSON line on stdout once serving, whatever the log level (scripts wait for it).
  out.write(
    JSON.stringify({ ready: true, diameterPort: hss.diameterPort, restPort: hss.restPort ?? null, metricsPort: metrics?.port ?? null, originHost: config.diameter.originHost, ...access.readyFields() }) + '\n',
  );
  await serveUntilSignal(
    'hss',
    async () => {
      feed?.close();
      await metrics?.close();
      hub.close();
      await hss.stop();
    },
    log,
  );
}

/** Adds `imsec hss` (the runner) with the provisioning subcommands under it. */
export function registerHss(program: Command): void {
  const hss = program
    .command('hss')
    .description('run the HSS: Diameter Cx server (TS 29.228/29.229) and provisioning REST API; subcommands provision subscribers')
    .option('--config <file>', 'JSON configuration file (see nodes/hss/config.ts)')
    .option('--listen <host:port>', 'Diameter listen address (default 127.0.0.1:3868)')
    .option('--origin-host <fqdn>', 'Diameter Origin-Host (default hss.ims.lab)')
    .option('--origin-realm <realm>', 'Diameter Origin-Realm (default ims.lab)')
    .option('--peer <origin-host>', 'allowed Diameter peer (repeatable; replaces the configured list)', collect, [])
    .option('--store <url>', 'store: postgres://…, sqlite:PATH or PATH (default sqlite:<data-dir>/hss.sqlite)')
    .option('--data-dir <dir>', 'directory of the embedded store (default ./.imsec)')
    .option('--rest <host:port|off>', 'provisioning REST API address (default 127.0.0.1:8080), or off')
    .option('--max-auth-items <n>', 'cap on SIP-Number-Auth-Items per MAR (default 5)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent');
  addHttpOptions(addConsoleFeedOption(addPrintSchema(hss, HssConfigSchema)), 'REST API and metrics').action(async (o: HssFlags) => runHss(o));
  registerHssProvisioning(hss, {
    defaultStore: (all) => hssConfigFrom({ ...(all as Partial<HssFlags>), store: undefined, peer: [] }).store,
  });
}
