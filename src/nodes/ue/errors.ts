/** Typed errors of the soft UE: a registration procedure that did not succeed, and why. */
import { ImsError } from '../../common/index.js';
import { SipTimeoutError } from '../../sip/stack/index.js';

/** Why a UE procedure failed (stable values tests and the CLI branch on). */
export type UeFailureReason =
  /** No final response before Timer F (RFC 3261 §17.1.2.2). */
  | 'timeout'
  /** The request could not be sent (no route, no SA, socket error). */
  | 'transport'
  /** A final error response (see `status`). */
  | 'rejected'
  /** The challenge failed the ISIM's MAC check: network authentication failure reported (R-FAIL-2). */
  | 'mac-failure'
  /** The Security-Server chose something the UE never offered, or is unusable (R-SM-5). */
  | 'security-server'
  /** The 401 carried no usable AKA challenge. */
  | 'bad-challenge'
  /** Synchronisation failed again after resynchronisation (R-FAIL-3 gave up). */
  | 'sync-failure'
  /** The REGISTER was accepted without IMS AKA: no keys, no SAs, refused. */
  | 'no-challenge'
  /** The SA table refused the new set. */
  | 'sa'
  /** Another procedure is running. */
  | 'busy'
  /** The procedure needs a registration. */
  | 'not-registered'
  /** The UE was stopped meanwhile. */
  | 'stopped';

export class UeError extends ImsError {
  /** Seconds the network asked the UE to wait before it tries again (Retry-After, RFC 3261 §20.33), when it said. */
  readonly retryAfter?: number;

  constructor(
    readonly reason: UeFailureReason,
    message: string,
    readonly status?: number,
    options?: ErrorOptions & { retryAfter?: number },
  ) {
    super('UE_REGISTRATION', message, options);
    if (options?.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }
}

/** Any failure of a procedure as a {@link UeError}: a SIP time-out, a transport or SA error, or as is. */
export function asUeError(e: unknown): UeError {
  if (e instanceof UeError) return e;
  if (e instanceof SipTimeoutError) return new UeError('timeout', e.message, undefined, { cause: e });
  if (e instanceof Error && (e as { code?: string }).code === 'SIP_TRANSPORT') return new UeError('transport', e.message, undefined, { cause: e });
  if (e instanceof Error && (e as { code?: string }).code === 'IPSEC_SA') return new UeError('sa', e.message, undefined, { cause: e });
  return new UeError('transport', e instanceof Error ? e.message : String(e), undefined, { cause: e });
}
