/**
 * `imsec analyze` as a command (SPEC R-LAB-2): keys files in both of imsec's export forms
 * (Wireshark esp_sa records, `ip xfrm state add` lines), --fail-on exit codes, and bad input
 * giving one line on stderr naming the frame, never a stack trace.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { Analyzer, KeysFileError, parseKeysFile } from '../../src/analyze/index.js';
import { CaptureReader, PcapWriter, readPcap } from '../../src/capture/index.js';
import { deriveEspKeys } from '../../src/ipsec/esp/index.js';
import { wiresharkLineForSa, type SecurityAssociation } from '../../src/ipsec/sa/index.js';
import { xfrmLinesForSa } from '../../src/ipsec/xfrm/index.js';
import { cliPath, repoRoot } from '../support/paths.js';
import { buildRegistration, PCSCF, PORTS, SPIS, UE, VECTOR } from './support.js';

function tmp(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-analyze-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function cli(args: string[]) {
  return spawnSync(process.execPath, [cliPath, 'analyze', ...args], { encoding: 'utf8' });
}

/** The SAs of the scenario as imsec's SA model holds them (for its own exports). */
function scenarioSas(): SecurityAssociation[] {
  const keys = deriveEspKeys('hmac-sha-1-96', 'aes-cbc', VECTOR.ik, VECTOR.ck);
  const base = { setId: 1, transports: ['udp', 'tcp'] as const, integrity: 'hmac-sha-1-96' as const, encryption: 'aes-cbc' as const, mode: 'trans' as const, keys, impi: 'alice@ims.lab', impus: ['sip:alice@ims.lab'], state: 'active' as const };
  return [
    { ...base, id: 'a', flow: 'uc-ps', direction: 'out', spi: SPIS.ps, src: { address: UE, port: PORTS.uc }, dst: { address: PCSCF, port: PORTS.ps } },
    { ...base, id: 'b', flow: 'pc-us', direction: 'in', spi: SPIS.us, src: { address: PCSCF, port: PORTS.pc }, dst: { address: UE, port: PORTS.us } },
  ];
}

/** The scenario capture without the MAA (frames 3-6) and with the 401's keys gone: keys only from a file. */
function keylessCapture(): Uint8Array {
  const built = buildRegistration();
  const all = readPcap(built.pcap).packets;
  const w = new PcapWriter();
  for (const p of all.filter((_, i) => ![built.frames.syn, built.frames.synack, built.frames.mar, built.frames.maa, built.frames.maa2].includes(i + 1))) w.add(p.data, p.timestampMs);
  return w.toBytes();
}

describe('keys files (Wireshark esp_sa, ip xfrm state)', () => {
  test('[R-LAB-2][R-SA-2] imsec\'s own exports parse back to the same SAs; errors name the line, never a key', () => {
    const sas = scenarioSas();
    const fromWireshark = parseKeysFile(sas.map(wiresharkLineForSa).join('\n'));
    const fromXfrm = parseKeysFile(sas.flatMap((sa) => xfrmLinesForSa(sa, { reqid: 7 })).join('\n'));
    for (const parsed of [fromWireshark, fromXfrm]) {
      assert.deepEqual(parsed.map((g) => [g.src, g.dst, g.spi, g.integrity, g.encryption, Buffer.from(g.keys.integrityKey).toString('hex'), Buffer.from(g.keys.encryptionKey).toString('hex')]), sas.map((s) => [s.src.address, s.dst.address, s.spi, s.integrity, s.encryption, Buffer.from(s.keys.integrityKey).toString('hex'), Buffer.from(s.keys.encryptionKey).toString('hex')]));
    }
    // The demo's form with the tshark prefix.
    assert.equal(parseKeysFile(`-ouat:esp_sa:${wiresharkLineForSa(sas[0])}\n# comment\n`).length, 1);
    assert.throws(() => parseKeysFile('\n"IPv4","a","b","0x1000","ROT13","0x00","NULL",""'), (e: unknown) => e instanceof KeysFileError && /^keys file line 2: unknown encryption/.test(e.message));
    assert.throws(() => parseKeysFile('"IPv4","a","b","0x1000","NULL","","HMAC-MD5-96 [RFC2403]","0xzz112233"'), (e: unknown) => e instanceof KeysFileError && !/zz112233/.test(e.message));
  });

  test('[R-LAB-2] a capture with no keys in it: ESP verified with the keys file only, and not without it', (t) => {
    const dir = tmp(t);
    const pcap = join(dir, 'c.pcap');
    const keys = join(dir, 'k');
    writeFileSync(pcap, keylessCapture());
    writeFileSync(keys, scenarioSas().map(wiresharkLineForSa).join('\n') + '\n');
    const bare = JSON.parse(cli([pcap, '--json']).stdout);
    assert.equal(bare.summary.esp.verified, 0);
    assert.ok(bare.findings.some((f: { rule: string }) => f.rule === 'esp.no-keys'));
    const keyed = cli([pcap, '--json', '--keys', keys]);
    assert.equal(keyed.status, 0, keyed.stderr);
    const doc = JSON.parse(keyed.stdout);
    assert.equal(doc.summary.esp.verified, 3);
    assert.deepEqual(doc.findings, []);
  });
});

