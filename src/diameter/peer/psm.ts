/**
 * The Diameter peer state machine, RFC 6733 §5.6, as a pure `step(state, event, ctx) ->
 * {state, actions}`. It owns the capabilities exchange, the election between a connection we
 * initiated ('I' side) and one the peer initiated ('R' side, §5.6.4), device watchdog answers and
 * the disconnect handshake. A driver (`node.ts`) turns actions into socket writes and timers.
 *
 * ```
 * state            event              action                    new state
 * Closed           Start              I-Snd-Conn-Req            Wait-Conn-Ack
 *                  R-Conn-CER         R-Accept, Process-CER,    R-Open
 *                                     R-Snd-CEA
 * Wait-Conn-Ack    I-Rcv-Conn-Ack     I-Snd-CER                 Wait-I-CEA
 *                  I-Rcv-Conn-Nack    Cleanup                   Closed
 *                  R-Conn-CER         R-Accept, Process-CER     Wait-Conn-Ack/Elect
 *                  Timeout            Error                     Closed
 * Wait-I-CEA       I-Rcv-CEA          Process-CEA               I-Open
 *                  R-Conn-CER         R-Accept, Process-CER,    Wait-Returns
 *                                     Elect
 *                  I-Peer-Disc        I-Disc                    Closed
 *                  I-Rcv-Non-CEA      Error                     Closed
 *                  Timeout            Error                     Closed
 * Wait-Conn-Ack/   I-Rcv-Conn-Ack     I-Snd-CER, Elect          Wait-Returns
 * Elect            I-Rcv-Conn-Nack    R-Snd-CEA                 R-Open
 *                  R-Peer-Disc        R-Disc                    Wait-Conn-Ack
 *                  R-Conn-CER         R-Reject                  Wait-Conn-Ack/Elect
 *                  Timeout            Error                     Closed
 * Wait-Returns     Win-Election       I-Disc, R-Snd-CEA         R-Open
 *                  I-Peer-Disc        I-Disc, R-Snd-CEA         R-Open
 *                  I-Rcv-CEA          R-Disc                    I-Open
 *                  R-Peer-Disc        R-Disc                    Wait-I-CEA
 *                  R-Conn-CER         R-Reject                  Wait-Returns
 *                  Timeout            Error                     Closed
 * R-Open / I-Open  Send-Message       Snd-Message               (same)
 *                  Rcv-Message        Process                   (same)
 *                  Rcv-DWR            Process-DWR, Snd-DWA      (same)
 *                  Rcv-DWA            Process-DWA               (same)
 *                  R-Conn-CER         R-Reject                  (same)
 *                  Stop               Snd-DPR                   Closing
 *                  Rcv-DPR            Snd-DPA                   Closed
 *                  Peer-Disc          Disc                      Closed
 * Closing          Rcv-DPA            Disc                      Closed
 *                  Timeout            Error                     Closed
 *                  Peer-Disc          Disc                      Closed
 * ```
 * Process-CER failing (unknown application, bad CER) answers a CEA with the error Result-Code and
 * closes that connection (§5.3). After sending a DPA the connection is left for the peer to close
 * (§5.4: "The receiver of the Disconnect-Peer-Answer message initiates the transport disconnect"),
 * with a linger timeout.
 */
import type { DiameterMessage } from '../codec/message.js';
import { isRequest } from '../codec/message.js';
import { ApplicationId, BaseCommand, ResultCode } from '../dictionary/base.js';
import { DiameterAvpError } from '../errors.js';
import { type Capabilities, buildCea, buildCer, buildDpa, buildDpr, buildDwa, parseCea, parseCer } from './base-messages.js';

export type PsmStateName = 'Closed' | 'Wait-Conn-Ack' | 'Wait-I-CEA' | 'Wait-Conn-Ack/Elect' | 'Wait-Returns' | 'R-Open' | 'I-Open' | 'Closing';

