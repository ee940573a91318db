/**
 * The protected SIP transport of the UE and the P-CSCF (TS 33.203 §7.1, RFC 3948 `mod=UDP-enc-tun`):
 * a {@link SipTransport} whose datagrams travel inside the IPsec SAs of sec-agree instead of a
 * plain socket. Both nodes hand it to B2's `SipStack` and pin it with `Destination.through`.
 *
 * Port discipline (TS 33.203 §7.1, TS 24.229 §5.1.1.2.2 and §5.2.2.1; SPEC R-SA-3), the same
 * at both ends, which is why one class serves both:
 *
 * | message over UDP                 | `client-to-server` (default)      | `server-to-client` (Rel-5 pairing) |
 * |----------------------------------|-----------------------------------|------------------------------------|
 * | a request this node originates   | own port-c → peer's port-s        | own port-c → peer's port-s         |
 * | a response this node sends       | own port-c → peer's port-s        | own port-s → the request's port-c  |
 *
 * The default is the final rule: over UDP every message, request or response, leaves from the
 * sender's protected client port to the receiver's protected server port (TS 24.229 §5.1.1.2.2
 * as TS 34.229-1 tests it; the flow real phones and Kamailio's ims_ipsec_pcscf use, which sends
 * UDP replies from port_pc to port_us). `server-to-client` keeps the Rel-5 reading in which a
 * response retraces its request (the path TCP takes, where a response rides its request's
 * connection); it is there for peers that still expect it. A response leaves on the SAs of the
 * set its request came in on (R-RR-2: a request on the old set is answered on the old set).
 *
 * So requests arrive on port-s and, with the default flow, so do responses. The transport's
 * `local` endpoint is the protected server port: the transport layer writes it into the Via
 * sent-by (TS 24.229 §5.1.1.2/§5.1.1.4: "the protected server port value bound to the security
 * association") and the UE puts it in its Contact.
 *
 * What carries the bytes is a {@link ProtectedCarrier}: C2's userspace `UdpEncapDatapath`
 * (default; it seals and opens ESP-in-UDP and drops and counts anything bad, R-SA-8) or a
 * {@link KernelSocketCarrier} (plain sockets on the protected ports, for the kernel XFRM
 * backend, which applies ESP underneath; it lives beside ipsec/xfrm). Every delivered message carries a {@link Protection}
 * naming the SA that protected it (the P-CSCF needs it for R-SA-4), in the
 * {@link ProtectedInboundMessage} and in the message's own `protection` field (what the stack
 * hands to its handlers is the message).
 *
 * Only UDP: SIP over TCP inside the userspace tunnel is not supported (there is no userspace
 * TCP), so protected SIP is UDP here. Protected ports carry only protected traffic (R-SA-5):
 * anything that is not valid ESP for an installed SA never reaches this class.
 */
import { noopLogger, type Logger } from '../../../common/index.js';
import type { SaManager } from '../../../ipsec/index.js';
import { cseqOf, topVia } from '../../headers/index.js';
import type { SipMessage } from '../../message/index.js';
import { parseMessage } from '../../parser/index.js';
import { canonicalAddress, formatEndpoint, ipFamily } from '../endpoint.js';
import { SipTransportError } from '../errors.js';
import { acceptInbound, handUp, serialize, type InboundLimits, type RequestCheck } from '../inbound.js';
import { MAX_UDP_PAYLOAD } from '../udp.js';
import { newCounters, type Endpoint, type InboundMessage, type SipTransport, type TransportCounters } from '../types.js';
import type { Protection, ResponseFlow } from './flows.js';

/** An {@link InboundMessage} that came through an SA. */
export interface ProtectedInboundMessage extends InboundMessage {
  readonly protection: Protection;
}

/** What a carrier reports with each opened SIP datagram (C2's `UdpEncapMessageInfo` fits). */
export interface CarrierMessageInfo {
  /** Local protected address and port it arrived on. */
  readonly local: Endpoint;
  /** The peer's protected address and port (the inner, authenticated source). */
  readonly remote: Endpoint;
  readonly outer: Endpoint;
  readonly spi: number;
  readonly saId: string;
  readonly setId: number;
  readonly seq: number;
}

/**
 * Moves protected SIP datagrams: `send` protects and sends from a local protected port to the
 * peer's protected port (choosing the SA by that selector), `onMessage` delivers what passed the
 * ESP checks. `UdpEncapDatapath` implements it as is. A carrier has one message handler: the
 * first protected transport attached to it takes it over and shares it with the others.
 */
