import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sharedJson } from '../../support/shared.js';
import { InvalidArgumentError, SeededRng } from '../../../src/common/index.js';
import {
  DigestParseError,
  akaPassword,
  buildAkaNonce,
  digestHA1,
  digestHA2,
  digestResponse,
  formatAuts,
  formatDigestChallenge,
  formatDigestCredentials,
  parseAkaNonce,
  parseAuts,
  parseDigestChallenge,
  parseDigestCredentials,
  verifyDigestResponse,
} from '../../../src/auth/digest/index.js';

interface AkaVector {
  id: string;
  rfc?: string;
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  qop: string;
  nc: string;
  cnonce: string;
  opaque?: string;
  response?: string | null;
  method?: string | null;
  RES_hex?: string;
  A1_hex_as_published?: string;
  HA1?: string;
  HA2?: string;
}

const vectors = sharedJson<{ aka: AkaVector[] }>('digest_aka.json');
const vec = (id: string) => vectors.value.aka.find((v) => v.id === id)!;

// ---- Independent builders: plain node:crypto MD5, written step by step (no code under test). ----
const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex');
const md5raw = (b: Buffer) => createHash('md5').update(b).digest();
const ascii = (s: string) => Buffer.from(s, 'utf8');

/** RFC 2104 HMAC with MD5 (B = 64) from bare MD5, so the check does not share createHmac with the code. */
function hmacMd5(key: Buffer, data: Buffer): Buffer {
  const k = Buffer.alloc(64);
  (key.length > 64 ? md5raw(key) : key).copy(k);
  const ipad = Buffer.from(k.map((x) => x ^ 0x36));
  const opad = Buffer.from(k.map((x) => x ^ 0x5c));
  return md5raw(Buffer.concat([opad, md5raw(Buffer.concat([ipad, data]))]));
}

/** RFC 2617 §3.2.2.1 with qop, password as raw bytes. */
function expectedResponse(o: { user: string; realm: string; password: Buffer; method: string; uri: string; nonce: string; nc: string; cnonce: string; qop: string }): string {
  const ha1 = md5hex(Buffer.concat([ascii(`${o.user}:${o.realm}:`), o.password]));
  const ha2 = md5hex(ascii(`${o.method}:${o.uri}`));
  return md5hex(ascii(`${ha1}:${o.nonce}:${o.nc}:${o.cnonce}:${o.qop}:${ha2}`));
}

const rng = new SeededRng('digest-aka-tests');
const rand = rng.bytes(16);
const autn = rng.bytes(16);
const nonce = Buffer.concat([rand, autn]).toString('base64');
const base = { user: 'user1@ims.mnc001.mcc001.3gppnetwork.org', realm: 'ims.mnc001.mcc001.3gppnetwork.org', method: 'REGISTER', uri: 'sip:ims.mnc001.mcc001.3gppnetwork.org', nonce, nc: '00000001', cnonce: '0a4f113b', qop: 'auth' };

describe('RFC 3310: Digest AKAv1-MD5 vectors (../shared/vectors/digest_aka.json)', vectors.options, () => {
  test('[R-AKA-6] rfc3310-5.1-example (RFC 3310 example Authorization, illustrative values): credentials parse and format', () => {
    const v = vec('rfc3310-5.1-example');
    const header =
      `Digest username="${v.username}",\r\n realm="${v.realm}",\r\n nonce="${v.nonce}",\r\n uri="${v.uri}",\r\n` +
      ` qop=${v.qop},\r\n nc=${v.nc},\r\n cnonce="${v.cnonce}",\r\n response="${v.response}",\r\n opaque="${v.opaque}"`;
    const cr = parseDigestCredentials(header);
    assert.deepEqual(cr, { username: v.username, realm: v.realm, nonce: v.nonce, uri: v.uri, qop: 'auth-int', nc: v.nc, cnonce: v.cnonce, response: v.response, opaque: v.opaque });
    assert.equal(
      formatDigestCredentials(cr),
      `Digest username="${v.username}", realm="${v.realm}", nonce="${v.nonce}", uri="${v.uri}", response="${v.response}", ` +
        `cnonce="${v.cnonce}", opaque="${v.opaque}", qop=auth-int, nc=${v.nc}`,
    );
  });
  test('[R-AKA-6] rfc3310-5.1-example: the challenge parses; its illustrative nonce is not base64(RAND‖AUTN)', () => {
    const v = vec('rfc3310-5.1-example');
    const ch = parseDigestChallenge(`Digest realm="${v.realm}", nonce="${v.nonce}", qop="auth,auth-int", algorithm=AKAv1-MD5, opaque="${v.opaque}"`);
    assert.deepEqual(ch, { realm: v.realm, nonce: v.nonce, qop: ['auth', 'auth-int'], algorithm: 'AKAv1-MD5', opaque: v.opaque });
    assert.throws(() => parseAkaNonce(v.nonce), DigestParseError);
  });
  test('[R-AKA-6] spirent-faq19312-partial (RFC 3310 §3.3): HA1 with RES as raw octets, HA2', () => {
    const v = vec('spirent-faq19312-partial');
    const res = new Uint8Array(Buffer.from(v.RES_hex!, 'hex'));
    // The published A1 is the independent statement of "RES as raw octets"; check the vector itself.
    assert.equal(md5hex(Buffer.from(v.A1_hex_as_published!, 'hex')), v.HA1);
    const input = { algorithm: 'AKAv1-MD5' as const, username: v.username, realm: v.realm, password: akaPassword(1, res), method: v.method!, uri: v.uri, nonce: v.nonce, nc: v.nc, cnonce: v.cnonce, qop: 'auth' as const };
    assert.equal(digestHA1(input), v.HA1);
    assert.equal(digestHA2(input), v.HA2);
    // RES as a hex string would be the classic interop bug: it must give another HA1.
    assert.notEqual(digestHA1({ ...input, password: v.RES_hex! }), v.HA1);
    const expected = md5hex(ascii(`${v.HA1}:${v.nonce}:${v.nc}:${v.cnonce}:auth:${v.HA2}`));
    assert.equal(digestResponse(input), expected);
    assert.equal(verifyDigestResponse(input, expected), true);
  });
});