describe('exit codes and bad input', () => {
  test('[R-LAB-2] --fail-on: 0 below the threshold, 1 at or above; bad arguments exit 2 with one line', (t) => {
    const dir = tmp(t);
    const pcap = join(dir, 'spi.pcap');
    writeFileSync(pcap, buildRegistration({ keysToUe: true }).pcap);
    assert.equal(cli([pcap]).status, 1, 'aka.keys-to-ue is an error');
    const clean = join(dir, 'clean.pcap');
    writeFileSync(clean, buildRegistration().pcap);
    assert.equal(cli([clean, '--fail-on', 'info']).status, 0);
    const silent = join(dir, 'silent.pcap');
    writeFileSync(silent, buildRegistration({ silentAfter401: true }).pcap);
    const r = cli([silent, '--stall-seconds', '90', '--no-ladder']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /before the capture ends, 60\.0 s after the 401/);
    const bad = cli([clean, '--fail-on', 'fatal']);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.match(bad.stderr, /--fail-on must be one of info, warning, error/);
  });

  test('[R-LAB-2] a truncated capture: one line naming the frame, exit 1, no stack trace; a missing file: exit 2', (t) => {
    const dir = tmp(t);
    const whole = buildRegistration().pcap;
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 7));
    let n = 0;
    const reader = new CaptureReader();
    reader.push(whole, () => n++);
    const r = cli([cut]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^imsec: .*cut\\.pcap: frame ${n}: truncated pcap record`));
    assert.ok(!/\bat .*\.js:\d+/.test(r.stderr), 'no stack trace');
    const missing = cli([join(dir, 'nope.pcapng')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^imsec: cannot read .*nope\.pcapng: ENOENT\n$/);
  });

  test('[R-LAB-2] malformed packets inside a good capture are reported per frame and the analysis goes on', () => {
    const w = new PcapWriter();
    w.add(Uint8Array.from([0x45, 0, 0, 10]), 1);
    for (const p of readPcap(buildRegistration().pcap).packets) w.add(p.data, p.timestampMs);
    const a = new Analyzer();
    new CaptureReader().push(w.toBytes(), (f) => a.frame(f));
    const r = a.finish();
    assert.deepEqual(r.problems.map((p) => p.frame), [1]);
    assert.equal(r.summary.esp.verified, 3);    // A link type imsec cannot read is said once, at its first frame.
    const wifi = new PcapWriter({ linktype: 105 }).add(new Uint8Array(30), 1).add(new Uint8Array(30), 2).toBytes();
    const b = new Analyzer();
    new CaptureReader().push(wifi, (f) => b.frame(f));
    assert.deepEqual(b.finish().problems, [{ frame: 1, reason: 'link type 105 is not supported: its frames are skipped' }]);
  });
});

describe('docs/analyze-json.md', () => {
  test('[R-LAB-2] the documented rule table is the analyser\'s rule catalogue, and a report has the documented top-level fields', async () => {
    const { readFileSync } = await import('node:fs');
    const { RULES, reportJson } = await import('../../src/analyze/index.js');
    const doc = readFileSync(join(repoRoot, 'docs', 'analyze-json.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `([a-z.-]+)` \| (\w+) \| (R-[A-Z]+-\d+) \|/gm)].map((m) => [m[1], m[2], m[3]]);
    assert.deepEqual(documented, Object.entries(RULES).map(([name, r]) => [name, r.severity, r.spec]));
    const a = new Analyzer();
    new CaptureReader().push(buildRegistration().pcap, (f) => a.frame(f));
    const json = reportJson(a.finish()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json).sort(), ['captures', 'findings', 'findingsOmitted', 'keys', 'ladder', 'ladderOmitted', 'problems', 'problemsOmitted', 'registrations', 'saSets', 'schema', 'summary']);
  });
});
