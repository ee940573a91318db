import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CxResult, UserAuthorizationType } from '../../../src/diameter/cx/constants.js';
import { DiameterPeerError, DiameterTimeoutError, DiameterParseError } from '../../../src/diameter/errors.js';
import { resultCode } from '../../../src/diameter/dictionary/result.js';
import { locationDecision, registrationDecision } from '../../../src/nodes/icscf/cx-decisions.js';
import { NetworkMatcher } from '../../../src/nodes/icscf/network.js';
import { derivedImpi, registerQuery, RequestInfoError, targetIdentity } from '../../../src/nodes/icscf/request-info.js';
import { rankScscfs } from '../../../src/nodes/icscf/select.js';
import { parseMessage, parseUri, type SipRequest } from '../../../src/sip/index.js';

const answer = (result: typeof CxResult.SUCCESS, extra: object = {}) => ({ kind: 'answer' as const, answer: { sessionId: 's', originHost: 'hss.ims.lab', originRealm: 'ims.lab', result, ...extra } });

describe('S-CSCF selection by capabilities (TS 29.228 §6.7, TS 29.229 §6.3.4)', () => {
  const known = [
    { uri: 'sip:s1.ims.lab:6060', capabilities: [1] },
    { uri: 'sip:s2.ims.lab:6060', capabilities: [1, 2, 3] },
    { uri: 'sip:s3.ims.lab:6060', capabilities: [2, 3] },
    { uri: 'sip:s4.ims.lab:6060' },
  ];

  test('[R-REG-1] mandatory capabilities filter, optional ones rank, configured order breaks ties', () => {
    assert.deepEqual(rankScscfs(known, { mandatory: [1], optional: [], serverNames: [] }), ['sip:s1.ims.lab:6060', 'sip:s2.ims.lab:6060']);
    assert.deepEqual(rankScscfs(known, { mandatory: [1], optional: [3], serverNames: [] }), ['sip:s2.ims.lab:6060', 'sip:s1.ims.lab:6060']);
    assert.deepEqual(rankScscfs(known, { mandatory: [], optional: [2, 3], serverNames: [] }), ['sip:s2.ims.lab:6060', 'sip:s3.ims.lab:6060', 'sip:s1.ims.lab:6060', 'sip:s4.ims.lab:6060']);
    assert.deepEqual(rankScscfs(known, undefined), known.map((k) => k.uri));
  });

  test('[R-REG-1] preferred Server-Names come first; an unknown one only when nothing is mandatory', () => {
    assert.deepEqual(rankScscfs(known, { mandatory: [2], optional: [], serverNames: ['sip:S3.ims.lab:6060'] }), ['sip:s3.ims.lab:6060', 'sip:s2.ims.lab:6060']);
    assert.deepEqual(rankScscfs(known, { mandatory: [], optional: [], serverNames: ['sip:new.ims.lab'] })[0], 'sip:new.ims.lab');
    assert.ok(!rankScscfs(known, { mandatory: [1], optional: [], serverNames: ['sip:new.ims.lab'] }).includes('sip:new.ims.lab'));
  });

  test('[R-REG-1] nothing qualifies → empty; tried servers are excluded', () => {
    assert.deepEqual(rankScscfs(known, { mandatory: [9], optional: [], serverNames: [] }), []);
    assert.deepEqual(rankScscfs(known, { mandatory: [1], optional: [], serverNames: [] }, ['sip:s1.ims.lab:6060']), ['sip:s2.ims.lab:6060']);
  });
});

describe('UAA/LIA → SIP (TS 24.229 §5.3.1.3, §5.3.2.2; TS 29.229 §6.2)', () => {
  test('[R-REG-1] UAA success with Server-Name forwards; with capabilities (or nothing) selects', () => {
    assert.deepEqual(registrationDecision(answer(CxResult.SUBSEQUENT_REGISTRATION, { serverName: 'sip:scscf.ims.lab:6060' })), { kind: 'forward', server: 'sip:scscf.ims.lab:6060', assigned: true });
    const caps = { mandatory: [1], optional: [], serverNames: [] };
    assert.deepEqual(registrationDecision(answer(CxResult.FIRST_REGISTRATION, { serverCapabilities: caps })), { kind: 'select', capabilities: caps });
    assert.deepEqual(registrationDecision(answer(CxResult.SUCCESS)), { kind: 'select' });
  });

  test('[R-REG-1] UAA errors: user unknown, identities mismatch, roaming not allowed, authorization rejected → 403', () => {
    for (const r of [CxResult.ERROR_USER_UNKNOWN, CxResult.ERROR_IDENTITIES_DONT_MATCH, CxResult.ERROR_ROAMING_NOT_ALLOWED, CxResult.AUTHORIZATION_REJECTED, CxResult.ERROR_IDENTITY_NOT_REGISTERED]) {
      const d = registrationDecision(answer(r));
      assert.equal(d.kind === 'reject' && d.status, 403, JSON.stringify(r));
    }
  });

  test('[R-REG-1] no answer (timeout, no HSS peer, malformed UAA) or TOO_BUSY → 480; other permanent failures → 500', () => {
    const cases: [unknown, number][] = [
      [new DiameterTimeoutError('t', 1, 10), 480],
      [new DiameterPeerError('no peer', 3002), 480],
      [new DiameterParseError('bad'), 480],
      [new Error('bug'), 500],
    ];
    for (const [error, status] of cases) {
      const d = registrationDecision({ kind: 'failure', error });
      assert.equal(d.kind === 'reject' && d.status, status);
    }
    assert.equal((registrationDecision(answer(CxResult.TOO_BUSY)) as { status: number }).status, 480);
    assert.equal((registrationDecision(answer(resultCode(5012))) as { status: number }).status, 500);
  });

  test('LIA: serving S-CSCF forwards; unregistered service selects; unknown → 404; not registered → 480', () => {
    assert.equal(locationDecision(answer(CxResult.SUCCESS, { serverName: 'sip:scscf.ims.lab:6060' })).kind, 'forward');
    assert.equal(locationDecision(answer(CxResult.UNREGISTERED_SERVICE, { serverCapabilities: { mandatory: [], optional: [], serverNames: [] } })).kind, 'select');
    assert.equal((locationDecision(answer(CxResult.ERROR_USER_UNKNOWN)) as { status: number }).status, 404);
    assert.equal((locationDecision(answer(CxResult.ERROR_IDENTITY_NOT_REGISTERED)) as { status: number }).status, 480);
    assert.equal((locationDecision({ kind: 'failure', error: new DiameterTimeoutError('t', 1, 1) }) as { status: number }).status, 480);
  });
});