describe('RFC 3310 §3.3: AKAv1-MD5 password = RES octets', () => {
  const cases: [string, string][] = [
    ['4-byte RES', 'a1b2c3d4'],
    ['8-byte RES', 'a54211d5e3ba50bf'],
    ['12-byte RES', '0102030405060708090a0b0c'],
    ['16-byte RES', 'f0e1d2c3b4a5968778695a4b3c2d1e0f'],
    ['RES with 0x00 bytes (leading, inner, trailing)', '00a5420011d500bf00'],
    ['8-byte RES that starts with 0x00', '00000000e3ba50bf'],
  ];
  for (const [name, hex] of cases) {
    test(`[R-AKA-6] ${name}: response matches an independent step-by-step MD5`, () => {
      const res = Buffer.from(hex, 'hex');
      const expected = expectedResponse({ ...base, password: res });
      const got = digestResponse({ algorithm: 'AKAv1-MD5', username: base.user, realm: base.realm, password: akaPassword(1, new Uint8Array(res)), method: base.method, uri: base.uri, nonce, nc: 1, cnonce: base.cnonce, qop: 'auth' });
      assert.equal(got, expected);
      if (res.includes(0)) {
        // A C-string RES (cut at the first 0x00, SIPp's bug) must not verify.
        const cut = res.subarray(0, res.indexOf(0));
        assert.notEqual(expectedResponse({ ...base, password: cut }), got);
      }
    });
  }
  test('[R-AKA-6] RES outside 4..16 bytes is refused', () => {
    assert.throws(() => akaPassword(1, new Uint8Array(3)), InvalidArgumentError);
    assert.throws(() => akaPassword(1, new Uint8Array(17)), InvalidArgumentError);
  });
  test('[R-AKA-6] the password is a copy: changing it does not change the caller\'s RES', () => {
    const res = new Uint8Array([1, 2, 3, 4]);
    akaPassword(1, res)[0] = 9;
    assert.equal(res[0], 1);
  });
});

describe('RFC 4169 §3: AKAv2-MD5 password = base64(HMAC-MD5(RES‖IK‖CK, "http-digest-akav2-password"))', () => {
  test('the independent HMAC-MD5 builder reproduces RFC 2202 §2 test cases 2 and 6', () => {
    assert.equal(hmacMd5(ascii('Jefe'), ascii('what do ya want for nothing?')).toString('hex'), '750c783e6ab0b503eaa86e310a5db738');
    assert.equal(
      hmacMd5(Buffer.alloc(80, 0xaa), ascii('Test Using Larger Than Block-Size Key - Hash Key First')).toString('hex'),
      '6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd',
    );
  });
  const ik = Buffer.from('f769bcd751044604127672711c6d3441', 'hex');
  const ck = Buffer.from('b40ba9a3c58b2a05bbf0d987b21bf8cb', 'hex');
  for (const hex of ['a54211d5e3ba50bf', '00a5420011d500bf', 'f0e1d2c3b4a5968778695a4b3c2d1e0f']) {
    test(`[R-AKA-6] RES ${hex.length / 2} bytes${hex.startsWith('00') ? ' with 0x00 bytes' : ''}: password and response match an independent construction`, () => {
      const res = Buffer.from(hex, 'hex');
      const password = Buffer.from(hmacMd5(Buffer.concat([res, ik, ck]), ascii('http-digest-akav2-password')).toString('base64'), 'ascii');
      assert.equal(password.length, 24);
      const got = akaPassword(2, new Uint8Array(res), new Uint8Array(ik), new Uint8Array(ck));
      assert.deepEqual(Buffer.from(got), password);
      const expected = expectedResponse({ ...base, password });
      assert.equal(
        digestResponse({ algorithm: 'AKAv2-MD5', username: base.user, realm: base.realm, password: got, method: base.method, uri: base.uri, nonce, nc: '00000001', cnonce: base.cnonce, qop: 'auth' }),
        expected,
      );
      assert.notEqual(expected, expectedResponse({ ...base, password: res }), 'AKAv2 differs from AKAv1');
    });
  }
  test('[R-AKA-6] AKAv2 needs 16-byte IK and CK', () => {
    const res = new Uint8Array(8);
    assert.throws(() => akaPassword(2, res), InvalidArgumentError);
    assert.throws(() => akaPassword(2, res, new Uint8Array(15), new Uint8Array(16)), InvalidArgumentError);
    assert.throws(() => akaPassword(2, res, new Uint8Array(16), new Uint8Array(17)), InvalidArgumentError);
  });
});

