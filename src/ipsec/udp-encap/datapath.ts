/**
 * Userspace IPsec datapath (default): RFC 3948 UDP-encapsulated ESP in tunnel mode between the
 * protected ports, TS 33.203 `mod=UDP-enc-tun`. Needs no privileges and runs on any OS. The I/O
 * edge of the SA layer: it binds the local protected UDP ports (node:dgram) of the SAs it is
 * given, seals outgoing SIP datagrams with the outbound SA chosen by selector, and opens
 * incoming ones with the inbound SA found by SPI. A datagram that fails (ICV, replay, selector,
 * ...) is dropped and counted, never thrown (R-SA-8).
 *
 * SIP over TCP is not carried here (only the inner UDP of RFC 3948 tunnel mode).
 */
import type { RemoteInfo } from 'node:dgram';
import { ImsError, bucketPut, bucketValues, cryptoRng, joinedKey, type Bucket, type Rng } from '../../common/index.js';
import { ipVersionOf, type Endpoint } from '../../ip/index.js';
import { UdpPortPool } from '../port-pool.js';
import { EspSa, decodeEspHeader, isUdpEncapsulatedEsp } from '../esp/index.js';
import type { IpsecDatapath } from '../sa/datapath.js';
import { SaError } from '../sa/errors.js';
import { Counted } from '../sa/table-index.js';
import type { SaState, SecurityAssociation } from '../sa/types.js';
import { canonicalIp, decapsulate, encapsulate, type UdpEncapDropReason } from './encap.js';

/** Where a delivered SIP datagram came from and which SA protected it. */
export interface UdpEncapMessageInfo {
  /** Local protected address and port it arrived on. */
  local: Endpoint;
  /** Sender per the inner (authenticated) packet: the peer's protected address and port. */
  remote: Endpoint;
  /** Outer UDP source (differs from `remote` behind a NAT). */
  outer: Endpoint;
  spi: number;
  saId: string;
  setId: number;
  seq: number;
}

export interface UdpEncapCounters {
  received: number;
  delivered: number;
  sent: number;
  /** UDP payload bytes (the whole ESP packet) received and sent, for the metrics. */
  bytesReceived: number;
  bytesSent: number;
  dropped: Record<UdpEncapDropReason, number>;
}

export interface UdpEncapSendOptions {
  /** Local protected port to send from (the SA's source port). */
  fromPort: number;
  /** Local address, when several are in use. */
  fromAddress?: string;
  /** The peer's protected address and port. */
  to: Endpoint;
}

export interface UdpEncapOptions {
  /** IVs (aes-cbc, des-ede3-cbc). Default: the crypto RNG. */
  rng?: Rng;
  /** Anti-replay window per inbound SA (RFC 4303 §3.4.3). Default 64. */
  replayWindow?: number;
  onMessage?: (sip: Uint8Array, info: UdpEncapMessageInfo) => void;
  /** Observes each drop (already counted). */
  onDrop?: (reason: UdpEncapDropReason, at: { local: Endpoint; from: Endpoint; spi?: number }) => void;
  /**
   * Sees every ESP datagram as it is sent or received (before any check), e.g. to record a pcap
   * that Wireshark decrypts with the exported keys. It must not keep or alter the bytes.
   */
  tap?: (direction: 'in' | 'out', local: Endpoint, remote: Endpoint, datagram: Uint8Array) => void;
  /**
   * Bind each local protected port once on the wildcard address (0.0.0.0 / ::) instead of on
   * each SA's address: many local addresses (a swarm of UEs on 127.0.0.0/8) share one socket
   * per port number, and a received packet is told apart by SPI (RFC 4303 §3.4.2), its inner
   * (authenticated) destination checked against the SA. The outer source of what is sent is then
   * the host's own address, as behind a NAT (RFC 3948 §3.1); the inner packet carries the SA's.
   * Default false.
   */
  anyAddress?: boolean;
}

/**
 * An installed SA: its ESP state (RFC 4303), the table's SA and its selector with addresses in
 * canonical form. One object per SA, the ESP state included (a P-CSCF holds four per UE).
 */
class Entry extends EspSa {
  constructor(
    readonly sa: SecurityAssociation,
    readonly src: Endpoint,
    readonly dst: Endpoint,
    replayWindow: number,
  ) {
    super({ spi: sa.spi, integrity: sa.integrity, encryption: sa.encryption, keys: sa.keys, replayWindow });
  }
}

const STATE_RANK: Record<SaState, number> = { active: 3, old: 2, temporary: 1, deleted: 0 };

/** Outbound selector key `local address|local port|peer address|peer port`. */
function selectorKey(fromAddress: string, fromPort: number, to: Endpoint): string {
  return joinedKey(fromAddress, fromPort, to.address, to.port);
}

/** The endpoint with its address in canonical form (the SA's own object when it already is: nothing per SA to keep). */
function norm(e: Endpoint): Endpoint {
  const address = canonicalIp(e.address);
  return address === e.address ? e : { address, port: e.port };
}

function same(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && a.address === b.address;
}

