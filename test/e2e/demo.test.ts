/**
 * `imsec demo --pcap --keys` as a real process (the compiled CLI under npm test, the TypeScript
 * entry through tsx from source): the whole scenario must pass and exit 0, the ladder must show
 * the key messages, no key may appear in the output, and tshark — a third-party decoder — must
 * read the capture with the command the demo printed: every ESP packet with a good ICV and SIP
 * inside it, and the Cx commands.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cliPath, repoRoot } from '../support/paths.js';
import { needPeer } from '../support/peers.js';

const fromSource = import.meta.url.endsWith('.ts');
// From source the child may run in another directory: give it tsx by its resolved location.
const imsec = fromSource ? [process.execPath, '--import', import.meta.resolve('tsx'), join(repoRoot, 'src', 'cli', 'main.ts')] : [process.execPath, cliPath];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(args: string[], cwd: string, timeoutMs = 90_000): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn(imsec[0], [...imsec.slice(1), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`imsec ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The lines of one step's ladder (between its heading and the next blank-line-separated result). */
function stepBlock(out: string, title: string): string {
  const start = out.indexOf(title);
  assert.ok(start >= 0, `step "${title}" is in the output`);
  const next = out.indexOf('━━ ', start + title.length + 3);
  return out.slice(start, next < 0 ? undefined : next);
}

