/**
 * `imsec bench analyze`: `imsec analyze` (every check, keys from the capture and the keys file)
 * against `tshark -r` decoding the same file with the same keys (ESP decrypted, ICVs checked,
 * SIP and Diameter dissected), both as processes on the same file in alternating rounds.
 *
 * The file is built at run time in a temporary directory from the demo's own capture
 * (`imsec demo --pcap --keys`), repeated until it reaches the size asked for (≥ 100 MB by
 * default): each repetition is shifted in time, its TCP sequence numbers are shifted, and its ESP
 * packets are opened and sealed again so their sequence numbers keep rising (RFC 4303 §3.3.3)
 * and every ICV stays valid. Reported: MB/s of each (median of rounds), the ratio
 * (imsec / tshark), and imsec's peak RSS.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { parseKeysFile } from '../analyze/index.js';
import { espSaArgs, pcapFileHeader, pcapRecord, readPcap, tsharkDecodeArgs } from '../capture/index.js';
import { SeededRng } from '../common/index.js';
import { decodeIpPacket, decodeTcp, decodeUdp, encodeTcpPacket, encodeUdpPacket, IPPROTO_TCP, IPPROTO_UDP } from '../ip/index.js';
import { EspSa } from '../ipsec/index.js';
import { median, type BenchRegistrar } from './bench.js';
import { runDemoCli } from './demo.js';

export interface AnalyzeBenchResult {
  file_mb: number;
  packets: number;
  repetitions: number;
  rounds: number;
  imsec_s: number;
  tshark_s: number;
  imsec_mb_per_s: number;
  tshark_mb_per_s: number;
  /** imsec MB/s ÷ tshark MB/s (> 1: imsec is faster). */
  ratio: number;
  imsec_max_rss_mb: number;
  findings: number;
  esp_verified: number;
  esp_packets: number;
  node: string;
  tshark: string;
}

/** Writes `reps` time-shifted copies of `demo` to `out` (see the module comment). */
export function replicateCapture(demo: Uint8Array, keysText: string, out: string, targetBytes: number): { packets: number; repetitions: number; bytes: number } {
  const cap = readPcap(demo);
  const given = parseKeysFile(keysText);
  const openers = new Map(given.map((g) => [g.spi, new EspSa({ spi: g.spi, integrity: g.integrity, encryption: g.encryption, keys: g.keys, replayWindow: 4096 })]));
  const sealers = new Map(given.map((g) => [g.spi, new EspSa({ spi: g.spi, integrity: g.integrity, encryption: g.encryption, keys: g.keys })]));
  const rng = new SeededRng('bench-analyze');
  // 1. Open every ESP packet of the demo once.
  const plain = cap.packets.map((p) => {
    const ip = decodeIpPacket(p.data);
    if (ip.protocol !== IPPROTO_UDP) return undefined;
    const u = decodeUdp(ip.payload);
    const spi = u.payload.length >= 8 ? new DataView(u.payload.buffer, u.payload.byteOffset).getUint32(0) : 0;
    const sa = openers.get(spi);
    if (!sa) return undefined;
    const r = sa.open(u.payload);
    if (!r.ok) throw new Error(`demo ESP packet on SPI ${spi} does not open: ${r.reason}`);
    return { spi, payload: Uint8Array.from(r.payload), nextHeader: r.nextHeader, from: { address: ip.src, port: u.srcPort }, to: { address: ip.dst, port: u.dstPort } };
  });
  const t0 = cap.packets[0]?.timestampMs ?? 0;
  const period = (cap.packets.at(-1)?.timestampMs ?? t0) - t0 + 1000;
  const fd = openSync(out, 'w');
  let bytes = 0;
  let packets = 0;
  let reps = 0;
  const flush = (parts: Uint8Array[]) => {
    const buf = Buffer.concat(parts);
    writeSync(fd, buf);
    bytes += buf.length;
  };
  try {
    flush([pcapFileHeader({ linktype: cap.linktype })]);
    while (bytes < targetBytes) {
      const parts: Uint8Array[] = [];
      const shift = (reps * 0x100000) >>> 0;
      cap.packets.forEach((p, i) => {
        let data = p.data;
        const e = plain[i];
        if (e) data = encodeUdpPacket(e.from, e.to, sealers.get(e.spi)!.seal(e.payload, e.nextHeader, rng));
        else {
          const ip = decodeIpPacket(p.data);
          if (ip.protocol === IPPROTO_TCP && reps > 0) {
            const t = decodeTcp(ip.payload);
            const ack = t.flags & 0x10 ? (t.ack + shift) >>> 0 : 0;
            data = encodeTcpPacket({ address: ip.src, port: t.srcPort }, { address: ip.dst, port: t.dstPort }, { seq: (t.seq + shift) >>> 0, ack, flags: t.flags, window: t.window, options: t.options }, t.payload);
          }
        }
        parts.push(pcapRecord(data, p.timestampMs + reps * period));
        packets++;
      });
      flush(parts);
      reps++;
    }
  } finally {
    closeSync(fd);
  }
  return { packets, repetitions: reps, bytes };
}

