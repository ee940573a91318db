/**
 * Typed Diameter errors (RFC 6733). Parse failures, AVP value failures, peer failures and
 * request time-outs each carry a stable {@link ImsErrorCode}. Outcomes a peer must see (a
 * Result-Code such as DIAMETER_AVP_UNSUPPORTED 5001) are answers, not throws.
 */
import { ImsError } from '../common/index.js';
import type { Avp } from './codec/avp-model.js';

/** A message or AVP that cannot be decoded (RFC 6733 §3, §4): code DIAMETER_PARSE. */
export class DiameterParseError extends ImsError {
  constructor(
    message: string,
    /** Byte offset in the buffer being decoded, when known. */
    readonly offset = -1,
    /**
     * The Result-Code a receiver should answer with (RFC 6733 §7.1), e.g. 5014
     * DIAMETER_INVALID_AVP_LENGTH or 5015 DIAMETER_INVALID_MESSAGE_LENGTH.
     */
    readonly resultCode = 5014,
  ) {
    super('DIAMETER_PARSE', message);
  }
}

/**
 * An AVP that is missing, repeated, or carries a value of the wrong type or range: code
 * DIAMETER_AVP. `resultCode` is what an answer should carry (5005 DIAMETER_MISSING_AVP, 5004
 * DIAMETER_INVALID_AVP_VALUE, 5009 DIAMETER_AVP_OCCURS_TOO_MANY_TIMES), and `avp`, when set, is
 * what goes into Failed-AVP (RFC 6733 §7.5).
 */
export class DiameterAvpError extends ImsError {
  constructor(
    message: string,
    readonly resultCode: number,
    readonly avpName?: string,
    readonly avp?: Avp,
  ) {
    super('DIAMETER_AVP', message);
  }
}

/** A peer connection failure: refused, closed, no route, capabilities mismatch (RFC 6733 §5): code DIAMETER_PEER. */
export class DiameterPeerError extends ImsError {
  constructor(
    message: string,
    /** Result-Code received or that caused the failure, when there is one (e.g. 3010, 3002). */
    readonly resultCode?: number,
  ) {
    super('DIAMETER_PEER', message);
  }
}

/** No answer arrived within the request timer (RFC 6733 §5.5.4 / RFC 3539 Tw): code DIAMETER_TIMEOUT. */
export class DiameterTimeoutError extends ImsError {
  constructor(
    message: string,
    readonly hopByHop: number,
    readonly afterMs: number,
  ) {
    super('DIAMETER_TIMEOUT', message);
  }
}
