/**
 * The per-peer runtime state a {@link DiameterNode} keeps (RFC 6733 §5.6 peer state machine,
 * RFC 3539 watchdog, connections and pending requests), and the address check of an inbound
 * connection against a peer's configured addresses.
 */
import type { TimerHandle } from '../../common/index.js';
import type { DiameterFramer } from '../codec/framer.js';
import type { DiameterMessage } from '../codec/message.js';
import type { DiameterConnection } from '../transport/types.js';
import type { Capabilities } from './base-messages.js';
import type { PeerConfig, PeerStatus } from './node-options.js';
import { type PsmState, initialPsmState } from './psm.js';
import { type WatchdogState, initialWatchdogState } from './watchdog.js';

export interface Pending {
  msg: DiameterMessage;
  resolve: (m: DiameterMessage) => void;
  reject: (e: Error) => void;
  timer: TimerHandle;
  peer: Peer;
  timeoutMs: number;
  fixedPeer: boolean;
}

/** Per-peer runtime state: PSM, watchdog, connections, pending requests. */
export class Peer {
  psm: PsmState = initialPsmState;
  wd: WatchdogState = initialWatchdogState;
  iConn: DiameterConnection | undefined;
  /** Increments on each connect attempt so a late connect result can be recognised. */
  iGen = 0;
  rConns = new Map<number, DiameterConnection>();
  psmTimer: TimerHandle | undefined;
  wdTimer: TimerHandle | undefined;
  /** When SetWatchdog() last ran, and the Tw (with jitter) of the armed timer. */
  wdSetAt = 0;
  wdTw = 0;
  reconnectTimer: TimerHandle | undefined;
  backoffMs = 0;
  pending = new Map<number, Pending>();
  peerCaps: Capabilities | undefined;
  usable = false;
  status: PeerStatus = 'down';
  constructor(
    readonly cfg: PeerConfig,
    readonly realm: string,
  ) {}
  get host(): string {
    return this.cfg.host;
  }
  get open(): boolean {
    return this.psm.name === 'I-Open' || this.psm.name === 'R-Open';
  }
}

/** A connection accepted but not yet bound to a peer (waiting for its CER). */
export interface Unbound {
  conn: DiameterConnection;
  framer: DiameterFramer;
  timer: TimerHandle;
}

/** The address part of `address:port` (IPv6 or IPv4), IPv4-mapped IPv6 as IPv4, lower case. */
function addressOf(remote: string): string {
  const a = remote.slice(0, Math.max(0, remote.lastIndexOf(':'))).replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** Whether a connection from `remote` may belong to a peer configured with `addresses` (absent: any). */
export function fromAllowedAddress(addresses: readonly string[] | undefined, remote: string): boolean {
  if (addresses === undefined) return true;
  const a = addressOf(remote);
  return addresses.some((x) => addressOf(`${x}:0`) === a);
}
