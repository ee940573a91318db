/**
 * `imsec load`: a swarm of emulated UEs, each with IMS AKA, sec-agree and IPsec ESP of its own,
 * against a P-CSCF (R-LAB-4; the load layer is src/load/).
 *
 *   imsec load --pcscf 127.0.0.1:5060 --range ue:1-1000 --k HEX --op HEX --ues 1000 --rate 200 --count 1000
 *   imsec load --pcscf 127.0.0.1:5060 --subscribers subs.csv --ues 500 --rate 100 --duration 60 --scenario churn --json
 *
 * A progress line on stderr when it is a terminal; the final report on stdout (text, or one
 * JSON object with --json); exit 1 when the failed share of operations is above
 * --max-failures (default 0), 2 on bad arguments.
 */
import { Command } from 'commander';
import { InvalidArgumentError } from '../common/index.js';
import { ipFamily } from '../sip/index.js';
import { parseHostPort } from '../nodes/ue/index.js';
import { chooseProtectedPorts, DEFAULT_PORT_BASE, driveLoad, fdsNeeded, formatSummary, LOAD_SCENARIOS, openFileLimit, progressLine, SWARM_DATAPATHS, portBlock, toLoadSubscribers, type LoadScenario, type LoadSubscriber, type SwarmDatapathKind } from '../load/index.js';
import { ImportError } from '../nodes/hss/index.js';
import { subscriberRowsFromFlags } from './subscriber-source.js';
import { intArg } from './args.js';
import { CliFailure } from './errors.js';

interface LoadFlags {
  pcscf?: string;
  subscribers?: string;
  range?: string;
  k?: string;
  op?: string;
  opc?: string;
  domain: string;
  ues?: string;
  rate?: string;
  duration?: string;
  count?: string;
  scenario: string;
  datapath: string;
  live: string;
  expires?: string;
  uesPerAddress: string;
  firstAddress: string;
  portBase?: string;
  unprotectedPort: string;
  retries: string;
  maxFailures: string;
  json?: boolean;
}

