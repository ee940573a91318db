import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ImsError, InvalidArgumentError } from '../../src/common/index.js';
import {
  SecAgreeParseError,
  effectiveIpsec,
  formatSecMechanism,
  formatSecurityMechanisms,
  parseSecurityMechanisms,
  type SecMechanism,
} from '../../src/secagree/index.js';
import { repoRoot } from '../support/paths.js';
import { secAgreeExamples, type ExampleBlock } from './vectors.js';

const blocks = secAgreeExamples.present ? secAgreeExamples.value : [];

function block(prefix: string): ExampleBlock {
  const b = blocks.find((x) => x.title.startsWith(prefix));
  assert.ok(b, `vector block ${prefix} present`);
  return b;
}

/** Parse, format, parse again: the second parse must equal the first. */
function assertRoundTrip(list: SecMechanism[]): void {
  assert.deepEqual(parseSecurityMechanisms(formatSecurityMechanisms(list)), list);
}

function mech(name: string, fields: Partial<SecMechanism> = {}): SecMechanism {
  return { name, extensions: [], ...fields };
}

/** Expected values written by hand from the example text. */
const EXPECTED: Record<string, (b: ExampleBlock) => void> = {
  'JAIN-SIP (NIST) IMS parser unit test: SecurityClientParserTest': (b) => {
    assert.deepEqual(parseSecurityMechanisms(b.headers[0].value), [
      mech('ipsec-3gpp', { alg: 'hmac-sha-1-96', spiC: 23456789, spiS: 12345678, portC: 2468, portS: 1357 }),
    ]);
  },
  'JAIN-SIP (NIST) IMS parser unit test: SecurityServerParserTest': (b) => {
    const two = parseSecurityMechanisms(b.headers[1].value);
    assert.equal(two.length, 2);
    assert.deepEqual(two[1], mech('ipsec-3gpp', { alg: 'hmac-sha-1-96', spiC: 98765432, spiS: 87654321, portC: 8642, portS: 7531, q: 0.5 }));
    assert.equal(parseSecurityMechanisms(b.headers[0].value)[0].q, 0.1);
  },
  'JAIN-SIP (NIST) IMS parser unit test: SecurityVerifyParserTest': (b) => {
    const two = parseSecurityMechanisms(b.headers[1].value);
    assert.deepEqual(
      two.map((m) => [m.spiC, m.q]),
      [
        [23456789, 0.1],
        [98765432, 0.5],
      ],
    );
  },
  'sofia-sip digest client test': (b) => {
    assert.equal(b.headers[0].line, 'Security-Server:digest');
    assert.deepEqual(parseSecurityMechanisms(b.headers[0].value), [mech('digest')]);
    assert.deepEqual(parseSecurityMechanisms(b.headers[2].value), [mech('digest', { extensions: [{ name: 'd-ver', value: '"1234"' }] })]);
  },
  'sofia-sip SIP parser torture test': (b) => {
    assert.deepEqual(parseSecurityMechanisms(b.headers[0].value), [mech('tls')]);
    assert.deepEqual(parseSecurityMechanisms(b.headers[1].value), [mech('tls', { q: 0.2 })]);
  },
  'Doubango tinySIP parser test message': (b) => {
    // The block's own note: synthetic robustness input; port-c=78952 is out of the 16-bit range.
    const [c1, c2, s, v] = b.headers.map((h) => h.value);
    const first = parseSecurityMechanisms(c1);
    assert.equal(first[0].spiC, 4294967295);
    assert.deepEqual(first[1], mech('tls', { q: 0.2 }));
    assert.deepEqual(parseSecurityMechanisms(c2)[1].extensions, [{ name: 'test', value: '123' }]);
    assert.throws(() => parseSecurityMechanisms(s), (e: unknown) => e instanceof SecAgreeParseError && e.code === 'SECAGREE_PARSE' && /port-c/.test(e.message));
    const verify = parseSecurityMechanisms(v);
    assert.deepEqual(verify[1], mech('ipsec-ike', { q: 0.1, extensions: [{ name: 'test', value: '458' }, { name: 'toto' }] }));
  },
  'phh IMS client unit test': (b) => {
    const list = parseSecurityMechanisms(b.headers[0].value);
    assert.deepEqual(
      list.map((m) => [m.name, m.q, m.alg]),
      [
        ['invalid', undefined, undefined],
        ['ipsec-3gpp', 0.5, 'hmac-sha-1-96'],
        ['invalid2', 0.9, undefined],
        ['ipsec-3gpp', 0.6, 'hmac-md5-96'],
        ['ipsec-3gpp', 0.7, 'notsupported'],
      ],
    );
  },
  'Boghe IMS client': (b) => {
    assert.deepEqual(parseSecurityMechanisms(b.headers[0].value), [
      mech('ipsec-3gpp', { alg: 'hmac-sha-1-96', ealg: 'null', prot: 'esp', mod: 'trans', spiC: 51018934, spiS: 2732688522, portC: 63375, portS: 63374 }),
    ]);
  },
  'Commercial UE initial REGISTER': (b) => {
    const list = parseSecurityMechanisms(b.headers[0].value);
    assert.deepEqual(
      list.map((m) => `${m.alg}/${m.ealg}`),
      ['hmac-md5-96/des-ede3-cbc', 'hmac-md5-96/aes-cbc', 'hmac-md5-96/null', 'hmac-sha-1-96/des-ede3-cbc', 'hmac-sha-1-96/aes-cbc', 'hmac-sha-1-96/null'],
    );
    for (const m of list) assert.deepEqual([m.spiC, m.spiS, m.portC, m.portS, m.prot, m.mod], [75245, 75246, 6301, 6300, 'esp', 'trans']);
  },
  'Oracle Unified Session Manager docs': (b) => {
    const client = parseSecurityMechanisms(b.headers[0].value);
    assert.equal(client.length, 3);
    assert.equal(client[1].alg, 'hmac-sha-1-96'); // "alg= hmac-sha-1-96": SWS after EQUAL
    assert.deepEqual(client[2], mech('tls'));
    assert.deepEqual(parseSecurityMechanisms(b.headers[2].value), [mech('tls')]);
  },
  'Grammar reference: Security-Client ABNF': (b) => {
    // Every literal alternative the grammar lists for alg/prot/mod/ealg must parse as that field.
    const rule = (name: string): string[] => {
      const line = b.lines.find((l) => l.startsWith(`${name} =`));
      assert.ok(line, name);
      return [...line.split('EQUAL')[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]);
    };
    const cases: Array<[string, string, keyof SecMechanism]> = [
      ['algorithm', 'alg', 'alg'],
      ['protocol', 'prot', 'prot'],
      ['mode', 'mod', 'mod'],
      ['encrypt-algorithm', 'ealg', 'ealg'],
    ];
    for (const [ruleName, param, field] of cases) {
      const values = rule(ruleName);
      assert.ok(values.length >= 2, ruleName);
      for (const v of values) assert.equal(parseSecurityMechanisms(`ipsec-3gpp;${param}=${v}`)[0][field], v);
    }
    assert.deepEqual(parseSecurityMechanisms('ipsec-3gpp;spi-c=4294967295;spi-s=0')[0].spiS, 0);
  },
};

