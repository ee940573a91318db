/**
 * Which SIP transport each UE registered over, for the requests the P-CSCF sends towards it
 * (TS 33.203 §6.2: the SA pairs are shared by TCP and UDP; §7.1: over TCP the P-CSCF opens its
 * connection from port_pc to the UE's port_us). A UE whose last protected REGISTER came over TCP
 * gets its requests over TCP; one that registered over UDP, over UDP — as Kamailio's usrloc keeps
 * the transport a contact registered over. Forgotten once the IMPI has no SA set left.
 */
import type { SaManager } from '../../ipsec/index.js';
import type { ProtectedInboundMessage } from '../../sip/transport/protected/index.js';

export class RegisteredTransport {
  private readonly overTcp = new Set<string>();

  constructor(private readonly sa: Pick<SaManager, 'get' | 'sets' | 'on'>) {
    sa.on((e) => {
      if (e.kind === 'setStateChanged' && e.to === 'deleted' && sa.sets({ impi: e.set.impi }).length === 0) this.overTcp.delete(e.set.impi);
    });
  }

  /** A message a protected transport handed up (`tcp`: the TCP one): a REGISTER sets the IMPI's transport. */
  note(m: ProtectedInboundMessage, tcp: boolean): void {
    const impi = m.msg.kind === 'request' && m.msg.method === 'REGISTER' ? this.sa.get(m.protection.setId)?.impi : undefined;
    if (impi === undefined) return;
    if (tcp) this.overTcp.add(impi);
    else this.overTcp.delete(impi);
  }

  /** Whether requests on SA set `setId` go over TCP. */
  overTcpFor(setId: number): boolean {
    const impi = this.sa.get(setId)?.impi;
    return impi !== undefined && this.overTcp.has(impi);
  }
}
