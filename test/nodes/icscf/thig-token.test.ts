import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { inspect } from 'node:util';
import { describe, test } from 'node:test';
import { FixedRng, SeededRng } from '../../../src/common/rng.js';
import { ThigError } from '../../../src/nodes/icscf/errors.js';
import { openThigToken, sealThigToken, ThigKey, type ThigPayload } from '../../../src/nodes/icscf/thig-token.js';
import { needPeer } from '../../support/peers.js';

const KV = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const IV = Buffer.from('f0e1d2c3b4a5968778695a4b3c2d1e0f', 'hex');
const VIA_RUN: ThigPayload = { header: 'via', reverseInRoute: false, text: 'SIP/2.0/UDP scscf.ims.lab:6060;branch=z9hG4bK1, SIP/2.0/UDP pcscf.ims.lab;branch=z9hG4bK2' };

/** The token built by openssl alone (an independent AES-128-CBC and HMAC-SHA-256). */
function opensslToken(kv: Buffer, iv: Buffer, domain: string, kind: string, flags: number, text: string): string {
  const plain = Buffer.concat([Buffer.of(flags), Buffer.from(text, 'utf8')]);
  const ct = execFileSync('openssl', ['enc', '-aes-128-cbc', '-K', kv.toString('hex'), '-iv', iv.toString('hex')], { input: plain });
  const hmac = (keyHex: string, data: Buffer): Buffer => {
    const out = execFileSync('openssl', ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${keyHex}`, '-binary'], { input: data });
    return out;
  };
  const km = hmac(kv.toString('hex'), Buffer.from('imsec-thig-mac-v1'));
  const head = Buffer.concat([Buffer.of(1), iv]);
  const tag = hmac(km.toString('hex'), Buffer.concat([Buffer.from(`imsec-thig\0${kind}\0${domain}\0`), head, ct])).subarray(0, 16);
  return Buffer.concat([head, ct, tag]).toString('base64url');
}

describe('THIG token (R-HIDE-1; AES-128-CBC RFC 3602, HMAC-SHA-256 RFC 2104)', () => {
  test('[R-HIDE-1] token equals the one an independent openssl build gives for the same Kv and IV', (t) => {
    if (!needPeer(t, 'openssl')) return;
    const key = new ThigKey(KV);
    const token = sealThigToken(key, new FixedRng([IV]), 'ims.lab', VIA_RUN);
    assert.equal(token, opensslToken(KV, IV, 'ims.lab', 'via', 0x00, VIA_RUN.text));
    const rr = sealThigToken(key, new FixedRng([IV]), 'ims.lab', { header: 'record-route', reverseInRoute: true, text: '<sip:scscf.ims.lab;lr>' });
    assert.equal(rr, opensslToken(KV, IV, 'ims.lab', 'route', 0x82, '<sip:scscf.ims.lab;lr>'));
  });

  test('[R-HIDE-1] round trip: what one I-CSCF seals, another with the same Kv opens', () => {
    const sealed = sealThigToken(new ThigKey(KV), new SeededRng('a'), 'ims.lab', VIA_RUN);
    assert.deepEqual(openThigToken(new ThigKey(Uint8Array.from(KV)), 'ims.lab', 'via', sealed), VIA_RUN);
    for (const header of ['route', 'record-route', 'path'] as const) {
      const p: ThigPayload = { header, reverseInRoute: header === 'record-route', text: '<sip:a.ims.lab;lr>,\nRoute:<sip:b.ims.lab;lr>' };
      assert.deepEqual(openThigToken(new ThigKey(KV), 'IMS.lab', 'route', sealThigToken(new ThigKey(KV), new SeededRng(header), 'ims.lab', p)), p);
    }
  });

  test('[R-HIDE-1] a random IV per encryption: the same run sealed twice gives different tokens', () => {
    const key = new ThigKey(KV);
    const rng = new SeededRng('iv');
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(sealThigToken(key, rng, 'ims.lab', VIA_RUN));
    assert.equal(seen.size, 20);
    const ivs = new Set([...seen].map((t) => Buffer.from(t, 'base64url').subarray(1, 17).toString('hex')));
    assert.equal(ivs.size, 20);
  });

  test('[R-HIDE-1] a wrong Kv fails cleanly with ThigError reason auth', () => {
    const token = sealThigToken(new ThigKey(KV), new SeededRng(1), 'ims.lab', VIA_RUN);
    const other = Buffer.from(KV);
    other[15] ^= 1;
    assert.throws(
      () => openThigToken(new ThigKey(other), 'ims.lab', 'via', token),
      (e: unknown) => e instanceof ThigError && e.code === 'THIG' && e.reason === 'auth' && !e.message.includes(KV.toString('hex')),
    );
  });

  test('[R-HIDE-1] every single-bit change anywhere in the token is rejected (CBC malleability closed by the MAC)', () => {
    const key = new ThigKey(KV);
    const token = sealThigToken(key, new SeededRng(2), 'ims.lab', VIA_RUN);
    const raw = Buffer.from(token, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const t = Buffer.from(raw);
        t[i] ^= bit;
        assert.throws(() => openThigToken(key, 'ims.lab', 'via', t.toString('base64url')), (e: unknown) => e instanceof ThigError && (e.reason === 'auth' || e.reason === 'format'), `byte ${i} bit ${bit}`);
      }
    }
  });

  test('[R-HIDE-1] a token is bound to its domain and header class', () => {
    const key = new ThigKey(KV);
    const token = sealThigToken(key, new SeededRng(3), 'ims.lab', VIA_RUN);
    assert.throws(() => openThigToken(key, 'other.lab', 'via', token), (e: unknown) => e instanceof ThigError && e.reason === 'auth');
    assert.throws(() => openThigToken(key, 'ims.lab', 'route', token), (e: unknown) => e instanceof ThigError && e.reason === 'auth');
  });

  test('malformed tokens: not base64url, non-canonical, short, misaligned, wrong version, too long', () => {
    const key = new ThigKey(KV);
    const good = Buffer.from(sealThigToken(key, new SeededRng(4), 'ims.lab', VIA_RUN), 'base64url');
    const cases: [string, string][] = [
      ['', 'empty'],
      ['abc+def/', 'base64 alphabet'],
      ['AAAA=', 'padding'],
      [good.subarray(0, 48).toString('base64url'), 'short'],
      [Buffer.concat([good, Buffer.of(0)]).toString('base64url'), 'misaligned'],
      [Buffer.concat([Buffer.of(2), good.subarray(1)]).toString('base64url'), 'version'],
      ['A'.repeat(9000), 'too long'],
    ];
    for (const [t, what] of cases) assert.throws(() => openThigToken(key, 'ims.lab', 'via', t), (e: unknown) => e instanceof ThigError && e.reason === 'format', what);
    // Non-canonical trailing bits: a 49-byte token ends in a character with 4 unused bits; setting
    // one of them decodes to the same bytes but must still be refused.
    const short = sealThigToken(key, new SeededRng(5), 'ims.lab', { header: 'via', reverseInRoute: false, text: 'SIP/2.0/UDP a' });
    assert.equal(Buffer.from(short, 'base64url').length, 49);
    assert.doesNotThrow(() => openThigToken(key, 'ims.lab', 'via', short));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const alt = short.slice(0, -1) + alphabet[alphabet.indexOf(short[short.length - 1]) | 1];
    assert.notEqual(alt, short);
    assert.ok(Buffer.from(alt, 'base64url').equals(Buffer.from(short, 'base64url')));
    assert.throws(() => openThigToken(key, 'ims.lab', 'via', alt), (e: unknown) => e instanceof ThigError && e.reason === 'format');
  });

  test('Kv is never shown: String, JSON and inspect of the key say [secret]', () => {
    const key = new ThigKey(KV);
    const hex = KV.toString('hex');
    assert.equal(String(key), '[secret]');
    assert.equal(JSON.stringify({ key }), '{"key":"[secret]"}');
    assert.ok(!inspect(key).includes(hex) && inspect(key).includes('secret'));
    assert.throws(() => new ThigKey(new Uint8Array(15)), (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT');
  });
});
