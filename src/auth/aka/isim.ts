/**
 * The USIM/ISIM side of AKA (TS 33.102 §6.3.3): given RAND and AUTN, check MAC-A, then SQN
 * freshness (Annex C), then compute RES, CK and IK. A bad MAC is a network authentication
 * failure; a SQN out of range is a synchronisation failure answered with AUTS.
 */
import { constantTimeEqual, InvalidArgumentError } from '../../common/index.js';
import { Milenage } from '../milenage/milenage.js';
import { checkSqn, DEFAULT_SQN_CONFIG, type SqnConfig, type UsimSqnState } from './sqn.js';
import { buildAuts } from './vector.js';

export type IsimResult =
  | { result: 'ok'; res: Uint8Array; ck: Uint8Array; ik: Uint8Array; sqn: number; amf: number; state: UsimSqnState | null }
  | { result: 'sync-failure'; auts: Uint8Array; sqnMs: number }
  | { result: 'mac-failure' };

/**
 * §6.3.3 steps:
 *  1. AK = f5(RAND); SQN = (SQN ⊕ AK) ⊕ AK.
 *  2. XMAC = f1(SQN ‖ RAND ‖ AMF); compare with MAC in constant time → on mismatch: MAC failure.
 *  3. SQN in the correct range (Annex C) → otherwise AUTS with SQN_MS. A null state skips this
 *     step (a tool checking a vector without an ISIM's history).
 *  4. RES = f2(RAND), CK = f3(RAND), IK = f4(RAND).
 */
export function isimAuthenticate(m: Milenage, rand: Uint8Array, autn: Uint8Array, state: UsimSqnState | null, cfg: SqnConfig = DEFAULT_SQN_CONFIG): IsimResult {
  if (rand.length !== 16) throw new InvalidArgumentError(`RAND must be 16 bytes, got ${rand.length}`, 'rand');
  if (autn.length !== 16) throw new InvalidArgumentError(`AUTN must be 16 bytes, got ${autn.length}`, 'autn');
  const { res, ck, ik, ak } = m.f2345(rand);
  let sqn = 0;
  for (let i = 0; i < 6; i++) sqn = sqn * 256 + (autn[i] ^ ak[i]);
  const amf = (autn[6] << 8) | autn[7];
  const { macA } = m.f1(rand, sqn, amf);
  if (!constantTimeEqual(macA, autn.subarray(8, 16))) return { result: 'mac-failure' };
  let next: UsimSqnState | null = null;
  if (state !== null) {
    const fresh = checkSqn(state, sqn, cfg);
    if (!fresh.ok) return { result: 'sync-failure', auts: buildAuts(m, rand, fresh.sqnMs), sqnMs: fresh.sqnMs };
    next = fresh.state;
  }
  return { result: 'ok', res: res.slice(), ck: ck.slice(), ik: ik.slice(), sqn, amf, state: next };
}