/** The demo's capture and keys, and the tshark arguments that decode it (ports, Lua ESP finder). */
async function demoCapture(dir: string): Promise<{ pcap: string; keys: string; tsharkArgs: (file: string) => string[] }> {
  const pcap = join(dir, 'demo.pcap');
  const keys = join(dir, 'demo.keys');
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const r = await runDemoCli({ pcap, keys, color: false }, sink);
  const sipUdp = new Set<number>();
  const sipTcp = new Set<number>();
  for (const p of r.tap.packets()) if (p.kind === 'sip') for (const port of [p.from.port, p.to.port]) (p.proto === 'udp' ? sipUdp : sipTcp).add(port);
  const diameterPorts = r.addresses ? [r.addresses.hss.diameter.port] : [];
  const lua = pcap.replace(/\.pcap$/, '.lua');
  return { pcap, keys, tsharkArgs: (file) => [...tsharkDecodeArgs({ pcapPath: file, luaPath: lua, diameterPorts, sipUdpPorts: [...sipUdp], sipTcpPorts: [...sipTcp] }), ...espSaArgs(readFileSync(keys, 'utf8'))] };
}

function timed(cmd: string, args: string[]): { s: number; stderr: string; status: number | null } {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { s: Number(process.hrtime.bigint() - start) / 1e9, stderr: r.stderr, status: r.status };
}

export async function runAnalyzeBench(opts: { mb?: number; rounds?: number; cli: string }): Promise<AnalyzeBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-bench-analyze-'));
  try {
    const demo = await demoCapture(dir);
    const big = join(dir, 'large.pcap');
    const built = replicateCapture(readFileSync(demo.pcap), readFileSync(demo.keys, 'utf8'), big, (opts.mb ?? 100) * 1e6);
    const size = statSync(big).size;
    const rounds = opts.rounds ?? 3;
    const ours: number[] = [];
    const theirs: number[] = [];
    let rss = 0;
    const tsharkArgs = [...demo.tsharkArgs(big), '-T', 'fields', '-e', 'frame.number', '-e', 'esp.icv_good', '-e', 'sip.Method', '-e', 'sip.Status-Code', '-e', 'diameter.cmd.code'];
    for (let i = 0; i < rounds; i++) {
      const a = timed('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, opts.cli, 'analyze', big, '--keys', demo.keys, '--no-ladder', '--fail-on', 'error']);
      ours.push(a.s);
      rss = Math.max(rss, Number(/maxrss_kb=(\d+)/.exec(a.stderr)?.[1] ?? 0));
      const t = timed('tshark', tsharkArgs);
      if (t.status !== 0) throw new Error(`tshark failed: ${t.stderr.split('\n').find((l) => !/Running as user/.test(l) && l.trim()) ?? t.status}`);
      theirs.push(t.s);
    }
    const report = JSON.parse(spawnSync(process.execPath, [opts.cli, 'analyze', big, '--keys', demo.keys, '--json'], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 }).stdout) as { findings: unknown[]; findingsOmitted: number; summary: { esp: { verified: number; packets: number } } };
    const mb = size / 1e6;
    const o = median(ours);
    const th = median(theirs);
    const version = spawnSync('tshark', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
    return {
      file_mb: Math.round(mb * 10) / 10,
      packets: built.packets,
      repetitions: built.repetitions,
      rounds,
      imsec_s: Math.round(o * 100) / 100,
      tshark_s: Math.round(th * 100) / 100,
      imsec_mb_per_s: Math.round((mb / o) * 10) / 10,
      tshark_mb_per_s: Math.round((mb / th) * 10) / 10,
      ratio: Math.round((th / o) * 100) / 100,
      imsec_max_rss_mb: Math.round(rss / 1024),
      findings: report.findings.length + report.findingsOmitted,
      esp_verified: report.summary.esp.verified,
      esp_packets: report.summary.esp.packets,
      node: process.version,
      tshark: version,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printAnalyzeBench(r: AnalyzeBenchResult, write: (s: string) => void): void {
  write(`imsec analyze vs tshark -r, same file, same keys: ${r.file_mb} MB, ${r.packets.toLocaleString('en-US')} packets (demo capture × ${r.repetitions}), median of ${r.rounds} rounds\n`);
  write(`  imsec analyze (every check)   ${r.imsec_s} s  ${r.imsec_mb_per_s} MB/s  peak RSS ${r.imsec_max_rss_mb} MB  (${r.esp_verified}/${r.esp_packets} ESP verified)\n`);
  write(`  tshark -r (ESP decrypted, ICV checked, SIP/Diameter dissected)  ${r.tshark_s} s  ${r.tshark_mb_per_s} MB/s  ${r.tshark}\n`);
  write(`  ratio imsec/tshark            ${r.ratio}x\n`);
}

export const analyzeBench: BenchRegistrar = (bench: Command) => {
  bench
    .command('analyze')
    .description('imsec analyze vs tshark -r on a large capture built from the demo (same file, same keys)')
    .option('--json', 'print one JSON object')
    .option('--mb <n>', 'size of the capture to build, in MB', '100')
    .option('--rounds <n>', 'rounds of each', '3')
    .action(async (o: { json?: boolean; mb: string; rounds: string }) => {
      const r = await runAnalyzeBench({ mb: Math.max(1, Number(o.mb) || 100), rounds: Math.max(1, Number(o.rounds) || 3), cli: process.argv[1] });
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else printAnalyzeBench(r, (s) => process.stdout.write(s));
    });
};
