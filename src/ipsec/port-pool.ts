/**
 * The UDP sockets of the protected ports, one per local endpoint, shared by reference count: an
 * SA set binds the ports it uses and lets go of them when it goes, while a P-CSCF's port_ps and
 * port_pc pool are bound for the node's life ({@link UdpPortPool.listen}). Both IPsec datapaths'
 * socket edges use it: the userspace ESP-in-UDP one and the kernel XFRM one (plain sockets, the
 * kernel doing ESP underneath).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { ImsError, joinedKey } from '../common/index.js';
import { enlargeReceiveBuffer } from '../common/udp-buffer.js';
import { ipVersionOf, type Endpoint } from '../ip/index.js';

interface Bound {
  socket: Socket;
  refs: number;
  ready: Promise<void>;
}

function key(e: Endpoint): string {
  return joinedKey(e.address, e.port);
}

/** Binds a UDP socket; resolves with it and its port once bound (port 0: the OS chooses). */
function bindSocket(address: string, port: number, onMessage: (local: Endpoint, msg: Buffer, rinfo: RemoteInfo) => void): { socket: Socket; bound: Promise<number> } {
  const socket = createSocket({ type: ipVersionOf(address) === 6 ? 'udp6' : 'udp4' });
  const bound = new Promise<number>((resolve, reject) => {
    socket.once('error', (err) => {
      socket.close();
      reject(new ImsError('SIP_TRANSPORT', `cannot bind protected port ${address}:${port}: ${err.message}`));
    });
    socket.bind(port, address, () => {
      socket.removeAllListeners('error');
      // A bound datagram socket has nothing to recover from; sends report their own errors.
      socket.on('error', () => undefined);
      // One socket may carry many UEs' datagrams (a P-CSCF's port_ps, a swarm's shared ports).
      enlargeReceiveBuffer(socket);
      const local: Endpoint = { address, port: socket.address().port };
      socket.on('message', (msg, rinfo) => onMessage(local, msg, rinfo));
      resolve(local.port);
    });
  });
  return { socket, bound };
}

export class UdpPortPool {
  private readonly sockets = new Map<string, Bound>();

  /** `onMessage` gets every datagram with the local endpoint it arrived on. */
  constructor(private readonly onMessage: (local: Endpoint, msg: Buffer, rinfo: RemoteInfo) => void) {}

  /** Bind (or share) the socket of a local endpoint; reference-counted. */
  bind(local: Endpoint): Promise<void> {
    const k = key(local);
    const existing = this.sockets.get(k);
    if (existing) {
      existing.refs++;
      return existing.ready;
    }
    const { socket, bound } = bindSocket(local.address, local.port, this.onMessage);
    const ready = bound.then(
      () => undefined,
      (err: unknown) => {
        this.sockets.delete(k);
        throw err;
      },
    );
    this.sockets.set(k, { socket, refs: 1, ready });
    return ready;
  }

  /**
   * Bind a local endpoint for the pool's life, whatever SAs come and go (a P-CSCF's port_ps and
   * port_pc pool, shared by every UE; seed 001 §7.1: SAs are told apart by SPI). Port 0 lets the
   * OS choose; resolves with the bound port, which stays taken until {@link close}, or until this
   * reference and every SA's are let go ({@link unbind}).
   */
  async listen(address: string, port: number): Promise<number> {
    if (port !== 0) {
      await this.bind({ address, port });
      return port;
    }
    const { socket, bound } = bindSocket(address, 0, this.onMessage);
    const p = await bound;
    this.sockets.set(key({ address, port: p }), { socket, refs: 1, ready: Promise.resolve() });
    return p;
  }

  async unbind(local: Endpoint): Promise<void> {
    const k = key(local);
    const b = this.sockets.get(k);
    if (!b || --b.refs > 0) return;
    this.sockets.delete(k);
    await b.ready.catch(() => undefined);
    await new Promise<void>((r) => b.socket.close(() => r()));
  }

  /** The bound socket of a local endpoint (after its bind resolved), for sending. */
  async socketOf(local: Endpoint): Promise<Socket | undefined> {
    const b = this.sockets.get(key(local));
    if (!b) return undefined;
    await b.ready;
    return b.socket;
  }

  /** Local endpoints with a socket. */
  endpoints(): Endpoint[] {
    return [...this.sockets.keys()].map((k) => {
      const i = k.lastIndexOf('|');
      return { address: k.slice(0, i), port: Number(k.slice(i + 1)) };
    });
  }

  async close(): Promise<void> {
    const all = [...this.sockets.values()];
    this.sockets.clear();
    await Promise.all(all.map((b) => b.ready.catch(() => undefined).then(() => new Promise<void>((r) => b.socket.close(() => r())))));
  }
}