const reg = (extra: string[], to = '<sip:alice@ims.lab>'): SipRequest =>
  parseMessage(
    Buffer.from(
      ['REGISTER sip:ims.lab SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKr', `To: ${to}`, 'From: <sip:alice@ims.lab>;tag=1', 'Call-ID: r', 'CSeq: 1 REGISTER', 'Contact: <sip:alice@10.0.0.1:5060>', ...extra, 'Content-Length: 0', '', ''].join('\r\n'),
    ),
  ) as SipRequest;

describe('UAR inputs from a REGISTER (TS 24.229 §5.3.1.2)', () => {
  const opts = { defaultVisitedNetwork: 'ims.lab', homeRealms: ['ims.lab'] };

  test('[R-REG-1] IMPI from Authorization, IMPU from To, visited network from P-Visited-Network-ID', () => {
    const q = registerQuery(reg(['Authorization: Digest username="alice@ims.lab", realm="ims.lab", nonce="", uri="sip:ims.lab", response=""', 'P-Visited-Network-ID: "Visited Net", other'], '<sip:alice@ims.lab:5060;user=phone>;tag=x'), opts);
    assert.deepEqual(q, { impi: 'alice@ims.lab', impu: 'sip:alice@ims.lab', visitedNetwork: 'Visited Net', authorizationType: UserAuthorizationType.REGISTRATION });
  });

  test('[R-REG-1] without Authorization the IMPI is derived from To; default visited network', () => {
    assert.deepEqual(registerQuery(reg([]), opts), { impi: 'alice@ims.lab', impu: 'sip:alice@ims.lab', visitedNetwork: 'ims.lab', authorizationType: 0 });
    assert.equal(derivedImpi(parseUri('sip:bob%40x@ims.lab:5070;transport=tcp')), 'bob@x@ims.lab');
  });

  test('[R-REG-1] Expires: 0 or all contacts expires=0 → DE_REGISTRATION', () => {
    assert.equal(registerQuery(reg(['Expires: 0']), opts).authorizationType, UserAuthorizationType.DE_REGISTRATION);
    const r = reg([]);
    r.headers.set('Contact', '<sip:alice@10.0.0.1>;expires=0');
    assert.equal(registerQuery(r, opts).authorizationType, UserAuthorizationType.DE_REGISTRATION);
    r.headers.set('Contact', '<sip:alice@10.0.0.1>;expires=0, <sip:alice@10.0.0.2>');
    assert.equal(registerQuery(r, opts).authorizationType, UserAuthorizationType.REGISTRATION);
  });

  test('bad headers give RequestInfoError 400; LIR identity is the Request-URI without parameters', () => {
    const r = reg([]);
    r.headers.set('To', '<bad');
    assert.throws(() => registerQuery(r, opts), (e: unknown) => e instanceof RequestInfoError && e.status === 400);
    const m = reg([]);
    m.uri = 'sip:bob@ims.lab;user=phone';
    assert.equal(targetIdentity(m), 'sip:bob@ims.lab');
    m.uri = 'tel:+15551234;phone-context=ims.lab';
    assert.equal(targetIdentity(m), 'tel:+15551234');
  });
});

describe('network membership', () => {
  test('domains match names and subdomains; addresses match by IP and optional port', () => {
    const n = new NetworkMatcher({ domains: ['IMS.lab'], addresses: ['127.0.0.1:6060', '10.0.0.1', '[::1]:5060'] });
    assert.ok(n.has('ims.lab') && n.has('scscf.ims.LAB') && !n.has('xims.lab') && !n.has('other.lab'));
    assert.ok(n.has('127.0.0.1', 6060) && !n.has('127.0.0.1', 5060) && !n.has('127.0.0.1'));
    assert.ok(n.has('10.0.0.1', 1234) && n.has('[::1]') && !n.has('::1', 5070));
    assert.throws(() => new NetworkMatcher({ addresses: ['1.2.3.4:99999'] }), (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT');
  });
});
