/**
 * Authentication vectors at the HE/AuC (TS 33.102 §6.3.2) and AUTS verification for
 * resynchronisation (§6.3.5).
 *
 *   AUTN = SQN ⊕ AK ‖ AMF ‖ MAC,  AV = RAND ‖ XRES ‖ CK ‖ IK ‖ AUTN
 *   AUTS = SQN_MS ⊕ AK* ‖ MAC-S,  MAC-S = f1*_K(SQN_MS ‖ RAND ‖ AMF*) with AMF* = 0x0000 (§6.3.3)
 */
import { bytesToUint, constantTimeEqual, uintToBytes, InvalidArgumentError } from '../../common/index.js';
import type { Rng } from '../../common/index.js';
import { Milenage } from '../milenage/milenage.js';

/** One authentication vector (quintet). Byte fields are views into one 80-byte buffer. */
export interface AuthVector {
  sqn: number;
  rand: Uint8Array;
  xres: Uint8Array;
  ck: Uint8Array;
  ik: Uint8Array;
  autn: Uint8Array;
  ak: Uint8Array;
  macA: Uint8Array;
}

/** One vector for a given RAND and SQN. */
export function generateVector(m: Milenage, rand: Uint8Array, sqn: number, amf: number): AuthVector {
  if (rand.length !== 16) throw new InvalidArgumentError(`RAND must be 16 bytes, got ${rand.length}`, 'rand');
  const b = new Uint8Array(96);
  m.vectorInto(rand, sqn, amf, b);
  b.set(rand, 80);
  return {
    sqn,
    rand: b.subarray(80, 96),
    autn: b.subarray(0, 16),
    macA: b.subarray(8, 16),
    xres: b.subarray(16, 24),
    ck: b.subarray(24, 40),
    ik: b.subarray(40, 56),
    ak: b.subarray(56, 62),
  };
}

/**
 * An ordered batch: one vector per SQN (as issued by {@link nextSqns}), each with a fresh RAND
 * from the injected RNG. The S-CSCF uses them first-in first-out (R-AKA-2).
 */
export function generateVectors(m: Milenage, sqns: readonly number[], amf: number, rng: Rng): AuthVector[] {
  return sqns.map((sqn) => generateVector(m, rng.bytes(16), sqn, amf));
}

/** AUTS = SQN_MS ⊕ AK* ‖ MAC-S (14 bytes), built by the USIM on a synchronisation failure. */
export function buildAuts(m: Milenage, rand: Uint8Array, sqnMs: number): Uint8Array {
  const { macS } = m.f1(rand, sqnMs, 0x0000);
  const akStar = m.f5star(rand);
  const auts = new Uint8Array(14);
  const sqnBytes = uintToBytes(sqnMs, 6);
  for (let i = 0; i < 6; i++) auts[i] = sqnBytes[i] ^ akStar[i];
  auts.set(macS, 6);
  return auts;
}

export type AutsCheck = { ok: true; sqnMs: number } | { ok: false };

/**
 * HE side of resynchronisation (§6.3.5): recover SQN_MS with AK* and verify MAC-S in constant
 * time. A bad MAC-S is reported as such; the caller must then leave SQN_HE untouched.
 */
export function verifyAuts(m: Milenage, rand: Uint8Array, auts: Uint8Array): AutsCheck {
  if (auts.length !== 14) throw new InvalidArgumentError(`AUTS must be 14 bytes, got ${auts.length}`, 'auts');
  const akStar = m.f5star(rand);
  const sqnBytes = new Uint8Array(6);
  for (let i = 0; i < 6; i++) sqnBytes[i] = auts[i] ^ akStar[i];
  const sqnMs = bytesToUint(sqnBytes);
  const { macS } = m.f1(rand, sqnMs, 0x0000);
  return constantTimeEqual(macS, auts.subarray(6, 14)) ? { ok: true, sqnMs } : { ok: false };
}
