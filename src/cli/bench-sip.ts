/**
 * `imsec bench sip [--json]`: parse and serialize of realistic IMS registration messages
 * (TS 24.229 §5.1.1.2 flow: initial REGISTER with Security-Client, 401 with the AKA
 * challenge and Security-Server, protected REGISTER with Authorization and Security-Verify,
 * 200 OK with Path, Service-Route and P-Associated-URI), side by side with the parser of the
 * npm package `sip` 0.0.6 (`require('sip').parse`), measured in the same run. That baseline is a
 * development dependency: it is loaded only when this benchmark runs, and its absence (an
 * installed package without dev dependencies) gives one clear line, not a module error.
 */
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import { measureRate, type BenchRegistrar } from './bench.js';
import { CliFailure } from './errors.js';
import { parseMessage, serializeMessage, topVia, cseqOf, callIdOf, fromTag, type SipMessage } from '../sip/index.js';

const REGISTER_1 = [
  'REGISTER sip:ims.mnc001.mcc001.3gppnetwork.org SIP/2.0',
  'Via: SIP/2.0/UDP [2001:db8:0:1::5]:5060;branch=z9hG4bK4f2a7c1e9b;rport',
  'Max-Forwards: 70',
  'From: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>;tag=3261803470',
  'To: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>',
  'Call-ID: 1c2a6b3e-7f90-4d1c-9b8e-5f0e2d4a7c11@2001:db8:0:1::5',
  'CSeq: 1 REGISTER',
  'Contact: <sip:001010000000001@[2001:db8:0:1::5]:5060>;+sip.instance="<urn:gsma:imei:35345606-123456-0>";+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel";+g.3gpp.smsip;expires=600000',
  'Expires: 600000',
  'Supported: path, gruu, sec-agree',
  'Require: sec-agree',
  'Proxy-Require: sec-agree',
  'Allow: INVITE, ACK, CANCEL, BYE, UPDATE, PRACK, MESSAGE, OPTIONS, NOTIFY, REFER, INFO',
  'Authorization: Digest username="001010000000001@ims.mnc001.mcc001.3gppnetwork.org",realm="ims.mnc001.mcc001.3gppnetwork.org",uri="sip:ims.mnc001.mcc001.3gppnetwork.org",nonce="",response="",algorithm=AKAv1-MD5',
  'Security-Client: ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;mod=trans;port-c=49420;port-s=49421;prot=esp;spi-c=3929102;spi-s=3929103, ipsec-3gpp;alg=hmac-md5-96;ealg=null;mod=trans;port-c=49420;port-s=49421;prot=esp;spi-c=3929102;spi-s=3929103',
  'P-Access-Network-Info: 3GPP-E-UTRAN-FDD;utran-cell-id-3gpp=0010100010019B01',
  'User-Agent: Example-UE/1.0 IMS',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

const CHALLENGE_401 = [
  'SIP/2.0 401 Unauthorized',
  'Via: SIP/2.0/UDP [2001:db8:0:1::5]:5060;received=2001:db8:0:1::5;rport=5060;branch=z9hG4bK4f2a7c1e9b',
  'From: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>;tag=3261803470',
  'To: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>;tag=b7a2f3c9d1',
  'Call-ID: 1c2a6b3e-7f90-4d1c-9b8e-5f0e2d4a7c11@2001:db8:0:1::5',
  'CSeq: 1 REGISTER',
  'WWW-Authenticate: Digest realm="ims.mnc001.mcc001.3gppnetwork.org",nonce="O7tK3bN3Jm2r0KzCNoG2gjTKj8pYq5EAAE0wK1L9fcxVIvKyfN8D4Lz5uA==",algorithm=AKAv1-MD5,qop="auth",opaque="6f70617175654f7061717565"',
  'Security-Server: ipsec-3gpp;q=0.1;prot=esp;mod=trans;spi-c=8001;spi-s=8002;port-c=5064;port-s=5066;alg=hmac-sha-1-96;ealg=aes-cbc',
  'Server: Example-PCSCF/1.0',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

const REGISTER_2 = [
  'REGISTER sip:ims.mnc001.mcc001.3gppnetwork.org SIP/2.0',
  'Via: SIP/2.0/UDP [2001:db8:0:1::5]:49421;branch=z9hG4bK8a1d5e3f7c;rport',
  'Max-Forwards: 70',
  'From: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>;tag=3261803470',
  'To: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>',
  'Call-ID: 1c2a6b3e-7f90-4d1c-9b8e-5f0e2d4a7c11@2001:db8:0:1::5',
  'CSeq: 2 REGISTER',
  'Contact: <sip:001010000000001@[2001:db8:0:1::5]:49421>;+sip.instance="<urn:gsma:imei:35345606-123456-0>";+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel";+g.3gpp.smsip;expires=600000',
  'Expires: 600000',
  'Supported: path, gruu, sec-agree',
  'Require: sec-agree',
  'Proxy-Require: sec-agree',
  'Allow: INVITE, ACK, CANCEL, BYE, UPDATE, PRACK, MESSAGE, OPTIONS, NOTIFY, REFER, INFO',
  'Authorization: Digest username="001010000000001@ims.mnc001.mcc001.3gppnetwork.org",realm="ims.mnc001.mcc001.3gppnetwork.org",uri="sip:ims.mnc001.mcc001.3gppnetwork.org",nonce="O7tK3bN3Jm2r0KzCNoG2gjTKj8pYq5EAAE0wK1L9fcxVIvKyfN8D4Lz5uA==",response="a3b4c5d6e7f8091a2b3c4d5e6f708192",algorithm=AKAv1-MD5,cnonce="0a4f113b",nc=00000001,qop=auth,opaque="6f70617175654f7061717565"',
  'Security-Client: ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;mod=trans;port-c=49420;port-s=49421;prot=esp;spi-c=3929102;spi-s=3929103, ipsec-3gpp;alg=hmac-md5-96;ealg=null;mod=trans;port-c=49420;port-s=49421;prot=esp;spi-c=3929102;spi-s=3929103',
  'Security-Verify: ipsec-3gpp;q=0.1;prot=esp;mod=trans;spi-c=8001;spi-s=8002;port-c=5064;port-s=5066;alg=hmac-sha-1-96;ealg=aes-cbc',
  'P-Access-Network-Info: 3GPP-E-UTRAN-FDD;utran-cell-id-3gpp=0010100010019B01',
  'User-Agent: Example-UE/1.0 IMS',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

const OK_200 = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP [2001:db8:0:1::5]:49421;received=2001:db8:0:1::5;rport=49421;branch=z9hG4bK8a1d5e3f7c',
  'Path: <sip:term@pcscf.ims.mnc001.mcc001.3gppnetwork.org:5060;lr>',
  'Service-Route: <sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr>',
  'From: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>;tag=3261803470',
  'To: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>;tag=c4e81a90f2',
  'Call-ID: 1c2a6b3e-7f90-4d1c-9b8e-5f0e2d4a7c11@2001:db8:0:1::5',
  'CSeq: 2 REGISTER',
  'Contact: <sip:001010000000001@[2001:db8:0:1::5]:49421>;expires=600000;+sip.instance="<urn:gsma:imei:35345606-123456-0>";+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"',
  'P-Associated-URI: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>, <sip:+15551234567@ims.mnc001.mcc001.3gppnetwork.org>, <tel:+15551234567>',
  'P-Charging-Function-Addresses: ccf=pcrf.ims.mnc001.mcc001.3gppnetwork.org',
  'P-Charging-Vector: icid-value="5f3a9c1e-2b7d";orig-ioi=ims.mnc001.mcc001.3gppnetwork.org;term-ioi=ims.mnc001.mcc001.3gppnetwork.org',
  'Expires: 600000',
  'Server: Example-SCSCF/1.0',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

/** The benchmark corpus: the four messages of an IMS AKA registration. */
export const SIP_BENCH_CORPUS: readonly { name: string; text: string }[] = [
  { name: 'REGISTER (initial)', text: REGISTER_1 },
  { name: '401 (AKA challenge)', text: CHALLENGE_401 },
  { name: 'REGISTER (protected)', text: REGISTER_2 },
  { name: '200 OK (registered)', text: OK_200 },
];

export interface SipBenchResult {
  /** parseMessage over the corpus, messages per second. */
  parse_per_s: number;
  /** parseMessage plus the typed reads a transaction layer makes (top Via, CSeq, Call-ID, From tag). */
  parse_access_per_s: number;
  /** serializeMessage, messages per second. */
  serialize_per_s: number;
  /** sip@0.0.6 parse (of a ready string) over the same corpus, messages per second. */
  baseline_parse_per_s: number;
  /** sip@0.0.6 stringify, messages per second. */
  baseline_serialize_per_s: number;
  /** parse_per_s / baseline_parse_per_s. */
  ratio: number;
  serialize_ratio: number;
  parse_mb_per_s: number;
  serialize_mb_per_s: number;
  /** parseMessage of the initial REGISTER alone, per second. */
  register_parse_per_s: number;
  corpus_messages: number;
  corpus_bytes: number;
  node: string;
}

export interface SipJs {
  parse(s: string): unknown;
  stringify(m: unknown): string;
}

/** The baseline parser, the npm package `sip` (a dev dependency), loaded when the benchmark runs. */
export function loadSipBaseline(load: (id: string) => unknown = createRequire(import.meta.url)): SipJs {
  try {
    return load('sip') as SipJs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    throw new CliFailure('bench sip: its baseline, the npm package sip@0.0.6 (a development dependency), is not installed; install it with `npm install --no-save sip@0.0.6`, or run from a checkout after `npm ci`');
  }
}

/** Runs the comparison; `ms` per round, median of `rounds`. */
export function runSipBench(opts: { ms?: number; rounds?: number } = {}): SipBenchResult {
  const m = { ms: opts.ms ?? 400, rounds: opts.rounds ?? 5 };
  const bytes = SIP_BENCH_CORPUS.map((c) => new Uint8Array(Buffer.from(c.text, 'utf8')));
  const strings = SIP_BENCH_CORPUS.map((c) => c.text);
  const totalBytes = bytes.reduce((a, b) => a + b.length, 0);
  const n = bytes.length;
  const parsed: SipMessage[] = bytes.map((b) => parseMessage(b));
  const sipjs = loadSipBaseline();
  const theirs = strings.map((s) => sipjs.parse(s));
  if (theirs.some((x) => !x)) throw new Error('the baseline parser rejected the corpus');
  let sink = 0;

  const parse = measureRate(() => {
    for (let i = 0; i < n; i++) sink += parseMessage(bytes[i]).headers.size;
  }, n, m);
  const access = measureRate(() => {
    for (let i = 0; i < n; i++) {
      const msg = parseMessage(bytes[i]);
      sink += topVia(msg)!.host.length + cseqOf(msg)!.seq + callIdOf(msg)!.length + (fromTag(msg)?.length ?? 0);
    }
  }, n, m);
  const serialize = measureRate(() => {
    for (let i = 0; i < n; i++) sink += serializeMessage(parsed[i]).length;
  }, n, m);
  const baseline = measureRate(() => {
    for (let i = 0; i < n; i++) sink += sipjs.parse(strings[i]) ? 1 : 0;
  }, n, m);
  const baselineSer = measureRate(() => {
    for (let i = 0; i < n; i++) sink += sipjs.stringify(theirs[i]).length;
  }, n, m);
  const reg = measureRate(() => {
    sink += parseMessage(bytes[0]).headers.size;
  }, 1, m);
  if (sink === -1) process.stdout.write('');
  const avg = totalBytes / n;
  return {
    parse_per_s: Math.round(parse),
    parse_access_per_s: Math.round(access),
    serialize_per_s: Math.round(serialize),
    baseline_parse_per_s: Math.round(baseline),
    baseline_serialize_per_s: Math.round(baselineSer),
    ratio: +(parse / baseline).toFixed(2),
    serialize_ratio: +(serialize / baselineSer).toFixed(2),
    parse_mb_per_s: +((parse * avg) / 1e6).toFixed(1),
    serialize_mb_per_s: +((serialize * avg) / 1e6).toFixed(1),
    register_parse_per_s: Math.round(reg),
    corpus_messages: n,
    corpus_bytes: totalBytes,
    node: process.version,
  };
}

export function printSipBench(r: SipBenchResult, write: (s: string) => void): void {
  const f = (x: number): string => x.toLocaleString('en-US');
  write(`SIP parse/serialize, ${r.corpus_messages} IMS registration messages (${r.corpus_bytes} bytes), median rates, ${r.node}\n`);
  write(`  parse (imsec)            ${f(r.parse_per_s)} msg/s  ${r.parse_mb_per_s} MB/s\n`);
  write(`  parse + typed reads      ${f(r.parse_access_per_s)} msg/s\n`);
  write(`  parse (sip@0.0.6)        ${f(r.baseline_parse_per_s)} msg/s  ratio ${r.ratio}x\n`);
  write(`  serialize (imsec)        ${f(r.serialize_per_s)} msg/s  ${r.serialize_mb_per_s} MB/s\n`);
  write(`  stringify (sip@0.0.6)    ${f(r.baseline_serialize_per_s)} msg/s  ratio ${r.serialize_ratio}x\n`);
  write(`  REGISTER parse alone     ${f(r.register_parse_per_s)} msg/s\n`);
}

export const sipBench: BenchRegistrar = (bench: Command) => {
  bench
    .command('sip')
    .description('SIP parse/serialize of IMS registration messages vs the npm sip@0.0.6 parser')
    .option('--json', 'print one JSON object')
    .option('--ms <n>', 'milliseconds per round', '400')
    .action((o: { json?: boolean; ms: string }) => {
      const r = runSipBench({ ms: Math.max(50, Number(o.ms) || 400) });
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else printSipBench(r, (s) => process.stdout.write(s));
    });
};
