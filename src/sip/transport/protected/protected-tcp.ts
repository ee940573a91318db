/**
 * Protected SIP over TCP for the kernel XFRM datapath (TS 33.203 §7.1, TS 24.229 §5.1.1.2.2): the
 * kernel applies ESP in transport mode to TCP as to UDP (the SAs cover both), so the SIP side is a
 * TCP transport on the protected ports. It listens on the protected server port, opens each
 * connection from the protected client port (`clientPortFor`), answers a request on the
 * connection it came in on (RFC 3261 §18.2.2), and hands up only what an inbound SA covers — the
 * SA found by selector (remote → local), as the kernel saw it — with that SA as its
 * {@link Protection}. Phones send the protected REGISTER over TCP when it does not fit a UDP
 * datagram (../shared/vectors/real: a Samsung phone does).
 *
 * The same class serves both ends (TS 33.203 §6.2: two SA pairs "shared by TCP and UDP", one
 * between the UE's client port and the P-CSCF's server port, the other between the P-CSCF's
 * client port and the UE's server port): the UE opens its connection from port_uc to port_ps and
 * listens on port_us; the P-CSCF listens on port_ps and opens its own from port_pc to port_us.
 * A connection is bound to the client port of one SA set: when the client port moves on (a new
 * set after re-registration), the next request opens a new connection from the new port.
 *
 * No connection here is ever closed gracefully (TS 33.203 §7.1: nothing in the clear). A closed
 * socket whose data the peer has not acknowledged lives on in the kernel and retransmits it; once
 * the SAs and policies are gone, in the clear. It happened in the lab: a UE's 200 to the NOTIFY
 * that ended its registration reached the P-CSCF after the P-CSCF had deleted the set, so it was
 * never acknowledged. The UE then closed the connection (FIN), both sides saw it closed, and the
 * orphaned kernel socket retransmitted the 200 without ESP after the UE's SAs went. So:
 * - when a set is deleted, its connections are reset (RST, unacknowledged data discarded)
 *   {@link ABORT_AFTER_MS} later, time for what is queued (e.g. the 200 of the de-REGISTER that
 *   ended the set) to leave;
 * - the same happens to a connection the peer closes (its FIN) and to one a newer connection
 *   with the same peer endpoint replaces;
 * - at once when the transport closes (the node stops, before its SAs go);
 * - and the nodes' XFRM datapath keeps a deleted SA's policies for NODE_POLICY_LINGER_MS after
 *   its state, so what is sent meanwhile, the RST included, is dropped by the kernel.
 *
 * The userspace datapath carries UDP only (RFC 3948 tunnel mode has no userspace TCP).
 */
import type { Clock, Logger } from '../../../common/index.js';
import { noopLogger } from '../../../common/index.js';
import type { SaManager } from '../../../ipsec/index.js';
import type { SipMessage } from '../../message/index.js';
import { canonicalAddress, endpointKey, formatEndpoint, ipFamily } from '../endpoint.js';
import { SipTransportError } from '../errors.js';
import type { InboundLimits } from '../inbound.js';
import { TcpTransport } from '../tcp.js';
import type { TcpLimits } from '../tcp-options.js';
import type { Endpoint, InboundMessage, SendOptions, SipTransport, TransportCounters, WireObserver } from '../types.js';
import type { Protection } from './flows.js';
import type { ProtectedInboundMessage } from './protected-transport.js';

/** The inbound SA a message arriving at `local` from `remote` belongs to (kernel XFRM: by selector). */
export type SelectorLookup = (local: Endpoint, remote: Endpoint) => { spi: number; id: string; setId: number } | undefined;

export interface ProtectedTcpOptions {
  /** The local protected address. */
  readonly address: string;
  /** The protected server port to listen on (0: the OS chooses). */
  readonly serverPort: number;
  /** The protected client port a new connection to `to` leaves from. */
  readonly clientPortFor: (to: Endpoint) => number | undefined;
  readonly lookup: SelectorLookup;
  /**
   * The first message on a new active set ends the change-over (R-RR-2); when a set is deleted,
   * its connections are aborted (see {@link ProtectedTcpTransport}).
   */
  readonly saManager?: Pick<SaManager, 'noteInbound' | 'on' | 'role'>;
  /** Called for every delivered message (after `saManager.noteInbound`). */
  readonly onProtected?: (m: ProtectedInboundMessage) => void;
  readonly limits?: InboundLimits;
  /** Connection hygiene (idle and partial-message timeouts, caps). */
  readonly tcp?: TcpLimits;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly onWire?: WireObserver;
}

