/** Receive buffers of the UDP sockets every peer shares (SIP ports, protected ports). */
import type { Socket } from 'node:dgram';

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
