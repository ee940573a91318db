/**
 * The UE's view of its two transports: the unprotected UDP port with the UE port rule of
 * TS 33.203 §7.1 / SPEC R-SA-5 (only responses to the REGISTERs sent there, and error
 * responses; never requests), and test hooks on both that can drop or alter any message in
 * either direction (loss injection for R-FAIL-4). It wraps a {@link SipTransport} and is one
 * itself, so the SIP stack sees no difference.
 */
import { type Logger } from '../../common/index.js';
import { silentLogger } from '../../common/log.js';
import { branchOf, type SipMessage, parseMessage } from '../../sip/index.js';
import { newCounters, type Endpoint, type InboundMessage, type SendOptions, type SipTransport, type TransportCounters } from '../../sip/transport/index.js';
import { acceptOnUnprotectedPort } from './decide.js';

/** Where a message is in the UE when a hook sees it. */
export interface HookInfo {
  /** True on the protected (IPsec) transport. */
  readonly protected: boolean;
  /** The peer: destination of an outgoing message, source of an incoming one. */
  readonly peer: Endpoint;
}

/**
 * Test hooks. Each sees a message and returns `null` to drop it (as if lost on the wire), a
 * message to use instead, or nothing to let it pass unchanged.
 */
export interface UeHooks {
  outgoing?(msg: SipMessage, info: HookInfo): SipMessage | null | void;
  incoming?(msg: SipMessage, info: HookInfo): SipMessage | null | void;
}

export interface FilteredTransportOptions {
  inner: SipTransport;
  protected: boolean;
  hooks?: UeHooks;
  logger?: Logger;
  /** How many unprotected REGISTER branches are remembered (default 256). */
  memory?: number;
}

export class FilteredTransport implements SipTransport {
  readonly protocol;
  readonly reliable;
  readonly family;
  /** Messages this wrapper dropped: by the port rule, or by a hook. */
  readonly filtered = { portRule: 0, hook: 0 };
  private readonly inner: SipTransport;
  private readonly branches = new Set<string>();
  private handler: ((m: InboundMessage) => void) | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: FilteredTransportOptions) {
    this.inner = opts.inner;
    this.protocol = opts.inner.protocol;
    this.reliable = opts.inner.reliable;
    this.family = opts.inner.family;
    this.log = opts.logger ?? silentLogger;
    this.inner.onMessage((m) => this.receive(m));
  }

  get local(): Endpoint {
    return this.inner.local;
  }

  get counters(): TransportCounters {
    return this.inner.counters ?? newCounters();
  }

  /** The transport underneath (the protected transport, to switch its client port). */
  get wrapped(): SipTransport {
    return this.inner;
  }

  onMessage(handler: (m: InboundMessage) => void): void {
    this.handler = handler;
  }

  async send(data: SipMessage | Uint8Array, dest: Endpoint, opts?: SendOptions): Promise<void> {
    let msg: SipMessage | undefined = data instanceof Uint8Array ? undefined : data;
    if (this.opts.hooks?.outgoing) {
      msg ??= parseMessage(data as Uint8Array);
      const r = this.opts.hooks.outgoing(msg, { protected: this.opts.protected, peer: dest });
      if (r === null) {
        this.filtered.hook++;
        return;
      }
      if (r) msg = r;
    }
    if (!this.opts.protected) {
      const m = msg ?? tryParse(data as Uint8Array);
      if (m?.kind === 'request' && m.method === 'REGISTER') {
        const b = safeBranch(m);
        if (b) {
          this.branches.add(b);
          if (this.branches.size > (this.opts.memory ?? 256)) this.branches.delete(this.branches.values().next().value as string);
        }
      }
    }
    if (msg) this.log.debug({ out: describe(msg), protected: this.opts.protected, to: `${dest.address}:${dest.port}` }, 'SIP out');
    await this.inner.send(msg ?? data, dest, opts);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private receive(m: InboundMessage): void {
    let msg = m.msg;
    if (!this.opts.protected && !acceptOnUnprotectedPort(msg.kind === 'request' ? { kind: 'request' } : msg, this.branches, safeBranch(msg))) {
      this.filtered.portRule++;
      this.log.debug({ kind: msg.kind, remote: `${m.remote.address}:${m.remote.port}` }, 'dropped on the unprotected port (R-SA-5)');
      return;
    }
    if (this.opts.hooks?.incoming) {
      const r = this.opts.hooks.incoming(msg, { protected: this.opts.protected, peer: m.remote });
      if (r === null) {
        this.filtered.hook++;
        return;
      }
      if (r) msg = r;
    }
    this.log.debug({ in: describe(msg), protected: this.opts.protected, from: `${m.remote.address}:${m.remote.port}` }, 'SIP in');
    this.handler?.({ ...m, msg, receivedOn: this });
  }
}

function describe(m: SipMessage): string {
  return m.kind === 'request' ? m.method : `${m.status} ${m.reason}`;
}

function safeBranch(m: SipMessage): string | undefined {
  try {
    return branchOf(m);
  } catch {
    return undefined;
  }
}

function tryParse(b: Uint8Array): SipMessage | undefined {
  try {
    return parseMessage(b);
  } catch {
    return undefined;
  }
}
