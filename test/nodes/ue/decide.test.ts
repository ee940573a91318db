/**
 * The soft UE's pure parts: re-registration timing (TS 24.229 §5.1.1.4.1), the 200 to REGISTER,
 * reg-event NOTIFY bodies (RFC 3680 §5.3 example from the repo's vectors), the UE port rule,
 * the 401 analysis with a scripted ISIM, and the request builders' wire text.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { buildAkaNonce, formatDigestChallenge, parseDigestCredentials } from '../../../src/auth/index.js';
import { FixedRng } from '../../../src/common/index.js';
import { decodeReginfo, SipHeaders, SipResponse, parseMessage, serializeMessage } from '../../../src/sip/index.js';
import {
  acceptOnUnprotectedPort,
  analyzeChallenge,
  buildMessage,
  buildRegister,
  challengeResponse,
  decideGranted,
  decideOnNotify,
  initialCredentials,
  macFailureCredentials,
  reRegisterDelayMs,
  routeSet,
  syncFailureCredentials,
  type ChallengeIsim,
} from '../../../src/nodes/ue/index.js';
import { buildUeOffer, formatSecurityMechanisms } from '../../../src/secagree/index.js';
import { repoRoot } from '../../support/paths.js';

const POLICY = { fraction: 0.5, marginSeconds: 600 };

describe('TS 24.229 §5.1.1.4.1: when to re-register [R-REG-3]', () => {
  for (const [e, at] of [
    [600_000, 599_400],
    [3600, 3000],
    [1200, 600],
    [1000, 500],
    [60, 30],
  ] as const) {
    test(`[R-REG-3] lifetime ${e} s → re-register after ${at} s`, () => {
      assert.equal(reRegisterDelayMs(e, POLICY), at * 1000);
    });
  }
  test('[R-REG-3] a zero margin never schedules at the expiry itself', () => {
    assert.equal(reRegisterDelayMs(100, { fraction: 0.5, marginSeconds: 0 }), 50_000);
  });
});

const ok200 = (headers: [string, string][]) => new SipResponse(200, 'OK', new SipHeaders(headers));
const ME = { address: '127.0.0.1', port: 5555 };

describe('TS 24.229 §5.1.1.2.1: the 200 (OK) to REGISTER', () => {
  test('[R-REG-2] P-Associated-URI gives the implicit set; Service-Route is kept in order; our Contact expires wins', () => {
    const g = decideGranted(
      ok200([
        ['Contact', '<sip:127.0.0.1:9999>;expires=50, <sip:127.0.0.1:5555>;expires=300'],
        ['Expires', '900'],
        ['P-Associated-URI', '<sip:alice@ims.lab>, <tel:+15551234>'],
        ['P-Associated-URI', '<sip:alias@ims.lab>'],
        ['Service-Route', '<sip:orig@scscf.ims.lab:6060;lr>, <sip:as.ims.lab;lr>'],
      ]),
      ME,
      600,
      'sip:alice@ims.lab',
    );
    assert.deepEqual(g, { impus: ['sip:alice@ims.lab', 'tel:+15551234', 'sip:alias@ims.lab'], serviceRoute: ['<sip:orig@scscf.ims.lab:6060;lr>', '<sip:as.ims.lab;lr>'], expires: 300 });
  });
  test('[R-REG-2] without P-Associated-URI the default IMPU is registered; Expires header, then the request, give the lifetime', () => {
    assert.deepEqual(decideGranted(ok200([['Expires', '120']]), ME, 600, 'sip:alice@ims.lab'), { impus: ['sip:alice@ims.lab'], serviceRoute: [], expires: 120 });
    assert.equal(decideGranted(ok200([]), ME, 600, 'sip:a@b').expires, 600);
  });
});

describe('RFC 3680 reginfo in a NOTIFY (TS 24.229 §5.1.1.3, R-RR-5)', () => {
  const example = readFileSync(new URL('test/vectors/rfc3680/example-5.3.xml', `file://${repoRoot}/`), 'utf8');
  test('[R-RR-5] RFC 3680 §5.3 example: the terminated contact is ours → terminated; the active one → nothing', () => {
    const info = decodeReginfo(example);
    assert.deepEqual(decideOnNotify(info, ['sip:user@example.com'], { address: 'university.edu', port: 5060 }), { kind: 'terminated', event: 'expired' });
    assert.deepEqual(decideOnNotify(info, ['sip:user@example.com'], { address: 'pc887.example.com', port: 5060 }), { kind: 'none' });
    assert.deepEqual(decideOnNotify(info, ['sip:someone@else'], { address: 'university.edu', port: 5060 }), { kind: 'none' });
  });
  test('[R-RR-5] shortened carries the new expiry; a terminated registration with no contacts ends ours', () => {
    const xml = (reg: string, contact: string) =>
      `<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="3" state="full"><registration aor="sip:alice@ims.lab" id="r" state="${reg}">${contact}</registration></reginfo>`;
    const mine = (st: string, ev: string, exp = '') => `<contact id="c" state="${st}" event="${ev}"${exp}><uri>sip:127.0.0.1:5555</uri></contact>`;
    assert.deepEqual(decideOnNotify(decodeReginfo(xml('active', mine('active', 'shortened', ' expires="30"'))), ['sip:alice@ims.lab'], ME), { kind: 'shortened', expires: 30 });
    assert.deepEqual(decideOnNotify(decodeReginfo(xml('active', mine('terminated', 'rejected'))), ['sip:alice@ims.lab'], ME), { kind: 'terminated', event: 'rejected' });
    assert.deepEqual(decideOnNotify(decodeReginfo(xml('terminated', '')), ['sip:alice@ims.lab'], ME), { kind: 'terminated', event: 'registration-terminated' });
    assert.deepEqual(decideOnNotify(decodeReginfo(xml('active', mine('active', 'refreshed'))), ['sip:alice@ims.lab'], ME), { kind: 'none' });
  });
});

describe('R-SA-5: what the UE accepts on its unprotected port', () => {
  const resp = (status: number, method: string) => new SipResponse(status, 'x', new SipHeaders([['CSeq', `1 ${method}`]]));
  test('[R-SA-5] requests never; 2xx only to a REGISTER sent there; error responses always', () => {
    const sent = new Set(['z9hG4bKreg']);
    assert.equal(acceptOnUnprotectedPort({ kind: 'request' }, sent, 'z9hG4bKreg'), false);
    assert.equal(acceptOnUnprotectedPort(resp(401, 'REGISTER'), sent, 'z9hG4bKreg'), true);
    assert.equal(acceptOnUnprotectedPort(resp(200, 'REGISTER'), sent, 'z9hG4bKreg'), true);
    assert.equal(acceptOnUnprotectedPort(resp(200, 'REGISTER'), sent, 'z9hG4bKother'), false);
    assert.equal(acceptOnUnprotectedPort(resp(200, 'MESSAGE'), sent, 'z9hG4bKreg'), false);
    assert.equal(acceptOnUnprotectedPort(resp(403, 'MESSAGE'), sent, 'z9hG4bKx'), true);
    assert.equal(acceptOnUnprotectedPort(resp(180, 'INVITE'), sent, 'z9hG4bKx'), false);
  });
});

describe('TS 24.229 §5.1.1.5.1: the 401 (R-SM-5, R-AKA-4)', () => {
  const offer = buildUeOffer({ spiC: 0x80000101, spiS: 0x80000102, portC: 31000, portS: 31001, algs: ['hmac-sha-1-96'], ealgs: ['null'], mods: ['UDP-enc-tun'] });
  const nonce = buildAkaNonce(new Uint8Array(16).fill(1), new Uint8Array(16).fill(2));
  const server = (alg: string) => `ipsec-3gpp;alg=${alg};ealg=null;prot=esp;mod=UDP-enc-tun;spi-c=1111;spi-s=2222;port-c=5100;port-s=5101`;
  const challenge = (alg: string, algo = 'AKAv1-MD5') =>
    new SipResponse(401, 'Unauthorized', new SipHeaders([['WWW-Authenticate', formatDigestChallenge({ realm: 'ims.lab', nonce, algorithm: algo })], ['Security-Server', server(alg)]]));
  const calls: number[] = [];
  const isim = (result: ReturnType<ChallengeIsim['authenticate']>): ChallengeIsim => ({
    authenticate: () => {
      calls.push(1);
      return result;
    },
  });
  const keys = { res: new Uint8Array(8).fill(3), ck: new Uint8Array(16).fill(4), ik: new Uint8Array(16).fill(5) };

  test('[R-SM-5] an algorithm not offered is refused before the ISIM runs', () => {
    calls.length = 0;
    const d = analyzeChallenge(challenge('hmac-md5-96'), offer, isim({ result: 'ok', ...keys, sqn: 32, amf: 0x8000, state: null }));
    assert.equal(d.kind, 'refuse');
    assert.equal(d.kind === 'refuse' && d.reason, 'security-server');
    assert.equal(calls.length, 0);
  });
  test('[R-AKA-4] MAC failure, sync failure and success map to the three outcomes', () => {
    assert.equal(analyzeChallenge(challenge('hmac-sha-1-96'), offer, isim({ result: 'mac-failure' })).kind, 'mac-failure');
    const s = analyzeChallenge(challenge('hmac-sha-1-96'), offer, isim({ result: 'sync-failure', auts: new Uint8Array(14).fill(9), sqnMs: 5 }));
    assert.equal(s.kind === 'sync-failure' && s.auts[0], 9);
    const a = analyzeChallenge(challenge('hmac-sha-1-96', 'AKAv2-MD5'), offer, isim({ result: 'ok', ...keys, sqn: 32, amf: 0x8000, state: null }));
    assert.equal(a.kind, 'answer');
    assert.equal(a.kind === 'answer' && a.version, 2);
    assert.deepEqual(a.kind === 'answer' && a.security.pcscf, { spiC: 1111, spiS: 2222, portC: 5100, portS: 5101 });
  });
  test('a challenge that is not Digest AKA is refused as bad-challenge', () => {
    const d = analyzeChallenge(challenge('hmac-sha-1-96', 'MD5'), offer, isim({ result: 'mac-failure' }));
    assert.equal(d.kind === 'refuse' && d.reason, 'bad-challenge');
  });
});

describe('TS 24.229 §5.1.1.2 / §5.1.1.5.3: REGISTER wire text', () => {
  const id = { impi: 'alice@ims.lab', impu: 'sip:alice@ims.lab', homeDomain: 'ims.lab' };
  const ch = { realm: 'ims.lab', nonce: 'bm9uY2U=', algorithm: 'AKAv1-MD5' };
  test('the initial REGISTER parses back with every header TS 24.229 asks for; Contact carries +sip.instance and the MMTel ICSI', () => {
    // TS 24.229 §5.1.1.2.1: Contact with +sip.instance (RFC 5626 §4.1) and +g.3gpp.icsi-ref
    // (TS 24.173 §5.1: MMTel), the URN quoted inside <>.
    const offer = buildUeOffer({ spiC: 0x80000101, spiS: 0x80000102, portC: 31000, portS: 31001, algs: ['hmac-sha-1-96'] });
    const instanceId = 'urn:uuid:3b2e0f4c-8d1a-5f6e-9a7b-0c1d2e3f4a5b';
    const req = buildRegister({ id, callId: 'c1', fromTag: 't1', cseq: 1, contact: { address: '::1', port: 31001 }, instanceId, expires: 600, authorization: initialCredentials(id), securityClient: offer });
    const back = parseMessage(serializeMessage(req));
    assert.equal(back.kind === 'request' && back.uri, 'sip:ims.lab');
    const h = back.headers;
    assert.equal(h.get('contact'), `<sip:[::1]:31001>;+sip.instance="<${instanceId}>";+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"`);
    const bare = buildRegister({ id, callId: 'c1', fromTag: 't1', cseq: 1, contact: { address: '127.0.0.1', port: 5060 }, expires: 600, authorization: initialCredentials(id), securityClient: offer });
    assert.equal(bare.headers.get('contact'), '<sip:127.0.0.1:5060>;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"', 'no instance ID given: no +sip.instance');
    assert.equal(h.get('security-client'), formatSecurityMechanisms(offer));
    assert.equal(h.get('require'), 'sec-agree');
    assert.equal(h.get('proxy-require'), 'sec-agree');
    assert.equal(h.get('cseq'), '1 REGISTER');
    assert.equal(h.get('to'), '<sip:alice@ims.lab>');
    const cr = parseDigestCredentials(h.get('authorization')!);
    assert.deepEqual([cr.username, cr.realm, cr.nonce, cr.uri, cr.response], ['alice@ims.lab', 'ims.lab', '', 'sip:ims.lab', '']);
  });
  test('[R-FAIL-2] [R-FAIL-3] failure reports: empty response without auts; auts with the RFC 3310 §3.4 empty-password response', () => {
    const mac = macFailureCredentials(id, ch);
    assert.deepEqual([mac.nonce, mac.response, mac.auts], ['bm9uY2U=', '', undefined]);
    const auts = new Uint8Array(14).map((_, i) => i);
    const sync = syncFailureCredentials(id, ch, auts);
    assert.deepEqual(sync.auts, auts);
    // MD5("alice@ims.lab:ims.lab:") etc. computed independently with node:crypto.
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    assert.equal(sync.response, md5(`${md5('alice@ims.lab:ims.lab:')}:bm9uY2U=:${md5('REGISTER:sip:ims.lab')}`));
  });
  test('MESSAGE: Route = P-CSCF protected URI with lr, then the Service-Route', () => {
    const m = buildMessage({ id, callId: 'c', fromTag: 't', cseq: 1, route: routeSet({ address: '127.0.0.1', port: 5101 }, ['<sip:orig@scscf.ims.lab:6060;lr>']), contact: ME, to: 'sip:bob@ims.lab', body: new TextEncoder().encode('x'), contentType: 'text/plain' });
    assert.deepEqual(m.headers.getAll('route'), ['<sip:127.0.0.1:5101;lr>', '<sip:orig@scscf.ims.lab:6060;lr>']);
    assert.equal(m.uri, 'sip:bob@ims.lab');
  });
  test('challengeResponse uses qop=auth with a cnonce when offered', () => {
    const cr = challengeResponse(id, { ...ch, qop: ['auth'] }, 1, { res: new Uint8Array(8), ik: new Uint8Array(16), ck: new Uint8Array(16) }, new FixedRng([new Uint8Array(12).fill(0x41)]));
    assert.equal(cr.qop, 'auth');
    assert.equal(cr.nc, '00000001');
    assert.equal(cr.cnonce, 'QUFBQUFBQUFBQUFB');
  });
});

