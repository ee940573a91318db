/**
 * The SIP stack the IMS nodes use: transports + the transaction layer + injected clock, Rng and
 * logger. It sends requests through client transactions and resolves with the final response,
 * hands every new request to one handler together with where it came from and a way to answer
 * it through its server transaction, and offers the stateless sends and the stateful proxy the
 * CSCFs need: {@link ProxyCore} (RFC 3261 §16) holds a response context per proxied request
 * ({@link RequestContext.proxy}), and this stack drives it over its transaction layer and
 * carries out a CANCEL that matches one (§16.10).
 */
import { cryptoRng, InvalidArgumentError, joinedKey, systemClock, type Clock, type Logger, type Rng, noopLogger } from '../../common/index.js';
import { topVia, viaBranch } from '../headers/index.js';
import { cloneMessage, createResponse, parseFailureAnswer, type CreateResponseOptions, type SipMessage, type SipRequest, type SipResponse } from '../message/index.js';
import { clientKeyOfRequest } from '../transaction/keys.js';
import { TransactionLayer, type ServerTransaction, type TxChannel } from '../transaction/layer.js';
import type { TimerConfig } from '../transaction/timers.js';
import { SipTransportError } from '../transport/errors.js';
import { TransportLayer, type TransportLayerOptions } from '../transport/transport-layer.js';
import { formatEndpoint } from '../transport/endpoint.js';
import { type Destination, type Endpoint, type InboundMessage, type SipTransport, type TransportCounters, type TransportProtocol } from '../transport/types.js';
import { SipTimeoutError } from './errors.js';
import { newBranch, newCallId, newTag } from './ids.js';
import { proxyCopy } from './proxy-branches.js';
import { ProxyCore, type ProxyContext } from './proxy-core.js';

export interface SipStackOptions {
  readonly transports: SipTransport[];
  readonly clock?: Clock;
  readonly rng?: Rng;
  readonly logger?: Logger;
  /** T1, T2, T4, Timer D (RFC 3261 §17.1.1.1); defaults 500/4000/5000/32000 ms. */
  readonly timers?: Partial<TimerConfig>;
  /** Size rule, sent-by check and advertised host (RFC 3261 §18.1). */
  readonly transport?: TransportLayerOptions;
  /** Send 100 (Trying) for every new INVITE at once (RFC 3261 §17.2.1). Default true. */
  readonly autoTrying?: boolean;
  /** Add a bare `rport` to the Via of requests this stack originates (RFC 3581 §3). Default false. */
  readonly rport?: boolean;
  /**
   * The stack of a stateful proxy (RFC 3261 §16): a new INVITE gets its response context at once
   * ({@link RequestContext.proxy}; other requests on first use), and a CANCEL that matches none
   * is answered 481 here (§9.2). Without it such CANCELs go to the request handler. Either way a
   * CANCEL matching a context is answered 200 and carried out here (§16.10), and one matching a
   * non-INVITE server transaction is answered 200 here and has no effect (§9.2).
   */
  readonly proxy?: boolean;
  /** Token characters put after the magic cookie of every branch this stack makes ({@link newBranch}). */
  readonly branchTag?: string;
}

/** Where a request came from and how to answer it (the TU's view of §17.2 + §18.2). */
export interface RequestContext {
  readonly transport: TransportProtocol;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly receivedOn: SipTransport;
  /** The server transaction (absent for an ACK, which has none). */
  readonly tx?: ServerTransaction;
  /** Sends a response through the server transaction. */
  respond(resp: SipResponse): void;
  /** Builds a response (RFC 3261 §8.2.6; To tag from the stack's Rng), sends it and returns it. */
  reply(status: number, reason?: string, opts?: CreateResponseOptions): SipResponse;
  /**
   * This request's response context (RFC 3261 §16.6–16.7): forward through it. While it lives,
   * {@link respond} and {@link reply} go through it too (§16.7 step 5: one final response).
   */
  proxy(): ProxyContext;
}

