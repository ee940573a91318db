/**
 * `imsec scscf`: runs the S-CSCF (TS 24.229 §5.4: registrar with IMS AKA, reg-event, routing)
 * until SIGTERM or SIGINT, when it sends DPR to the HSS (RFC 6733 §5.4) and exits 0.
 *
 *   imsec scscf                               the lab S-CSCF: SIP 127.0.0.1:6060 (udp+tcp),
 *                                             sip:scscf.ims.lab:6060, HSS hss.ims.lab at 127.0.0.1:3868
 *   imsec scscf --config scscf.json           a JSON configuration (nodes/scscf/config.ts)
 *   imsec scscf --config scscf.json --listen 127.0.0.1:0 --hss 127.0.0.1:3869 --store sqlite:/tmp/s.sqlite
 *   imsec scscf --admin-stdin                 also read operator commands, one per line, on stdin:
 *       reauth IMPU SECONDS      network-initiated re-authentication (TS 24.229 §5.4.1.6)
 *       deregister IMPU [rejected]  network-initiated de-registration (§5.4.1.5)
 *       registrations            the registered identities and their contacts
 *     each answered with one JSON line on stdout.
 *
 * Flags override the file. Logs are pino JSON lines on stderr; once serving, one JSON line
 * `{"ready":true,"sip":{"udp":…,"tcp":…},"serverName":…}` goes to stdout.
 */
import cluster from 'node:cluster';
import { createInterface, type Interface } from 'node:readline';
import { Command } from 'commander';
import { createLogger } from '../common/log.js';
import { describeScscfConfig, parseHostPort, parseScscfConfig, ScscfConfigError, type ScscfConfig, createScscf, type Scscf, ScscfConfigSchema } from '../nodes/scscf/index.js';
import { CliFailure } from './errors.js';
import { readJsonConfigFile, readySip, addPrintSchema } from './node-process.js';
import { addHttpOptions, announceAndServe, meteredDiameter, metricsHubFor, type HttpFlags } from './http-flags.js';
import { addConsoleFeedOption, consoleFeedFor } from './console-feed.js';
import { runScscfPrimary, runScscfWorker, workersRefusal } from './scscf-workers.js';

export interface ScscfFlags extends HttpFlags {
  config?: string;
  listen?: string;
  hss?: string;
  store?: string;
  logLevel?: string;
  adminStdin?: boolean;
  consoleFeed?: boolean;
  workers?: string;
}

/** Reads the configuration file (if any) and applies the flags on top. */
export function scscfConfigFrom(o: Partial<ScscfFlags>): ScscfConfig {
  const raw: Record<string, unknown> = o.config === undefined ? {} : readJsonConfigFile(o.config, (m) => new ScscfConfigError(m, '--config'));
  const c = parseScscfConfig(raw);
  if (o.listen !== undefined) c.sip.listen = parseHostPort(o.listen, '--listen');
  if (o.hss !== undefined) {
    const hp = parseHostPort(o.hss, '--hss');
    c.diameter.hss.address = hp.host;
    c.diameter.hss.port = hp.port;
  }
  if (o.store !== undefined) c.store = parseScscfConfig({ store: o.store }).store;
  if (o.logLevel !== undefined) c.logLevel = parseScscfConfig({ logLevel: o.logLevel }).logLevel;
  return c;
}

/** One operator command (see the module comment); resolves to the JSON answer. */
export async function adminCommand(scscf: Scscf, line: string): Promise<Record<string, unknown>> {
  const [cmd, impu, arg] = line.trim().split(/\s+/);
  switch (cmd) {
    case 'reauth': {
      const secs = Number(arg);
      if (impu === undefined || !Number.isInteger(secs) || secs < 1) return { ok: false, error: 'usage: reauth IMPU SECONDS' };
      return { ok: await scscf.reauthenticate(impu, secs), command: 'reauth', impu, seconds: secs };
    }
    case 'deregister': {
      if (impu === undefined || (arg !== undefined && arg !== 'rejected' && arg !== 'deactivated')) return { ok: false, error: 'usage: deregister IMPU [rejected|deactivated]' };
      return { ok: await scscf.deregister(impu, { event: arg === 'rejected' ? 'rejected' : 'deactivated' }), command: 'deregister', impu };
    }
    case 'registrations':
      return {
        ok: true,
        registrations: scscf.registrations().map((r) => ({ aor: r.aor, impi: r.impi, impus: r.impus, contacts: r.bindings.map((b) => ({ uri: b.uri, expiresAt: b.expiresAt, path: b.path })) })),
      };
    case undefined:
    case '':
      return { ok: false, error: 'empty command' };
    default:
      return { ok: false, error: `unknown command ${JSON.stringify(cmd)} (reauth, deregister, registrations)` };
  }
}

