/**
 * `imsec bench secagree`: RFC 3329 Security-* header work per second (src/secagree) on a real
 * commercial UE offer (six `ipsec-3gpp` mechanisms, open5gs#564): parse, format, the P-CSCF's
 * choice plus Security-Server, and the Security-Verify check.
 */
import {
  buildSecurityServer,
  checkSecurityVerify,
  choosePcscfMechanism,
  formatSecurityMechanisms,
  parseSecurityMechanisms,
} from '../secagree/index.js';
import { measureRate, type BenchRegistrar } from './bench.js';

/** The Security-Client of a commercial UE's first REGISTER (../shared/vectors/sec_agree_examples.txt). */
export const COMMERCIAL_OFFER = [
  ['hmac-md5-96', 'des-ede3-cbc'],
  ['hmac-md5-96', 'aes-cbc'],
  ['hmac-md5-96', 'null'],
  ['hmac-sha-1-96', 'des-ede3-cbc'],
  ['hmac-sha-1-96', 'aes-cbc'],
  ['hmac-sha-1-96', 'null'],
]
  .map(([a, e]) => `ipsec-3gpp;prot=esp;mod=trans;spi-c=75245;spi-s=75246;port-c=6301;port-s=6300;alg=${a};ealg=${e}`)
  .join(', ');

export interface SecAgreeBenchResult {
  unit: 'ops/s';
  parse: number;
  format: number;
  choose: number;
  verify: number;
}

export function runSecAgreeBench(opts: { ms?: number; rounds?: number } = {}): SecAgreeBenchResult {
  const batch = 100;
  const parsed = parseSecurityMechanisms(COMMERCIAL_OFFER);
  const pcscf = { spiC: 0x1001, spiS: 0x1002, portC: 20000, portS: 20001 };
  const sel = choosePcscfMechanism(parsed);
  if (!sel.ok) throw new Error('benchmark offer not acceptable');
  const server = buildSecurityServer(sel, pcscf);
  const verify = parseSecurityMechanisms(formatSecurityMechanisms(server));
  const loop = (f: () => void) => () => {
    for (let i = 0; i < batch; i++) f();
  };
  return {
    unit: 'ops/s',
    parse: measureRate(loop(() => parseSecurityMechanisms(COMMERCIAL_OFFER)), batch, opts),
    format: measureRate(loop(() => formatSecurityMechanisms(parsed)), batch, opts),
    choose: measureRate(
      loop(() => {
        const s = choosePcscfMechanism(parsed);
        if (s.ok) buildSecurityServer(s, pcscf);
      }),
      batch,
      opts,
    ),
    verify: measureRate(loop(() => checkSecurityVerify(server, verify)), batch, opts),
  };
}

export const secagreeBench: BenchRegistrar = (bench) => {
  bench
    .command('secagree')
    .description('RFC 3329 Security-Client parse/format, P-CSCF choice and Security-Verify check per second')
    .option('--json', 'print one JSON object')
    .action((o: { json?: boolean }) => {
      const r = runSecAgreeBench();
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else for (const k of ['parse', 'format', 'choose', 'verify'] as const) process.stdout.write(`${k.padEnd(8)} ${Math.round(r[k]).toLocaleString('en-US')} ops/s\n`);
    });
};
