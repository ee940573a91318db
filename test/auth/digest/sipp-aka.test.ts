/**
 * Interop: a real SIP UA (SIPp 3.6, INTEROP.md) answers our AKAv1-MD5 challenge. The vector
 * (RAND, AUTN, RES) comes from osmo-auc-gen, an independent Milenage, so neither side of the check
 * uses our AKA code: SIPp must accept our WWW-Authenticate and nonce (it verifies MAC-A from
 * AUTN, else it aborts), and our parser and verifyDigestResponse must accept its Authorization.
 * Traffic stays on 127.0.0.1.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needPeer } from '../../support/peers.js';
import {
  buildAkaNonce,
  formatDigestChallenge,
  parseDigestCredentials,
  verifyDigestResponse,
  akaPassword,
  type DigestCredentials,
} from '../../../src/auth/digest/index.js';

// TS 35.208 test set 1 K and OP; SQN and AMF as SIPp expects them (AMF must match AUTN).
const K = '465b5c8e53c8daa7e3b3c1ed6d0d5c5c';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const AMF = '8000';
const RAND = '23553cbe9637a89d218ae64dae47bf35';
const IMPI = 'user1@ims.lab';
const REALM = 'ims.lab';

function osmoVector(): { rand: Uint8Array; autn: Uint8Array; res: Uint8Array; imsNonce: string } {
  const r = spawnSync('osmo-auc-gen', ['-3', '-a', 'milenage', '-k', K, '-O', OP, '-s', '1000', '-f', AMF, '-r', RAND], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(r.stdout);
    assert.ok(m, `osmo-auc-gen printed no ${name}`);
    return m[1];
  };
  const hex = (name: string) => new Uint8Array(Buffer.from(field(name), 'hex'));
  return { rand: hex('RAND'), autn: hex('AUTN'), res: hex('RES'), imsNonce: field('IMS nonce') };
}

/**
 * SIPp re-parses [authentication] values: every key byte goes into the scenario file as the
 * text `\\xNN`: two backslashes, x, two hex digits (INTEROP.md; one backslash gives SIPp a wrong key).
 */
const sippBytes = (hex: string) => hex.replace(/../g, '\\\\x$&');

/** A free UDP port on 127.0.0.1 for SIPp (it would take 5060 otherwise, which other tests may hold). */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function scenario(): string {
  const register = (cseq: number, auth: string) => `
  <send retrans="500"><![CDATA[
      REGISTER sip:${REALM} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:${IMPI}>;tag=[call_number]
      To: <sip:${IMPI}>
      Call-ID: [call_id]
      CSeq: ${cseq} REGISTER
      Contact: <sip:user1@[local_ip]:[local_port]>
      ${auth}
      Max-Forwards: 70
      Expires: 600
      Content-Length: 0

    ]]></send>`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="digest-akav1">${register(1, '')}
  <recv response="401" auth="true"/>${register(2, `[authentication username="${IMPI}" aka_K="${sippBytes(K)}" aka_OP="${sippBytes(OP)}" aka_AMF="${sippBytes(AMF)}"]`)}
  <recv response="200"/>
</scenario>
`;
}

function reply(req: string, status: string, extra: string[]): string {
  const lines = req.split('\r\n');
  const pick = (name: string) => lines.filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  const to = pick('To').map((l) => (l.includes(';tag=') ? l : `${l};tag=srv1`));
  return [`SIP/2.0 ${status}`, ...pick('Via'), ...pick('From'), ...to, ...pick('Call-ID'), ...pick('CSeq'), ...extra, 'Content-Length: 0', '', ''].join('\r\n');
}

describe('interop: SIPp answers our Digest AKAv1-MD5 challenge', () => {
  test('[R-AKA-6] SIPp accepts our 401 and nonce; its Authorization parses and verifies against RES from osmo-auc-gen', { timeout: 30_000 }, async (t) => {
    if (!needPeer(t, 'sipp') || !needPeer(t, 'osmo-auc-gen')) return;
    const v = osmoVector();
    assert.ok(!v.res.includes(0), 'RES must have no 0x00 byte (SIPp takes RES with strlen)');
    const nonce = buildAkaNonce(v.rand, v.autn);
    assert.equal(nonce, v.imsNonce, 'our nonce equals osmo-auc-gen "IMS nonce"');

    const seen: DigestCredentials[] = [];
    const verdicts: boolean[] = [];
    const sock = createSocket('udp4');
    sock.on('message', (msg: Buffer, from: RemoteInfo) => {
      const req = msg.toString('latin1');
      if (!req.startsWith('REGISTER ')) return;
      const auth = /^Authorization:[ \t]*(.*)$/im.exec(req);
      let out: string;
      if (!auth) {
        const ch = formatDigestChallenge({ realm: REALM, nonce, algorithm: 'AKAv1-MD5', qop: ['auth'] });
        out = reply(req, '401 Unauthorized', [`WWW-Authenticate: ${ch}`]);
      } else {
        const cr = parseDigestCredentials(auth[1]);
        seen.push(cr);
        const ok = verifyDigestResponse(
          {
            algorithm: 'AKAv1-MD5', username: cr.username, realm: cr.realm, password: akaPassword(1, v.res), method: 'REGISTER',
            uri: cr.uri, nonce: cr.nonce, nc: cr.nc, cnonce: cr.cnonce, qop: cr.qop as 'auth' | undefined,
          },
          cr.response,
        );
        verdicts.push(ok);
        out = reply(req, ok ? '200 OK' : '403 Forbidden', []);
      }
      sock.send(out, from.port, from.address);
    });
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    const port = sock.address().port;
    const sippPort = await freeUdpPort();
    const dir = mkdtempSync(join(tmpdir(), 'imsec-digest-sipp-'));
    try {
      writeFileSync(join(dir, 'aka.xml'), scenario());
      const code = await new Promise<number | null>((resolve) => {
        const p = spawn('sipp', [`127.0.0.1:${port}`, '-sf', join(dir, 'aka.xml'), '-i', '127.0.0.1', '-p', String(sippPort), '-m', '1', '-nostdin', '-timeout', '15s', '-timeout_error'], {
          cwd: dir,
          stdio: 'ignore',
        });
        p.on('exit', (c) => resolve(c));
      });
      assert.equal(seen.length, 1, 'SIPp sent one authenticated REGISTER');
      const cr = seen[0];
      assert.equal(cr.username, IMPI);
      assert.equal(cr.realm, REALM);
      assert.equal(cr.nonce, nonce);
      assert.equal(cr.algorithm, 'AKAv1-MD5');
      assert.equal(verdicts[0], true, 'SIPp response verifies with RES as the password');
      assert.equal(code, 0, 'SIPp finished its scenario (it got 200 OK)');
    } finally {
      sock.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
