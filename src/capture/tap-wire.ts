/**
 * One trace of every leg of a process: the wire observers of the SIP transports
 * (`WireObserver` of src/sip/transport), of the Diameter connections ({@link tapDiameterTransport})
 * and of the userspace ESP-in-UDP datapath (its `tap`, RFC 3948) report here, and the hub turns
 * them into packets, each exactly once, in the order they were sent.
 *
 * When both ends of a leg are tapped (two nodes in one process), the sender's copy is kept and the
 * receiver's dropped; a packet from a socket nobody taps (a UE in another process, a UE whose
 * sockets are not observed) is taken from the receiver. Pure bookkeeping: no sockets, no files
 * (see {@link recordPackets} and pcap-file.ts for the pcap).
 */
import { formatIp, ipBytes, type Endpoint } from '../ip/index.js';
import type { PcapRecorder } from './recorder.js';

/** What a packet carries. */
export type WireKind = 'sip' | 'diameter' | 'esp';

/** One packet of the trace, as it crossed the wire. */
export interface WirePacket {
  /** 1, 2, … in trace order. */
  readonly seq: number;
  /** When it was observed (ms since the epoch). */
  readonly at: number;
  readonly kind: WireKind;
  /** Transport under it: UDP (SIP datagrams, ESP in UDP) or TCP (Diameter, SIP over TCP). */
  readonly proto: 'udp' | 'tcp';
  readonly from: Endpoint;
  readonly to: Endpoint;
  /** The datagram or the stream chunk (a copy). */
  readonly bytes: Uint8Array;
}

/** A Diameter or SIP observation: the shape of src/sip/transport's `WireObserver`. */
export type WireSink = (dir: 'in' | 'out', bytes: Uint8Array, local: Endpoint, remote: Endpoint, proto: 'udp' | 'tcp') => void;

/** The shape of the userspace datapath's `tap` (UdpEncapOptions.tap). */
export type EspTap = (direction: 'in' | 'out', local: Endpoint, remote: Endpoint, datagram: Uint8Array) => void;

/** The canonical text of an IP address (RFC 5952; IPv4-mapped IPv6 shown as IPv4), so endpoints compare. */
export function canonicalEndpoint(e: Endpoint): Endpoint {
  let a = e.address.replace(/^\[(.*)\]$/, '$1');
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a)) a = a.slice(7);
  try {
    a = formatIp(ipBytes(a));
  } catch {
    // Not an IP literal (a test transport's made-up name): keep it as it is.
  }
  return { address: a, port: e.port };
}

/** `address|port` of a canonical endpoint. */
export function endpointId(e: Endpoint): string {
  const c = canonicalEndpoint(e);
  return `${c.address}|${c.port}`;
}

/** `"address:port"` (as a Diameter connection reports its ends) → endpoint; port 0 when unparsable. */
export function parseHostPortText(s: string | undefined): Endpoint {
  if (!s) return { address: '0.0.0.0', port: 0 };
  const i = s.lastIndexOf(':');
  const port = Number(s.slice(i + 1));
  return i > 0 && Number.isInteger(port) ? canonicalEndpoint({ address: s.slice(0, i), port }) : { address: s, port: 0 };
}

type WireProto = 'udp' | 'tcp';

/** The key of an endpoint on one transport, or on any (`*`). */
function keyOf(e: Endpoint, proto: WireProto | undefined): string {
  return `${proto ?? '*'}|${endpointId(e)}`;
}

export interface WireTapOptions {
  /** Clock for the packet timestamps (default Date.now). */
  now?: () => number;
  /** Keep at most this many packets in {@link WireTap.packets} (default 100 000); listeners see all. */
  maxPackets?: number;
}

/**
 * The observers a node's sockets report to (SIP transports, the ESP datapath, Diameter
 * connections), each an {@link WireObservers.observe} of the node's label: the hub below in one
 * process, a node process's relay to its parent (wire-feed.ts).
 */
export abstract class WireObservers {
  /** One observation by `node`. */
  abstract observe(node: string, kind: WireKind, dir: 'in' | 'out', bytes: Uint8Array, local: Endpoint, remote: Endpoint, proto: WireProto): void;

  /** An observer for the SIP transports of `node` (assign it to a transport's `onWire`). */
  sipObserver(node: string): WireSink {
    return (dir, bytes, local, remote, proto) => this.observe(node, 'sip', dir, bytes, local, remote, proto);
  }

  /** A `tap` for the userspace ESP-in-UDP datapath of `node`. */
  espObserver(node: string): EspTap {
    return (dir, local, remote, datagram) => this.observe(node, 'esp', dir, datagram, local, remote, 'udp');
  }

