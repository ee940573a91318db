/**
 * RFC 3261 §17.1.2 non-INVITE client transaction (Figure 6).
 *
 * ```
 *   Trying ──1xx──▶ Proceeding ──200-699──▶ Completed ──Timer K──▶ Terminated
 *     └──200-699──────────────────────────────▲
 *   Trying/Proceeding ──Timer F / transport error──▶ Terminated (TU informed)
 * ```
 */
import { timeoutInterval } from './timers.js';
import type { ClientTxEvent, SipRequest, SipResponse, Step, TxAction, TxOptions } from './types.js';

/** States of the non-INVITE client transaction (Figure 6). */
export type ClientNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface ClientNonInviteTx extends TxOptions {
  readonly kind: 'client-non-invite';
  readonly state: ClientNonInviteState;
  readonly request: SipRequest;
  /** The current Timer E interval: doubles up to T2 in "Trying", T2 in "Proceeding" (§17.1.2.2). */
  readonly intervalE: number;
}

/** RFC 3261 §17.1.2.2: enter "Trying", send the request, start Timer E (T1, unreliable only) and Timer F (64*T1). */
export function startClientNonInvite(request: SipRequest, opts: TxOptions): Step<ClientNonInviteTx> {
  const tx: ClientNonInviteTx = { kind: 'client-non-invite', state: 'trying', request, intervalE: opts.timers.t1, reliable: opts.reliable, timers: opts.timers };
  const actions: TxAction[] = [{ kind: 'send', msg: request }];
  if (!opts.reliable) actions.push({ kind: 'startTimer', name: 'E', ms: tx.intervalE });
  actions.push({ kind: 'startTimer', name: 'F', ms: timeoutInterval(opts.timers) });
  return { tx, actions };
}

/** One transition of Figure 6. Events a state does not handle are ignored. */
export function stepClientNonInvite(tx: ClientNonInviteTx, ev: ClientTxEvent): Step<ClientNonInviteTx> {
  switch (tx.state) {
    case 'trying':
    case 'proceeding':
      return active(tx, ev);
    case 'completed':
      // §17.1.2.2: retransmitted responses are absorbed; Timer K ends the transaction.
      if (ev.kind === 'timer' && ev.name === 'K') return { tx: { ...tx, state: 'terminated' }, actions: [{ kind: 'terminated', reason: 'normal' }] };
      return { tx, actions: [] };
    case 'terminated':
      return { tx, actions: [] };
  }
}

/** "Trying" and "Proceeding" share every transition but the Timer E interval. */
function active(tx: ClientNonInviteTx, ev: ClientTxEvent): Step<ClientNonInviteTx> {
  if (ev.kind === 'response') return onResponse(tx, ev.msg);
  if (ev.kind === 'transportError') return terminate(tx, 'transportError');
  if (ev.name === 'E') {
    // §17.1.2.2: "Trying" doubles E up to T2; "Proceeding" resets it to T2.
    const intervalE = tx.state === 'trying' ? Math.min(2 * tx.intervalE, tx.timers.t2) : tx.timers.t2;
    return { tx: { ...tx, intervalE }, actions: [{ kind: 'send', msg: tx.request }, { kind: 'startTimer', name: 'E', ms: intervalE }] };
  }
  if (ev.name === 'F') return terminate(tx, 'timeout');
  return { tx, actions: [] };
}

function onResponse(tx: ClientNonInviteTx, msg: SipResponse): Step<ClientNonInviteTx> {
  if (msg.status < 200) return { tx: { ...tx, state: 'proceeding' }, actions: [{ kind: 'passUp', msg }] };
  // §17.1.2.2: a final response → pass up, "Completed", Timer K (T4 unreliable, 0 reliable).
  const actions: TxAction[] = [{ kind: 'cancelTimer', name: 'E' }, { kind: 'cancelTimer', name: 'F' }, { kind: 'passUp', msg }];
  if (tx.reliable) return { tx: { ...tx, state: 'terminated' }, actions: [...actions, { kind: 'terminated', reason: 'normal' }] };
  return { tx: { ...tx, state: 'completed' }, actions: [...actions, { kind: 'startTimer', name: 'K', ms: tx.timers.t4 }] };
}

function terminate(tx: ClientNonInviteTx, reason: 'timeout' | 'transportError'): Step<ClientNonInviteTx> {
  return {
    tx: { ...tx, state: 'terminated' },
    actions: [{ kind: 'cancelTimer', name: 'E' }, { kind: 'cancelTimer', name: 'F' }, { kind: 'terminated', reason }],
  };
}
