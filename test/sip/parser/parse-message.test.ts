import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImsError, InvalidArgumentError } from '../../../src/common/index.js';
import {
  SipLimitError, SipParseError, SipRequest, SipResponse, SipHeaders, parseMessage, serializeMessage, messagesEqual, type SipMessage,
} from '../../../src/sip/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const crlf = (...lines: string[]): string => lines.join('\r\n');

const OPTIONS = crlf(
  'OPTIONS sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc',
  'Max-Forwards: 70',
  'From: <sip:alice@example.com>;tag=1',
  'To: <sip:bob@example.com>',
  'Call-ID: a1@192.0.2.1',
  'CSeq: 1 OPTIONS',
  'Content-Length: 0',
  '',
  '',
);

function parseError(text: string | Uint8Array, reason: RegExp, limits?: Parameters<typeof parseMessage>[1]): SipParseError {
  try {
    parseMessage(typeof text === 'string' ? enc(text) : text, limits);
  } catch (e) {
    assert.ok(e instanceof SipParseError, `expected SipParseError, got ${String(e)}`);
    assert.ok(e instanceof ImsError);
    assert.equal(e.code, 'SIP_PARSE');
    assert.match(e.reason, reason);
    return e;
  }
  assert.fail('parse should have failed');
}

function limitError(text: string, limit: string, limits: Parameters<typeof parseMessage>[1]): SipLimitError {
  try {
    parseMessage(enc(text), limits);
  } catch (e) {
    assert.ok(e instanceof SipLimitError, `expected SipLimitError, got ${String(e)}`);
    assert.equal(e.code, 'SIP_LIMIT');
    assert.equal(e.limit, limit);
    return e;
  }
  assert.fail('parse should have failed');
}

describe('RFC 3261 §7.1 / §7.2 start line', () => {
  test('request line: method, Request-URI, version', () => {
    const m = parseMessage(enc(OPTIONS));
    assert.ok(m instanceof SipRequest);
    assert.equal(m.kind, 'request');
    assert.equal(m.method, 'OPTIONS');
    assert.equal(m.uri, 'sip:bob@example.com');
    assert.equal(m.version, 'SIP/2.0');
    assert.equal(m.headers.size, 7);
    assert.equal(m.body.length, 0);
  });
  test('status line: code, reason with spaces and UTF-8, missing reason', () => {
    const m = parseMessage(enc('SIP/2.0 486 Busy Here   now\r\nCall-ID: x\r\n\r\n'));
    assert.ok(m instanceof SipResponse);
    assert.equal(m.status, 486);
    assert.equal(m.reason, 'Busy Here   now');
    assert.equal((parseMessage(enc('SIP/2.0 180 Sonne ☀\r\n\r\n')) as SipResponse).reason, 'Sonne ☀');
    const bare = parseMessage(enc('SIP/2.0 200\r\n\r\n')) as SipResponse;
    assert.deepEqual([bare.status, bare.reason], [200, '']);
  });
  test('SIP-Version is case-insensitive and keeps other versions for checkRequest', () => {
    assert.equal(parseMessage(enc('INVITE sip:a@b sip/2.0\r\n\r\n')).version, 'sip/2.0');
    assert.equal(parseMessage(enc('INVITE sip:a@b SIP/3.11\r\n\r\n')).version, 'SIP/3.11');
  });
  test('malformed start lines name the problem and offset', () => {
    assert.equal(parseError('INVITE sip:a@b SIP/2\r\n\r\n', /bad SIP-Version/).offset, 15);
    parseError('INVITE sip:a@b HTTP/1.1\r\n\r\n', /bad SIP-Version/);
    parseError('INVITE sip:a@b\r\n\r\n', /missing SIP-Version/);
    parseError(' INVITE sip:a@b SIP/2.0\r\n\r\n', /leading SP/);
    parseError('INV(TE sip:a@b SIP/2.0\r\n\r\n', /invalid character in Method/);
    parseError('INVITE sip:a b@c SIP/2.0\r\n\r\n', /extra SP/);
    parseError('INVITE sip:a@b\tSIP/2.0\r\n\r\n', /missing SIP-Version/);
    parseError('INVITE a@b SIP/2.0\r\n\r\n', /bad Request-URI/);
    parseError('INVITE sip:a"b@c SIP/2.0\r\n\r\n', /bad Request-URI/);
    parseError('INVITE sip:é@c SIP/2.0\r\n\r\n', /bad Request-URI/);
    for (const code of ['099', '700', '20', '2000', '2x0']) parseError(`SIP/2.0 ${code} X\r\n\r\n`, /bad Status-Code/);
    parseError('SIP/2.0 200 O\x01K\r\n\r\n', /control character in Reason-Phrase/);
    parseError('SIP/2.0\r\n\r\n', /missing Status-Code/);
  });
});

