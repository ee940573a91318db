/**
 * The Diameter codec against RFC 6733 §3 (header), §4.1 (AVP header, padding), §4.2/§4.3 (data
 * formats). Expected bytes come from test/diameter/support/wire.ts, an independent builder.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AVP_FLAG_MANDATORY,
  AVP_FLAG_VENDOR,
  DiameterAvpError,
  DiameterParseError,
  FLAG_PROXIABLE,
  FLAG_REQUEST,
  decodeAvps,
  decodeHeader,
  decodeMessage,
  decodeValue,
  encodeMessage,
  encodeValue,
  rawAvp,
} from '../../src/diameter/index.js';
import { M, hex, i32, u32, wAvp, wMsg } from './support/wire.js';

describe('RFC 6733 §3 message header', () => {
  test('[R-CX-1] header fields encode to the §3 layout (version, 24-bit length, flags, 24-bit code, ids)', () => {
    const m = { flags: FLAG_REQUEST | FLAG_PROXIABLE, commandCode: 303, applicationId: 16777216, hopByHop: 0x01020304, endToEnd: 0xa0b0c0d0, avps: [] };
    assert.equal(hex(encodeMessage(m)), hex(wMsg(0xc0, 303, 16777216, 0x01020304, 0xa0b0c0d0, [])));
  });

  test('[R-CX-1] a decoded message re-encodes to the same bytes, unknown AVPs included', () => {
    const bytes = wMsg(0x80, 257, 0, 7, 9, [
      wAvp(264, M, 'a.example'),
      wAvp(9999, M, Buffer.from([1, 2, 3]), 424242),
      wAvp(1234, 0, Buffer.alloc(0)),
      wAvp(266, M, u32(10415)),
    ]);
    const m = decodeMessage(bytes);
    assert.equal(m.avps.length, 4);
    assert.deepEqual({ code: m.avps[1].code, vendorId: m.avps[1].vendorId, flags: m.avps[1].flags, data: hex(m.avps[1].data) }, { code: 9999, vendorId: 424242, flags: AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY, data: '010203' });
    assert.equal(hex(encodeMessage(m)), hex(bytes));
  });

  test('version other than 1 is DIAMETER_UNSUPPORTED_VERSION (5011)', () => {
    const b = wMsg(0x80, 280, 0, 1, 1, []);
    b[0] = 2;
    assert.throws(() => decodeMessage(b), (e: unknown) => e instanceof DiameterParseError && e.code === 'DIAMETER_PARSE' && e.resultCode === 5011);
  });

  test('Message Length not a multiple of 4, under 20, or not matching the buffer is 5015', () => {
    const b = wMsg(0x80, 280, 0, 1, 1, [wAvp(264, M, 'abcd')]);
    const odd = Buffer.from(b);
    odd.writeUIntBE(b.length - 1, 1, 3);
    assert.throws(() => decodeMessage(odd), (e: unknown) => e instanceof DiameterParseError && e.resultCode === 5015);
    const small = Buffer.from(b);
    small.writeUIntBE(16, 1, 3);
    assert.throws(() => decodeMessage(small), (e: unknown) => e instanceof DiameterParseError && e.resultCode === 5015);
    assert.throws(() => decodeMessage(b.subarray(0, b.length - 4)), (e: unknown) => e instanceof DiameterParseError && e.resultCode === 5015);
    assert.throws(() => decodeHeader(b.subarray(0, 19)), (e: unknown) => e instanceof DiameterParseError);
  });

  test("a request with the 'E' bit is DIAMETER_INVALID_HDR_BITS (3008)", () => {
    assert.throws(() => decodeMessage(wMsg(0xa0, 280, 0, 1, 1, [])), (e: unknown) => e instanceof DiameterParseError && e.resultCode === 3008);
  });
});

describe('RFC 6733 §4.1 AVP header and padding', () => {
  test('vendor AVP: V bit, 12-byte header, length without padding, zero padding', () => {
    const a = rawAvp(601, new TextEncoder().encode('sip:a'), { vendorId: 10415, mandatory: true });
    const m = encodeMessage({ flags: 0, commandCode: 1, applicationId: 0, hopByHop: 0, endToEnd: 0, avps: [a] });
    assert.equal(hex(m.subarray(20)), hex(wAvp(601, M, 'sip:a', 10415)));
    assert.equal(hex(m.subarray(20)), '00000259c0000011000028af7369703a61000000');
  });

  test('AVP length shorter than its header, or past the end, is 5014 (never a RangeError)', () => {
    const good = wAvp(264, M, 'host');
    const short = Buffer.from(good);
    short.writeUIntBE(7, 5, 3);
    assert.throws(() => decodeAvps(short), (e: unknown) => e instanceof DiameterParseError && e.resultCode === 5014);
    const vshort = Buffer.from(wAvp(601, M, 'x', 10415));
    vshort.writeUIntBE(11, 5, 3);
    assert.throws(() => decodeAvps(vshort), (e: unknown) => e instanceof DiameterParseError && e.resultCode === 5014);
    const long = Buffer.from(good);
    long.writeUIntBE(0xffffff, 5, 3);
    assert.throws(() => decodeAvps(long), (e: unknown) => e instanceof DiameterParseError && e.resultCode === 5014);
    assert.throws(() => decodeAvps(good.subarray(0, 5)), (e: unknown) => e instanceof DiameterParseError);
  });

  test('an absurd length in a tiny buffer fails fast without allocating', () => {
    const b = wMsg(0x80, 280, 0, 1, 1, [wAvp(264, M, 'h')]);
    b.writeUIntBE(0xfffffc, 25, 3);
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 1000; i++) assert.throws(() => decodeMessage(b), DiameterParseError);
    assert.ok(process.memoryUsage().arrayBuffers - before < 4 * 1024 * 1024);
  });

  test('missing padding of the last AVP is an error; the padding value itself is ignored', () => {
    const a = wAvp(264, M, 'abcde');
    assert.throws(() => decodeAvps(a.subarray(0, 13)), DiameterParseError);
    const dirty = Buffer.from(a);
    dirty[13] = 0xff;
    assert.equal(new TextDecoder().decode(decodeAvps(dirty)[0].data), 'abcde');
  });
});

describe('RFC 6733 §4.2 / §4.3 data formats', () => {
  const rt = (type: Parameters<typeof encodeValue>[0], v: unknown, bytes: string): void => {
    assert.equal(hex(encodeValue(type, v as never)), bytes, `${type} encode`);
    assert.deepEqual(decodeValue(type, Buffer.from(bytes, 'hex')), v, `${type} decode`);
  };

  test('Integer32 / Enumerated are two’s complement; Unsigned32 is unsigned', () => {
    rt('Integer32', -2, hex(i32(-2)));
    rt('Enumerated', 1, '00000001');
    rt('Unsigned32', 0xfffffffe, 'fffffffe');
  });

  test('Integer64 / Unsigned64 are 8-byte big-endian', () => {
    rt('Integer64', -1n, 'ffffffffffffffff');
    rt('Unsigned64', 0x0102030405060708n, '0102030405060708');
  });

  test('Float32 / Float64 are IEEE 754 big-endian', () => {
    rt('Float32', 1.5, '3fc00000');
    rt('Float64', -2.25, 'c002000000000000');
  });

  test('Address: AddressType 1 + 4 bytes (IPv4), 2 + 16 bytes (IPv6, RFC 5952 text)', () => {
    rt('Address', '10.99.0.1', '00010a630001');
    rt('Address', '2001:db8::1', '000220010db8000000000000000000000001');
    rt('Address', '::1', '000200000000000000000000000000000001');
    assert.equal(decodeValue('Address', Buffer.from('0002fe800000000000000000000000000001', 'hex')), 'fe80::1');
    assert.throws(() => decodeValue('Address', Buffer.from('000a0102', 'hex')), (e: unknown) => e instanceof DiameterAvpError && e.resultCode === 5004);
    assert.throws(() => decodeValue('Address', Buffer.from('00010102', 'hex')), (e: unknown) => e instanceof DiameterAvpError && e.resultCode === 5014);
  });

  test('Time: NTP seconds since 1900 (2208988800 s before the Unix epoch), RFC 4330 era after 2036', () => {
    rt('Time', new Date('1970-01-01T00:00:00Z'), hex(u32(2208988800)));
    rt('Time', new Date('2024-01-01T00:00:00Z'), hex(u32(2208988800 + 1704067200)));
    // 2036-02-07T06:28:16Z is NTP second 2^32: it wraps to 0 and decodes in the second era.
    rt('Time', new Date('2036-02-07T06:28:16Z'), '00000000');
    rt('Time', new Date('2040-01-01T00:00:00Z'), hex(u32(2208988800 + 2208988800 - 2 ** 32)));
  });

  test('UTF8String rejects invalid UTF-8 with 5004; DiameterIdentity must be printable ASCII', () => {
    rt('UTF8String', 'sip:älice@ims.lab', Buffer.from('sip:älice@ims.lab').toString('hex'));
    assert.throws(() => decodeValue('UTF8String', Buffer.from([0xc3, 0x28])), (e: unknown) => e instanceof DiameterAvpError && e.resultCode === 5004);
    rt('DiameterIdentity', 'hss.ims.lab', Buffer.from('hss.ims.lab').toString('hex'));
    assert.throws(() => decodeValue('DiameterIdentity', Buffer.from('a b')), DiameterAvpError);
    assert.throws(() => encodeValue('DiameterIdentity', ''), (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'INVALID_ARGUMENT');
  });

  test('fixed-length types with the wrong data length are DIAMETER_INVALID_AVP_LENGTH (5014)', () => {
    for (const t of ['Integer32', 'Unsigned32', 'Integer64', 'Unsigned64', 'Float32', 'Float64', 'Time', 'Enumerated'] as const) {
      assert.throws(() => decodeValue(t, new Uint8Array(3)), (e: unknown) => e instanceof DiameterAvpError && e.resultCode === 5014, t);
    }
  });

  test('Grouped data is a list of padded AVPs (§4.4)', () => {
    const inner = Buffer.concat([wAvp(266, M, u32(10415)), wAvp(258, M, u32(16777216))]);
    const g = decodeValue('Grouped', inner);
    assert.equal(g.length, 2);
    assert.equal(hex(encodeValue('Grouped', g)), hex(inner));
    assert.throws(() => decodeValue('Grouped', inner.subarray(0, 10)), (e: unknown) => e instanceof DiameterAvpError && e.resultCode === 5014);
  });
});
