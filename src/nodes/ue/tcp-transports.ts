/**
 * The soft UE's SIP over TCP (`transport: "tcp"`, kernel XFRM datapath only).
 *
 * TS 33.203 §6.2 sets up two pairs of SAs "shared by TCP and UDP": one between the UE's protected
 * client port and the P-CSCF's protected server port, the other between the P-CSCF's client port
 * and the UE's server port. Over TCP this gives the UE:
 * 1. the unprotected REGISTER (and the 401) on a TCP connection to the P-CSCF's SIP port, from
 *    the unprotected port's number (TS 24.229 §5.1.1.2.1: Via `SIP/2.0/TCP`, no rport);
 * 2. its requests on a connection it opens from port_uc to port_ps (a new connection from the
 *    new port_uc once a re-registration has set up a new set, TS 33.203 §7.4);
 * 3. a listener on port_us for the connections the P-CSCF opens from port_pc, whose requests it
 *    accepts; and responses back on the connection their request came in on (RFC 3261 §18.2.2).
 * The kernel protects every segment of 2 and 3 (policies for UDP and TCP per SA); the protected
 * transport hands up only what an inbound SA's selector covers.
 */
import type { Clock, Logger } from '../../common/index.js';
import { inboundSaLookup, type SaManager } from '../../ipsec/index.js';
import { TcpTransport } from '../../sip/transport/index.js';
import { ProtectedTcpTransport } from '../../sip/transport/protected/index.js';
import type { WireObserver } from '../../sip/transport/index.js';
import { FilteredTransport, type UeHooks } from './filtered-transport.js';

export interface UeTcpOptions {
  address: string;
  /** The unprotected SIP port (the UDP one's number, listened on for TCP too). */
  unprotectedPort: number;
  /** port_us: kept for the UE's life. */
  serverPort: number;
  sa: SaManager;
  clock: Clock;
  log: Logger;
  hooks?: UeHooks;
  onWire?: WireObserver;
}

/** The UE's two TCP transports and the protected client port new connections leave from. */
export interface UeTcpTransports {
  readonly unprotected: FilteredTransport;
  readonly protected: FilteredTransport;
  /** The port_uc of the set the next request goes on. */
  setClientPort(port: number): void;
}

export async function ueTcpTransports(o: UeTcpOptions): Promise<UeTcpTransports> {
  let clientPort: number | undefined;
  const plain = await TcpTransport.listen({ address: o.address, port: o.unprotectedPort, clock: o.clock, logger: o.log, ...(o.onWire ? { onWire: o.onWire } : {}) });
  try {
    const prot = await ProtectedTcpTransport.listen({
      address: o.address,
      serverPort: o.serverPort,
      clientPortFor: () => clientPort,
      lookup: inboundSaLookup(o.sa),
      saManager: o.sa,
      clock: o.clock,
      logger: o.log,
    });
    return {
      unprotected: new FilteredTransport({ inner: plain, protected: false, hooks: o.hooks, logger: o.log }),
      protected: new FilteredTransport({ inner: prot, protected: true, hooks: o.hooks, logger: o.log }),
      setClientPort: (port) => {
        clientPort = port;
      },
    };
  } catch (err) {
    await plain.close();
    throw err;
  }
}
