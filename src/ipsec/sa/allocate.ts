/**
 * SPI and protected-port allocation (TS 33.203 §7.1, SPEC R-SA-3). Pure functions over an
 * injected {@link Rng} and an "is it taken" predicate, so vectors replay exactly.
 */
import { InvalidArgumentError, randomU32, type Rng } from '../../common/index.js';
import { SaError } from './errors.js';

/**
 * How inbound SPIs are drawn. Seed 001 §7.1 (kept as default): the most significant bit is 0
 * for SPIs the P-CSCF allocates and 1 for those the UE allocates, so an uplink packet never
 * carries a downlink SPI and a reflected packet can never be valid. `any` draws all 32 bits.
 */
export interface SpiPolicy {
  msb: 0 | 1 | 'any';
}

export const PCSCF_SPI_POLICY: SpiPolicy = { msb: 0 };
export const UE_SPI_POLICY: SpiPolicy = { msb: 1 };

/** RFC 4303 §2.1: SPI 0 is reserved for local use, 1..255 by IANA. */
export const MIN_SPI = 256;

export function isReservedSpi(spi: number): boolean {
  return spi < MIN_SPI;
}

const ATTEMPTS = 256;

/**
 * Draw an inbound SPI: never 0 or 1..255, with the policy's MSB, and not taken (taken covers
 * live SAs, reservations and the peer's SPIs). Throws {@link SaError} when the space is
 * exhausted (after many random draws).
 */
export function allocateSpi(rng: Rng, taken: (spi: number) => boolean, policy: SpiPolicy): number {
  for (let i = 0; i < ATTEMPTS; i++) {
    let spi = randomU32(rng);
    if (policy.msb === 0) spi &= 0x7fffffff;
    else if (policy.msb === 1) spi = (spi | 0x80000000) >>> 0;
    if (isReservedSpi(spi) || taken(spi)) continue;
    return spi;
  }
  throw new SaError(`no free SPI after ${ATTEMPTS} draws`);
}

/** Inclusive range of protected ports. */
export interface PortRange {
  min: number;
  max: number;
}

export function checkPortRange(r: PortRange): void {
  if (!Number.isInteger(r.min) || !Number.isInteger(r.max) || r.min < 1 || r.max > 0xffff || r.min > r.max) {
    throw new InvalidArgumentError(`port range must be within 1..65535 with min <= max, got ${r.min}..${r.max}`, 'portRange');
  }
}

/**
 * Draw a free port from the range: a random start (seed 001 §7.1 recommends random protected
 * ports, against a limited DoS), then the next free one. Throws {@link SaError} when every
 * port of the range is taken.
 */
export function allocatePort(rng: Rng, range: PortRange, taken: (port: number) => boolean): number {
  checkPortRange(range);
  const size = range.max - range.min + 1;
  const start = randomU32(rng) % size;
  for (let i = 0; i < size; i++) {
    const p = range.min + ((start + i) % size);
    if (!taken(p)) return p;
  }
  throw new SaError(`no free protected port in ${range.min}..${range.max}`);
}
