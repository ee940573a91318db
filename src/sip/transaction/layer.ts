/**
 * The transaction layer (RFC 3261 §17): a table of live transactions, the matching rules of
 * §17.1.3 and §17.2.3, and a thin driver that carries out what the pure machines ask for —
 * sends through a {@link TxChannel}, timers through the injected {@link Clock}, and hand-ups to
 * the transaction user (TU). It knows nothing of sockets: the stack gives each transaction the
 * channel its messages travel on.
 */
import { detached, ExpiringMap, InvalidArgumentError, type Clock, type Logger, type TimerHandle, noopLogger } from '../../common/index.js';
import { startClientInvite, stepClientInvite, type ClientInviteState, type ClientInviteTx } from './client-invite.js';
import { startClientNonInvite, stepClientNonInvite, type ClientNonInviteState, type ClientNonInviteTx } from './client-non-invite.js';
import { clientKeyOfRequest, clientKeyOfResponse, serverKeyOfRequest } from './keys.js';
import { LingeringTable } from './lingering.js';
import { startServerInvite, stepServerInvite, type ServerInviteState, type ServerInviteTx } from './server-invite.js';
import { startServerNonInvite, stepServerNonInvite, type ServerNonInviteState, type ServerNonInviteTx } from './server-non-invite.js';
import { timeoutInterval, timerConfig, type TimerConfig, type TimerName } from './timers.js';
import type { ClientTxEvent, ServerTxEvent, SipRequest, SipResponse, SipMessage, Step, TxAction, TxEndReason } from './types.js';

/** How a transaction's messages reach the network (§17.1.1.2: "pass it to the transport layer"). */
export interface TxChannel {
  /** Resolves when sent; a rejection is a transport error (§17.1.4, §17.2.4). */
  send(msg: SipMessage): Promise<void>;
  readonly reliable: boolean;
  /**
   * Where the request came from (transport, remote end, local socket). When given it is part of
   * the server transaction's key, so a request from elsewhere that copies a transaction's branch
   * and sent-by (RFC 3261 §17.2.3 matches on those alone) starts a transaction of its own instead
   * of being absorbed as a retransmission, or absorbing the real one: a CANCEL sent in the clear
   * to a P-CSCF's unprotected port must not swallow the UE's CANCEL over its SAs (TS 33.203 §7.3:
   * requests are bound to the SA they arrive on).
   */
  readonly origin?: string;
}

/** The TU side of a client transaction. */
export interface ClientTxHandlers {
  /** Every response passed up: provisionals, the final one, and (RFC 6026) further 2xx. */
  onResponse(resp: SipResponse): void;
  /**
   * The transaction ended: normally, by timeout (Timer B/F) or by a transport error. A non-INVITE
   * on an unreliable transport ends for its TU ('normal') when it enters "Completed": from there
   * until Timer K it only absorbs retransmitted final responses, none of which reaches the TU
   * (RFC 3261 §17.1.2.2).
   */
  onTerminated?(reason: TxEndReason): void;
}

/** A client transaction as seen by the TU. */
export interface ClientTransaction {
  readonly key: string;
  readonly request: SipRequest;
  readonly state: ClientInviteState | ClientNonInviteState;
}

/** A server transaction as seen by the TU: the request and the way to answer it. */
export interface ServerTransaction {
  /** Its §17.2.3 key: a flat copy that keeps no message text alive. */
  readonly key: string;
  readonly request: SipRequest;
  readonly state: ServerInviteState | ServerNonInviteState;
  /** Passes a response from the TU to the transaction (§17.2.1, §17.2.2). */
  respond(resp: SipResponse): void;
  /** Set by the TU: the transaction failed (Timer H, transport error) or ended. */
  onEnd?: (reason: TxEndReason) => void;
  /** Set by the TU: a transport error the transaction survives (RFC 6026 Figure 7). */
  onTransportError?: () => void;
}