/** The side of a connection: 'I' we initiated, 'R' the peer initiated (RFC 6733 §5.6). */
export type Side = 'I' | 'R';

export interface PsmState {
  readonly name: PsmStateName;
  /** The responder connection being elected over, or the open one in R-Open. */
  readonly rConn?: number;
  /** The CER received on `rConn` while an election is pending. */
  readonly rCer?: DiameterMessage;
  /** The peer's capabilities once known (from its CER or CEA). */
  readonly peer?: Capabilities;
  /** In Closing: the side the DPR went out on. */
  readonly closingSide?: Side;
}

export const initialPsmState: PsmState = { name: 'Closed' };

export type PsmEvent =
  | { kind: 'Start' }
  | { kind: 'Stop'; disconnectCause: number }
  | { kind: 'Timeout' }
  | { kind: 'I-Rcv-Conn-Ack' }
  | { kind: 'I-Rcv-Conn-Nack'; reason?: string }
  | { kind: 'R-Conn-CER'; conn: number; cer: DiameterMessage }
  | { kind: 'I-Peer-Disc' }
  | { kind: 'R-Peer-Disc'; conn: number }
  | { kind: 'I-Rcv'; msg: DiameterMessage }
  | { kind: 'R-Rcv'; conn: number; msg: DiameterMessage }
  | { kind: 'Send-Message'; msg: DiameterMessage };

export type PsmAction =
  /** I-Snd-Conn-Req: open a transport connection to the peer. */
  | { kind: 'connect' }
  /** Write a message on the I connection or on R connection `conn`. */
  | { kind: 'send'; side: Side; conn?: number; msg: DiameterMessage }
  /** Close the I connection or R connection `conn`; `lingerMs` leaves it for the peer to close first. */
  | { kind: 'disconnect'; side: Side; conn?: number; lingerMs?: number }
  | { kind: 'startTimer'; ms: number }
  | { kind: 'cancelTimer' }
  /** Entered I-Open or R-Open. */
  | { kind: 'open'; side: Side; peer: Capabilities }
  /** Left an open or opening state for Closed. */
  | { kind: 'closed'; reason: string; resultCode?: number }
  /** Process: an application message (request or answer) arrived on the open connection. */
  | { kind: 'deliver'; msg: DiameterMessage }
  /** For the RFC 3539 watchdog: a DWA ('dwa') or any other message ('message') arrived. */
  | { kind: 'watchdog'; event: 'dwa' | 'message' }
  /** The peer sent a DPR (its Disconnect-Cause), or answered ours. */
  | { kind: 'disconnecting'; cause?: number };

/** What the machine needs from its node: local capabilities, CER/CEA checks and timer values. */
export interface PsmContext {
  readonly local: Capabilities;
  /** Origin-Host we expect on the other end. */
  readonly peerHost: string;
  /** Result-Code for a received CER (2001 to accept; 3010, 5010 ... to refuse) and optional Error-Message. */
  checkCer(cer: Capabilities): { resultCode: number; errorMessage?: string };
  /** Wait for the transport connection and for the CEA (RFC 6733 §5.6 "Timeout"). */
  readonly ceaTimeoutMs: number;
  /** Wait for a DPA after sending a DPR. */
  readonly dpaTimeoutMs: number;
  /** After sending a DPA, how long to leave the connection for the peer to close. */
  readonly lingerMs: number;
}

type Out = { state: PsmState; actions: PsmAction[] };

const isCmd = (m: DiameterMessage, code: number): boolean => m.applicationId === ApplicationId.COMMON_MESSAGES && m.commandCode === code;

/**
 * RFC 6733 §5.6.4 election: "comparing the Origin-Host value received in the CER with its own
 * Origin-Host value ... If the local Diameter entity's Origin-Host is higher than the peer's, a
 * Win-Election event is issued locally." Values compare as octet strings.
 */
