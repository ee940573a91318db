/**
 * Sequence numbers, TS 33.102 Annex C (the profile with SQN = SEQ ‖ IND, C.1.1 and C.2.2).
 *
 * SQN (48 bits) = SEQ ‖ IND, with IND the `indBits` least significant bits (default 5, so 32
 * array slots). The HE/AuC keeps SEQ_HE per subscriber and issues SEQ_HE + 1 with the IND of the
 * requesting node (C.1.2); the USIM keeps SEQ_MS(i) for every IND value i and accepts a SQN when
 * SEQ > SEQ_MS(IND), SEQ − SEQ_MS ≤ Δ (C.2.1, protection against wrap-around) and, when a limit L
 * is applied, SEQ_MS − SEQ < L (C.2.2). All functions here are pure: state in, state out.
 */
import { ImsError, InvalidArgumentError } from '../../common/index.js';
import { SQN_MAX } from '../milenage/milenage.js';

export interface SqnConfig {
  /** Length of IND in bits (TS 33.102 C.1.1; 5 is the recommended value). */
  indBits: number;
  /** Δ: the largest accepted jump of SEQ above SEQ_MS (C.2.1). */
  delta: number;
  /** L: if set, SEQ_MS − SEQ must be below it (C.2.2). */
  ageLimit?: number;
}

/** Defaults: IND 5 bits; Δ = 2^28 as recommended in C.3.1 for the profile with Δ checking. */
export const DEFAULT_SQN_CONFIG: SqnConfig = Object.freeze({ indBits: 5, delta: 2 ** 28 });

export function validateSqnConfig(cfg: SqnConfig): void {
  if (!Number.isInteger(cfg.indBits) || cfg.indBits < 0 || cfg.indBits > 10) throw new InvalidArgumentError(`IND length must be 0..10 bits, got ${cfg.indBits}`, 'indBits');
  if (!Number.isInteger(cfg.delta) || cfg.delta < 1) throw new InvalidArgumentError(`delta must be a positive integer, got ${cfg.delta}`, 'delta');
  if (cfg.ageLimit !== undefined && (!Number.isInteger(cfg.ageLimit) || cfg.ageLimit < 1)) throw new InvalidArgumentError(`ageLimit must be a positive integer`, 'ageLimit');
}

/** Largest SEQ value for a given IND length. */
export function seqMax(indBits: number): number {
  return Math.floor(SQN_MAX / 2 ** indBits);
}

export function splitSqn(sqn: number, indBits: number): { seq: number; ind: number } {
  const a = 2 ** indBits;
  return { seq: Math.floor(sqn / a), ind: sqn % a };
}

export function joinSqn(seq: number, ind: number, indBits: number): number {
  const a = 2 ** indBits;
  if (!Number.isInteger(ind) || ind < 0 || ind >= a) throw new InvalidArgumentError(`IND ${ind} out of range 0..${a - 1}`, 'ind');
  if (!Number.isInteger(seq) || seq < 0 || seq > seqMax(indBits)) throw new InvalidArgumentError(`SEQ ${seq} out of range`, 'seq');
  return seq * a + ind;
}

/** SEQ has reached its maximum: the subscriber's SQN space is used up (C.3.1). */
export class SqnExhaustedError extends ImsError {
  constructor() {
    super('AKA_INVALID', 'SEQ_HE has reached its maximum value; the USIM must be re-provisioned');
  }
}

// ---------------------------------------------------------------------------------------------
// HE/AuC side (C.1)

/** Per-subscriber AuC state: the highest SEQ issued. */
export interface SqnHeState {
  seqHe: number;
}

/**
 * The next `count` SQNs for one request (C.1.1/C.1.2): SEQ_HE + 1 … SEQ_HE + count, each with the
 * requesting node's IND. Returns the SQNs in the order they must be used.
 */
export function nextSqns(state: SqnHeState, ind: number, count: number, cfg: SqnConfig = DEFAULT_SQN_CONFIG): { sqns: number[]; state: SqnHeState } {
  if (!Number.isInteger(count) || count < 1) throw new InvalidArgumentError(`count must be a positive integer, got ${count}`, 'count');
  if (state.seqHe + count > seqMax(cfg.indBits)) throw new SqnExhaustedError();
  const sqns: number[] = [];
  for (let i = 1; i <= count; i++) sqns.push(joinSqn(state.seqHe + i, ind, cfg.indBits));
  return { sqns, state: { seqHe: state.seqHe + count } };
}