describe('RFC 3329 §2.2 Security-* header examples (../shared/vectors/sec_agree_examples.txt)', secAgreeExamples.options, () => {
  test('every block of the vector file has a test below', () => {
    assert.equal(blocks.length, 11);
    for (const b of blocks) assert.ok(Object.keys(EXPECTED).some((k) => b.title.startsWith(k)), b.title);
  });
  for (const [prefix, check] of Object.entries(EXPECTED)) {
    const b = block(prefix);
    test(`[R-SM-1] ${b.title} — ${b.source}`, () => {
      check(b);
      // Every header of the block that parses also formats and parses back to the same value.
      for (const h of b.headers) {
        let list: SecMechanism[];
        try {
          list = parseSecurityMechanisms(h.value);
        } catch (e) {
          assert.ok(e instanceof SecAgreeParseError, `${h.line}: ${String(e)}`);
          continue;
        }
        assertRoundTrip(list);
      }
    });
  }
});

describe('RFC 3329 §2.2 parsing rules', () => {
  test('[R-SM-1] parameter names are case-insensitive, any order, any spacing', () => {
    const a = parseSecurityMechanisms('ipsec-3gpp;alg=hmac-md5-96;spi-c=1000;spi-s=1001;port-c=5062;port-s=5064');
    const b = parseSecurityMechanisms(' ipsec-3gpp ;\tPORT-S = 5064 ; Spi-S=1001;SPI-C=  1000 ;ALG=HMAC-MD5-96;port-c=5062 ');
    assert.deepEqual(b, a);
  });

  test('[R-SM-1] omitted prot/mod/ealg take the defaults esp/trans/null (seed 002, Annex H)', () => {
    const [m] = parseSecurityMechanisms('ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1000;spi-s=1001;port-c=1;port-s=2');
    assert.equal(m.prot, undefined);
    assert.deepEqual([effectiveIpsec(m).prot, effectiveIpsec(m).mod, effectiveIpsec(m).ealg], ['esp', 'trans', 'null']);
    const [t] = parseSecurityMechanisms('ipsec-3gpp;alg=hmac-sha-1-96;mod=udp-enc-tun;prot=ESP;ealg=AES-CBC');
    assert.deepEqual([effectiveIpsec(t).prot, effectiveIpsec(t).mod, effectiveIpsec(t).ealg], ['esp', 'UDP-enc-tun', 'aes-cbc']);
  });

  test('folded lines (LWS with CRLF) are whitespace', () => {
    const list = parseSecurityMechanisms('tls;q=0.2,\r\n ipsec-3gpp;\r\n\talg=hmac-md5-96');
    assert.deepEqual(
      list.map((m) => m.name),
      ['tls', 'ipsec-3gpp'],
    );
  });

  test('unknown parameters are kept with quoted strings, IPv6 references and bare names', () => {
    const [m] = parseSecurityMechanisms('ipsec-3gpp;alg=hmac-md5-96;x-note="a, b; \\"c\\"";host=[2001:db8::1];flag;Mixed=Case');
    assert.deepEqual(m.extensions, [
      { name: 'x-note', value: '"a, b; \\"c\\""' },
      { name: 'host', value: '[2001:db8::1]' },
      { name: 'flag' },
      { name: 'Mixed', value: 'Case' },
    ]);
    assert.equal(formatSecMechanism(m), 'ipsec-3gpp;alg=hmac-md5-96;x-note="a, b; \\"c\\"";host=[2001:db8::1];flag;Mixed=Case');
  });

  test('q accepts 0..1 with up to three decimals', () => {
    for (const [v, q] of [
      ['0', 0],
      ['1', 1],
      ['1.000', 1],
      ['0.001', 0.001],
      ['0.', 0],
      ['0.999', 0.999],
    ] as const) {
      assert.equal(parseSecurityMechanisms(`tls;q=${v}`)[0].q, q, v);
    }
  });

  const malformed: Array<[string, string]> = [
    ['', 'empty value'],
    [' , ,', 'only empty elements'],
    [';alg=x', 'no mechanism-name'],
    ['ipsec-3gpp;', 'SEMI without parameter'],
    ['ipsec-3gpp;alg', 'alg without value'],
    ['ipsec-3gpp;alg=', 'alg with empty value'],
    ['ipsec-3gpp alg=hmac-md5-96', 'missing SEMI'],
    ['ipsec-3gpp;spi-c=abc', 'non-numeric SPI'],
    ['ipsec-3gpp;spi-c=4294967296', 'SPI above 2^32-1'],
    ['ipsec-3gpp;spi-s=-1', 'negative SPI'],
    ['ipsec-3gpp;port-c=65536', 'port above 65535'],
    ['ipsec-3gpp;port-s=123456', 'six-digit port'],
    ['tls;q=1.5', 'q above 1'],
    ['tls;q=0.1234', 'q with four decimals'],
    ['tls;q=.5', 'q without leading digit'],
    ['ipsec-3gpp;prot=xyz', 'unknown prot'],
    ['ipsec-3gpp;mod=transport', 'unknown mod'],
    ['ipsec-3gpp;alg=hmac-md5-96;ALG=hmac-sha-1-96', 'repeated alg'],
    ['ipsec-3gpp;alg="hmac-md5-96"', 'quoted alg'],
    ['digest;d-ver="1234', 'unterminated quoted-string'],
    ['digest;d-ver="12\n34"', 'bare LF in quoted-string'],
    ['ipsec-3gpp;host=[zz::1]', 'bad IPv6 reference'],
    ['ipsec-3gpp\r\nalg', 'CRLF not followed by whitespace'],
    ['tls;q=0.2 tls', 'garbage after a mechanism'],
    ['t@ls', 'non-token character'],
  ];
  for (const [input, why] of malformed) {
    test(`malformed: ${why} → SecAgreeParseError (SECAGREE_PARSE)`, () => {
      assert.throws(
        () => parseSecurityMechanisms(input),
        (e: unknown) => e instanceof SecAgreeParseError && e instanceof ImsError && e.code === 'SECAGREE_PARSE' && e.offset >= 0,
      );
    });
  }
});

