/**
 * `--console-feed` of a node process (hidden: `imsec core --processes --web` gives it to the
 * nodes it starts, with an IPC channel): the node reports to its parent what the web console
 * shows, as a core in one process gives it to its console directly (web/processes-console.ts):
 * - every packet of its legs, tapped where `imsec core` taps them (its SIP transports, its
 *   Diameter connections, the P-CSCF's ESP datapath), with its own sockets declared first
 *   (capture/wire-feed.ts);
 * - the P-CSCF: each SA as it is created (keys included: the parent decodes the ESP ladder and
 *   serves the esp_sa keys to an authenticated user, as one process does), and its registrations
 *   and SA sets (without keys);
 * - the S-CSCF: its registrations.
 * The tables go at most every {@link REPORT_INTERVAL_MS}, and only after something changed: a
 * packet of the node or an SA event. Reports go together as one message (one serialization and one
 * write to the channel for them all, in their order): at the end of the event-loop turn, or at
 * once when the node is about to send a packet (its observers report a packet before the socket
 * sends it). The latter keeps the parent's trace causal: what a node received is written to its
 * channel before anything it sends because of it can reach another node, whose report of that
 * (or of what it sent in turn) could otherwise reach the parent first; the parent's event loop
 * reads the channels in the order they became readable. (One message per report cost each node
 * about four times its CPU per registration.) The channel is the parent's, never a log: nothing
 * here is written anywhere else. Packets beyond {@link MAX_IN_FLIGHT} unsent reports are dropped
 * (the parent's console is slower than the node), never the node's own work.
 */
import { Option, type Command } from 'commander';
import { tapDiameterTransport, WireRelay } from '../capture/index.js';
import type { DiameterTransport } from '../diameter/index.js';
import type { Endpoint } from '../ip/index.js';
import type { SaSet, SecurityAssociation } from '../ipsec/index.js';
import { NODE_LABELS, tapSipTransports } from '../nodes/core/index.js';
import type { PcscfDeps, PcscfNode } from '../nodes/pcscf/index.js';
import type { Scscf } from '../nodes/scscf/index.js';
import type { SipTransport } from '../sip/transport/index.js';
import { FEED_MAX_ROWS, type ConsoleFeedMessage } from '../web/index.js';

/** How often at most a node reports its tables. */
export const REPORT_INTERVAL_MS = 250;
/** Messages sent and not yet written to the channel, past which packets are dropped. */
export const MAX_IN_FLIGHT = 10_000;

type NodeLabel = (typeof NODE_LABELS)[keyof typeof NODE_LABELS];

/** Adds the hidden `--console-feed` flag to a node's command. */
export function addConsoleFeedOption(cmd: Command): Command {
  return cmd.addOption(new Option('--console-feed', 'report the wire and the tables to the parent process (imsec core --processes --web)').hideHelp());
}

/** Where a node's reports go, a turn's at a time: `process.send` of a process started with an IPC channel. */
export type FeedChannel = (batch: readonly ConsoleFeedMessage[], callback: () => void) => void;

function processChannel(): FeedChannel | undefined {
  if (typeof process.send !== 'function') return undefined;
  return (m, callback) => {
    if (!process.connected) return callback();
    try {
      process.send!(m, undefined, {}, callback);
    } catch {
      callback();
    }
  };
}

const EMPTY = new Uint8Array(0);

/** An SA as plain data; `withKeys` false: its keys left empty (a table row needs none). */
function plainSa(sa: SecurityAssociation, withKeys: boolean): SecurityAssociation {
  const k = sa.keys;
  return {
    id: sa.id,
    setId: sa.setId,
    flow: sa.flow,
    direction: sa.direction,
    spi: sa.spi,
    src: { address: sa.src.address, port: sa.src.port },
    dst: { address: sa.dst.address, port: sa.dst.port },
    transports: [...sa.transports],
    integrity: sa.integrity,
    encryption: sa.encryption,
    mode: sa.mode,
    keys: withKeys ? { integrityKey: k.integrityKey.slice(), encryptionKey: k.encryptionKey.slice(), salt: k.salt.slice() } : { integrityKey: EMPTY, encryptionKey: EMPTY, salt: EMPTY },
    impi: sa.impi,
    impus: [...sa.impus],
    state: sa.state,
  };
}

function plainSet(s: SaSet): SaSet {
  return {
    id: s.id,
    role: s.role,
    impi: s.impi,
    impus: [...s.impus],
    ue: { ...s.ue },
    pcscf: { ...s.pcscf },
    integrity: s.integrity,
    encryption: s.encryption,
    mode: s.mode,
    state: s.state,
    createdAt: s.createdAt,
    expiresAt: s.expiresAt,
    ...(s.firstInboundAt !== undefined ? { firstInboundAt: s.firstInboundAt } : {}),
    sas: s.sas.map((sa) => plainSa(sa, false)),
  };
}

