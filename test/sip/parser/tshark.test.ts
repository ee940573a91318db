/**
 * Interop: Wireshark's SIP dissector (tshark, an independent decoder) reads what our serializer
 * writes the same way our typed accessors do, and finds nothing malformed in it. Inputs: every
 * RFC 4475 message our parser accepts, re-serialized, and the IMS registration corpus.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { needPeer } from '../../support/peers.js';
import { needShared } from '../../support/shared.js';
import { SIP_BENCH_CORPUS } from '../../../src/cli/bench-sip.js';
import { callIdOf, cseqOf, parseMessage, serializeMessage, viasOf, type SipMessage } from '../../../src/sip/index.js';

/** A classic pcap (LINKTYPE_RAW) of IPv4/UDP datagrams 192.0.2.1:5060 → 192.0.2.2:5060. */
function pcap(payloads: Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  const g = Buffer.alloc(24);
  g.writeUInt32LE(0xa1b2c3d4, 0);
  g.writeUInt16LE(2, 4);
  g.writeUInt16LE(4, 6);
  g.writeUInt32LE(65535, 16);
  g.writeUInt32LE(101, 20);
  parts.push(g);
  payloads.forEach((p, i) => {
    const udpLen = 8 + p.length;
    const ipLen = 20 + udpLen;
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(ipLen, 2);
    ip[8] = 64;
    ip[9] = 17;
    ip.set([192, 0, 2, 1], 12);
    ip.set([192, 0, 2, 2], 16);
    let sum = 0;
    for (let k = 0; k < 20; k += 2) sum += ip.readUInt16BE(k);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    ip.writeUInt16BE(~sum & 0xffff, 10);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(5060, 0);
    udp.writeUInt16BE(5060, 2);
    udp.writeUInt16BE(udpLen, 4);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000 + i, 0);
    rec.writeUInt32LE(ipLen, 8);
    rec.writeUInt32LE(ipLen, 12);
    parts.push(rec, ip, udp, Buffer.from(p));
  });
  return Buffer.concat(parts);
}

const FIELDS = ['sip.Method', 'sip.r-uri', 'sip.Status-Code', 'sip.Call-ID', 'sip.CSeq.seq', 'sip.CSeq.method', 'sip.Via.transport', '_ws.malformed', '_ws.expert.severity'];
/** Wireshark expert severities: note 0x400000, warning 0x600000, error 0x800000. */
const PI_WARN = 0x600000;

function tshark(payloads: Uint8Array[]): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-sip-'));
  try {
    const file = join(dir, 'sip.pcap');
    writeFileSync(file, pcap(payloads));
    const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', ...FIELDS.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A typed read, or undefined when the message's own header is malformed (RFC 4475 invalid cases). */
function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function inputs(torture: string): { name: string; msg: SipMessage; original?: Uint8Array }[] {
  const out: { name: string; msg: SipMessage; original?: Uint8Array }[] = [];
  for (const f of readdirSync(torture).filter((x) => x.endsWith('.dat')).sort()) {
    const original = new Uint8Array(readFileSync(join(torture, f)));
    const msg = safe(() => parseMessage(original));
    // Wireshark dissects only SIP/2.0 (badvers.dat's SIP/7.0 is not SIP to it).
    if (msg && msg.version === 'SIP/2.0') out.push({ name: f, msg, original });
  }
  for (const c of SIP_BENCH_CORPUS) out.push({ name: c.name, msg: parseMessage(Buffer.from(c.text)) });
  return out;
}

describe('interop: Wireshark SIP dissector', () => {
  test('tshark decodes our serialized messages like our accessors, with nothing malformed', (t) => {
    if (!needPeer(t, 'tshark')) return;
    const torture = needShared(t, 'rfc4475');
    if (torture === undefined) return;
    const all = inputs(torture);
    assert.ok(all.length >= 40, `${all.length} messages`);
    const rows = tshark(all.map((x) => serializeMessage(x.msg)));
    const originals = tshark(all.map((x) => x.original ?? serializeMessage(x.msg)));
    assert.equal(rows.length, all.length);
    const worst = (sev: string): number => Math.max(0, ...sev.split(',').filter(Boolean).map(Number));
    let compared = 0;
    all.forEach(({ name, msg, original }, i) => {
      const [method, ruri, status, callId, seq, seqMethod, transports, malformed, severities] = rows[i];
      // scalarlg.dat is malformed to Wireshark as sent; nothing else may become so.
      if (!original || originals[i][7] === '') assert.equal(malformed, '', `${name}: malformed`);
      // Never worse than the original bytes (some torture messages earn warnings of their own);
      // our own corpus earns none.
      const bound = original ? Math.max(worst(originals[i][8]), PI_WARN - 1) : PI_WARN - 1;
      assert.ok(worst(severities) <= bound, `${name}: expert severity ${worst(severities).toString(16)}`);
      if (msg.kind === 'request') {
        assert.equal(method, msg.method, name);
        assert.equal(ruri, msg.uri, name);
      } else {
        assert.equal(Number(status), msg.status, name);
      }
      const cid = safe(() => callIdOf(msg));
      if (cid !== undefined) assert.equal(callId, cid, `${name}: Call-ID`);
      const cs = safe(() => cseqOf(msg));
      if (cs !== undefined) {
        assert.equal(Number(seq), cs.seq, `${name}: CSeq number`);
        // Wireshark leaves a method with non-letter characters (intmeth.dat) undecoded.
        if (/^[A-Z]+$/.test(cs.method)) assert.equal(seqMethod, cs.method, `${name}: CSeq method`);
        else assert.ok(seqMethod === '' || seqMethod === cs.method, `${name}: CSeq method`);
      }
      const vias = safe(() => viasOf(msg));
      if (vias !== undefined) assert.equal(transports.split(',').filter(Boolean).length, vias.length, `${name}: Via count`);
      compared++;
    });
    assert.equal(compared, all.length);
  });
});
