import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteReader, ByteWriter, BufferTooSmallError, ImsError, fromHex, toHex, fromBase64, InvalidArgumentError, uintToBytes, bytesToUint, constantTimeEqual } from '../../src/common/index.js';

describe('common/bytes', () => {
  test('reader reads big-endian and refuses to run past the end', () => {
    const r = new ByteReader(fromHex('0102030405060708090a'));
    assert.equal(r.u8(), 1);
    assert.equal(r.u16(), 0x0203);
    assert.equal(r.u24(), 0x040506);
    assert.equal(r.u32(), 0x0708090a);
    assert.throws(() => r.u8(), (e: unknown) => e instanceof BufferTooSmallError && e.code === 'BUFFER_TOO_SMALL' && e.offset === 10);
  });
  test('writer round-trips through the reader', () => {
    const w = new ByteWriter(2).u8(0xff).u16(0xbeef).u24(0x123456).u32(0xdeadbeef).u64(0x0102030405060708n).bytes(fromHex('aabb'));
    const r = new ByteReader(w.finish());
    assert.deepEqual([r.u8(), r.u16(), r.u24(), r.u32(), r.u64(), toHex(r.rest())], [0xff, 0xbeef, 0x123456, 0xdeadbeef, 0x0102030405060708n, 'aabb']);
  });
  test('hex and base64 parsing reject garbage with a typed error', () => {
    assert.throws(() => fromHex('zz'), InvalidArgumentError);
    assert.throws(() => fromHex('abc'), InvalidArgumentError);
    assert.throws(() => fromHex('aabb', 3), (e: unknown) => e instanceof ImsError && e.code === 'INVALID_ARGUMENT');
    assert.throws(() => fromBase64('a*=='), InvalidArgumentError);
    assert.equal(toHex(fromBase64('AAEC')), '000102');
  });
  test('48-bit integers round-trip', () => {
    assert.equal(toHex(uintToBytes(0xff9bb4d0b607, 6)), 'ff9bb4d0b607');
    assert.equal(bytesToUint(fromHex('ff9bb4d0b607')), 0xff9bb4d0b607);
    assert.throws(() => uintToBytes(2 ** 48, 6), InvalidArgumentError);
  });
  test('constant-time compare', () => {
    assert.equal(constantTimeEqual(fromHex('0102'), fromHex('0102')), true);
    assert.equal(constantTimeEqual(fromHex('0102'), fromHex('0103')), false);
    assert.equal(constantTimeEqual(fromHex('0102'), fromHex('01')), false);
  });
});
