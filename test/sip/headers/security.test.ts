import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseMessage, wwwAuthenticateOf, authorizationOf, proxyAuthorizationOf, securityClientOf, securityServerOf, securityVerifyOf, authenticationInfoOf,
  DigestParseError,
} from '../../../src/sip/index.js';

const msg = (lines: string[]) => parseMessage(new TextEncoder().encode([...lines, 'Content-Length: 0', '', ''].join('\r\n')));

describe('typed accessors for Digest (RFC 3310) and sec-agree (RFC 3329) headers', () => {
  test('401: one challenge per WWW-Authenticate field; Security-Server mechanisms', () => {
    const m = msg([
      'SIP/2.0 401 Unauthorized',
      'WWW-Authenticate: Digest realm="ims.example.net", nonce="bm9uY2U=", algorithm=AKAv1-MD5, qop="auth"',
      'WWW-Authenticate: Digest realm="other.example.net", nonce="eA=="',
      'Security-Server: ipsec-3gpp;q=0.1;prot=esp;mod=trans;spi-c=8001;spi-s=8002;port-c=5064;port-s=5066;alg=hmac-sha-1-96;ealg=null',
    ]);
    const ch = wwwAuthenticateOf(m);
    assert.deepEqual(ch.map((c) => c.realm), ['ims.example.net', 'other.example.net']);
    assert.equal(ch[0].algorithm, 'AKAv1-MD5');
    const ss = securityServerOf(m);
    assert.equal(ss.length, 1);
    assert.deepEqual([ss[0].name, ss[0].spiC, ss[0].spiS, ss[0].portC, ss[0].portS], ['ipsec-3gpp', 8001, 8002, 5064, 5066]);
    assert.equal(authenticationInfoOf(m), undefined);
  });
  test('REGISTER: credentials, Security-Client across fields, Security-Verify', () => {
    const m = msg([
      'REGISTER sip:ims.example.net SIP/2.0',
      'Authorization: Digest username="user@ims.example.net", realm="ims.example.net", nonce="bm9uY2U=", uri="sip:ims.example.net", response="00112233445566778899aabbccddeeff", algorithm=AKAv1-MD5',
      'Security-Client: ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1111;spi-s=2222;port-c=5062;port-s=5064',
      'Security-Client: ipsec-3gpp;alg=hmac-md5-96;spi-c=1111;spi-s=2222;port-c=5062;port-s=5064',
      'Security-Verify: ipsec-3gpp;q=0.1;alg=hmac-sha-1-96;spi-c=8001;spi-s=8002;port-c=5064;port-s=5066',
    ]);
    const cr = authorizationOf(m);
    assert.equal(cr.length, 1);
    assert.equal(cr[0].username, 'user@ims.example.net');
    assert.equal(cr[0].response, '00112233445566778899aabbccddeeff');
    assert.deepEqual(securityClientOf(m).map((x) => x.alg), ['hmac-sha-1-96', 'hmac-md5-96']);
    assert.equal(securityVerifyOf(m)[0].spiC, 8001);
    assert.deepEqual(proxyAuthorizationOf(m), []);
  });
  test('an unknown authorization scheme is the Digest codec\'s typed error (RFC 4475 §3.3.7)', () => {
    const m = msg(['REGISTER sip:example.com SIP/2.0', 'Authorization: NoOneKnowsThisScheme opaque-data=here']);
    assert.throws(() => authorizationOf(m), (e: unknown) => e instanceof DigestParseError && e.code === 'DIGEST_PARSE');
  });
});
