/**
 * RFC 3261 §17.2.1 INVITE server transaction, with Figure 7 as replaced by RFC 6026 §7.1/§8.5-8.7:
 * a 2xx from the TU moves the machine to "Accepted" (Timer L) instead of destroying it, so
 * retransmissions of the INVITE are absorbed and the ACK for the 2xx is passed to the TU.
 *
 * ```
 *   Proceeding ──300-699 from TU──▶ Completed ──ACK──▶ Confirmed ──Timer I──▶ Terminated
 *       │                              └──Timer H (TU informed)──▶ Terminated
 *       └──2xx from TU──▶ Accepted ──Timer L──▶ Terminated
 * ```
 */
import { timeoutInterval } from './timers.js';
import type { ServerTxEvent, SipRequest, SipResponse, Step, TxAction, TxOptions } from './types.js';

/** States of the INVITE server transaction (RFC 6026 Figure 7). */
export type ServerInviteState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

export interface ServerInviteTx extends TxOptions {
  readonly kind: 'server-invite';
  readonly state: ServerInviteState;
  readonly request: SipRequest;
  /** The most recent response sent, resent when the INVITE is retransmitted (§17.2.1). */
  readonly lastResponse?: SipResponse;
  /** The current Timer G interval: T1, doubling up to T2 (§17.2.1). */
  readonly intervalG: number;
}

/**
 * RFC 3261 §17.2.1: a new INVITE enters "Proceeding" and is passed to the TU. The 100 (Trying) the
 * transaction "MUST generate" is fed in by the driver as a `tuResponse` (it needs the message
 * builder, which this pure machine does not use).
 */
export function startServerInvite(request: SipRequest, opts: TxOptions): Step<ServerInviteTx> {
  const tx: ServerInviteTx = { kind: 'server-invite', state: 'proceeding', request, intervalG: opts.timers.t1, reliable: opts.reliable, timers: opts.timers };
  return { tx, actions: [{ kind: 'passUp', msg: request }] };
}

/** One transition of RFC 6026 Figure 7. Events a state does not handle are ignored. */
export function stepServerInvite(tx: ServerInviteTx, ev: ServerTxEvent): Step<ServerInviteTx> {
  switch (tx.state) {
    case 'proceeding':
      return proceeding(tx, ev);
    case 'completed':
      return completed(tx, ev);
    case 'confirmed':
      // §17.2.1: ACK retransmissions are absorbed; Timer I ends the transaction.
      if (ev.kind === 'timer' && ev.name === 'I') return { tx: { ...tx, state: 'terminated' }, actions: [{ kind: 'terminated', reason: 'normal' }] };
      return none(tx);
    case 'accepted':
      return accepted(tx, ev);
    case 'terminated':
      return none(tx);
  }
}

function proceeding(tx: ServerInviteTx, ev: ServerTxEvent): Step<ServerInviteTx> {
  switch (ev.kind) {
    case 'request':
      // §17.2.1: a retransmitted INVITE gets the most recent provisional response again.
      if (ev.msg.method === 'INVITE' && tx.lastResponse) return { tx, actions: [{ kind: 'send', msg: tx.lastResponse }] };
      return none(tx);
    case 'tuResponse': {
      const msg = ev.msg;
      if (msg.status < 200) return { tx: { ...tx, lastResponse: msg }, actions: [{ kind: 'send', msg }] };
      if (msg.status < 300) {
        // RFC 6026 §7.1: 2xx → "Accepted", Timer L = 64*T1; the TU retransmits the 2xx, not us.
        return {
          tx: { ...tx, state: 'accepted', lastResponse: msg },
          actions: [{ kind: 'send', msg }, { kind: 'startTimer', name: 'L', ms: timeoutInterval(tx.timers) }],
        };
      }
      // §17.2.1: 300-699 → "Completed"; Timer G (unreliable only) and Timer H.
      const actions: TxAction[] = [{ kind: 'send', msg }];
      if (!tx.reliable) actions.push({ kind: 'startTimer', name: 'G', ms: tx.timers.t1 });
      actions.push({ kind: 'startTimer', name: 'H', ms: timeoutInterval(tx.timers) });
      return { tx: { ...tx, state: 'completed', lastResponse: msg, intervalG: tx.timers.t1 }, actions };
    }
    case 'transportError':
      // RFC 6026 Figure 7: "Transport Err. / Inform TU" loops on "Proceeding".
      return { tx, actions: [{ kind: 'informTu', reason: 'transportError' }] };
    case 'timer':
      return none(tx);
  }
}

