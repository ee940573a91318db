/**
 * `imsec probe --datapath xfrm` (R-LAB-3, issue [N]) against Kamailio 5.6's P-CSCF
 * (ims_ipsec_pcscf, the lab's minimal script test/kernel/kamailio-pcscf/kamailio.cfg) inside
 * user-mode Linux. Kamailio runs alone in a network namespace (it flushes every XFRM entry
 * there); the probe and imsec's I-CSCF, S-CSCF and HSS share the other one. The probe offers
 * mod=trans and lets the kernel do ESP; the checks that need a crafted ESP packet are NOT
 * TESTABLE there, with the reason.
 *
 * The verdicts asserted are what the packets showed (docs/kamailio-pcscf.md): Kamailio never
 * compares Security-Verify or the second Security-Client with what was agreed (RFC 3329 §2.3.1,
 * TS 33.203 §7.2), so every bid-down check FAILs; it also delivers another user's IMPU in
 * P-Preferred-Identity unasserted, lets a REGISTER for another IMPI through
 * a bound SA, agrees reserved SPIs and answers plain SIP on its protected port. The flood and SA
 * limit checks are left out for the lab's time budget. IMSEC_KEEP_PROBE=FILE keeps the JSON
 * report, the pcap, Kamailio's log and its XFRM tables.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ALL_CHECKS, type ProbeReport, type Verdict } from '../../src/probe/index.js';
import { needPeer } from '../support/peers.js';
import { KamailioPcscf } from './support/kamailio.js';
import { probeIn, writeProbeSubscriber } from './support/probe.js';
import { CoreProcess, createNetnsPair, needKernelEsp, writeCoreConfig } from './support/netns.js';

/** What the probe is run with (bounded for the lab's time budget). */
const ONLY = ['bid-down', 'binding', 'esp', 'ports', 'availability.wrong-res', 'availability.no-keys-in-401'];

