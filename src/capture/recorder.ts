/**
 * Records conversations into a {@link PcapWriter} as full IP packets (LINKTYPE_RAW): UDP
 * datagrams, TCP byte streams (per-flow sequence numbers, an optional handshake, segmenting at
 * an MSS, so tshark reassembles them), ESP (IP protocol 50, RFC 4303) and ESP in UDP
 * (RFC 3948 §2.1, port 4500 by default). Pure: time comes from the caller or a fixed step.
 */
import { encodeIpPacket, encodeTcpPacket, encodeUdpPacket, IPPROTO_ESP, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, type Endpoint } from '../ip/index.js';
import { InvalidArgumentError } from '../common/index.js';
import { PcapWriter, type PcapOptions } from './pcap-writer.js';

/** RFC 3948 §2.1 / RFC 7296 §2.23: the NAT-traversal port. */
export const ESP_IN_UDP_PORT = 4500;

export interface RecorderOptions extends PcapOptions {
  /** Timestamp of the first packet when none is given (ms since the epoch), default 1_700_000_000_000. */
  startMs?: number;
  /** Step between packets recorded without a timestamp, default 1 ms. */
  stepMs?: number;
}

interface TcpFlow {
  /** Next sequence number of each side (index 0: the side that opened the flow). */
  next: [number, number];
  a: Endpoint;
}

function flowKey(x: Endpoint, y: Endpoint): string {
  const a = `${x.address}|${x.port}`;
  const b = `${y.address}|${y.port}`;
  return a < b ? `${a}#${b}` : `${b}#${a}`;
}

export class PcapRecorder {
  readonly writer: PcapWriter;
  private now: number;
  private readonly step: number;
  private readonly flows = new Map<string, TcpFlow>();
  private ipId = 1;

  constructor(opts: RecorderOptions = {}) {
    this.writer = new PcapWriter(opts);
    this.now = (opts.startMs ?? 1_700_000_000_000) - (opts.stepMs ?? 1);
    this.step = opts.stepMs ?? 1;
  }

  private time(at?: number): number {
    this.now = at ?? this.now + this.step;
    return this.now;
  }

  private id(): number {
    const v = this.ipId;
    this.ipId = (this.ipId + 1) & 0xffff || 1;
    return v;
  }

  /** Records an already-built IP packet. */
  ip(packet: Uint8Array, at?: number): this {
    this.writer.add(packet, this.time(at));
    return this;
  }

  /** Records one UDP datagram from `from` to `to`. */
  udp(from: Endpoint, to: Endpoint, payload: Uint8Array, at?: number): this {
    return this.ip(encodeUdpPacket(from, to, payload, { id: this.id() }), at);
  }

  /** Records an ESP packet (IP protocol 50) between two addresses (transport mode or tunnel outer header). */
  esp(src: string, dst: string, espPacket: Uint8Array, at?: number): this {
    return this.ip(encodeIpPacket({ src, dst, protocol: IPPROTO_ESP, id: this.id() }, espPacket), at);
  }

  /** Records a UDP-encapsulated ESP packet (RFC 3948 §2.1; give `to.port` 4500 or tell tshark the port). */
  espInUdp(from: Endpoint, to: Endpoint, espPacket: Uint8Array, at?: number): this {
    return this.udp(from, to, espPacket, at);
  }

  private flow(from: Endpoint, to: Endpoint, handshake: boolean, at?: number): { f: TcpFlow; side: 0 | 1; opened: boolean } {
    const key = flowKey(from, to);
    let f = this.flows.get(key);
    let opened = false;
    if (!f) {
      // Fixed initial sequence numbers keep pcaps reproducible.
      f = { next: [1000, 5000], a: from };
      this.flows.set(key, f);
      if (handshake) {
        this.ip(encodeTcpPacket(from, to, { seq: f.next[0], ack: 0, flags: TCP_SYN }, new Uint8Array(0), { id: this.id() }), at);
        this.ip(encodeTcpPacket(to, from, { seq: f.next[1], ack: f.next[0] + 1, flags: TCP_SYN | TCP_ACK }, new Uint8Array(0), { id: this.id() }));
        f.next = [f.next[0] + 1, f.next[1] + 1];
        this.ip(encodeTcpPacket(from, to, { seq: f.next[0], ack: f.next[1], flags: TCP_ACK }, new Uint8Array(0), { id: this.id() }));
        opened = true;
      }
    }
    const side = f.a.address === from.address && f.a.port === from.port ? 0 : 1;
    return { f, side, opened };
  }

  /**
   * Records `payload` sent on the TCP connection from `from` to `to`, in segments of at most
   * `mss` bytes (default 1400), each PSH|ACK. The first use of a connection records the
   * three-way handshake first (unless `handshake: false`).
   */
  tcp(from: Endpoint, to: Endpoint, payload: Uint8Array, opts: { at?: number; mss?: number; handshake?: boolean } = {}): this {
    const { f, side, opened } = this.flow(from, to, opts.handshake ?? true, opts.at);
    const mss = opts.mss ?? 1400;
    if (!Number.isInteger(mss) || mss < 1) throw new InvalidArgumentError(`mss must be a positive integer, got ${mss}`, 'mss');
    let at = opened ? undefined : opts.at;
    let off = 0;
    do {
      const chunk = payload.subarray(off, off + mss);
      this.ip(encodeTcpPacket(from, to, { seq: f.next[side], ack: f.next[1 - side], flags: TCP_PSH | TCP_ACK }, chunk, { id: this.id() }), at);
      f.next[side] = (f.next[side] + chunk.length) >>> 0;
      at = undefined;
      off += mss;
    } while (off < payload.length);
    return this;
  }

  /** Records an orderly close (FIN from `from`, FIN+ACK back, final ACK) and forgets the flow. */
  tcpClose(from: Endpoint, to: Endpoint, at?: number): this {
    const key = flowKey(from, to);
    const f = this.flows.get(key);
    if (!f) return this;
    const side = f.a.address === from.address && f.a.port === from.port ? 0 : 1;
    const s = side;
    const o = 1 - side;
    this.ip(encodeTcpPacket(from, to, { seq: f.next[s], ack: f.next[o], flags: TCP_FIN | TCP_ACK }, new Uint8Array(0), { id: this.id() }), at);
    f.next[s] = (f.next[s] + 1) >>> 0;
    this.ip(encodeTcpPacket(to, from, { seq: f.next[o], ack: f.next[s], flags: TCP_FIN | TCP_ACK }, new Uint8Array(0), { id: this.id() }));
    f.next[o] = (f.next[o] + 1) >>> 0;
    this.ip(encodeTcpPacket(from, to, { seq: f.next[s], ack: f.next[o], flags: TCP_ACK }, new Uint8Array(0), { id: this.id() }));
    this.flows.delete(key);
    return this;
  }

  /** The pcap file so far. */
  toBytes(): Uint8Array {
    return this.writer.toBytes();
  }
}
