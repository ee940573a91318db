/**
 * `imsec demo` (what `npm start` runs): the IMS core and two soft UEs in this process, through
 * registration with IMS AKA and sec-agree, a protected MESSAGE, re-registration with SA
 * change-over and de-registration, with the message ladder and the SA tables at each step
 * (nodes/demo). No root, no kernel IPsec (userspace ESP-in-UDP), every port chosen by the OS, a
 * fresh data directory that is removed afterwards. Exit 0 when every check held, 1 otherwise.
 *
 *   imsec demo
 *   imsec demo --pcap demo.pcap --keys demo.keys     also write every packet of every leg (SIP,
 *                                                    Diameter, ESP in UDP) and the Wireshark esp_sa
 *                                                    records, and print the tshark command
 *
 *   imsec demo --datapath xfrm                       kernel ESP in transport mode, the UEs in a network
 *                                                    namespace of their own (root and ESP: inside
 *                                                    `imsec lab`; cli/demo-xfrm.ts)
 *
 *   imsec demo --web [host:port]                     also serve the console (default 127.0.0.1:8088) while
 *                                                    the steps run, and after them until Ctrl-C; the
 *                                                    login link (with a generated token, unless
 *                                                    --token-file or --no-auth) is printed first
 *
 * With --pcap, a small Lua helper (SPIs and ports only) is written next to the capture: on one host
 * the inner packet of `mod=UDP-enc-tun` uses the same ports as the outer one, so tshark needs it
 * to tell ESP from the SIP inside (capture/tap-tshark.ts). Keys go only to the --keys file (mode 0600).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { InvalidArgumentError } from '../common/index.js';
import { createLogger, silentLogger } from '../common/log.js';
import { PcapRecorder, WireTap, espFinderLua, recordPackets, tsharkDecodeCommand, writePcapFile } from '../capture/index.js';
import { wiresharkLinesForSas } from '../ipsec/index.js';
import { parseCoreConfig } from '../nodes/core/index.js';
import { runDemo, styles, type DemoResult } from '../nodes/demo/index.js';
import { CliFailure } from './errors.js';
import { runDemoXfrm } from './demo-xfrm.js';
import { MetricsHub } from '../metrics/index.js';
import { consoleTap, demoConsoleHooks } from '../web/index.js';
import { DEFAULT_WEB_LISTEN } from './core.js';
import { addHttpOptions, parseListen, ProcessAccess, type HttpFlags } from './http-flags.js';

function webFor(o: DemoFlags): { host: string; port: number } | undefined {
  return o.web === undefined || o.web === false ? undefined : parseListen(o.web === true ? DEFAULT_WEB_LISTEN : o.web, '--web');
}

/** Resolves at the first SIGINT or SIGTERM (the handlers are removed then). */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

export interface DemoFlags extends HttpFlags {
  web?: string | boolean;
  pcap?: string;
  keys?: string;
  dataDir?: string;
  logLevel?: string;
  color?: boolean;
  datapath?: string;
}

/** The Lua helper's path for a capture path: `x.pcap` → `x.lua`, anything else → `<path>.lua`. */
export function luaPathFor(pcap: string): string {
  return /\.pcap$/i.test(pcap) ? pcap.replace(/\.pcap$/i, '.lua') : `${pcap}.lua`;
}

/** Writes the capture, keys and helper the flags ask for; returns the lines to print about them. */
export function writeDemoFiles(o: DemoFlags, r: DemoResult, color = false): string[] {
  const st = styles(color);
  const lines: string[] = [];
  if (o.keys !== undefined) {
    const records = wiresharkLinesForSas(r.sas);
    writeFileSync(o.keys, records.length > 0 ? records.join('\n') + '\n' : '', { mode: 0o600 });
    lines.push(`  keys     ${o.keys}: ${records.length} esp_sa records (Wireshark 4.0 UAT; secret: IK/CK-derived ESP keys)`);
  }
  if (o.pcap !== undefined) {
    const packets = r.tap.packets();
    const recorder = recordPackets(new PcapRecorder(), packets);
    writePcapFile(o.pcap, recorder.toBytes());
    const lua = luaPathFor(o.pcap);
    writeFileSync(lua, espFinderLua({ spis: r.sas.map((s) => s.spi), ports: r.espPorts }));
    const count = (k: string) => packets.filter((p) => p.kind === k).length;
    lines.push(`  capture  ${o.pcap}: ${recorder.writer.count} packets from every leg (${count('sip')} SIP, ${count('diameter')} Diameter, ${count('esp')} ESP in UDP, and TCP handshakes)`);
    lines.push(`  helper   ${lua}: finds ESP in UDP on the protected ports (SPIs and ports, no keys)`);
    const sipUdp = new Set<number>();
    const sipTcp = new Set<number>();
    for (const p of packets) if (p.kind === 'sip') for (const port of [p.from.port, p.to.port]) (p.proto === 'udp' ? sipUdp : sipTcp).add(port);
    const cmd = tsharkDecodeCommand({
      pcapPath: o.pcap,
      ...(o.keys !== undefined ? { keysPath: o.keys } : {}),
      luaPath: lua,
      diameterPorts: r.addresses ? [r.addresses.hss.diameter.port] : [],
      sipUdpPorts: [...sipUdp],
      sipTcpPorts: [...sipTcp],
    });
    lines.push('', st.bold('decode the capture with tshark') + (o.keys === undefined ? ' (no --keys: ESP stays encrypted)' : ' (ESP decrypted, every ICV checked):'));
    lines.push(`  ${cmd}`);
    lines.push(st.dim('  append tshark options at the end, e.g. -Y sip  or  -V  or  -T fields -e esp.spi -e esp.icv_good -e sip.Method'));
  }
  return lines;
}