/**
 * How long a connection let go (its set deleted, the peer's FIN) lives before it is reset: under
 * Linux's minimum TCP retransmission timeout (200 ms), so no segment of it is retransmitted once
 * its SAs are gone.
 */
export const ABORT_AFTER_MS = 150;

/** Peers whose connection's local end is remembered (the oldest forgotten beyond). */
const MAX_CONNECTIONS_REMEMBERED = 4096;

export class ProtectedTcpTransport implements SipTransport {
  readonly protocol = 'tcp' as const;
  readonly reliable = true;
  readonly family: 4 | 6;
  /** Messages no inbound SA covers (R-SA-5: nothing unprotected is handed up). */
  unprotectedDropped = 0;
  /** The local end of the connection each peer endpoint last sent on (a response leaves on it). */
  private readonly lastLocal = new Map<string, Endpoint>();

  private constructor(
    private readonly inner: TcpTransport,
    private readonly opts: ProtectedTcpOptions,
  ) {
    this.family = ipFamily(opts.address) === 6 ? 6 : 4;
    const sm = opts.saManager;
    sm?.on((e) => {
      if (e.kind !== 'setStateChanged' || e.to !== 'deleted') return;
      const [local, peer] = sm.role === 'ue' ? [e.set.ue, e.set.pcscf] : [e.set.pcscf, e.set.ue];
      const remote = (port: number): Endpoint => ({ address: canonicalAddress(peer.address), port });
      inner.closeFlow(remote(peer.portS), local.portC);
      inner.closeFlow(remote(peer.portC), local.portS);
    });
  }

  static async listen(opts: ProtectedTcpOptions): Promise<ProtectedTcpTransport> {
    const inner = await TcpTransport.listen({
      address: opts.address,
      port: opts.serverPort,
      localPortFor: opts.clientPortFor,
      abortAfterMs: ABORT_AFTER_MS,
      ...(opts.limits ? { limits: opts.limits } : {}),
      ...opts.tcp,
      ...(opts.clock ? { clock: opts.clock } : {}),
      logger: (opts.logger ?? noopLogger).child({ transport: 'ipsec-tcp' }),
      ...(opts.onWire ? { onWire: opts.onWire } : {}),
    });
    return new ProtectedTcpTransport(inner, opts);
  }

  get local(): Endpoint {
    return this.inner.local;
  }

  get counters(): TransportCounters {
    return this.inner.counters;
  }

  onMessage(handler: (m: InboundMessage) => void): void {
    this.inner.onMessage((m) => {
      const local: Endpoint = { address: canonicalAddress(m.local.address), port: m.local.port };
      const remote: Endpoint = { address: canonicalAddress(m.remote.address), port: m.remote.port };
      const sa = this.opts.lookup(local, remote);
      if (!sa) {
        this.unprotectedDropped++;
        return;
      }
      this.lastLocal.set(endpointKey(remote), local);
      if (this.lastLocal.size > MAX_CONNECTIONS_REMEMBERED) this.lastLocal.delete(this.lastLocal.keys().next().value as string);
      const protection: Protection = { spi: sa.spi, saId: sa.id, setId: sa.setId, seq: 0, outer: m.remote };
      m.msg.protection = protection;
      const pm: ProtectedInboundMessage = { ...m, receivedOn: this, protection };
      try {
        this.opts.saManager?.noteInbound(sa.setId);
        this.opts.onProtected?.(pm);
      } catch (err) {
        (this.opts.logger ?? noopLogger).warn({ err: (err as Error)?.message }, 'protected-inbound hook threw');
      }
      handler(pm);
    });
  }

  /**
   * R-SA-5: only what an SA covers leaves (with kernel ESP anything else would go in the clear):
   * a request needs a client port towards `dest` (a live set), a response an inbound SA of the
   * connection its request came in on. Rejects with SipTransportError otherwise.
   */
  send(data: SipMessage | Uint8Array, dest: Endpoint, opts?: SendOptions): Promise<void> {
    const remote: Endpoint = { address: canonicalAddress(dest.address), port: dest.port };
    const local = this.lastLocal.get(endpointKey(remote));
    const covered = local !== undefined && this.opts.lookup(local, remote) !== undefined;
    if (!covered && this.opts.clientPortFor(remote) === undefined) return Promise.reject(new SipTransportError(`no SA covers TCP towards ${formatEndpoint(remote)}`, dest));
    return this.inner.send(data, dest, opts);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
