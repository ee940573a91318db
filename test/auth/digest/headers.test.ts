import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/paths.js';
import { ImsError, InvalidArgumentError } from '../../../src/common/index.js';
import {
  DigestParseError,
  INTEGRITY_PROTECTED_VALUES,
  formatAuthenticationInfo,
  formatDigestChallenge,
  formatDigestCredentials,
  parseAuthenticationInfo,
  parseDigestChallenge,
  parseDigestCredentials,
  withoutAkaKeys,
} from '../../../src/auth/digest/index.js';

const isParseError = (e: unknown) => e instanceof DigestParseError && e.code === 'DIGEST_PARSE';

const IK = 'f769bcd751044604127672711c6d3441';
const CK = 'b40ba9a3c58b2a05bbf0d987b21bf8cb';
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

describe('RFC 3261 §25.1 / TS 24.229 §7.2A.4: WWW-Authenticate / Proxy-Authenticate', () => {
  test('[R-AKA-6] the S-CSCF 401 challenge with ik and ck (Kamailio ims_auth layout)', () => {
    const wire = `Digest realm="ims.lab", nonce="5Y6htWUK4hbrDJNoq/hkMQ0IYq3OpwD/sVdRtl57Z+w=", algorithm=AKAv1-MD5, ck="${CK}", ik="${IK}", qop="auth,auth-int"`;
    const ch = parseDigestChallenge(wire);
    assert.deepEqual(ch, {
      realm: 'ims.lab',
      nonce: '5Y6htWUK4hbrDJNoq/hkMQ0IYq3OpwD/sVdRtl57Z+w=',
      algorithm: 'AKAv1-MD5',
      ck: bytes(CK),
      ik: bytes(IK),
      qop: ['auth', 'auth-int'],
    });
    assert.equal(
      formatDigestChallenge(ch),
      `Digest realm="ims.lab", nonce="5Y6htWUK4hbrDJNoq/hkMQ0IYq3OpwD/sVdRtl57Z+w=", algorithm=AKAv1-MD5, qop="auth,auth-int", ik="${IK}", ck="${CK}"`,
    );
  });
  test('[R-AKA-6] the P-CSCF strips ik and ck before forwarding to the UE', () => {
    const ch = parseDigestChallenge(`Digest realm="ims.lab", nonce="abc", algorithm=AKAv1-MD5, ik="${IK.toUpperCase()}", ck="${CK}"`);
    assert.deepEqual(ch.ik, bytes(IK));
    const out = formatDigestChallenge(withoutAkaKeys(ch));
    assert.equal(out, 'Digest realm="ims.lab", nonce="abc", algorithm=AKAv1-MD5');
    assert.ok(!/\b(ik|ck)=/.test(out));
  });
  test('RFC 2617 §3.5 challenge: every field, with stale and domain', () => {
    const ch = parseDigestChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41", stale=TRUE, domain="/dir  http://h/x"',
    );
    assert.deepEqual(ch, {
      realm: 'testrealm@host.com',
      qop: ['auth', 'auth-int'],
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
      stale: true,
      domain: ['/dir', 'http://h/x'],
    });
    assert.equal(
      formatDigestChallenge(ch),
      'Digest realm="testrealm@host.com", domain="/dir http://h/x", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41", stale=true, qop="auth,auth-int"',
    );
  });
  test('any LWS (folded lines), any order, case-insensitive names, quoted tokens', () => {
    const ch = parseDigestChallenge('dIgEsT\tQOP = "Auth , auth-int" ,ALGORITHM="akav2-md5",\r\n  Stale = "false" , nonce\t=\t"n" , Realm="r"');
    assert.deepEqual(ch, { qop: ['auth', 'auth-int'], algorithm: 'AKAv2-MD5', stale: false, nonce: 'n', realm: 'r' });
    assert.equal(formatDigestChallenge(ch), 'Digest realm="r", nonce="n", stale=false, algorithm=AKAv2-MD5, qop="auth,auth-int"');
  });
  test('unknown auth-params and unknown algorithms are kept as sent', () => {
    const wire = 'Digest realm="r", nonce="n", algorithm=SHA-512-Foo, charset=UTF-8, userhash="true", x-Vendor="a \\"b\\" \\\\c"';
    const ch = parseDigestChallenge(wire);
    assert.equal(ch.algorithm, 'SHA-512-Foo');
    assert.deepEqual(ch.params, [
      { name: 'charset', value: 'UTF-8', quoted: false },
      { name: 'userhash', value: 'true', quoted: true },
      { name: 'x-Vendor', value: 'a "b" \\c', quoted: true },
    ]);
    assert.equal(formatDigestChallenge(ch), wire);
  });
});

