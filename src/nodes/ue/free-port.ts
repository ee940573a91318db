/**
 * The UE's protected ports (TS 33.203 §7.1: the UE chooses port_uc and port_us; TS 24.229
 * §5.1.1.4.2: a new port_uc at every re-registration, §5.1.1.5.3: and after a failed challenge).
 *
 * A port is taken by binding it, on the carrier that will carry its SAs (port 0: the OS chooses),
 * and the socket is held there until the SAs on it exist: they share that socket (the carrier
 * counts references), so the port is bound once and handed on, and no other process can take it
 * between the Security-Client that names it and the SAs that use it.
 *
 * Over TCP a port must be free for TCP as well, since the SAs (and the connections) of both
 * transports use the same port numbers. That part is checked, not held: Node binds a TCP socket
 * only to listen or to connect. port_us gets its TCP listener at once (tcp-transports.ts);
 * port_uc is bound by its connection.
 */
import { createServer } from 'node:net';
import { UeError } from './errors.js';

/** The part of a protected carrier (UdpEncapDatapath, KernelSocketCarrier) the holds use. */
export interface PortCarrier {
  /** Bind a local port (0: the OS chooses); resolves with it. Reference-counted with the SAs' binds. */
  listen(address: string, port: number): Promise<number>;
  /** Let go of one reference taken by {@link listen}. */
  release(address: string, port: number): Promise<void>;
}

/** Protected ports bound on a carrier and held until SAs use them. */
export class ProtectedPortHolds {
  private readonly held: number[] = [];

  constructor(
    private readonly carrier: PortCarrier,
    private readonly address: string,
    private readonly tcp: boolean,
  ) {}

  /** A port bound and held on the carrier (free for TCP too, over TCP), not one of `avoid`. */
  async take(avoid: readonly number[]): Promise<number> {
    const refused: number[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const port = await this.carrier.listen(this.address, 0);
        if (!avoid.includes(port) && (!this.tcp || (await tcpFree(this.address, port)))) {
          this.held.push(port);
          return port;
        }
        refused.push(port);
      }
    } finally {
      for (const p of refused) await this.carrier.release(this.address, p);
    }
    throw new UeError('transport', `no free protected port on ${this.address}${this.tcp ? ' for UDP and TCP' : ''}`);
  }

  /** Lets go of every held port: called once the SAs naming them are installed (they keep their sockets). */
  async letGo(): Promise<void> {
    for (const p of this.held.splice(0)) await this.carrier.release(this.address, p);
  }
}

function tcpFree(address: string, port: number): Promise<boolean> {
  const server = createServer();
  return new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
