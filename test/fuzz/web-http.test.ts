/**
 * Fuzz the readers of the web side (src/web, src/cli/http-flags.ts): the Host header (RFC 9110
 * §7.2), the Cookie header (RFC 6265 §5.4), `host:port` flags, the redaction of SIP texts (no
 * ik/ck value survives, TS 24.229 §5.4.1.2.1) and the identity extraction of the ladder. Each
 * returns a value or throws an ImsError (the flag parser), nothing else, and never hangs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ImsError } from '../../src/common/errors.js';
import { parseListen } from '../../src/cli/http-flags.js';
import { hostAllowed, hostOfHeader, resolveHttpAccess } from '../../src/web/http/access.js';
import { cookieValue } from '../../src/web/http/guard.js';
import { usersOf } from '../../src/web/live.js';
import { redactSipText } from '../../src/web/message-text.js';

const RUNS = Number(process.env.IMSEC_FUZZ_RUNS ?? 500);
const access = resolveHttpAccess({ listenHost: '127.0.0.1', token: 'fuzz-token-0123456789' });

describe('fuzz: web readers', () => {
  test('[R-LAB-5] Host header: a lower-case name without port or brackets, or undefined; only loopback names are allowed', () => {
    const host = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('127.0.0.1:80', '[::1]:8088', 'LOCALHOST', 'evil.example:1', '[::ffff:127.0.0.1]', '127.0.0.1.nip.io'));
    fc.assert(
      fc.property(host, (h) => {
        const v = hostOfHeader(h);
        if (v !== undefined) {
          assert.equal(v, v.toLowerCase());
          assert.ok(!v.includes('[') && !v.includes(']'), v);
        }
        if (hostAllowed(access, h)) assert.ok(['127.0.0.1', 'localhost', '::1'].includes(v!), `allowed ${JSON.stringify(h)}`);
      }),
      { seed: 42, numRuns: RUNS },
    );
  });

  test('[R-LAB-5] Cookie header: the value of the named cookie or undefined, never a throw', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ minLength: 1, maxLength: 12 }), (header, name) => {
        const v = cookieValue(header, name);
        assert.ok(v === undefined || typeof v === 'string');
        const found = cookieValue(`${header}; imsec_session=abc`, 'imsec_session');
        assert.ok(found === 'abc' || header.includes('imsec_session'), `${JSON.stringify(header)} → ${found}`);
      }),
      { seed: 42, numRuns: RUNS },
    );
  });

  test('[R-LAB-5] host:port flags: {host, port ≤ 65535} or an ImsError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('127.0.0.1:0', '[::1]:9090', ':80', 'a:99999')), (v) => {
        try {
          const r = parseListen(v, '--metrics');
          assert.ok(r.port >= 0 && r.port <= 65535 && r.host.length > 0);
        } catch (e) {
          assert.ok(e instanceof ImsError, String(e));
        }
      }),
      { seed: 42, numRuns: RUNS },
    );
  });

  test('[R-LAB-5] [R-AKA-6] SIP text redaction: no 32-hex ik/ck value survives, whatever surrounds it', () => {
    const key = fc.stringMatching(/^[0-9a-fA-F]{32}$/);
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), key, key, fc.constantFrom('ik', 'IK', 'ck', 'Ck'), fc.boolean(), fc.string({ maxLength: 30 }), (pre, k1, k2, name, quoted, post) => {
        const v = quoted ? `"${k1}"` : k1;
        const text = `${pre}WWW-Authenticate: Digest nonce="x", ${name}=${v}, ck = "${k2}"${post}`;
        const out = redactSipText(text);
        assert.ok(!out.includes(k1) || pre.includes(k1) || post.includes(k1));
        assert.ok(!out.includes(`"${k2}"`));
        assert.equal(typeof usersOf(out), 'object');
      }),
      { seed: 42, numRuns: RUNS },
    );
  });
});