export function winsElection(localHost: string, peerHost: string): boolean {
  return Buffer.compare(Buffer.from(localHost, 'utf8'), Buffer.from(peerHost, 'utf8')) > 0;
}

/** Process-CER: the CEA to send and whether the connection is accepted. */
function processCer(cer: DiameterMessage, ctx: PsmContext): { ok: boolean; cea: DiameterMessage; peer?: Capabilities; resultCode: number; reason: string } {
  let caps: Capabilities;
  try {
    caps = parseCer(cer);
  } catch (e) {
    const rc = e instanceof DiameterAvpError ? e.resultCode : ResultCode.DIAMETER_UNABLE_TO_COMPLY;
    const failed = e instanceof DiameterAvpError && e.avp ? [e.avp] : undefined;
    return { ok: false, cea: buildCea(cer, ctx.local, rc, { errorMessage: (e as Error).message, ...(failed ? { failedAvps: failed } : {}) }), resultCode: rc, reason: (e as Error).message };
  }
  const v = ctx.checkCer(caps);
  const cea = buildCea(cer, ctx.local, v.resultCode, v.errorMessage !== undefined ? { errorMessage: v.errorMessage } : {});
  return { ok: v.resultCode === ResultCode.DIAMETER_SUCCESS, cea, peer: caps, resultCode: v.resultCode, reason: v.errorMessage ?? `CER refused with ${v.resultCode}` };
}

function closed(reason: string, actions: PsmAction[], resultCode?: number): Out {
  return { state: initialPsmState, actions: [...actions, { kind: 'cancelTimer' }, resultCode === undefined ? { kind: 'closed', reason } : { kind: 'closed', reason, resultCode }] };
}

/** Election after both a CER was received on `rConn` and our CER went out on I (state Wait-Returns). */
function elect(s: PsmState, ctx: PsmContext, pre: PsmAction[]): Out {
  const peerHost = s.peer?.originHost ?? ctx.peerHost;
  if (winsElection(ctx.local.originHost, peerHost)) {
    // Win-Election: I-Disc, R-Snd-CEA → R-Open.
    return rOpen(s, ctx, [...pre, { kind: 'disconnect', side: 'I' }]);
  }
  return { state: { ...s, name: 'Wait-Returns' }, actions: pre };
}

/** R-Snd-CEA for the pending CER and enter R-Open. */
function rOpen(s: PsmState, ctx: PsmContext, pre: PsmAction[]): Out {
  const p = processCer(s.rCer as DiameterMessage, ctx);
  const peer = p.peer as Capabilities;
  return {
    state: { name: 'R-Open', rConn: s.rConn, peer },
    actions: [...pre, { kind: 'cancelTimer' }, { kind: 'send', side: 'R', conn: s.rConn as number, msg: p.cea }, { kind: 'open', side: 'R', peer }],
  };
}

/** Handles a message received on the open connection of side `side`. */
function openReceive(s: PsmState, side: Side, conn: number | undefined, msg: DiameterMessage, ctx: PsmContext): Out {
  const where = side === 'R' ? { side, conn } : { side };
  if (isCmd(msg, BaseCommand.DEVICE_WATCHDOG)) {
    if (isRequest(msg)) {
      return { state: s, actions: [{ kind: 'watchdog', event: 'message' }, { kind: 'send', ...where, msg: buildDwa(msg, ctx.local.originHost, ctx.local.originRealm, ctx.local.originStateId) }] };
    }
    return { state: s, actions: [{ kind: 'watchdog', event: 'dwa' }] };
  }
  if (isCmd(msg, BaseCommand.DISCONNECT_PEER) && isRequest(msg)) {
    const cause = readCause(msg);
    const dpa = buildDpa(msg, ctx.local.originHost, ctx.local.originRealm);
    return closed('peer sent DPR', [
      cause === undefined ? { kind: 'disconnecting' } : { kind: 'disconnecting', cause },
      { kind: 'send', ...where, msg: dpa },
      { kind: 'disconnect', ...where, lingerMs: ctx.lingerMs },
    ]);
  }
  if (isCmd(msg, BaseCommand.CAPABILITIES_EXCHANGE)) {
    // A CER/CEA on an open connection is out of place (§5.3: exchanged once); ignore it.
    return { state: s, actions: [{ kind: 'watchdog', event: 'message' }] };
  }
  return { state: s, actions: [{ kind: 'watchdog', event: 'message' }, { kind: 'deliver', msg }] };
}

