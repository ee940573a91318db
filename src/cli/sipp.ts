/**
 * SIPp 3.6 (INTEROP.md) as a crowd of IMS UEs registering with Digest AKAv1-MD5 — the scenario,
 * the injection CSV, the run, and the HSS-side RAND filter SIPp needs — shared by `bench register`,
 * `bench scscf`, `bench scscf-memory` and the S-CSCF interop tests.
 *
 * SIPp facts this relies on (INTEROP.md): `[authentication username=… aka_K=… aka_OP=… aka_AMF=…]`
 * computes RES from the 401's nonce with OP (not OPc) and needs the AMF of AUTN; every key byte is
 * written `\\xNN` (two backslashes) inside the quotes; SIPp takes RES with strlen, so a RES with a
 * 0x00 byte gives a wrong response — {@link resWithoutZeroRng} keeps such RANDs away; SIPp exits 0
 * when every call passed.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { Milenage } from '../auth/index.js';
import { cryptoRng, type Rng } from '../common/index.js';

/** Writes key bytes for a SIPp [authentication] value: `\\xNN` per byte. */
export function sippKeyBytes(hex: string): string {
  return hex.replace(/../g, '\\\\x$&');
}

export interface SippRegisterScenario {
  /** Home domain: realm, Request-URI, identities `sip:<user>@<domain>`, IMPI `<user>@<domain>`. */
  domain: string;
  k: string;
  op: string;
  amf: string;
  expires?: number;
  /** A pause between the 401 and the second REGISTER, ms (the UE's think time; default none). */
  pauseMs?: number;
}

/**
 * An IMS AKA registration as one SIPp call: REGISTER (with the TS 24.229 initial Authorization,
 * nonce="" response="") → 401 → REGISTER with the AKAv1-MD5 response → 200. The user name is
 * `[field0]` of the injection file.
 */