describe('RFC 3310 §3.2: AKA nonce = base64(RAND‖AUTN‖server data)', () => {
  test('[R-AKA-6] build matches plain base64 and parses back', () => {
    assert.equal(buildAkaNonce(rand, autn), nonce);
    const n = parseAkaNonce(nonce);
    assert.deepEqual(n, { rand, autn, serverData: new Uint8Array(0) });
  });
  test('[R-AKA-6] server data round-trips', () => {
    const sd = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00]);
    const s = buildAkaNonce(rand, autn, sd);
    assert.equal(s, Buffer.concat([rand, autn, sd]).toString('base64'));
    assert.deepEqual(parseAkaNonce(s), { rand, autn, serverData: sd });
  });
  test('[R-AKA-6] unpadded base64 is accepted', () => {
    const s = buildAkaNonce(rand, autn, new Uint8Array([1, 2]));
    assert.ok(s.endsWith('='));
    assert.deepEqual(parseAkaNonce(s.replace(/=+$/, '')).serverData, new Uint8Array([1, 2]));
  });
  test('[R-AKA-6] a short or non-base64 nonce is a DigestParseError', () => {
    const short = Buffer.alloc(31, 7).toString('base64');
    for (const bad of [short, '', 'not base64!', 'AAAA=', 'A', `${nonce}=`]) {
      assert.throws(() => parseAkaNonce(bad), (e: unknown) => e instanceof DigestParseError && e.code === 'DIGEST_PARSE', JSON.stringify(bad));
    }
  });
  test('[R-AKA-6] RAND and AUTN must be 16 bytes', () => {
    assert.throws(() => buildAkaNonce(rand.subarray(1), autn), InvalidArgumentError);
    assert.throws(() => buildAkaNonce(rand, new Uint8Array(17)), InvalidArgumentError);
  });
  test('[R-AKA-6] the S-CSCF 401 carries the nonce with ik/ck; the UE sees neither key', () => {
    const ik = rng.bytes(16);
    const ck = rng.bytes(16);
    const ch = { realm: base.realm, nonce: buildAkaNonce(rand, autn), algorithm: 'AKAv1-MD5', ik, ck, qop: ['auth'] };
    const wire = formatDigestChallenge(ch);
    const back = parseDigestChallenge(wire);
    assert.deepEqual(back, ch);
    assert.deepEqual(parseAkaNonce(back.nonce), { rand, autn, serverData: new Uint8Array(0) });
  });
});

describe('RFC 3310 §3.4: auts', () => {
  const auts = new Uint8Array(Buffer.from('a8b0f4d3c1e2a9b7c6d5e4f3a2b1', 'hex'));
  test('[R-AKA-5] AUTS round-trips through base64 and the credentials', () => {
    assert.equal(formatAuts(auts), Buffer.from(auts).toString('base64'));
    assert.deepEqual(parseAuts(formatAuts(auts)), auts);
    const wire = `Digest username="u@ims", realm="ims", nonce="${nonce}", uri="sip:ims", response="", auts="${Buffer.from(auts).toString('base64')}"`;
    const cr = parseDigestCredentials(wire);
    assert.deepEqual(cr.auts, auts);
    assert.equal(cr.response, '');
    assert.equal(formatDigestCredentials(cr), wire);
  });
  test('[R-AKA-5] AUTS of the wrong length or not base64 is refused', () => {
    assert.throws(() => parseAuts(Buffer.alloc(13).toString('base64')), DigestParseError);
    assert.throws(() => parseAuts(Buffer.alloc(15).toString('base64')), DigestParseError);
    assert.throws(() => parseAuts('%%%'), DigestParseError);
    assert.throws(() => formatAuts(new Uint8Array(13)), InvalidArgumentError);
    assert.throws(() => parseDigestCredentials('Digest username="u", realm="r", nonce="", uri="sip:r", response="", auts="AAAA"'), DigestParseError);
  });
});