export class UdpEncapDatapath implements IpsecDatapath {
  readonly name = 'udp-encap';
  readonly counters: UdpEncapCounters = {
    received: 0,
    delivered: 0,
    sent: 0,
    bytesReceived: 0,
    bytesSent: 0,
    dropped: { 'not-esp': 0, 'no-sa': 0, malformed: 0, spi: 0, icv: 0, replay: 0, inner: 0, selector: 0 },
  };
  private readonly rng: Rng;
  private readonly replayWindow: number;
  private messageHandler?: (sip: Uint8Array, info: UdpEncapMessageInfo) => void;
  private readonly dropHandler?: UdpEncapOptions['onDrop'];
  private readonly tap?: UdpEncapOptions['tap'];
  private readonly inbound = new Map<number, Entry>();
  /**
   * Outbound entries by selector: local address and port, peer address and port. A swarm of UEs
   * on many addresses reuses port numbers, and a send that names its address looks at that
   * address's SAs only. The one index of the outbound SAs: an SA is found again by its own
   * selector (no second map of every SA by id).
   */
  private readonly bySelector = new Map<string, Bucket<Entry>>();
  /**
   * The local addresses of the outbound entries, each with its count. A send that names no address
   * looks under each (a P-CSCF has one): one key per SA, not a second map of every SA by port.
   */
  private readonly localAddresses = new Counted<string>();
  private readonly anyAddress: boolean;
  private readonly ports = new UdpPortPool((local, msg, rinfo) => this.receive(local, msg, rinfo));

  constructor(opts: UdpEncapOptions = {}) {
    this.rng = opts.rng ?? cryptoRng;
    this.replayWindow = opts.replayWindow ?? 64;
    this.messageHandler = opts.onMessage;
    this.dropHandler = opts.onDrop;
    this.tap = opts.tap;
    this.anyAddress = opts.anyAddress ?? false;
  }

  /** Set the handler of delivered SIP datagrams. */
  onMessage(handler: (sip: Uint8Array, info: UdpEncapMessageInfo) => void): void {
    this.messageHandler = handler;
  }

  /** Local endpoints with a bound socket. */
  boundEndpoints(): Endpoint[] {
    return this.ports.endpoints();
  }

  /** The ESP state of an installed SA (counters, replay window), for diagnostics. */
  espOf(sa: SecurityAssociation): EspSa | undefined {
    return sa.direction === 'in' ? this.inbound.get(sa.spi) : this.outboundOf(sa);
  }

  async install(sa: SecurityAssociation): Promise<void> {
    if (sa.mode !== 'UDP-enc-tun') throw new SaError(`the userspace datapath carries mod=UDP-enc-tun only, not mod=${sa.mode}`);
    if (sa.direction === 'in' ? this.inbound.has(sa.spi) : this.outboundOf(sa)) return;
    const entry = new Entry(sa, norm(sa.src), norm(sa.dst), this.replayWindow);
    const local = sa.direction === 'in' ? entry.dst : entry.src;
    if (sa.direction === 'in') this.inbound.set(sa.spi, entry);
    else this.addOutbound(entry);
    try {
      await this.ports.bind(this.bindingOf(local));
    } catch (e) {
      if (sa.direction === 'in') this.inbound.delete(sa.spi);
      else this.removeOutbound(entry);
      throw e;
    }
  }

  /** The installed outbound entry of `sa` (by its id), under its selector. */
  private outboundOf(sa: SecurityAssociation): Entry | undefined {
    const src = norm(sa.src);
    for (const e of bucketValues(this.bySelector, selectorKey(src.address, src.port, norm(sa.dst)))) if (e.sa.id === sa.id) return e;
    return undefined;
  }

  private addOutbound(e: Entry): void {
    bucketPut(this.bySelector, selectorKey(e.src.address, e.src.port, e.dst), e, true);
    this.localAddresses.count(e.src.address, true);
  }

  private removeOutbound(e: Entry): void {
    bucketPut(this.bySelector, selectorKey(e.src.address, e.src.port, e.dst), e, false);
    this.localAddresses.count(e.src.address, false);
  }

  /** The endpoint a local protected endpoint's socket is bound to (see `anyAddress`). */
  private bindingOf(local: Endpoint): Endpoint {
    if (!this.anyAddress) return local;
    return { address: ipVersionOf(local.address) === 6 ? '::' : '0.0.0.0', port: local.port };
  }

  async remove(sa: SecurityAssociation): Promise<void> {
    const entry = sa.direction === 'in' ? this.inbound.get(sa.spi) : this.outboundOf(sa);
    if (!entry || entry.sa.id !== sa.id) return;
    if (sa.direction === 'in') this.inbound.delete(sa.spi);
    else this.removeOutbound(entry);
    await this.ports.unbind(this.bindingOf(sa.direction === 'in' ? entry.dst : entry.src));
  }

  async close(): Promise<void> {
    this.inbound.clear();
    this.bySelector.clear();
    this.localAddresses.clear();
    await this.ports.close();
  }

