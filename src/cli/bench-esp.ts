/**
 * `imsec bench esp`: ESP seal+open packets per second (RFC 4303 via src/ipsec/esp) for each
 * TS 33.203 transform and payload size, measured side by side, in alternating rounds, with bare
 * node:crypto doing the same cryptographic work on the same bytes (the same HMAC and cipher
 * calls, a random IV per packet for CBC, no packet assembly, padding, SPI or replay checks).
 * `ratio_to_bare` = pps / bare_pps shows what the ESP layer itself costs.
 */
import { createCipheriv, createDecipheriv, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import { cryptoRng, InvalidArgumentError } from '../common/index.js';
import { deriveEspKeys, EspSa, transformLayout, VALID_TRANSFORMS, type EncryptionAlg, type IntegrityAlg } from '../ipsec/index.js';
import { median, type BenchRegistrar } from './bench.js';

export const DEFAULT_ESP_SIZES = [200, 1000, 4000];

export interface EspBenchCell {
  /** seal+open pairs per second through EspSa (median of rounds). */
  pps: number;
  /** The same crypto work through bare node:crypto (median of rounds). */
  bare_pps: number;
  ratio_to_bare: number;
}

export interface EspBenchResult {
  unit: string;
  ms: number;
  rounds: number;
  /** results[`${integrity}/${encryption}`][size] */
  results: Record<string, Record<string, EspBenchCell>>;
}

export interface EspBenchOptions {
  sizes?: number[];
  transforms?: string[];
  /** Length of one timed round per side, default 150 ms. */
  ms?: number;
  /** Rounds per side (alternating ours/bare), default 5. */
  rounds?: number;
}

const BATCH = 32;

/** Runs `fn` (BATCH packets per call) for about `ms` milliseconds; returns packets/s. */
function timed(fn: () => void, ms: number): number {
  const start = process.hrtime.bigint();
  const until = start + BigInt(ms) * 1_000_000n;
  let n = 0;
  let now = start;
  while (now < until) {
    fn();
    n += BATCH;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

/** The bare node:crypto work equivalent to one seal + one open of `payloadLength` bytes. */
function bareWork(integrity: IntegrityAlg, encryption: EncryptionAlg, payloadLength: number, keys: ReturnType<typeof deriveEspKeys>): () => void {
  const L = transformLayout(integrity, encryption);
  const body = payloadLength + 2;
  const ptLen = body + ((L.align - (body % L.align)) % L.align);
  const header = Buffer.alloc(8, 0x11);
  const plain = Buffer.alloc(ptLen, 0x5a);
  const ik = Buffer.from(keys.integrityKey);
  const ck = Buffer.from(keys.encryptionKey);
  const nonce = Buffer.concat([Buffer.from(keys.salt), Buffer.alloc(8, 1)]);
  if (encryption === 'aes-gcm') {
    return () => {
      const c = createCipheriv('aes-128-gcm', ck, nonce, { authTagLength: 16 });
      c.setAAD(header);
      const ct = c.update(plain);
      c.final();
      const tag = c.getAuthTag();
      const d = createDecipheriv('aes-128-gcm', ck, nonce, { authTagLength: 16 });
      d.setAuthTag(tag);
      d.setAAD(header);
      d.update(ct);
      d.final();
    };
  }
  if (integrity === 'aes-gmac') {
    const aad = Buffer.concat([header, nonce.subarray(4), plain]);
    return () => {
      const c = createCipheriv('aes-128-gcm', ik, nonce, { authTagLength: 16 });
      c.setAAD(aad);
      c.final();
      const tag = c.getAuthTag();
      const d = createDecipheriv('aes-128-gcm', ik, nonce, { authTagLength: 16 });
      d.setAuthTag(tag);
      d.setAAD(aad);
      d.final();
    };
  }
  const hash = integrity === 'hmac-md5-96' ? 'md5' : 'sha1';
  if (encryption === 'null') {
    const signed = Buffer.concat([header, plain]);
    return () => {
      const icv = createHmac(hash, ik).update(signed).digest().subarray(0, 12);
      const check = createHmac(hash, ik).update(signed).digest().subarray(0, 12);
      if (!timingSafeEqual(icv, check)) throw new Error('unreachable');
    };
  }
  const cipher = encryption === 'aes-cbc' ? 'aes-128-cbc' : 'des-ede3-cbc';
  const iv = Buffer.alloc(L.ivLength);
  return () => {
    randomFillSync(iv);
    const c = createCipheriv(cipher, ck, iv).setAutoPadding(false);
    const ct = c.update(plain);
    c.final();
    const icv = createHmac(hash, ik).update(header).update(iv).update(ct).digest().subarray(0, 12);
    const check = createHmac(hash, ik).update(header).update(iv).update(ct).digest().subarray(0, 12);
    if (!timingSafeEqual(icv, check)) throw new Error('unreachable');
    const d = createDecipheriv(cipher, ck, iv).setAutoPadding(false);
    d.update(ct);
    d.final();
  };
}

/** Measures every requested transform and size; pure computation, no I/O. */
export function runEspBench(opts: EspBenchOptions = {}): EspBenchResult {
  const sizes = opts.sizes ?? DEFAULT_ESP_SIZES;
  const ms = opts.ms ?? 150;
  const rounds = opts.rounds ?? 5;
  const wanted = opts.transforms;
  const transforms = VALID_TRANSFORMS.filter((t) => !wanted || wanted.includes(`${t.integrity}/${t.encryption}`));
  if (wanted && transforms.length !== wanted.length) {
    throw new InvalidArgumentError(`unknown transform in ${wanted.join(',')}; valid: ${VALID_TRANSFORMS.map((t) => `${t.integrity}/${t.encryption}`).join(', ')}`, 'transform');
  }
  const ik = Buffer.alloc(16, 0x42);
  const ck = Buffer.alloc(16, 0x24);
  const results: EspBenchResult['results'] = {};
  let spi = 0x1000;
  for (const t of transforms) {
    const key = `${t.integrity}/${t.encryption}`;
    results[key] = {};
    const keys = deriveEspKeys(t.integrity, t.encryption, ik, ck);
    for (const size of sizes) {
      spi++;
      const tx = new EspSa({ spi, ...t, keys });
      const rx = new EspSa({ spi, ...t, keys });
      const payload = Buffer.alloc(size, 0x5a);
      const ours = () => {
        for (let i = 0; i < BATCH; i++) {
          const r = rx.open(tx.seal(payload, 17, cryptoRng));
          if (!r.ok) throw new Error(`bench: ${key} packet dropped (${r.reason})`);
        }
      };
      const bareOne = bareWork(t.integrity, t.encryption, size, keys);
      const bare = () => {
        for (let i = 0; i < BATCH; i++) bareOne();
      };
      for (let i = 0; i < 50; i++) {
        ours();
        bare();
      }
      const a: number[] = [];
      const b: number[] = [];
      for (let r = 0; r < rounds; r++) {
        a.push(timed(ours, ms));
        b.push(timed(bare, ms));
      }
      const pps = median(a);
      const barePps = median(b);
      results[key][String(size)] = { pps: Math.round(pps), bare_pps: Math.round(barePps), ratio_to_bare: Math.round((pps / barePps) * 100) / 100 };
    }
  }
  return { unit: 'packets/s (one seal + one open each)', ms, rounds, results };
}

/** Plain-text table of a result. */
export function formatEspBench(r: EspBenchResult): string {
  const lines = [`ESP seal+open, ${r.unit}; medians of ${r.rounds} alternating rounds of ${r.ms} ms`, ''];
  lines.push(`${'transform'.padEnd(28)} ${'bytes'.padStart(6)} ${'imsec pps'.padStart(11)} ${'bare pps'.padStart(11)} ${'ratio'.padStart(6)}`);
  for (const [t, bySize] of Object.entries(r.results)) {
    for (const [size, c] of Object.entries(bySize)) {
      lines.push(`${t.padEnd(28)} ${size.padStart(6)} ${String(c.pps).padStart(11)} ${String(c.bare_pps).padStart(11)} ${c.ratio_to_bare.toFixed(2).padStart(6)}`);
    }
  }
  return lines.join('\n') + '\n';
}

function positiveInts(v: string, what: string): number[] {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (!xs.length || xs.some((x) => !Number.isInteger(x) || x < 0 || x > 60000)) throw new InvalidArgumentError(`--${what} takes comma-separated integers 0..60000, got ${JSON.stringify(v)}`, what);
  return xs;
}

function positiveInt(v: string, what: string, max: number): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1 || x > max) throw new InvalidArgumentError(`--${what} takes an integer 1..${max}, got ${JSON.stringify(v)}`, what);
  return x;
}

export const espBench: BenchRegistrar = (bench) => {
  bench
    .command('esp')
    .description('ESP seal+open packets/s per transform and payload size, beside bare node:crypto doing the same crypto')
    .option('--json', 'print one JSON object')
    .option('--sizes <list>', 'payload sizes in bytes', DEFAULT_ESP_SIZES.join(','))
    .option('--transform <list>', 'only these alg/ealg pairs, e.g. hmac-sha-1-96/null')
    .option('--ms <n>', 'milliseconds per timed round', '150')
    .option('--rounds <n>', 'rounds per side', '5')
    .action((o: { json?: boolean; sizes: string; transform?: string; ms: string; rounds: string }) => {
      const r = runEspBench({
        sizes: positiveInts(o.sizes, 'sizes'),
        transforms: o.transform?.split(',').map((s) => s.trim()),
        ms: positiveInt(o.ms, 'ms', 60_000),
        rounds: positiveInt(o.rounds, 'rounds', 1000),
      });
      process.stdout.write(o.json ? JSON.stringify(r) + '\n' : formatEspBench(r));
    });
};
