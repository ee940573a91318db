/**
 * The P-CSCF configuration (nodes/pcscf/config.ts) and the `imsec pcscf` process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_PROTECTED_PORTS, defaultPcscfConfig, parsePcscfConfig, PcscfConfigError } from '../../../src/nodes/pcscf/index.js';
import { pcscfConfigFrom } from '../../../src/cli/pcscf.js';
import { cliPath, repoRoot } from '../../support/paths.js';
import { HOST } from './support.js';

function refuses(raw: unknown, field: RegExp): void {
  assert.throws(
    () => parsePcscfConfig(raw),
    (e: unknown) => e instanceof PcscfConfigError && e.code === 'CONFIG' && field.test(e.field),
  );
}

describe('P-CSCF configuration', () => {
  test('[R-RR-1] [R-SA-3] [R-SA-7] [R-SM-2] an empty file is the lab P-CSCF of the default deployment', () => {
    const c = parsePcscfConfig({});
    assert.deepEqual(c.sip.listen, { host: '127.0.0.1', port: 5060 });
    assert.deepEqual(c.sip.protocols, ['udp', 'tcp']);
    assert.deepEqual(c.protected.ports, DEFAULT_PROTECTED_PORTS);
    // R-RR-1: port_ps 5100 and a pool of eight port_pc 5101-5108.
    assert.deepEqual(DEFAULT_PROTECTED_PORTS, { min: 5100, max: 5108 });
    // R-SA-3: TS 24.229 §5.1.1.2.2, every UDP message from port-c to the peer's port-s.
    assert.equal(c.protected.responseFlow, 'client-to-server');
    // R-SA-7: reg-await-auth, TS 24.229 Table 7.8.1 (4 minutes).
    assert.equal(c.registrationTimerMs, 240_000);
    // R-SM-2: the P-CSCF policy decides; Annex H order; null integrity (only with aes-gcm).
    assert.deepEqual(c.policy, { algs: ['aes-gmac', 'hmac-sha-1-96', 'hmac-md5-96', 'null'], ealgs: ['aes-gcm', 'aes-cbc', 'des-ede3-cbc', 'null'], honourQ: false });
    assert.equal(c.icscf, 'sip:icscf.ims.lab:4060');
    assert.equal(c.datapath, 'userspace');
    assert.equal(c.hosts['icscf.ims.lab'], '127.0.0.1');
    assert.deepEqual(c, defaultPcscfConfig());
  });

  test('the policy lists acceptable algorithms in preference order; an impossible policy is refused', () => {
    const c = parsePcscfConfig({ policy: { algs: ['HMAC-MD5-96', 'hmac-sha-1-96'], ealgs: ['null'] } });
    assert.deepEqual(c.policy, { algs: ['hmac-md5-96', 'hmac-sha-1-96'], ealgs: ['null'], honourQ: false });
    assert.equal(parsePcscfConfig({ policy: { honourQ: true } }).policy.honourQ, true);
    refuses({ policy: { honourQ: 'yes' } }, /^policy\.honourQ$/);
    refuses({ policy: { algs: ['null'], ealgs: ['aes-cbc'] } }, /^policy$/);
    refuses({ policy: { algs: ['hmac-sha-256'] } }, /^policy\.algs$/);
    refuses({ policy: { ealgs: [] } }, /^policy\.ealgs$/);
  });

  test('protected ports: a range, "auto", or refused', () => {
    assert.deepEqual(parsePcscfConfig({ protected: { ports: '6000-6099' } }).protected.ports, { min: 6000, max: 6099 });
    assert.deepEqual(parsePcscfConfig({ protected: { ports: { min: 7000, max: 7001 } } }).protected.ports, { min: 7000, max: 7001 });
    assert.equal(parsePcscfConfig({ protected: { ports: 'auto' } }).protected.ports, null);
    refuses({ protected: { ports: '7000-7000' } }, /^protected\.ports$/);
    refuses({ protected: { ports: '0-10' } }, /^protected\.ports$/);
    refuses({ protected: { address: 'pcscf.ims.lab' } }, /^protected\.address$/);
    // R-SA-3: the Rel-5 pairing stays selectable.
    assert.equal(parsePcscfConfig({ protected: { responseFlow: 'server-to-client' } }).protected.responseFlow, 'server-to-client');
    refuses({ protected: { responseFlow: 'both' } }, /^protected\.responseFlow$/);
  });

  test('every other field is checked and named in the error', () => {
    refuses([], /^config$/);
    refuses({ bogus: 1 }, /^bogus$/);
    refuses({ sip: { listen: 'nowhere' } }, /^sip\.listen$/);
    refuses({ sip: { listen: 'pcscf.ims.lab:5060' } }, /^sip\.listen\.host$/);
    refuses({ sip: { protocols: ['tcp'] } }, /^sip\.protocols$/);
    refuses({ icscf: 'tel:+1234' }, /^icscf$/);
    refuses({ datapath: 'kernel' }, /^datapath$/);
    refuses({ maxSetsPerImpi: 4 }, /^maxSetsPerImpi$/);
    refuses({ trustedCore: ['scscf.ims.lab'] }, /^trustedCore\[0\]$/);
    refuses({ hosts: { 'x.ims.lab': 'somewhere' } }, /^hosts\.x\.ims\.lab$/);
    refuses({ logLevel: 'loud' }, /^logLevel$/);
    refuses({ regEvent: { expires: 1 } }, /^regEvent\.expires$/);
  });

  test('CLI flags override the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-pcscf-'));
    try {
      const f = join(dir, 'pcscf.json');
      writeFileSync(f, JSON.stringify({ visitedNetworkId: 'visited.lab', protected: { ports: '6000-6099' } }));
      const c = pcscfConfigFrom({ config: f, listen: '127.0.0.1:0', protectedPorts: 'auto', icscf: 'sip:127.0.0.1:4061', datapath: 'xfrm' });
      assert.equal(c.visitedNetworkId, 'visited.lab');
      assert.deepEqual(c.sip.listen, { host: '127.0.0.1', port: 0 });
      assert.equal(c.protected.ports, null);
      assert.equal(c.icscf, 'sip:127.0.0.1:4061');
      assert.equal(c.datapath, 'xfrm');
      writeFileSync(f, '{ not json');
      assert.throws(() => pcscfConfigFrom({ config: f }), (e: unknown) => e instanceof PcscfConfigError && e.field === '--config');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('imsec pcscf (process)', () => {
  test('starts on port 0, reports its port on stdout, answers, and exits 0 on SIGTERM', async () => {
    const argv = import.meta.url.endsWith('.ts') ? ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts')] : [cliPath];
    const child = spawn(process.execPath, [...argv, 'pcscf', '--listen', `${HOST}:0`, '--protected-ports', 'auto', '--icscf', `sip:${HOST}:9`, '--log-level', 'silent'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const end = Date.now() + 15_000;
    while (!stdout.includes('\n') && Date.now() < end && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    const ready = JSON.parse(stdout.split('\n')[0]) as { ready: boolean; sip: number; datapath: string };
    assert.equal(ready.ready, true, stderr);
    assert.ok(ready.sip > 0);
    assert.equal(ready.datapath, 'userspace');
    // A REGISTER without sec-agree is answered 421 (RFC 3329 §2.3.1): the process is serving.
    const { createSocket } = await import('node:dgram');
    const s = createSocket('udp4');
    const reply = new Promise<string>((r) => s.on('message', (m) => r(m.toString())));
    const reg = ['REGISTER sip:ims.lab SIP/2.0', `Via: SIP/2.0/UDP ${HOST}:1;branch=z9hG4bKcli1`, 'Max-Forwards: 70', 'From: <sip:alice@ims.lab>;tag=1', 'To: <sip:alice@ims.lab>', 'Call-ID: cli-1', 'CSeq: 1 REGISTER', 'Content-Length: 0', '', ''].join('\r\n');
    await new Promise<void>((r) => s.bind(0, HOST, () => r()));
    // The Via names port 1; rport-less UDP responses go to the sent-by, so name our real port.
    const msg = reg.replace(`${HOST}:1;`, `${HOST}:${s.address().port};`);
    s.send(msg, ready.sip, HOST);
    const answer = await reply;
    s.close();
    assert.match(answer, /^SIP\/2\.0 421 /);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  });

  test('a bad configuration exits 2 with one line naming the field', async () => {
    const argv = import.meta.url.endsWith('.ts') ? ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts')] : [cliPath];
    const child = spawn(process.execPath, [...argv, 'pcscf', '--protected-ports', '9-9'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 2);
    assert.match(stderr, /^imsec: --protected-ports: /);
  });
});
