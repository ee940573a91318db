import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedFile } from '../../support/shared.js';
import { SipLimitError, SipParseError, SipStreamFramer, parseMessage, type SipRequest } from '../../../src/sip/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Messages of the stream, each built separately; the stream is their concatenation plus keep-alives. */
const M1 = enc('REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nCall-ID: one\r\nContent-Length: 0\r\n\r\n');
const M2 = enc('MESSAGE sip:a@b SIP/2.0\r\nCall-ID: two\r\nl: 13\r\nContent-Type: text/plain\r\n\r\nhi\r\n\r\nthere!!');
const M3 = concat([enc('SIP/2.0 200 OK\r\nCall-ID: three\r\nContent-Length  :\r\n 5\r\n\r\n'), Uint8Array.of(0x00, 0xff, 13, 10, 13)]);
/** RFC 4475 §3.1.1.11 mpart01 (../shared/vectors/rfc4475): a multipart body with binary bytes. */
const MPART01 = sharedFile((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength), 'rfc4475', 'mpart01.dat');
const PING = enc('\r\n\r\n');

function frame(chunks: Uint8Array[], framer = new SipStreamFramer()): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) framer.push(c, (m) => out.push(m));
  return out;
}

describe('RFC 3261 §18.3 stream framing', MPART01.options, () => {
  const M4 = MPART01.value;
  const MESSAGES = [M1, M2, M3, M4];
  const STREAM = concat([PING, M1, M2, PING, M3, enc('\r\n'), M4]);
  test('one chunk with several messages and keep-alives gives each message once', () => {
    assert.deepEqual(frame([STREAM]).map(hex), MESSAGES.map(hex));
  });
  test('a stream cut at every offset gives the same messages', () => {
    const expected = MESSAGES.map(hex);
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const got = frame([STREAM.subarray(0, cut), STREAM.subarray(cut)]).map(hex);
      assert.deepEqual(got, expected, `cut at ${cut}`);
    }
  });
  test('a stream cut at every pair of offsets (three chunks) gives the same messages', () => {
    const expected = MESSAGES.map(hex);
    const head = STREAM.subarray(0, M1.length + M2.length + 12);
    const rest = STREAM.subarray(head.length);
    for (let a = 0; a <= head.length; a += 3) {
      for (let b = a; b <= head.length; b += 5) {
        const got = frame([head.subarray(0, a), head.subarray(a, b), head.subarray(b), rest]).map(hex);
        assert.deepEqual(got, expected, `cuts at ${a}, ${b}`);
      }
    }
  });
  test('one byte at a time gives the same messages', () => {
    const chunks = Array.from(STREAM, (b) => Uint8Array.of(b));
    assert.deepEqual(frame(chunks).map(hex), MESSAGES.map(hex));
  });
  test('framed messages parse to the messages that were sent', () => {
    const framed = frame([STREAM]);
    assert.deepEqual(framed.map((b) => parseMessage(b).headers.get('call-id')), ['one', 'two', 'three', '3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..']);
    assert.equal(new TextDecoder().decode(parseMessage(framed[1]).body), 'hi\r\n\r\nthere!!');
  });
  test('emitted bytes are copies: reusing the pushed chunk does not change them', () => {
    const chunk = M1.slice();
    const out = frame([chunk]);
    chunk.fill(0);
    assert.deepEqual(out[0], M1);
  });
  test('the framer reports how much it holds', () => {
    const f = new SipStreamFramer();
    f.push(M2.subarray(0, 30), () => assert.fail('incomplete'));
    assert.equal(f.buffered, 30);
    const got: Uint8Array[] = [];
    f.push(M2.subarray(30), (m) => got.push(m));
    assert.equal(got.length, 1);
    assert.equal(f.buffered, 0);
  });
});

