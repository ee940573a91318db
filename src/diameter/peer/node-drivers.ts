/**
 * The drivers of a {@link DiameterNode}'s pure state machines: the peer state machine of
 * RFC 6733 §5.6 (psm.ts) and the RFC 3539 watchdog (watchdog.ts) step here, and their actions
 * become connects, writes, timers, status changes, failover and reconnects with backoff (Tc).
 */
import { randomU32 } from '../../common/index.js';
import type { DiameterMessage } from '../codec/message.js';
import { isRequest } from '../codec/message.js';
import { ResultCode } from '../dictionary/base.js';
import type { DiameterConnection } from '../transport/types.js';
import { buildDwr, commonApplications, isPeerCommand } from './base-messages.js';
import type { PeerStatus } from './node-options.js';
import { NodeConnections } from './node-connections.js';
import type { Peer } from './peer-runtime.js';
import { type PsmAction, type PsmContext, type PsmEvent, type Side, psmStep } from './psm.js';
import { type WatchdogAction, type WatchdogEvent, watchdogInterval, watchdogStep } from './watchdog.js';

/** The peer state machine and watchdog drivers (see {@link DiameterNode}). */
export abstract class NodeDrivers extends NodeConnections {
  /** RFC 3539 §3.4: pending requests of a peer that went down move elsewhere or fail (node.ts). */
  protected abstract failover(p: Peer, why: string): void;
  /** An application request from `p`: answer it through the handler (node.ts). */
  protected abstract serveRequest(p: Peer, req: DiameterMessage): Promise<void>;
  /** An answer from `p`: resolve its pending request (node.ts). */
  protected abstract answerArrived(p: Peer, ans: DiameterMessage): void;

  protected ctx(p: Peer): PsmContext {
    return {
      local: this.local,
      peerHost: p.host,
      ceaTimeoutMs: this.t.ceaTimeoutMs,
      dpaTimeoutMs: this.t.dpaTimeoutMs,
      lingerMs: this.t.lingerMs,
      checkCer: (caps) => {
        if (caps.originHost.toLowerCase() !== p.host.toLowerCase()) return { resultCode: ResultCode.DIAMETER_UNKNOWN_PEER, errorMessage: `unknown peer ${caps.originHost}` };
        if (this.opts.requireCommonApplication !== false && commonApplications(this.local, caps).length === 0) {
          return { resultCode: ResultCode.DIAMETER_NO_COMMON_APPLICATION, errorMessage: 'no common application' };
        }
        return { resultCode: ResultCode.DIAMETER_SUCCESS };
      },
    };
  }

  protected psm(p: Peer, e: PsmEvent): void {
    const before = p.psm.name;
    const { state, actions } = psmStep(p.psm, e, this.ctx(p));
    p.psm = state;
    if (before !== state.name) this.log.debug({ peer: p.host, from: before, to: state.name, event: e.kind }, 'diameter: peer state');
    for (const a of actions) this.doPsm(p, a);
  }

  protected connOf(p: Peer, side: Side, conn?: number): DiameterConnection | undefined {
    return side === 'I' ? p.iConn : p.rConns.get(conn as number);
  }

  protected doPsm(p: Peer, a: PsmAction): void {
    switch (a.kind) {
      case 'connect':
        this.startConnect(p);
        return;
      case 'send': {
        const c = this.connOf(p, a.side, a.conn);
        if (c) this.writeTo(c, a.msg);
        return;
      }
      case 'disconnect': {
        const c = this.connOf(p, a.side, a.conn);
        if (!c) return;
        if (a.side === 'I') {
          p.iConn = undefined;
          p.iGen++;
        } else {
          p.rConns.delete(c.id);
          this.connPeer.delete(c.id);
        }
        if (a.lingerMs) this.lingerClose(c, a.lingerMs);
        else c.destroy();
        return;
      }
      case 'startTimer':
        p.psmTimer?.cancel();
        p.psmTimer = this.clock.setTimeout(a.ms, () => {
          p.psmTimer = undefined;
          this.psm(p, { kind: 'Timeout' });
        });
        return;
      case 'cancelTimer':
        p.psmTimer?.cancel();
        p.psmTimer = undefined;
        return;
      case 'open':
        p.peerCaps = a.peer;
        p.backoffMs = 0;
        this.log.info({ peer: p.host, side: a.side }, 'diameter: peer open');
        this.wd(p, { kind: 'connectionUp' });
        return;
      case 'closed':
        this.log.info({ peer: p.host, reason: a.reason }, 'diameter: peer closed');
        this.wd(p, { kind: 'connectionDown' });
        p.wdTimer?.cancel();
        p.wdTimer = undefined;
        this.setUsable(p, false, a.reason);
        this.failover(p, a.reason);
        this.scheduleReconnect(p);
        return;
      case 'deliver':
        if (isRequest(a.msg)) {
          if (isPeerCommand(a.msg)) return;
          void this.serveRequest(p, a.msg);
        } else this.answerArrived(p, a.msg);
        return;
      case 'watchdog':
        this.wd(p, { kind: a.event });
        return;
      case 'disconnecting':
        return;
    }
  }

