/**
 * RFC 3261 §17.1.1 INVITE client transaction (Figure 5), as updated by RFC 6026 §8.4
 * (the "Accepted" state and Timer M: 2xx retransmissions and forked 2xx reach the TU).
 *
 * ```
 *   Calling ──1xx──▶ Proceeding ──300-699 (ACK)──▶ Completed ──Timer D──▶ Terminated
 *      │  └──300-699 (ACK)──────────────────────────▲
 *      └──2xx──▶ Accepted ◀──2xx── Proceeding        Accepted ──Timer M──▶ Terminated
 *   Calling ──Timer B / transport error──▶ Terminated (TU informed)
 * ```
 */
import { buildNon2xxAck } from './ack.js';
import { timeoutInterval } from './timers.js';
import type { ClientTxEvent, SipRequest, SipResponse, Step, TxAction, TxOptions } from './types.js';

/** States of the INVITE client transaction (Figure 5 + RFC 6026 "Accepted"). */
export type ClientInviteState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

export interface ClientInviteTx extends TxOptions {
  readonly kind: 'client-invite';
  readonly state: ClientInviteState;
  readonly request: SipRequest;
  /** The current Timer A interval (doubles on each firing, §17.1.1.2). */
  readonly intervalA: number;
  /** The ACK sent for the non-2xx final response, resent on each retransmission of it (§17.1.1.3). */
  readonly ack?: SipRequest;
}

/**
 * RFC 3261 §17.1.1.2: enter "Calling", pass the INVITE to the transport, start Timer A (T1,
 * unreliable only) and Timer B (64*T1).
 */
export function startClientInvite(request: SipRequest, opts: TxOptions): Step<ClientInviteTx> {
  const tx: ClientInviteTx = { kind: 'client-invite', state: 'calling', request, intervalA: opts.timers.t1, reliable: opts.reliable, timers: opts.timers };
  const actions: TxAction[] = [{ kind: 'send', msg: request }];
  if (!opts.reliable) actions.push({ kind: 'startTimer', name: 'A', ms: tx.intervalA });
  actions.push({ kind: 'startTimer', name: 'B', ms: timeoutInterval(opts.timers) });
  return { tx, actions };
}

/** One transition of Figure 5 (RFC 6026 version). Events a state does not handle are ignored. */
export function stepClientInvite(tx: ClientInviteTx, ev: ClientTxEvent): Step<ClientInviteTx> {
  switch (tx.state) {
    case 'calling':
      return calling(tx, ev);
    case 'proceeding':
      return ev.kind === 'response' ? onResponse(tx, ev.msg) : none(tx);
    case 'completed':
      return completed(tx, ev);
    case 'accepted':
      return accepted(tx, ev);
    case 'terminated':
      return none(tx);
  }
}

function calling(tx: ClientInviteTx, ev: ClientTxEvent): Step<ClientInviteTx> {
  if (ev.kind === 'response') return onResponse(tx, ev.msg);
  if (ev.kind === 'transportError') return terminate(tx, 'transportError', ['A', 'B']);
  if (ev.name === 'A') {
    // §17.1.1.2: retransmit and reset Timer A with twice the previous value (no T2 cap for INVITE).
    const intervalA = tx.intervalA * 2;
    return { tx: { ...tx, intervalA }, actions: [{ kind: 'send', msg: tx.request }, { kind: 'startTimer', name: 'A', ms: intervalA }] };
  }
  if (ev.name === 'B') return terminate(tx, 'timeout', ['A']); // §17.1.1.2: inform the TU, no ACK
  return none(tx);
}

/** A response in "Calling" or "Proceeding". */
function onResponse(tx: ClientInviteTx, msg: SipResponse): Step<ClientInviteTx> {
  const cancel: TxAction[] = tx.state === 'calling' ? [{ kind: 'cancelTimer', name: 'A' }, { kind: 'cancelTimer', name: 'B' }] : [];
  if (msg.status < 200) {
    // §17.1.1.2: 1xx → "Proceeding", retransmissions stop; pass every provisional up.
    return { tx: { ...tx, state: 'proceeding' }, actions: [...cancel, { kind: 'passUp', msg }] };
  }
  if (msg.status < 300) {
    // RFC 6026 §8.4: 2xx → "Accepted", Timer M = 64*T1; the TU acknowledges 2xx itself.
    return {
      tx: { ...tx, state: 'accepted' },
      actions: [...cancel, { kind: 'passUp', msg }, { kind: 'startTimer', name: 'M', ms: timeoutInterval(tx.timers) }],
    };
  }
  // §17.1.1.2: 300-699 → send the ACK (§17.1.1.3), pass the response up, "Completed", Timer D.
  const ack = buildNon2xxAck(tx.request, msg);
  const actions: TxAction[] = [...cancel, { kind: 'send', msg: ack }, { kind: 'passUp', msg }];
  if (tx.reliable) {
    // Timer D is zero for reliable transports: "Completed" is left at once.
    return { tx: { ...tx, state: 'terminated', ack }, actions: [...actions, { kind: 'terminated', reason: 'normal' }] };
  }
  return { tx: { ...tx, state: 'completed', ack }, actions: [...actions, { kind: 'startTimer', name: 'D', ms: tx.timers.d }] };
}

function completed(tx: ClientInviteTx, ev: ClientTxEvent): Step<ClientInviteTx> {
  if (ev.kind === 'response') {
    // §17.1.1.2: a retransmitted final response makes the ACK go out again; it is not passed up.
    if (ev.msg.status >= 300 && tx.ack) return { tx, actions: [{ kind: 'send', msg: tx.ack }] };
    return none(tx);
  }
  if (ev.kind === 'transportError') return terminate(tx, 'transportError', ['D']);
  if (ev.name === 'D') return terminate(tx, 'normal', []);
  return none(tx);
}

function accepted(tx: ClientInviteTx, ev: ClientTxEvent): Step<ClientInviteTx> {
  // RFC 6026 §8.4: every 2xx in "Accepted" goes to the TU, which sends its ACK; nothing else happens.
  if (ev.kind === 'response' && ev.msg.status >= 200 && ev.msg.status < 300) return { tx, actions: [{ kind: 'passUp', msg: ev.msg }] };
  if (ev.kind === 'timer' && ev.name === 'M') return terminate(tx, 'normal', []);
  return none(tx);
}

function terminate(tx: ClientInviteTx, reason: 'normal' | 'timeout' | 'transportError', cancel: ('A' | 'B' | 'D')[]): Step<ClientInviteTx> {
  return {
    tx: { ...tx, state: 'terminated' },
    actions: [...cancel.map((name): TxAction => ({ kind: 'cancelTimer', name })), { kind: 'terminated', reason }],
  };
}

function none(tx: ClientInviteTx): Step<ClientInviteTx> {
  return { tx, actions: [] };
}