/** What became of a request handed to {@link TransactionLayer.receiveRequest}. */
export type ReceiveRequestResult =
  /** A new server transaction; the request has been passed to the request handler. */
  | { kind: 'new'; tx: ServerTransaction }
  /** A retransmission (or an ACK for a non-2xx) absorbed by its transaction. */
  | { kind: 'absorbed'; tx: ServerTransaction }
  /** An ACK for a 2xx: it belongs to the TU (RFC 6026 §7.1, RFC 3261 §17.2.3 last paragraph). */
  | { kind: 'ack'; tx?: ServerTransaction };

export interface TransactionLayerOptions {
  readonly clock: Clock;
  readonly timers?: Partial<TimerConfig>;
  readonly logger?: Logger;
  /**
   * Builds the 100 (Trying) an INVITE server transaction sends at once (§17.2.1: "MUST generate a
   * 100 (Trying) response unless it knows that the TU will generate a provisional or final
   * response within 200 ms"). Omit to let the TU answer by itself.
   */
  readonly trying?: (invite: SipRequest) => SipResponse;
}

type Machine = ClientInviteTx | ClientNonInviteTx | ServerInviteTx | ServerNonInviteTx;
type AnyEvent = ClientTxEvent | ServerTxEvent;

interface Rec<M extends Machine = Machine> {
  readonly key: string;
  machine: M;
  readonly channel: TxChannel;
  readonly timers: Map<TimerName, TimerHandle>;
  readonly queue: AnyEvent[];
  /**
   * A non-INVITE transaction handed to a table of "Completed" ones, the lingering table (server,
   * Timer J) or the completed clients (Timer K): when that timer ends.
   */
  lingerUntil?: number;
  busy: boolean;
  done: boolean;
  /** Client: the TU; server: the handle given to the TU. */
  readonly client?: ClientTxHandlers;
  server?: ServerTransaction;
}

function step(m: Machine, ev: AnyEvent): Step<Machine> {
  switch (m.kind) {
    case 'client-invite':
      return stepClientInvite(m, ev as ClientTxEvent);
    case 'client-non-invite':
      return stepClientNonInvite(m, ev as ClientTxEvent);
    case 'server-invite':
      return stepServerInvite(m, ev as ServerTxEvent);
    case 'server-non-invite':
      return stepServerNonInvite(m, ev as ServerTxEvent);
  }
}

/** The transaction table and its driver. */
export class TransactionLayer {
  readonly timers: TimerConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly clients = new Map<string, Rec<ClientInviteTx | ClientNonInviteTx>>();
  private readonly servers = new Map<string, Rec<ServerInviteTx | ServerNonInviteTx>>();
  /** Non-INVITE server transactions in "Completed" on UDP: only their response, until Timer J. */
  private readonly lingering: LingeringTable;
  /**
   * Non-INVITE client transactions in "Completed" on UDP (§17.1.2.2): only their key, until
   * Timer K (T4). The request, the channel and the TU's handlers are let go as the final response
   * is passed up: they were kept T4 (5 s) for nothing, and what lives that long the collector
   * promotes and marks again.
   */
  private readonly completedClients: ExpiringMap<true>;
  /**
   * The methods other than INVITE, CANCEL and ACK that have started a server transaction here, so
   * that a CANCEL, which does not name the method it cancels, can be matched to one (RFC 3261
   * §9.2). At most {@link MAX_CANCELLABLE_METHODS}: a peer's extension methods cannot grow it.
   */
  private readonly nonInviteMethods = new Set<string>();
  /**
   * Transactions started (client, server), requests or responses resent on a timer (§17.1.1.2
   * Timer A/E, §17.2.1 Timer G), retransmissions received and absorbed, and transactions ended by
   * a time-out (Timer B/F/H), for the metrics.
   */
  readonly counters = { clientStarted: 0, serverStarted: 0, retransmitted: 0, absorbed: 0, timedOut: 0 };

  constructor(private readonly opts: TransactionLayerOptions) {
    this.clock = opts.clock;
    this.timers = timerConfig(opts.timers);
    this.lingering = new LingeringTable(opts.clock, timeoutInterval(this.timers));
    this.completedClients = new ExpiringMap<true>(opts.clock, this.timers.t4);
    this.log = opts.logger ?? noopLogger;
  }

  /** Live transactions, for tests and the dashboard. */
  get size(): { clients: number; servers: number } {
    return { clients: this.clients.size + this.completedClients.size, servers: this.servers.size + this.lingering.size };
  }

