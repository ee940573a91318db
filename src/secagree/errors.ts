/**
 * Typed errors of the sec-agree layer (RFC 3329, TS 33.203 Annex H).
 *
 * Only malformed header text throws. A mechanism choice that fails (nothing acceptable, a
 * Security-Verify that differs, a Security-Server the UE never offered) is an outcome the
 * peer must see, so it is a returned value ({@link NegotiationFailure}), never a throw.
 */
import { ImsError } from '../common/index.js';

/** Malformed Security-Client / Security-Server / Security-Verify value (RFC 3329 §2.2). */
export class SecAgreeParseError extends ImsError {
  constructor(
    message: string,
    /** Character offset in the header value where parsing stopped. */
    readonly offset: number,
  ) {
    super('SECAGREE_PARSE', `${message} (at offset ${offset})`);
  }
}
