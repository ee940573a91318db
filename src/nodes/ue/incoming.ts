/**
 * What the soft UE answers to a request from the network and what follows from it, as a pure
 * function (TS 24.229 §5.1.2A.2 for a MESSAGE, §5.1.1.3 and §5.1.1.5.1 / §5.1.1.7 for a
 * reg-event NOTIFY, RFC 3265 §3.2.4 / RFC 6665 for its answer). Requests only ever reach the UE
 * over its protected port (R-SA-5); the core applies the effect after the answer has left.
 */
import { contentTypeOf, formatUri, fromOf, mediaType, parseEvent, parseSubscriptionState, toOf, type SipRequest, type Uri, decodeReginfo } from '../../sip/index.js';
import type { Endpoint } from '../../sip/transport/index.js';
import { decideOnNotify, type NotifyOutcome } from './decide.js';

/** An incoming MESSAGE (RFC 3428). */
export interface UeIncomingMessage {
  from: string;
  to: string;
  contentType: string;
  body: Uint8Array;
  /** The body as UTF-8 text. */
  text: string;
}

export type IncomingEffect =
  | { kind: 'none' }
  | { kind: 'message'; message: UeIncomingMessage }
  /**
   * A reg-event NOTIFY: the subscription's state (with the seconds it has left when the notifier
   * says so, RFC 6665 §4.1.3) and what it means for the registration.
   */
  | { kind: 'notify'; subscription: 'active' | 'terminated'; expires?: number; outcome: NotifyOutcome };

export interface IncomingDecision {
  status: number;
  reason: string;
  headers?: [string, string][];
  effect: IncomingEffect;
  /** Why the request was refused (for the log), when it was. */
  problem?: string;
}

const ALLOW: [string, string] = ['Allow', 'MESSAGE, NOTIFY, OPTIONS'];

/**
 * The answer and the effect of a request from the network, given our registered identities
 * (undefined when not registered) and our contact (the protected server endpoint).
 */
export function decideIncoming(req: SipRequest, me: { impus: readonly string[] | undefined; contact: Endpoint }): IncomingDecision {
  switch (req.method) {
    case 'MESSAGE':
      return { status: 200, reason: 'OK', effect: { kind: 'message', message: incomingMessage(req) } };
    case 'NOTIFY':
      return notify(req, me);
    case 'OPTIONS':
      return { status: 200, reason: 'OK', headers: [ALLOW], effect: { kind: 'none' } };
    default:
      return { status: 405, reason: 'Method Not Allowed', headers: [ALLOW], effect: { kind: 'none' } };
  }
}

function incomingMessage(req: SipRequest): UeIncomingMessage {
  let contentType = 'text/plain';
  try {
    const c = contentTypeOf(req);
    if (c) contentType = mediaType(c);
  } catch {
    // An unreadable Content-Type: keep text/plain.
  }
  return { from: uriText(() => fromOf(req)?.uri), to: uriText(() => toOf(req)?.uri), contentType, body: req.body, text: new TextDecoder().decode(req.body) };
}

/**
 * 1. Event must be `reg` (else 489 Bad Event, RFC 6665 §8.2.2).
 * 2. The body, when present, must be reginfo (else 400).
 * 3. 200; Subscription-State terminated ends the subscription; the reginfo decides the rest.
 */
function notify(req: SipRequest, me: { impus: readonly string[] | undefined; contact: Endpoint }): IncomingDecision {
  let event: string | undefined;
  try {
    const ev = req.headers.get('event');
    event = ev === undefined ? undefined : parseEvent(ev).type;
  } catch {
    event = undefined;
  }
  if (event?.toLowerCase() !== 'reg') return { status: 489, reason: 'Bad Event', effect: { kind: 'none' }, problem: `event ${event ?? '(none)'}` };
  let info;
  try {
    info = req.body.length > 0 ? decodeReginfo(req.body) : undefined;
  } catch (e) {
    return { status: 400, reason: 'Bad reginfo', effect: { kind: 'none' }, problem: (e as Error).message };
  }
  let subscription: 'active' | 'terminated' = 'active';
  let expires: number | undefined;
  try {
    const ss = req.headers.get('subscription-state');
    if (ss !== undefined) {
      const parsed = parseSubscriptionState(ss);
      if (parsed.state.toLowerCase() === 'terminated') subscription = 'terminated';
      const e = parsed.params.get('expires');
      if (subscription === 'active' && typeof e === 'string') expires = Number(e);
    }
  } catch {
    // Subscription-State is advisory here.
  }
  const outcome: NotifyOutcome = info && me.impus ? decideOnNotify(info, me.impus, me.contact) : { kind: 'none' };
  return { status: 200, reason: 'OK', effect: { kind: 'notify', subscription, ...(expires !== undefined ? { expires } : {}), outcome } };
}

function uriText(f: () => Uri | undefined): string {
  try {
    const u = f();
    return u ? formatUri(u) : '';
  } catch {
    return '';
  }
}