  /** The live server transactions (not those lingering for Timer J), for inspection. */
  *serverTransactions(): IterableIterator<ServerTransaction> {
    for (const rec of this.servers.values()) if (rec.server) yield rec.server;
  }

  /**
   * Starts a client transaction (§17.1): INVITE → Figure 5, anything else but ACK → Figure 6.
   * The request's top Via must carry a unique branch (§8.1.1.7).
   */
  sendRequest(req: SipRequest, channel: TxChannel, handlers: ClientTxHandlers): ClientTransaction {
    if (req.method === 'ACK') throw new InvalidArgumentError('an ACK does not start a client transaction (RFC 3261 §17)', 'method');
    const key = clientKeyOfRequest(req);
    if (this.clients.has(key) || this.completedClients.has(key)) throw new InvalidArgumentError(`a client transaction with this branch and method exists: ${key}`, 'branch');
    const opts = { reliable: channel.reliable, timers: this.timers };
    const s = req.method === 'INVITE' ? startClientInvite(req, opts) : startClientNonInvite(req, opts);
    const rec: Rec<ClientInviteTx | ClientNonInviteTx> = { key, machine: s.tx, channel, timers: new Map(), queue: [], busy: false, done: false, client: handlers };
    this.clients.set(key, rec);
    this.counters.clientStarted++;
    this.run(rec, s.actions);
    const clock = this.clock;
    return {
      key,
      request: req,
      get state() {
        return stateOf(rec, clock);
      },
    };
  }

  /** §17.1.3: gives a response to its client transaction; false when none matches (a stray response). */
  receiveResponse(resp: SipResponse): boolean {
    const key = clientKeyOfResponse(resp);
    if (key === undefined) return false;
    const rec = this.clients.get(key);
    // §17.1.2.2: "Completed" absorbs a retransmitted final response.
    if (!rec) return this.completedClients.has(key);
    this.feed(rec, { kind: 'response', msg: resp });
    return true;
  }

  /**
   * §17.2.3: gives a request to its server transaction or creates one. The result is the
   * machines' "pass to TU": a new transaction (`new`: the TU must answer through `tx.respond`),
   * a retransmission or non-2xx ACK the transaction absorbed, or an ACK that belongs to the TU
   * (for a 2xx: RFC 6026 §7.1 in "Accepted", or matching no transaction at all). `channel` is how
   * this transaction's responses go back (§18.2.2).
   */
  receiveRequest(req: SipRequest, channel: TxChannel): ReceiveRequestResult {
    const key = serverKeyOfRequest(req) + originPart(channel.origin);
    const found = this.servers.get(key);
    if (found) {
      const accepted = found.machine.state === 'accepted';
      if (req.method !== 'ACK') this.counters.absorbed++;
      this.feed(found, { kind: 'request', msg: req });
      return req.method === 'ACK' && accepted ? { kind: 'ack', tx: found.server } : { kind: 'absorbed', tx: found.server! };
    }
    if (req.method === 'ACK') return { kind: 'ack' };
    if (this.lingering.resend(key)) {
      this.counters.absorbed++;
      return { kind: 'absorbed', tx: { key, request: req, state: 'completed', respond() {} } };
    }
    const opts = { reliable: channel.reliable, timers: this.timers };
    let first: Step<ServerInviteTx | ServerNonInviteTx>;
    let pre: TxAction[] = [];
    if (req.method === 'INVITE') {
      const s = startServerInvite(req, opts);
      first = s;
      if (this.opts.trying) {
        // §17.2.1: the 100 (Trying) goes out before the TU even sees the INVITE.
        const t = stepServerInvite(s.tx, { kind: 'tuResponse', msg: this.opts.trying(req) });
        first = { tx: t.tx, actions: s.actions };
        pre = t.actions;
      }
    } else {
      first = startServerNonInvite(req, opts);
      if (req.method !== 'CANCEL' && !this.nonInviteMethods.has(req.method) && this.nonInviteMethods.size < MAX_CANCELLABLE_METHODS) {
        this.nonInviteMethods.add(detached(req.method));
      }
    }
    // The key is made of slices of the request's text (its branch and sent-by): one flat copy of
    // its own, which the lingering table and the TU's response context keep as they are.
    const own = detached(key);
    const rec: Rec<ServerInviteTx | ServerNonInviteTx> = { key: own, machine: first.tx, channel, timers: new Map(), queue: [], busy: false, done: false };
    const feed = (ev: ServerTxEvent): void => this.feed(rec, ev);
    const clock = this.clock;
    const handle: ServerTransaction = {
      key: own,
      request: req,
      get state() {
        return stateOf(rec, clock);
      },
      respond(resp: SipResponse) {
        feed({ kind: 'tuResponse', msg: resp });
      },
    };
    rec.server = handle;
    this.servers.set(own, rec);
    this.counters.serverStarted++;
    this.run(rec, [...pre, ...first.actions]);
    return { kind: 'new', tx: handle };
  }

