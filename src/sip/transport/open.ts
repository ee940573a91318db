/**
 * Opening the usual pair of transports: UDP and TCP on the same address and port (RFC 3261 §18:
 * a server listening on UDP must listen on TCP too, on the same port).
 */
import { SipTransportError } from './errors.js';
import { TcpTransport } from './tcp.js';
import type { TcpTransportOptions } from './tcp-options.js';
import type { SipTransport, TransportProtocol } from './types.js';
import { UdpTransport, type UdpTransportOptions } from './udp.js';

export interface OpenTransportsOptions extends Omit<TcpTransportOptions, 'port'> {
  /** 0 (default) picks a port free for both protocols. */
  readonly port?: number;
  /** Default both. */
  readonly protocols?: readonly TransportProtocol[];
  /** For the UDP socket: see {@link UdpTransportOptions}. */
  readonly shared?: UdpTransportOptions['shared'];
  readonly steer?: UdpTransportOptions['steer'];
}

/** Binds UDP then TCP on the same port; with port 0, retries until a port is free for both. */
export async function openTransports(opts: OpenTransportsOptions): Promise<SipTransport[]> {
  const protocols = opts.protocols ?? ['udp', 'tcp'];
  const wantUdp = protocols.includes('udp');
  const wantTcp = protocols.includes('tcp');
  for (let attempt = 0; attempt < 20; attempt++) {
    const out: SipTransport[] = [];
    let port = opts.port ?? 0;
    try {
      if (wantUdp) {
        const u = await UdpTransport.bind({ ...opts, port });
        out.push(u);
        port = u.local.port;
      }
      if (wantTcp) out.push(await TcpTransport.listen({ ...opts, port }));
      return out;
    } catch (err) {
      await Promise.all(out.map((t) => t.close()));
      if ((opts.port ?? 0) !== 0 || !(err instanceof SipTransportError)) throw err;
    }
  }
  throw new SipTransportError(`no port free for both UDP and TCP on ${opts.address}`);
}
