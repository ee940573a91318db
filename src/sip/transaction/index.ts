/** The SIP transaction layer (RFC 3261 §17, RFC 6026): four pure state machines and their driver. */
export type { TimerName, TimerConfig } from './timers.js';
export { defaultTimers, timerConfig, timeoutInterval } from './timers.js';
export type { TxAction, TxEndReason, ClientTxEvent, ServerTxEvent, Step, TxOptions } from './types.js';
export { startClientInvite, stepClientInvite } from './client-invite.js';
export type { ClientInviteState, ClientInviteTx } from './client-invite.js';
export { startClientNonInvite, stepClientNonInvite } from './client-non-invite.js';
export type { ClientNonInviteState, ClientNonInviteTx } from './client-non-invite.js';
export { startServerInvite, stepServerInvite } from './server-invite.js';
export type { ServerInviteState, ServerInviteTx } from './server-invite.js';
export { startServerNonInvite, stepServerNonInvite } from './server-non-invite.js';
export type { ServerNonInviteState, ServerNonInviteTx } from './server-non-invite.js';
export { buildNon2xxAck } from './ack.js';
export { clientKeyOfRequest, clientKeyOfResponse, serverKeyOfRequest, isRfc3261Branch } from './keys.js';
export { TransactionLayer } from './layer.js';
export type { TxChannel, ClientTxHandlers, ClientTransaction, ServerTransaction, ReceiveRequestResult, TransactionLayerOptions } from './layer.js';