describe('RFC 3261 §7.3 header fields', () => {
  test('LWS continuation lines unfold into one value (§7.3.1)', () => {
    const m = parseMessage(enc(crlf('MESSAGE sip:a@b SIP/2.0', 'Subject: first', ' \t second', '\tthird', 'X-Empty:', 'X-Trail:  v  ', '', '')));
    assert.equal(m.headers.get('subject'), 'first second third');
    assert.equal(m.headers.get('x-empty'), '');
    assert.equal(m.headers.get('x-trail'), 'v');
  });
  test('HCOLON allows white space before the colon; names keep their spelling', () => {
    const m = parseMessage(enc(crlf('OPTIONS sip:a@b SIP/2.0', 'cAlL-iD \t: abc', 'v : SIP/2.0/UDP h', '', '')));
    assert.equal(m.headers.get('Call-ID'), 'abc');
    assert.equal(m.headers.get('Via'), 'SIP/2.0/UDP h');
    assert.deepEqual([...m.headers].map(([n]) => n), ['cAlL-iD', 'v']);
  });
  test('values keep U+FEFF and other non-ASCII characters at their edges', () => {
    const m = parseMessage(enc('OPTIONS sip:a@b SIP/2.0\r\nX-A: \uFEFFv\u00A0\r\n\r\n'));
    assert.equal(m.headers.get('x-a'), '\uFEFFv\u00A0');
  });
  test('malformed header lines name the problem', () => {
    parseError('OPTIONS sip:a@b SIP/2.0\r\nNoColon\r\n\r\n', /header line without colon/);
    assert.equal(parseError('OPTIONS sip:a@b SIP/2.0\r\n: v\r\n\r\n', /empty header name/).offset, 25);
    parseError('OPTIONS sip:a@b SIP/2.0\r\nBad Name: v\r\n\r\n', /invalid character in header name/);
    parseError('OPTIONS sip:a@b SIP/2.0\r\nX(y): v\r\n\r\n', /invalid character in header name/);
    parseError('OPTIONS sip:a@b SIP/2.0\r\n folded: v\r\n\r\n', /continuation line before the first header/);
  });
  test('bare CR and bare LF are refused (no header smuggling)', () => {
    parseError('OPTIONS sip:a@b SIP/2.0\r\nX-A: a\nX-B: b\r\n\r\n', /bare LF/);
    parseError('OPTIONS sip:a@b SIP/2.0\r\nX-A: a\rX-B: b\r\n\r\n', /bare CR/);
    parseError('OPTIONS sip:a@b SIP/2.0\nX-A: a\r\n\r\n', /bare LF/);
    parseError('OPTIONS sip:a@b SIP/2.0\r\r\nX-A: a\r\n\r\n', /bare CR/);
  });
  test('header text must be UTF-8; the offset points at the bad byte', () => {
    const bytes = enc('OPTIONS sip:a@b SIP/2.0\r\nX-A: abc\r\n\r\n');
    bytes[31] = 0xff;
    assert.equal(parseError(bytes, /invalid UTF-8/).offset, 31);
    const ok = parseMessage(enc('OPTIONS sip:a@b SIP/2.0\r\nSubject: \uFFFD ok\r\n\r\n'));
    assert.equal(ok.headers.get('subject'), '\uFFFD ok');
  });
  test('offsets after UTF-8 text count bytes', () => {
    const e = parseError('OPTIONS sip:a@b SIP/2.0\r\nSubject: ééé\r\nBad\r\n\r\n', /without colon/);
    assert.equal(e.offset, 25 + 'Subject: ééé\r\n'.length + 3);
  });
});