function numberArg(v: string, flag: string, min: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${flag} must be a number >= ${min}, got ${JSON.stringify(v)}`, flag);
  return n;
}

export function registerLoad(program: Command): void {
  program
    .command('load')
    .description('a swarm of emulated UEs with IMS AKA, sec-agree and IPsec each, against a P-CSCF')
    .option('--pcscf <host:port>', "the P-CSCF's unprotected SIP endpoint (an IPv4 literal)")
    .option('--subscribers <file>', 'subscribers: the CSV or JSON file `imsec hss import` takes')
    .option('--range <prefix:from-to>', 'subscribers <prefix><n>@<domain>, n from..to, with --k and --op/--opc')
    .option('--k <hex>', 'K of every subscriber of --range')
    .option('--op <hex>', 'OP of every subscriber of --range')
    .option('--opc <hex>', 'OPc of every subscriber of --range')
    .option('--domain <domain>', 'home domain of --range', 'ims.lab')
    .option('--ues <n>', 'emulated UEs (default: one per subscriber)')
    .option('--rate <n>', 'new registrations per second', '100')
    .option('--duration <s>', 'stop starting registrations after this many seconds')
    .option('--count <n>', 'stop after this many registrations (default: every UE once; churn: until --duration)')
    .option('--scenario <name>', LOAD_SCENARIOS.join(' | '), 'register')
    .option('--datapath <kind>', 'userspace (ESP-in-UDP on 127.0.0.0/8) | xfrm (kernel transport mode; root, UE addresses assigned in this namespace)', 'userspace')
    .option('--live <s>', 'churn: seconds a UE stays registered', '2')
    .option('--expires <s>', 'registration expiry asked for (re-registration at half of it)')
    .option('--ues-per-address <n>', 'UEs sharing one source address', '16')
    .option('--first-address <ip>', 'first UE source address (userspace: in 127.0.0.0/8)', '127.1.0.1')
    .option('--unprotected-port <n>', "every UE's unprotected SIP port (0: the OS chooses; Kamailio's P-CSCF wants 5060)", '0')
    .option('--port-base <n>', `first protected port (userspace: a block bound on 0.0.0.0, checked free first; default: the first free block from ${DEFAULT_PORT_BASE})`)
    .option('--retries <n>', 'times a registration answered 503 with Retry-After is sent again once that time has passed (RFC 3261 §21.5.4)', '0')
    .option('--max-failures <ratio>', 'exit 1 when failed/finished operations exceed this', '0')
    .option('--json', 'the report as one JSON object')
    .action(async (o: LoadFlags) => {
      if (o.pcscf === undefined) throw new InvalidArgumentError('missing --pcscf HOST:PORT', '--pcscf');
      const hp = parseHostPort(o.pcscf, '--pcscf');
      if (ipFamily(hp.host) !== 4) throw new InvalidArgumentError('--pcscf must be an IPv4 literal', '--pcscf');
      if (!LOAD_SCENARIOS.includes(o.scenario as LoadScenario)) throw new InvalidArgumentError(`--scenario must be one of ${LOAD_SCENARIOS.join(', ')}`, '--scenario');
      if (!SWARM_DATAPATHS.includes(o.datapath as SwarmDatapathKind)) throw new InvalidArgumentError(`--datapath must be one of ${SWARM_DATAPATHS.join(', ')}`, '--datapath');
      const datapath = o.datapath as SwarmDatapathKind;
      if (ipFamily(o.firstAddress) !== 4) throw new InvalidArgumentError('--first-address must be an IPv4 literal', '--first-address');
      if (datapath === 'userspace' && !o.firstAddress.startsWith('127.')) throw new InvalidArgumentError('--first-address must be in 127.0.0.0/8 with --datapath userspace', '--first-address');
      let subs: LoadSubscriber[];
      try {
        subs = toLoadSubscribers(subscriberRowsFromFlags(o).rows);
      } catch (err) {
        if (err instanceof ImportError) throw new CliFailure(`${o.subscribers}: ${err.message}`, 2);
        throw err;
      }
      const ues = o.ues === undefined ? subs.length : intArg(o.ues, '--ues', 1, subs.length);
      subs = subs.slice(0, ues);
      const perAddress = intArg(o.uesPerAddress, '--ues-per-address', 1, 1000);
      const limit = openFileLimit();
      const need = fdsNeeded(ues, perAddress);
      if (limit !== undefined && limit < need) throw new CliFailure(`${ues} UEs need about ${need} open files, the limit is ${limit}: raise it (ulimit -n ${need}) or run fewer UEs`, 2);
      const given = o.portBase === undefined ? undefined : intArg(o.portBase, '--port-base', 1024, 60000);
      // Userspace: the block is bound on this host's wildcard address, so checked (load/port-plan.ts).
      const ports = datapath === 'userspace' ? await chooseProtectedPorts({ given, uesPerAddress: perAddress }) : portBlock(given ?? DEFAULT_PORT_BASE, perAddress);
      const tty = process.stderr.isTTY === true;
      let lastOk = 0;
      const summary = await driveLoad({
        pcscf: { address: hp.host, port: hp.port },
        subscribers: subs,
        scenario: o.scenario as LoadScenario,
        rate: numberArg(o.rate ?? '100', '--rate', 0.001),
        ...(o.count !== undefined ? { count: intArg(o.count, '--count', 1, 1e9) } : {}),
        ...(o.duration !== undefined ? { durationMs: numberArg(o.duration, '--duration', 0.001) * 1000 } : {}),
        liveMs: numberArg(o.live, '--live', 0) * 1000,
        ...(o.expires !== undefined ? { expires: intArg(o.expires, '--expires', 1, 2 ** 31 - 1) } : {}),
        uesPerAddress: perAddress,
        firstAddress: o.firstAddress,
        portBase: ports.first,
        datapath,
        unprotectedPort: intArg(o.unprotectedPort, '--unprotected-port', 0, 65535),
        retries: intArg(o.retries, '--retries', 0, 100),
        onTick: (stats, elapsed) => {
          if (!tty) return;
          const ok = stats.ops.get('register')!.ok;
          process.stderr.write(`\r\x1b[K${progressLine(stats, elapsed, ok - lastOk)}`);
          lastOk = ok;
        },
      });
      if (tty) process.stderr.write('\n');
      process.stdout.write(o.json ? `${JSON.stringify({ ...summary, protectedPorts: ports })}\n` : `${formatSummary(summary)}\n  protected ports ${ports.first}-${ports.last}\n`);
      const max = numberArg(o.maxFailures, '--max-failures', 0);
      if (summary.failureRatio > max) throw new CliFailure(`${(summary.failureRatio * 100).toFixed(2)}% of operations failed (threshold ${(max * 100).toFixed(2)}%)`);
    });
}
