/**
 * Invariants of stored subscriber data, checked by both store implementations before writing
 * (the provisioning layer checks the same things earlier, with friendlier field names). Errors
 * are {@link InvalidArgumentError}s naming the field; they never quote K or OPc.
 */
import { InvalidArgumentError } from '../common/index.js';
import { seqMax } from '../auth/index.js';
import { AUTH_SCHEMES, type ImplicitSetSpec, type NewSubscriber, type PublicIdentitySpec, type SubscriberPatch, type AuthScheme } from './hss-store.js';

/** TS 23.003 §13.3: the IMPI is an NAI, username@realm. Printable, no spaces, at most 255 characters. */
export const IMPI_PATTERN = '^[!-?A-~]{1,200}@[A-Za-z0-9.-]{1,200}$';
/** TS 23.003 §13.4: a SIP URI or a tel URI. Printable, no spaces, at most 255 characters. */
export const IMPU_PATTERN = '^(sip|sips|tel):[!-~]{1,250}$';

const IMPI_RE = new RegExp(IMPI_PATTERN);
const IMPU_RE = new RegExp(IMPU_PATTERN);

export const MAX_IMPUS = 100;
export const MAX_IRS = 1000;
/** A User-Data XML document larger than this is refused (TS 29.228 puts no limit; Diameter messages do). */
export const MAX_PROFILE_CHARS = 1 << 20;
/** Longest S-CSCF name (a SIP URI) and Origin-Host (a DiameterIdentity) accepted. */
export const MAX_NAME_CHARS = 255;

/**
 * A user-supplied name quoted for an error message, unless it could be key material: anything
 * holding a run of 16 or more hex digits (a K or OPc typed into the wrong column) is hidden.
 */
export function quoteName(s: string, max = 60): string {
  if (/[0-9a-fA-F]{16,}/.test(s)) return '(value hidden: it looks like key material)';
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}

export function checkImpi(impi: unknown, field = 'impi'): string {
  if (typeof impi !== 'string' || impi.length > 255 || !IMPI_RE.test(impi)) {
    throw new InvalidArgumentError(`${field} must be an NAI of the form user@realm (TS 23.003 §13.3)`, field);
  }
  return impi;
}

export function checkImpu(impu: unknown, field = 'impu'): string {
  if (typeof impu !== 'string' || impu.length > 255 || !IMPU_RE.test(impu)) {
    throw new InvalidArgumentError(`${field} must be a sip:, sips: or tel: URI without spaces (TS 23.003 §13.4)`, field);
  }
  return impu;
}

export function checkName(name: unknown, field: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_CHARS || /[\s\x00-\x1f\x7f]/.test(name)) {
    throw new InvalidArgumentError(`${field} must be 1..${MAX_NAME_CHARS} printable characters without spaces`, field);
  }
  return name;
}

function checkKey(b: unknown, field: 'k' | 'opc'): void {
  if (!(b instanceof Uint8Array) || b.length !== 16) throw new InvalidArgumentError(`${field} must be 16 bytes`, field);
}