function completed(tx: ServerInviteTx, ev: ServerTxEvent): Step<ServerInviteTx> {
  switch (ev.kind) {
    case 'request':
      if (ev.msg.method === 'ACK') {
        // §17.2.1: the ACK → "Confirmed", Timer I (T4 unreliable, 0 reliable); G and H no longer matter.
        const actions: TxAction[] = [{ kind: 'cancelTimer', name: 'G' }, { kind: 'cancelTimer', name: 'H' }];
        if (tx.reliable) return { tx: { ...tx, state: 'terminated' }, actions: [...actions, { kind: 'terminated', reason: 'normal' }] };
        return { tx: { ...tx, state: 'confirmed' }, actions: [...actions, { kind: 'startTimer', name: 'I', ms: tx.timers.t4 }] };
      }
      // §17.2.1: a retransmitted INVITE gets the final response again.
      if (ev.msg.method === 'INVITE' && tx.lastResponse) return { tx, actions: [{ kind: 'send', msg: tx.lastResponse }] };
      return none(tx);
    case 'timer':
      if (ev.name === 'G' && tx.lastResponse) {
        // §17.2.1: retransmit, and reset G to MIN(2*interval, T2).
        const intervalG = Math.min(2 * tx.intervalG, tx.timers.t2);
        return { tx: { ...tx, intervalG }, actions: [{ kind: 'send', msg: tx.lastResponse }, { kind: 'startTimer', name: 'G', ms: intervalG }] };
      }
      if (ev.name === 'H') {
        // §17.2.1: the ACK never came: "Terminated", and the TU is told of the failure.
        return { tx: { ...tx, state: 'terminated' }, actions: [{ kind: 'cancelTimer', name: 'G' }, { kind: 'terminated', reason: 'timeout' }] };
      }
      return none(tx);
    case 'transportError':
      // RFC 6026 Figure 7: "Transport Err. / Inform TU" loops on "Completed"; Timer H still ends it.
      return { tx, actions: [{ kind: 'informTu', reason: 'transportError' }] };
    case 'tuResponse':
      return none(tx);
  }
}

function accepted(tx: ServerInviteTx, ev: ServerTxEvent): Step<ServerInviteTx> {
  switch (ev.kind) {
    case 'request':
      // RFC 6026 §7.1: INVITE retransmissions are absorbed; an ACK goes to the TU (it belongs to the 2xx).
      if (ev.msg.method === 'ACK') return { tx, actions: [{ kind: 'passUp', msg: ev.msg }] };
      return none(tx);
    case 'tuResponse':
      // RFC 6026 §7.1: 2xx retransmissions from the TU (and further 2xx) are sent; nothing else.
      if (ev.msg.status >= 200 && ev.msg.status < 300) return { tx: { ...tx, lastResponse: ev.msg }, actions: [{ kind: 'send', msg: ev.msg }] };
      return none(tx);
    case 'timer':
      if (ev.name === 'L') return { tx: { ...tx, state: 'terminated' }, actions: [{ kind: 'terminated', reason: 'normal' }] };
      return none(tx);
    case 'transportError':
      return { tx, actions: [{ kind: 'informTu', reason: 'transportError' }] };
  }
}

function none(tx: ServerInviteTx): Step<ServerInviteTx> {
  return { tx, actions: [] };
}
