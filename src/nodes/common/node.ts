/**
 * The one shape of every IMS node (HSS, S-CSCF, I-CSCF, P-CSCF, UE) and of the core that
 * assembles them (README "The network and its commands"): built unstarted by its
 * `create…(config, deps)`, then
 *
 * ```ts
 * const node = createPcscf(config, deps);   // nothing bound yet: status().state === 'created'
 * await node.start();                       // binds; 'running'
 * node.address();                           // { sip: { address, port, protocols } } as bound
 * node.counters();                          // the node's counters (one read-only record)
 * await node.stop();                        // 'stopped'; a second stop() resolves the same way
 * ```
 *
 * {@link NodeLifecycle} holds the state machine all of them share. Pure.
 */
import { InvalidArgumentError, type Clock } from '../../common/index.js';

/** Which node. */
export type NodeKind = 'hss' | 'scscf' | 'icscf' | 'pcscf' | 'ue' | 'core';

/** created → starting → running → stopping → stopped; a failed start ends in stopped too. */
export type NodeState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

/** What `status()` reports at least (a node may add its own fields, e.g. its peers). */
export interface NodeStatus {
  readonly kind: NodeKind;
  readonly state: NodeState;
  /** When the node entered `state`, ms on its clock. */
  readonly since: number;
}

/** An address and port a node bound. */
export interface NodeEndpoint {
  readonly address: string;
  readonly port: number;
}

/** The unprotected SIP endpoint: one port for every protocol (UDP and TCP bind the same one). */
export interface SipAddress extends NodeEndpoint {
  readonly protocols: readonly ('udp' | 'tcp')[];
}

/** What a node bound, by protocol (empty before start). */
export interface NodeAddress {
  readonly sip?: SipAddress;
  /** The Diameter listener (the HSS; the CSCFs connect out and bind none). */
  readonly diameter?: NodeEndpoint;
  /** The HTTP listener (the HSS's provisioning REST API). */
  readonly http?: NodeEndpoint;
}

/** A running IMS node (see the module comment). `C` is the node's counters record. */
export interface ImsNode<C extends object = object> {
  readonly kind: NodeKind;
  /** Binds and connects; once. When it rejects, `stop()` closes what it had opened. */
  start(): Promise<void>;
  /** Closes every socket, timer and owned store; idempotent (later calls resolve when the first did). */
  stop(): Promise<void>;
  status(): NodeStatus;
  /** What the node bound (after start; throws before). */
  address(): NodeAddress;
  counters(): Readonly<C>;
}

/**
 * The lifecycle every node shares. A node's `start()` calls {@link begin} first (it throws unless
 * the node is `created`: a node starts once) and {@link running} when it serves; its `stop()` is
 * `lifecycle.stop(close)`, which runs `close` at most once (not at all for a node never started)
 * and returns the same promise to every caller. A start that fails leaves the node `starting`;
 * `stop()` then closes what it had opened.
 */
export class NodeLifecycle {
  private current: NodeState = 'created';
  private at: number;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly kind: NodeKind,
    private readonly clock: Clock,
  ) {
    this.at = clock.now();
  }

  get state(): NodeState {
    return this.current;
  }

  status(): NodeStatus {
    return { kind: this.kind, state: this.current, since: this.at };
  }

  /** created → starting; throws for a node already started or stopped. */
  begin(): void {
    if (this.current !== 'created') throw new InvalidArgumentError(`${this.kind} cannot start: it is ${this.current}`);
    this.enter('starting');
  }

  /** starting → running (a node stopped meanwhile stays stopped). */
  running(): void {
    if (this.current === 'starting') this.enter('running');
  }

  /** Runs `close` once (not at all if never started); every call resolves when it has finished. */
  stop(close: () => Promise<void>): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.current === 'created') {
      this.enter('stopped');
      this.stopping = Promise.resolve();
      return this.stopping;
    }
    this.enter('stopping');
    this.stopping = close().finally(() => this.enter('stopped'));
    return this.stopping;
  }

  private enter(state: NodeState): void {
    this.current = state;
    this.at = this.clock.now();
  }
}
