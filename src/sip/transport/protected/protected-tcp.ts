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
 * The userspace datapath carries UDP only (RFC 3948 tunnel mode has no userspace TCP).
 */
import type { Clock, Logger } from '../../../common/index.js';
import { silentLogger } from '../../../common/log.js';
import type { SaManager } from '../../../ipsec/index.js';
import type { SipMessage } from '../../message/index.js';
import { ipFamily } from '../endpoint.js';
import type { InboundLimits } from '../inbound.js';
import { TcpTransport, type TcpLimits } from '../tcp.js';
import type { Endpoint, InboundMessage, SendOptions, SipTransport, TransportCounters, WireObserver } from '../types.js';
import type { Protection } from './flows.js';

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
  /** The first message on a new active set ends the change-over (R-RR-2). */
  readonly saManager?: Pick<SaManager, 'noteInbound'>;
  readonly limits?: InboundLimits;
  /** Connection hygiene (idle and partial-message timeouts, caps). */
  readonly tcp?: TcpLimits;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly onWire?: WireObserver;
}

export class ProtectedTcpTransport implements SipTransport {
  readonly protocol = 'tcp' as const;
  readonly reliable = true;
  readonly family: 4 | 6;
  /** Messages no inbound SA covers (R-SA-5: nothing unprotected is handed up). */
  unprotectedDropped = 0;

  private constructor(
    private readonly inner: TcpTransport,
    private readonly opts: ProtectedTcpOptions,
  ) {
    this.family = ipFamily(opts.address) === 6 ? 6 : 4;
  }

  static async listen(opts: ProtectedTcpOptions): Promise<ProtectedTcpTransport> {
    const inner = await TcpTransport.listen({
      address: opts.address,
      port: opts.serverPort,
      localPortFor: opts.clientPortFor,
      ...(opts.limits ? { limits: opts.limits } : {}),
      ...opts.tcp,
      ...(opts.clock ? { clock: opts.clock } : {}),
      logger: (opts.logger ?? silentLogger).child({ transport: 'ipsec-tcp' }),
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
      const sa = this.opts.lookup(m.local, m.remote);
      if (!sa) {
        this.unprotectedDropped++;
        return;
      }
      const protection: Protection = { spi: sa.spi, saId: sa.id, setId: sa.setId, seq: 0, outer: m.remote };
      m.msg.protection = protection;
      this.opts.saManager?.noteInbound(sa.setId);
      handler({ ...m, receivedOn: this, protection } as InboundMessage);
    });
  }

  send(data: SipMessage | Uint8Array, dest: Endpoint, opts?: SendOptions): Promise<void> {
    return this.inner.send(data, dest, opts);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
