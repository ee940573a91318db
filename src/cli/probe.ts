/**
 * `imsec probe`: test a P-CSCF against the threats of TS 33.203 (R-LAB-3, issue [N]).
 *
 *   imsec probe --pcscf 127.0.0.1:5060 --subscriber alice.json [--only esp,bid-down.verify-missing]
 *               [--json] [--pcap run.pcap --keys run.keys] [--local 127.0.0.1] [--rate 50]
 *
 * Each check runs as its own registration with a real subscriber of the target's network
 * (probe/subscriber.ts). The report goes to stdout (text, or JSON with --json); the exit status
 * is 1 when any check FAILs, 2 for bad arguments. Datagrams go only to the target's address.
 * ESP keys go only to the --keys file (mode 0600), never to the report.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../common/index.js';
import { parseHostPort } from '../nodes/ue/index.js';
import { exitStatus, formatReport, formatResult, localAddressFor, parseSubscriber, reportJson, runProbe, type ProbeReport } from '../probe/index.js';
import { CliFailure } from './errors.js';
import { readJsonConfigFile } from './node-process.js';

export interface ProbeFlags {
  pcscf?: string;
  subscriber?: string;
  datapath?: string;
  only?: string;
  json?: boolean;
  pcap?: string;
  keys?: string;
  local?: string;
  rate?: string;
  flood?: string;
  wrongRes?: string;
  answerMs?: string;
  quietMs?: string;
  awaitAuth?: string;
  plainPort?: string;
  uePorts?: string;
}

/** `UC,US`: two distinct ports. */
function uePorts(v: string | undefined): { uc: number; us: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d{1,5}),(\d{1,5})$/.exec(v.trim());
  const uc = m ? Number(m[1]) : 0;
  const us = m ? Number(m[2]) : 0;
  if (!m || uc < 1 || uc > 65535 || us < 1 || us > 65535 || uc === us) throw new InvalidArgumentError('--ue-ports must be UC,US: two distinct ports', '--ue-ports');
  return { uc, us };
}

function num(v: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be a number in ${min}..${max}`, flag);
  return n;
}

/** Run the probe as the flags say; resolves with the report and the exit status. */
export async function runProbeCli(o: ProbeFlags, out: NodeJS.WritableStream = process.stdout): Promise<{ report: ProbeReport; exitCode: number }> {
  if (!o.pcscf) throw new InvalidArgumentError('--pcscf HOST:PORT is required', '--pcscf');
  if (!o.subscriber) throw new InvalidArgumentError('--subscriber FILE is required', '--subscriber');
  if ((o.pcap === undefined) !== (o.keys === undefined)) throw new InvalidArgumentError('--pcap and --keys go together (the ESP frames are useless without their keys)', '--pcap');
  const datapath = o.datapath ?? 'userspace';
  if (datapath !== 'userspace' && datapath !== 'xfrm') throw new InvalidArgumentError('--datapath must be userspace or xfrm', '--datapath');
  const hp = parseHostPort(o.pcscf, '--pcscf');
  const subscriber = parseSubscriber(readJsonConfigFile(o.subscriber, (m) => new InvalidArgumentError(m, '--subscriber')));
  const awaitAuth = num(o.awaitAuth, '--await-auth', 0, 3600);
  const { report, capture } = await runProbe({
    target: { address: hp.host, port: hp.port },
    local: o.local?.split(',')[0] ?? (await localAddressFor({ address: hp.host, port: hp.port })),
    locals: o.local?.split(',').map((x) => x.trim()).filter(Boolean),
    subscriber,
    datapath,
    only: o.only?.split(',').map((s) => s.trim()).filter(Boolean),
    rate: num(o.rate, '--rate', 1, 1000),
    plainPort: num(o.plainPort, '--plain-port', 1, 65535),
    uePorts: uePorts(o.uePorts),
    limits: {
      ...(o.flood !== undefined ? { flood: num(o.flood, '--flood', 1, 64)! } : {}),
      ...(o.wrongRes !== undefined ? { wrongRes: num(o.wrongRes, '--wrong-res', 1, 16)! } : {}),
      ...(o.answerMs !== undefined ? { answerMs: num(o.answerMs, '--answer-ms', 50, 60_000)! } : {}),
      ...(o.quietMs !== undefined ? { quietMs: num(o.quietMs, '--quiet-ms', 50, 60_000)! } : {}),
      ...(awaitAuth !== undefined ? { awaitAuthMs: awaitAuth * 1000 } : {}),
    },
    onResult: o.json ? undefined : (r) => void process.stderr.write(`${formatResult(r).split('\n')[0]}\n`),
  });
  if (o.pcap !== undefined && o.keys !== undefined) {
    writeFileSync(o.pcap, capture.pcap());
    writeFileSync(o.keys, capture.keys(), { mode: 0o600 });
  }
  out.write(`${o.json ? reportJson(report) : formatReport(report, { pcap: o.pcap, keys: o.keys })}\n`);
  return { report, exitCode: exitStatus(report) };
}

/** Adds `imsec probe`. */
export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description('test a P-CSCF against the threats of TS 33.203: bid-down, binding, ESP replay/reflection/ICV/SPI, port rules, availability')
    .option('--pcscf <host:port>', "the P-CSCF's unprotected SIP endpoint (the only address the probe sends to)")
    .option('--subscriber <file>', 'JSON { impi, impu, k, op | opc, homeDomain?, victim? } of a subscriber the target knows')
    .option('--datapath <kind>', 'userspace (ESP-in-UDP crafted by the probe, mod=UDP-enc-tun) or xfrm (kernel ESP, mod=trans; root)', 'userspace')
    .option('--only <ids>', 'comma-separated check ids or groups (bid-down, binding, esp, ports, availability)')
    .option('--json', 'print the report as JSON')
    .option('--pcap <file>', 'write every datagram the probe sent or received (frames cited in the report)')
    .option('--keys <file>', 'write the ESP keys as Wireshark esp_sa records (mode 0600; secret)')
    .option('--local <ip,…>', 'local address(es) to bind; with several, the checks take them in turn (default: the one the OS routes to the target from)')
    .option('--plain-port <n>', 'one unprotected UE port for every check (e.g. 5060 for a P-CSCF that wants Via port 5060)')
    .option('--ue-ports <uc,us>', "port_uc and port_us of each check's UE, the same every time (as a phone keeps them)")
    .option('--rate <n>', 'at most n datagrams a second', '50')
    .option('--flood <n>', 'half-open registrations of availability.half-open (1..64)', '16')
    .option('--wrong-res <n>', 'wrong-RES REGISTERs of availability.wrong-res (1..16)', '3')
    .option('--answer-ms <ms>', 'how long to wait for an answer the target owes', '4000')
    .option('--quiet-ms <ms>', 'silence that counts as a drop', '1500')
    .option('--await-auth <s>', "the target's reg-await-auth timer, waited out by availability.half-open", '245')
    .action(async (o: ProbeFlags) => {
      const { report, exitCode } = await runProbeCli(o);
      if (exitCode !== 0) throw new CliFailure(`${report.results.filter((r) => r.verdict === 'FAIL').length} check(s) failed`, exitCode);
    });
}