export type RequestHandler = (req: SipRequest, ctx: RequestContext) => void | Promise<void>;

export interface SendRequestOptions {
  /** Each provisional (1xx) response. */
  onProvisional?(resp: SipResponse): void;
  /** RFC 6026 §8.4: 2xx responses after the first one to an INVITE (retransmissions, forks); the TU ACKs them. */
  onAdditional2xx?(resp: SipResponse): void;
}

/** Counters of the whole stack: transports plus stray responses. */
export interface StackCounters extends TransportCounters {
  /** Responses that matched no client transaction (RFC 6026 §7.3: dropped). */
  strayResponses: number;
}

export class SipStack {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly transportLayer: TransportLayer;
  readonly transactions: TransactionLayer;
  /** The response contexts of the requests this stack proxies (RFC 3261 §16). */
  readonly proxy: ProxyCore;
  private readonly log: Logger;
  private requestHandler: RequestHandler | undefined;
  private ackHandler: ((ack: SipRequest, ctx: RequestContext) => void) | undefined;
  private strayResponses = 0;

  constructor(private readonly opts: SipStackOptions) {
    if (opts.transports.length === 0) throw new InvalidArgumentError('a SipStack needs at least one transport', 'transports');
    this.clock = opts.clock ?? systemClock;
    this.rng = opts.rng ?? cryptoRng;
    this.log = opts.logger ?? noopLogger;
    this.transportLayer = new TransportLayer(opts.transports, { logger: this.log, ...opts.transport });
    this.transactions = new TransactionLayer({
      clock: this.clock,
      timers: opts.timers,
      logger: this.log,
      trying: opts.autoTrying === false ? undefined : (inv) => createResponse(inv, 100, 'Trying'),
    });
    this.proxy = new ProxyCore({
      clock: this.clock,
      rng: this.rng,
      ...(opts.branchTag !== undefined ? { branchTag: opts.branchTag } : {}),
      t1: this.transactions.timers.t1,
      logger: this.log,
      ports: {
        send: (req, dest, branch) =>
          this.startTransaction(req, dest, (resp) => this.proxy.onResponse(resp), (err) => this.proxy.onClientEnd(branch, err)),
        cancel: (req, dest) => void this.sendRequest(req, dest).catch((err: Error) => this.log.debug({ err: err.message }, 'proxy: CANCEL not answered')),
        abandon: (req) => void this.transactions.abandonClient(clientKeyOfRequest(req)),
      },
    });
    this.transportLayer.onMessage((m) => this.inbound(m));
  }

  /** The handler of every request that starts a server transaction (one per stack). */
  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  /** The handler of ACKs for 2xx responses (RFC 3261 §13.3.1.4; not part of any transaction). */
  onAck(handler: (ack: SipRequest, ctx: RequestContext) => void): void {
    this.ackHandler = handler;
  }

  /** A fresh branch (RFC 3261 §8.1.1.7). */
  newBranch(): string {
    return newBranch(this.rng, this.opts.branchTag);
  }
  /** A fresh From/To tag (§19.3). */
  newTag(): string {
    return newTag(this.rng);
  }
  /** A fresh Call-ID (§8.1.1.4). */
  newCallId(host?: string): string {
    return newCallId(this.rng, host);
  }

  /** Counters of every transport, plus stray responses. */
  get counters(): StackCounters {
    return { ...this.transportLayer.counters, strayResponses: this.strayResponses };
  }

