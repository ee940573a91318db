/**
 * Free local ports for the UE's protected ports (TS 33.203 §7.1: the UE chooses port_uc and
 * port_us; TS 24.229 §5.1.1.4.2: a new port_uc at every re-registration). A port is taken by
 * binding port 0 and releasing it; over TCP it must be free for TCP as well, since the SAs (and
 * the connections) of both transports use the same port numbers.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { UeError } from './errors.js';

/** A free UDP port on `address` (bound to 0 and released), not one of `avoid`. */
export async function freeUdpPort(address: string, avoid: readonly number[] = []): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await bindUdp(address, 0);
    if (!avoid.includes(port)) return port;
  }
  throw new UeError('transport', `no free UDP port on ${address}`);
}

/** A port free for UDP and for TCP on `address`, not one of `avoid`. */
export async function freeUdpTcpPort(address: string, avoid: readonly number[] = []): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await freeUdpPort(address, avoid);
    if (await tcpFree(address, port)) return port;
  }
  throw new UeError('transport', `no port free for UDP and TCP on ${address}`);
}

async function bindUdp(address: string, want: number): Promise<number> {
  const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  const port = await new Promise<number>((resolve, reject) => {
    s.once('error', reject);
    s.bind(want, address, () => resolve(s.address().port));
  });
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function tcpFree(address: string, port: number): Promise<boolean> {
  const server = createServer();
  return new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
