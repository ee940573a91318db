/**
 * The I-CSCF between real nodes over loopback: the real HSS (src/nodes/hss, temp SQLite store)
 * and F1's real S-CSCF (src/nodes/scscf). A UE-side SIP stack registers with IMS AKA through the
 * I-CSCF (the S-CSCF chosen by UAR, the 401 challenge answered by an independent ISIM), then a
 * MESSAGE from outside reaches the UE through I-CSCF (LIR) → S-CSCF → contact (R-REG-1).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { computeOpc, isimAuthenticate, Milenage } from '../../../src/auth/index.js';
import { akaPassword, digestResponse, formatDigestCredentials, parseAkaNonce, parseDigestChallenge } from '../../../src/auth/digest/index.js';
import { fromHex, SeededRng } from '../../../src/common/index.js';
import { defaultHssConfig, createHss, provisionSubscriber } from '../../../src/nodes/hss/index.js';
import { createScscf, parseScscfConfig } from '../../../src/nodes/scscf/index.js';
import type { SipResponse } from '../../../src/sip/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { register, REALM, sipRequest, sipStack, startIcscf, type Cleanup } from './harness.js';

// TS 35.208 test set 1.
const K = '465b5c8e53c8daa7e3b3c1ed6d0d5c5c';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';

const cleanup: Cleanup = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!().catch(() => {});
});

/** The UE's answer to a Digest AKAv1-MD5 challenge (RFC 3310), computed with src/auth, not by the S-CSCF. */
function answer(challenge: SipResponse): string {
  const ch = parseDigestChallenge(challenge.headers.get('www-authenticate')!);
  const { rand, autn } = parseAkaNonce(ch.nonce);
  const m = new Milenage(fromHex(K), computeOpc(fromHex(K), fromHex(OP)));
  const r = isimAuthenticate(m, rand, autn, null);
  assert.equal(r.result, 'ok');
  if (r.result !== 'ok') throw new Error('AKA failed');
  const response = digestResponse({
    algorithm: ch.algorithm as 'AKAv1-MD5',
    username: `alice@${REALM}`,
    realm: ch.realm,
    password: akaPassword(1, r.res, r.ik, r.ck),
    method: 'REGISTER',
    uri: `sip:${REALM}`,
    nonce: ch.nonce,
    qop: 'auth',
    nc: 1,
    cnonce: 'c0ffee',
  });
  return formatDigestCredentials({ username: `alice@${REALM}`, realm: ch.realm, nonce: ch.nonce, uri: `sip:${REALM}`, algorithm: ch.algorithm, response, qop: 'auth', nc: '00000001', cnonce: 'c0ffee', integrityProtected: 'yes' });
}

describe('I-CSCF with the real HSS and the real S-CSCF', () => {
  test('[R-REG-1] REGISTER through the I-CSCF reaches the S-CSCF chosen by UAR; AKA completes; a MESSAGE is routed by LIR to the UE', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-icscf-real-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    // HSS.
    const store = new SqliteStore(join(dir, 'hss.sqlite'));
    await provisionSubscriber(store, { impi: `alice@${REALM}`, impus: [`sip:alice@${REALM}`], k: K, op: OP, amf: '8000' });
    const hc = defaultHssConfig(dir);
    hc.diameter.listen = { host: '127.0.0.1', port: 0 };
    hc.diameter.peers = [{ host: 'icscf.ims.lab' }, { host: 'scscf.ims.lab' }];
    hc.rest = null;
    hc.serverCapabilities = { mandatory: [], optional: [], serverNames: [] };
    const hss = createHss(hc, { store, ownsStore: true, rng: new SeededRng('real-hss') });
    await hss.start();
    cleanup.push(() => hss.stop());
    // S-CSCF.
    const scscf = createScscf(
      parseScscfConfig({
        sip: { listen: '127.0.0.1:0', protocols: ['udp'] },
        diameter: { hss: { host: 'hss.ims.lab', port: hss.diameterPort, address: '127.0.0.1' } },
        store: `sqlite:${join(dir, 'scscf.sqlite')}`,
        icscf: null,
        logLevel: 'silent',
      }),
      { rng: new SeededRng('real-scscf') },
    );
    await scscf.start();
    cleanup.push(() => scscf.stop());
    await scscf.waitForHss(5000);
    const serverName = scscf.serverName();
    // I-CSCF: the HSS gives no capabilities, so the I-CSCF picks from its list.
    const icscf = await startIcscf(cleanup, { diameter: { hss: { connect: `127.0.0.1:${hss.diameterPort}` } }, scscfs: [serverName] });
    await icscf.waitForHss(5000);
    const dest = { address: '127.0.0.1', port: icscf.address().sip.port };

    // The UE side (standing in for UE + P-CSCF): contact at its own stack.
    const ue = await sipStack(cleanup);
    const messages: string[] = [];
    ue.stack.onRequest((req, ctx) => {
      messages.push(`${req.method} ${Buffer.from(req.body).toString()}`);
      ctx.reply(200, 'OK');
    });
    const contact = `Contact: <sip:alice@127.0.0.1:${ue.local.port}>`;
    const withContact = (extra: string[]) => {
      const r = register('alice', extra);
      r.headers.set('Contact', contact.slice('Contact: '.length));
      return r;
    };
    const challenge = await ue.stack.sendRequest(withContact([`Authorization: Digest username="alice@${REALM}", realm="${REALM}", nonce="", uri="sip:${REALM}", response="", integrity-protected="no"`]), dest);
    assert.equal(challenge.status, 401);
    assert.match(challenge.headers.get('www-authenticate') ?? '', /AKAv1-MD5/);
    const ok = await ue.stack.sendRequest(withContact([`Authorization: ${answer(challenge)}`]), dest);
    assert.equal(ok.status, 200);
    assert.equal(scscf.registrations().length, 1);

    // A request to the user from outside: I-CSCF → LIR → Server-Name → S-CSCF → the registered contact.
    const foreign = await sipStack(cleanup);
    const msg = sipRequest([`MESSAGE sip:alice@${REALM} SIP/2.0`, `To: <sip:alice@${REALM}>`, 'From: <sip:carol@other.lab>;tag=c9', 'Call-ID: real-msg-1', 'CSeq: 1 MESSAGE', 'Content-Type: text/plain']);
    msg.body = Buffer.from('hello alice');
    const delivered = await foreign.stack.sendRequest(msg, dest);
    assert.equal(delivered.status, 200);
    assert.deepEqual(messages, ['MESSAGE hello alice']);
    assert.equal(icscf.status().counters.lir, 1);
  });
});
