/**
 * Bid-down protection (R-SM-4; RFC 3329 §2.3.1 and §2.6, TS 33.203 §7.2 and §7.3.2.3): the
 * P-CSCF compares the Security-Verify of the protected REGISTER with the Security-Server it sent
 * in the 401, and the second REGISTER's Security-Client with the first's. Any difference aborts
 * the registration: the caller answers {@link SEC_AGREE_FAILURE_STATUS} and deletes the new SAs.
 */
import type { SecMechanism } from './header.js';
import { listDifference } from './mechanism.js';
import { SEC_AGREE_FAILURE_STATUS, failure, type NegotiationFailure } from './outcome.js';

export type CheckResult = { ok: true } | NegotiationFailure;

/**
 * Security-Verify must equal the Security-Server that was sent, parameter by parameter. Order,
 * spacing and the case of names are not significant; a missing or extra mechanism or parameter,
 * or any changed value, is a failure. An absent Security-Verify is passed as undefined.
 */
export function checkSecurityVerify(sentServer: readonly SecMechanism[], verify: readonly SecMechanism[] | undefined): CheckResult {
  if (!verify || verify.length === 0) return failure('security-verify-mismatch', 'Security-Verify missing', { status: SEC_AGREE_FAILURE_STATUS });
  const diff = listDifference(sentServer, verify);
  if (diff) return failure('security-verify-mismatch', `Security-Verify differs from Security-Server: ${diff}`, { status: SEC_AGREE_FAILURE_STATUS });
  return { ok: true };
}

/**
 * The Security-Client of the protected REGISTER must be the one of the first REGISTER
 * (TS 33.203 §7.2 step SM7 / §7.3.2.3), compared like {@link checkSecurityVerify}.
 */
export function checkSecurityClientUnchanged(first: readonly SecMechanism[], second: readonly SecMechanism[] | undefined): CheckResult {
  if (!second || second.length === 0) return failure('security-client-changed', 'Security-Client missing from the protected REGISTER', { status: SEC_AGREE_FAILURE_STATUS });
  const diff = listDifference(first, second);
  if (diff) return failure('security-client-changed', `Security-Client changed between REGISTERs: ${diff}`, { status: SEC_AGREE_FAILURE_STATUS });
  return { ok: true };
}
