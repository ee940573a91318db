/**
 * Result values in their two namespaces: the IETF Result-Code AVP (RFC 6733 §7.1) and the
 * vendor-scoped Experimental-Result AVP (RFC 6733 §7.6: { Vendor-Id } { Experimental-Result-Code }).
 * The same number means different things in each (5003 is DIAMETER_AUTHORIZATION_REJECTED as a
 * Result-Code but DIAMETER_ERROR_IDENTITY_NOT_REGISTERED as a 3GPP Experimental-Result-Code), so
 * a result always carries its namespace.
 */
import type { Avp } from '../codec/avp.js';
import { DiameterAvpError } from '../errors.js';
import { avp, findAvp, getValue, valueOf } from './registry.js';

/** A result: `vendorId` absent (or 0) means a Result-Code; otherwise an Experimental-Result. */
export interface DiameterResult {
  readonly code: number;
  readonly vendorId?: number;
}

/** A Result-Code (RFC 6733 §7.1). */
export function resultCode(code: number): DiameterResult {
  return { code };
}

/** An Experimental-Result of `vendorId` (RFC 6733 §7.6). */
export function experimentalResult(vendorId: number, code: number): DiameterResult {
  return { vendorId, code };
}

export function isExperimental(r: DiameterResult): boolean {
  return r.vendorId !== undefined && r.vendorId !== 0;
}

/** RFC 6733 §7.1: 2xxx is success in either namespace. */
export function isSuccess(r: DiameterResult): boolean {
  return r.code >= 2000 && r.code < 3000;
}

export function sameResult(a: DiameterResult, b: DiameterResult): boolean {
  return a.code === b.code && (a.vendorId ?? 0) === (b.vendorId ?? 0);
}

/** The AVP that carries `r`: Result-Code, or Experimental-Result { Vendor-Id, Experimental-Result-Code }. */
export function resultAvp(r: DiameterResult): Avp {
  if (!isExperimental(r)) return avp('Result-Code', r.code);
  return avp('Experimental-Result', [avp('Vendor-Id', r.vendorId as number), avp('Experimental-Result-Code', r.code)]);
}

/**
 * Reads the result of an answer: the Result-Code if present, otherwise the Experimental-Result.
 * Returns undefined when neither is present.
 */
export function readResult(avps: readonly Avp[]): DiameterResult | undefined {
  const rc = getValue(avps, 'Result-Code');
  if (rc !== undefined) return { code: rc };
  const er = findAvp(avps, 'Experimental-Result');
  if (!er) return undefined;
  const inner = valueOf(er, 'Experimental-Result');
  const vendorId = getValue(inner, 'Vendor-Id');
  const code = getValue(inner, 'Experimental-Result-Code');
  if (vendorId === undefined || code === undefined) {
    throw new DiameterAvpError('Experimental-Result lacks Vendor-Id or Experimental-Result-Code', 5005, 'Experimental-Result', er);
  }
  return { vendorId, code };
}

/** "5001 (10415)" style label for logs and errors. */
export function describeResult(r: DiameterResult): string {
  return isExperimental(r) ? `Experimental-Result ${r.code} (vendor ${r.vendorId})` : `Result-Code ${r.code}`;
}
