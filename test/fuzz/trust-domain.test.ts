/**
 * Fuzz the trust-domain reader of [O] (RFC 3325 §2.3): any list of strings → a TrustDomain or an
 * InvalidArgumentError, nothing else; `has` answers any string with a boolean and never throws; a
 * prefix contains every address that shares its first bits; and stripping a request from outside
 * never leaves a trust-domain header field nor throws on any Authorization text.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { stripUntrusted, TrustDomain, TRUST_DOMAIN_HEADERS } from '../../src/nodes/common/trust-domain.js';
import { SipHeaders, SipRequest } from '../../src/sip/index.js';

const RUNS = Number(process.env.IMSEC_FUZZ_RUNS ?? 500);

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const entry = fc.oneof(v4, fc.tuple(v4, fc.integer({ min: -2, max: 40 })).map(([a, n]) => `${a}/${n}`), fc.ipV6(), fc.string({ maxLength: 20 }));

describe('[O] fuzz: trust domain (RFC 3325 §2.3)', () => {
  test('[O] any entries: a domain or InvalidArgumentError; has() never throws', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 4 }), fc.oneof(v4, fc.ipV6(), fc.string({ maxLength: 20 })), (entries, probe) => {
        let t: TrustDomain;
        try {
          t = new TrustDomain(entries);
        } catch (e) {
          assert.ok(e instanceof InvalidArgumentError, String(e));
          return;
        }
        assert.equal(typeof t.has(probe), 'boolean');
      }),
      { seed: 42, numRuns: RUNS },
    );
  });

  test('[O] an IPv4 prefix holds exactly the addresses that share its first bits', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.integer({ min: 0, max: 32 }), (a, b, bits) => {
        const text = (x: number): string => [24, 16, 8, 0].map((s) => (x >>> s) & 0xff).join('.');
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        assert.equal(new TrustDomain([`${text(a)}/${bits}`]).has(text(b)), ((a & mask) >>> 0) === ((b & mask) >>> 0));
      }),
      { seed: 42, numRuns: RUNS },
    );
  });

  test('[R-ANON-1] [O] stripping never throws and leaves no trust-domain header field', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.subarray([...TRUST_DOMAIN_HEADERS]), (auth, present) => {
        const h = new SipHeaders([['Call-ID', 'x']]);
        for (const name of present) h.append(name, '<sip:alice@ims.lab>');
        h.append('Authorization', `Digest ${auth}`);
        const req = new SipRequest('REGISTER', 'sip:ims.lab', h);
        stripUntrusted(req);
        for (const name of TRUST_DOMAIN_HEADERS) assert.equal(req.headers.has(name), false);
        assert.doesNotMatch(req.headers.getAll('authorization').join(','), /integrity-protected\s*=/i);
      }),
      { seed: 42, numRuns: RUNS },
    );
  });
});
