/**
 * The P-CSCF's pure rules, table-driven: REGISTER classification and the sec-agree gate
 * (RFC 3329 §2.3.1, TS 24.229 §5.2.2), header edits, identity and privacy (RFC 3325, RFC 3323),
 * routing (RFC 3261 §16, RFC 3608) and reg-event outcomes (RFC 3680). Expected values are
 * written out by hand from the specs, never produced by the code under test.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_PCSCF_POLICY } from '../../../src/secagree/index.js';
import {
  applyTerminatingPrivacy,
  checkIdentity,
  classifyUnprotectedRegister,
  enforceServiceRoute,
  grantedExpires,
  popOwnRoutes,
  regEventOutcome,
  removeAkaKeys,
  secAgreeGate,
  setIntegrityProtected,
  stripSecAgree,
  type SelfId,
} from '../../../src/nodes/pcscf/index.js';
import { SipParseError, parseDigestCredentials, parseMessage, type SipRequest, type SipResponse } from '../../../src/sip/index.js';

/** A message from raw lines (the independent builder: text, not our encoder). */
function msg<T = SipRequest>(lines: string[]): T {
  return parseMessage(Buffer.from([...lines, 'Content-Length: 0', '', ''].join('\r\n'), 'latin1')) as T;
}

const BASE = ['Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKr1', 'From: <sip:alice@ims.lab>;tag=1', 'To: <sip:alice@ims.lab>', 'Call-ID: c1', 'CSeq: 1 REGISTER', 'Max-Forwards: 70'];
const SC = 'Security-Client: ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;prot=esp;mod=UDP-enc-tun;spi-c=3000000001;spi-s=3000000002;port-c=31000;port-s=31001';
const POLICY = { ...DEFAULT_PCSCF_POLICY, mods: ['UDP-enc-tun' as const] };