  /** A sink for the Diameter connections of `node` ({@link tapDiameterTransport}). */
  diameterObserver(node: string): WireSink {
    return (dir, bytes, local, remote) => this.observe(node, 'diameter', dir, bytes, local, remote, 'tcp');
  }
}

/** The hub (see the module comment). */
export class WireTap extends WireObservers {
  private readonly now: () => number;
  private readonly max: number;
  private readonly owners = new Map<string, string>();
  private readonly names = new Map<string, string>();
  private readonly kept: WirePacket[] = [];
  private readonly listeners = new Set<(p: WirePacket) => void>();
  private seq = 0;
  private dropped = 0;

  constructor(opts: WireTapOptions = {}) {
    super();
    this.now = opts.now ?? Date.now;
    this.max = opts.maxPackets ?? 100_000;
  }

  /**
   * Declares a socket of `node` as tapped (its traffic is taken from its own observer). With
   * `proto`, only that transport's socket: a UDP and a TCP socket may have the same port number,
   * each its own node's (a UE's SIP port and the HSS's Diameter port, say).
   */
  own(node: string, local: Endpoint, proto?: WireProto): void {
    const k = keyOf(local, proto);
    this.owners.set(k, node);
    if (!this.names.has(k)) this.names.set(k, node);
  }

  /** Gives an endpoint a display name (e.g. the ports of a UE that is not tapped); `proto` as in {@link own}. */
  name(e: Endpoint, name: string, proto?: WireProto): void {
    this.names.set(keyOf(e, proto), name);
  }

  /** The display name of an endpoint, if known: its name on `proto` first, then the one for any transport. */
  nameOf(e: Endpoint, proto?: WireProto): string | undefined {
    const any = this.names.get(keyOf(e, undefined));
    if (proto) return this.names.get(keyOf(e, proto)) ?? any;
    return any ?? this.names.get(keyOf(e, 'udp')) ?? this.names.get(keyOf(e, 'tcp'));
  }

  /** True when the endpoint is a tapped socket of this process (on `proto`, or on any transport). */
  isOwned(e: Endpoint, proto?: WireProto): boolean {
    return this.owners.has(keyOf(e, undefined)) || (proto !== undefined && this.owners.has(keyOf(e, proto)));
  }

  /** One observation by `node` (see the module comment for which copies are kept). */
  observe(node: string, kind: WireKind, dir: 'in' | 'out', bytes: Uint8Array, local: Endpoint, remote: Endpoint, proto: WireProto): void {
    const l = canonicalEndpoint(local);
    const r = canonicalEndpoint(remote);
    this.own(node, l, proto);
    if (dir === 'in' && this.isOwned(r, proto)) return;
    const [from, to] = dir === 'out' ? [l, r] : [r, l];
    this.record(kind, proto, from, to, bytes.slice());
  }

  /**
   * One packet of the trace as it is, `from` and `to` canonical, `bytes` kept as given (no copy):
   * for a merge of other processes' observations (wire-feed.ts), which chose the copy to keep.
   */
  record(kind: WireKind, proto: WireProto, from: Endpoint, to: Endpoint, bytes: Uint8Array, at: number = this.now()): void {
    const p: WirePacket = { seq: ++this.seq, at, kind, proto, from, to, bytes };
    if (this.kept.length < this.max) this.kept.push(p);
    else this.dropped++;
    for (const cb of this.listeners) {
      try {
        cb(p);
      } catch {
        // A listener is a bystander too.
      }
    }
  }

  /** Calls `cb` for every packet from now on; returns the unsubscribe function. */
  onPacket(cb: (p: WirePacket) => void): () => void {
    this.listeners.add(cb);
    return () => void this.listeners.delete(cb);
  }

  /** The packets so far (oldest first). */
  packets(): readonly WirePacket[] {
    return this.kept;
  }

  /** Packets not kept because of `maxPackets`. */
  get overflow(): number {
    return this.dropped;
  }
}

/**
 * Writes packets into a recorder as full IP packets: SIP datagrams as UDP, Diameter and SIP over
 * TCP as TCP byte streams (per-flow sequence numbers, so tshark reassembles), ESP in UDP on the
 * ports it really used (RFC 3948 §2.1).
 */
export function recordPackets(recorder: PcapRecorder, packets: Iterable<WirePacket>): PcapRecorder {
  for (const p of packets) {
    if (p.proto === 'tcp') recorder.tcp(p.from, p.to, p.bytes, { at: p.at });
    else if (p.kind === 'esp') recorder.espInUdp(p.from, p.to, p.bytes, p.at);
    else recorder.udp(p.from, p.to, p.bytes, p.at);
  }
  return recorder;
}