function checkInt(v: unknown, field: string, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${field} must be an integer in ${min}..${max}`, field);
  }
}

/** Array.isArray that keeps the element type of a typed (possibly readonly) array instead of `any[]`. */
const isList = <T>(v: readonly T[]): v is readonly T[] => Array.isArray(v);

function checkAuthSchemes(list: readonly AuthScheme[]): void {
  if (!isList(list) || list.length === 0) throw new InvalidArgumentError('authSchemes must list at least one scheme', 'authSchemes');
  for (const s of list) {
    if (!AUTH_SCHEMES.includes(s)) throw new InvalidArgumentError(`unknown authentication scheme ${quoteName(String(s))} (known: ${AUTH_SCHEMES.join(', ')})`, 'authSchemes');
  }
  if (new Set(list).size !== list.length) throw new InvalidArgumentError('authSchemes lists a scheme twice', 'authSchemes');
}

function checkProfile(p: unknown, field: string): void {
  if (p === null) return;
  if (typeof p !== 'string' || p.length > MAX_PROFILE_CHARS) throw new InvalidArgumentError(`${field} must be a string of at most ${MAX_PROFILE_CHARS} characters, or null`, field);
}

/** IMPU list rules: 1..100 IMPUs, no duplicates, exactly one default, set numbers 1..1000. */
export function checkImpus(impus: readonly PublicIdentitySpec[], sets: readonly ImplicitSetSpec[]): void {
  if (!isList(impus) || impus.length === 0) throw new InvalidArgumentError('a subscriber needs at least one IMPU', 'impus');
  if (impus.length > MAX_IMPUS) throw new InvalidArgumentError(`at most ${MAX_IMPUS} IMPUs per subscriber`, 'impus');
  const seen = new Set<string>();
  let defaults = 0;
  for (const u of impus) {
    checkImpu(u.impu);
    if (seen.has(u.impu)) throw new InvalidArgumentError(`IMPU ${u.impu} is listed twice`, 'impus');
    seen.add(u.impu);
    checkInt(u.irs, 'irs', 1, MAX_IRS);
    if (typeof u.barred !== 'boolean' || typeof u.pseudonym !== 'boolean' || typeof u.isDefault !== 'boolean') {
      throw new InvalidArgumentError('IMPU flags must be booleans', 'impus');
    }
    if (u.isDefault) defaults++;
  }
  if (defaults !== 1) throw new InvalidArgumentError(`exactly one IMPU must be the default public identity, got ${defaults}`, 'impus');
  const used = new Set(impus.map((u) => u.irs));
  const listed = new Set<number>();
  for (const s of sets) {
    checkInt(s.irs, 'irs', 1, MAX_IRS);
    if (listed.has(s.irs)) throw new InvalidArgumentError(`implicit set ${s.irs} is listed twice`, 'implicitSets');
    if (!used.has(s.irs)) throw new InvalidArgumentError(`implicit set ${s.irs} has no IMPU`, 'implicitSets');
    listed.add(s.irs);
    checkProfile(s.serviceProfile, 'serviceProfile');
  }
}

/** Throws InvalidArgumentError unless `s` satisfies every stored invariant. */
export function validateNewSubscriber(s: NewSubscriber): void {
  checkImpi(s.impi);
  checkKey(s.k, 'k');
  checkKey(s.opc, 'opc');
  checkInt(s.amf, 'amf', 0, 0xffff);
  checkInt(s.indBits, 'indBits', 0, 10);
  checkInt(s.seqHe, 'seqHe', 0, seqMax(s.indBits));
  checkAuthSchemes(s.authSchemes);
  checkProfile(s.serviceProfile, 'serviceProfile');
  checkImpus(s.impus, s.implicitSets);
}

/**
 * Checks the fields a patch carries. `current` gives the values the patch leaves alone, for
 * the rules that span fields (SEQ_HE within the IND length; sets used by IMPUs).
 */
export function validatePatch(p: SubscriberPatch, current: { indBits: number; seqHe: number; impus: readonly PublicIdentitySpec[] }): void {
  if ((p.k === undefined) !== (p.opc === undefined)) throw new InvalidArgumentError('k and opc change together (OPc is derived from K)', p.k === undefined ? 'k' : 'opc');
  if (p.k !== undefined) checkKey(p.k, 'k');
  if (p.opc !== undefined) checkKey(p.opc, 'opc');
  if (p.amf !== undefined) checkInt(p.amf, 'amf', 0, 0xffff);
  const indBits = p.indBits ?? current.indBits;
  if (p.indBits !== undefined) checkInt(p.indBits, 'indBits', 0, 10);
  checkInt(p.seqHe ?? current.seqHe, 'seqHe', 0, seqMax(indBits));
  if (p.authSchemes !== undefined) checkAuthSchemes(p.authSchemes);
  if (p.serviceProfile !== undefined) checkProfile(p.serviceProfile, 'serviceProfile');
  if (p.impus !== undefined || p.implicitSets !== undefined) checkImpus(p.impus ?? current.impus, p.implicitSets ?? []);
}
