/**
 * The channel between the workers of one S-CSCF (`imsec scscf --workers N`): a loopback UDP
 * socket per worker. A worker that read a datagram another owns (affinity.ts) passes it on with
 * the address it came from; the owner hands it up as if it had read it (UdpTransport.inject).
 * Workers also tell each other of registrations they changed (control frames, JSON), so each can
 * route to any registered user, and ask each other to carry out what the HSS asked of one of them
 * (RTR, PPR: the HSS sends them to whichever worker's Diameter connection it used last).
 *
 * What arrives here is trusted with a peer's source address, so it is not trusted by port: every
 * frame carries an HMAC-SHA-256 (truncated to 16 bytes) under a key the primary draws from the
 * crypto RNG and hands to its workers only, checked in constant time; anything else is dropped.
 *
 * Frame: kind (1: SIP, 2: control) ‖ MAC(16) ‖ body. SIP body: address length (1) ‖ address
 * (ASCII) ‖ port (2, big-endian) ‖ the datagram. Control body: JSON, `{ t: 'b', b }` (told),
 * `{ t: 'q', id, b }` (asked) or `{ t: 'a', id, b }` (the answer, `b` undefined when it failed).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { enlargeReceiveBuffer } from '../../common/udp-buffer.js';
import type { Endpoint } from '../../sip/transport/index.js';

const SIP = 1;
const CONTROL = 2;
const MAC = 16;

export class WorkerRelay {
  private socket: Socket | undefined;
  private peers: readonly number[] = [];
  private onSipHandler: (bytes: Uint8Array, remote: Endpoint) => void = () => undefined;
  private onControlHandler: (body: unknown) => void = () => undefined;
  private onAskHandler: (body: unknown) => Promise<unknown> = () => Promise.resolve(undefined);
  private readonly asked = new Map<number, { resolve: (b: unknown) => void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  /** Frames dropped: bad MAC, unknown sender or malformed. */
  dropped = 0;

  constructor(
    readonly index: number,
    private readonly key: Uint8Array,
    private readonly host = '127.0.0.1',
  ) {}

  /** Binds the worker's relay socket; resolves with its port. */
  bind(): Promise<number> {
    const s = createSocket({ type: 'udp4', lookup: (a, _f, cb) => cb(null, a, 4) });
    this.socket = s;
    return new Promise((resolve, reject) => {
      s.once('error', reject);
      // exclusive: in a cluster worker a plain bind would share the primary's socket, this one's siblings' too.
      s.bind({ port: 0, address: this.host, exclusive: true }, () => {
        s.off('error', reject);
        s.on('error', () => undefined);
        enlargeReceiveBuffer(s);
        s.on('message', (buf, rinfo) => this.receive(buf, rinfo.address, rinfo.port));
        resolve(s.address().port);
      });
    });
  }

  /** The relay ports of all workers, by index (this one's included). */
  setPeers(ports: readonly number[]): void {
    this.peers = ports;
  }

  onSip(handler: (bytes: Uint8Array, remote: Endpoint) => void): void {
    this.onSipHandler = handler;
  }

  /** What another worker tells every worker ({@link broadcast}). */
  onControl(handler: (body: unknown) => void): void {
    this.onControlHandler = handler;
  }

  /** What another worker asks of this one ({@link ask}); the handler's result is the answer. */
  onAsk(handler: (body: unknown) => Promise<unknown>): void {
    this.onAskHandler = handler;
  }

  /** Passes a datagram read from `remote` to the worker that owns it. */
  passSip(worker: number, bytes: Uint8Array, remote: Endpoint): void {
    const addr = Buffer.from(remote.address, 'latin1');
    const head = Buffer.allocUnsafe(1 + MAC + 1 + addr.length + 2);
    head[0] = SIP;
    head[1 + MAC] = addr.length;
    addr.copy(head, 2 + MAC);
    head.writeUInt16BE(remote.port, 2 + MAC + addr.length);
    this.send([worker], head, bytes);
  }

  /** Tells every other worker (one frame, one MAC, sent to each). */
  broadcast(body: unknown): void {
    this.control(this.others(), Buffer.from(JSON.stringify({ t: 'b', b: body })));
  }

  /** Asks another worker; resolves with its answer, or undefined when none came within `timeoutMs` or it failed. */
  ask(worker: number, body: unknown, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.asked.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.asked.set(id, { resolve, timer });
      this.control([worker], Buffer.from(JSON.stringify({ t: 'q', id, b: body })));
    });
  }

  /** The other workers' indexes. */
  others(): number[] {
    return this.peers.map((_, i) => i).filter((i) => i !== this.index);
  }

  close(): Promise<void> {
    for (const a of this.asked.values()) {
      clearTimeout(a.timer);
      a.resolve(undefined);
    }
    this.asked.clear();
    const s = this.socket;
    this.socket = undefined;
    return s ? new Promise((r) => s.close(() => r())) : Promise.resolve();
  }

  private mac(head: Uint8Array, body: Uint8Array): Buffer {
    return createHmac('sha256', this.key).update(head.subarray(0, 1)).update(head.subarray(1 + MAC)).update(body).digest().subarray(0, MAC);
  }

  private control(workers: readonly number[], json: Buffer): void {
    const head = Buffer.allocUnsafe(1 + MAC);
    head[0] = CONTROL;
    this.send(workers, head, json);
  }

  private send(workers: readonly number[], head: Buffer, body: Uint8Array): void {
    if (!this.socket) return;
    this.mac(head, body).copy(head, 1);
    for (const w of workers) {
      const port = this.peers[w];
      if (port !== undefined) this.socket.send([head, body], port, this.host);
    }
  }

  private receive(buf: Buffer, address: string, port: number): void {
    if (address !== this.host || !this.peers.includes(port) || buf.length < 1 + MAC) {
      this.dropped++;
      return;
    }
    const kind = buf[0];
    let headLen = 1 + MAC;
    if (kind === SIP) {
      if (buf.length < headLen + 3) return void this.dropped++;
      headLen += 1 + buf[1 + MAC] + 2;
      if (buf.length < headLen) return void this.dropped++;
    } else if (kind !== CONTROL) return void this.dropped++;
    const head = buf.subarray(0, headLen);
    const body = buf.subarray(headLen);
    if (!timingSafeEqual(this.mac(head, body), buf.subarray(1, 1 + MAC))) return void this.dropped++;
    if (kind === SIP) {
      const len = buf[1 + MAC];
      const remote = { address: buf.toString('latin1', 2 + MAC, 2 + MAC + len), port: buf.readUInt16BE(2 + MAC + len) };
      this.onSipHandler(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), remote);
      return;
    }
    let m: { t?: unknown; id?: unknown; b?: unknown };
    try {
      m = JSON.parse(body.toString('utf8')) as typeof m;
    } catch {
      return void this.dropped++;
    }
    if (m === null || typeof m !== 'object') return void this.dropped++;
    if (m.t === 'b') this.onControlHandler(m.b);
    else if (m.t === 'q' && typeof m.id === 'number') {
      const from = this.peers.indexOf(port);
      const id = m.id;
      this.onAskHandler(m.b).then(
        (b) => this.control([from], Buffer.from(JSON.stringify({ t: 'a', id, b }))),
        () => this.control([from], Buffer.from(JSON.stringify({ t: 'a', id }))),
      );
    } else if (m.t === 'a' && typeof m.id === 'number') {
      const a = this.asked.get(m.id);
      if (!a) return;
      this.asked.delete(m.id);
      clearTimeout(a.timer);
      a.resolve(m.b);
    } else this.dropped++;
  }
}
