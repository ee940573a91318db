/**
 * The shape of a dictionary entry: the AVP's code, vendor, data format (RFC 6733 §4.2/§4.3) and
 * whether this node sets the 'M' bit when sending (the "MUST" column of the defining table).
 */
import type { DataType } from '../codec/types.js';

export interface AvpSpec {
  readonly code: number;
  /** 0 (or absent) for IETF AVPs; otherwise the IANA enterprise number, and the 'V' bit is set. */
  readonly vendorId?: number;
  readonly type: DataType;
  /** 'M' bit on send. */
  readonly m: boolean;
  /** Defining document and section. */
  readonly ref: string;
}

/** A dictionary entry with its name. */
export interface AvpDef extends AvpSpec {
  readonly name: string;
  readonly vendorId: number;
}
