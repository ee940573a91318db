/**
 * Outcomes of sec-agree decisions. A failure is a value the caller turns into a SIP response
 * (P-CSCF) or into stopping the registration (UE); it never throws.
 */
import type { SecMechanism } from './header.js';

/**
 * SIP status for a failed agreement at the P-CSCF: 494 Security Agreement Required (RFC 3329
 * §2.3.1 and §6: the server answers 494 and lists in Security-Server what it supports when the
 * client's request needs an agreement it cannot have). TS 24.229 §5.2.2 asks the P-CSCF for
 * "a suitable 4xx response"; 494 is the one RFC 3329 defines for this.
 */
export const SEC_AGREE_FAILURE_STATUS = 494;

export type NegotiationFailureReason =
  /** No mechanism at all, or no `ipsec-3gpp` mechanism. */
  | 'no-mechanism'
  /** `ipsec-3gpp` offered, but no transform/mode the policy and datapath accept. */
  | 'no-acceptable-mechanism'
  /** Acceptable transform, but SPIs/ports missing, zero, reserved (1..255) or equal. */
  | 'invalid-parameters'
  /** Security-Verify differs from the Security-Server that was sent (R-SM-4). */
  | 'security-verify-mismatch'
  /** Security-Client of the protected REGISTER differs from the first one (R-SM-4). */
  | 'security-client-changed'
  /** UE: the Security-Server picks a transform the UE never offered (R-SM-5). */
  | 'not-offered'
  /** UE: the P-CSCF picked an SPI the UE uses for its own inbound SAs (reflection). */
  | 'spi-collision';

export interface NegotiationFailure {
  ok: false;
  reason: NegotiationFailureReason;
  /** Human-readable detail (no secrets). */
  detail: string;
  /** P-CSCF side: the SIP status to answer with ({@link SEC_AGREE_FAILURE_STATUS}). */
  status?: number;
  /** P-CSCF side: mechanisms to list in the 494's Security-Server (RFC 3329 §2.3.1). */
  supported?: SecMechanism[];
}

export function failure(reason: NegotiationFailureReason, detail: string, extra: Partial<NegotiationFailure> = {}): NegotiationFailure {
  return { ok: false, reason, detail, ...extra };
}