  /**
   * RFC 3261 §9.1: the TU gives a client transaction up ("no final response for the original
   * request in 64*T1 seconds" after its CANCEL): it is destroyed at once, its TU told of a timeout.
   */
  abandonClient(key: string): boolean {
    const rec = this.clients.get(key);
    if (rec) this.destroy(rec, 'timeout');
    return rec !== undefined;
  }

  /** RFC 3261 §9.2: the server INVITE transaction a CANCEL refers to (same key but the method). */
  findInviteFor(cancel: SipRequest, origin?: string): ServerTransaction | undefined {
    const key = serverKeyOfRequest(cancel, 'INVITE') + originPart(origin);
    return this.servers.get(key)?.server;
  }

  /**
   * RFC 3261 §9.2: whether a CANCEL refers to a non-INVITE server transaction of this layer. The
   * CANCEL matches "assuming that the request method is anything but CANCEL or ACK" (§17.2.3 on
   * its key and origin); one in "Completed" counts, since it exists until Timer J. A method first
   * seen after {@link MAX_CANCELLABLE_METHODS} others is not looked for: its CANCEL gets 481.
   */
  hasNonInviteFor(cancel: SipRequest, origin?: string): boolean {
    const at = originPart(origin);
    for (const method of this.nonInviteMethods) {
      const key = serverKeyOfRequest(cancel, method) + at;
      if (this.servers.has(key) || this.lingering.has(key)) return true;
    }
    return false;
  }

  /** Cancels every timer and forgets every transaction (on shutdown). */
  clear(): void {
    for (const rec of [...this.clients.values(), ...this.servers.values()]) {
      for (const h of rec.timers.values()) h.cancel();
      rec.done = true;
    }
    this.clients.clear();
    this.servers.clear();
    this.lingering.clear();
    this.completedClients.clear();
  }

  /** Queues an event; events arriving while a step's actions run (a TU answering inside its handler) wait their turn. */
  private feed(rec: Rec, ev: AnyEvent): void {
    if (rec.done) return;
    rec.queue.push(ev);
    if (!rec.busy) this.run(rec, []);
  }

  /** Executes actions, then every queued event in order, one step at a time. */
  private run(rec: Rec, actions: TxAction[]): void {
    rec.busy = true;
    try {
      this.execute(rec, actions);
      while (!rec.done && rec.queue.length) {
        const ev = rec.queue.shift()!;
        const s = step(rec.machine, ev);
        rec.machine = s.tx;
        this.execute(rec, s.actions, ev.kind === 'timer');
      }
    } finally {
      rec.busy = false;
      if (rec.done) rec.queue.length = 0;
    }
  }

