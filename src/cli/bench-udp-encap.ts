/**
 * `imsec bench udp-encap`: the userspace IPsec datapath (RFC 3948 UDP-encapsulated tunnel-mode
 * ESP, src/ipsec/udp-encap). `pure`: encapsulate + decapsulate of one SIP datagram per
 * transform, no sockets. `loopback`: SIP datagrams per second from a UE datapath to a P-CSCF
 * datapath over real UDP sockets on 127.0.0.1 (send, seal, kernel loopback, open, deliver).
 */
import { cryptoRng, ManualClock } from '../common/index.js';
import { deriveEspKeys, EspSa, type EncryptionAlg, type IntegrityAlg, mirrorSaTable, SaManager, decapsulate, encapsulate, UdpEncapDatapath } from '../ipsec/index.js';
import { measureRate, median, type BenchRegistrar } from './bench.js';

const TRANSFORMS: Array<[IntegrityAlg, EncryptionAlg]> = [
  ['hmac-sha-1-96', 'null'],
  ['hmac-sha-1-96', 'aes-cbc'],
  ['null', 'aes-gcm'],
];
const SIP_SIZE = 800;

export interface UdpEncapBenchResult {
  unit: 'datagrams/s';
  sipBytes: number;
  /** encapsulate+decapsulate pairs per second, per `alg/ealg`. */
  pure: Record<string, number>;
  /** Delivered SIP datagrams per second over loopback sockets (hmac-sha-1-96/aes-cbc). */
  loopback: number;
}

function pureRate(integrity: IntegrityAlg, encryption: EncryptionAlg, opts: { ms?: number; rounds?: number }): number {
  const ik = cryptoRng.bytes(16);
  const ck = cryptoRng.bytes(16);
  const keys = deriveEspKeys(integrity, encryption, ik, ck);
  const tx = new EspSa({ spi: 0x1000, integrity, encryption, keys });
  const rx = new EspSa({ spi: 0x1000, integrity, encryption, keys, replayWindow: 1024 });
  const sip = new Uint8Array(SIP_SIZE).fill(0x41);
  const from = { address: '10.0.0.2', port: 31000 };
  const to = { address: '10.0.0.1', port: 20001 };
  const batch = 32;
  return measureRate(
    () => {
      for (let i = 0; i < batch; i++) {
        const r = decapsulate(rx, encapsulate(tx, from, to, sip, cryptoRng));
        if (!r.ok) throw new Error(`benchmark packet dropped: ${r.reason}`);
      }
    },
    batch,
    opts,
  );
}

async function loopbackRate(opts: { ms?: number; rounds?: number }): Promise<number> {
  const clock = new ManualClock();
  const ue = new SaManager({ role: 'ue', clock, rng: cryptoRng });
  const pc = new SaManager({ role: 'pcscf', clock, rng: cryptoRng });
  let delivered = 0;
  const ueDp = new UdpEncapDatapath();
  const pcDp = new UdpEncapDatapath({ replayWindow: 4096, onMessage: () => void delivered++ });
  const m1 = mirrorSaTable(ue, ueDp);
  const m2 = mirrorSaTable(pc, pcDp);
  try {
    const base = { impi: 'bench@ims', impus: [], ueAddress: '127.0.0.1', pcscfAddress: '127.0.0.1', integrity: 'hmac-sha-1-96', encryption: 'aes-cbc', mode: 'UDP-enc-tun', ik: cryptoRng.bytes(16), ck: cryptoRng.bytes(16) } as const;
    const offer = ue.reserveLocal();
    const p = pc.createSet({ ...base, remote: offer });
    if (!p.ok) throw new Error(p.detail);
    const u = ue.createSet({ ...base, local: offer, remote: p.set.pcscf });
    if (!u.ok) throw new Error(u.detail);
    await Promise.all([m1.idle(), m2.idle()]);
    const sip = new Uint8Array(SIP_SIZE).fill(0x41);
    const to = { address: '127.0.0.1', port: p.set.pcscf.portS };
    const window = 64;
    const rates: number[] = [];
    for (let r = 0; r < (opts.rounds ?? 5); r++) {
      const start = delivered;
      const t0 = process.hrtime.bigint();
      const until = t0 + BigInt(opts.ms ?? 500) * 1_000_000n;
      let sent = 0;
      while (process.hrtime.bigint() < until) {
        // Keep at most `window` datagrams in flight so loopback buffers never overflow.
        while (sent - (delivered - start) >= window) await new Promise((res) => setImmediate(res));
        await ueDp.send(sip, { fromPort: u.set.ue.portC, to });
        sent++;
      }
      while (delivered - start < sent && process.hrtime.bigint() < until + 1_000_000_000n) await new Promise((res) => setImmediate(res));
      rates.push((delivered - start) / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
    return median(rates);
  } finally {
    await ueDp.close();
    await pcDp.close();
  }
}

export async function runUdpEncapBench(opts: { ms?: number; rounds?: number } = {}): Promise<UdpEncapBenchResult> {
  const pure: Record<string, number> = {};
  for (const [i, e] of TRANSFORMS) pure[`${i}/${e}`] = pureRate(i, e, opts);
  return { unit: 'datagrams/s', sipBytes: SIP_SIZE, pure, loopback: await loopbackRate(opts) };
}

export const udpEncapBench: BenchRegistrar = (bench) => {
  bench
    .command('udp-encap')
    .description('userspace UDP-encapsulated ESP: encap+decap and loopback delivery per second')
    .option('--json', 'print one JSON object')
    .action(async (o: { json?: boolean }) => {
      const r = await runUdpEncapBench();
      if (o.json) return void process.stdout.write(`${JSON.stringify(r)}\n`);
      for (const [k, v] of Object.entries(r.pure)) process.stdout.write(`pure ${k.padEnd(22)} ${Math.round(v).toLocaleString('en-US')} datagrams/s (${r.sipBytes}-byte SIP)\n`);
      process.stdout.write(`loopback hmac-sha-1-96/aes-cbc ${Math.round(r.loopback).toLocaleString('en-US')} datagrams/s delivered\n`);
    });
};
