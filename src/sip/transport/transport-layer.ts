/**
 * The transport layer over several {@link SipTransport}s (RFC 3261 §18): picks the transport for
 * a request (including the §18.1.1 size rule), writes the top Via's sent-protocol and sent-by
 * (§18.1.1: "the client transport MUST insert a value of the sent-by field"), drops responses
 * whose sent-by is not ours (§18.1.2) and routes responses back (§18.2.2, RFC 3581 §4). It owns
 * no socket: the transports do.
 */
import { type Logger, noopLogger } from '../../common/index.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/index.js';
import { serializedLength } from '../parser/index.js';
import { canonicalAddress, formatEndpoint, hostForHeader, ipFamily } from './endpoint.js';
import { SipTransportError } from './errors.js';
import { defaultPort, responseRoute } from './response-route.js';
import { newCounters, type Destination, type Endpoint, type InboundMessage, type SipTransport, type TransportCounters } from './types.js';
import { readTopVia, setTopViaSentBy } from './via.js';

/** RFC 3261 §18.1.1: the request size above which UDP must not be used when the path MTU is unknown. */
export const DEFAULT_UDP_MAX_REQUEST = 1300;

export interface TransportLayerOptions {
  /**
   * RFC 3261 §18.1.1 size rule: a request bigger than this many bytes, bound for UDP, goes over
   * TCP instead (when a TCP transport of the same IP family exists). Default 1300 (path MTU
   * unknown); with a known path MTU use `mtu - 200`. `null` turns the rule off.
   */
  readonly udpMaxRequestBytes?: number | null;
  /** RFC 3261 §18.1.2: drop responses whose top Via sent-by is not ours. Default true. */
  readonly checkSentBy?: boolean;
  /** The host written into Via sent-by; defaults to each transport's local address. */
  readonly advertisedHost?: string;
  readonly logger?: Logger;
}

/** A request ready for its client transaction: Via stamped, transport chosen. */
export interface PreparedRequest {
  readonly request: SipRequest;
  readonly transport: SipTransport;
  readonly destination: Endpoint;
  /** True when the §18.1.1 size rule moved the request from UDP to TCP. */
  readonly upgraded: boolean;
}

export class TransportLayer {
  private readonly transports: SipTransport[] = [];
  private handler: ((m: InboundMessage) => void) | undefined;
  private readonly log: Logger;
  /** Drops decided at this level (the transports count their own). */
  private readonly own = newCounters();

  constructor(
    transports: SipTransport[],
    private readonly opts: TransportLayerOptions = {},
  ) {
    this.log = opts.logger ?? noopLogger;
    for (const t of transports) this.add(t);
  }

  /** Adds a transport (e.g. an IPsec-protected port opened after registration). */
  add(t: SipTransport): void {
    this.transports.push(t);
    t.onMessage((m) => this.inbound(m));
  }

  /** Removes a transport without closing it. */
  remove(t: SipTransport): void {
    const i = this.transports.indexOf(t);
    if (i >= 0) this.transports.splice(i, 1);
  }

  get all(): readonly SipTransport[] {
    return this.transports;
  }

  onMessage(handler: (m: InboundMessage) => void): void {
    this.handler = handler;
  }

  /** The sum of every transport's counters plus this layer's own drops. */
  get counters(): TransportCounters {
    const c = newCounters();
    for (const src of [...this.transports.map((t) => t.counters), this.own]) {
      c.received += src.received;
      c.sent += src.sent;
      c.sendErrors += src.sendErrors;
      c.rejected += src.rejected;
      c.connectionsOpened += src.connectionsOpened;
      c.connectionsClosed += src.connectionsClosed;
      c.disconnectedForGarbage += src.disconnectedForGarbage;
      c.connectionsRefused += src.connectionsRefused;
      c.idleClosed += src.idleClosed;
      c.partialClosed += src.partialClosed;
      for (const k of Object.keys(c.dropped) as (keyof TransportCounters['dropped'])[]) c.dropped[k] += src.dropped[k];
    }
    return c;
  }

