/**
 * Errors of the Digest codecs. A malformed header or nonce throws {@link DigestParseError}
 * (code `DIGEST_PARSE`) carrying the offset of the fault. Messages name parameters, never their
 * values: the `ik`/`ck` parameters carry keys.
 */
import { ImsError } from '../../common/index.js';

export class DigestParseError extends ImsError {
  constructor(
    message: string,
    /** Offset (UTF-16 code units) in the parsed string where the fault was found. */
    readonly offset: number,
  ) {
    super('DIGEST_PARSE', `${message} (at ${offset})`);
  }
}
