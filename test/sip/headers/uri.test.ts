import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SipParseError, escapeParam, escapeUser, formatUri, parseUri, sipUri, unescapeUri, uriEquals, type SipUri, type TelUri,
} from '../../../src/sip/index.js';

const sip = (s: string): SipUri => {
  const u = parseUri(s);
  assert.equal(u.kind, 'sip');
  return u;
};

describe('RFC 3261 §19.1 SIP and SIPS URIs', () => {
  test('components: user, password, host, port, parameters, headers', () => {
    const u = sip('sips:alice:secret@Atlanta.example.com:5061;transport=tcp;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent');
    assert.equal(u.scheme, 'sips');
    assert.equal(u.user, 'alice');
    assert.equal(u.password, 'secret');
    assert.equal(u.host, 'Atlanta.example.com');
    assert.equal(u.port, 5061);
    assert.deepEqual([...u.params], [['transport', 'tcp'], ['lr', null], ['maddr', '239.255.255.1']]);
    assert.deepEqual(u.headers, [['subject', 'project%20x'], ['priority', 'urgent']]);
  });
  test('IPv6 references keep the address without brackets (RFC 5118)', () => {
    const u = sip('sip:[2001:db8::10]:5070;transport=udp');
    assert.equal(u.host, '2001:db8::10');
    assert.equal(u.port, 5070);
    assert.equal(formatUri(u), 'sip:[2001:db8::10]:5070;transport=udp');
    assert.equal(sip('sip:user@[::ffff:192.0.2.1]').host, '::ffff:192.0.2.1');
  });
  test('telephone-subscriber user parts (RFC 3261 §19.1.6) and user=phone', () => {
    const u = sip('sip:+1-212-555-1212;isub=411@gateway.com;user=phone');
    assert.equal(u.user, '+1-212-555-1212;isub=411');
    assert.equal(u.params.get('user'), 'phone');
  });
  test('canonical forms round-trip exactly', () => {
    for (const s of [
      'sip:example.com',
      'sip:alice@example.com',
      'sip:alice@192.0.2.4:5060',
      'sips:1212@gateway.com',
      'sip:alice;day=tuesday@atlanta.com',
      'sip:%61lice@atlanta.com;transport=TCP',
      'sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com',
      'sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org',
      'sip:orig@scscf.ims.example.net:6060;lr',
      'sip:[2001:db8::1]',
      'tel:+1-201-555-0123',
      'tel:7042;phone-context=example.com',
      'urn:service:sos',
      'mailto:someone@example.com',
    ]) {
      assert.equal(formatUri(parseUri(s)), s);
    }
  });
  test('the scheme is case-insensitive and written in lower case', () => {
    assert.equal(formatUri(parseUri('SIP:alice@example.com')), 'sip:alice@example.com');
    assert.equal(parseUri('TEL:+1234').kind, 'tel');
  });
  test('malformed SIP URIs fail with the offset of the problem', () => {
    const cases: [string, RegExp, number][] = [
      ['sip:', /missing host/, 4],
      ['sip:@example.com', /empty user/, 4],
      ['sip:al ice@example.com', /white space in URI user/, 6],
      ['sip:alice@exa mple.com', /white space in URI/, 13],
      ['sip:alice@example.com:99999', /bad port/, 22],
      ['sip:alice@example.com:', /bad port/, 22],
      ['sip:alice@example.com;;lr', /empty URI parameter/, 22],
      ['sip:alice@example.com;a=', /empty URI parameter value/, 23],
      ['sip:alice@example.com?x', /bad URI header/, 22],
      ['sip:al%4@example.com', /bad escape in URI user/, 6],
      ['sip:alice@[2001:db8::1', /unterminated IPv6/, 10],
      ['sip:alice@[zz]', /bad IPv6/, 10],
      ['sip:alice@exa_mple.com', /invalid character in URI host/, 13],
      ['sip:a<b@example.com', /invalid character in URI user/, 5],
      ['1sip:x', /bad URI scheme/, 0],
      ['nocolon', /URI without scheme/, 0],
      ['tel:', /empty tel number/, 4],
      ['tel:+12x', /invalid character in tel number/, 7],
      ['urn:', /empty URI/, 4],
      ['urn:a b', /white space in URI/, 5],
    ];
    for (const [s, reason, offset] of cases) {
      assert.throws(
        () => parseUri(s, 'To'),
        (e: unknown) => e instanceof SipParseError && reason.test(e.reason) && e.offset === offset && e.header === 'To',
        `${s} should fail with ${reason} at ${offset}`,
      );
    }
  });
});

describe('RFC 3966 tel URIs', () => {
  test('global and local numbers with parameters', () => {
    const g = parseUri('tel:+358-555-1234567;postd=pp22') as TelUri;
    assert.deepEqual([g.kind, g.number, [...g.params]], ['tel', '+358-555-1234567', [['postd', 'pp22']]]);
    const l = parseUri('tel:7042;phone-context=example.com') as TelUri;
    assert.equal(l.params.get('phone-context'), 'example.com');
  });
});

describe('RFC 3261 §19.1.2 escapes and §19.1.4 comparison', () => {
  test('unescape decodes %HH once, as UTF-8', () => {
    assert.equal(unescapeUri('I%20have%20spaces'), 'I have spaces');
    assert.equal(unescapeUri('value%25%34%31'), 'value%41');
    assert.equal(unescapeUri('%C3%A9t%C3%A9'), 'été');
    assert.equal(unescapeUri('null-%00-null'), 'null-\x00-null');
    assert.equal(unescapeUri('no escapes'), 'no escapes');
  });
  test('escapeUser / escapeParam escape what the component cannot hold', () => {
    assert.equal(escapeUser('sips:user@example.com'), 'sips%3Auser%40example.com');
    assert.equal(escapeUser('a b%'), 'a%20b%25');
    assert.equal(escapeParam('v;x=y'), 'v%3Bx%3Dy');
    assert.equal(unescapeUri(escapeUser('ünï code')), 'ünï code');
  });
  test('equivalent URIs compare equal (examples of §19.1.4)', () => {
    const eq: [string, string][] = [
      ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
      ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
      ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;newparam=5'],
      ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
      ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ];
    for (const [a, b] of eq) assert.ok(uriEquals(parseUri(a), parseUri(b)), `${a} == ${b}`);
    const ne: [string, string][] = [
      ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
      ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
      ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp;user=phone'],
      ['sip:carol@chicago.com', 'sip:carol@chicago.com;maddr=239.255.255.1'],
      ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off'],
      ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?subject=Project%20X&priority=urgent'],
      ['sip:alice@atlanta.com', 'sips:alice@atlanta.com'],
      ['sip:alice@atlanta.com', 'tel:+1234'],
    ];
    for (const [a, b] of ne) assert.ok(!uriEquals(parseUri(a), parseUri(b)), `${a} != ${b}`);
  });
  test('sipUri builds a URI from parts', () => {
    assert.equal(formatUri(sipUri('[2001:db8::2]', { user: 'bob', port: 5062, params: [['lr', null]] })), 'sip:bob@[2001:db8::2]:5062;lr');
    assert.equal(formatUri(sipUri('example.com', { scheme: 'sips' })), 'sips:example.com');
  });
});
