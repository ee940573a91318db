/**
 * The real Samsung/Kamailio capture (../shared/vectors/real/pcap, see its README): decoded with no
 * keys given, every ESP packet verified from the MAA's IK (TS 33.203 Annex I), every SIP message
 * inside shown, and the real breaches found with their frames. tshark 4.0 is the independent
 * check: it verifies the ICVs with the keys we export, and finds the same clear SIP on the
 * protected ports.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { Analyzer, type AnalysisReport } from '../../src/analyze/index.js';
import { readCaptureFile, TSHARK_ESP_PREFS } from '../../src/capture/index.js';
import { needPeer } from '../support/peers.js';
import { cliPath } from '../support/paths.js';
import { needShared } from '../support/shared.js';

function analyzeFile(path: string): { r: AnalysisReport; exported: string[] } {
  const a = new Analyzer();
  const got = readCaptureFile(path, (f) => a.frame(f));
  a.capture(path, got.frames, got.bytes);
  return { r: a.finish(), exported: a.exportLines() };
}

function tshark(args: string[]): string[] {
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

function withKeys(t: TestContext, lines: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-analyze-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'k'), lines.join('\n'));
  return [...TSHARK_ESP_PREFS, ...lines.flatMap((l) => ['-o', `uat:esp_sa:${l}`])];
}

const md5 = (...parts: (string | Uint8Array)[]) => {
  const h = createHash('md5');
  parts.forEach((p, i) => {
    if (i) h.update(':');
    h.update(p);
  });
  return h.digest('hex');
};

describe('open5gs ipsec_reg.pcapng (Samsung SM-T515, Kamailio, SLL, GTP-U, ESP transport hmac-md5-96/null)', () => {
  test('[R-LAB-2][R-SA-2] decodes fully with no keys: all ESP verified from the MAA IK, all SIP inside shown; tshark agrees', (t) => {
    const path = needShared(t, 'real', 'pcap', 'open5gs_ipsec_reg.pcapng');
    if (!path || !needPeer(t, 'tshark')) return;
    const { r, exported } = analyzeFile(path);
    assert.equal(r.summary.frames, 1071);
    assert.equal(r.summary.problems, 0);
    assert.equal(r.keys.sasDerived, 4);
    assert.equal(r.summary.esp.packets, 14, 'distinct ESP packets (GTP-U and decapsulated copies merged)');
    assert.equal(r.summary.esp.verified, 14);
    assert.equal(r.saSets.length, 1);
    assert.equal(r.saSets[0].keySource, 'maa');
    // tshark, keyed only with what we exported, finds every ESP frame's ICV good.
    const opts = withKeys(t, exported);
    const esp = tshark(['-r', path, ...opts, '-d', 'tcp.port==6100,sip', '-Y', 'esp', '-T', 'fields', '-e', 'frame.number', '-e', 'esp.icv_good', '-e', 'sip.Method', '-e', 'sip.Status-Code']);
    assert.ok(esp.length >= 40);
    for (const l of esp) assert.equal(l.split('\t')[1], '1', `tshark ICV of frame ${l}`);
    // Every SIP message tshark decodes inside ESP is on our ladder as protected, and vice versa.
    const theirs = new Set(esp.map((l) => l.split('\t')).filter((f) => f[2] || f[3]).map((f) => f[2] || f[3]));
    const ours = r.ladder.filter((l) => l.esp);
    assert.deepEqual(new Set(ours.map((l) => l.sip?.method ?? String(l.sip?.status))), theirs);
    // Our frames of a message are its ESP frames, plus the IP fragments an ESP packet came in.
    const espFrames = new Set(esp.map((l) => Number(l.split('\t')[0])));
    const fragments = new Set(tshark(['-r', path, '-Y', 'ip.flags.mf==1', '-T', 'fields', '-e', 'frame.number']).map(Number));
    for (const l of ours) for (const f of l.frames) assert.ok(espFrames.has(f) || fragments.has(f), `frame ${f} of ${l.summary} is ESP or an IP fragment for tshark`);
    assert.deepEqual(ours.map((l) => l.summary.split(' ')[0]), ['REGISTER', '100', '200', 'SUBSCRIBE', '200', 'NOTIFY']);
  });

  test('[R-SA-5] the real port-rule breaches: clear SIP on the protected ports, frames checked with tshark', (t) => {
    const path = needShared(t, 'real', 'pcap', 'open5gs_ipsec_reg.pcapng');
    if (!path || !needPeer(t, 'tshark')) return;
    const { r } = analyzeFile(path);
    const breaches = r.findings.filter((f) => f.rule === 'port.clear-on-protected');
    assert.ok(breaches.length >= 2);
    assert.deepEqual(breaches.map((f) => f.frames), [
      [698, 699, 700],
      [943, 944, 945],
      [953, 954, 955],
    ]);
    // tshark: SIP not inside ESP between the UE and the P-CSCF touching a protected port of the set.
    const s = r.saSets[0];
    const ue = `(udp.port==${s.uc} || udp.port==${s.us})`;
    const pc = `(udp.port==${s.pc} || udp.port==${s.ps})`;
    const filter = `sip && !esp && ip.addr==${s.ue} && ip.addr==${s.pcscf} && (${ue} || ${pc})`;
    const frames = tshark(['-r', path, '-Y', filter, '-T', 'fields', '-e', 'frame.number']).map(Number);
    assert.deepEqual(frames, breaches.flatMap((f) => f.frames));
    // And the other real deviations of this capture.
    assert.deepEqual(r.findings.map((f) => f.rule).sort(), ['aka.keys-to-ue', 'port.clear-on-protected', 'port.clear-on-protected', 'port.clear-on-protected', 'sa.spi-reserved', 'sa.udp-flow']);
  });

  test('[R-AKA-6][R-FAIL-1] the 401 nonce is the MAA SIP-Authenticate; the protected REGISTER response verifies against its XRES', (t) => {
    const path = needShared(t, 'real', 'pcap', 'open5gs_ipsec_reg.pcapng');
    if (!path || !needPeer(t, 'tshark')) return;
    const { r, exported } = analyzeFile(path);
    const g = r.registrations[0];
    assert.equal(g.nonceMatchesMaa, true);
    assert.deepEqual(g.digest, { verified: 1, failed: 0, unchecked: 0 });
    // Independently: tshark's fields and a plain MD5 (RFC 2617 §3.2.2 with qop=auth-int, RFC 3310 §3.3 password = XRES).
    const [auth, xres] = tshark(['-r', path, '-Y', 'diameter.cmd.code==303 && diameter.flags.request==0', '-T', 'fields', '-e', 'diameter.3GPP-SIP-Authenticate', '-e', 'diameter.3GPP-SIP-Authorization'])[0].split('\t');
    const nonce = tshark(['-r', path, '-Y', 'frame.number==406', '-T', 'fields', '-e', 'sip.auth.nonce'])[0].replace(/"/g, '');
    assert.equal(Buffer.from(nonce, 'base64').toString('hex'), auth);
    const f = tshark(['-r', path, ...withKeys(t, exported), '-d', 'tcp.port==6100,sip', '-Y', 'sip.Method==REGISTER && esp', '-T', 'fields', '-E', 'separator=|', '-e', 'sip.auth.username', '-e', 'sip.auth.realm', '-e', 'sip.auth.nonce', '-e', 'sip.auth.uri', '-e', 'sip.auth.digest.response', '-e', 'sip.auth.qop', '-e', 'sip.auth.nc', '-e', 'sip.auth.cnonce'])[0]
      .split('|')
      .map((x) => x.replace(/"/g, ''));
    const [username, realm, n, uri, response, qop, nc, cnonce] = f;
    assert.equal(qop, 'auth-int');
    const ha1 = md5(username, realm, Buffer.from(xres, 'hex'));
    const ha2 = md5('REGISTER', uri, md5(''));
    assert.equal(md5(ha1, n, nc, cnonce, qop, ha2), response);
  });

  test('[R-LAB-2] imsec analyze CLI: exit 1 on the errors, --json report, --export-keys mode 0600, --html escaped and self-contained', (t) => {
    const path = needShared(t, 'real', 'pcap', 'open5gs_ipsec_reg.pcapng');
    if (!path) return;
    const dir = mkdtempSync(join(tmpdir(), 'imsec-analyze-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const keys = join(dir, 'derived.keys');
    writeFileSync(keys, 'old\n', { mode: 0o644 }); // an existing file becomes owner-only too
    const html = join(dir, 'r.html');
    const run = spawnSync(process.execPath, [cliPath, 'analyze', path, '--json', '--export-keys', keys, '--html', html], { encoding: 'utf8' });
    assert.equal(run.status, 1, run.stderr);
    const doc = JSON.parse(run.stdout);
    assert.equal(doc.schema, 'imsec-analyze/1');
    assert.equal(doc.summary.esp.verified, 14);
    assert.equal(doc.findings.length, 6);
    for (const f of doc.findings) assert.deepEqual(Object.keys(f).sort(), ['clause', 'frames', 'id', 'message', 'registration', 'rule', 'severity', 'spec'].filter((k) => k !== 'registration' || 'registration' in f));
    assert.ok(!/e1763cf28cc2e584588800193137ec92/i.test(run.stdout.replace(/"nonce[^"]*"[^,]*/g, '')), 'IK never in the JSON');
    assert.equal(statSync(keys).mode & 0o777, 0o600);
    assert.equal(readFileSync(keys, 'utf8').trim().split('\n').length, 4);
    const page = readFileSync(html, 'utf8');
    assert.ok(!/<script|src=|href="http/i.test(page), 'no script or external resource');
    assert.ok(page.includes('&lt;sip:') || page.includes('port.clear-on-protected'));
    assert.ok(!page.includes('e1763cf28cc2e584588800193137ec92'), 'IK never on the page');
    // --fail-on above every finding: exit 0.
    const quiet = spawnSync(process.execPath, [cliPath, 'analyze', path, '--no-ladder'], { encoding: 'utf8' });
    assert.equal(quiet.status, 1);
    assert.match(quiet.stdout, /F4 error +R-SA-5 port\.clear-on-protected {2}frames 698, 699, 700/);
  });
});

describe('open5gs nonipsec_reg.pcapng (no sec-agree)', () => {
  test('[R-LAB-2][R-AKA-6] a registration without sec-agree completes; only the keys reaching the UE are reported', (t) => {
    const path = needShared(t, 'real', 'pcap', 'open5gs_nonipsec_reg.pcapng');
    if (!path) return;
    const { r } = analyzeFile(path);
    assert.equal(r.registrations[0].state, 'registered');
    assert.equal(r.saSets.length, 0);
    assert.deepEqual(r.findings.map((f) => f.rule), ['aka.keys-to-ue']);
  });
});