function readCause(msg: DiameterMessage): number | undefined {
  for (const a of msg.avps) if (a.code === 273 && a.data.length === 4) return (a.data[0] << 24) | (a.data[1] << 16) | (a.data[2] << 8) | a.data[3];
  return undefined;
}

function rReject(s: PsmState, conn: number): Out {
  return { state: s, actions: [{ kind: 'disconnect', side: 'R', conn }] };
}

/** One transition of the RFC 6733 §5.6 table. Events that the table does not list for a state are ignored. */
export function psmStep(s: PsmState, e: PsmEvent, ctx: PsmContext): Out {
  switch (s.name) {
    case 'Closed':
      if (e.kind === 'Start') return { state: { name: 'Wait-Conn-Ack' }, actions: [{ kind: 'connect' }, { kind: 'startTimer', ms: ctx.ceaTimeoutMs }] };
      if (e.kind === 'R-Conn-CER') {
        const p = processCer(e.cer, ctx);
        if (!p.ok) return { state: s, actions: [{ kind: 'send', side: 'R', conn: e.conn, msg: p.cea }, { kind: 'disconnect', side: 'R', conn: e.conn, lingerMs: ctx.lingerMs }] };
        const peer = p.peer as Capabilities;
        return { state: { name: 'R-Open', rConn: e.conn, peer }, actions: [{ kind: 'send', side: 'R', conn: e.conn, msg: p.cea }, { kind: 'open', side: 'R', peer }] };
      }
      return { state: s, actions: [] };

    case 'Wait-Conn-Ack':
      if (e.kind === 'I-Rcv-Conn-Ack') return { state: { ...s, name: 'Wait-I-CEA' }, actions: [{ kind: 'send', side: 'I', msg: buildCer(ctx.local) }] };
      if (e.kind === 'I-Rcv-Conn-Nack') return closed(e.reason ?? 'connection refused', []);
      if (e.kind === 'R-Conn-CER') {
        const p = processCer(e.cer, ctx);
        if (!p.ok) return { state: s, actions: [{ kind: 'send', side: 'R', conn: e.conn, msg: p.cea }, { kind: 'disconnect', side: 'R', conn: e.conn, lingerMs: ctx.lingerMs }] };
        return { state: { name: 'Wait-Conn-Ack/Elect', rConn: e.conn, rCer: e.cer, peer: p.peer }, actions: [] };
      }
      if (e.kind === 'Timeout') return closed('timeout waiting for the connection', [{ kind: 'disconnect', side: 'I' }]);
      if (e.kind === 'Stop') return closed('stopped', [{ kind: 'disconnect', side: 'I' }]);
      return { state: s, actions: [] };

    case 'Wait-I-CEA':
      if (e.kind === 'I-Rcv') {
        if (!isCmd(e.msg, BaseCommand.CAPABILITIES_EXCHANGE) || isRequest(e.msg)) return closed('non-CEA message while waiting for CEA', [{ kind: 'disconnect', side: 'I' }]);
        return processCea(s, e.msg, ctx, []);
      }
      if (e.kind === 'R-Conn-CER') {
        const p = processCer(e.cer, ctx);
        if (!p.ok) return { state: s, actions: [{ kind: 'send', side: 'R', conn: e.conn, msg: p.cea }, { kind: 'disconnect', side: 'R', conn: e.conn, lingerMs: ctx.lingerMs }] };
        return elect({ name: 'Wait-Returns', rConn: e.conn, rCer: e.cer, peer: p.peer }, ctx, []);
      }
      if (e.kind === 'I-Peer-Disc') return closed('peer closed the connection before CEA', [{ kind: 'disconnect', side: 'I' }]);
      if (e.kind === 'Timeout') return closed('timeout waiting for CEA', [{ kind: 'disconnect', side: 'I' }]);
      if (e.kind === 'Stop') return closed('stopped', [{ kind: 'disconnect', side: 'I' }]);
      return { state: s, actions: [] };

    case 'Wait-Conn-Ack/Elect':
      if (e.kind === 'I-Rcv-Conn-Ack') return elect({ ...s, name: 'Wait-Returns' }, ctx, [{ kind: 'send', side: 'I', msg: buildCer(ctx.local) }]);
      if (e.kind === 'I-Rcv-Conn-Nack') return rOpen(s, ctx, []);
      if (e.kind === 'R-Peer-Disc' && e.conn === s.rConn) return { state: { name: 'Wait-Conn-Ack' }, actions: [{ kind: 'disconnect', side: 'R', conn: e.conn }] };
      if (e.kind === 'R-Conn-CER') return rReject(s, e.conn);
      if (e.kind === 'Timeout') return closed('timeout during election', [{ kind: 'disconnect', side: 'I' }, { kind: 'disconnect', side: 'R', conn: s.rConn as number }]);
      if (e.kind === 'Stop') return closed('stopped', [{ kind: 'disconnect', side: 'I' }, { kind: 'disconnect', side: 'R', conn: s.rConn as number }]);
      return { state: s, actions: [] };

    case 'Wait-Returns':
      if (e.kind === 'I-Peer-Disc') return rOpen(s, ctx, [{ kind: 'disconnect', side: 'I' }]);
      if (e.kind === 'I-Rcv') {
        if (isCmd(e.msg, BaseCommand.CAPABILITIES_EXCHANGE) && !isRequest(e.msg)) return processCea(s, e.msg, ctx, [{ kind: 'disconnect', side: 'R', conn: s.rConn as number }]);
        return { state: s, actions: [] };
      }
      if (e.kind === 'R-Peer-Disc' && e.conn === s.rConn) return { state: { name: 'Wait-I-CEA' }, actions: [{ kind: 'disconnect', side: 'R', conn: e.conn }] };
      if (e.kind === 'R-Conn-CER') return rReject(s, e.conn);
      if (e.kind === 'Timeout') return closed('timeout during election', [{ kind: 'disconnect', side: 'I' }, { kind: 'disconnect', side: 'R', conn: s.rConn as number }]);
      if (e.kind === 'Stop') return closed('stopped', [{ kind: 'disconnect', side: 'I' }, { kind: 'disconnect', side: 'R', conn: s.rConn as number }]);
      return { state: s, actions: [] };

    case 'R-Open':
    case 'I-Open': {
      const side: Side = s.name === 'R-Open' ? 'R' : 'I';
      const where = side === 'R' ? { side, conn: s.rConn as number } : { side };
      if (e.kind === 'Send-Message') return { state: s, actions: [{ kind: 'send', ...where, msg: e.msg }] };
      if (e.kind === 'R-Conn-CER') return rReject(s, e.conn);
      if (e.kind === 'Stop') {
        return {
          state: { ...s, name: 'Closing', closingSide: side },
          actions: [{ kind: 'send', ...where, msg: buildDpr(ctx.local.originHost, ctx.local.originRealm, e.disconnectCause) }, { kind: 'startTimer', ms: ctx.dpaTimeoutMs }],
        };
      }
      if (side === 'I' && e.kind === 'I-Rcv') return openReceive(s, 'I', undefined, e.msg, ctx);
      if (side === 'R' && e.kind === 'R-Rcv' && e.conn === s.rConn) return openReceive(s, 'R', e.conn, e.msg, ctx);
      if (side === 'I' && e.kind === 'I-Peer-Disc') return closed('peer closed the connection', [{ kind: 'disconnect', side: 'I' }]);
      if (side === 'R' && e.kind === 'R-Peer-Disc' && e.conn === s.rConn) return closed('peer closed the connection', [{ kind: 'disconnect', side: 'R', conn: e.conn }]);
      return { state: s, actions: [] };
    }

    case 'Closing': {
      const side = s.closingSide ?? 'I';
      const where = side === 'R' ? { side, conn: s.rConn as number } : { side };
      const rcv = (side === 'I' && e.kind === 'I-Rcv') || (side === 'R' && e.kind === 'R-Rcv' && e.conn === s.rConn) ? e.msg : undefined;
      if (rcv) {
        if (isCmd(rcv, BaseCommand.DISCONNECT_PEER) && !isRequest(rcv)) return closed('disconnected (DPA received)', [{ kind: 'disconnecting' }, { kind: 'disconnect', ...where }]);
        if (isCmd(rcv, BaseCommand.DEVICE_WATCHDOG) && isRequest(rcv)) {
          return { state: s, actions: [{ kind: 'send', ...where, msg: buildDwa(rcv, ctx.local.originHost, ctx.local.originRealm, ctx.local.originStateId) }] };
        }
        if (isCmd(rcv, BaseCommand.DISCONNECT_PEER) || isCmd(rcv, BaseCommand.CAPABILITIES_EXCHANGE) || isCmd(rcv, BaseCommand.DEVICE_WATCHDOG)) return { state: s, actions: [] };
        // Answers to requests still pending are delivered; new requests are not served while closing.
        return { state: s, actions: isRequest(rcv) ? [] : [{ kind: 'deliver', msg: rcv }] };
      }
      if (e.kind === 'Timeout') return closed('timeout waiting for DPA', [{ kind: 'disconnect', ...where }]);
      if ((side === 'I' && e.kind === 'I-Peer-Disc') || (side === 'R' && e.kind === 'R-Peer-Disc' && e.conn === s.rConn)) return closed('peer closed the connection', [{ kind: 'disconnect', ...where }]);
      if (e.kind === 'R-Conn-CER') return rReject(s, e.conn);
      return { state: s, actions: [] };
    }
  }
}