  private execute(rec: Rec, actions: TxAction[], onTimer = false): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'send':
          if (onTimer) this.counters.retransmitted++;
          rec.channel.send(a.msg).catch((err: unknown) => {
            this.log.debug({ tx: rec.key, err: (err as Error)?.message }, 'transport error');
            this.feed(rec, { kind: 'transportError' });
          });
          break;
        case 'startTimer': {
          if (a.name === 'J' && this.linger(rec)) break;
          if (a.name === 'K') {
            this.complete(rec);
            break;
          }
          rec.timers.get(a.name)?.cancel();
          const name = a.name;
          rec.timers.set(name, this.clock.setTimeout(a.ms, () => {
            rec.timers.delete(name);
            this.feed(rec, { kind: 'timer', name });
          }));
          break;
        }
        case 'cancelTimer':
          rec.timers.get(a.name)?.cancel();
          rec.timers.delete(a.name);
          break;
        case 'passUp':
          this.passUp(rec, a.msg);
          break;
        case 'informTu':
          this.safely(() => rec.server?.onTransportError?.());
          break;
        case 'terminated':
          this.destroy(rec, a.reason);
          break;
      }
    }
  }

  /**
   * §17.2.2 Timer J: a non-INVITE server transaction entering "Completed" keeps only what a
   * retransmission needs (its key, final response and channel) in the lingering table; the rest
   * is released. A TU that asked to hear of its end (onEnd) hears of it from there.
   */
  private linger(rec: Rec): boolean {
    const m = rec.machine;
    if (m.kind !== 'server-non-invite' || m.lastResponse === undefined) return false;
    rec.done = true;
    rec.lingerUntil = this.clock.now() + this.lingering.lifetimeMs;
    if (this.servers.get(rec.key) === rec) this.servers.delete(rec.key);
    this.lingering.add(rec.key, m.lastResponse, rec.channel, this.endCallback(rec.server?.onEnd));
    return true;
  }

  /**
   * §17.1.2.2 Timer K: a non-INVITE client transaction entering "Completed" (on an unreliable
   * transport: a reliable one terminates at once) keeps only its key among the completed clients
   * until Timer K, to absorb retransmitted final responses; the rest is released, and its TU
   * hears that the transaction is over for it.
   */
  private complete(rec: Rec): void {
    rec.done = true;
    rec.lingerUntil = this.clock.now() + this.completedClients.lifetimeMs;
    if (this.clients.get(rec.key) === rec) this.clients.delete(rec.key);
    // The key is built from the request's branch, a slice of its text: a copy of its own.
    this.completedClients.set(detached(rec.key), true);
    this.safely(() => rec.client?.onTerminated?.('normal'));
  }

  /** A TU's end callback, made safe; a function of its own, so that it keeps nothing but the callback. */
  private endCallback(onEnd: ((reason: TxEndReason) => void) | undefined): ((reason: TxEndReason) => void) | undefined {
    return onEnd && ((reason) => this.safely(() => onEnd(reason)));
  }

  private passUp(rec: Rec, msg: SipMessage): void {
    if (rec.client) {
      if (msg.kind === 'response') this.safely(() => rec.client!.onResponse(msg));
      return;
    }
    // A server's pass-ups (the new request, an ACK in "Accepted") are what receiveRequest() returns.
  }

  /** §17.1.1.2 / §17.2.1: a transaction entering "Terminated" is destroyed at once. */
  private destroy(rec: Rec, reason: TxEndReason): void {
    rec.done = true;
    if (reason === 'timeout') this.counters.timedOut++;
    for (const h of rec.timers.values()) h.cancel();
    rec.timers.clear();
    if (rec.client) {
      if (this.clients.get(rec.key) === rec) this.clients.delete(rec.key);
      this.safely(() => rec.client!.onTerminated?.(reason));
    } else {
      if (this.servers.get(rec.key) === rec) this.servers.delete(rec.key);
      this.safely(() => rec.server?.onEnd?.(reason));
    }
  }

  /** A throwing TU callback must not corrupt the table. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err: (err as Error)?.message }, 'transaction user callback threw');
    }
  }
}

/** A transaction's state as its TU sees it: "Terminated" once the table it lingers in has let it go. */
function stateOf<M extends Machine>(rec: Rec<M>, clock: Clock): M['state'] | 'terminated' {
  return rec.lingerUntil !== undefined && clock.now() >= rec.lingerUntil ? 'terminated' : rec.machine.state;
}

/** The origin's part of a server transaction key (none without an origin). */
/** How many non-INVITE methods a CANCEL is matched against (§9.2); the standard ones are 12. */
const MAX_CANCELLABLE_METHODS = 32;

function originPart(origin: string | undefined): string {
  return origin === undefined ? '' : `|${origin}`;
}
