import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SipParams, SipParseError, formatAllow, formatCSeq, formatContentType, formatEvent, formatOptionTags, formatPAccessNetworkInfo,
  formatPChargingVector, formatPVisitedNetworkId, formatPrivacy, formatSipDate, formatSubscriptionState, formatWarning, mediaType,
  parseAllow, parseCSeq, parseCallId, parseContentType, parseEvent, parseExpires, parseMaxForwards, parseOptionTags, parsePAccessNetworkInfo,
  parsePChargingVector, parsePVisitedNetworkId, parsePrivacy, parseSipDate, parseSubscriptionState, parseWarning, parseMessage, parseRetryAfter, formatRetryAfter,
  topVia, cseqOf, callIdOf, branchOf, fromTag, toTag, maxForwardsOf, expiresOf, contactsOf, routesOf, viasOf, contentTypeOf,
} from '../../../src/sip/index.js';

const fails = (fn: () => unknown, reason: RegExp, header?: string): void => {
  assert.throws(fn, (e: unknown) => e instanceof SipParseError && reason.test(e.reason) && (header === undefined || e.header === header));
};

describe('RFC 3261 §20 simple header fields', () => {
  test('CSeq: number and method; leading zeros and LWS; 32-bit bound', () => {
    assert.deepEqual(parseCSeq('0009 \t INVITE'), { seq: 9, method: 'INVITE' });
    assert.deepEqual(parseCSeq('4294967295 REGISTER'), { seq: 4294967295, method: 'REGISTER' });
    assert.equal(formatCSeq({ seq: 314159, method: 'INVITE' }), '314159 INVITE');
    fails(() => parseCSeq('4294967296 INVITE'), /out of range/, 'CSeq');
    fails(() => parseCSeq('36893488147419103232 REGISTER'), /out of range/);
    fails(() => parseCSeq('1INVITE'), /white space before method/);
    fails(() => parseCSeq('x INVITE'), /sequence number/);
    fails(() => parseCSeq('1 INVITE extra'), /unexpected text/);
  });
  test('Call-ID: word ["@" word]', () => {
    assert.equal(parseCallId('f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com'), 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com');
    assert.equal(parseCallId('a<b>c:"d"\\e'), 'a<b>c:"d"\\e');
    fails(() => parseCallId('a b'), /unexpected text/, 'Call-ID');
    fails(() => parseCallId('a@b@c'), /unexpected text/);
    fails(() => parseCallId('a@'), /expected word/);
  });
  test('Max-Forwards 0-255, Expires 0 to 2^32-1', () => {
    assert.equal(parseMaxForwards('0068'), 68);
    assert.equal(parseMaxForwards('255'), 255);
    fails(() => parseMaxForwards('256'), /out of range/, 'Max-Forwards');
    fails(() => parseMaxForwards('-1'), /Max-Forwards value/);
    assert.equal(parseExpires('4294967295'), 4294967295);
    assert.equal(parseExpires('000000000000000007'), 7);
    fails(() => parseExpires('4294967296'), /out of range/);
    fails(() => parseExpires('1e3'), /unexpected text/);
  });
  test('option tags and Allow', () => {
    assert.deepEqual(parseOptionTags('path, gruu ,sec-agree', 'Supported'), ['path', 'gruu', 'sec-agree']);
    assert.deepEqual(parseOptionTags('', 'Supported'), []);
    assert.deepEqual(parseOptionTags('', 'k'), []);
    fails(() => parseOptionTags('', 'Require'), /empty value/);
    fails(() => parseOptionTags('a,,b', 'Require'), /empty list element/);
    fails(() => parseOptionTags('a b', 'Require'), /expected comma/);
    assert.equal(formatOptionTags(['timer', '100rel']), 'timer, 100rel');
    assert.deepEqual(parseAllow('INVITE, ACK,OPTIONS'), ['INVITE', 'ACK', 'OPTIONS']);
    assert.deepEqual(parseAllow(''), []);
    assert.equal(formatAllow(['INVITE', 'BYE']), 'INVITE, BYE');
  });
  test('Date: rfc1123-date in GMT only (RFC 3261 §20.17, RFC 4475 §3.1.2.12)', () => {
    const d = parseSipDate('Sat, 13 Nov 2010 23:29:00 GMT');
    assert.equal(d.toISOString(), '2010-11-13T23:29:00.000Z');
    assert.equal(formatSipDate(d), 'Sat, 13 Nov 2010 23:29:00 GMT');
    assert.equal(formatSipDate(new Date(Date.UTC(2005, 9, 15, 4, 44, 56))), 'Sat, 15 Oct 2005 04:44:56 GMT');
    fails(() => parseSipDate('Fri, 01 Jan 2010 16:00:00 EST'), /must be in GMT/, 'Date');
    fails(() => parseSipDate('Fri, 31 Feb 2010 16:00:00 GMT'), /bad SIP-date/);
    fails(() => parseSipDate('Friday, 01 Jan 2010 16:00:00 GMT'), /bad SIP-date/);
  });
  test('Privacy (RFC 3323 §4.2)', () => {
    assert.deepEqual(parsePrivacy('id; critical'), ['id', 'critical']);
    assert.deepEqual(parsePrivacy('none'), ['none']);
    assert.equal(formatPrivacy(['header', 'session', 'user']), 'header;session;user');
    fails(() => parsePrivacy('id;'), /priv-value/);
  });
});

describe('RFC 7315 3GPP P-headers', () => {
  test('P-Access-Network-Info', () => {
    const s = '3GPP-E-UTRAN-FDD;utran-cell-id-3gpp=0010100010019B01;network-provided';
    const v = parsePAccessNetworkInfo(s);
    assert.equal(v[0].accessType, '3GPP-E-UTRAN-FDD');
    assert.equal(v[0].params.get('utran-cell-id-3gpp'), '0010100010019B01');
    assert.equal(v[0].params.get('network-provided'), null);
    assert.equal(formatPAccessNetworkInfo(v), s);
    assert.equal(formatPAccessNetworkInfo(parsePAccessNetworkInfo('IEEE-802.11 ; i-wlan-node-id = ffffff , 3GPP-UTRAN-TDD')), 'IEEE-802.11;i-wlan-node-id=ffffff, 3GPP-UTRAN-TDD');
  });
  test('P-Visited-Network-ID: tokens or quoted strings', () => {
    const v = parsePVisitedNetworkId('other.net, "Visited network number 1";x=1');
    assert.deepEqual(v.map((x) => x.network), ['other.net', 'Visited network number 1']);
    assert.equal(formatPVisitedNetworkId(v), 'other.net, "Visited network number 1";x=1');
  });
  test('P-Charging-Vector: icid-value required', () => {
    const s = 'icid-value="AyretyU0dm+6O2IrT5tAFrbHLso=023551024";icid-generated-at=192.0.6.8;orig-ioi=home1.net';
    const v = parsePChargingVector(s);
    assert.equal(v.get('orig-ioi'), 'home1.net');
    assert.equal(formatPChargingVector(v), s);
    fails(() => parsePChargingVector('orig-ioi=home1.net'), /missing icid-value/, 'P-Charging-Vector');
  });
});

describe('Event, Subscription-State, Content-Type, Warning', () => {
  test('Event and Subscription-State (RFC 6665)', () => {
    const e = parseEvent('reg;id=7');
    assert.deepEqual([e.type, e.params.get('id')], ['reg', '7']);
    assert.equal(formatEvent({ type: 'presence', params: new SipParams() }), 'presence');
    const s = parseSubscriptionState('active ; expires=600000');
    assert.equal(formatSubscriptionState(s), 'active;expires=600000');
    assert.equal(parseSubscriptionState('terminated;reason=deactivated').params.get('reason'), 'deactivated');
    fails(() => parseSubscriptionState('active;expires=soon'), /bad expires/);
  });
  test('Content-Type with parameters; media types compare case-insensitively', () => {
    const c = parseContentType('Multipart/Mixed ; boundary="7a9cbec02ceef655"');
    assert.equal(mediaType(c), 'multipart/mixed');
    assert.equal(formatContentType(c), 'Multipart/Mixed;boundary="7a9cbec02ceef655"');
    assert.equal(formatContentType(parseContentType('application/sdp')), 'application/sdp');
    fails(() => parseContentType('application'), /expected \//);
  });
  test('Warning: 3-digit code, agent, quoted text', () => {
    const w = parseWarning('307 isi.edu "Session parameter \'foo\' not understood", 301 [::1]:5060 "x"');
    assert.deepEqual(w.map((x) => [x.code, x.agent]), [[307, 'isi.edu'], [301, '[::1]:5060']]);
    assert.equal(w[0].text, "Session parameter 'foo' not understood");
    assert.equal(formatWarning(w), '307 isi.edu "Session parameter \'foo\' not understood", 301 [::1]:5060 "x"');
    fails(() => parseWarning('1812 overture "In Progress"'), /3 digits/, 'Warning');
    fails(() => parseWarning('399 host unquoted'), /quoted-string/);
  });
  test('Retry-After: delta-seconds, an optional (nested) comment, retry-params (RFC 3261 §20.33)', () => {
    const r = parseRetryAfter('18000;duration=3600');
    assert.deepEqual([r.seconds, r.comment, r.params.get('duration')], [18000, undefined, '3600']);
    const c = parseRetryAfter("120 (I'm in a meeting (really) \\) )");
    assert.equal(c.seconds, 120);
    assert.equal(c.comment, "(I'm in a meeting (really) \\) )");
    assert.equal(formatRetryAfter(c), "120 (I'm in a meeting (really) \\) )");
    assert.equal(formatRetryAfter(parseRetryAfter('30 ; duration = 60')), '30;duration=60');
    assert.equal(parseRetryAfter('4294967295').seconds, 4294967295);
    fails(() => parseRetryAfter('soon'), /delta-seconds/, 'Retry-After');
    fails(() => parseRetryAfter('4294967296'), /out of range/);
    fails(() => parseRetryAfter('30 (unterminated'), /unterminated comment/);
    fails(() => parseRetryAfter('30;duration=x'), /bad duration/);
    fails(() => parseRetryAfter('30 tomorrow'), /unexpected character/);
  });
});

describe('typed accessors on a message', () => {
  const m = parseMessage(new TextEncoder().encode([
    'REGISTER sip:ims.example.net SIP/2.0',
    'Via: SIP/2.0/UDP [2001:db8::5]:5060;branch=z9hG4bKtop;rport, SIP/2.0/UDP p.example.net;branch=z9hG4bK2',
    'Via: SIP/2.0/TCP q.example.net;branch=z9hG4bK3',
    'Max-Forwards: 70',
    'f: <sip:alice@ims.example.net>;tag=ft',
    't: <sip:alice@ims.example.net>',
    'i: call-1@example',
    'CSeq: 2 REGISTER',
    'm: <sip:alice@[2001:db8::5]:5060>;expires=600',
    'Contact: <sip:alice2@[2001:db8::5]:5060>',
    'Route: <sip:pcscf.example.net;lr>',
    'Route: <sip:scscf.example.net;lr>',
    'Expires: 600',
    'c: application/sdp',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n')));
  test('read the typed values, across compact forms and several fields', () => {
    const v = topVia(m)!;
    assert.deepEqual([v.host, v.port, v.params.get('branch')], ['2001:db8::5', 5060, 'z9hG4bKtop']);
    assert.equal(branchOf(m), 'z9hG4bKtop');
    assert.equal(viasOf(m).length, 3);
    assert.deepEqual(cseqOf(m), { seq: 2, method: 'REGISTER' });
    assert.equal(callIdOf(m), 'call-1@example');
    assert.equal(fromTag(m), 'ft');
    assert.equal(toTag(m), undefined);
    assert.equal(maxForwardsOf(m), 70);
    assert.equal(expiresOf(m), 600);
    const c = contactsOf(m);
    assert.ok(c !== '*' && c.length === 2);
    assert.equal(routesOf(m).length, 2);
    assert.equal(contentTypeOf(m)!.subtype, 'sdp');
  });
  test('absent headers give undefined; repeated single headers and bad values throw', () => {
    const r = parseMessage(new TextEncoder().encode('SIP/2.0 200 OK\r\nCSeq: 1 A\r\nCSeq: 2 A\r\nVia: SIP/2.0/UDP h;;\r\n\r\n'));
    assert.equal(callIdOf(r), undefined);
    assert.equal(fromTag(r), undefined);
    fails(() => cseqOf(r), /more than one CSeq/, 'CSeq');
    fails(() => topVia(r), /empty parameter/, 'Via');
  });
});
