import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SipParams, SipParseError, contactExpires, contactInstance, contactQ, contactRegId, formatContact, formatNameAddr, formatVia, formatViaList,
  formatRoute, parseContact, parseNameAddr, parseNameAddrList, parseRoute, parseVia, parseViaList, sipUri, viaBranch, viaReceived, viaRport,
  parsePAssociatedUri, parsePAssertedIdentity, parsePPreferredIdentity, formatPAssociatedUri, parsePath, parseServiceRoute, parseRecordRoute,
  quote, unquote, type SipUri,
} from '../../../src/sip/index.js';

const fails = (fn: () => unknown, reason: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof SipParseError && e.code === 'SIP_PARSE' && reason.test(e.reason));
};

describe('RFC 3261 §20.10 / §25.1 name-addr and addr-spec', () => {
  test('display names: quoted with quoted-pairs, tokens, none', () => {
    assert.equal(parseNameAddr('"A \\"B\\" \\\\ C" <sip:a@b>').displayName, 'A "B" \\ C');
    assert.equal(parseNameAddr('Bob  Smith <sip:b@c>').displayName, 'Bob Smith');
    assert.equal(parseNameAddr('"" <sip:b@c>').displayName, '');
    assert.equal(parseNameAddr('<sip:b@c>').displayName, undefined);
    assert.equal(parseNameAddr('"Ünïcødé ☎" <sip:b@c>').displayName, 'Ünïcødé ☎');
  });
  test('parameters after the address are header parameters; inside <> they belong to the URI', () => {
    const a = parseNameAddr('sip:alice@atlanta.com;tag=88sja8x');
    assert.equal(a.params.get('tag'), '88sja8x');
    assert.equal((a.uri as SipUri).params.size, 0);
    const b = parseNameAddr('<sip:alice@atlanta.com;transport=tcp>;tag=1');
    assert.equal((b.uri as SipUri).params.get('transport'), 'tcp');
    assert.equal(b.params.get('tag'), '1');
  });
  test('tolerant of LWS around separators and any parameter case', () => {
    const a = parseNameAddr('  "Bob"   <sip:bob@biloxi.com>  ;  TAG  =  a6c85cf ; x ');
    assert.equal(a.params.get('tag'), 'a6c85cf');
    assert.ok(a.params.has('X'));
    assert.equal(formatNameAddr(a), '"Bob" <sip:bob@biloxi.com>;TAG=a6c85cf;x');
  });
  test('canonical forms round-trip exactly', () => {
    for (const s of [
      '<sip:alice@atlanta.com>;tag=1928301774',
      '"Bob" <sips:bob@biloxi.com>',
      '"A \\"quoted\\" name" <sip:a@b>;p="quoted, value";flag',
      '<tel:+15551234567;phone-context=ims.example.net>',
      '<urn:service:sos>',
      '"\\\\" <sip:x@[2001:db8::1]:5060;lr>',
    ]) {
      assert.equal(formatNameAddr(parseNameAddr(s)), s);
    }
  });
  test('lists split at top-level commas only', () => {
    const l = parseNameAddrList('"Doe, J" <sip:j@x>, <sip:k@y;a=b>;q=0.5, sip:z@w');
    assert.deepEqual(l.map((x) => x.displayName), ['Doe, J', undefined, undefined]);
    assert.equal(l[1].params.get('q'), '0.5');
  });
  test('malformed addresses name the problem', () => {
    fails(() => parseNameAddr('"unterminated <sip:a@b>'), /unterminated quoted-string/);
    fails(() => parseNameAddr('<sip:a@b'), /missing >/);
    fails(() => parseNameAddr('< sip:a@b>'), /white space inside <>/);
    fails(() => parseNameAddr('Last, First <sip:a@b>'), /display name is neither tokens nor a quoted-string/);
    fails(() => parseNameAddr('sip:a@b?subject=x'), /must be enclosed in <>/);
    fails(() => parseNameAddr('"x" sip:a@b'), /expected < after display name/);
    fails(() => parseNameAddr('<sip:a@b>;;tag=1'), /empty parameter/);
    fails(() => parseNameAddr('<sip:a@b> junk'), /unexpected/);
    fails(() => parseNameAddr(''), /empty value/);
    fails(() => parseNameAddr('"bad \\\n"<sip:a@b>'), /bad quoted-pair/);
    fails(() => parseNameAddrList('<sip:a@b>,,<sip:c@d>'), /empty list element/);
  });
  test('quote / unquote are inverse for any text without CR or LF', () => {
    for (const s of ['', 'plain', 'with "quotes" and \\', 'ctl \x00\x07\x7f', 'tab\there', 'ünï']) {
      assert.equal(unquote(quote(s)), s);
      assert.equal(parseNameAddr(`${quote(s)} <sip:a@b>`).displayName, s);
    }
    assert.throws(() => quote('a\r\nb'));
  });
});

