/**
 * The pure pieces of a stateful proxy's branches (RFC 3261 §16): the copy a branch sends
 * (§16.6), the CANCEL that follows it (§9.1), and the choice of the best final response among
 * those stored in a response context (§16.7 step 6). No state, no I/O; {@link ProxyCore} keeps
 * the state.
 */
import { InvalidArgumentError } from '../../common/index.js';
import { cseqOf, maxForwardsOf } from '../headers/index.js';
import { cloneMessage, SipHeaders, SipRequest, type SipResponse } from '../message/index.js';
import type { Destination } from '../transport/types.js';

/** How far a branch has come: its client transaction's view (RFC 3261 §17.1.1.2, Figure 5). */
export type BranchState = 'calling' | 'proceeding' | 'completed';

/**
 * Whether a CANCEL is owed to a branch (§9.1): `wanted` while it waits for a provisional response
 * (a CANCEL "MUST NOT be sent" before one), `sent` once it left.
 */
export type BranchCancel = 'none' | 'wanted' | 'sent';

/** One client transaction of a response context (§16.6 step 10: "a new branch"). */
export interface ProxyBranch {
  /** The branch parameter of our Via (§16.6 step 8): the key responses are matched by (§17.1.3). */
  readonly id: string;
  /** The request as sent: our Via on top. */
  readonly request: SipRequest;
  /** The request the node handed over (no Via of ours): what a locally made final answers. */
  readonly source: SipRequest;
  readonly dest: Destination;
  state: BranchState;
  cancel: BranchCancel;
  /** The final response (without our Via) once one came, or was made (§9.1, 64·T1 after the CANCEL). */
  final?: SipResponse;
}

/**
 * RFC 3261 §16.6 steps 1, 3 and 8: a copy of `req` with Max-Forwards decremented (70 when absent)
 * and a Via with `branch` pushed on top (its sent-by is a placeholder the transport layer writes,
 * §18.1.1). Throws InvalidArgumentError for Max-Forwards 0: such a request is answered 483, never
 * forwarded (§16.3 step 3). Request-URI, Route and Record-Route are the node's (steps 2, 4–6).
 */
export function proxyCopy(req: SipRequest, branch: string): SipRequest {
  const copy = cloneMessage(req);
  const mf = maxForwardsOf(copy);
  if (mf === 0) throw new InvalidArgumentError('Max-Forwards is 0: answer 483 instead of forwarding (RFC 3261 §16.3 step 3)', 'max-forwards');
  copy.headers.set('Max-Forwards', String(mf === undefined ? 70 : mf - 1));
  copy.headers.prepend('Via', `SIP/2.0/UDP 0.0.0.0;branch=${branch}`);
  return copy;
}

/**
 * RFC 3261 §9.1: the CANCEL for a request as sent. "The Request-URI, Call-ID, To, the numeric
 * part of CSeq, and From header fields in the CANCEL request MUST be identical to those in the
 * request being cancelled, including tags. A CANCEL constructed by a client MUST have only a
 * single Via header field value matching the top Via value in the request being cancelled" and
 * the request's Route values; no Require or Proxy-Require.
 */
export function cancelFor(sent: SipRequest): SipRequest {
  const h = new SipHeaders();
  h.append('Via', sent.headers.getAll('via')[0]);
  for (const r of sent.headers.getLines('route')) h.append('Route', r);
  h.append('Max-Forwards', '70');
  h.append('From', sent.headers.get('from') ?? '');
  h.append('To', sent.headers.get('to') ?? '');
  h.append('Call-ID', sent.headers.get('call-id') ?? '');
  h.append('CSeq', `${cseqOf(sent)?.seq ?? 1} CANCEL`);
  return new SipRequest('CANCEL', sent.uri, h);
}

/** §16.7 step 6: "such as 401, 407, 415, 420, and 484 if the 4xx class is chosen". */
const RESUBMISSION_HINTS = new Set([401, 407, 415, 420, 484]);

/**
 * The rank of a final response under RFC 3261 §16.7 step 6 (lower is better): "It MUST choose
 * from the 6xx class responses if any exist in the context. If no 6xx class responses are
 * present, the proxy SHOULD choose from the lowest response class stored in the response
 * context." Within the 4xx class the responses that help a resubmission come first; within 5xx a
 * 503 comes last ("SHOULD NOT forward it upstream unless …").
 */
export function responseRank(status: number): number {
  const cls = Math.floor(status / 100);
  if (cls >= 6) return 0;
  let within = 1;
  if (cls === 4 && RESUBMISSION_HINTS.has(status)) within = 0;
  if (status === 503) within = 2;
  return cls * 10 + within;
}

/**
 * §16.7 step 6: the best of the final responses stored in a response context, or undefined when
 * there is none (the caller then answers 408: "If there are no final responses in the context,
 * the proxy MUST send a 408"). Ties go to the earliest response. 401/407 aggregation (step 7) is
 * not done: it matters only when several branches challenge.
 */
export function bestResponse(finals: readonly SipResponse[]): SipResponse | undefined {
  let best: SipResponse | undefined;
  for (const r of finals) if (best === undefined || responseRank(r.status) < responseRank(best.status)) best = r;
  return best;
}
