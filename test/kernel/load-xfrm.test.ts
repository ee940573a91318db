/**
 * `imsec load --datapath xfrm` inside user-mode Linux (R-LAB-4 over R-LAB-1): a swarm of emulated
 * UEs in a network namespace of its own, each UE on its own address of the veth (assigned in one
 * `ip -batch`), each with its own IMS AKA run, sec-agree and kernel SAs in transport mode
 * (TS 33.203 §6–§7, Annex H `mod=trans`), against a P-CSCF in the other namespace:
 *
 * 1. imsec's own (`imsec core` with the xfrm datapath);
 * 2. Kamailio 5.6's (ims_ipsec_pcscf), alone in its namespace because it flushes every XFRM entry
 *    there, in front of imsec's I-CSCF, S-CSCF and HSS, which put it inside their trust domain
 *    (RFC 3325 §2.3, TS 24.229 §4.4) so that the 401 keeps ik/ck for it.
 *
 * Each run: every UE registers, sends one protected MESSAGE to another UE (both access legs over
 * ESP) and de-registers (TS 24.229 §5.1.1.2, §5.1.1.6); zero failures, and afterwards none of
 * the swarm's SAs or policies is left in its namespace (nor imsec's P-CSCF's in its own). Through
 * Kamailio every de-registration is challenged (its departure 13), and the UEs answer the
 * challenge as TS 24.229 §5.1.1.5.1 has them answer any 401 to a REGISTER (asserted below).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { DEFAULT_REQID_BASE, DEFAULT_REQID_COUNT } from '../../src/ipsec/xfrm/index.js';
import type { LoadSummary } from '../../src/load/index.js';
import { cliPath } from '../support/paths.js';
import { needPeer } from '../support/peers.js';
import { KamailioPcscf } from './support/kamailio.js';
import { CoreProcess, createNetnsPair, needKernelEsp, writeCoreConfig, type NetnsPair } from './support/netns.js';
import { kernelPolicyReqids, kernelStates } from './support/xfrm-state.js';

const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const UES = 20;
/** The UEs' addresses: 10.77.0.100 … on the swarm's side of the veth (the pair's /24). */
const FIRST = 100;

const ours = (reqid: number): boolean => reqid >= DEFAULT_REQID_BASE && reqid < DEFAULT_REQID_BASE + DEFAULT_REQID_COUNT;
const subscribers = Array.from({ length: UES }, (_, i) => ({ impi: `load${i + 1}@ims.lab`, impus: [`sip:load${i + 1}@ims.lab`], k: K, op: OP }));