/** A node process's reports to its parent (see the module comment). */
export class ConsoleFeed {
  private readonly relay: WireRelay;
  /** Reports queued or sent and not yet written to the channel. */
  private inFlight = 0;
  /** Reports not yet sent: sent together at the end of the turn or before the node's next packet leaves. */
  private batch: ConsoleFeedMessage[] = [];
  /** Whether the end of this turn is already to send the batch (one callback per turn, however often a packet sent it earlier). */
  private endOfTurn = false;
  private changed = false;
  private report: (() => ConsoleFeedMessage) | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly offs: (() => void)[] = [];
  /** Packets not reported because the channel was behind. */
  dropped = 0;

  constructor(
    private readonly node: NodeLabel,
    private readonly channel: FeedChannel,
  ) {
    this.relay = new WireRelay((m) => {
      if (m.t === 'wire') {
        this.changed = true;
        if (this.inFlight >= MAX_IN_FLIGHT) {
          this.dropped++;
          return;
        }
      }
      this.send(m);
      if (m.t === 'wire' && m.dir === 'out') this.sendBatch();
    });
    this.timer = setInterval(() => this.flush(), REPORT_INTERVAL_MS).unref();
  }

  private send(m: ConsoleFeedMessage): void {
    this.inFlight++;
    this.batch.push(m);
    if (this.endOfTurn) return;
    this.endOfTurn = true;
    setImmediate(() => {
      this.endOfTurn = false;
      this.sendBatch();
    });
  }

  private sendBatch(): void {
    const batch = this.batch;
    this.batch = [];
    if (batch.length > 0) this.channel(batch, () => (this.inFlight -= batch.length));
  }

  /** Sends the node's tables when something changed since the last report. */
  flush(): void {
    if (!this.changed || this.report === undefined) return;
    this.changed = false;
    this.send(this.report());
  }

  /** The node's Diameter transport, its connections reported too. */
  diameter(inner: DiameterTransport): DiameterTransport {
    return tapDiameterTransport(inner, this.relay.diameterObserver(this.node));
  }

  /** Declares a socket of the node (a listener whose traffic it reports). */
  own(local: Endpoint, proto?: 'udp' | 'tcp'): void {
    this.relay.own(this.node, local, proto);
  }

  /** Reports the SIP transports' traffic (a node's listeners, once it started). */
  tapSip(transports: readonly SipTransport[]): void {
    tapSipTransports(transports, this.relay.sipObserver(this.node), this.relay, this.node);
  }

  /** Observers of the node's SIP transports and ESP datapath (the P-CSCF's `sipTap` and `espTap`). */
  taps(): Required<Pick<PcscfDeps, 'espTap' | 'sipTap'>> {
    return { espTap: this.relay.espObserver(this.node), sipTap: this.relay.sipObserver(this.node) };
  }

  /** Reports the P-CSCF's SAs as they are created, and its registrations and SA sets. */
  watchPcscf(pcscf: PcscfNode): void {
    this.offs.push(
      pcscf.sa.on((e) => {
        this.changed = true;
        if (e.kind === 'saCreated') this.send({ t: 'sa', sa: plainSa(e.sa, true) });
      }),
    );
    this.report = () => ({
      t: 'pcscf',
      registrations: pcscf
        .registrations()
        .slice(0, FEED_MAX_ROWS)
        .map((r) => ({ impi: r.impi, setId: r.setId, expiresInMs: r.expiresInMs, ...(r.ending ? { ending: { reason: r.ending.reason } } : {}) })),
      sets: pcscf.sets().slice(0, FEED_MAX_ROWS).map(plainSet),
    });
  }

  /** Reports the S-CSCF's registrations. */
  watchScscf(scscf: Scscf): void {
    this.report = () => ({
      t: 'scscf',
      registrations: scscf
        .registrations()
        .slice(0, FEED_MAX_ROWS)
        .map((r) => ({ aor: r.aor, impi: r.impi, impus: [...r.impus], bindings: r.bindings.map((b) => ({ uri: b.uri, expiresAt: b.expiresAt })) })),
    });
  }

  /** Stops reporting (the node stops). */
  close(): void {
    clearInterval(this.timer);
    for (const off of this.offs.splice(0)) off();
  }
}

/** The node's feed when it runs with `--console-feed` under a parent with an IPC channel; otherwise undefined. */
export function consoleFeedFor(o: { consoleFeed?: boolean }, node: keyof typeof NODE_LABELS): ConsoleFeed | undefined {
  const channel = o.consoleFeed === true ? processChannel() : undefined;
  return channel === undefined ? undefined : new ConsoleFeed(NODE_LABELS[node], channel);
}