export function sippRegisterScenario(s: SippRegisterScenario): string {
  const user = '[field0]';
  const register = (cseq: number, auth: string): string => `
  <send retrans="500"><![CDATA[
      REGISTER sip:${s.domain} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:${user}@${s.domain}>;tag=[call_number]
      To: <sip:${user}@${s.domain}>
      Call-ID: [call_id]
      CSeq: ${cseq} REGISTER
      Contact: <sip:${user}@[local_ip]:[local_port]>
      ${auth}
      Max-Forwards: 70
      Expires: ${s.expires ?? 600}
      Content-Length: 0

    ]]></send>`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="ims-aka-register">${register(1, `Authorization: Digest username="${user}@${s.domain}", realm="${s.domain}", nonce="", uri="sip:${s.domain}", response=""`)}
  <recv response="100" optional="true"/>
  <recv response="401" auth="true"/>${s.pauseMs ? `\n  <pause milliseconds="${s.pauseMs}"/>` : ''}${register(2, `[authentication username="${user}@${s.domain}" aka_K="${sippKeyBytes(s.k)}" aka_OP="${sippKeyBytes(s.op)}" aka_AMF="${sippKeyBytes(s.amf)}"]`)}
  <recv response="100" optional="true"/>
  <recv response="200"/>
</scenario>
`;
}

/** A SIPp injection file: one user name per line, used in order. */
export function sippUsersCsv(users: readonly string[]): string {
  return `SEQUENTIAL\n${users.map((u) => `${u};`).join('\n')}\n`;
}

/**
 * An Rng for the HSS whose 16-byte draws (RANDs) never give a RES with a 0x00 byte for this
 * K/OPc (SIPp computes RES with strlen). A test and benchmark hook only: it biases RAND.
 */
export function resWithoutZeroRng(k: Uint8Array, opc: Uint8Array, base: Rng = cryptoRng): Rng & { skipped: number } {
  const m = new Milenage(k, opc);
  const rng = {
    skipped: 0,
    bytes(n: number): Uint8Array {
      if (n !== 16) return base.bytes(n);
      for (;;) {
        const rand = base.bytes(16);
        if (!m.f2345(rand).res.includes(0)) return rand;
        rng.skipped++;
      }
    },
  };
  return rng;
}

/**
 * A free UDP port on 127.0.0.1 right now (SIPp would take 5060 otherwise). Bound and released:
 * SIPp is another program and cannot be handed a socket, so it gets a number.
 */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface SippRun {
  /** SIPp's exit code (0: every call passed). */
  code: number | null;
  successful: number;
  failed: number;
  /** SIP retransmissions SIPp had to send (answers slower than 500 ms). */
  retransmissions: number;
  /** Mean registration time (REGISTER sent → 200 received), ms. */
  avgCallMs: number;
  /** Wall time of the run, s. */
  seconds: number;
  stderr: string;
}

export interface SippRunOptions {
  /** Directory holding scenario.xml and users.csv; SIPp writes its files there. */
  dir: string;
  target: { address: string; port: number };
  calls: number;
  /** Calls per second (SIPp -r). */
  rate?: number;
  /** Simultaneous calls at most (SIPp -l). */
  limit?: number;
  timeoutSeconds?: number;
  /**
   * SIPp's local UDP port (default: a free one). A bench that runs SIPp again and again over the
   * same users gives every run the same port: the scenario's Contact carries it, so each run then
   * refreshes the users' one binding (RFC 3261 §10.3 step 7) instead of adding one more, up to the
   * registrar's cap on contacts per registration.
   */
  localPort?: number;
}

/** `HH:MM:SS:uuuuuu` (SIPp's CallLength) in ms. */
function sippDuration(v: string | undefined): number {
  const m = /^(\d+):(\d+):(\d+):(\d+)$/.exec(v ?? '');
  return m === null ? Number.NaN : ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]) / 1000;
}

/** The cumulative counters of the last line of SIPp's -trace_stat file. */
function lastStat(file: string): { successful: number; failed: number; retransmissions: number; avgCallMs: number } {
  try {
    const lines = readFileSync(file, 'latin1').trim().split('\n');
    const head = lines[0].split(';');
    const last = lines[lines.length - 1].split(';');
    const raw = (name: string): string | undefined => last[head.indexOf(name)];
    return { successful: Number(raw('SuccessfulCall(C)')), failed: Number(raw('FailedCall(C)')), retransmissions: Number(raw('Retransmissions(C)')), avgCallMs: sippDuration(raw('CallLength(C)')) };
  } catch {
    return { successful: Number.NaN, failed: Number.NaN, retransmissions: Number.NaN, avgCallMs: Number.NaN };
  }
}

/** Runs SIPp (`-sf scenario.xml -inf users.csv -trace_stat`) to completion. */
export async function runSipp(o: SippRunOptions): Promise<SippRun> {
  const port = o.localPort ?? (await freeUdpPort());
  const args = [
    `${o.target.address}:${o.target.port}`, '-sf', 'scenario.xml', '-inf', 'users.csv', '-i', '127.0.0.1', '-p', String(port),
    '-m', String(o.calls), '-r', String(o.rate ?? 10), '-l', String(o.limit ?? Math.max(50, (o.rate ?? 10) * 4)),
    '-nostdin', '-timeout', `${o.timeoutSeconds ?? 60}s`, '-timeout_error', '-recv_timeout', '10000',
    '-trace_stat', '-stf', 'stats.csv', '-fd', '1', '-trace_err', '-error_file', 'errors.log',
  ];
  const start = process.hrtime.bigint();
  let stderr = '';
  const code = await new Promise<number | null>((resolve) => {
    const p = spawn('sipp', args, { cwd: o.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString();
    });
    p.on('error', () => resolve(null));
    p.on('exit', (c) => resolve(c));
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { code, ...lastStat(`${o.dir}/stats.csv`), seconds, stderr };
}

// ------------------------------------------------------------------------------------------
// The benchmark

/** TS 35.208 test set 1 K and OP for every benchmark user (SIPp needs OP), AMF 8000. */