function colorFor(o: DemoFlags, out: NodeJS.WritableStream): boolean {
  return o.color !== false && (out as NodeJS.WriteStream).isTTY === true && process.env.NO_COLOR === undefined;
}

/** `--datapath xfrm`: the kernel demo (cli/demo-xfrm.ts); throws CliFailure when it failed. */
async function runKernelDemo(o: DemoFlags): Promise<void> {
  const other = (['web', 'pcap', 'keys', 'dataDir'] as const).filter((k) => o[k] !== undefined && o[k] !== false);
  if (other.length > 0) throw new CliFailure(`--datapath xfrm does not take --${other.map((k) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).join(', --')}`, 2);
  const code = await runDemoXfrm({ color: colorFor(o, process.stdout), logLevel: o.logLevel ?? 'silent' });
  if (code !== 0) throw new CliFailure(code === 130 ? 'demo --datapath xfrm interrupted; its namespaces are removed' : 'demo --datapath xfrm failed', code);
}

/** Runs the demo; throws CliFailure (exit 1) when a step failed, after writing the files. */
export async function runDemoCli(o: DemoFlags, out: NodeJS.WritableStream = process.stdout): Promise<DemoResult> {
  const color = colorFor(o, out);
  const ownDir = o.dataDir === undefined;
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'imsec-demo-'));
  const config = parseCoreConfig({
    dataDir,
    hss: { diameterPort: 0 },
    scscf: { sipPort: 0 },
    icscf: { sipPort: 0 },
    pcscf: { sipPort: 0, protectedPorts: 'auto' },
    logLevel: o.logLevel ?? 'silent',
  });
  const logger = config.logLevel === 'silent' ? silentLogger : createLogger('demo', { level: config.logLevel });
  const web = webFor(o);
  const tap = web ? consoleTap() : new WireTap();
  const access = web ? new ProcessAccess(o) : undefined;
  const webAccess = web && access ? access.for(web.host) : undefined;
  const st = styles(color);
  const demoConsole = demoConsoleHooks({
    hub: new MetricsHub(),
    ...(web && webAccess
      ? {
          web: {
            tap,
            listen: web,
            access: webAccess,
            onListening: (c) => {
              const token = access?.readyFields().token;
              out.write(`${st.bold('console')}  ${token !== undefined ? `${c.server.url}login#token=${token}` : c.server.url}\n\n`);
            },
          },
          hold: () => {
            out.write(`\n${st.bold('console')}  still serving; Ctrl-C to stop\n`);
            return untilSignal();
          },
        }
      : {}),
  });
  let r: DemoResult;
  try {
    r = await runDemo({ config, out: (l) => out.write(l + '\n'), color, tap, logger, hooks: demoConsole.hooks });
  } finally {
    await demoConsole.close();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  }
  const files = writeDemoFiles(o, r, color);
  if (files.length > 0) {
    out.write('\n');
    for (const l of files) out.write(l + '\n');
  }
  if (!r.ok) throw new CliFailure(`demo failed at step "${r.failure?.step}": ${r.failure?.message}`);
  return r;
}

/** Adds `imsec demo`. */
export function registerDemo(program: Command): void {
  const cmd = program
    .command('demo')
    .description('run the core and two UEs in this process: AKA registration, protected MESSAGE, re-registration, de-registration, with the message ladder and SA tables')
    .option('--pcap <file>', 'write every message of every leg (SIP, Diameter, ESP in UDP) to a pcap')
    .option('--keys <file>', 'write the Wireshark esp_sa records (the ESP keys) to this file')
    .option('--data-dir <dir>', 'keep the stores in this directory (default: a temporary one, removed)')
    .option('--log-level <level>', 'node logs on stderr: fatal, error, warn, info, debug, trace (default silent)')
    .option('--no-color', 'no ANSI colours')
    .option('--datapath <kind>', 'userspace (ESP-in-UDP in this process) or xfrm (kernel ESP, transport mode, the UEs in a network namespace; root: imsec lab -- imsec demo --datapath xfrm)', 'userspace')
    .option('--web [host:port]', `serve the web console there while the demo runs and until Ctrl-C (default ${DEFAULT_WEB_LISTEN})`);
  addHttpOptions(cmd, 'console', false).action(async (o: DemoFlags) => {
    if (o.datapath === 'xfrm') return runKernelDemo(o);
    if (o.datapath !== 'userspace') throw new InvalidArgumentError(`--datapath must be userspace or xfrm, not ${o.datapath}`, '--datapath');
    await runDemoCli(o);
  });
}
