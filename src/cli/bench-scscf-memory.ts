/**
 * `imsec bench scscf-memory [--users N] [--json]`: memory per registered UE at the S-CSCF and the
 * HSS, imsec's against Kamailio 5.6's S-CSCF (bench/kamailio-scscf/), both registering N distinct
 * users (default 100,000) through the same SIPp IMS AKA scenario against the same HSS.
 *
 * Per S-CSCF: the growth of its processes' proportional set size (PSS, /proc/PID/smaps_rollup;
 * every Kamailio process, whose shared memory PSS splits fairly) from before the registrations
 * to 10 s and to 40 s (past Timer J) after the last one, divided by N. The HSS runs in this process:
 * its RSS growth over the 2·N registrations it served. Registrations last an hour (Expires 3600),
 * so every binding is still held when measured.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchRegistrar } from './bench.js';
import { runSipp } from './sipp.js';
import { startScscfPair, type Target } from './bench-scscf.js';
import { CliFailure } from './errors.js';

export interface MemoryFigure {
  registered: number;
  failed: number;
  /** PSS growth ÷ registered users, kB, 10 s after the last registration. */
  pss_kb_per_ue: number;
  /** The same 40 s after (past Timer J, 32 s: no transaction of the fill is left). */
  pss_kb_per_ue_40s: number;
  pss_before_kb: number;
  pss_after_kb: number;
  seconds: number;
}

export interface ScscfMemoryResult {
  users: number;
  imsec: MemoryFigure;
  kamailio: MemoryFigure;
  /** imsec ÷ Kamailio, kB per UE. */
  ratio: number;
  /** The HSS's RSS growth ÷ every user it registered (both S-CSCFs'), kB. */
  hss_rss_kb_per_ue: number;
  load: string;
  node: string;
}

const loadavg = (): string => readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ');
const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function fill(t: Target, users: number, rate: number, log: (l: string) => void): Promise<MemoryFigure> {
  await settle(2000);
  const before = t.pssKb();
  const r = await runSipp({ dir: t.dir, target: { address: '127.0.0.1', port: t.port }, localPort: t.sippPort, calls: users, rate, limit: rate * 4, timeoutSeconds: Math.ceil(users / Math.min(rate, 200)) + 120 });
  await settle(10_000);
  const after = t.pssKb();
  await settle(30_000);
  const after40 = t.pssKb();
  const registered = r.successful || 0;
  const perUe = (kb: number): number => Math.round(((kb - before) / Math.max(1, registered)) * 100) / 100;
  log(`${t.name}: ${registered} registered, ${r.failed} failed in ${r.seconds.toFixed(0)} s; PSS ${before} → ${after} kB (10 s), ${after40} kB (40 s)`);
  return { registered, failed: r.failed || 0, pss_kb_per_ue: perUe(after), pss_kb_per_ue_40s: perUe(after40), pss_before_kb: before, pss_after_kb: after, seconds: Math.round(r.seconds) };
}

/** Runs the benchmark (needs sipp, kamailio with kamailio-ims-modules, unshare and root). */
export async function runScscfMemoryBench(o: { users?: number; rate?: number; log?: (l: string) => void } = {}): Promise<ScscfMemoryResult> {
  const users = o.users ?? 100_000;
  const rate = o.rate ?? 1000;
  const log = o.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'imsec-bench-scscf-memory-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    const { targets } = await startScscfPair(dir, stops, { users, pauseMs: 50, expires: 3600, shmMb: Math.max(256, Math.ceil(users / 100) * 4) });
    const hssBefore = process.memoryUsage().rss;
    const imsec = await fill(targets[0], users, rate, log);
    const kamailio = await fill(targets[1], users, rate, log);
    const hssAfter = process.memoryUsage().rss;
    return {
      users,
      imsec,
      kamailio,
      ratio: kamailio.pss_kb_per_ue > 0 ? Math.round((imsec.pss_kb_per_ue / kamailio.pss_kb_per_ue) * 100) / 100 : Number.NaN,
      hss_rss_kb_per_ue: Math.round(((hssAfter - hssBefore) / 1024 / Math.max(1, imsec.registered + kamailio.registered)) * 100) / 100,
      load: loadavg(),
      node: process.version,
    };
  } finally {
    for (const s of stops.reverse()) await s().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatScscfMemoryBench(r: ScscfMemoryResult): string {
  const line = (name: string, f: MemoryFigure): string =>
    `  ${name.padEnd(9)} ${f.pss_kb_per_ue.toFixed(2).padStart(7)} kB PSS per registered UE at 10 s, ${f.pss_kb_per_ue_40s.toFixed(2)} at 40 s (${f.registered} registered, ${f.failed} failed; ${f.pss_before_kb} → ${f.pss_after_kb} kB)`;
  return [
    `S-CSCF memory per registered UE, ${r.users} users each, 10 s and 40 s after the last registration (load ${r.load}; node ${r.node})`,
    line('imsec', r.imsec),
    line('kamailio', r.kamailio),
    `ratio imsec/Kamailio: ${r.ratio}`,
    `HSS (imsec, both S-CSCFs' users): ${r.hss_rss_kb_per_ue.toFixed(2)} kB RSS per registered UE`,
    '',
  ].join('\n');
}

export const scscfMemoryBench: BenchRegistrar = (bench) => {
  bench
    .command('scscf-memory')
    .description("memory per registered UE: imsec's S-CSCF and HSS against Kamailio's S-CSCF, same SIPp registrations, same HSS")
    .option('--json', 'print one JSON object')
    .option('--users <n>', 'registered users per S-CSCF (default 100000)')
    .option('--rate <n>', 'registrations per second SIPp offers (default 1000)')
    .action(async (o: { json?: boolean; users?: string; rate?: string }) => {
      const num = (v: string | undefined, flag: string): number | undefined => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new CliFailure(`${flag} must be a positive integer`, 2);
        return n;
      };
      const users = num(o.users, '--users');
      const rate = num(o.rate, '--rate');
      const r = await runScscfMemoryBench({ ...(users ? { users } : {}), ...(rate ? { rate } : {}), log: o.json ? undefined : (l) => process.stderr.write(`${l}\n`) });
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatScscfMemoryBench(r));
    });
};