/**
 * IND for a requesting node (C.1.2: distinct nodes get distinct IND values so that vectors they
 * hold can be used out of order). `assigned` maps node names to IND values already handed out;
 * a new node gets the lowest free slot, and when all are taken a stable hash of its name.
 */
export function indForNode(node: string, assigned: ReadonlyMap<string, number>, indBits: number): number {
  const known = assigned.get(node);
  if (known !== undefined) return known;
  const a = 2 ** indBits;
  const used = new Set(assigned.values());
  for (let i = 0; i < a; i++) if (!used.has(i)) return i;
  let h = 0x811c9dc5;
  for (let i = 0; i < node.length; i++) h = Math.imul(h ^ node.charCodeAt(i), 0x01000193) >>> 0;
  return h % a;
}

/**
 * Resynchronisation at the HE (TS 33.102 §6.3.5), after MAC-S has been verified: if the next SQN
 * the HE would issue is still acceptable to the USIM whose highest accepted SQN is SQN_MS, keep
 * SEQ_HE; otherwise set SEQ_HE to SEQ_MS so that the next vector is fresh.
 */
export function resyncHe(state: SqnHeState, sqnMs: number, cfg: SqnConfig = DEFAULT_SQN_CONFIG): SqnHeState {
  const seqMs = splitSqn(sqnMs, cfg.indBits).seq;
  const next = state.seqHe + 1;
  const acceptable = next > seqMs && next - seqMs <= cfg.delta;
  return acceptable ? state : { seqHe: seqMs };
}

// ---------------------------------------------------------------------------------------------
// USIM side (C.2)

/** The USIM's array SEQ_MS(0 … a−1) holding, per IND, the highest SQN accepted with that IND. */
export interface UsimSqnState {
  /** Full accepted SQN per IND slot (SEQ ‖ IND), 0 when nothing accepted yet. */
  slots: number[];
}

export function freshUsimState(cfg: SqnConfig = DEFAULT_SQN_CONFIG): UsimSqnState {
  return { slots: new Array<number>(2 ** cfg.indBits).fill(0) };
}

/**
 * A USIM state modelling "every SQN up to sqnMs has been accepted": slots below IND(sqnMs) hold
 * SEQ_MS, the others SEQ_MS − 1. With it a SQN is fresh exactly when it is greater than sqnMs,
 * which is what a user giving only "the highest accepted SQN" means.
 */
export function usimStateFromSqnMs(sqnMs: number, cfg: SqnConfig = DEFAULT_SQN_CONFIG): UsimSqnState {
  const { seq, ind } = splitSqn(sqnMs, cfg.indBits);
  const a = 2 ** cfg.indBits;
  const slots: number[] = [];
  for (let i = 0; i < a; i++) {
    const s = i <= ind ? seq : seq - 1;
    slots.push(s < 0 ? 0 : joinSqn(s, i, cfg.indBits));
  }
  return { slots };
}

/** SQN_MS: the highest previously accepted sequence number anywhere in the array (C.2.2). */
export function sqnMsOf(state: UsimSqnState): number {
  let m = 0;
  for (const s of state.slots) if (s > m) m = s;
  return m;
}

export type SqnCheck = { ok: true; state: UsimSqnState } | { ok: false; sqnMs: number };

/** C.2.1 and C.2.2: is `sqn` fresh? On success the slot of its IND is updated. */
export function checkSqn(state: UsimSqnState, sqn: number, cfg: SqnConfig = DEFAULT_SQN_CONFIG): SqnCheck {
  const { seq, ind } = splitSqn(sqn, cfg.indBits);
  const sqnMs = sqnMsOf(state);
  const seqMs = splitSqn(sqnMs, cfg.indBits).seq;
  // C.2.1: no jump of more than Δ (stops an AuC, or an attacker replaying a wrapped SQN, from
  // pushing SEQ_MS towards its maximum).
  if (seq - seqMs > cfg.delta) return { ok: false, sqnMs };
  // C.2.2 limit L on the age of a SEQ relative to SEQ_MS.
  if (cfg.ageLimit !== undefined && seqMs - seq >= cfg.ageLimit) return { ok: false, sqnMs };
  // C.2.2: fresh when SEQ > SEQ_MS(IND); every slot starts at zero.
  if (seq <= splitSqn(state.slots[ind] ?? 0, cfg.indBits).seq) return { ok: false, sqnMs };
  const slots = state.slots.slice();
  slots[ind] = sqn;
  return { ok: true, state: { slots } };
}
