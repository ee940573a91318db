/**
 * The transport watchdog of RFC 3539 §3.4 (used by Diameter, RFC 6733 §5.5), as a pure step
 * function. Tw is "set to Twinit plus a random jitter of ±2 seconds" (§3.4.1; Twinit default 30 s,
 * never under 6 s); the jitter is drawn by the driver and passed in, so the machine stays pure.
 *
 * ```
 * State    Event              Actions                         New state
 * INITIAL  Connection up      SetWatchdog()                   OKAY
 * OKAY     Receive DWA        Pending = FALSE; SetWatchdog()  OKAY
 *          Receive non-DWA    SetWatchdog()                   OKAY
 *          Timer expires      Pending: Failover(); SetWatchdog()           SUSPECT
 *                             else: SendWatchdog(); SetWatchdog(); Pending OKAY
 *          Connection down    Failover(); SetWatchdog()       DOWN
 * SUSPECT  Receive DWA/other  Failback(); Pending = FALSE; SetWatchdog()   OKAY
 *          Timer expires      CloseConnection(); SetWatchdog() DOWN
 *          Connection down    CloseConnection(); SetWatchdog() DOWN
 * DOWN     Timer expires      AttemptOpen(); SetWatchdog()    DOWN
 *          Connection up      NumDWA = 0; SendWatchdog(); SetWatchdog(); Pending = TRUE  REOPEN
 * REOPEN   Receive DWA        Pending = FALSE; NumDWA++; (NumDWA == 3: Failback()) OKAY or REOPEN
 *          Receive non-DWA    Throwaway()                     REOPEN
 *          Timer expires      Pending: NumDWA < 0: CloseConnection() → DOWN; else NumDWA = -1
 *                             else: SendWatchdog(); SetWatchdog(); Pending = TRUE   REOPEN
 *          Connection down    CloseConnection(); SetWatchdog() DOWN
 * ```
 * "Failover" means: stop routing to this peer and move its pending requests elsewhere;
 * "Failback": route to it again. In REOPEN the peer is not used until three DWAs have come back.
 */

export type WatchdogStateName = 'INITIAL' | 'OKAY' | 'SUSPECT' | 'DOWN' | 'REOPEN';

export interface WatchdogState {
  readonly name: WatchdogStateName;
  readonly pending: boolean;
  readonly numDwa: number;
}

export const initialWatchdogState: WatchdogState = { name: 'INITIAL', pending: false, numDwa: 0 };

export type WatchdogEvent = { kind: 'connectionUp' } | { kind: 'connectionDown' } | { kind: 'dwa' } | { kind: 'message' } | { kind: 'timer' };

export type WatchdogAction =
  | { kind: 'setTimer' }
  | { kind: 'sendDwr' }
  | { kind: 'failover' }
  | { kind: 'failback' }
  | { kind: 'closeConnection' }
  | { kind: 'attemptOpen' };

/**
 * RFC 3539 §3.4.1: Tw for one timer, from Twinit and a jitter drawn in [-2000, 2000] ms. A
 * Twinit under the RFC's 6 s minimum (tests only) scales the jitter down with it.
 */
export function watchdogInterval(twInitMs: number, jitterMs: number): number {
  const j = Math.max(-2000, Math.min(2000, jitterMs));
  const scale = Math.min(1, twInitMs / 6000);
  return Math.max(1, Math.round(twInitMs + j * scale));
}

type Out = { state: WatchdogState; actions: WatchdogAction[] };

/** RFC 3539 §3.4.1 number of DWAs needed in REOPEN before the connection is used again. */
export const REOPEN_DWAS = 3;

/** One transition; `reopenDwas` is the number of DWAs REOPEN needs (RFC 3539: 3). */
export function watchdogStep(s: WatchdogState, e: WatchdogEvent, reopenDwas: number = REOPEN_DWAS): Out {
  switch (s.name) {
    case 'INITIAL':
      if (e.kind === 'connectionUp') return { state: { name: 'OKAY', pending: false, numDwa: 0 }, actions: [{ kind: 'setTimer' }] };
      if (e.kind === 'timer') return { state: s, actions: [{ kind: 'attemptOpen' }, { kind: 'setTimer' }] };
      return { state: s, actions: [] };
    case 'OKAY':
      if (e.kind === 'dwa') return { state: { ...s, pending: false }, actions: [{ kind: 'setTimer' }] };
      if (e.kind === 'message') return { state: s, actions: [{ kind: 'setTimer' }] };
      if (e.kind === 'timer') {
        if (s.pending) return { state: { ...s, name: 'SUSPECT' }, actions: [{ kind: 'failover' }, { kind: 'setTimer' }] };
        return { state: { ...s, pending: true }, actions: [{ kind: 'sendDwr' }, { kind: 'setTimer' }] };
      }
      if (e.kind === 'connectionDown') return { state: { name: 'DOWN', pending: false, numDwa: 0 }, actions: [{ kind: 'failover' }, { kind: 'setTimer' }] };
      return { state: s, actions: [] };
    case 'SUSPECT':
      if (e.kind === 'dwa' || e.kind === 'message') return { state: { name: 'OKAY', pending: false, numDwa: 0 }, actions: [{ kind: 'failback' }, { kind: 'setTimer' }] };
      if (e.kind === 'timer' || e.kind === 'connectionDown') return { state: { name: 'DOWN', pending: false, numDwa: 0 }, actions: [{ kind: 'closeConnection' }, { kind: 'setTimer' }] };
      return { state: s, actions: [] };
    case 'DOWN':
      if (e.kind === 'timer') return { state: s, actions: [{ kind: 'attemptOpen' }, { kind: 'setTimer' }] };
      if (e.kind === 'connectionUp') {
        if (reopenDwas <= 0) return { state: { name: 'OKAY', pending: false, numDwa: 0 }, actions: [{ kind: 'failback' }, { kind: 'setTimer' }] };
        return { state: { name: 'REOPEN', pending: true, numDwa: 0 }, actions: [{ kind: 'sendDwr' }, { kind: 'setTimer' }] };
      }
      return { state: s, actions: [] };
    case 'REOPEN':
      if (e.kind === 'dwa') {
        const n = s.numDwa + 1;
        if (n >= reopenDwas) return { state: { name: 'OKAY', pending: false, numDwa: n }, actions: [{ kind: 'failback' }, { kind: 'setTimer' }] };
        return { state: { name: 'REOPEN', pending: false, numDwa: n }, actions: [] };
      }
      if (e.kind === 'timer') {
        if (s.pending) {
          if (s.numDwa < 0) return { state: { name: 'DOWN', pending: false, numDwa: 0 }, actions: [{ kind: 'closeConnection' }, { kind: 'setTimer' }] };
          return { state: { ...s, numDwa: -1 }, actions: [{ kind: 'setTimer' }] };
        }
        return { state: { ...s, pending: true }, actions: [{ kind: 'sendDwr' }, { kind: 'setTimer' }] };
      }
      if (e.kind === 'connectionDown') return { state: { name: 'DOWN', pending: false, numDwa: 0 }, actions: [{ kind: 'closeConnection' }, { kind: 'setTimer' }] };
      return { state: s, actions: [] };
  }
}

/** Whether requests may be routed to a peer whose watchdog is in `s` (RFC 3539 §3.4: only OKAY). */
export function watchdogUsable(s: WatchdogState): boolean {
  return s.name === 'OKAY';
}
