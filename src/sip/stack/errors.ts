/** Errors a {@link SipStack} rejects a request with. */
import { ImsError } from '../../common/index.js';

/**
 * The client transaction timed out (Timer B or F, RFC 3261 §17.1.1.2, §17.1.2.2) without a final
 * response. A TU treats it like a 408 (§8.1.3.1).
 */
export class SipTimeoutError extends ImsError {
  constructor(
    readonly method: string,
    readonly timer: 'B' | 'F',
  ) {
    super('SIP_TIMEOUT', `${method}: no final response before Timer ${timer}`);
  }
}
