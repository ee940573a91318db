import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FixedRng, InvalidArgumentError, SeededRng } from '../../../src/common/index.js';
import { PCSCF_SPI_POLICY, SaError, UE_SPI_POLICY, allocatePort, allocateSpi } from '../../../src/ipsec/sa/index.js';

const u32 = (v: number): Uint8Array => new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);

describe('TS 33.203 §7.1 SPI allocation', () => {
  test('[R-SA-3] SPIs are never 0 or 1..255, MSB 0 at the P-CSCF and 1 at the UE', () => {
    const rng = new SeededRng('spi');
    for (let i = 0; i < 2000; i++) {
      const p = allocateSpi(rng, () => false, PCSCF_SPI_POLICY);
      const u = allocateSpi(rng, () => false, UE_SPI_POLICY);
      assert.ok(p >= 256 && p <= 0x7fffffff, `P-CSCF SPI ${p}`);
      assert.ok(u >= 0x80000000 && u <= 0xffffffff, `UE SPI ${u}`);
    }
  });

  test('[R-SA-3] reserved draws and taken SPIs are skipped', () => {
    // Draws: 0, 255, 0x80000000 (MSB cleared → 0 at the P-CSCF), a taken one, then a free one.
    const rng = new FixedRng([u32(0), u32(255), u32(0x80000000), u32(0x1234), u32(0x5678)]);
    const spi = allocateSpi(rng, (v) => v === 0x1234, PCSCF_SPI_POLICY);
    assert.equal(spi, 0x5678);
    // The UE policy sets the MSB: a draw of 5 becomes 0x80000005, which is fine.
    assert.equal(allocateSpi(new FixedRng([u32(5)]), () => false, UE_SPI_POLICY), 0x80000005);
    assert.equal(allocateSpi(new FixedRng([u32(7), u32(300)]), () => false, { msb: 'any' }), 300);
  });

  test('[R-SA-3] an exhausted SPI space is a typed error', () => {
    assert.throws(() => allocateSpi(new SeededRng('x'), () => true, UE_SPI_POLICY), (e: unknown) => e instanceof SaError && e.code === 'IPSEC_SA');
  });
});

describe('TS 33.203 §7.1 protected-port allocation', () => {
  test('ports come from the range, skip taken ones, and run out with a typed error', () => {
    const rng = new SeededRng('ports');
    const taken = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const p = allocatePort(rng, { min: 5000, max: 5009 }, (x) => taken.has(x));
      assert.ok(p >= 5000 && p <= 5009);
      assert.ok(!taken.has(p));
      taken.add(p);
    }
    assert.throws(() => allocatePort(rng, { min: 5000, max: 5009 }, (x) => taken.has(x)), SaError);
    assert.throws(() => allocatePort(rng, { min: 0, max: 10 }, () => false), InvalidArgumentError);
    assert.throws(() => allocatePort(rng, { min: 10, max: 9 }, () => false), InvalidArgumentError);
  });
});
