import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  redactArgs,
  shellQuote,
  xfrmPolicyAddArgs,
  xfrmPolicyDeleteArgs,
  xfrmStateAddArgs,
  xfrmStateDeleteArgs,
} from '../../../src/ipsec/xfrm/index.js';
import { CK_HEX, IK_HEX, annexISaltHex, saSet } from './fixtures.js';

const HEAD = ['xfrm', 'state', 'add', 'src', '10.0.0.2', 'dst', '10.0.0.1', 'proto', 'esp', 'spi', '0x00001002', 'reqid', '42', 'mode', 'transport', 'replay-window', '64'];

describe('ip-xfrm(8) state argv for every TS 33.203 transform', () => {
  // The P-CSCF's inbound SA from UE port-c to its port-s (SPI = P-CSCF spi-s 0x1002).
  const cases: Array<[string, Parameters<typeof saSet>[1], Parameters<typeof saSet>[2], string[]]> = [
    ['hmac-sha-1-96 + null', 'hmac-sha-1-96', 'null', ['auth-trunc', 'hmac(sha1)', `0x${IK_HEX}00000000`, '96', 'enc', 'ecb(cipher_null)', '']],
    ['hmac-md5-96 + null', 'hmac-md5-96', 'null', ['auth-trunc', 'hmac(md5)', `0x${IK_HEX}`, '96', 'enc', 'ecb(cipher_null)', '']],
    ['hmac-md5-96 + aes-cbc', 'hmac-md5-96', 'aes-cbc', ['auth-trunc', 'hmac(md5)', `0x${IK_HEX}`, '96', 'enc', 'cbc(aes)', `0x${CK_HEX}`]],
    ['hmac-sha-1-96 + des-ede3-cbc', 'hmac-sha-1-96', 'des-ede3-cbc', ['auth-trunc', 'hmac(sha1)', `0x${IK_HEX}00000000`, '96', 'enc', 'cbc(des3_ede)', `0x${CK_HEX}f0f1f2f3f4f5f6f7`]],
    ['null + aes-gcm', 'null', 'aes-gcm', ['aead', 'rfc4106(gcm(aes))', `0x${CK_HEX}${annexISaltHex(0x59, 'AES_GCM_SALT')}`, '128']],
    ['aes-gmac + null', 'aes-gmac', 'null', ['aead', 'rfc4543(gcm(aes))', `0x${IK_HEX}${annexISaltHex(0x58, 'AES_GMAC_SALT')}`, '128']],
  ];
  for (const [name, integrity, encryption, algo] of cases) {
    test(`[R-SA-1] [R-SA-2] [R-SA-8] ${name}: keys per Annex I, anti-replay on`, () => {
      const sa = saSet('pcscf', integrity, encryption)[0];
      assert.deepEqual(xfrmStateAddArgs(sa, { reqid: 42 }), [...HEAD, ...algo]);
    });
  }

  test('[R-SA-1] UDP-enc-tun is tunnel mode with espinudp between the protected ports', () => {
    const sa = saSet('pcscf', 'hmac-sha-1-96', 'aes-cbc', 'UDP-enc-tun')[2]; // pc-us: P-CSCF port-c → UE port-s
    const args = xfrmStateAddArgs(sa, { reqid: 7, replayWindow: 32 });
    assert.deepEqual(args.slice(0, 17), ['xfrm', 'state', 'add', 'src', '10.0.0.1', 'dst', '10.0.0.2', 'proto', 'esp', 'spi', '0x80000102', 'reqid', '7', 'mode', 'tunnel', 'replay-window', '32']);
    assert.deepEqual(args.slice(-5), ['encap', 'espinudp', '20000', '31001', '0.0.0.0']);
  });

  test('delete addresses the state by (src, dst, proto, spi)', () => {
    const sa = saSet('ue', 'hmac-md5-96', 'null')[3];
    assert.deepEqual(xfrmStateDeleteArgs(sa), ['xfrm', 'state', 'delete', 'src', '10.0.0.1', 'dst', '10.0.0.2', 'proto', 'esp', 'spi', '0x80000101']);
  });

  test('reqid must be in 1..2^32-1', () => {
    const sa = saSet('ue', 'hmac-md5-96', 'null')[0];
    assert.throws(() => xfrmStateAddArgs(sa, { reqid: 0 }));
    assert.throws(() => xfrmPolicyAddArgs(sa, 'udp', { reqid: 2 ** 32 }));
  });
});

describe('ip-xfrm(8) policy argv (UDP and TCP share the SA)', () => {
  test('[R-SA-3] an inbound SA gets one policy per transport, bound to its reqid', () => {
    const sa = saSet('pcscf', 'hmac-sha-1-96', 'null')[0];
    for (const t of ['udp', 'tcp'] as const) {
      assert.deepEqual(xfrmPolicyAddArgs(sa, t, { reqid: 42 }), [
        'xfrm', 'policy', 'add', 'src', '10.0.0.2/32', 'dst', '10.0.0.1/32', 'proto', t, 'sport', '31000', 'dport', '20001',
        'dir', 'in', 'priority', '1000', 'tmpl', 'src', '10.0.0.2', 'dst', '10.0.0.1', 'proto', 'esp', 'reqid', '42', 'mode', 'transport',
      ]);
      assert.deepEqual(xfrmPolicyDeleteArgs(sa, t), ['xfrm', 'policy', 'delete', 'src', '10.0.0.2/32', 'dst', '10.0.0.1/32', 'proto', t, 'sport', '31000', 'dport', '20001', 'dir', 'in']);
    }
  });

  test('[R-SA-3] an outbound SA pins its SPI in the template; IPv6 selectors are /128', () => {
    const sa = saSet('ue', 'hmac-sha-1-96', 'null', 'trans', { ue: '2001:db8::2', pcscf: '2001:db8::1' })[0];
    assert.deepEqual(xfrmPolicyAddArgs(sa, 'udp', { reqid: 9, priority: 5 }), [
      'xfrm', 'policy', 'add', 'src', '2001:db8::2/128', 'dst', '2001:db8::1/128', 'proto', 'udp', 'sport', '31000', 'dport', '20001',
      'dir', 'out', 'priority', '5', 'tmpl', 'src', '2001:db8::2', 'dst', '2001:db8::1', 'proto', 'esp', 'spi', '0x00001002', 'reqid', '9', 'mode', 'transport',
    ]);
  });
});

describe('keys never leave in errors or logs', () => {
  test('redactArgs replaces every key argument', () => {
    for (const [i, e] of [
      ['hmac-sha-1-96', 'aes-cbc'],
      ['null', 'aes-gcm'],
      ['aes-gmac', 'null'],
    ] as const) {
      const args = xfrmStateAddArgs(saSet('pcscf', i, e)[0], { reqid: 1 });
      const red = redactArgs(args).join(' ');
      assert.ok(!red.includes(IK_HEX) && !red.includes(CK_HEX), red);
      assert.ok(red.includes('[key]'));
      assert.equal(redactArgs(args).length, args.length);
    }
  });

  test('shellQuote keeps plain words and quotes the rest', () => {
    assert.equal(shellQuote('0x00ab'), '0x00ab');
    assert.equal(shellQuote('10.0.0.1/32'), '10.0.0.1/32');
    assert.equal(shellQuote('hmac(sha1)'), "'hmac(sha1)'");
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote("it's"), "'it'\\''s'");
  });
});
