/**
 * Typed errors of the SA layer. Decisions a peer must see (an SA limit reached, a selector
 * bound to another IMPI) are returned values of {@link SaManager.createSet}; these errors are
 * for misuse (unknown set, a bad parameter) and for an exhausted SPI or port space.
 */
import { ImsError } from '../../common/index.js';

export class SaError extends ImsError {
  constructor(message: string) {
    super('IPSEC_SA', message);
  }
}