  protected wd(p: Peer, e: WatchdogEvent): void {
    const { state, actions } = watchdogStep(p.wd, e, this.t.reopenDwas);
    p.wd = state;
    for (const a of actions) this.doWd(p, a);
    // INITIAL → OKAY on the first connection makes the peer usable at once.
    if (e.kind === 'connectionUp' && state.name === 'OKAY') this.setUsable(p, true);
  }

  protected doWd(p: Peer, a: WatchdogAction): void {
    switch (a.kind) {
      case 'setTimer': {
        if (p.wd.name === 'DOWN' || p.wd.name === 'INITIAL') {
          p.wdTimer?.cancel();
          p.wdTimer = undefined;
          return;
        }
        // RFC 3539 SetWatchdog() runs on every message. Re-arming an OS timer (and drawing jitter)
        // each time is costly, so the deadline moves and one timer checks it when it fires.
        p.wdSetAt = this.clock.now();
        if (!p.wdTimer) this.armWatchdog(p);
        return;
      }
      case 'sendDwr':
        if (p.open) this.psm(p, { kind: 'Send-Message', msg: buildDwr(this.local.originHost, this.local.originRealm, this.local.originStateId) });
        return;
      case 'failover':
        // RFC 3539: OKAY → SUSPECT (no DWA within Tw) or OKAY → DOWN (connection lost).
        if (p.wd.name === 'SUSPECT') this.setUsable(p, false, 'watchdog: no answer to DWR', 'suspect');
        this.failover(p, p.wd.name === 'SUSPECT' ? 'watchdog suspect' : 'connection down');
        return;
      case 'failback':
        this.setUsable(p, true);
        return;
      case 'closeConnection':
        // Close the open connection; the PSM then sees the disconnect and goes to Closed.
        if (p.psm.name === 'I-Open' && p.iConn) {
          const c = p.iConn;
          p.iConn = undefined;
          p.iGen++;
          c.destroy();
          this.psm(p, { kind: 'I-Peer-Disc' });
        } else if (p.psm.name === 'R-Open' && p.psm.rConn !== undefined) {
          const id = p.psm.rConn;
          const c = p.rConns.get(id);
          p.rConns.delete(id);
          this.connPeer.delete(id);
          c?.destroy();
          this.psm(p, { kind: 'R-Peer-Disc', conn: id });
        }
        return;
      case 'attemptOpen':
        return;
    }
  }

  protected armWatchdog(p: Peer): void {
    const jitter = (randomU32(this.rng) % 4001) - 2000;
    p.wdTw = watchdogInterval(this.t.watchdogMs, jitter);
    const fire = (): void => {
      const due = p.wdSetAt + p.wdTw;
      const now = this.clock.now();
      if (now < due) {
        p.wdTimer = this.clock.setTimeout(due - now, fire);
        return;
      }
      p.wdTimer = undefined;
      this.wd(p, { kind: 'timer' });
    };
    p.wdTimer = this.clock.setTimeout(p.wdTw, fire);
  }

  protected setUsable(p: Peer, usable: boolean, detail?: string, status: PeerStatus = usable ? 'up' : 'down'): void {
    p.usable = usable;
    if (p.status === status) return;
    p.status = status;
    for (const cb of this.statusCbs) cb(p.host, status, detail);
  }

  /** RFC 6733 §2.1 Tc: reconnect after a delay that doubles from reconnectMinMs up to reconnectMaxMs (with jitter). */
  protected scheduleReconnect(p: Peer): void {
    if (this.stopping || !p.cfg.connect || p.reconnectTimer) return;
    p.backoffMs = p.backoffMs === 0 ? this.t.reconnectMinMs : Math.min(this.t.reconnectMaxMs, p.backoffMs * 2);
    const jitter = randomU32(this.rng) % Math.max(1, Math.floor(p.backoffMs / 4));
    p.reconnectTimer = this.clock.setTimeout(p.backoffMs + jitter, () => {
      p.reconnectTimer = undefined;
      if (!this.stopping && p.psm.name === 'Closed') this.psm(p, { kind: 'Start' });
    });
  }
}