/** Process-CEA: I-Open on success, otherwise Error → Closed. `pre` runs first (R-Disc in Wait-Returns). */
function processCea(s: PsmState, msg: DiameterMessage, ctx: PsmContext, pre: PsmAction[]): Out {
  let cea;
  try {
    cea = parseCea(msg);
  } catch (e) {
    return closed(`malformed CEA: ${(e as Error).message}`, [...pre, { kind: 'disconnect', side: 'I' }]);
  }
  if (cea.resultCode !== ResultCode.DIAMETER_SUCCESS) {
    return closed(`CEA refused with Result-Code ${cea.resultCode}${cea.errorMessage ? `: ${cea.errorMessage}` : ''}`, [...pre, { kind: 'disconnect', side: 'I' }], cea.resultCode);
  }
  if (cea.originHost !== ctx.peerHost) {
    return closed(`CEA from ${cea.originHost}, expected ${ctx.peerHost}`, [...pre, { kind: 'disconnect', side: 'I' }], ResultCode.DIAMETER_UNKNOWN_PEER);
  }
  const v = ctx.checkCer(cea);
  if (v.resultCode !== ResultCode.DIAMETER_SUCCESS) {
    return closed(v.errorMessage ?? `capabilities refused (${v.resultCode})`, [...pre, { kind: 'disconnect', side: 'I' }], v.resultCode);
  }
  void s;
  return { state: { name: 'I-Open', peer: cea }, actions: [...pre, { kind: 'cancelTimer' }, { kind: 'open', side: 'I', peer: cea }] };
}