describe('RFC 3329 §2.2 formatting', () => {
  test('[R-SM-1] known parameters in canonical order, extensions after, comma-space between mechanisms', () => {
    const s = formatSecurityMechanisms([
      { name: 'ipsec-3gpp', q: 0.5, portS: 5064, portC: 5062, spiS: 2000, spiC: 1000, mod: 'UDP-enc-tun', prot: 'esp', ealg: 'aes-cbc', alg: 'hmac-sha-1-96', extensions: [{ name: 'x', value: '1' }] },
      { name: 'tls', extensions: [] },
    ]);
    assert.equal(s, 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=UDP-enc-tun;spi-c=1000;spi-s=2000;port-c=5062;port-s=5064;q=0.5;x=1, tls');
  });

  const bad: Array<[SecMechanism[], string]> = [
    [[], 'empty list'],
    [[mech('bad name')], 'mechanism-name not a token'],
    [[mech('ipsec-3gpp', { spiC: 2 ** 32 })], 'SPI out of range'],
    [[mech('ipsec-3gpp', { portS: 70000 })], 'port out of range'],
    [[mech('tls', { q: 0.1234 })], 'q with four decimals'],
    [[mech('tls', { q: 2 })], 'q above 1'],
    [[mech('ipsec-3gpp', { alg: 'a b' })], 'alg not a token'],
    [[mech('ipsec-3gpp', { extensions: [{ name: 'ALG', value: 'x' }] })], 'extension shadowing alg'],
    [[mech('ipsec-3gpp', { extensions: [{ name: 'x', value: 'a,b' }] })], 'extension value not a token or quoted-string'],
    [[mech('ipsec-3gpp', { extensions: [{ name: 'x', value: '"open' }] })], 'unterminated quoted value'],
  ];
  for (const [list, why] of bad) {
    test(`refuses to format: ${why}`, () => {
      assert.throws(() => formatSecurityMechanisms(list), InvalidArgumentError);
    });
  }
});

describe('fuzz corpus replay (test/fuzz/corpus/secagree-header)', () => {
  const dir = join(repoRoot, 'test', 'fuzz', 'corpus', 'secagree-header');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.txt'))) {
    test(`corpus ${f}: a value that re-encodes, or SecAgreeParseError`, () => {
      const input = readFileSync(join(dir, f), 'utf8');
      let list: SecMechanism[];
      try {
        list = parseSecurityMechanisms(input);
      } catch (e) {
        assert.ok(e instanceof SecAgreeParseError, String(e));
        return;
      }
      assertRoundTrip(list);
    });
  }
});
