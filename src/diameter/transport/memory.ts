/**
 * An in-memory transport for tests: `listen` registers a handler under "host:port", `connect`
 * creates a linked pair of connections. Data is delivered on the next microtask, in order, like a
 * stream; `refuse` makes the next connects fail; `drop` silently discards writes on a connection
 * (a black hole, for watchdog tests).
 */
import { DiameterPeerError } from '../errors.js';
import { type DiameterConnection, type DiameterListener, type DiameterTransport, newConnectionId } from './types.js';

export class MemoryConnection implements DiameterConnection {
  readonly id = newConnectionId();
  other: MemoryConnection | undefined;
  private dataCbs: ((c: Uint8Array) => void)[] = [];
  private closeCbs: ((err?: Error) => void)[] = [];
  private isClosed = false;
  /** When true, writes vanish (simulates a dead link without a close). */
  blackhole = false;
  /** Every chunk written, for inspection. */
  readonly written: Uint8Array[] = [];

  constructor(readonly remote: string) {}

  get closed(): boolean {
    return this.isClosed;
  }
  write(bytes: Uint8Array): void {
    if (this.isClosed || this.blackhole) return;
    this.written.push(bytes);
    const peer = this.other;
    const copy = bytes.slice();
    queueMicrotask(() => peer?.receive(copy));
  }
  private receive(chunk: Uint8Array): void {
    if (this.isClosed) return;
    for (const cb of this.dataCbs) cb(chunk);
  }
  close(): void {
    this.shut();
  }
  destroy(): void {
    this.shut();
  }
  private shut(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const peer = this.other;
    queueMicrotask(() => {
      for (const cb of this.closeCbs) cb();
      peer?.shut();
    });
  }
  onData(cb: (chunk: Uint8Array) => void): void {
    this.dataCbs.push(cb);
  }
  onClose(cb: (err?: Error) => void): void {
    this.closeCbs.push(cb);
  }
}

export class MemoryTransport implements DiameterTransport {
  private listeners = new Map<string, (c: DiameterConnection) => void>();
  /** Number of upcoming connects to refuse. */
  refuse = 0;
  /** Every connection created by connect (client side), in order. */
  readonly clientConnections: MemoryConnection[] = [];

  async connect(host: string, port: number): Promise<DiameterConnection> {
    await Promise.resolve();
    const h = this.listeners.get(`${host}:${port}`);
    if (!h || this.refuse > 0) {
      if (this.refuse > 0) this.refuse--;
      throw new DiameterPeerError(`connect to ${host}:${port} refused`);
    }
    const a = new MemoryConnection(`${host}:${port}`);
    const b = new MemoryConnection('memory-client');
    a.other = b;
    b.other = a;
    this.clientConnections.push(a);
    h(b);
    return a;
  }

  async listen(host: string, port: number, onConnection: (c: DiameterConnection) => void): Promise<DiameterListener> {
    const key = `${host}:${port}`;
    this.listeners.set(key, onConnection);
    return {
      port,
      close: async () => {
        this.listeners.delete(key);
      },
    };
  }
}