describe('imsec demo (npm start)', () => {
  let dir: string;
  let r: Run;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'imsec-e2e-demo-'));
    r = await run(['demo', '--pcap', 'demo.pcap', '--keys', 'demo.keys'], dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('[R-SM-6] [R-SA-3] [R-RR-1] [R-RR-2] [R-SA-7] the scenario passes: exit 0, every step checked, in well under a minute', () => {
    assert.equal(r.code, 0, `exit code\n${r.stdout}\n${r.stderr}`);
    assert.ok(r.ms < 60_000, `took ${r.ms} ms`);
    for (const t of ['1. alice registers', '2. bob registers', '3. alice sends bob a MESSAGE', '4. alice re-registers', '5. alice de-registers', '6. bob de-registers']) {
      assert.match(r.stdout, new RegExp(`━━ ${t.replace('.', '\\.')} ━━`), t);
    }
    assert.equal((r.stdout.match(/✔/g) ?? []).length, 6, 'six steps passed');
    assert.doesNotMatch(r.stdout, /✘/);
    assert.match(r.stdout, /demo passed: 6 steps, \d+ messages \(\d+ inside ESP/);
  });

  test('[R-SM-6] [R-AKA-6] [R-REG-1] the registration ladder: first REGISTER in the clear, UAR/MAR/SAR to the HSS, the second REGISTER inside ESP', () => {
    const reg = stepBlock(r.stdout, '1. alice registers');
    const lines = reg.split('\n');
    const idx = (re: RegExp): number => lines.findIndex((l) => re.test(l));
    const first = idx(/alice\s+→ P-CSCF\s+REGISTER sip:ims\.lab\s+\[no ESP\] Security-Client/);
    const uar = idx(/I-CSCF\s+→ HSS\s+Cx UAR .*REGISTRATION/);
    const mar = idx(/S-CSCF\s+→ HSS\s+Cx MAR/);
    const maa = idx(/HSS\s+→ S-CSCF\s+Cx MAA .*DIAMETER_SUCCESS \(2001\)/);
    const challengeCore = idx(/S-CSCF\s+→ I-CSCF\s+401 Unauthorized.*ik\+ck for the P-CSCF/);
    const challengeUe = idx(/P-CSCF\s+→ alice\s+401 Unauthorized.*\[no ESP\] Security-Server/);
    const second = idx(/alice\s+⇒ P-CSCF\s+REGISTER sip:ims\.lab\s+\[ESP spi 0x[0-9a-f]{8} seq 1\] .*Security-Verify · AKA response/);
    const sar = idx(/S-CSCF\s+→ HSS\s+Cx SAR .*REGISTRATION/);
    const ok = idx(/P-CSCF\s+⇒ alice\s+200 OK \(REGISTER\)\s+\[ESP spi 0x[0-9a-f]{8} seq 1\] P-Associated-URI sip:alice@ims\.lab, tel:\+15550101/);
    for (const [name, i] of Object.entries({ first, uar, mar, maa, challengeCore, challengeUe, second, sar, ok })) assert.ok(i >= 0, `${name} line in\n${reg}`);
    assert.ok(first < uar && uar < mar && mar < maa && maa < challengeCore && challengeCore < challengeUe && challengeUe < second && second < sar && sar < ok, `order\n${reg}`);
    // R-AKA-6: the P-CSCF strips ik/ck before the 401 reaches the UE.
    assert.doesNotMatch(lines[challengeUe], /ik\+ck/);
    assert.match(reg, /SA table of alice \(UE\): 4 SAs in 1 set \(UDP-enc-tun\)/);
    assert.match(reg, /SA table of the P-CSCF: 4 SAs in 1 set/);
  });

  test('[R-SA-4] the MESSAGE crosses both access legs inside ESP and the core in the clear', () => {
    const m = stepBlock(r.stdout, '3. alice sends bob a MESSAGE');
    assert.match(m, /alice\s+⇒ P-CSCF\s+MESSAGE sip:bob@ims\.lab\s+\[ESP spi/);
    assert.match(m, /P-CSCF\s+→ S-CSCF\s+MESSAGE sip:bob@ims\.lab\s+\[no ESP\]/);
    assert.match(m, /P-CSCF\s+⇒ bob\s+MESSAGE .*\[ESP spi/);
    assert.match(m, /bob\s+⇒ P-CSCF\s+200 OK \(MESSAGE\)\s+\[ESP spi/);
    assert.match(m, /P-CSCF\s+⇒ alice\s+200 OK \(MESSAGE\)\s+\[ESP spi/);
    assert.match(m, /✔ bob received "Hello bob/);
  });

  test('[R-RR-1] [R-RR-2] re-registration: AKA again over the old SAs, a second set (same port_ps and port_us, new port_pc and port_uc), the old one kept as "old" in both directions', () => {
    const rr = stepBlock(r.stdout, '4. alice re-registers');
    const spiOf = (re: RegExp): string => {
      const m = re.exec(rr);
      assert.ok(m, `${re} in\n${rr}`);
      return m[1];
    };
    // TS 24.229 §5.1.1.4.2: the re-REGISTER carries the last nonce and response (shown as "AKA response").
    const oldSpi = spiOf(/alice\s+⇒ P-CSCF\s+REGISTER sip:ims\.lab\s+\[ESP spi (0x[0-9a-f]{8}) seq 3\] Security-Client · Security-Verify · AKA response\n/);
    const newSpi = spiOf(/alice\s+⇒ P-CSCF\s+REGISTER sip:ims\.lab\s+\[ESP spi (0x[0-9a-f]{8}) seq 1\] .*AKA response/);
    assert.notEqual(oldSpi, newSpi, 'the protected re-REGISTER goes on the new SA');
    assert.match(rr, /Cx SAR .*RE_REGISTRATION/);
    assert.match(rr, /✔ alice re-registered on SA set 2 \(was set 1\)/);
    assert.match(rr, /SA table of alice \(UE\): \d+ SAs in 2 sets/);
    assert.match(rr, /\n    1\s+old\s+in\s+/);
    assert.match(rr, /\n    1\s+old\s+out\s+/, 'R-RR-2: the UE keeps the old outbound SAs too');
    assert.match(rr, /\n    2\s+active\s+out\s+/);
    // R-SA-3: the 401 and the 200 reach alice from port_pc on port_us (flow "P-CSCF port-c → UE port-s").
    const ue = rr.slice(rr.indexOf('SA table of alice'), rr.indexOf('SA table of the P-CSCF'));
    const sel = (set: number, flow: string): [string, string] => {
      const m = new RegExp(`\\n    ${set}\\s+\\w+\\s+\\w+\\s+0x[0-9a-f]{8}\\s+127\\.0\\.0\\.1:(\\d+) → 127\\.0\\.0\\.1:(\\d+)\\s+${flow}`).exec(ue);
      assert.ok(m, `set ${set} ${flow} in\n${ue}`);
      return [m[1], m[2]];
    };
    const [pc1, us1] = sel(1, 'P-CSCF port-c → UE port-s');
    const [pc2, us2] = sel(2, 'P-CSCF port-c → UE port-s');
    const [uc1, ps1] = sel(1, 'UE port-c → P-CSCF port-s');
    const [uc2, ps2] = sel(2, 'UE port-c → P-CSCF port-s');
    // R-RR-1: port_ps and port_us stay; port_pc and port_uc change.
    assert.equal(ps2, ps1);
    assert.equal(us2, us1);
    assert.notEqual(pc2, pc1);
    assert.notEqual(uc2, uc1);
    const answer401 = spiOf(/P-CSCF\s+⇒ alice\s+401 Unauthorized \(REGISTER\)\s+\[ESP spi (0x[0-9a-f]{8}) seq \d+\]/);
    const answer200 = spiOf(/P-CSCF\s+⇒ alice\s+200 OK \(REGISTER\)\s+\[ESP spi (0x[0-9a-f]{8}) seq 1\]/);
    assert.match(ue, new RegExp(`\\n    1\\s+old\\s+in\\s+${answer401}\\s+127\\.0\\.0\\.1:${pc1} → 127\\.0\\.0\\.1:${us1}`), 'the 401 on the old set, port_pc → port_us');
    assert.match(ue, new RegExp(`\\n    2\\s+active\\s+in\\s+${answer200}\\s+127\\.0\\.0\\.1:${pc2} → 127\\.0\\.0\\.1:${us2}`), 'the 200 on the new set, port_pc → port_us');
  });

  test('[R-SA-7] [R-FAIL-4] de-registration removes every SA at both ends; nothing is left at the end', () => {
    const d = stepBlock(r.stdout, '5. alice de-registers');
    assert.match(d, /alice\s+⇒ P-CSCF\s+REGISTER .*Expires 0: de-registration/);
    assert.match(d, /Cx SAR .*USER_DEREGISTRATION/);
    assert.match(d, /P-CSCF\s+⇒ alice\s+200 OK \(REGISTER\)\s+\[ESP spi/);
    assert.match(d, /SA table of alice \(UE\): no SA/);
    assert.match(r.stdout, /✔ no SA, no registration left on any node/);
  });

  test('keys appear only in the keys file (mode 0600), never in the output', () => {
    const keys = readFileSync(join(dir, 'demo.keys'), 'utf8');
    const records = keys.trim().split('\n');
    assert.equal(records.length, 12, 'four SAs for each of three registrations');
    for (const rec of records) assert.match(rec, /^"IPv4","127\.0\.0\.1","127\.0\.0\.1","0x[0-9a-f]{8}","AES-CBC \[RFC3602\]","0x[0-9a-f]{32}","HMAC-SHA-1-96 \[RFC2404\]","0x[0-9a-f]{40}"$/);
    assert.equal(statSync(join(dir, 'demo.keys')).mode & 0o777, 0o600);
    const secrets = records.flatMap((rec) => rec.match(/0x[0-9a-f]{32,}/g) ?? []).map((k) => k.slice(2, 34));
    assert.ok(secrets.length >= 24);
    for (const s of secrets) {
      assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), 'a key leaked into the output');
    }
    for (const demoKey of ['465b5ce8b199b49faa5f0a2ee238a6bc', 'fec86ba6eb707ed08905757b1bb44b8f']) assert.ok(!r.stdout.includes(demoKey), 'K in the output');
  });

  test('[R-SA-1] [R-SA-2] [R-CX-1] [R-CX-2] tshark decodes the capture with the printed command: every ESP ICV good, SIP inside ESP, Cx commands', (t) => {
    if (!needPeer(t, 'tshark')) return;
    const cmdLine = r.stdout.split('\n').find((l) => l.trimStart().startsWith("sed 's/^/-ouat:esp_sa:/'"));
    assert.ok(cmdLine, `the tshark command is printed\n${r.stdout}`);
    assert.doesNotMatch(cmdLine, /0x[0-9a-f]{32}/, 'no key on the printed command line');
    const fields = ['frame.number', 'esp.spi', 'esp.icv_good', 'esp.icv_bad', 'sip.Method', 'sip.Status-Code', 'sip.CSeq.method', 'diameter.cmd.code', 'diameter.flags.request'];
    const full = `${cmdLine.trim()} -T fields -E separator=';' -E occurrence=f ${fields.map((f) => `-e ${f}`).join(' ')}`;
    const ts = spawnSync('sh', ['-c', full], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    assert.equal(ts.status, 0, ts.stderr);
    const rows = ts.stdout.trim().split('\n').map((l) => l.split(';'));
    const col = (name: string) => fields.indexOf(name);
    const esp = rows.filter((x) => x[col('esp.spi')] !== '');
    assert.ok(esp.length >= 16, `ESP packets: ${esp.length}`);
    for (const x of esp) {
      assert.equal(x[col('esp.icv_good')], '1', `frame ${x[0]}: ICV good`);
      assert.notEqual(x[col('esp.icv_bad')], '1', `frame ${x[0]}: not bad`);
      assert.ok(x[col('sip.Method')] !== '' || x[col('sip.Status-Code')] !== '', `frame ${x[0]}: SIP inside ESP`);
    }
    const inside = new Set(esp.map((x) => x[col('sip.Method')] || x[col('sip.Status-Code')]));
    for (const v of ['REGISTER', 'MESSAGE', '200', '401']) assert.ok(inside.has(v), `${v} inside ESP (${[...inside].join(', ')})`);
    const diameter = new Set(rows.filter((x) => x[col('diameter.cmd.code')] !== '').map((x) => `${x[col('diameter.cmd.code')]}/${x[col('diameter.flags.request')]}`));
    for (const [code, name] of [
      ['300', 'UAR/UAA'],
      ['301', 'SAR/SAA'],
      ['303', 'MAR/MAA'],
    ]) {
      assert.ok(diameter.has(`${code}/1`) || diameter.has(`${code}/True`), `${name} request decoded (${[...diameter].join(' ')})`);
      assert.ok(diameter.has(`${code}/0`) || diameter.has(`${code}/False`), `${name} answer decoded`);
    }
    // The unprotected first REGISTER and its 401 are SIP in the clear.
    const clear = rows.filter((x) => x[col('esp.spi')] === '' && x[col('sip.Method')] === 'REGISTER');
    assert.ok(clear.length >= 2, 'REGISTERs in the clear');
  });
});
