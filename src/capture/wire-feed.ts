/**
 * One trace of a core whose nodes run as processes of their own (`imsec core --processes --web`).
 * Each node process taps its legs as `imsec core` taps them in one process (the SIP transports,
 * the Diameter connections, the P-CSCF's ESP datapath) and sends every observation to the parent
 * ({@link WireRelay}); the parent joins them into one {@link WireTap} ({@link WireMerge}).
 *
 * In one process the sender's copy of a packet between two tapped nodes is kept and the
 * receiver's dropped. Across processes the copies arrive over separate channels, so the sender's
 * may come after packets the receiver sent in answer. The merge keeps the copy that arrives
 * first and drops the other. That keeps cause before effect: a node reports what it received
 * before what it sent because of it, over one ordered channel, so the request has been recorded
 * (from either end's copy) before any copy of the answer can arrive. A packet only one end
 * reports (from a UE, which is not tapped) is kept before what it caused at other nodes because a
 * node writes its reports to its channel before it sends anything (cli/console-feed.ts).
 * - A datagram (UDP: SIP, ESP in UDP) is one packet at both ends: the second copy is the same
 *   bytes between the same ends, and is dropped once.
 * - A TCP stream (Diameter, SIP over TCP) is cut into chunks differently by the writer and the
 *   reader, but both see the same bytes in the same order: each end's count of bytes so far places
 *   its chunk in the stream, and only the part past what is recorded is added.
 * Pure bookkeeping: the channel is the caller's (a `send` function, a `receive` call).
 */
import type { Endpoint } from '../ip/index.js';
import { canonicalEndpoint, endpointId, WireObservers, type WireKind, type WireTap } from './tap-wire.js';

type Proto = 'udp' | 'tcp';

/** What a node process sends for its wire (structured-clone data). */
export type WireFeedMessage =
  | { readonly t: 'own'; readonly node: string; readonly local: Endpoint; readonly proto?: Proto }
  | {
      readonly t: 'wire';
      readonly node: string;
      readonly kind: WireKind;
      readonly dir: 'in' | 'out';
      readonly proto: Proto;
      readonly local: Endpoint;
      readonly remote: Endpoint;
      readonly bytes: Uint8Array;
      /** When the node observed it (ms since the epoch). */
      readonly at: number;
    };

/** What declares a node's sockets (a {@link WireTap} in one process, a {@link WireRelay} in a node process). */
export interface WireOwner {
  own(node: string, local: Endpoint, proto?: Proto): void;
}

/** The node process's side: the observers of {@link WireTap}, each observation sent as a {@link WireFeedMessage}. */
export class WireRelay extends WireObservers implements WireOwner {
  constructor(
    private readonly send: (m: WireFeedMessage) => void,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  own(node: string, local: Endpoint, proto?: Proto): void {
    this.send({ t: 'own', node, local: { address: local.address, port: local.port }, ...(proto ? { proto } : {}) });
  }

  observe(node: string, kind: WireKind, dir: 'in' | 'out', bytes: Uint8Array, local: Endpoint, remote: Endpoint, proto: Proto): void {
    // A copy of its own: the observed bytes may be a view into a larger buffer, which a
    // structured clone would carry whole, and which the socket reuses.
    this.send({ t: 'wire', node, kind, dir, proto, local: { address: local.address, port: local.port }, remote: { address: remote.address, port: remote.port }, bytes: bytes.slice(), at: this.now() });
  }
}

/** Bytes recorded of one direction of a TCP connection, and how far each end has reported. */
interface Stream {
  recorded: number;
  in: number;
  out: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** FNV-1a over the bytes: datagrams awaited between the same ends are found by it, not by a scan. */
function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/** The parent's side (see the module comment). */
export class WireMerge {
  /** Datagrams recorded from one end whose other end is tapped too (by ends, length and hash): its copy is still to come. */
  private readonly expected = new Map<string, Uint8Array[]>();
  private expectedCount = 0;
  private readonly streams = new Map<string, Stream>();

  /**
   * `maxExpected`: datagrams waiting for their second copy, forgotten oldest first past this (one
   * the other end never reported: a datagram its socket dropped, or a report its channel dropped).
   * One still to come when forgotten is recorded twice, and the copies after it may be too until
   * the channels catch up: the bound is set well above what one channel lags the other at the
   * rates a console is for (the default holds about 13 s of a core at 400 registrations/s, 12
   * datagrams between its nodes each). `maxStreams`: TCP directions followed (oldest forgotten
   * first).
   */
  constructor(
    private readonly tap: WireTap,
    private readonly maxExpected = 65_536,
    private readonly maxStreams = 4096,
  ) {}

  /** One message from a node process; anything else is ignored. */
  receive(m: WireFeedMessage): void {
    if (m.t === 'own') this.tap.own(m.node, canonicalEndpoint(m.local), m.proto);
    else if (m.t === 'wire') this.observe(m);
  }

  private observe(m: Extract<WireFeedMessage, { t: 'wire' }>): void {
    const local = canonicalEndpoint(m.local);
    const remote = canonicalEndpoint(m.remote);
    this.tap.own(m.node, local, m.proto);
    const [from, to] = m.dir === 'out' ? [local, remote] : [remote, local];
    const flow = `${m.kind}|${endpointId(from)}>${endpointId(to)}`;
    if (m.proto === 'tcp') return this.streamChunk(m, flow, from, to);
    const key = `${flow}|${m.bytes.length}|${fnv1a(m.bytes)}`;
    if (this.secondCopy(key, m.bytes)) return;
    if (this.tap.isOwned(remote, 'udp')) this.expect(key, m.bytes);
    this.tap.record(m.kind, 'udp', from, to, m.bytes, m.at);
  }

  /** Whether `bytes` is the copy still expected of a datagram of `key` (its ends, length and hash); then it is expected no more. */
  private secondCopy(key: string, bytes: Uint8Array): boolean {
    const list = this.expected.get(key);
    const i = list?.findIndex((b) => sameBytes(b, bytes)) ?? -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    if (list!.length === 0) this.expected.delete(key);
    this.expectedCount--;
    return true;
  }

  private expect(key: string, bytes: Uint8Array): void {
    if (this.expectedCount >= this.maxExpected) {
      const [oldKey, oldList] = this.expected.entries().next().value as [string, Uint8Array[]];
      oldList.shift();
      if (oldList.length === 0) this.expected.delete(oldKey);
      this.expectedCount--;
    }
    const list = this.expected.get(key);
    if (list) list.push(bytes);
    else this.expected.set(key, [bytes]);
    this.expectedCount++;
  }

  private streamChunk(m: Extract<WireFeedMessage, { t: 'wire' }>, flow: string, from: Endpoint, to: Endpoint): void {
    let s = this.streams.get(flow);
    if (s === undefined) {
      if (this.streams.size >= this.maxStreams) this.streams.delete(this.streams.keys().next().value as string);
      s = { recorded: 0, in: 0, out: 0 };
      this.streams.set(flow, s);
    }
    const start = s[m.dir];
    const end = start + m.bytes.length;
    s[m.dir] = end;
    if (end <= s.recorded) return;
    const bytes = start >= s.recorded ? m.bytes : m.bytes.subarray(s.recorded - start);
    s.recorded = end;
    this.tap.record(m.kind, 'tcp', from, to, bytes, m.at);
  }
}
