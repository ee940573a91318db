/**
 * The AVP as it travels (RFC 6733 §4.1), on its own so that the Diameter errors, which carry the
 * offending AVP for Failed-AVP (§7.5), can name it without importing the codec that throws them.
 */

/** An AVP as it travels: code, flags, Vendor-ID (0 when the 'V' bit is clear) and raw data without padding. */
export interface Avp {
  readonly code: number;
  readonly flags: number;
  readonly vendorId: number;
  readonly data: Uint8Array;
}
