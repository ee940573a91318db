/**
 * The protected-port sockets of the kernel XFRM backend (`datapath: "xfrm"`): ordinary UDP
 * sockets on the protected ports, the kernel applying and checking ESP underneath (its policies
 * make sure nothing unprotected passes). It carries protected SIP for the SIP layer's protected
 * transport (sip/transport/protected), whose carrier interface it fits.
 */
import { ImsError } from '../../common/index.js';
import { ipVersionOf, type Endpoint } from '../../ip/index.js';
import { UdpPortPool } from '../port-pool.js';
import type { SaManager, SecurityAssociation } from '../sa/index.js';
import { canonicalIp } from '../udp-encap/encap.js';
import type { UdpEncapMessageInfo } from '../udp-encap/datapath.js';

/** What the carrier reports with each datagram: what the userspace datapath reports too. */
export type SocketMessageInfo = UdpEncapMessageInfo;


/** Finds the inbound SA a datagram arriving at `local` from `remote` belongs to (kernel carrier). */
export type InboundSaLookup = (local: Endpoint, remote: Endpoint) => Pick<SecurityAssociation, 'spi' | 'id' | 'setId'> | undefined;

/**
 * The carrier for the kernel XFRM backend (`datapath: "xfrm"`): ordinary UDP sockets bound on the
 * protected ports, the kernel applying and checking ESP underneath (its policies make sure
 * nothing unprotected passes). The SPI is not visible to a socket, so a received datagram is
 * matched to its inbound SA by selector with `lookup` (e.g. over `SaManager.sas()`); a datagram
 * no SA matches is dropped and counted. Bind the protected ports with {@link bind} when the SAs
 * are installed, {@link unbind} when they go.
 */
export class KernelSocketCarrier {
  readonly counters = { received: 0, delivered: 0, sent: 0, noSa: 0 };
  private handler: ((sip: Uint8Array, info: SocketMessageInfo) => void) | undefined;
  private readonly ports = new UdpPortPool((local, buf, rinfo) => this.receive(local.port, buf, { address: rinfo.address, port: rinfo.port }));

  constructor(
    private readonly address: string,
    private readonly lookup: InboundSaLookup,
  ) {
    if (ipVersionOf(address) === 0) throw new ImsError('SIP_TRANSPORT', `kernel carrier needs an IP literal, got ${address}`);
  }

  onMessage(handler: (sip: Uint8Array, info: SocketMessageInfo) => void): void {
    this.handler = handler;
  }

  /** Bind a protected port (port 0: the OS chooses) until {@link release} or close; resolves with it. */
  listen(_address: string, port: number): Promise<number> {
    return this.ports.listen(this.address, port);
  }

  /** Lets go of one {@link listen} of a port; the socket stays while an SA uses it. */
  release(_address: string, port: number): Promise<void> {
    return this.ports.unbind({ address: this.address, port });
  }

  /** Bind a protected port (reference-counted). */
  bind(port: number): Promise<void> {
    return this.ports.bind({ address: this.address, port });
  }

  unbind(port: number): Promise<void> {
    return this.ports.unbind({ address: this.address, port });
  }

  async send(sip: Uint8Array, opts: { fromPort: number; to: Endpoint }): Promise<void> {
    const socket = await this.ports.socketOf({ address: this.address, port: opts.fromPort });
    if (!socket) throw new ImsError('SIP_TRANSPORT', `protected port ${opts.fromPort} is not bound`);
    await new Promise<void>((resolve, reject) =>
      socket.send(sip, opts.to.port, opts.to.address, (err) => (err ? reject(new ImsError('SIP_TRANSPORT', `send to ${opts.to.address}:${opts.to.port} failed: ${err.message}`)) : resolve())),
    );
    this.counters.sent++;
  }

  close(): Promise<void> {
    return this.ports.close();
  }

  private receive(port: number, buf: Buffer, from: Endpoint): void {
    this.counters.received++;
    const local: Endpoint = { address: canonicalIp(this.address), port };
    const remote: Endpoint = { address: canonicalIp(from.address), port: from.port };
    const sa = this.lookup(local, remote);
    if (!sa) {
      this.counters.noSa++;
      return;
    }
    this.counters.delivered++;
    this.handler?.(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), { local, remote, outer: remote, spi: sa.spi, saId: sa.id, setId: sa.setId, seq: 0 });
  }
}

/**
 * An {@link InboundSaLookup} over an SA table: the live inbound SA whose selector is
 * (remote → local), the best state first. It looks only at the sets bound to the remote's
 * address and port (R-SA-4), so its cost does not grow with the table.
 */
export function inboundSaLookup(sa: Pick<SaManager, 'setsAtUePort' | 'role'>): InboundSaLookup {
  const rank = { active: 3, old: 2, temporary: 1, deleted: 0 } as const;
  return (local, remote) => {
    const ue = sa.role === 'ue' ? local : remote;
    let best: SecurityAssociation | undefined;
    for (const set of sa.setsAtUePort(ue.address, ue.port)) {
      for (const x of set.sas) {
        if (x.direction !== 'in' || x.dst.port !== local.port || x.src.port !== remote.port) continue;
        if (canonicalIp(x.dst.address) !== local.address || canonicalIp(x.src.address) !== remote.address) continue;
        if (!best || rank[x.state] > rank[best.state] || (x.state === best.state && x.setId > best.setId)) best = x;
      }
    }
    return best;
  };
}