  /** The transport a destination resolves to: the pinned one, else the first of its protocol and IP family. */
  select(dest: Destination): SipTransport {
    if (dest.through) return dest.through;
    const protocol = dest.transport ?? 'udp';
    const fam = ipFamily(dest.address) || 4;
    const t = this.transports.find((x) => x.protocol === protocol && x.family === fam);
    if (!t) throw new SipTransportError(`no ${protocol.toUpperCase()} transport for IPv${fam} destination ${formatEndpoint(dest)}`, dest);
    return t;
  }

  /**
   * RFC 3261 §18.1.1: chooses the transport and writes the top Via (sent-protocol, sent-by). When
   * a request for UDP is larger than the limit, TCP is used and the Via says so.
   */
  prepareRequest(req: SipRequest, dest: Destination): PreparedRequest {
    let t = this.select(dest);
    this.stamp(req, t);
    let upgraded = false;
    const limit = this.opts.udpMaxRequestBytes === undefined ? DEFAULT_UDP_MAX_REQUEST : this.opts.udpMaxRequestBytes;
    if (!dest.through && t.protocol === 'udp' && limit !== null && serializedLength(req) > limit) {
      const tcp = this.transports.find((x) => x.protocol === 'tcp' && x.family === t.family);
      if (tcp) {
        t = tcp;
        upgraded = true;
        this.stamp(req, t);
      } else {
        this.log.debug({ dest: formatEndpoint(dest) }, 'request over the UDP size limit but no TCP transport: sending over UDP');
      }
    }
    return { request: req, transport: t, destination: { address: dest.address, port: dest.port }, upgraded };
  }

  /** Sends a prepared message without further processing (stateless forwarding, ACK for 2xx). */
  send(data: SipMessage | Uint8Array, transport: SipTransport, dest: Endpoint): Promise<void> {
    return transport.send(data, dest);
  }

  /**
   * RFC 3261 §18.2.2 + RFC 3581 §4: sends a response for a request received as `inbound`, through
   * the transport it arrived on — on its connection when there is one, else to the address the
   * top Via names.
   */
  async sendResponse(resp: SipResponse, inbound: Pick<InboundMessage, 'transport' | 'remote' | 'receivedOn'>): Promise<void> {
    const via = readTopVia(resp);
    if (!via) throw new SipTransportError('response has no Via: cannot route it');
    const route = responseRoute(via, inbound.transport, inbound.remote);
    const t = inbound.receivedOn;
    if (route.connection) {
      try {
        await t.send(resp, route.connection, { existingOnly: true });
        return;
      } catch (err) {
        if (!(err instanceof SipTransportError)) throw err;
        // The connection is gone: open one to received/sent-by (§18.2.2).
      }
    }
    await t.send(resp, route.destination);
  }

  async close(): Promise<void> {
    await Promise.all(this.transports.map((t) => t.close()));
  }

  /** The sent-by a transport writes, as host and port. */
  sentBy(t: SipTransport): Endpoint {
    return { address: this.opts.advertisedHost ?? t.local.address, port: t.local.port };
  }

  private stamp(req: SipRequest, t: SipTransport): void {
    const sb = this.sentBy(t);
    setTopViaSentBy(req, t.protocol.toUpperCase(), hostForHeader(sb.address), sb.port);
  }

  private inbound(m: InboundMessage): void {
    if (m.msg.kind === 'response' && this.opts.checkSentBy !== false && !this.isOurSentBy(m.msg)) {
      this.own.dropped.sentBy++;
      this.log.debug({ remote: formatEndpoint(m.remote) }, 'response with a foreign sent-by dropped (RFC 3261 §18.1.2)');
      return;
    }
    if (!this.handler) {
      this.own.dropped.unmatched++;
      return;
    }
    this.handler(m);
  }

  /** §18.1.2: the top Via sent-by must be one this layer wrote. */
  private isOurSentBy(resp: SipResponse): boolean {
    const via = readTopVia(resp);
    if (!via) return false;
    const host = canonicalAddress(via.host);
    const port = via.port ?? defaultPort(via.transport);
    return this.transports.some((t) => {
      const sb = this.sentBy(t);
      return sb.port === port && canonicalAddress(sb.address) === host;
    });
  }
}