describe('RFC 3261 §25.1 / TS 24.229 §7.2A.1: Authorization / Proxy-Authorization', () => {
  test('[R-AKA-6] the initial IMS REGISTER: empty nonce and response, integrity-protected="no"', () => {
    const wire = 'Digest username="user1@ims.lab", realm="ims.lab", nonce="", uri="sip:ims.lab", response="", integrity-protected="no"';
    const cr = parseDigestCredentials(wire);
    assert.deepEqual(cr, { username: 'user1@ims.lab', realm: 'ims.lab', nonce: '', uri: 'sip:ims.lab', response: '', integrityProtected: 'no' });
    assert.equal(formatDigestCredentials(cr), wire);
  });
  test('[R-AKA-6] integrity-protected: every TS 24.229 value, quoted or not, comes back quoted', () => {
    for (const v of INTEGRITY_PROTECTED_VALUES) {
      for (const sent of [v, `"${v}"`, `"${v.toUpperCase()}"`]) {
        const cr = parseDigestCredentials(`Digest username="u", realm="r", nonce="", uri="sip:r", response="", integrity-protected=${sent}`);
        assert.equal(cr.integrityProtected, v);
        assert.ok(formatDigestCredentials(cr).endsWith(`, integrity-protected="${v}"`));
      }
    }
    assert.throws(() => parseDigestCredentials('Digest username="u", realm="r", nonce="", uri="sip:r", response="", integrity-protected=maybe'), isParseError);
  });
  test('[R-AKA-6] the protected REGISTER from a UE, phone-style (quoted tokens, uppercase hex)', () => {
    const cr = parseDigestCredentials(
      'Digest username="u@ims", realm="ims", uri="sip:ims", qop="auth", nonce="abc=", nc="00000001", cnonce="c", algorithm="AKAv1-MD5", response="0123456789ABCDEF0123456789abcdef", integrity-protected="yes"',
    );
    assert.deepEqual(cr, {
      username: 'u@ims', realm: 'ims', uri: 'sip:ims', qop: 'auth', nonce: 'abc=', nc: '00000001', cnonce: 'c', algorithm: 'AKAv1-MD5',
      response: '0123456789ABCDEF0123456789abcdef', integrityProtected: 'yes',
    });
    assert.equal(
      formatDigestCredentials(cr),
      'Digest username="u@ims", realm="ims", nonce="abc=", uri="sip:ims", response="0123456789ABCDEF0123456789abcdef", algorithm=AKAv1-MD5, cnonce="c", qop=auth, nc=00000001, integrity-protected="yes"',
    );
  });
  test('quoted-string escapes and UTF-8 survive a round trip', () => {
    const cr = parseDigestCredentials('Digest username="a\\"b\\\\c\\d", realm="réalm ☎", nonce="", uri="sip:x", response=""');
    assert.equal(cr.username, 'a"b\\cd');
    assert.equal(cr.realm, 'réalm ☎');
    assert.deepEqual(parseDigestCredentials(formatDigestCredentials(cr)), cr);
  });
  test('required fields: username, realm, nonce, uri, response', () => {
    for (const drop of ['username="u"', 'realm="r"', 'nonce=""', 'uri="sip:r"', 'response=""']) {
      const all = ['username="u"', 'realm="r"', 'nonce=""', 'uri="sip:r"', 'response=""'].filter((x) => x !== drop);
      assert.throws(() => parseDigestCredentials(`Digest ${all.join(', ')}`), isParseError, drop);
    }
  });
});

describe('RFC 2617 §3.2.3: Authentication-Info', () => {
  test('[R-AKA-6] all fields, canonical output', () => {
    const ai = parseAuthenticationInfo('qop="AUTH", rspauth="6629fae49393a05397450978507c4ef1",cnonce="0a4f113b" , nc=00000001, nextnonce="47364c23432d2e131a5fb210812c", x=y');
    assert.deepEqual(ai, {
      qop: 'auth', rspauth: '6629fae49393a05397450978507c4ef1', cnonce: '0a4f113b', nc: '00000001', nextnonce: '47364c23432d2e131a5fb210812c',
      params: [{ name: 'x', value: 'y', quoted: false }],
    });
    assert.equal(
      formatAuthenticationInfo(ai),
      'nextnonce="47364c23432d2e131a5fb210812c", qop=auth, rspauth="6629fae49393a05397450978507c4ef1", cnonce="0a4f113b", nc=00000001, x=y',
    );
  });
  test('empty or malformed Authentication-Info is a DigestParseError; nothing to format is an argument error', () => {
    for (const bad of ['', '   ', 'rspauth=xyz', 'rspauth="zz"', 'nc=', 'qop="a b"', 'nextnonce="a", nextnonce="b"']) {
      assert.throws(() => parseAuthenticationInfo(bad), isParseError, JSON.stringify(bad));
    }
    assert.throws(() => formatAuthenticationInfo({}), InvalidArgumentError);
  });
});

