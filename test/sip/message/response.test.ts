import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FixedRng, InvalidArgumentError } from '../../../src/common/index.js';
import {
  SipHeaders, SipParseError, SipRequest, checkRequest, createResponse, parseFailureAnswer, parseMessage, reasonPhrase, serializeMessage, toTag, type SipResponse,
} from '../../../src/sip/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function request(extra: string[] = [], method = 'INVITE', uri = 'sip:bob@example.com', cseqMethod = method): SipRequest {
  const text = [
    `${method} ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1, SIP/2.0/UDP ue.example.com;branch=z9hG4bKue',
    'v: SIP/2.0/UDP first.example.com;branch=z9hG4bKf',
    'Max-Forwards: 69',
    'From: "Alice" <sip:alice@example.com>;tag=a1',
    'To: <sip:bob@example.com>',
    'Call-ID: c1@example.com',
    `CSeq: 7 ${cseqMethod}`,
    'Timestamp: 54',
    'Contact: <sip:alice@192.0.2.1>',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return parseMessage(enc(text)) as SipRequest;
}

describe('RFC 3261 §8.2.6 createResponse', () => {
  test('copies the Via fields in order, From, Call-ID and CSeq, and adds a To tag above 100', () => {
    const req = request();
    const r = createResponse(req, 486, undefined, { rng: new FixedRng([Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)]) });
    assert.equal(r.status, 486);
    assert.equal(r.reason, 'Busy Here');
    assert.deepEqual([...r.headers], [
      ['Via', 'SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1, SIP/2.0/UDP ue.example.com;branch=z9hG4bKue'],
      ['Via', 'SIP/2.0/UDP first.example.com;branch=z9hG4bKf'],
      ['From', '"Alice" <sip:alice@example.com>;tag=a1'],
      ['To', '<sip:bob@example.com>;tag=0102030405060708'],
      ['Call-ID', 'c1@example.com'],
      ['CSeq', '7 INVITE'],
    ]);
    assert.equal(toTag(r), '0102030405060708');
    assert.equal(new TextDecoder().decode(serializeMessage(r)).split('\r\n')[0], 'SIP/2.0 486 Busy Here');
  });
  test('keeps an existing To tag; 100 Trying gets no tag but copies Timestamp (§8.2.6.1)', () => {
    const req = request();
    req.headers.set('To', '<sip:bob@example.com>;tag=b9');
    assert.equal(createResponse(req, 200).headers.get('to'), '<sip:bob@example.com>;tag=b9');
    const trying = createResponse(request(), 100);
    assert.equal(trying.headers.get('to'), '<sip:bob@example.com>');
    assert.equal(trying.headers.get('timestamp'), '54');
    assert.equal(createResponse(request(), 180, undefined, { toTag: 'x' }).headers.get('timestamp'), undefined);
  });
  test('a given tag, reason, headers and body are used', () => {
    const r: SipResponse = createResponse(request(), 401, 'Unauthorized (AKA)', {
      toTag: 'zz',
      headers: [['WWW-Authenticate', 'Digest realm="ims", nonce="abc"'], ['Security-Server', 'ipsec-3gpp;q=0.1']],
      body: enc('x'),
      contentType: 'text/plain',
    });
    assert.equal(r.reason, 'Unauthorized (AKA)');
    assert.equal(toTag(r), 'zz');
    assert.equal(r.headers.get('www-authenticate'), 'Digest realm="ims", nonce="abc"');
    assert.equal(r.headers.get('content-type'), 'text/plain');
    assert.equal(parseMessage(serializeMessage(r)).body.length, 1);
  });
  test('works on a request whose To cannot be parsed (answering a 400)', () => {
    const req = request();
    req.headers.set('To', '"unterminated <sip:bob@example.com>');
    assert.match(createResponse(req, 400, undefined, { toTag: 't' }).headers.get('to')!, /;tag=t$/);
  });
  test('default reason phrases (RFC 3261 §21 and extensions)', () => {
    assert.equal(reasonPhrase(100), 'Trying');
    assert.equal(reasonPhrase(494), 'Security Agreement Required');
    assert.equal(reasonPhrase(420), 'Bad Extension');
    assert.equal(reasonPhrase(599), 'Server Error');
    assert.throws(() => createResponse(request(), 700), InvalidArgumentError);
  });
});

describe('RFC 3261 §8.2 / §16.3 checkRequest', () => {
  test('a well-formed request passes', () => {
    assert.equal(checkRequest(request()), null);
    assert.equal(checkRequest(request(), { role: 'proxy' }), null);
  });
  test('Require with supported option tags passes; unknown ones get 420 with Unsupported (§8.2.2.3)', () => {
    const req = request(['Require: sec-agree, 100rel']);
    assert.equal(checkRequest(req, { supported: ['sec-agree', '100rel'] }), null);
    const r = checkRequest(req, { supported: ['sec-agree'] })!;
    assert.deepEqual([r.status, r.headers], [420, [['Unsupported', '100rel']]]);
    assert.equal(checkRequest(request(['Require: foo'], 'ACK', 'sip:bob@example.com')), null, 'ACK is never rejected for Require');
    assert.equal(checkRequest(request(['Require: foo']), { role: 'proxy' }), null, 'a proxy ignores Require');
    assert.equal(checkRequest(request(['Proxy-Require: sec-agree']), { role: 'proxy', supported: ['sec-agree'] }), null);
  });
  test('methods not implemented get 405 or 501 with Allow (§8.2.1)', () => {
    const methods = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS'];
    const r = checkRequest(request([], 'MESSAGE'), { methods })!;
    assert.deepEqual([r.status, r.headers], [405, [['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS']]]);
    assert.equal(checkRequest(request([], 'FOO'), { methods })!.status, 501);
    assert.equal(checkRequest(request([], 'INVITE'), { methods }), null);
  });
  test('Content-Length must match the body of a constructed request', () => {
    const req = request();
    req.body = enc('abc');
    const r = checkRequest(req)!;
    assert.equal(r.status, 400);
    assert.match(r.detail, /Content-Length/);
  });
  test('Max-Forwards: missing passes unless required; out of range gets 400; 0 at a proxy gets 483', () => {
    const req = request();
    req.headers.remove('Max-Forwards');
    assert.equal(checkRequest(req), null);
    assert.equal(checkRequest(req, { requireMaxForwards: true })!.status, 400);
    req.headers.set('Max-Forwards', '256');
    assert.equal(checkRequest(req)!.status, 400);
    req.headers.set('Max-Forwards', '0');
    assert.equal(checkRequest(req, { role: 'proxy' })!.status, 483);
  });
  test('Request-URI schemes: sip, sips and tel by default, others 416; configurable', () => {
    assert.equal(checkRequest(request([], 'INVITE', 'tel:+15551234567')), null);
    assert.equal(checkRequest(request([], 'INVITE', 'urn:service:sos'))!.status, 416);
    assert.equal(checkRequest(request([], 'INVITE', 'urn:service:sos'), { uriSchemes: ['sip', 'urn'] }), null);
  });
  test('a registrar needs Contact * to come alone with Expires: 0 (§10.3 step 6)', () => {
    const star = (extra: string[]): SipRequest => {
      const r = request(extra, 'REGISTER', 'sip:example.com');
      r.headers.set('Contact', '*');
      return r;
    };
    assert.equal(checkRequest(star(['Expires: 0']), { role: 'registrar' }), null);
    assert.equal(checkRequest(star(['Expires: 3600']), { role: 'registrar' })!.status, 400);
    assert.equal(checkRequest(star([]), { role: 'registrar' })!.status, 400);
  });
  test('§16.3 step 1: a field the element does not read is not checked ("well-formed or not"); one its role reads gets 400 naming it', () => {
    const junk = ['Date: Fri, 01 Jan 2010 16:00:00 EST', 'Warning: bogus', 'Expires: soon', 'Require: a b', 'Content-Type: no-slash'];
    const req = request(junk);
    req.body = enc('x');
    req.headers.set('Content-Length', '1');
    assert.equal(checkRequest(req, { role: 'proxy' }), null, 'a proxy reads none of them');
    assert.equal(checkRequest(req, { role: 'uas', supported: ['a'] })?.reason, 'Bad Require', 'a UAS reads Require (§8.2.2.3)');
    const noRequire = request(junk.filter((l) => !l.startsWith('Require')));
    noRequire.body = enc('x');
    noRequire.headers.set('Content-Length', '1');
    assert.equal(checkRequest(noRequire), null, 'a UAS that takes any body does not read Content-Type');
    assert.equal(checkRequest(noRequire, { contentTypes: ['application/sdp'] })?.reason, 'Bad Content-Type', 'one that filters bodies does (§8.2.3)');
    const reg = request(['Expires: soon'], 'REGISTER', 'sip:example.com');
    assert.equal(checkRequest(reg, { role: 'proxy' }), null);
    assert.deepEqual(checkRequest(reg, { role: 'registrar' }), { status: 400, reason: 'Bad Expires', detail: 'Expires: expected delta-seconds' });
    const twice = request(['Expires: 10', 'Expires: 20'], 'REGISTER', 'sip:example.com');
    assert.equal(checkRequest(twice, { role: 'registrar' })?.reason, 'Bad Expires', 'RFC 4475 §3.3.8: a single-valued field the registrar reads, twice');
  });
  test('§16.3 step 1 / §21.5.3 parseFailureAnswer: 400 when the request carries the field malformed, 502 when the field is fine in the request or absent (a response was at fault)', () => {
    const err = (header: string): SipParseError => new SipParseError('bad', 0, { header });
    assert.equal(parseFailureAnswer(err('Expires'), request(['Expires: soon']))?.status, 400);
    assert.equal(parseFailureAnswer(err('Expires'), request(['Expires: soon']))?.reason, 'Bad Expires');
    assert.equal(parseFailureAnswer(err('Expires'), request(['Expires: 60', 'Expires: 60']))?.status, 400, 'more than once');
    assert.equal(parseFailureAnswer(err('Expires'), request(['Expires: 60']))?.status, 502);
    assert.equal(parseFailureAnswer(err('P-Associated-URI'), request())?.status, 502);
    assert.equal(parseFailureAnswer(err('Security-Client'), request(['Security-Client: ipsec-3gpp; alg=x']))?.status, 400, 'no codec here: present in the request, so its own parser refused it');
    assert.equal(parseFailureAnswer(new SipParseError('bad', 0), request())?.status, 502);
    assert.equal(parseFailureAnswer(new Error('boom'), request()), undefined);
  });
  test('the failure never carries header values (only names)', () => {
    const req = request(['Authorization: Digest username="secret-user", response="deadbeef"']);
    req.headers.set('From', '"unterminated secret-user <sip:x@y>');
    const r = checkRequest(req)!;
    assert.equal(r.status, 400);
    assert.doesNotMatch(`${r.reason} ${r.detail}`, /secret|deadbeef/);
  });
  test('new SipRequest with defaults builds an empty request', () => {
    const r = new SipRequest('OPTIONS', 'sip:a@b');
    assert.ok(r.headers instanceof SipHeaders);
    assert.equal(r.body.length, 0);
    assert.equal(checkRequest(r)!.status, 400);
  });
});
