/**
 * `imsec bench thig`: I-CSCF topology hiding per second (R-HIDE-1, src/nodes/icscf/thig.ts) on an
 * INVITE leaving the network with three home Vias (over two fields) and two home Record-Route
 * entries: hide (two AES-128-CBC + HMAC-SHA-256 tokens, random IVs), reveal (verify, decrypt,
 * restore), and the bare token seal/open of one Via run.
 */
import { cryptoRng } from '../common/index.js';
import { NetworkMatcher, hideTopology, revealTopology, type ThigPolicy, openThigToken, sealThigToken, ThigKey } from '../nodes/icscf/index.js';
import { parseMessage, type SipRequest } from '../sip/index.js';
import { measureRate, type BenchRegistrar } from './bench.js';

export const THIG_BENCH_MESSAGE = [
  'INVITE sip:bob@other.lab SIP/2.0',
  'Via: SIP/2.0/UDP scscf.ims.lab:6060;branch=z9hG4bK-s-1a2b3c, SIP/2.0/TCP pcscf.ims.lab:5060;branch=z9hG4bK-p-4d5e6f;rport=5060;received=10.0.0.7',
  'Via: SIP/2.0/UDP ue.ims.lab:5060;branch=z9hG4bK-u-7a8b9c',
  'Record-Route: <sip:scscf.ims.lab:6060;lr>, <sip:pcscf.ims.lab:5060;lr>',
  'From: <sip:alice@ims.lab>;tag=a1',
  'To: <sip:bob@other.lab>',
  'Call-ID: thig-bench-1',
  'CSeq: 1 INVITE',
  'Max-Forwards: 68',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

export interface ThigBenchResult {
  unit: 'ops/s';
  hide: number;
  reveal: number;
  seal: number;
  open: number;
}

export function runThigBench(opts: { ms?: number; rounds?: number } = {}): ThigBenchResult {
  const batch = 100;
  const home = new NetworkMatcher({ domains: ['ims.lab'] });
  const policy: ThigPolicy = { key: new ThigKey(cryptoRng.bytes(16)), domain: 'ims.lab', domains: ['ims.lab'], host: 'ims.lab', isHome: (h, p) => home.has(h, p) };
  const msg = parseMessage(new TextEncoder().encode(THIG_BENCH_MESSAGE)) as SipRequest;
  const hidden = hideTopology(msg, policy, cryptoRng).msg;
  const run = { header: 'via' as const, reverseInRoute: false, text: msg.headers.getLines('via').join(', ') };
  const token = sealThigToken(policy.key, cryptoRng, 'ims.lab', run);
  const loop = (f: () => void) => () => {
    for (let i = 0; i < batch; i++) f();
  };
  return {
    unit: 'ops/s',
    hide: measureRate(loop(() => hideTopology(msg, policy, cryptoRng)), batch, opts),
    reveal: measureRate(loop(() => revealTopology(hidden, policy)), batch, opts),
    seal: measureRate(loop(() => sealThigToken(policy.key, cryptoRng, 'ims.lab', run)), batch, opts),
    open: measureRate(loop(() => openThigToken(policy.key, 'ims.lab', 'via', token)), batch, opts),
  };
}

export function formatThigBench(r: ThigBenchResult): string {
  return (['hide', 'reveal', 'seal', 'open'] as const).map((k) => `${k.padEnd(7)} ${Math.round(r[k]).toLocaleString('en-US')} ops/s\n`).join('');
}

export const thigBench: BenchRegistrar = (bench) => {
  bench
    .command('thig')
    .description('I-CSCF topology hiding: hide/reveal of an outgoing INVITE and THIG token seal/open per second')
    .option('--json', 'print one JSON object')
    .action((o: { json?: boolean }) => {
      const r = runThigBench();
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatThigBench(r));
    });
};