export interface ProtectedCarrier {
  send(sip: Uint8Array, opts: { fromPort: number; fromAddress?: string; to: Endpoint }): Promise<void>;
  onMessage(handler: (sip: Uint8Array, info: CarrierMessageInfo) => void): void;
  /** Bind a protected port for the carrier's life (port 0: the OS chooses); resolves with it. */
  listen?(address: string, port: number): Promise<number>;
  /**
   * The protected transports on this carrier, set by the first one attached (it takes the
   * carrier's message handler and shares it, {@link CarrierShare}); the carrier leaves it alone.
   */
  share?: CarrierShare;
}

/** Room left in a UDP datagram for ESP header, IV, padding, ICV and the inner IP/UDP headers. */
export const PROTECTED_OVERHEAD = 128;
/** The largest SIP message the protected transport sends (a UDP payload minus ESP overhead). */
export const MAX_PROTECTED_SIP = MAX_UDP_PAYLOAD - PROTECTED_OVERHEAD;

export interface ProtectedTransportOptions {
  /** `UdpEncapDatapath` (userspace ESP-in-UDP) or {@link KernelSocketCarrier} (kernel XFRM). */
  readonly carrier: ProtectedCarrier;
  /** The local protected address (the UE address / P-CSCF address of the SAs). */
  readonly address: string;
  /** The protected server port (port-s): where requests arrive and responses leave from. */
  readonly serverPort: number;
  /**
   * The protected client port (port-c) requests leave from: a number (change it with
   * {@link ProtectedTransport.setClientPort} after an SA change-over), or a function of the
   * destination (e.g. a P-CSCF with a client port per UE).
   */
  readonly clientPort: number | ((to: Endpoint) => number);
  /**
   * The SA table. Every delivered message calls `noteInbound(setId)` (the first message on a
   * new active set ends the change-over, R-RR-2); a response leaves on the ports of the set its
   * request came in on (`get`, `role`).
   */
  readonly saManager?: Pick<SaManager, 'noteInbound' | 'get' | 'role'>;
  /** How UDP responses flow (see the module comment). Default `client-to-server`. */
  readonly responseFlow?: ResponseFlow;
  /** Called for every delivered message (after `saManager.noteInbound`). */
  readonly onProtected?: (m: ProtectedInboundMessage) => void;
  readonly limits?: InboundLimits;
  /** The check every request must pass before it is handed up (default: the transport check). */
  readonly requestCheck?: RequestCheck;
  /** How many request sources are remembered for response routing (default 4096, oldest dropped). */
  readonly routeMemory?: number;
  readonly logger?: Logger;
}

/** Where a remembered request came from: the peer's protected endpoint and the set it used. */
interface Route {
  readonly remote: Endpoint;
  readonly setId: number | undefined;
}

/** The SA that protected a message handed up by a protected transport (its `protection` field); undefined otherwise. */
export function protectionOf(msg: SipMessage): Protection | undefined {
  return msg.protection;
}

/** True when the message came in through a protected transport. */
export function isProtected(msg: SipMessage): boolean {
  return msg.protection !== undefined;
}

/**
 * A SIP transport over the protected ports (see the module comment). It owns no socket: the
 * carrier does; {@link ProtectedTransport.close} detaches it from the carrier, which its owner
 * closes.
 */
export class ProtectedTransport implements SipTransport {
  readonly protocol = 'udp' as const;
  readonly reliable = false;
  readonly family: 4 | 6;
  readonly counters: TransportCounters = newCounters();
  private readonly address: string;
  private serverPort: number;
  private clientPort: number | ((to: Endpoint) => number);
  private readonly usedClientPorts = new Set<number>();
  /** Response routing: request key → where it came from and on which set. */
  private readonly routes = new Map<string, Route>();
  /**
   * The client port each request we sent left from (by branch): its retransmissions (Timer E)
   * leave from the same port, over the same SA, even when the client port moved on meanwhile (a
   * re-registration's protected REGISTER on the new set while a MESSAGE still uses the old one).
   */
  private readonly sentFrom = new Map<string, number>();
  private readonly responseFlow: ResponseFlow;
  private readonly routeMemory: number;
  private handler: ((m: InboundMessage) => void) | undefined;
  private closed = false;
  private readonly log: Logger;

  constructor(private readonly opts: ProtectedTransportOptions) {
    const fam = ipFamily(opts.address);
    if (fam === 0) throw new SipTransportError(`protected transport needs an IP literal, got ${opts.address}`);
    this.family = fam;
    this.address = canonicalAddress(opts.address);
    checkPort(opts.serverPort, 'serverPort');
    if (typeof opts.clientPort === 'number') checkPort(opts.clientPort, 'clientPort');
    this.serverPort = opts.serverPort;
    this.clientPort = opts.clientPort;
    this.routeMemory = opts.routeMemory ?? 4096;
    this.responseFlow = opts.responseFlow ?? 'client-to-server';
    this.log = (opts.logger ?? noopLogger).child({ transport: 'ipsec' });
    (opts.carrier.share ??= new CarrierShare(opts.carrier)).members.add(this);
  }