const MALFORMED_CHALLENGES: [string, string][] = [
  ['empty', ''],
  ['another scheme', 'Basic realm="x"'],
  ['no space after the scheme', 'Digest,realm="x", nonce="y"'],
  ['scheme glued to a name', 'Digestrealm="x", nonce="y"'],
  ['unterminated quoted-string', 'Digest realm="x, nonce="y'],
  ['missing comma', 'Digest realm="x" nonce="y"'],
  ['empty list element', 'Digest realm="x",, nonce="y"'],
  ['trailing comma', 'Digest realm="x", nonce="y",'],
  ['no name', 'Digest ="x"'],
  ['no value', 'Digest realm=, nonce="y"'],
  ['name without =', 'Digest realm'],
  ['duplicate realm', 'Digest realm="x", nonce="y", REALM="z"'],
  ['no nonce', 'Digest realm="x"'],
  ['no realm', 'Digest nonce="y"'],
  ['odd ik', 'Digest realm="x", nonce="y", ik="abc"'],
  ['non-hex ck', 'Digest realm="x", nonce="y", ck="zz"'],
  ['algorithm not a token', 'Digest realm="x", nonce="y", algorithm="AKA v1"'],
  ['empty qop-options', 'Digest realm="x", nonce="y", qop=""'],
  ['control character in a quoted-string', 'Digest realm="x\u0001", nonce="y"'],
  ['bare LF', 'Digest realm="x",\n nonce="y"'],
  ['CR LF without continuation', 'Digest realm="x",\r\nnonce="y"'],
  ['quoted-pair at the end', 'Digest realm="x", nonce="y\\'],
  ['escaped CR', 'Digest realm="x\\\r", nonce="y"'],
];

const MALFORMED_CREDENTIALS: [string, string][] = [
  ['response not hex', 'Digest username="u", realm="r", nonce="", uri="sip:r", response="xyz"'],
  ['nc not hex', 'Digest username="u", realm="r", nonce="", uri="sip:r", response="", nc=zz'],
  ['nc empty', 'Digest username="u", realm="r", nonce="", uri="sip:r", response="", nc=""'],
  ['qop not a token', 'Digest username="u", realm="r", nonce="", uri="sip:r", response="", qop="auth,auth-int"'],
  ['duplicate response', 'Digest username="u", realm="r", nonce="", uri="sip:r", response="", response="00"'],
];

describe('malformed input is a DigestParseError (code DIGEST_PARSE), nothing else', () => {
  for (const [name, wire] of MALFORMED_CHALLENGES) {
    test(`challenge: ${name}`, () => assert.throws(() => parseDigestChallenge(wire), isParseError));
  }
  for (const [name, wire] of MALFORMED_CREDENTIALS) {
    test(`credentials: ${name}`, () => assert.throws(() => parseDigestCredentials(wire), isParseError));
  }
  test('the error names the offset of the fault, never a key', () => {
    try {
      parseDigestChallenge(`Digest realm="x", nonce="y", ik="${IK}0"`);
      assert.fail('no error');
    } catch (e) {
      assert.ok(isParseError(e));
      assert.equal((e as DigestParseError).offset, 29);
      assert.ok(!(e as Error).message.includes(IK));
    }
  });
});

describe('formatting refuses values it cannot carry', () => {
  test('CR/LF in a quoted value, a non-token algorithm, a known name in params', () => {
    assert.throws(() => formatDigestChallenge({ realm: 'a\r\nb', nonce: 'n' }), InvalidArgumentError);
    assert.throws(() => formatDigestChallenge({ realm: 'r', nonce: 'n', algorithm: 'A B' }), InvalidArgumentError);
    assert.throws(() => formatDigestChallenge({ realm: 'r', nonce: 'n', params: [{ name: 'Nonce', value: 'x', quoted: true }] }), InvalidArgumentError);
    assert.throws(() => formatDigestChallenge({ realm: 'r', nonce: 'n', domain: ['a b'] }), InvalidArgumentError);
    assert.throws(() => formatDigestChallenge({ realm: 'r', nonce: 'n', qop: [] }), InvalidArgumentError);
    assert.throws(() => formatDigestCredentials({ username: 'u', realm: 'r', nonce: '', uri: 'u', response: 'xyz' }), InvalidArgumentError);
    assert.throws(() => formatDigestCredentials({ username: 'u', realm: 'r', nonce: '', uri: 'u', response: '', nc: '' }), InvalidArgumentError);
    assert.throws(() => formatDigestCredentials({ username: 'u', realm: 'r', nonce: '', uri: 'u', response: '', params: [{ name: 'x', value: 'a b', quoted: false }] }), InvalidArgumentError);
  });
  test('control characters are escaped as quoted-pairs and parse back', () => {
    const ch = { realm: 'a\u0000b\u007f"\\', nonce: 'n' };
    const wire = formatDigestChallenge(ch);
    assert.equal(wire, 'Digest realm="a\\\u0000b\\\u007f\\"\\\\", nonce="n"');
    assert.deepEqual(parseDigestChallenge(wire), ch);
  });
});

describe('fuzz corpus replay (test/fuzz/corpus/digest-headers)', () => {
  const dir = join(repoRoot, 'test', 'fuzz', 'corpus', 'digest-headers');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.txt')).sort() : [];
  test('the corpus is present', () => assert.ok(files.length > 0));
  for (const f of files) {
    test(`corpus ${f}: every parser returns a value or throws DigestParseError`, () => {
      const input = readFileSync(join(dir, f), 'utf8');
      for (const parse of [parseDigestChallenge, parseDigestCredentials, parseAuthenticationInfo]) {
        try {
          parse(input);
        } catch (e) {
          assert.ok(e instanceof ImsError && isParseError(e), `${parse.name}: ${String(e)}`);
        }
      }
    });
  }
});
