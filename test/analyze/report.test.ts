/**
 * Output and bounds of `imsec analyze` (R-LAB-2): the HTML page escapes everything a capture
 * carries and loads nothing from elsewhere; the terminal report uses the demo's ladder; every
 * kept list is bounded so a capture of any size gives a bounded report.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Analyzer, DEFAULT_LADDER_LIMIT, FindingSink, formatReport, MAX_FINDINGS, reportHtml } from '../../src/analyze/index.js';
import { CaptureReader, IpReassembler, MAX_PENDING, MAX_STREAMS, PcapWriter, TcpReassembler } from '../../src/capture/index.js';
import { SeededRng } from '../../src/common/index.js';
import { encodeIpv4, encodeUdp, encodeUdpPacket } from '../../src/ip/index.js';
import { deriveEspKeys, EspSa } from '../../src/ipsec/esp/index.js';
import { buildRegistration, PCSCF, PORTS, UE } from './support.js';

function run(pcap: Uint8Array, opts: ConstructorParameters<typeof Analyzer>[0] = {}) {
  const a = new Analyzer(opts);
  const r = new CaptureReader();
  r.push(pcap, (f) => a.frame(f));
  r.end();
  return a.finish();
}

describe('reports', () => {
  test('[R-LAB-2] the HTML page escapes what the capture carries and is self-contained', () => {
    const evil = '<script>alert(1)</script>"\'&';
    const w = new PcapWriter();
    for (const p of [buildRegistration({ keysToUe: true })]) {
      const reader = new CaptureReader();
      reader.push(p.pcap, (f) => w.add(f.data, f.timestampMs));
    }
    w.add(encodeUdpPacket({ address: UE, port: PORTS.ue }, { address: PCSCF, port: PORTS.pcscf }, Buffer.from(`OPTIONS sip:${encodeURIComponent('x')}@ims.lab SIP/2.0\r\nVia: SIP/2.0/UDP ${UE}:${PORTS.ue};branch=z9hG4bKe\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: ${evil}\r\nCSeq: 1 OPTIONS\r\nP-Associated-URI: <sip:${evil}>\r\nContent-Length: 0\r\n\r\n`)), 1_700_000_005_000);
    const r = run(w.toBytes());
    const page = reportHtml(r);
    assert.ok(!page.includes('<script>'), 'no script element');
    assert.ok(!/\b(?:src|href)\s*=\s*["']?(?:https?:|\/\/)/i.test(page), 'no external resource');
    assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;'), 'the text is there, escaped');
    // Findings link to the ladder lines of their frames.
    const f = r.findings.find((x) => x.rule === 'aka.keys-to-ue')!;
    const line = r.ladder.find((l) => l.frames.includes(f.frames[0]))!;
    assert.ok(page.includes(`<a href="#m${line.n}">${f.frames[0]}</a>`));
    assert.ok(page.includes(`<tr id="m${line.n}">`));
  });

  test('[R-LAB-2] the terminal report: the demo\'s ladder style, findings with SPEC ID, clause and frames', () => {
    const r = run(buildRegistration({ bidDown: true }).pcap);
    const text = formatReport(r);
    assert.match(text, /UE 10\.0\.0\.2:31000 +⇒ P-CSCF 10\.0\.0\.1:6100 +REGISTER sip:ims\.lab +\[ESP spi 0x20004444 seq 1\]/);
    assert.match(text, /HSS 10\.0\.0\.4:3868 +→ S-CSCF 10\.0\.0\.3:40000 +Cx MAA +\[Diameter\/TCP\] DIAMETER_SUCCESS \(2001\) \[5,6\]/);
    assert.match(text, /F1 error +R-SM-4 secagree\.verify-mismatch {2}frames 8\n {5}Security-Verify differs from Security-Server/);
    assert.match(text, /RFC 3329 §2\.3\.1; TS 33\.203 §7\.2/);
  });
});

describe('ESP in UDP (RFC 3948)', () => {
  test('[R-SA-1] UDP-encapsulated ESP on port 4500 opens with a given key and shows the SIP inside', () => {
    const keys = deriveEspKeys('hmac-md5-96', 'null', new Uint8Array(16).fill(7), new Uint8Array(16).fill(8));
    const sa = new EspSa({ spi: 0x4500, integrity: 'hmac-md5-96', encryption: 'null', keys });
    const sipText = Buffer.from(`OPTIONS sip:p@ims.lab SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:31000;branch=z9hG4bKn\r\nFrom: <sip:a@ims.lab>;tag=1\r\nTo: <sip:p@ims.lab>\r\nCall-ID: natt\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
    const inner = encodeUdp(31000, 6100, sipText, { src: '10.0.0.2', dst: '10.0.0.1' });
    const esp = sa.seal(inner, 17, new SeededRng('natt'));
    const pcap = new PcapWriter().add(encodeUdpPacket({ address: '10.0.0.2', port: 4500 }, { address: '10.0.0.1', port: 4500 }, esp), 1_700_000_000_000).toBytes();
    const r = run(pcap, { keys: [{ src: '*', dst: '10.0.0.1', spi: 0x4500, integrity: 'hmac-md5-96', encryption: 'null', keys }] });
    assert.equal(r.summary.esp.verified, 1);
    assert.deepEqual(r.ladder.map((l) => [l.summary, l.esp?.spi]), [['OPTIONS sip:p@ims.lab', 0x4500]]);
  });
});

describe('bounded state (memory stays flat)', () => {
  test('[R-LAB-2] ladder, findings, TCP streams and IP fragments are bounded', () => {
    // The ladder keeps DEFAULT_LADDER_LIMIT lines and counts the rest.
    const r = run(buildRegistration().pcap, { ladderLimit: 4 });
    assert.equal(r.ladder.length, 4);
    assert.equal(r.ladderOmitted, r.summary.sip + r.summary.diameter - 4);
    assert.ok(DEFAULT_LADDER_LIMIT >= 1000);
    // Findings stop at MAX_FINDINGS; repeats of one subject merge.
    const sink = new FindingSink();
    for (let i = 0; i < MAX_FINDINGS + 10; i++) sink.add({ rule: 'esp.icv', severity: 'error', spec: 'R-FAIL-1', clause: 'x', frames: [i], message: 'm' });
    for (let i = 0; i < 10; i++) sink.add({ rule: 'esp.replay', severity: 'error', spec: 'R-SA-8', clause: 'x', frames: [i], message: 'm', subject: 's' });
    assert.equal(sink.finish().length, MAX_FINDINGS);
    assert.equal(sink.dropped, 20);
    // TCP streams beyond MAX_STREAMS push out the oldest.
    const tcp = new TcpReassembler();
    for (let i = 0; i < MAX_STREAMS + 5; i++) tcp.push(`s${i}`, { seq: 1, flags: 0x10, payload: new Uint8Array(1), frame: i });
    assert.equal(tcp.streamCount, MAX_STREAMS);
    assert.equal(tcp.evicted, 5);
    // Datagrams waiting for fragments beyond MAX_PENDING are dropped, oldest first.
    const ip = new IpReassembler();
    for (let i = 0; i < MAX_PENDING + 3; i++) {
      const f = encodeIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, id: i }, new Uint8Array(16));
      f[6] = 0x20; // MF, offset 0
      ip.push(f, 0, i + 1);
    }
    assert.equal(ip.pendingCount, MAX_PENDING);
    assert.equal(ip.dropped, 3);
  });
});