  /** The protected server endpoint (Via sent-by, Contact). */
  get local(): Endpoint {
    return { address: this.address, port: this.serverPort };
  }

  /** The protected client port requests leave from now (undefined when chosen per destination). */
  get currentClientPort(): number | undefined {
    return typeof this.clientPort === 'number' ? this.clientPort : undefined;
  }

  /** Switch the client port, e.g. to the new port-c after an SA change-over (R-RR-2). */
  setClientPort(port: number | ((to: Endpoint) => number)): void {
    if (typeof port === 'number') checkPort(port, 'clientPort');
    this.clientPort = port;
  }

  /** Switch the server port (a new registration with a new port-s). */
  setServerPort(port: number): void {
    checkPort(port, 'serverPort');
    this.serverPort = port;
  }

  /** Whether a message that arrived on this local endpoint is ours (carrier sharing). */
  owns(local: Endpoint): boolean {
    if (canonicalAddress(local.address) !== this.address) return false;
    return local.port === this.serverPort || local.port === this.currentClientPort || this.usedClientPorts.has(local.port);
  }

  onMessage(handler: (m: InboundMessage) => void): void {
    this.handler = handler;
  }

  /**
   * TS 33.203 §7.1, TS 24.229 §5.1.1.2.2: a request leaves from the client port to `dest` (the
   * peer's port-s); a response leaves on the set its request came in on, from that set's local
   * port-c to the peer's port-s (`client-to-server`), or from the local port-s back to the
   * request's source (`server-to-client`). A response whose request is not remembered goes by
   * `dest` (the Via route). Rejects with SipTransportError (no SA, oversized, closed).
   */
  async send(data: SipMessage | Uint8Array, dest: Endpoint): Promise<void> {
    if (this.closed) throw new SipTransportError('transport closed', dest);
    const bytes = data instanceof Uint8Array ? data : serialize(data);
    if (bytes.length > MAX_PROTECTED_SIP) {
      this.counters.sendErrors++;
      throw new SipTransportError(`message of ${bytes.length} bytes does not fit a protected UDP datagram`, dest);
    }
    const msg = data instanceof Uint8Array ? tryParse(data) : data;
    const { fromPort, to } = msg?.kind === 'response' ? this.responsePath(msg, dest) : this.requestPath(dest, msg);
    try {
      await this.opts.carrier.send(bytes, { fromPort, fromAddress: this.address, to });
    } catch (err) {
      this.counters.sendErrors++;
      if (err instanceof SipTransportError) throw err;
      throw new SipTransportError(`protected send from port ${fromPort} to ${formatEndpoint(to)} failed: ${(err as Error)?.message ?? String(err)}`, to, { cause: err });
    }
    this.counters.sent++;
    this.log.debug({ fromPort, to: formatEndpoint(to), bytes: bytes.length }, 'protected SIP sent');
  }

  private requestPath(dest: Endpoint, msg?: SipMessage): { fromPort: number; to: Endpoint } {
    const to: Endpoint = { address: canonicalAddress(dest.address), port: dest.port };
    const k = msg === undefined ? undefined : routeKey(msg);
    let fromPort = k === undefined ? undefined : this.sentFrom.get(k);
    // R-SA-5: a retransmission leaves only while the peer still has an SA set; with kernel ESP a
    // datagram no SA covers would leave in the clear (the choice throws when there is none).
    if (fromPort !== undefined && typeof this.clientPort === 'function') this.clientPort(to);
    if (fromPort === undefined) {
      fromPort = typeof this.clientPort === 'number' ? this.clientPort : this.clientPort(to);
      checkPort(fromPort, 'clientPort');
      if (k !== undefined) {
        this.sentFrom.set(k, fromPort);
        if (this.sentFrom.size > this.routeMemory) this.sentFrom.delete(this.sentFrom.keys().next().value as string);
      }
    }
    this.usedClientPorts.add(fromPort);
    return { fromPort, to };
  }

