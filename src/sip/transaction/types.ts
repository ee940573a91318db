/**
 * Events and actions of the four transaction state machines (RFC 3261 §17, RFC 6026).
 * A machine is a pure function `step(tx, event) -> { tx, actions }`; a driver
 * ({@link TransactionLayer}) carries out the actions with an injected clock and transport.
 */
import type { SipMessage, SipRequest, SipResponse } from '../message/index.js';
import type { TimerConfig, TimerName } from './timers.js';

export type { SipMessage, SipRequest, SipResponse };

/** Why a transaction ended or what it tells its transaction user (TU). */
export type TxEndReason = 'normal' | 'timeout' | 'transportError';

/** What the driver must do after a step. Executed in order. */
export type TxAction =
  /** Hand the message to the transport layer (a first transmission or a retransmission). */
  | { kind: 'send'; msg: SipMessage }
  /** Start (or restart) a timer; a running timer of the same name is replaced. */
  | { kind: 'startTimer'; name: TimerName; ms: number }
  | { kind: 'cancelTimer'; name: TimerName }
  /** Pass a message up to the TU (a response at a client, a request or 2xx-ACK at a server). */
  | { kind: 'passUp'; msg: SipMessage }
  /** Tell the TU something went wrong while the transaction lives on (RFC 6026 Figure 7 "Inform TU" loops). */
  | { kind: 'informTu'; reason: 'transportError' }
  /** The machine entered "Terminated"; the driver destroys it (RFC 3261 §17.1.1.2, last paragraph). */
  | { kind: 'terminated'; reason: TxEndReason };

/** Input to a client transaction. */
export type ClientTxEvent =
  | { kind: 'response'; msg: SipResponse }
  | { kind: 'timer'; name: TimerName }
  | { kind: 'transportError' };

/** Input to a server transaction: a retransmitted request (or ACK) from the wire, or a response from the TU. */
export type ServerTxEvent =
  | { kind: 'request'; msg: SipRequest }
  | { kind: 'tuResponse'; msg: SipResponse }
  | { kind: 'timer'; name: TimerName }
  | { kind: 'transportError' };

/** The result of one step. */
export interface Step<T> {
  readonly tx: T;
  readonly actions: TxAction[];
}

/** What every machine needs to know when it is created. */
export interface TxOptions {
  /** A reliable transport (TCP) suppresses retransmissions and zeroes Timers D, I, J, K (RFC 3261 §17). */
  readonly reliable: boolean;
  readonly timers: TimerConfig;
}