describe('RFC 3261 §18.3 / §20.14 datagram framing', () => {
  test('body is Content-Length bytes; extra octets are discarded', () => {
    const m = parseMessage(enc(crlf('MESSAGE sip:a@b SIP/2.0', 'Content-Length: 5', '', 'helloEXTRA')));
    assert.equal(dec(m.body), 'hello');
  });
  test('without Content-Length the body is the rest of the datagram', () => {
    const m = parseMessage(enc(crlf('MESSAGE sip:a@b SIP/2.0', 'c: text/plain', '', 'all of it\r\n')));
    assert.equal(dec(m.body), 'all of it\r\n');
  });
  test('compact l and leading zeros; equal duplicates pass, conflicting ones fail', () => {
    assert.equal(dec(parseMessage(enc(crlf('MESSAGE sip:a@b SIP/2.0', 'l: 002', '', 'hi'))).body), 'hi');
    assert.equal(dec(parseMessage(enc(crlf('MESSAGE sip:a@b SIP/2.0', 'l: 2', 'Content-Length: 2', '', 'hi'))).body), 'hi');
    const e = parseError(crlf('MESSAGE sip:a@b SIP/2.0', 'l: 2', 'Content-Length: 3', '', 'hiy'), /conflicting Content-Length/);
    assert.ok(e.partial instanceof SipRequest);
  });
  test('bad Content-Length values', () => {
    for (const v of ['-1', 'ten', '1 2', '', '0x10', '9999999999999999']) {
      parseError(crlf('MESSAGE sip:a@b SIP/2.0', `Content-Length: ${v}`, '', ''), /bad Content-Length/);
    }
  });
  test('a Content-Length past the datagram keeps the request for a 400', () => {
    const e = parseError(crlf('MESSAGE sip:a@b SIP/2.0', 'Call-ID: z', 'Content-Length: 10', '', 'short'), /larger than the body/);
    assert.equal((e.partial as SipRequest).headers.get('call-id'), 'z');
    assert.equal(e.partial!.body.length, 0);
  });
  test('leading CRLFs are skipped (§7.5); an empty datagram is an error', () => {
    const m = parseMessage(enc(`\r\n\r\n${OPTIONS}`));
    assert.equal((m as SipRequest).method, 'OPTIONS');
    parseError('\r\n\r\n', /empty message/);
    parseError('', /empty message/);
  });
  test('a header section without an empty line: accepted at a CRLF end, refused when cut mid-line', () => {
    const m = parseMessage(enc('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n'));
    assert.equal(m.headers.get('call-id'), 'x');
    parseError('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x', /not terminated by an empty line/);
  });
  test('input may be a Buffer or a view into a larger array; the body is a plain Uint8Array', () => {
    const inner = enc(crlf('MESSAGE sip:a@b SIP/2.0', 'l: 3', '', 'abc'));
    const big = new Uint8Array(inner.length + 20);
    big.set(inner, 10);
    const m = parseMessage(big.subarray(10, 10 + inner.length));
    assert.equal(dec(m.body), 'abc');
    assert.equal(Object.getPrototypeOf(m.body), Uint8Array.prototype);
    assert.equal(dec(parseMessage(Buffer.from(inner)).body), 'abc');
  });
});

describe('limits (configurable)', () => {
  test('maxMessageBytes', () => {
    const e = limitError(OPTIONS, 'maxMessageBytes', { maxMessageBytes: 100 });
    assert.equal(e.max, 100);
    assert.equal(parseMessage(enc(OPTIONS), { maxMessageBytes: OPTIONS.length }).headers.size, 7);
  });
  test('maxHeaders', () => {
    limitError(OPTIONS, 'maxHeaders', { maxHeaders: 6 });
    assert.equal(parseMessage(enc(OPTIONS), { maxHeaders: 7 }).headers.size, 7);
  });
  test('maxLineLength, for the start line and header lines', () => {
    limitError(OPTIONS, 'maxLineLength', { maxLineLength: 40 });
    limitError(`OPTIONS sip:${'a'.repeat(100)}@b SIP/2.0\r\n\r\n`, 'maxLineLength', { maxLineLength: 80 });
    // The longest line (the Via) has 49 characters.
    limitError(OPTIONS, 'maxLineLength', { maxLineLength: 48 });
    assert.ok(parseMessage(enc(OPTIONS), { maxLineLength: 49 }));
  });
  test('defaults: 64 KiB, 256 headers, 8 KiB lines', () => {
    const many = crlf('OPTIONS sip:a@b SIP/2.0', ...Array.from({ length: 257 }, (_, i) => `X-${i}: v`), '', '');
    limitError(many, 'maxHeaders', undefined);
    limitError(crlf('OPTIONS sip:a@b SIP/2.0', `X: ${'v'.repeat(8190)}`, '', ''), 'maxLineLength', undefined);
    assert.throws(() => parseMessage(new Uint8Array(65537)), SipLimitError);
  });
  test('bad limit values are refused', () => {
    assert.throws(() => parseMessage(enc(OPTIONS), { maxHeaders: 0 }), InvalidArgumentError);
    assert.throws(() => parseMessage(enc(OPTIONS), { maxLineLength: 1.5 }), InvalidArgumentError);
  });
});