  private responsePath(msg: SipMessage, dest: Endpoint): { fromPort: number; to: Endpoint } {
    const k = routeKey(msg);
    const back = k === undefined ? undefined : this.routes.get(k);
    const sm = this.opts.saManager;
    const set = back?.setId === undefined || !sm ? undefined : sm.get(back.setId);
    if (set) {
      const local = sm!.role === 'ue' ? set.ue : set.pcscf;
      const peer = sm!.role === 'ue' ? set.pcscf : set.ue;
      if (this.responseFlow === 'client-to-server') return { fromPort: local.portC, to: { address: canonicalAddress(peer.address), port: peer.portS } };
      return { fromPort: local.portS, to: back!.remote };
    }
    if (this.responseFlow === 'client-to-server') return this.requestPath(dest);
    return { fromPort: this.serverPort, to: back?.remote ?? { address: canonicalAddress(dest.address), port: dest.port } };
  }

  /** Detach from the carrier; the carrier itself stays open (its owner closes it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.routes.clear();
    this.sentFrom.clear();
    this.opts.carrier.share?.members.delete(this);
  }

  /** @internal A datagram the carrier opened for one of our local endpoints. */
  receive(bytes: Uint8Array, info: CarrierMessageInfo): void {
    if (this.closed) return;
    const remote: Endpoint = { address: canonicalAddress(info.remote.address), port: info.remote.port };
    const local: Endpoint = { address: canonicalAddress(info.local.address), port: info.local.port };
    const r = acceptInbound(bytes, { protocol: 'udp', local, remote }, this.opts.limits, this.opts.requestCheck);
    switch (r.kind) {
      case 'keepalive':
        return;
      case 'drop':
        this.counters.dropped[r.reason]++;
        this.log.debug({ reason: r.reason, remote: formatEndpoint(remote), spi: info.spi }, 'protected datagram dropped');
        return;
      case 'reject':
        // Answer on the SA path: back to the protected port the request came from.
        this.counters.rejected++;
        this.remember(r.response, remote, info.setId);
        this.send(r.response, remote).catch(() => undefined);
        return;
      case 'message':
        break;
    }
    const msg = r.msg;
    if (msg.kind === 'request' && msg.method !== 'ACK') this.remember(msg, remote, info.setId);
    const protection: Protection = { spi: info.spi, saId: info.saId, setId: info.setId, seq: info.seq, outer: info.outer };
    msg.protection = protection;
    this.counters.received++;
    const m: ProtectedInboundMessage = { msg, transport: 'udp', local, remote, receivedOn: this, protection };
    try {
      this.opts.saManager?.noteInbound(info.setId);
      this.opts.onProtected?.(m);
    } catch (err) {
      this.log.warn({ err: (err as Error)?.message }, 'protected-inbound hook threw');
    }
    handUp(this.handler, m, this.counters, this.log);
  }

  private remember(msg: SipMessage, from: Endpoint, setId: number | undefined): void {
    const k = routeKey(msg);
    if (k === undefined) return;
    this.routes.delete(k);
    this.routes.set(k, { remote: from, setId });
    if (this.routes.size > this.routeMemory) this.routes.delete(this.routes.keys().next().value as string);
  }
}

/** The request a message belongs to: top Via branch, sent-by and CSeq method (RFC 3261 §17.2.3). */
function routeKey(msg: SipMessage): string | undefined {
  try {
    const v = topVia(msg);
    const branch = v?.params.get('branch');
    if (!v || typeof branch !== 'string' || branch === '') return undefined;
    const method = msg.kind === 'request' ? msg.method : cseqOf(msg)?.method;
    return `${branch}|${v.host}|${v.port ?? ''}|${method ?? ''}`;
  } catch {
    return undefined;
  }
}

function tryParse(bytes: Uint8Array): SipMessage | undefined {
  try {
    return parseMessage(bytes);
  } catch {
    return undefined;
  }
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SipTransportError(`${what} must be 1..65535, got ${port}`);
}

// ---- carrier sharing: one message handler per carrier, dispatched by local endpoint ----

/** The protected transports sharing one carrier: its single message handler dispatches among them. */
export class CarrierShare {
  readonly members = new Set<ProtectedTransport>();

  constructor(carrier: ProtectedCarrier) {
    carrier.onMessage((sip, info) => this.dispatch(sip, info));
  }

  private dispatch(sip: Uint8Array, info: CarrierMessageInfo): void {
    let only: ProtectedTransport | undefined;
    for (const t of this.members) {
      if (t.owns(info.local)) return t.receive(sip, info);
      only = only === undefined ? t : undefined;
    }
    // A single transport on the carrier takes everything (e.g. a port-c of an older SA set).
    if (this.members.size === 1 && only) only.receive(sip, info);
  }
}

/** Narrowing helper for handlers that only see an `InboundMessage`. */
export function isProtectedInbound(m: InboundMessage): m is ProtectedInboundMessage {
  return (m as Partial<ProtectedInboundMessage>).protection !== undefined;
}
