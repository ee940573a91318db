/**
 * `imsec bench sa-table [--sets N] [--json]`: what one registration costs the P-CSCF's SA table
 * (TS 33.203 §7.1) with an empty table and with N live sets: create a set (SPI allocation,
 * selector checks, R-SA-6 limit, key derivation), wait for its SAs in the datapath mirror,
 * activate it, look its SAs up by SPI and selector, then delete it. The datapath is a no-op, so
 * the figure is the table's own cost; the ratio loaded ÷ empty is 1.0 when every lookup is O(1).
 * Beside the rate, the process's CPU time per registration (user + system, GC threads included):
 * on a machine shared with other work the wall-clock rate follows the scheduler, the CPU time
 * much less.
 */
import { Command } from 'commander';
import { cryptoRng, systemClock } from '../common/index.js';
import { SaManager, mirrorSaTable, type IpsecDatapath } from '../ipsec/index.js';
import { intArg } from './args.js';
import type { BenchRegistrar } from './bench.js';
import { median } from './bench.js';

const IK = new Uint8Array(16).fill(1);
const CK = new Uint8Array(16).fill(2);

function address(i: number): string {
  return `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

export interface SaTableBenchResult {
  sets: number;
  emptyPerSecond: number;
  loadedPerSecond: number;
  ratio: number;
  /** CPU time per registration, µs (medians), and empty ÷ loaded (1.0: flat). */
  emptyCpuUs: number;
  loadedCpuUs: number;
  cpuRatio: number;
}

/** Registrations per second of the table's work and CPU µs per registration, medians of `rounds` rounds of `batch`. */
async function cycles(sa: SaManager, settled: (id: number) => Promise<void>, from: number, batch: number, rounds: number): Promise<{ rate: number; cpuUs: number }> {
  const rates: number[] = [];
  const cpus: number[] = [];
  let n = from;
  for (let r = 0; r < rounds; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++, n++) {
      const ue = address(n);
      const made = sa.createSet({ impi: `u${n}@ims.lab`, impus: [`sip:u${n}@ims.lab`], ueAddress: ue, pcscfAddress: '127.0.0.1', remote: { spiC: 0x80000000 + 2 * n, spiS: 0x80000001 + 2 * n, portC: 40000, portS: 40001 }, local: { spiC: 1000 + 2 * n, spiS: 1001 + 2 * n, portC: 5101, portS: 5100 }, integrity: 'hmac-sha-1-96', encryption: 'null', mode: 'UDP-enc-tun', ik: IK, ck: CK });
      if (!made.ok) throw new Error(made.detail);
      await settled(made.set.id);
      sa.activate(made.set.id, 600_000);
      if (!sa.findInbound(1000 + 2 * n) || !sa.findOutbound({ address: '127.0.0.1', port: 5101 }, { address: ue, port: 40001 }) || !sa.preferredSetAtUe(ue, 40001)) throw new Error('lookup failed');
      sa.deleteSet(made.set.id, 'deregistered');
    }
    rates.push(batch / (Number(process.hrtime.bigint() - t0) / 1e9));
    const cpu = process.cpuUsage(cpu0);
    cpus.push((cpu.user + cpu.system) / batch);
  }
  return { rate: median(rates), cpuUs: median(cpus) };
}

export async function runSaTableBench(sets: number, batch = 5000, rounds = 5): Promise<SaTableBenchResult> {
  const sa = new SaManager({ role: 'pcscf', clock: systemClock, rng: cryptoRng, temporaryLifetimeMs: 3_600_000 });
  const noop: IpsecDatapath = { name: 'noop', install: () => Promise.resolve(), remove: () => Promise.resolve(), close: () => Promise.resolve() };
  const mirror = mirrorSaTable(sa, noop);
  try {
    await cycles(sa, (id) => mirror.settled(id), 10_000_000, batch, 1); // warm-up
    const empty = await cycles(sa, (id) => mirror.settled(id), 11_000_000, batch, rounds);
    for (let i = 0; i < sets; i++) {
      const made = sa.createSet({ impi: `f${i}@ims.lab`, impus: [`sip:f${i}@ims.lab`], ueAddress: address(i), pcscfAddress: '127.0.0.1', remote: { spiC: 0x90000000 + 2 * i, spiS: 0x90000001 + 2 * i, portC: 40000, portS: 40001 }, local: { spiC: 0x10000000 + 2 * i, spiS: 0x10000001 + 2 * i, portC: 5102, portS: 5100 }, integrity: 'hmac-sha-1-96', encryption: 'null', mode: 'UDP-enc-tun', ik: IK, ck: CK });
      if (!made.ok) throw new Error(made.detail);
      sa.activate(made.set.id, 600_000);
    }
    await mirror.idle();
    const loaded = await cycles(sa, (id) => mirror.settled(id), 12_000_000, batch, rounds);
    return { sets, emptyPerSecond: empty.rate, loadedPerSecond: loaded.rate, ratio: loaded.rate / empty.rate, emptyCpuUs: empty.cpuUs, loadedCpuUs: loaded.cpuUs, cpuRatio: empty.cpuUs / loaded.cpuUs };
  } finally {
    sa.clear();
    await mirror.idle();
    mirror.stop();
  }
}

export function formatSaTableBench(r: SaTableBenchResult): string {
  return [
    'P-CSCF SA table, one registration (create, settle, activate, look up, delete), medians:',
    `  empty table:            ${Math.round(r.emptyPerSecond).toLocaleString('en')}/s  CPU ${r.emptyCpuUs.toFixed(1)} µs/registration`,
    `  ${r.sets.toLocaleString('en').padStart(7)} live sets:     ${Math.round(r.loadedPerSecond).toLocaleString('en')}/s  (ratio ${r.ratio.toFixed(2)})  CPU ${r.loadedCpuUs.toFixed(1)} µs/registration (ratio ${r.cpuRatio.toFixed(2)})`,
    '',
  ].join('\n');
}

export const saTableBench: BenchRegistrar = (bench: Command) => {
  bench
    .command('sa-table')
    .description("the P-CSCF SA table's cost per registration, empty and with N live sets (flatness)")
    .option('--sets <n>', 'live sets of the loaded measurement', '100000')
    .option('--json', 'one JSON object')
    .action(async (o: { sets: string; json?: boolean }) => {
      const r = await runSaTableBench(intArg(o.sets, '--sets', 0, 10_000_000));
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatSaTableBench(r));
    });
};