  /**
   * Seal and send one SIP datagram on the outbound SA whose selector is
   * (local fromPort → to), from `fromAddress` or, when it names none, from any local address;
   * among several (change-over), the best state, then the newest set.
   * Throws {@link SaError} (IPSEC_SA) when there is no such SA.
   */
  async send(sip: Uint8Array, opts: UdpEncapSendOptions): Promise<void> {
    const to = norm(opts.to);
    let best: Entry | undefined;
    if (opts.fromAddress !== undefined) best = this.bestOutbound(canonicalIp(opts.fromAddress), opts.fromPort, to, undefined);
    else for (const a of this.localAddresses.keys()) best = this.bestOutbound(a, opts.fromPort, to, best);
    if (!best) throw new SaError(`no outbound SA from port ${opts.fromPort} to ${to.address}:${to.port}`);
    const socket = await this.ports.socketOf(this.bindingOf(best.src));
    if (!socket) throw new SaError(`protected port ${best.src.port} is not bound`);
    const packet = encapsulate(best, best.src, best.dst, sip, this.rng);
    this.tap?.('out', best.src, best.dst, packet);
    await new Promise<void>((resolve, reject) =>
      socket.send(packet, best.dst.port, best.dst.address, (err) => (err ? reject(new ImsError('SIP_TRANSPORT', `send to ${to.address}:${to.port} failed: ${err.message}`)) : resolve())),
    );
    this.counters.sent++;
    this.counters.bytesSent += packet.length;
  }

  /** `best`, or a better outbound entry of the selector (local address and port → to). */
  private bestOutbound(fromAddress: string, fromPort: number, to: Endpoint, best: Entry | undefined): Entry | undefined {
    for (const e of bucketValues(this.bySelector, selectorKey(fromAddress, fromPort, to))) {
      if (!best || STATE_RANK[e.sa.state] > STATE_RANK[best.sa.state] || (e.sa.state === best.sa.state && e.sa.setId > best.sa.setId)) best = e;
    }
    return best;
  }

  /**
   * Bind a local protected endpoint whatever SAs come and go, until {@link release} or close (a
   * P-CSCF's port_ps and port_pc pool; a UE's chosen ports until their SAs exist;
   * {@link UdpPortPool.listen}). Port 0 lets the OS choose.
   */
  listen(address: string, port: number): Promise<number> {
    return this.ports.listen(canonicalIp(address), port);
  }

  /** Lets go of one {@link listen} of a local endpoint; the socket stays while an SA uses it. */
  release(address: string, port: number): Promise<void> {
    return this.ports.unbind({ address: canonicalIp(address), port });
  }

  /**
   * Send a datagram exactly as given from a bound local protected endpoint (diagnostics, probes
   * and tests: a captured ESP packet sent again must meet the peer's anti-replay window).
   */
  async sendRaw(from: Endpoint, datagram: Uint8Array, to: Endpoint): Promise<void> {
    const socket = await this.ports.socketOf(this.bindingOf(norm(from)));
    if (!socket) throw new SaError(`protected port ${from.port} is not bound`);
    await new Promise<void>((resolve, reject) => socket.send(datagram, to.port, to.address, (err) => (err ? reject(new ImsError('SIP_TRANSPORT', `send to ${to.address}:${to.port} failed: ${err.message}`)) : resolve())));
  }

  private drop(reason: UdpEncapDropReason, local: Endpoint, from: Endpoint, spi?: number): void {
    this.counters.dropped[reason]++;
    this.dropHandler?.(reason, { local, from, spi });
  }

  /** RFC 3948 §3.2 + RFC 4303 §3.4 + RFC 4301 §5.2: one received datagram. */
  private receive(local: Endpoint, msg: Buffer, rinfo: RemoteInfo): void {
    this.counters.received++;
    this.counters.bytesReceived += msg.byteLength;
    const outer: Endpoint = { address: rinfo.address, port: rinfo.port };
    const packet = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
    this.tap?.('in', local, outer, packet);
    // 1. ESP, not a keepalive or an IKE packet.
    if (!isUdpEncapsulatedEsp(packet)) return this.drop('not-esp', local, outer);
    // 2. The inbound SA by SPI, and it must belong to this local address and port.
    const { spi } = decodeEspHeader(packet);
    const entry = this.inbound.get(spi);
    if (!entry || (this.anyAddress ? entry.dst.port !== local.port : !same(entry.dst, local))) return this.drop('no-sa', local, outer, spi);
    // 3. Replay pre-check, ICV, window update, decryption (EspSa.open), inner IP + UDP.
    const r = decapsulate(entry, packet);
    if (!r.ok) return this.drop(r.reason, local, outer, spi);
    // 4. The inner packet must match the SA's selector.
    if (!same(r.src, entry.src) || !same(r.dst, entry.dst)) return this.drop('selector', local, outer, spi);
    this.counters.delivered++;
    this.messageHandler?.(r.payload, { local: entry.dst, remote: r.src, outer, spi, saId: entry.sa.id, setId: entry.sa.setId, seq: r.seq });
  }
}
