/**
 * What the I-CSCF does with a UAA or an LIA (or with no answer at all): forward to the S-CSCF the
 * HSS names, select one by capabilities, or answer the SIP request with an error.
 *
 * Registration, TS 24.229 §5.3.1.2–5.3.1.3 with TS 29.228 §6.1.1 / TS 29.229 §6.2:
 * | UAA                                                            | I-CSCF                       |
 * |----------------------------------------------------------------|------------------------------|
 * | success (2001, FIRST_/SUBSEQUENT_REGISTRATION) + Server-Name   | forward to that S-CSCF       |
 * | success + Server-Capabilities (or neither)                     | select an S-CSCF             |
 * | USER_UNKNOWN, IDENTITIES_DONT_MATCH, ROAMING_NOT_ALLOWED,      | 403 Forbidden ("negative     |
 * | IDENTITY_NOT_REGISTERED, AUTH_SCHEME_NOT_SUPPORTED,            |  response to the user        |
 * | Result-Code AUTHORIZATION_REJECTED (5003)                      |  registration status query") |
 * | no answer: timeout, no usable HSS peer, 3xxx/4xxx (TOO_BUSY…), | 480 Temporarily Unavailable  |
 * | a malformed answer                                             | ("query cannot be completed")|
 * | any other permanent failure (5012 UNABLE_TO_COMPLY…)           | 500 Server Internal Error    |
 *
 * Requests to a user, TS 24.229 §5.3.2.1–5.3.2.2 with TS 29.228 §6.1.4:
 * | LIA                                                            | I-CSCF                       |
 * |----------------------------------------------------------------|------------------------------|
 * | success (2001, UNREGISTERED_SERVICE 2003) + Server-Name        | forward to that S-CSCF       |
 * | success + Server-Capabilities (or neither)                     | select an S-CSCF             |
 * | USER_UNKNOWN; Result-Code 5003; any other permanent failure    | 404 Not Found                |
 * | IDENTITY_NOT_REGISTERED (no unregistered services)             | 480 Temporarily Unavailable  |
 * | no answer / transient failure / malformed answer               | 480 Temporarily Unavailable  |
 * | an unexpected local error (either query)                       | 500 Server Internal Error    |
 */
import { ImsError } from '../../common/index.js';
import { CxExperimentalResultCode as E, describeResult, isExperimental, isSuccess, type DiameterResult, VENDOR_3GPP } from '../../diameter/index.js';
import type { ServerCapabilities, LocationInfoAnswer, UserAuthorizationAnswer } from '../../diameter/index.js';

/** An answer, or the error the Diameter node threw instead (timeout, no peer, parse error). */
export type CxOutcome<A> = { kind: 'answer'; answer: A } | { kind: 'failure'; error: unknown };

export type RoutingDecision =
  /** Forward to this S-CSCF; `assigned` when the HSS named it (Server-Name), not the I-CSCF. */
  | { kind: 'forward'; server: string; assigned: true }
  /** Choose from the configured S-CSCFs with these capabilities (absent: any). */
  | { kind: 'select'; capabilities?: ServerCapabilities }
  /** Answer the SIP request with this status; `detail` is for the log only. */
  | { kind: 'reject'; status: number; reason: string; detail: string };

const reject = (status: number, reason: string, detail: string): RoutingDecision => ({ kind: 'reject', status, reason, detail });

function isCx(r: DiameterResult, code: number): boolean {
  return isExperimental(r) && r.vendorId === VENDOR_3GPP && r.code === code;
}

function routeFrom(a: { serverName?: string; serverCapabilities?: ServerCapabilities }): RoutingDecision {
  if (a.serverName !== undefined && a.serverName !== '') return { kind: 'forward', server: a.serverName, assigned: true };
  return a.serverCapabilities ? { kind: 'select', capabilities: a.serverCapabilities } : { kind: 'select' };
}

/** True for errors that mean "no answer could be had" rather than a bug of ours. */
function unavailable(err: unknown): boolean {
  return err instanceof ImsError && (err.code === 'DIAMETER_TIMEOUT' || err.code === 'DIAMETER_PEER' || err.code === 'DIAMETER_PARSE' || err.code === 'DIAMETER_AVP');
}

function failureDecision(err: unknown, what: string): RoutingDecision {
  const code = err instanceof ImsError ? err.code : 'unexpected error';
  if (unavailable(err)) return reject(480, 'Temporarily Unavailable', `${what} could not be completed (${code})`);
  return reject(500, 'Server Internal Error', `${what} failed (${code})`);
}

/** TS 24.229 §5.3.1.2/§5.3.1.3: the decision for a REGISTER from the UAA (or its absence). */
export function registrationDecision(o: CxOutcome<UserAuthorizationAnswer>): RoutingDecision {
  if (o.kind === 'failure') return failureDecision(o.error, 'user registration status query (UAR)');
  const r = o.answer.result;
  if (isSuccess(r)) return routeFrom(o.answer);
  const d = `UAA ${describeResult(r)}`;
  if (
    isCx(r, E.DIAMETER_ERROR_USER_UNKNOWN) ||
    isCx(r, E.DIAMETER_ERROR_IDENTITIES_DONT_MATCH) ||
    isCx(r, E.DIAMETER_ERROR_ROAMING_NOT_ALLOWED) ||
    isCx(r, E.DIAMETER_ERROR_IDENTITY_NOT_REGISTERED) ||
    isCx(r, E.DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED) ||
    (!isExperimental(r) && r.code === 5003)
  ) {
    return reject(403, 'Forbidden', d);
  }
  if (r.code >= 3000 && r.code < 5000) return reject(480, 'Temporarily Unavailable', d);
  return reject(500, 'Server Internal Error', d);
}

/** TS 24.229 §5.3.2.1/§5.3.2.2: the decision for a request to a user from the LIA (or its absence). */
export function locationDecision(o: CxOutcome<LocationInfoAnswer>): RoutingDecision {
  if (o.kind === 'failure') return failureDecision(o.error, 'location query (LIR)');
  const r = o.answer.result;
  if (isSuccess(r)) return routeFrom(o.answer);
  const d = `LIA ${describeResult(r)}`;
  if (isCx(r, E.DIAMETER_ERROR_IDENTITY_NOT_REGISTERED)) return reject(480, 'Temporarily Unavailable', d);
  if (r.code >= 3000 && r.code < 5000) return reject(480, 'Temporarily Unavailable', d);
  return reject(404, 'Not Found', d);
}