describe('TS 24.229 §5.2.2 / RFC 3329 §2.3.1: unprotected REGISTERs', () => {
  test('[R-SA-5] classification of the Authorization an unprotected REGISTER carries', () => {
    const rows: [string | undefined, string][] = [
      [undefined, 'initial'],
      ['Digest username="a@ims.lab", realm="ims.lab", nonce="", uri="sip:ims.lab", response=""', 'initial'],
      ['Digest username="a@ims.lab", realm="ims.lab", nonce="bm9uY2U=", uri="sip:ims.lab", response="", auts="AAAAAAAAAAAAAAAAAAA="', 'sync-failure'],
      ['Digest username="a@ims.lab", realm="ims.lab", nonce="bm9uY2U=", uri="sip:ims.lab", response=""', 'auth-failure'],
      ['Digest username="a@ims.lab", realm="ims.lab", nonce="bm9uY2U=", uri="sip:ims.lab", response="00112233445566778899aabbccddeeff"', 'challenge-answer'],
    ];
    for (const [auth, kind] of rows) assert.equal(classifyUnprotectedRegister(auth === undefined ? undefined : parseDigestCredentials(auth)), kind, auth);
  });

  test('[R-SM-2] the sec-agree gate: 421 without the option tag, 494 without an acceptable offer, 400 for garbage', () => {
    const cases: [string[], number | 'ok'][] = [
      [[SC], 421],
      [['Supported: sec-agree', SC], 421],
      [['Require: sec-agree'], 494],
      [['Proxy-Require: sec-agree', SC], 'ok'],
      [['Require: sec-agree', 'Proxy-Require: sec-agree', SC], 'ok'],
      [['Require: sec-agree', 'Security-Client: ipsec-3gpp;alg=hmac-sha-1-96;mod=trans;spi-c=3000000001;spi-s=3000000002;port-c=31000;port-s=31001'], 494],
      [['Require: sec-agree', 'Security-Client: digest;d-alg=md5'], 494],
      [['Require: sec-agree', 'Security-Client: ipsec-3gpp;spi-c=notanumber'], 400],
    ];
    for (const [extra, want] of cases) {
      const g = secAgreeGate(msg(['REGISTER sip:ims.lab SIP/2.0', ...BASE, ...extra]), POLICY);
      if (want === 'ok') {
        assert.ok(g.ok, extra.join(' | '));
        assert.equal(g.selection.ue.portS, 31001);
      } else {
        assert.ok(!g.ok, extra.join(' | '));
        assert.equal(g.status, want, extra.join(' | '));
        if (want === 421) assert.deepEqual(g.headers, [['Require', 'sec-agree']]);
        if (want === 494) assert.match(g.headers.find(([n]) => n === 'Security-Server')![1], /^ipsec-3gpp;alg=/);
      }
    }
  });

  test('RFC 3329 §2.3.1: Security-Client, Security-Verify and the sec-agree tags never leave the P-CSCF', () => {
    const r = msg(['REGISTER sip:ims.lab SIP/2.0', ...BASE, 'Require: sec-agree, path', 'Proxy-Require: sec-agree', SC, 'Security-Verify: ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1000;spi-s=1001;port-c=5100;port-s=5101', 'Supported: sec-agree']);
    stripSecAgree(r);
    assert.equal(r.headers.get('Security-Client'), undefined);
    assert.equal(r.headers.get('Security-Verify'), undefined);
    assert.equal(r.headers.get('Proxy-Require'), undefined);
    assert.equal(r.headers.get('Require'), 'path');
    assert.equal(r.headers.get('Supported'), 'sec-agree', 'Supported is left alone');
  });

  test('[R-REG-4] integrity-protected is written, overwriting what the UE sent', () => {
    const r = msg(['REGISTER sip:ims.lab SIP/2.0', ...BASE, 'Authorization: Digest username="a@ims.lab", realm="ims.lab", nonce="", uri="sip:ims.lab", response="", integrity-protected="yes"']);
    setIntegrityProtected(r, 'no');
    assert.match(r.headers.get('Authorization')!, /integrity-protected="no"/);
    assert.doesNotMatch(r.headers.get('Authorization')!, /"yes"/);
  });

  test('[R-AKA-6] ik and ck are removed from every challenge', () => {
    const resp = msg<SipResponse>([
      'SIP/2.0 401 Unauthorized',
      ...BASE,
      'WWW-Authenticate: Digest realm="ims.lab", nonce="bm9uY2U=", algorithm=AKAv1-MD5, ik="00112233445566778899aabbccddeeff", ck="ffeeddccbbaa99887766554433221100"',
      'WWW-Authenticate: Digest realm="other.lab", nonce="eA==", ck="ffeeddccbbaa99887766554433221100"',
    ]);
    removeAkaKeys(resp);
    const all = resp.headers.getLines('WWW-Authenticate');
    assert.equal(all.length, 2);
    for (const v of all) assert.doesNotMatch(v, /\b(ik|ck)=/);
    assert.match(all[0], /nonce="bm9uY2U="/);
  });

  test('[R-SA-7] the lifetime granted is the expires of the UE contact in the 200', () => {
    const ok = (contacts: string[], expires?: string) => msg<SipResponse>(['SIP/2.0 200 OK', ...BASE, ...contacts, ...(expires ? [`Expires: ${expires}`] : [])]);
    const ue = { address: '127.0.0.1', port: 31001 };
    assert.equal(grantedExpires(ok(['Contact: <sip:alice@127.0.0.1:31001>;expires=600']), ue), 600);
    assert.equal(grantedExpires(ok(['Contact: <sip:bob@127.0.0.1:40000>;expires=900', 'Contact: <sip:alice@127.0.0.1:31001>;expires=300']), ue), 300);
    assert.equal(grantedExpires(ok(['Contact: <sip:alice@127.0.0.1:31001>'], '1200'), ue), 1200);
    assert.equal(grantedExpires(ok(['Contact: <sip:bob@127.0.0.1:40000>;expires=900']), ue), 0, 'no binding of this UE left');
    assert.equal(grantedExpires(ok([]), ue), 0);
  });
});

describe('RFC 3325 / RFC 3323: identity and privacy', () => {
  const req = (extra: string[]) => msg(['MESSAGE sip:bob@ims.lab SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:31001;branch=z9hG4bKm1', 'From: <sip:alice@ims.lab>;tag=1', 'To: <sip:bob@ims.lab>', 'Call-ID: m1', 'CSeq: 1 MESSAGE', ...extra]);
  const impus = ['sip:alice@ims.lab', 'tel:+15551234', 'sip:anon-7f@ims.lab'];

  test('[R-SA-4] [R-ANON-2] the claimed identity must be one bound to the SA', () => {
    const rows: [string[], boolean][] = [
      [[], true],
      [['P-Preferred-Identity: <tel:+1-555-1234>'], true],
      [['P-Preferred-Identity: <sip:anon-7f@IMS.LAB>'], true],
      [['P-Preferred-Identity: <sip:bob@ims.lab>'], false],
      [['P-Preferred-Identity: <sip:alice@ims.lab>, <tel:+15559999>'], false],
    ];
    for (const [extra, ok] of rows) assert.equal(checkIdentity(req(extra), impus).ok, ok, extra.join(' '));
    assert.equal(checkIdentity(req([]), ['sip:bob@ims.lab']).ok, false, 'From not bound');
    assert.throws(() => checkIdentity(req(['P-Preferred-Identity: <sip:alice@ims.lab']), impus), (e: unknown) => e instanceof SipParseError && e.header === 'P-Preferred-Identity', 'RFC 3261 §16.3 step 1: a field it reads that does not parse is the 400 of the stack, not a discard');
  });

  test('[R-ANON-1] privacy towards the UE', () => {
    const rows: [string | undefined, boolean, 'kept' | 'removed' | 500][] = [
      [undefined, true, 'kept'],
      ['none', true, 'kept'],
      ['id', true, 'removed'],
      ['id;critical', true, 'removed'],
      ['user', true, 'kept'],
      ['header', true, 'kept'],
      ['header;critical', true, 500],
      ['session;id;critical', true, 500],
      [undefined, false, 'removed'],
    ];
    for (const [privacy, ueTrusted, want] of rows) {
      const r = req(['P-Asserted-Identity: <sip:carol@ims.lab>', ...(privacy ? [`Privacy: ${privacy}`] : [])]);
      const out = applyTerminatingPrivacy(r, { ueTrusted });
      if (want === 500) {
        assert.ok(!out.ok);
        assert.equal(out.status, 500);
      } else {
        assert.ok(out.ok);
        assert.equal(r.headers.has('P-Asserted-Identity'), want === 'kept', `${privacy} ${ueTrusted}`);
      }
    }
  });
});

