/**
 * RFC 3261 §17.2.2 non-INVITE server transaction (Figure 8).
 *
 * ```
 *   Trying ──1xx from TU──▶ Proceeding ──200-699 from TU──▶ Completed ──Timer J──▶ Terminated
 *     └──200-699 from TU──────────────────────────────────────▲
 *   Proceeding/Completed ──transport error──▶ Terminated (TU informed)
 * ```
 */
import { timeoutInterval } from './timers.js';
import type { ServerTxEvent, SipRequest, SipResponse, Step, TxAction, TxOptions } from './types.js';

/** States of the non-INVITE server transaction (Figure 8). */
export type ServerNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface ServerNonInviteTx extends TxOptions {
  readonly kind: 'server-non-invite';
  readonly state: ServerNonInviteState;
  readonly request: SipRequest;
  /** The most recent response sent, resent on request retransmissions in "Proceeding"/"Completed". */
  readonly lastResponse?: SipResponse;
}

/** RFC 3261 §17.2.2: enter "Trying" and pass the request to the TU. */
export function startServerNonInvite(request: SipRequest, opts: TxOptions): Step<ServerNonInviteTx> {
  const tx: ServerNonInviteTx = { kind: 'server-non-invite', state: 'trying', request, reliable: opts.reliable, timers: opts.timers };
  return { tx, actions: [{ kind: 'passUp', msg: request }] };
}

/** One transition of Figure 8. Events a state does not handle are ignored. */
export function stepServerNonInvite(tx: ServerNonInviteTx, ev: ServerTxEvent): Step<ServerNonInviteTx> {
  switch (tx.state) {
    case 'trying':
      // §17.2.2: retransmissions in "Trying" are discarded; a transport error cannot happen (nothing sent).
      return ev.kind === 'tuResponse' ? onTuResponse(tx, ev.msg) : none(tx);
    case 'proceeding':
      if (ev.kind === 'tuResponse') return onTuResponse(tx, ev.msg);
      if (ev.kind === 'request' && tx.lastResponse) return { tx, actions: [{ kind: 'send', msg: tx.lastResponse }] };
      if (ev.kind === 'transportError') return terminate(tx, 'transportError');
      return none(tx);
    case 'completed':
      // §17.2.2: retransmissions get the final response again; further TU responses are discarded.
      if (ev.kind === 'request' && tx.lastResponse) return { tx, actions: [{ kind: 'send', msg: tx.lastResponse }] };
      if (ev.kind === 'transportError') return terminate(tx, 'transportError');
      if (ev.kind === 'timer' && ev.name === 'J') return terminate(tx, 'normal');
      return none(tx);
    case 'terminated':
      return none(tx);
  }
}

function onTuResponse(tx: ServerNonInviteTx, msg: SipResponse): Step<ServerNonInviteTx> {
  if (msg.status < 200) return { tx: { ...tx, state: 'proceeding', lastResponse: msg }, actions: [{ kind: 'send', msg }] };
  // §17.2.2: a final response → "Completed", Timer J (64*T1 unreliable, 0 reliable).
  const actions: TxAction[] = [{ kind: 'send', msg }];
  if (tx.reliable) return { tx: { ...tx, state: 'terminated', lastResponse: msg }, actions: [...actions, { kind: 'terminated', reason: 'normal' }] };
  return { tx: { ...tx, state: 'completed', lastResponse: msg }, actions: [...actions, { kind: 'startTimer', name: 'J', ms: timeoutInterval(tx.timers) }] };
}

function terminate(tx: ServerNonInviteTx, reason: 'normal' | 'transportError'): Step<ServerNonInviteTx> {
  const actions: TxAction[] = reason === 'normal' ? [] : [{ kind: 'cancelTimer', name: 'J' }];
  return { tx: { ...tx, state: 'terminated' }, actions: [...actions, { kind: 'terminated', reason }] };
}

function none(tx: ServerNonInviteTx): Step<ServerNonInviteTx> {
  return { tx, actions: [] };
}