describe('[R-LAB-3] imsec probe (xfrm, mod=trans) against Kamailio 5.6 P-CSCF (ims_ipsec_pcscf) in user-mode Linux', () => {
  test('[R-LAB-3] [R-SM-4] the verdicts Kamailio earns, with evidence: the Security-Verify gap (RFC 3329 §2.3.1, TS 33.203 §7.2)', async (t) => {
    if (!(await needKernelEsp(t))) return;
    if (!needPeer(t, 'kamailio')) return;
    const pair = createNetnsPair(`imsec-kp${process.pid}`);
    t.after(() => pair.remove());
    const { a, b } = pair; // a: Kamailio alone; b: the probe and imsec's I-CSCF, S-CSCF and HSS
    const dir = mkdtempSync(join(tmpdir(), 'imsec-kernel-probe-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const core = await CoreProcess.start(b.ns, writeCoreConfig(dir, b.v4, {
      hss: { diameterPort: 3868 },
      // Kamailio is this network's P-CSCF: inside the I-CSCF's and S-CSCF's trust domain (RFC 3325
      // §2.3, TS 24.229 §4.4), or the I-CSCF keeps ik/ck from the 401s it relays to it.
      scscf: { sipPort: 6060, settings: { trustDomain: [b.v4, a.v4] } },
      icscf: { sipPort: 4060, settings: { trustDomain: [b.v4, a.v4] } },
      pcscf: { sipPort: 5070, protectedPorts: '7100-7108', datapath: 'userspace' },
    }));
    t.after(() => core.stop());
    const kamailio = await KamailioPcscf.start({ ns: a.ns, address: a.v4, icscfUri: `sip:${b.v4}:4060`, dir, hosts: Object.fromEntries(['scscf', 'icscf', 'hss'].map((n) => [`${n}.ims.lab`, b.v4])), maxConnections: 64 });
    t.after(() => kamailio.stop());
    const sub = writeProbeSubscriber(dir);
    const pcap = join(dir, 'probe.pcap');
    // Kamailio keys a UE by its address (and Via port 5060): after a de-registration it takes no
    // new registration from the same address. Each check registers from an address of its own.
    const locals = Array.from({ length: 20 }, (_, i) => `10.77.0.${10 + i}`);
    // One `ip -batch` for all of them: each `ip` started in the lab costs a quarter of a second.
    const added = spawnSync('ip', ['-n', b.ns, '-batch', '-'], { input: locals.map((l) => `addr add ${l}/24 dev ${b.dev}\n`).join(''), encoding: 'utf8' });
    assert.equal(added.status, 0, added.stderr);
    // Kamailio takes a REGISTER as initial only from Via port 5060: one unprotected port per address.
    const r = await probeIn(b.ns, ['--pcscf', `${a.v4}:5060`, '--subscriber', sub, '--datapath', 'xfrm', '--local', locals.join(','), '--plain-port', '5060', '--only', ONLY.join(','), '--json', '--pcap', pcap, '--keys', join(dir, 'probe.keys'), '--rate', '100', '--quiet-ms', '400', '--answer-ms', '3000', '--wrong-res', '2']);
    if (process.env.IMSEC_KEEP_PROBE) {
      writeFileSync(process.env.IMSEC_KEEP_PROBE, r.stdout);
      copyFileSync(pcap, `${process.env.IMSEC_KEEP_PROBE}.pcap`);
      writeFileSync(`${process.env.IMSEC_KEEP_PROBE}.log`, kamailio.logText());
      writeFileSync(`${process.env.IMSEC_KEEP_PROBE}.xfrm`, ['state', 'policy'].map((w) => spawnSync('ip', ['-n', a.ns, 'xfrm', w], { encoding: 'utf8' }).stdout).join('\n----\n'));
    }
    const rep = JSON.parse(r.stdout) as ProbeReport;
    const verdict = (id: string): Verdict => rep.results.find((c) => c.id === id)!.verdict;
    assert.equal(rep.datapath, 'xfrm');
    assert.deepEqual(rep.results.map((c) => c.id), ALL_CHECKS.map((c) => c.id).filter((id) => ONLY.some((o) => id === o || id.startsWith(`${o}.`))));
    // What the packets showed, check by check (docs/kamailio-pcscf.md "What imsec probe finds").
    const expected: Record<string, Verdict> = {
      // The gap: Security-Verify (and the second Security-Client) are never compared with what was agreed.
      'bid-down.verify-weaker': 'FAIL',
      'bid-down.verify-dropped': 'FAIL',
      'bid-down.verify-missing': 'FAIL',
      'bid-down.client-changed': 'FAIL',
      'bid-down.server-choice': 'PASS',
      // Bob's IMPU in P-Preferred-Identity reaches the callee, with no P-Asserted-Identity (RFC 3325 §6).
      'binding.impu-ppi': 'FAIL',
      'binding.impu-from': 'PASS',
      // A REGISTER for bob over alice's SA goes up and bob is challenged (no IMPI binding of the SA).
      'binding.other-impi': 'FAIL',
      // SPI 1 and 255 offered: agreed, SAs built towards reserved SPIs.
      'esp.reserved-spi': 'FAIL',
      'ports.unprotected-request': 'PASS',
      // Plain SIP to its protected server port is read and answered (403), in the clear.
      'ports.plain-on-protected': 'FAIL',
      'availability.wrong-res': 'PASS',
      'availability.no-keys-in-401': 'PASS',
    };
    for (const [id, v] of Object.entries(expected)) assert.equal(verdict(id), v, `${id}: ${rep.results.find((c) => c.id === id)!.reason}`);
    assert.equal(r.code, 1, 'a FAIL makes the exit status 1');
    // Each FAIL carries its evidence: the frames of the offending exchange.
    for (const c of rep.results.filter((x) => x.verdict === 'FAIL')) assert.ok(c.evidence.length >= 2, `${c.id} has frames`);
    // Crafted ESP cannot be sent through the kernel: NOT TESTABLE with the reason, never a guess.
    for (const id of ['esp.replay', 'esp.out-of-window', 'esp.reflection', 'esp.wrong-icv', 'esp.unknown-spi', 'binding.source']) {
      assert.equal(verdict(id), 'NOT TESTABLE');
      assert.match(rep.results.find((c) => c.id === id)!.reason, /raw IP socket|cannot craft/);
    }
    assert.ok(readFileSync(pcap).length > 24, 'the pcap was written');
  });
});
