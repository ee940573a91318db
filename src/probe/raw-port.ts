/**
 * A plain UDP socket on one port with an inbox, for peers scripted from the specification text
 * (the probe's UE, and tests): it sends exactly the bytes it is given, to exactly the endpoint it
 * is given, and keeps what arrives in order. Nothing here knows SIP or ESP; a `tap` sees every
 * datagram both ways (for a pcap). An optional guard refuses every destination but the allowed
 * one before a byte leaves (the probe's "only the target" rule).
 */
import { createSocket, type Socket } from 'node:dgram';
import { ImsError, systemClock, type Clock } from '../common/index.js';
import type { Endpoint } from '../ip/index.js';

/** One received datagram. */
export interface Datagram {
  readonly data: Uint8Array;
  readonly from: Endpoint;
}

export interface RawPortOptions {
  /** Sees each datagram as it is sent ('out') or received ('in'); must not keep or alter it. */
  tap?: (direction: 'in' | 'out', local: Endpoint, remote: Endpoint, data: Uint8Array) => void;
  /** Throws for a destination that must not be sent to (checked before every send). */
  guard?: (to: Endpoint) => void;
  /** Called for each received datagram after it is queued. */
  onDatagram?: (port: RawPort, d: Datagram) => void;
  /** Time source of {@link RawPort.next}'s bound (default: the system clock). */
  clock?: Clock;
}

/** A UDP socket on one port with an inbox (read in order with {@link next}). */
export class RawPort {
  readonly inbox: Datagram[] = [];
  private waiter: (() => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
    private readonly opts: RawPortOptions,
  ) {
    socket.on('message', (msg, rinfo) => {
      const d: Datagram = { data: new Uint8Array(msg), from: { address: rinfo.address, port: rinfo.port } };
      this.opts.tap?.('in', this.endpoint, d.from, d.data);
      this.inbox.push(d);
      this.waiter?.();
      this.opts.onDatagram?.(this, d);
    });
  }

  /** Bind `address:port` (0: the OS chooses). */
  static async open(address: string, port = 0, opts: RawPortOptions = {}): Promise<RawPort> {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    const bound = await new Promise<number>((resolve, reject) => {
      socket.once('error', (err) => {
        socket.close();
        reject(new ImsError('SIP_TRANSPORT', `cannot bind ${address}:${port}: ${err.message}`));
      });
      socket.bind(port, address, () => resolve(socket.address().port));
    });
    socket.removeAllListeners('error');
    socket.on('error', () => undefined);
    return new RawPort(socket, address, bound, opts);
  }

  get endpoint(): Endpoint {
    return { address: this.address, port: this.port };
  }

  /** The next datagram, waiting at most `ms` (I/O from another node, not a protocol timer). */
  async next(what = 'a datagram', ms = 3000): Promise<Datagram> {
    const clock = this.opts.clock ?? systemClock;
    const end = clock.now() + ms;
    while (this.inbox.length === 0) {
      const left = end - clock.now();
      if (left <= 0) throw new ImsError('SIP_TIMEOUT', `port ${this.port}: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = clock.setTimeout(left, resolve);
        this.waiter = () => {
          t.cancel();
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.inbox.shift()!;
  }

  /** Send `data` (text as UTF-8) to `to`, after the guard. */
  async send(data: Uint8Array | string, to: Endpoint): Promise<void> {
    this.opts.guard?.(to);
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.opts.tap?.('out', this.endpoint, to, bytes);
    return new Promise((resolve, reject) =>
      this.socket.send(bytes, to.port, to.address, (err) => (err ? reject(new ImsError('SIP_TRANSPORT', `send to ${to.address}:${to.port} failed: ${err.message}`)) : resolve())),
    );
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

/** The local address the OS would send from to reach `target` (a connected UDP socket sends nothing). */
export async function localAddressFor(target: { address: string; port: number }): Promise<string> {
  const socket = createSocket(target.address.includes(':') ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(target.port, target.address, () => resolve());
    });
    return socket.address().address;
  } catch (e) {
    throw new ImsError('SIP_TRANSPORT', `no route to ${target.address}: ${(e as Error).message}`);
  } finally {
    socket.close();
  }
}
