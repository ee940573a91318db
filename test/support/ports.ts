/**
 * Free UDP ports for tests that must name a port before the socket that uses it exists (a peer
 * configured ahead of its node). Bound to port 0 on `host`, read and closed: another process may
 * take one in between, so tests bind their own sockets to port 0 wherever they can.
 */
import { createSocket, type Socket } from 'node:dgram';

export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const socks = await Promise.all(
    Array.from({ length: n }, () => new Promise<Socket>((res) => {
      const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      s.bind(0, host, () => res(s));
    })),
  );
  const ports = socks.map((s) => s.address().port);
  await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}