/** Reads operator commands from `input`, one per line, and answers each with one JSON line on `out`; close the result to stop. */
export function serveAdminCommands(scscf: Scscf, input: NodeJS.ReadableStream, out: NodeJS.WritableStream): Interface {
  const rl = createInterface({ input });
  rl.on('line', (line) => {
    adminCommand(scscf, line).then(
      (answer) => out.write(JSON.stringify(answer) + '\n'),
      (err: Error) => out.write(JSON.stringify({ ok: false, error: err.message }) + '\n'),
    );
  });
  return rl;
}

/** Runs the S-CSCF until SIGTERM/SIGINT; resolves after a clean stop. */
export async function runScscf(o: Partial<ScscfFlags>, out: NodeJS.WritableStream = process.stdout, input: NodeJS.ReadableStream = process.stdin): Promise<void> {
  const config = scscfConfigFrom(o);
  const workers = workersOf(o.workers);
  if (workers > 1) {
    const refusal = workersRefusal(config, o);
    if (refusal !== undefined) throw new CliFailure(refusal, 2);
    return cluster.isWorker ? runScscfWorker(config) : runScscfPrimary(config, workers, out);
  }
  const log = createLogger('scscf', { level: config.logLevel });
  log.info(describeScscfConfig(config), 'scscf: starting');
  const hub = metricsHubFor(o);
  const feed = consoleFeedFor(o, 'scscf');
  const diameter = meteredDiameter(hub, 'scscf');
  const scscf = createScscf(config, { logger: log, diameterTransport: feed ? feed.diameter(diameter) : diameter });
  hub?.addScscf(scscf);
  try {
    await scscf.start();
  } catch (err) {
    feed?.close();
    await scscf.stop().catch(() => {});
    throw new CliFailure(`cannot start the S-CSCF: ${(err as Error).message}`);
  }
  if (feed) {
    feed.tapSip(scscf.stack.transportLayer.all);
    feed.watchScscf(scscf);
  }
  const ready = { ready: true, ...readySip(scscf.address().sip), serverName: scscf.serverName(), originHost: config.diameter.originHost };
  const rl = o.adminStdin ? serveAdminCommands(scscf, input, out) : undefined;
  await announceAndServe(
    'scscf',
    o,
    log,
    hub,
    () => {
      rl?.close();
      feed?.close();
      return scscf.stop();
    },
    ready,
    out,
  );
}

/** `--workers`: 1 to 16 processes. */
function workersOf(v: string | undefined): number {
  if (v === undefined) return 1;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new CliFailure(`--workers must be an integer from 1 to 16, got ${JSON.stringify(v)}`, 2);
  return n;
}

/** Adds `imsec scscf`. */
export function registerScscf(program: Command): void {
  const cmd = program
    .command('scscf')
    .description('run the S-CSCF: registrar with IMS AKA, reg-event and routing (TS 24.229 §5.4)')
    .option('--config <file>', 'JSON configuration file (see nodes/scscf/config.ts)')
    .option('--listen <host:port>', 'SIP listen address (default 127.0.0.1:6060; port 0 picks one)')
    .option('--hss <host:port>', 'HSS Diameter address (default: hss.ims.lab from the host table, port 3868)')
    .option('--store <url>', 'registrar store: sqlite:PATH or postgres://… (default sqlite:./.imsec/scscf.sqlite)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .option('--admin-stdin', 'read operator commands (reauth, deregister, registrations) from stdin')
    .option('--workers <n>', 'run as n processes sharing the SIP port (UDP) and the registrar store (default 1)');
  addHttpOptions(addConsoleFeedOption(addPrintSchema(cmd, ScscfConfigSchema)), 'metrics').action(async (o: ScscfFlags) => runScscf(o));
}