describe('RFC 5626 §4.4.1 CRLF keep-alives', () => {
  test('a double CRLF is a ping, a single CRLF before a message is a pong', () => {
    const seen: string[] = [];
    const f = new SipStreamFramer({}, { onKeepAlive: (k) => seen.push(k) });
    const msgs: Uint8Array[] = [];
    f.push(concat([PING, PING, M1, enc('\r\n'), M2]), (m) => msgs.push(m));
    assert.deepEqual(seen, ['ping', 'ping', 'pong']);
    assert.equal(msgs.length, 2);
  });
  test('a ping split across chunks is still one ping', () => {
    const seen: string[] = [];
    const f = new SipStreamFramer(undefined, { onKeepAlive: (k) => seen.push(k) });
    for (const b of PING) f.push(Uint8Array.of(b), () => assert.fail('no message'));
    assert.deepEqual(seen, ['ping']);
  });
});

describe('stream framing errors', () => {
  test('a message without Content-Length cannot be framed on a stream (§18.3)', () => {
    const f = new SipStreamFramer();
    assert.throws(() => f.push(enc('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n'), () => {}), (e: unknown) => e instanceof SipParseError && /missing Content-Length/.test(e.reason));
  });
  test('garbage that is not a SIP start line fails at the first line', () => {
    assert.throws(() => new SipStreamFramer().push(enc('GET / HTTP/1.1\r\nHost: x\r\n'), () => {}), (e: unknown) => e instanceof SipParseError && /not a SIP start line/.test(e.reason));
    assert.throws(() => new SipStreamFramer().push(enc('\x16\x03\x01\x02\x00\x01\r\n'), () => {}), SipParseError);
  });
  test('an endless line fails at maxLineLength without waiting for more', () => {
    const f = new SipStreamFramer({ maxLineLength: 100 });
    f.push(enc('OPTIONS sip:a@b SIP/2.0\r\nX-Long: '), () => {});
    assert.throws(() => f.push(enc('a'.repeat(200)), () => {}), (e: unknown) => e instanceof SipLimitError && e.limit === 'maxLineLength');
  });
  test('a header section that never ends fails at maxMessageBytes', () => {
    const f = new SipStreamFramer({ maxMessageBytes: 1000 });
    f.push(enc('OPTIONS sip:a@b SIP/2.0\r\n'), () => {});
    assert.throws(() => {
      for (let i = 0; i < 100; i++) f.push(enc(`X-${i}: value\r\n`), () => {});
    }, (e: unknown) => e instanceof SipLimitError && e.limit === 'maxMessageBytes');
  });
  test('a Content-Length past maxMessageBytes fails before the body arrives', () => {
    const f = new SipStreamFramer({ maxMessageBytes: 1000 });
    assert.throws(() => f.push(enc('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 5000\r\n\r\n'), () => {}), (e: unknown) => e instanceof SipLimitError && e.limit === 'maxMessageBytes');
  });
  test('bad and conflicting Content-Length values fail', () => {
    assert.throws(() => new SipStreamFramer().push(enc('MESSAGE sip:a@b SIP/2.0\r\nl: -4\r\n\r\n'), () => {}), /bad Content-Length/);
    assert.throws(() => new SipStreamFramer().push(enc('MESSAGE sip:a@b SIP/2.0\r\nl: 4\r\nContent-Length: 5\r\n\r\n'), () => {}), /conflicting/);
  });
  test('after an error the stream is dead: every later push throws the same error', () => {
    const f = new SipStreamFramer();
    let first: unknown;
    try {
      f.push(enc('GET / HTTP/1.1\r\n'), () => {});
    } catch (e) {
      first = e;
    }
    assert.ok(first instanceof SipParseError);
    assert.throws(() => f.push(M1, () => assert.fail('no message after an error')), (e: unknown) => e === first);
  });
  test('messages before the bad one are still delivered', () => {
    const got: Uint8Array[] = [];
    assert.throws(() => new SipStreamFramer().push(concat([M1, enc('junk line\r\n\r\n')]), (m) => got.push(m)), SipParseError);
    assert.equal(got.length, 1);
    assert.equal((parseMessage(got[0]) as SipRequest).method, 'REGISTER');
  });
});
