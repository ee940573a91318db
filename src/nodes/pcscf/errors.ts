/**
 * Typed errors of the P-CSCF. Outcomes the UE or the core must see (421, 494, 403, 408...) are
 * SIP responses, not throws; these errors are for configuration and for misuse of the API.
 */
import { NodeConfigError } from '../common/index.js';

/** A configuration value that cannot be used (CLI exit 2). Never carries a secret. */
export class PcscfConfigError extends NodeConfigError {}