describe('serializer (RFC 3261 §7)', () => {
  test('writes the start line, fields in order and spelling, and the body', () => {
    const h = new SipHeaders([
      ['v', 'SIP/2.0/UDP h;branch=z9hG4bK1'],
      ['Subject', 'Grüße'],
      ['X-Empty', ''],
    ]);
    const bytes = serializeMessage(new SipRequest('MESSAGE', 'sip:a@b', h, enc('body')));
    assert.equal(dec(bytes), 'MESSAGE sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nSubject: Grüße\r\nX-Empty: \r\nContent-Length: 4\r\n\r\nbody');
    assert.equal(dec(serializeMessage(new SipResponse(100, '', new SipHeaders()))), 'SIP/2.0 100 \r\nContent-Length: 0\r\n\r\n');
  });
  test('Content-Length follows the body: first one rewritten in place, others dropped', () => {
    const h = new SipHeaders([['l', '99'], ['X', 'y'], ['Content-Length', '7']]);
    assert.equal(dec(serializeMessage(new SipResponse(200, 'OK', h, enc('abc')))), 'SIP/2.0 200 OK\r\nl: 3\r\nX: y\r\n\r\nabc');
  });
  test('a binary body is copied byte for byte', () => {
    const body = new Uint8Array([0, 255, 13, 10, 13, 10, 128]);
    const out = serializeMessage(new SipRequest('MESSAGE', 'sip:a@b', new SipHeaders(), body));
    assert.deepEqual(out.subarray(out.length - body.length), body);
    assert.deepEqual(parseMessage(out).body, body);
  });
  test('refuses start-line values that would break the framing', () => {
    assert.throws(() => serializeMessage(new SipRequest('INVITE\r\nX: y', 'sip:a@b')), InvalidArgumentError);
    assert.throws(() => serializeMessage(new SipRequest('INVITE', 'sip:a@b SIP/2.0\r\n')), InvalidArgumentError);
    assert.throws(() => serializeMessage(new SipResponse(200, 'OK\r\nX: y')), InvalidArgumentError);
    assert.throws(() => serializeMessage(new SipResponse(99, 'x')), InvalidArgumentError);
    assert.throws(() => serializeMessage(new SipRequest('INVITE', 'sip:a@b', undefined, undefined, 'SIP/2')), InvalidArgumentError);
  });
  test('parse → serialize → parse gives an equal message', () => {
    const texts = [OPTIONS, crlf('SIP/2.0 200 OK', 'v: SIP/2.0/TCP a, SIP/2.0/UDP b', 'Subject: x', ' y', '', '')];
    for (const t of texts) {
      const m: SipMessage = parseMessage(enc(t));
      assert.ok(messagesEqual(parseMessage(serializeMessage(m)), m));
    }
  });
  test('messagesEqual notices every difference but Content-Length', () => {
    const a = parseMessage(enc(OPTIONS));
    const b = parseMessage(enc(OPTIONS));
    assert.ok(messagesEqual(a, b));
    b.headers.remove('Content-Length');
    assert.ok(messagesEqual(a, b));
    b.headers.set('Max-Forwards', '69');
    assert.ok(!messagesEqual(a, b));
    const c = parseMessage(enc(OPTIONS));
    c.body = enc('x');
    assert.ok(!messagesEqual(a, c));
    const d = parseMessage(enc(OPTIONS)) as SipRequest;
    d.uri = 'sip:other@example.com';
    assert.ok(!messagesEqual(a, d));
  });
});