  /**
   * Sends a request through a client transaction (RFC 3261 §17.1) and resolves with its final
   * response. A top Via is added when there is none, a branch when it has none, Max-Forwards 70
   * when missing (§8.1.1.6); the transport layer writes sent-by. Rejects with
   * {@link SipTimeoutError} (Timer B/F) or SipTransportError.
   */
  sendRequest(req: SipRequest, dest: Destination, opts: SendRequestOptions = {}): Promise<SipResponse> {
    if (req.method === 'ACK') return Promise.reject(new InvalidArgumentError('send an ACK with sendStateless (RFC 3261 §17.1.1.3, §13.2.2.4)', 'method'));
    try {
      this.prepareVia(req);
      if (!req.headers.has('max-forwards')) req.headers.append('Max-Forwards', '70');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.startClient(req, dest, opts);
  }

  /**
   * Sends a request without a transaction: the ACK for a 2xx (RFC 3261 §13.2.2.4) or a request a
   * stateless element relays. Adds a Via/branch when missing; the transport layer writes sent-by.
   */
  async sendStateless(req: SipRequest, dest: Destination): Promise<void> {
    this.prepareVia(req);
    const p = this.transportLayer.prepareRequest(req, dest);
    await p.transport.send(p.request, p.destination);
  }

  /** Sends a response outside any transaction (a stateless UAS or proxy), routed by §18.2.2. */
  sendResponse(resp: SipResponse, ctx: Pick<RequestContext, 'transport' | 'remote' | 'receivedOn'>): Promise<void> {
    return this.transportLayer.sendResponse(resp, ctx);
  }

  /**
   * RFC 3261 §16.6 for a stateful proxy: copies the request, decrements Max-Forwards (70 when
   * absent), pushes a Via with a fresh branch from the Rng, and sends it through a client
   * transaction. Resolves with the final response as received — its top Via is still ours; remove
   * it with {@link withoutTopVia} before relaying it (§16.7 step 3). Adjust Request-URI, Route or
   * Record-Route on `req` before calling.
   */
  forwardRequest(req: SipRequest, dest: Destination, opts: SendRequestOptions = {}): Promise<SipResponse> {
    if (req.method === 'ACK') return Promise.reject(new InvalidArgumentError('forward an ACK with forwardStateless', 'method'));
    let copy: SipRequest;
    try {
      copy = this.proxyCopy(req);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.startClient(copy, dest, opts);
  }

  /** §16.6 without a transaction: forwards an ACK for a 2xx (or any request) with our Via on top. */
  async forwardStateless(req: SipRequest, dest: Destination): Promise<void> {
    const copy = this.proxyCopy(req);
    const p = this.transportLayer.prepareRequest(copy, dest);
    await p.transport.send(p.request, p.destination);
  }

  /** Stops every timer and closes every transport. */
  async close(): Promise<void> {
    this.proxy.clear();
    this.transactions.clear();
    await this.transportLayer.close();
  }

  private proxyCopy(req: SipRequest): SipRequest {
    return proxyCopy(req, this.newBranch());
  }

  /** A top Via with a branch: added when missing (sent-by is a placeholder the transport layer replaces). */
  private prepareVia(req: SipRequest): void {
    const via = topVia(req);
    if (!via) {
      req.headers.prepend('Via', `SIP/2.0/UDP 0.0.0.0;branch=${this.newBranch()}${this.opts.rport ? ';rport' : ''}`);
    } else if (!viaBranch(via)) {
      const line = req.headers.getAll('via')[0];
      req.headers.removeFirst('via');
      req.headers.prepend('Via', `${line};branch=${this.newBranch()}`);
    }
  }

  private startClient(req: SipRequest, dest: Destination, opts: SendRequestOptions): Promise<SipResponse> {
    return new Promise<SipResponse>((resolve, reject) => {
      let final: SipResponse | undefined;
      const onResponse = (resp: SipResponse): void => {
        if (resp.status < 200) opts.onProvisional?.(resp);
        else if (!final) {
          final = resp;
          resolve(resp);
        } else opts.onAdditional2xx?.(resp);
      };
      this.startTransaction(req, dest, onResponse, (err) => {
        if (!final) reject(err ?? new SipTransportError(`${req.method}: transaction ended without a final response`, { address: dest.address, port: dest.port }));
      });
    });
  }

  /**
   * A client transaction (RFC 3261 §17.1) for `req` on the transport the transport layer picks:
   * every response goes to `onResponse`; `onEnd` hears of its end, with the error when it
   * failed (Timer B/F → SipTimeoutError, §17.1.4 → SipTransportError). Throws when the request
   * cannot be prepared.
   */
  private startTransaction(req: SipRequest, dest: Destination, onResponse: (resp: SipResponse) => void, onEnd: (err: Error | undefined) => void): void {
    const p = this.transportLayer.prepareRequest(req, dest);
    let lastError: unknown;
    const channel: TxChannel = {
      reliable: p.transport.reliable,
      send: (msg) =>
        p.transport.send(msg, p.destination).catch((err: unknown) => {
          lastError = err;
          throw err;
        }),
    };
    this.transactions.sendRequest(p.request, channel, {
      onResponse,
      onTerminated: (reason) => {
        if (reason === 'timeout') onEnd(new SipTimeoutError(req.method, req.method === 'INVITE' ? 'B' : 'F'));
        else if (reason === 'transportError') {
          onEnd(lastError instanceof SipTransportError ? lastError : new SipTransportError(`${req.method}: transport error`, p.destination, { cause: lastError }));
        } else onEnd(undefined);
      },
    });
  }

  private inbound(m: InboundMessage): void {
    const msg = m.msg;
    if (msg.kind === 'response') {
      if (!this.transactions.receiveResponse(msg)) {
        this.strayResponses++;
        this.log.debug({ status: msg.status }, 'stray response dropped (RFC 6026 §7.3)');
      }
      return;
    }
    const origin = originOf(m);
    const r = this.transactions.receiveRequest(msg, new ResponseChannel(this.transportLayer, m, origin));
    if (r.kind === 'absorbed') return;
    const ctx = this.context(m, r.tx, origin);
    if (r.kind === 'ack') {
      if (this.ackHandler) this.safely(() => this.ackHandler!(msg, ctx));
      return;
    }
    if (msg.method === 'CANCEL' && this.onCancel(msg, origin, ctx)) return;
    // §16.10: an INVITE is cancellable from its arrival, before the node has decided where it goes.
    if (this.opts.proxy && msg.method === 'INVITE') ctx.proxy();
    const handler = this.requestHandler;
    if (!handler) {
      ctx.reply(503, 'Service Unavailable');
      return;
    }
    // A TU that fails must not leave the request unanswered (RFC 3261 §8.2: every request gets a final response).
    // A header field of the request that the TU read and could not parse is the request's fault:
    // 400 naming it, as §16.3 step 1 has an element check "the elements it actually uses" (the
    // transport checked only the core, `validateCore`); one of a response it received, 502
    // (§21.5.3). Anything else is the server's: 500.
    const fail = (err: unknown): void => {
      const answer = parseFailureAnswer(err, msg);
      if (answer) this.log.info({ method: msg.method, status: answer.status, detail: answer.detail }, 'request refused: a header field it reads does not parse');
      else this.log.error({ err: (err as Error)?.message, method: msg.method }, 'request handler failed');
      const state = r.tx.state;
      if (state !== 'trying' && state !== 'proceeding') return;
      if (answer) ctx.reply(answer.status, answer.reason);
      else ctx.reply(500, 'Server Internal Error');
    };
    try {
      const p = handler(msg, ctx);
      if (p && typeof p.catch === 'function') p.catch(fail);
    } catch (err) {
      fail(err);
    }
  }

  /**
   * RFC 3261 §16.10: a CANCEL matching a response context (the INVITE's server transaction, §9.2,
   * and the same origin) is answered 200 "immediately", then every pending branch is cancelled.
   * One matching a non-INVITE transaction is answered 200 and changes nothing (§9.2: "Regardless
   * of the method of the original request, as long as the CANCEL matched an existing transaction,
   * the UAS answers the CANCEL request itself with a 200 (OK) response"; §9.1: a non-INVITE is
   * not cancelled, so no branch is). A proxy's stack answers any other CANCEL 481 (§9.2). Returns
   * whether the CANCEL was handled.
   */
  private onCancel(cancel: SipRequest, origin: string, ctx: RequestContext): boolean {
    const invite = this.transactions.findInviteFor(cancel, origin);
    const rc = invite && this.proxy.find(invite.key, origin);
    if (rc) {
      ctx.reply(200, 'OK');
      rc.cancel();
      return true;
    }
    if (!invite && this.transactions.hasNonInviteFor(cancel, origin)) {
      ctx.reply(200, 'OK');
      return true;
    }
    if (!this.opts.proxy) return false;
    ctx.reply(481, 'Call/Transaction Does Not Exist');
    return true;
  }

  private context(m: InboundMessage, tx: ServerTransaction | undefined, origin: string): RequestContext {
    const rng = this.rng;
    const proxy = this.proxy;
    const noTx = (): never => {
      throw new InvalidArgumentError('an ACK is not answered (RFC 3261 §17)', 'method');
    };
    const respond = (resp: SipResponse): void => {
      if (!tx) return noTx();
      const rc = proxy.get(tx.key);
      if (rc) rc.respond(resp);
      else tx.respond(resp);
    };
    return {
      transport: m.transport,
      local: m.local,
      remote: m.remote,
      receivedOn: m.receivedOn,
      tx,
      respond,
      reply(status: number, reason?: string, opts: CreateResponseOptions = {}) {
        if (!tx) return noTx();
        const resp = createResponse(tx.request, status, reason, { rng, ...opts });
        respond(resp);
        return resp;
      },
      proxy: () => {
        if (!tx) return noTx();
        const open = proxy.get(tx.key);
        if (open) return open;
        const rc = proxy.open(tx.key, tx.request, { respond: (r) => tx.respond(r), relay: (r) => void this.sendResponse(r, m).catch(() => undefined) }, origin);
        // Bound, not a closure of this scope: the transaction keeps it for Timer J, and this scope holds the request.
        tx.onEnd = proxy.serverEnded.bind(proxy, rc.key);
        return rc;
      },
    };
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err: (err as Error)?.message }, 'ACK handler threw');
    }
  }
}