describe('RFC 3261 §16 / RFC 3608: routes', () => {
  const self: SelfId = { addresses: ['127.0.0.1'], names: ['pcscf.ims.lab'], isOwnPort: (p) => p === 5060 || p === 5101 };
  const req = (routes: string) => msg(['MESSAGE sip:bob@ims.lab SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:31001;branch=z9hG4bKm1', `Route: ${routes}`, 'From: <sip:alice@ims.lab>;tag=1', 'To: <sip:bob@ims.lab>', 'Call-ID: m1', 'CSeq: 1 MESSAGE']);

  test('own entries are popped from the top, others kept', () => {
    const r = req('<sip:127.0.0.1:5101;lr>, <sip:pcscf.ims.lab;lr>, <sip:orig@scscf.ims.lab:6060;lr>, <sip:127.0.0.1:5101;lr>');
    assert.equal(popOwnRoutes(r, self), 2);
    assert.equal(r.headers.get('Route'), '<sip:orig@scscf.ims.lab:6060;lr>, <sip:127.0.0.1:5101;lr>');
    const other = req('<sip:127.0.0.1:5999;lr>');
    assert.equal(popOwnRoutes(other, self), 0, 'another port of the same host is not us');
  });

  test('TS 24.229 §5.2.6.3.2: a preloaded Route that does not start with the Service-Route is replaced', () => {
    const sr = ['<sip:orig@scscf.ims.lab:6060;lr>'];
    const good = req('<sip:orig@scscf.ims.lab:6060;lr>, <sip:as.ims.lab;lr>');
    assert.equal(enforceServiceRoute(good, sr), false);
    assert.equal(good.headers.get('Route'), '<sip:orig@scscf.ims.lab:6060;lr>, <sip:as.ims.lab;lr>');
    const bad = req('<sip:evil.example;lr>');
    assert.equal(enforceServiceRoute(bad, sr), true);
    assert.equal(bad.headers.get('Route'), '<sip:orig@scscf.ims.lab:6060;lr>');
  });
});

describe('RFC 3680 §5.3: what a reginfo means for the P-CSCF', () => {
  const reg = { impus: ['sip:alice@ims.lab', 'tel:+15551234'], ueAddress: '127.0.0.1' };
  const doc = (state: 'active' | 'terminated', cstate: 'active' | 'terminated', event: string, host = '127.0.0.1', expires = 600) => ({
    version: 0,
    state: 'full' as const,
    registrations: [{ aor: 'sip:alice@ims.lab', id: 'r', state, contacts: [{ id: 'c', state: cstate, event: event as 'registered', uri: `sip:alice@${host}:31001`, expires }] }],
  });

  test('[R-SA-7] terminated registrations or contacts end the registration; shortened ones shorten it', () => {
    assert.equal(regEventOutcome(doc('active', 'active', 'registered'), reg).kind, 'none');
    assert.equal(regEventOutcome(doc('active', 'active', 'refreshed'), reg).kind, 'none');
    assert.equal(regEventOutcome(doc('terminated', 'terminated', 'deactivated'), reg).kind, 'deregistered');
    assert.equal(regEventOutcome(doc('active', 'terminated', 'expired'), reg).kind, 'deregistered');
    assert.equal(regEventOutcome(doc('active', 'terminated', 'unregistered', '192.0.2.9'), reg).kind, 'none', 'another UE of the IMPU');
    assert.deepEqual(regEventOutcome(doc('active', 'active', 'shortened', '127.0.0.1', 30), reg), { kind: 'shortened', aor: 'sip:alice@ims.lab', expires: 30 });
    const otherAor = { ...doc('terminated', 'terminated', 'deactivated'), registrations: [{ ...doc('terminated', 'terminated', 'deactivated').registrations[0], aor: 'sip:bob@ims.lab' }] };
    assert.equal(regEventOutcome(otherAor, reg).kind, 'none');
  });
});
