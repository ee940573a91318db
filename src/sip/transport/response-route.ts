/**
 * Where a response goes: RFC 3261 §18.2.2 with RFC 3581 §4 (symmetric response routing).
 * Pure: takes the top Via of the request and the address the request came from.
 */
import { stripBrackets } from './endpoint.js';
import type { Endpoint, TransportProtocol } from './types.js';

/** The parts of a Via header field value that route a response. */
export interface ViaRoute {
  /** The sent-protocol transport, e.g. `UDP`. */
  readonly transport: string;
  readonly host: string;
  readonly port?: number;
  readonly received?: string;
  /** RFC 3581: the port filled in by the server (a bare `rport` has no number yet). */
  readonly rport?: number;
  readonly maddr?: string;
}

/** RFC 3261 §18.2.2 / §19.1.2: the port a Via names when it names none. */
export function defaultPort(transport: string): number {
  return transport.toUpperCase() === 'TLS' ? 5061 : 5060;
}

/** A response route: first try the request's connection (reliable transports), else this endpoint. */
export interface ResponseRoute {
  /** Reliable transports: reuse the connection the request arrived on (§18.2.2, first rule). */
  readonly connection?: Endpoint;
  /** Where to send (or connect to) otherwise. */
  readonly destination: Endpoint;
}

/**
 * RFC 3261 §18.2.2 + RFC 3581 §4:
 * 1. Reliable transport: send on the connection the request came in on; if it is gone, connect to
 *    `received` (or the sent-by host) at the sent-by port (default 5060/5061).
 * 2. `maddr` present: send to it, at the sent-by port (default 5060).
 * 3. Unreliable with `received`: send to the received address, at the `rport` port when the
 *    client asked for symmetric routing, else the sent-by port (default 5060).
 * 4. Otherwise: the sent-by host and port.
 */
export function responseRoute(via: ViaRoute, protocol: TransportProtocol, source: Endpoint): ResponseRoute {
  const sentByPort = via.port ?? defaultPort(via.transport);
  if (protocol === 'tcp') {
    return { connection: source, destination: { address: stripBrackets(via.received ?? via.host), port: sentByPort } };
  }
  if (via.maddr) return { destination: { address: stripBrackets(via.maddr), port: sentByPort } };
  if (via.received !== undefined) {
    return { destination: { address: stripBrackets(via.received), port: via.rport ?? sentByPort } };
  }
  return { destination: { address: stripBrackets(via.host), port: sentByPort } };
}
