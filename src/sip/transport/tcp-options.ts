/** The options of the SIP TCP transport (tcp.ts) and its connection-hygiene defaults. */
import type { Clock, Logger } from '../../common/index.js';
import type { InboundLimits, RequestCheck } from './inbound.js';
import type { Endpoint, WireObserver } from './types.js';

export interface TcpTransportOptions {
  /** Local IP literal to listen on (and to connect from). */
  readonly address: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly limits?: InboundLimits;
  /** The check every request must pass before it is handed up (default {@link transportCheck}). */
  readonly requestCheck?: RequestCheck;
  /** Give up on a connection attempt after this long (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Close a connection idle for this long (default {@link TCP_DEFAULTS}); 0 never does. */
  readonly idleTimeoutMs?: number;
  /** Close a connection whose message has not arrived whole this long after its first byte; 0 never does. */
  readonly partialTimeoutMs?: number;
  /** Refuse accepted connections beyond this many open connections in total. */
  readonly maxConnections?: number;
  /** Refuse accepted connections beyond this many open connections from one source address. */
  readonly maxConnectionsPerSource?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Sees every chunk written and read, with the connection's real ports (pcap recording); see {@link WireObserver}. */
  readonly onWire?: WireObserver;
  /**
   * The local port a new outgoing connection to `dest` is bound to (TS 33.203 §7.1: a protected
   * connection leaves from the protected client port); undefined lets the OS choose.
   */
  readonly localPortFor?: (dest: Endpoint) => number | undefined;
  /**
   * Abortive close: when set, a connection is never closed gracefully but reset (RST, what is
   * unsent or unacknowledged discarded) — this long after it is let go (the peer's FIN, a newer
   * connection with the same peer endpoint, {@link TcpTransport.closeFlow}), at once when the
   * transport closes or drops it. A gracefully closed socket whose data the peer has not
   * acknowledged lives on in the kernel, retransmitting it; on a protected port those
   * retransmissions go out in the clear once the SAs are gone (TS 33.203 §7.1).
   */
  readonly abortAfterMs?: number;
}

/**
 * The hygiene defaults: idle two minutes (a client pings every 95–120 s, RFC 5626 §4.4.1), a
 * message whole within 20 s of its first byte, 1024 connections in total and 128 from one address
 * (a NAT may hide many UEs behind one).
 */
export const TCP_DEFAULTS = { idleTimeoutMs: 120_000, partialTimeoutMs: 20_000, maxConnections: 1024, maxConnectionsPerSource: 128 } as const;

/** The connection limits of a {@link TcpTransport} (each optional, see {@link TCP_DEFAULTS}). */
export type TcpLimits = Partial<Pick<TcpTransportOptions, 'idleTimeoutMs' | 'partialTimeoutMs' | 'maxConnections' | 'maxConnectionsPerSource'>>;
