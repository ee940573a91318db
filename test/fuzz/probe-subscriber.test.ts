/**
 * Fuzz the probe's subscriber-file parser (fixed seed): any JSON value gives a subscriber or an
 * InvalidArgumentError, never another error; a well-formed file always parses and its keys
 * answer a challenge made from them (R-LAB-3).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../src/common/index.js';
import { parseSubscriber } from '../../src/probe/index.js';

const SEED = 42;
const hex32 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex'));

describe('probe subscriber file (R-LAB-3)', () => {
  test('[R-LAB-3] any JSON value: a subscriber or InvalidArgumentError', () => {
    const field = fc.oneof(fc.string(), hex32, fc.integer(), fc.constant(null), fc.dictionary(fc.string(), fc.string()));
    const obj = fc.record({ impi: field, impu: field, k: field, op: field, opc: field, homeDomain: field, victim: field, extra: field }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), obj), (v) => {
        try {
          const s = parseSubscriber(v);
          assert.ok(s.id.impi.length > 0 && /^sips?:/i.test(s.id.impu));
        } catch (e) {
          assert.ok(e instanceof InvalidArgumentError, String(e));
        }
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  test('[R-LAB-3] every well-formed file parses, with a default victim in the home domain', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), hex32, hex32, fc.boolean(), (user, k, op, useOpc) => {
        const s = parseSubscriber({ impi: `${user}@ims.lab`, impu: `sip:${user}@ims.lab`, k, ...(useOpc ? { opc: op } : { op }) });
        assert.equal(s.id.homeDomain, 'ims.lab');
        assert.equal(s.victim.impi, 'probe-victim@ims.lab');
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});
