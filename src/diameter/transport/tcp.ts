/**
 * Diameter over TCP with node:net (RFC 6733 §2.1). The only file of the Diameter package that
 * touches sockets. Nagle is off: Diameter messages are small and latency-bound.
 */
import { type Socket, connect as netConnect, createServer } from 'node:net';
import { DiameterPeerError } from '../errors.js';
import { type DiameterConnection, type DiameterListener, type DiameterTransport, newConnectionId } from './types.js';

class TcpConnection implements DiameterConnection {
  readonly id = newConnectionId();
  readonly remote: string;
  readonly local: string;
  private closeCbs: ((err?: Error) => void)[] = [];
  private closed = false;
  private lastError: Error | undefined;

  constructor(private readonly sock: Socket) {
    this.remote = `${sock.remoteAddress}:${sock.remotePort}`;
    this.local = `${sock.localAddress}:${sock.localPort}`;
    sock.setNoDelay(true);
    sock.on('error', (e) => {
      this.lastError = e;
    });
    sock.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      for (const cb of this.closeCbs) cb(this.lastError);
    });
  }
  /**
   * Writes made in the same turn of the event loop are coalesced into one writev (cork, then
   * uncork on setImmediate, which runs right after the poll phase): a burst of SIP datagrams, each
   * handled in its own callback, sends its MARs/SARs in one syscall instead of one per message.
   */
  write(bytes: Uint8Array): void {
    if (this.sock.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.sock.cork();
      setImmediate(this.uncork);
    }
    this.sock.write(bytes);
  }
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.sock.uncork();
  };
  close(): void {
    this.sock.end();
  }
  destroy(): void {
    this.sock.destroy();
  }
  onData(cb: (chunk: Uint8Array) => void): void {
    this.sock.on('data', cb);
  }
  onClose(cb: (err?: Error) => void): void {
    this.closeCbs.push(cb);
  }
}

/** TCP transport. */
export const tcpTransport: DiameterTransport = {
  connect(host, port, timeoutMs) {
    return new Promise((resolve, reject) => {
      const sock = netConnect({ host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new DiameterPeerError(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new TcpConnection(sock));
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(new DiameterPeerError(`connect to ${host}:${port} failed: ${e.message}`));
      });
    });
  },
  listen(host, port, onConnection) {
    return new Promise((resolve, reject) => {
      const sockets = new Set<Socket>();
      const server = createServer((sock) => {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        onConnection(new TcpConnection(sock));
      });
      server.once('error', (e) => reject(new DiameterPeerError(`listen on ${host}:${port} failed: ${e.message}`)));
      server.listen(port, host, () => {
        const addr = server.address();
        const listener: DiameterListener = {
          port: typeof addr === 'object' && addr ? addr.port : port,
          close: () =>
            new Promise<void>((res) => {
              for (const s of sockets) s.destroy();
              server.close(() => res());
            }),
        };
        resolve(listener);
      });
    });
  },
};