/** The swarm's namespace, `pair.b`, with one address per UE on its veth (one `ip -batch`). */
function addUeAddresses(pair: NetnsPair): void {
  const lines = Array.from({ length: UES }, (_, i) => `addr add 10.77.0.${FIRST + i}/24 dev ${pair.b.dev}`);
  const r = spawnSync('ip', ['-n', pair.b.ns, '-batch', '-'], { input: lines.join('\n') + '\n', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** `imsec load --datapath xfrm` inside `ns`; resolves with its exit status and JSON report. */
async function load(ns: string, pcscf: string, extra: string[]): Promise<{ code: number | null; report: LoadSummary; stderr: string }> {
  const argv = ['netns', 'exec', ns, process.execPath, cliPath, 'load', '--datapath', 'xfrm', '--pcscf', pcscf, '--range', `load:1-${UES}`, '--k', K, '--op', OP];
  argv.push('--scenario', 'register+message', '--rate', '10', '--first-address', `10.77.0.${FIRST}`, '--ues-per-address', '1', '--json', ...extra);
  const child = spawn('ip', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.ok(out.trim() !== '', `imsec load printed no report (exit ${code}): ${err}`);
  return { code, report: JSON.parse(out) as LoadSummary, stderr: err };
}

/** Every registration and MESSAGE succeeded; the de-registrations as `deregister` says. */
function assertOps(r: { report: LoadSummary }, deregister: { ok: number; failures: Record<string, number> }): void {
  const ops = r.report.ops;
  assert.deepEqual(
    { register: [ops.register?.ok, ops.register?.failed], message: [ops.message?.ok, ops.message?.failed], deregister: { ok: ops.deregister?.ok, failures: ops.deregister?.failures } },
    { register: [UES, 0], message: [UES, 0], deregister },
    JSON.stringify(ops),
  );
}

/** Our entries (reqid in imsec's range) in a namespace. */
function ourEntries(ns: string): { states: number; policies: number } {
  return { states: kernelStates(ns).filter((s) => ours(s.reqid)).length, policies: kernelPolicyReqids(ns).filter(ours).length };
}

async function setUp(t: TestContext, tag: string): Promise<{ pair: NetnsPair; dir: string } | undefined> {
  if (!(await needKernelEsp(t))) return undefined;
  const pair = createNetnsPair(`imsec-kl${tag}${process.pid}`);
  t.after(() => pair.remove());
  const dir = mkdtempSync(join(tmpdir(), 'imsec-kernel-load-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  addUeAddresses(pair);
  return { pair, dir };
}

describe('[R-LAB-4] [R-LAB-1] imsec load --datapath xfrm: a swarm on kernel ESP, one address per UE (TS 33.203 §7, Annex H mod=trans)', () => {
  test(`[R-LAB-4] [R-SA-3] [R-SA-7] ${UES} UEs through imsec core (xfrm P-CSCF): register, MESSAGE, de-register, zero failures, no SA left`, async (t) => {
    const env = await setUp(t, 'i');
    if (!env) return;
    const { pair, dir } = env;
    const config = writeCoreConfig(dir, pair.a.v4, {
      hss: { diameterPort: 0 },
      scscf: { sipPort: 0 },
      icscf: { sipPort: 0 },
      pcscf: { sipPort: 5060, protectedPorts: '5100-5199', datapath: 'xfrm' },
      subscribers,
    });
    const t0 = Date.now();
    const core = await CoreProcess.start(pair.a.ns, config);
    t.after(() => core.stop('SIGKILL'));
    const t1 = Date.now();
    const r = await load(pair.b.ns, `${pair.a.v4}:5060`, []);
    t.diagnostic(`core start ${t1 - t0} ms, imsec load ${Date.now() - t1} ms (its run ${r.report.elapsedSeconds} s), register p50 ${r.report.ops.register?.p50Ms} ms`);
    assertOps(r, { ok: UES, failures: {} });
    assert.equal(r.report.failureRatio, 0);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ourEntries(pair.b.ns), { states: 0, policies: 0 }, 'the swarm left no SA and no policy');
    // The P-CSCF removes a de-registered UE's sets at once (R-SA-7); its mirror may still be at work.
    const deadline = Date.now() + 5_000;
    const left = (e: { states: number; policies: number }): number => e.states + e.policies;
    while (left(ourEntries(pair.a.ns)) > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(ourEntries(pair.a.ns), { states: 0, policies: 0 }, "imsec's P-CSCF left no SA and no policy");
    assert.equal(await core.stop(), 0);
  });

  test(`[R-LAB-4] [R-LAB-1] ${UES} UEs through Kamailio 5.6's P-CSCF (own namespace) to imsec's I-CSCF, S-CSCF and HSS: registrations, MESSAGEs and challenged de-registrations without failure, no SA left in the swarm`, async (t) => {
    if (!needPeer(t, 'kamailio')) return;
    const env = await setUp(t, 'k');
    if (!env) return;
    const { pair, dir } = env;
    const { a, b } = pair; // a: Kamailio alone; b: the swarm and imsec's core
    const config = writeCoreConfig(dir, b.v4, {
      hss: { diameterPort: 3868 },
      scscf: { sipPort: 6060, settings: { trustDomain: [b.v4, a.v4] } },
      icscf: { sipPort: 4060, settings: { trustDomain: [b.v4, a.v4] } },
      // imsec's own P-CSCF is not used here (userspace datapath, a port nobody sends to).
      pcscf: { sipPort: 5070, protectedPorts: '7100-7108', datapath: 'userspace' },
      subscribers,
    });
    // The two start side by side (each 401 takes one of Kamailio's port pairs: docs/kamailio-pcscf.md, departure 4).
    const [core, kamailio] = await Promise.all([
      CoreProcess.start(b.ns, config),
      KamailioPcscf.start({ ns: a.ns, address: a.v4, icscfUri: `sip:${b.v4}:4060`, dir, hosts: Object.fromEntries(['scscf', 'icscf', 'hss'].map((n) => [`${n}.ims.lab`, b.v4])), maxConnections: 2 * UES + 16 }),
    ]);
    t.after(() => core.stop('SIGKILL'));
    t.after(() => kamailio.stop());
    // Kamailio 5.6 takes a REGISTER as initial only from Via port 5060 (departure 2).
    const r = await load(b.ns, `${a.v4}:5060`, ['--unprotected-port', '5060', '--max-failures', '1']);
    await kamailio.stop();
    t.diagnostic(`swarm run ${r.report.elapsedSeconds} s, register p50 ${r.report.ops.register?.p50Ms} ms`);
    // Kamailio 5.6 forwards the protected de-REGISTER without integrity-protected="yes" in
    // Authorization (TS 24.229 §5.2.2.1 has the P-CSCF add it), so imsec's S-CSCF cannot tell it
    // came over an SA and challenges it (TS 24.229 §5.4.1.4, R-RR-4). The UE answers as for any
    // 401 to a REGISTER (§5.1.1.5.1: re-authentication "during … deregistrations"): a temporary
    // set from the de-REGISTER's new Security-Client and Kamailio's Security-Server, the protected
    // de-REGISTER over it, and the S-CSCF's 200 on the RES.
    assertOps(r, { ok: UES, failures: {} });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ourEntries(b.ns), { states: 0, policies: 0 }, 'the swarm left no SA and no policy');
    assert.equal(await core.stop(), 0);
  });
});
