import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sharedJson } from '../../support/shared.js';
import { InvalidArgumentError } from '../../../src/common/index.js';
import {
  digestHA1,
  digestHA2,
  digestResponse,
  digestRspauth,
  verifyDigestResponse,
  parseDigestCredentials,
  type DigestAlgorithm,
  type DigestInput,
} from '../../../src/auth/digest/index.js';

interface PlainVector {
  id: string;
  rfc?: string;
  algorithm?: string;
  username: string;
  password: string;
  realm: string;
  nonce: string;
  opaque?: string;
  method: string;
  uri: string;
  qop?: 'auth' | 'auth-int';
  nc?: string;
  cnonce?: string;
  entity_body_hex?: string;
  HA1?: string;
  HA2?: string;
  response: string;
}

const vectors = sharedJson<{ plain_digest: PlainVector[] }>('digest_aka.json');

/** "MD5 (algorithm parameter absent)" in the vector file means: no algorithm parameter. */
function algorithmOf(v: PlainVector): DigestAlgorithm | undefined {
  if (v.algorithm === undefined || v.algorithm.includes('absent')) return undefined;
  return v.algorithm as DigestAlgorithm;
}

function inputOf(v: PlainVector): DigestInput {
  return {
    algorithm: algorithmOf(v),
    username: v.username,
    realm: v.realm,
    password: v.password,
    method: v.method,
    uri: v.uri,
    nonce: v.nonce,
    nc: v.nc,
    cnonce: v.cnonce,
    qop: v.qop,
    body: v.entity_body_hex === undefined ? undefined : new Uint8Array(Buffer.from(v.entity_body_hex, 'hex')),
  };
}

const md5 = (s: string | Uint8Array) => createHash('md5').update(s).digest('hex');

describe('RFC 2617 §3.2.2 / RFC 7616 §3.4.1 / RFC 2069: published Digest examples (../shared/vectors/digest_aka.json)', vectors.options, () => {
  assert.ok(vectors.value.plain_digest.length >= 20);
  for (const v of vectors.value.plain_digest) {
    test(`[R-AKA-6] ${v.id} (${v.rfc ?? 'SIP implementation test vector'}): response${v.HA1 ? ', HA1' : ''}${v.HA2 ? ', HA2' : ''}`, () => {
      const input = inputOf(v);
      assert.equal(digestResponse(input), v.response);
      if (v.HA1) assert.equal(digestHA1(input), v.HA1);
      if (v.HA2) assert.equal(digestHA2(input), v.HA2);
      assert.equal(verifyDigestResponse(input, v.response), true);
      assert.equal(verifyDigestResponse(input, v.response.toUpperCase()), true, 'hex case is ignored');
    });
  }
});

describe('RFC 2617 §3.2.2: verification and argument checks', vectors.options, () => {
  const v = vectors.value.plain_digest.find((x) => x.id === 'rfc2617-3.5')!;
  test('[R-AKA-6] a wrong, truncated or empty response does not verify', () => {
    const input = inputOf(v);
    const bad = (v.response[0] === '0' ? '1' : '0') + v.response.slice(1);
    assert.equal(verifyDigestResponse(input, bad), false);
    assert.equal(verifyDigestResponse(input, v.response.slice(0, 31)), false);
    assert.equal(verifyDigestResponse(input, ''), false);
    assert.equal(verifyDigestResponse({ ...input, password: 'Circle of Life' }, v.response), false);
  });
  test('[R-AKA-6] credentials parsed from the RFC 2617 §3.5 header verify against the password', () => {
    const header =
      `Digest username="${v.username}", realm="${v.realm}", nonce="${v.nonce}", uri="${v.uri}", qop=auth, ` +
      `nc=${v.nc}, cnonce="${v.cnonce}", response="${v.response}", opaque="${v.opaque}"`;
    const cr = parseDigestCredentials(header);
    const ok = verifyDigestResponse(
      { username: cr.username, realm: cr.realm, password: v.password, method: 'GET', uri: cr.uri, nonce: cr.nonce, nc: cr.nc, cnonce: cr.cnonce, qop: cr.qop as 'auth' },
      cr.response,
    );
    assert.equal(ok, true);
  });
  test('HA1 given instead of the password gives the same response (TS 29.229 Digest-HA1)', () => {
    const input = inputOf(v);
    const { password: _p, ...rest } = input;
    assert.equal(digestResponse({ ...rest, ha1: v.HA1!.toUpperCase() }), v.response);
  });
  test('nc as a number is 8 lowercase hex digits', () => {
    assert.equal(digestResponse({ ...inputOf(v), nc: 1 }), v.response);
  });
  test('missing or contradictory inputs are InvalidArgumentError', () => {
    const input = inputOf(v);
    assert.throws(() => digestResponse({ ...input, cnonce: undefined }), InvalidArgumentError);
    assert.throws(() => digestResponse({ ...input, nc: undefined }), InvalidArgumentError);
    assert.throws(() => digestResponse({ ...input, nc: 0 }), InvalidArgumentError);
    assert.throws(() => digestResponse({ ...input, password: undefined }), InvalidArgumentError);
    assert.throws(() => digestResponse({ ...input, ha1: v.HA1 }), InvalidArgumentError);
    assert.throws(() => digestResponse({ ...input, algorithm: 'SHA-512' as DigestAlgorithm }), InvalidArgumentError);
    assert.throws(() => digestResponse({ ...input, algorithm: 'MD5-sess', cnonce: undefined, qop: undefined }), InvalidArgumentError);
  });
});

describe('RFC 2617 §3.2.3: rspauth for Authentication-Info', vectors.options, () => {
  const v = vectors.value.plain_digest.find((x) => x.id === 'rfc2617-3.5')!;
  test('[R-AKA-6] rspauth uses A2 = ":" uri (independent step-by-step MD5)', () => {
    const ha2 = md5(`:${v.uri}`);
    const expected = md5(`${v.HA1}:${v.nonce}:${v.nc}:${v.cnonce}:auth:${ha2}`);
    const { method: _m, ...input } = inputOf(v);
    assert.equal(digestRspauth(input), expected);
    assert.notEqual(digestRspauth(input), v.response);
  });
  test('[R-AKA-6] rspauth with qop=auth-int hashes the response body', () => {
    const body = new Uint8Array(Buffer.from('v=0\r\n'));
    const ha2 = md5(`:${v.uri}:${md5(body)}`);
    const expected = md5(`${v.HA1}:${v.nonce}:${v.nc}:${v.cnonce}:auth-int:${ha2}`);
    const { method: _m, ...input } = inputOf(v);
    assert.equal(digestRspauth({ ...input, qop: 'auth-int', body }), expected);
  });
});
