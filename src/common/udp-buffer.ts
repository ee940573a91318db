/** Settings of the UDP sockets every peer shares (SIP ports, protected ports): receive buffers, address lookup. */
import type { Socket, SocketOptions } from 'node:dgram';
import { lookup } from 'node:dns';
import { isIP } from 'node:net';

/**
 * The receive buffer a shared UDP port asks for: one socket carries every UE's (or every
 * peer's) datagrams, and the default (about 200 kB, some 200 SIP messages) overflows in a
 * pause of a few ms under load, which costs a retransmission (T1) per lost datagram. The
 * kernel caps it at net.core.rmem_max.
 */
export const SHARED_RECV_BUFFER_BYTES = 4 * 1024 * 1024;

/** Asks for {@link SHARED_RECV_BUFFER_BYTES} on a bound socket; a refusal leaves the default. */
export function enlargeReceiveBuffer(socket: Socket): void {
  try {
    if (socket.getRecvBufferSize() < SHARED_RECV_BUFFER_BYTES) socket.setRecvBufferSize(SHARED_RECV_BUFFER_BYTES);
  } catch {
    // Not permitted or not supported: the default buffer stays.
  }
}

/**
 * The `lookup` of a socket whose destinations are IP literals (every SIP hop and SA peer once
 * resolved): the literal itself, at once. node:dgram otherwise sends each datagram through
 * `dns.lookup`, which answers a literal only on the next tick: 1.3-2 µs of CPU per datagram of
 * 16-19 µs sent and received on this project's 2-core machine. A name still goes to `dns.lookup`.
 */
export const ipLiteralLookup: NonNullable<SocketOptions['lookup']> = (address, options, callback) => {
  const family = isIP(address);
  if (family !== 0) callback(null, address, family);
  else lookup(address, options, callback);
};
