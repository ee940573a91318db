/** Typed errors of the SIP transport layer (RFC 3261 §18). */
import { ImsError } from '../../common/index.js';
import type { Endpoint } from './types.js';

/** A send or connect that failed; the transaction layer turns it into a transport error (§17.1.4, §17.2.4). */
export class SipTransportError extends ImsError {
  constructor(
    message: string,
    readonly destination?: Endpoint,
    options?: ErrorOptions,
  ) {
    super('SIP_TRANSPORT', message, options);
  }
}