/**
 * The channel a server transaction answers on (§18.2.2: back where the request came from). It
 * keeps where to send and not the request, in one object (no closure, context and address record
 * each): the lingering table keeps the channel of every transaction for Timer J (RFC 3261
 * §17.2.2).
 */
class ResponseChannel implements TxChannel {
  readonly transport: InboundMessage['transport'];
  readonly remote: InboundMessage['remote'];
  readonly receivedOn: InboundMessage['receivedOn'];
  readonly reliable: boolean;

  constructor(
    private readonly layer: TransportLayer,
    m: InboundMessage,
    readonly origin: string,
  ) {
    this.transport = m.transport;
    this.remote = m.remote;
    this.receivedOn = m.receivedOn;
    this.reliable = m.receivedOn.reliable;
  }

  send(resp: SipMessage): Promise<void> {
    return this.layer.sendResponse(resp as SipResponse, this);
  }
}

/**
 * Where a request came from: transport, remote end and the local socket (a CANCEL must come the
 * same way). Joined flat: it is kept with the transaction and its response context for Timer J.
 */
function originOf(m: InboundMessage): string {
  return joinedKey(m.transport, formatEndpoint(m.remote), formatEndpoint(m.receivedOn.local));
}

/** RFC 3261 §16.7 step 3: a copy of a response without its top Via (the proxy's own), ready to relay. */
export function withoutTopVia(resp: SipResponse): SipResponse {
  const copy = cloneMessage(resp);
  copy.headers.removeFirst('via');
  return copy;
}

