/**
 * The transport contract (RFC 3261 §18). A {@link SipTransport} moves whole SIP messages over one
 * socket-like channel and hands every message up with the addresses it travelled between — the
 * P-CSCF binds IPsec SAs to exactly these (TS 33.203 §7.1). UDP and TCP implement it here; a
 * userspace ESP transport for the protected ports can implement it too, and the transaction layer
 * and the stack will not notice.
 */
import type { SipMessage } from '../message/index.js';

/** The SIP transport names this stack speaks (the Via `sent-protocol` transport, lower-cased). */
export type TransportProtocol = 'udp' | 'tcp';

/** An IP address (v4 dotted or v6 without brackets) and a port. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** Where a request goes: an endpoint, the transport to use, and optionally a pinned transport instance. */
export interface Destination extends Endpoint {
  /** Defaults to 'udp' (RFC 3263 §4.1 default for a sip: URI without transport parameter). */
  readonly transport?: TransportProtocol;
  /** Send through exactly this transport (e.g. an IPsec-protected port); skips selection and the size rule. */
  readonly through?: SipTransport;
}

/** One received message with its transport context (the `{msg, transport, local, remote}` of the stack's contract). */
export interface InboundMessage {
  readonly msg: SipMessage;
  readonly transport: TransportProtocol;
  /** The local address and port the message arrived on. */
  readonly local: Endpoint;
  /** The source address and port of the packet (the TCP peer, for a connection). */
  readonly remote: Endpoint;
  /** The transport instance it arrived on; responses to a request go back through it (§18.2.2). */
  readonly receivedOn: SipTransport;
}

/** Why a transport dropped input. Counted per reason; nothing ever escapes as an exception. */
export type DropReason =
  /** The bytes are not a SIP message (SipParseError). */
  | 'parse'
  /** A size or count limit was hit (SipLimitError): endless header, too many headers, huge body. */
  | 'limit'
  /** A response whose top Via sent-by is not ours (RFC 3261 §18.1.2). */
  | 'sentBy'
  /** A response or ACK with no transaction and nobody to hand it to. */
  | 'unmatched'
  /** A request so broken we must not even answer it (an ACK or a response failing the checks). */
  | 'invalid';

/** Live counters of a transport (or of the whole transport layer). */
export interface TransportCounters {
  /** Messages handed up. */
  received: number;
  /** Messages (or raw buffers) sent. */
  sent: number;
  /** Send attempts that failed. */
  sendErrors: number;
  /** Requests answered with an error response by the transport itself (RFC 4475 intent). */
  rejected: number;
  dropped: Record<DropReason, number>;
  /** TCP: connections accepted or opened, and connections we closed because the peer misbehaved. */
  connectionsOpened: number;
  connectionsClosed: number;
  disconnectedForGarbage: number;
  /** TCP hygiene: connections refused at a cap, closed idle, closed with a message still incomplete. */
  connectionsRefused: number;
  idleClosed: number;
  partialClosed: number;
}

export function newCounters(): TransportCounters {
  return {
    received: 0,
    sent: 0,
    sendErrors: 0,
    rejected: 0,
    dropped: { parse: 0, limit: 0, sentBy: 0, unmatched: 0, invalid: 0 },
    connectionsOpened: 0,
    connectionsClosed: 0,
    disconnectedForGarbage: 0,
    connectionsRefused: 0,
    idleClosed: 0,
    partialClosed: 0,
  };
}

/** Options for {@link SipTransport.send}. */
export interface SendOptions {
  /** Reliable transports: only use an existing connection, never open one (RFC 3261 §18.2.2 first try). */
  readonly existingOnly?: boolean;
}

/**
 * A SIP transport (RFC 3261 §18): one local address, whole messages in and out. Implementations
 * create their sockets themselves and never throw from socket events: garbage is counted and
 * dropped (or answered, see {@link InboundMessage}).
 */
export interface SipTransport {
  readonly protocol: TransportProtocol;
  /** True for connection-oriented, congestion-controlled transports (TCP): no retransmissions. */
  readonly reliable: boolean;
  /** The bound local address and port (after binding port 0, the port the OS chose). */
  readonly local: Endpoint;
  readonly family: 4 | 6;
  readonly counters: TransportCounters;
  /** Sends a message (serialized here) or ready bytes. Rejects with SipTransportError. */
  send(data: SipMessage | Uint8Array, dest: Endpoint, opts?: SendOptions): Promise<void>;
  /** Installs the single receiver of inbound messages. */
  onMessage(handler: (m: InboundMessage) => void): void;
  close(): Promise<void>;
}

/**
 * Sees every datagram (UDP) or stream chunk (TCP) a transport sends or receives, with the real
 * local and remote addresses, before any parsing: e.g. to record a pcap of every leg. It must not
 * keep or alter the bytes, and what it throws is ignored. Unset, it costs nothing.
 */
export type WireObserver = (dir: 'in' | 'out', bytes: Uint8Array, local: Endpoint, remote: Endpoint, proto: TransportProtocol) => void;

/** Calls an observer, never letting it disturb the transport. */
export function observeWire(o: WireObserver | undefined, dir: 'in' | 'out', bytes: Uint8Array, local: Endpoint, remote: Endpoint, proto: TransportProtocol): void {
  if (!o) return;
  try {
    o(dir, bytes, local, remote, proto);
  } catch {
    // An observer is a bystander: its failure must not change what the transport does.
  }
}