describe('RFC 3261 §20.42 Via (and RFC 3581 rport)', () => {
  test('sent-protocol, sent-by and parameters', () => {
    const v = parseVia('SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bK776asdhds;received=192.0.2.1;rport=5066;ttl=16;maddr=224.2.0.1');
    assert.deepEqual([v.protocol, v.version, v.transport, v.host, v.port], ['SIP', '2.0', 'UDP', 'pc33.atlanta.com', 5066]);
    assert.equal(viaBranch(v), 'z9hG4bK776asdhds');
    assert.equal(viaReceived(v), '192.0.2.1');
    assert.equal(viaRport(v), 5066);
    assert.equal(viaRport(parseVia('SIP/2.0/UDP h;rport')), true);
    assert.equal(viaRport(parseVia('SIP/2.0/UDP h')), undefined);
  });
  test('IPv6 sent-by and received', () => {
    const v = parseVia('SIP/2.0/TCP [2001:db8::9]:5060;received=2001:db8::7;branch=z9hG4bKx');
    assert.equal(v.host, '2001:db8::9');
    assert.equal(viaReceived(v), '2001:db8::7');
    assert.equal(viaReceived(parseVia('SIP/2.0/TCP [::1];received=[::2]')), '::2');
    assert.equal(formatVia(v), 'SIP/2.0/TCP [2001:db8::9]:5060;received=2001:db8::7;branch=z9hG4bKx');
  });
  test('LWS around slashes, colon and semicolons (RFC 4475 wsinv)', () => {
    const v = parseVia('SIP  /   2.0 /UDP    192.0.2.2 : 5060 ;  branch = z9hG4bK1 ');
    assert.equal(formatVia(v), 'SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bK1');
  });
  test('lists and canonical round trip', () => {
    const s = 'SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TLS b.example.com:5061;branch=z9hG4bK2;alias';
    const l = parseViaList(s);
    assert.equal(l.length, 2);
    assert.equal(formatViaList(l), s);
  });
  test('malformed Via values', () => {
    fails(() => parseVia('SIP/2.0/UDP'), /white space before sent-by/);
    fails(() => parseVia('SIP/2.0 UDP host'), /expected \//);
    fails(() => parseVia('SIP/2.0/UDP host:port'), /bad port/);
    fails(() => parseVia('SIP/2.0/UDP host:70000'), /bad port/);
    fails(() => parseVia('SIP/2.0/UDP host;ttl=300'), /bad ttl/);
    fails(() => parseVia('SIP/2.0/UDP host;rport=x'), /bad rport/);
    fails(() => parseVia('SIP/2.0/UDP host;branch'), /bad branch/);
    fails(() => parseVia('SIP/2.0/UDP host;received=a_b'), /unexpected character|bad received/);
    fails(() => parseViaList('SIP/2.0/UDP 192.0.2.15;;,;,,'), /empty parameter/);
    fails(() => parseViaList('SIP/2.0/UDP a,'), /empty list element/);
  });
});

describe('RFC 3261 §20.10 Contact (RFC 5626 +sip.instance, reg-id)', () => {
  test('star, several contacts, typed parameters', () => {
    assert.equal(parseContact(' * '), '*');
    const c = parseContact('<sip:ue@[2001:db8::5]:5060>;expires=600000;q=0.7;+sip.instance="<urn:gsma:imei:35345606-123456-0>";reg-id=1, "Two" <sip:two@x>');
    assert.ok(c !== '*');
    assert.equal(c.length, 2);
    assert.equal(contactExpires(c[0]), 600000);
    assert.equal(contactQ(c[0]), 0.7);
    assert.equal(contactInstance(c[0]), '<urn:gsma:imei:35345606-123456-0>');
    assert.equal(contactRegId(c[0]), 1);
    assert.equal(contactExpires(c[1]), undefined);
    assert.equal(formatContact(c), '<sip:ue@[2001:db8::5]:5060>;expires=600000;q=0.7;+sip.instance="<urn:gsma:imei:35345606-123456-0>";reg-id=1, "Two" <sip:two@x>');
    assert.equal(formatContact('*'), '*');
  });
  test('bad q, expires and reg-id values', () => {
    fails(() => parseContact('<sip:a@b>;q=1.5'), /bad q value/);
    fails(() => parseContact('<sip:a@b>;q=0.1234'), /bad q value/);
    fails(() => parseContact('<sip:a@b>;expires=4294967296'), /bad expires/);
    fails(() => parseContact('<sip:a@b>;expires'), /bad expires/);
    fails(() => parseContact('<sip:a@b>;reg-id=0'), /bad reg-id/);
    fails(() => parseContact('"Joe" <sip:joe@example.org>;;;;'), /empty parameter/);
  });
  test('contacts are built from parts and formatted canonically', () => {
    const c = { uri: sipUri('192.0.2.4', { user: 'alice', port: 5060 }), params: new SipParams([['expires', '3600']]) };
    assert.equal(formatContact([c]), '<sip:alice@192.0.2.4:5060>;expires=3600');
  });
});

describe('Route, Record-Route, Path, Service-Route, P-Associated-URI, P-Asserted-Identity', () => {
  test('route values require <> and keep lr', () => {
    const r = parseRoute('<sip:p1.example.com;lr>, <sip:p2.example.com;lr;ftag=x>');
    assert.deepEqual(r.map((x) => (x.uri as SipUri).host), ['p1.example.com', 'p2.example.com']);
    assert.equal(formatRoute(r), '<sip:p1.example.com;lr>, <sip:p2.example.com;lr;ftag=x>');
    fails(() => parseRoute('sip:p1.example.com;lr'), /must be enclosed in <>/);
    assert.equal(parsePath('<sip:term@pcscf.example.net;lr>')[0].uri.scheme, 'sip');
    assert.equal(parseServiceRoute('<sip:orig@scscf.example.net:6060;lr>').length, 1);
    assert.equal(parseRecordRoute('<sip:a@b;lr>').length, 1);
  });
  test('P-Associated-URI may be empty; identities accept addr-spec', () => {
    const pau = parsePAssociatedUri('<sip:user1@home.net>, <sip:+15551234567@home.net;user=phone>, <tel:+15551234567>');
    assert.deepEqual(pau.map((x) => x.uri.kind), ['sip', 'sip', 'tel']);
    assert.equal(formatPAssociatedUri(pau), '<sip:user1@home.net>, <sip:+15551234567@home.net;user=phone>, <tel:+15551234567>');
    assert.deepEqual(parsePAssociatedUri(''), []);
    assert.equal(parsePAssertedIdentity('"Cullen Jennings" <sip:fluffy@cisco.com>, tel:+14085264000').length, 2);
    assert.equal(parsePPreferredIdentity('sip:user1@home.net').length, 1);
  });
});
