/**
 * Row shapes shared by the SQLite and PostgreSQL stores and the pure steps both apply:
 * rows → records, the registration transitions (TS 29.228 §6.1.2, §6.3) and the SQN
 * arithmetic around an allocation (TS 33.102 Annex C). The drivers differ only in how a row
 * reaches these functions (BIGINT may come as a string, booleans as 0/1).
 */
import { InvalidArgumentError } from '../common/index.js';
import { nextSqns } from '../auth/index.js';
import { checkName, quoteName } from './validate.js';
import type { AuthScheme, ImplicitSetSpec, PublicIdentity, RegistrationSnapshot, RegistrationState, RegistrationUpdate, SqnAllocation, Subscriber } from './hss-store.js';

export interface SubscriberRow {
  impi: string;
  amf: number | string;
  seq_he: number | string | bigint;
  ind_bits: number | string;
  auth_schemes: string;
  service_profile: string | null;
}

export interface ImpuRow {
  impu: string;
  impi: string;
  irs: number | string;
  position: number | string;
  barred: number | boolean;
  pseudonym: number | boolean;
  is_default: number | boolean;
  reg_state: string;
  scscf_name: string | null;
  pending_prev_state: string | null;
  pending_prev_scscf: string | null;
}

export interface SetRow {
  impi: string;
  irs: number | string;
  service_profile: string | null;
}

/** The columns a registration change writes for one IMPU. */
export interface RegistrationRow {
  impu: string;
  reg_state: RegistrationState;
  scscf_name: string | null;
  pending_prev_state: RegistrationState | null;
  pending_prev_scscf: string | null;
}

/** Largest value of SEQ_HE + count checked in SQL: SQN_MAX (2^48 − 1) shifted right by IND bits. */
export const SQN_MAX_SQL = '281474976710655';

export function toImpu(r: ImpuRow): PublicIdentity {
  return {
    impu: r.impu,
    impi: r.impi,
    irs: Number(r.irs),
    barred: Boolean(r.barred),
    pseudonym: Boolean(r.pseudonym),
    isDefault: Boolean(r.is_default),
    state: r.reg_state as RegistrationState,
    scscfName: r.scscf_name,
  };
}

/** Subscriber record from its row, its IMPU rows (any order) and its set rows. */
export function toSubscriber(s: SubscriberRow, impus: readonly ImpuRow[], sets: readonly SetRow[]): Subscriber {
  return {
    impi: s.impi,
    amf: Number(s.amf),
    seqHe: Number(s.seq_he),
    indBits: Number(s.ind_bits),
    authSchemes: s.auth_schemes.split(',').filter((x) => x !== '') as AuthScheme[],
    serviceProfile: s.service_profile,
    impus: [...impus].sort((a, b) => Number(a.position) - Number(b.position)).map(toImpu),
    implicitSets: sets
      .filter((x) => x.service_profile !== null)
      .map((x): ImplicitSetSpec => ({ irs: Number(x.irs), serviceProfile: x.service_profile }))
      .sort((a, b) => a.irs - b.irs),
  };
}

export function snapshotOf(r: ImpuRow | RegistrationRow): RegistrationSnapshot {
  return { impu: r.impu, state: r.reg_state as RegistrationState, scscfName: r.scscf_name };
}

/**
 * The new registration columns of one IMPU. Entering PENDING remembers where the IMPU was
 * (so an AUTHENTICATION_FAILURE/TIMEOUT SAR can put it back, R-AKA-8); staying PENDING keeps the
 * first memory; any other state forgets it.
 */
export function applyRegistration(r: ImpuRow, u: RegistrationUpdate): RegistrationRow {
  const scscf = u.scscfName === undefined ? r.scscf_name : u.scscfName;
  const wasPending = r.reg_state === 'PENDING';
  const prev =
    u.state !== 'PENDING'
      ? { state: null, scscf: null }
      : wasPending
        ? { state: r.pending_prev_state as RegistrationState | null, scscf: r.pending_prev_scscf }
        : { state: r.reg_state as RegistrationState, scscf: r.scscf_name };
  return { impu: r.impu, reg_state: u.state, scscf_name: scscf, pending_prev_state: prev.state, pending_prev_scscf: prev.scscf };
}

/** Undo PENDING: back to the remembered state and S-CSCF name; non-pending IMPUs are unchanged. */
export function revertRegistration(r: ImpuRow): RegistrationRow {
  if (r.reg_state !== 'PENDING') {
    return { impu: r.impu, reg_state: r.reg_state as RegistrationState, scscf_name: r.scscf_name, pending_prev_state: null, pending_prev_scscf: null };
  }
  const state = (r.pending_prev_state as RegistrationState | null) ?? 'NOT_REGISTERED';
  return { impu: r.impu, reg_state: state, scscf_name: r.pending_prev_state === null ? null : r.pending_prev_scscf, pending_prev_state: null, pending_prev_scscf: null };
}

/** The row an exact restore writes (a restored PENDING keeps no memory of an earlier state). */
export function restoreRow(s: RegistrationSnapshot): RegistrationRow {
  return { impu: s.impu, reg_state: s.state, scscf_name: s.scscfName, pending_prev_state: null, pending_prev_scscf: null };
}

export const MAX_SQN_COUNT = 10_000;

export function checkCount(count: number, min: 0 | 1): void {
  if (!Number.isSafeInteger(count) || count < min || count > MAX_SQN_COUNT) {
    throw new InvalidArgumentError(`count must be an integer in ${min}..${MAX_SQN_COUNT}, got ${count}`, 'count');
  }
}

/** The SQNs SEQ_HE−count+1 … SEQ_HE (SEQ_HE already advanced) with the peer's IND. */
export function allocationFrom(
  row: { seq_he: number | string | bigint; ind_bits: number | string; amf: number | string; k: Uint8Array; opc: Uint8Array },
  peerInd: number,
  count: number,
): SqnAllocation {
  const indBits = Number(row.ind_bits);
  const ind = peerInd % 2 ** indBits;
  const seqHe = Number(row.seq_he);
  const sqns = count === 0 ? [] : nextSqns({ seqHe: seqHe - count }, ind, count, { indBits, delta: 1 }).sqns;
  return { sqns, ind, indBits, amf: Number(row.amf), k: new Uint8Array(row.k), opc: new Uint8Array(row.opc) };
}

export function isRegistrationState(s: unknown): s is RegistrationState {
  return s === 'NOT_REGISTERED' || s === 'PENDING' || s === 'REGISTERED' || s === 'UNREGISTERED';
}

/** Page size of a listing: 1..10000, default 100. */
export function listLimit(limit: number | undefined): number {
  const n = limit ?? 100;
  if (!Number.isSafeInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError(`limit must be an integer in 1..10000, got ${n}`, 'limit');
  return n;
}

/** A registration update names a known state and, if any, a well-formed S-CSCF name. */
export function checkRegistrationUpdate(u: RegistrationUpdate): void {
  if (!isRegistrationState(u.state)) throw new InvalidArgumentError(`unknown registration state ${quoteName(String(u.state))}`, 'state');
  if (u.scscfName !== undefined && u.scscfName !== null) checkName(u.scscfName, 'scscfName');
}

/** Every snapshot names a known state and a well-formed S-CSCF name (or null). */
export function checkSnapshots(list: readonly RegistrationSnapshot[]): void {
  for (const s of list) checkRegistrationUpdate({ state: s.state, scscfName: s.scscfName });
}
