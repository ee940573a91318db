/**
 * Typed errors of the I-CSCF: a configuration that cannot be used (code CONFIG, CLI exit 2) and a
 * topology-hiding token that cannot be opened (code THIG). Neither message ever carries Kv.
 */
import { ImsError } from '../../common/index.js';
import { NodeConfigError } from '../common/index.js';

/** A configuration field that cannot be used (`imsec icscf --config FILE` exits 2). */
export class IcscfConfigError extends NodeConfigError {}

/** Why a THIG token was refused; stable, for tests and counters. */
export type ThigFailure =
  /** Not base64url, wrong length, or longer than the configured limit. */
  | 'format'
  /** The MAC does not verify: wrong Kv, another domain or header class, or a tampered token. */
  | 'auth'
  /** MAC fine but the plaintext is not what an I-CSCF writes (only possible with a leaked Kv or a bug). */
  | 'content';

/**
 * A THIG token that does not open (TS 24.229 Rel-5/6 §5.3.3 topology hiding, seed 003 §6.4).
 * The message names the reason, never the key or the plaintext.
 */
export class ThigError extends ImsError {
  constructor(
    message: string,
    readonly reason: ThigFailure,
  ) {
    super('THIG', message);
  }
}
