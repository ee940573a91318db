/**
 * Diameter metrics from the bytes of each connection (the same wire observer the capture uses,
 * capture/tap-diameter.ts): every request a node sends or receives is counted when its answer
 * crosses the same connection, by command (TS 29.229 §6.1: UAR, MAR, SAR, LIR, RTR, PPR; RFC 6733
 * base commands too) and Result-Code or Experimental-Result-Code, and timed from request to
 * answer (matched by Hop-by-Hop Identifier, RFC 6733 §3). `role` is `client` for requests the
 * node sent (the peer's answer time) and `server` for requests it served (its own handling time).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { WireSink } from '../capture/index.js';
import { DiameterFramer, peekHeader, peekResultCode } from '../diameter/index.js';
import { DIAMETER_COMMANDS } from '../nodes/demo/index.js';
import { LATENCY_BUCKETS } from './registry.js';

/** Requests awaiting their answer per connection, at most this many (a peer that never answers cannot grow it). */
const MAX_OUTSTANDING = 4096;
/**
 * Connections followed per sink, at most this many: the one least recently heard from is
 * forgotten first (the sink is not told when a connection closes, and each reconnect is a new
 * pair of ends).
 */
export const MAX_METRIC_CONNECTIONS = 256;

function commandName(code: number): string {
  return DIAMETER_COMMANDS[code]?.[0] ?? 'other';
}

/** `2001`, or `5001` of an Experimental-Result (TS 29.229 §6.2); `none` when the answer has neither. */
function resultLabel(raw: Uint8Array): string {
  const code = peekResultCode(raw);
  return code === undefined ? 'none' : String(code);
}

/** What a sink keeps of one connection: a framer per direction and the requests awaiting their answer, by Hop-by-Hop Identifier. */
interface FollowedConnection {
  in: DiameterFramer;
  out: DiameterFramer;
  pending: Map<number, { at: number; role: string; command: string }>;
}

/** The Diameter counters and latency histogram of one registry, fed by per-node wire sinks. */
export class DiameterMetrics {
  readonly requests: Counter<string>;
  readonly latency: Histogram<string>;

  constructor(
    registry: Registry,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.requests = new Counter({ name: 'imsec_diameter_requests_total', help: 'Diameter requests answered, by node, role (client: sent by the node; server: served by it), command and result code', labelNames: ['node', 'role', 'command', 'result'], registers: [registry] });
    this.latency = new Histogram({ name: 'imsec_diameter_request_duration_seconds', help: 'Diameter request to answer time, by node, role and command', labelNames: ['node', 'role', 'command'], buckets: LATENCY_BUCKETS, registers: [registry] });
  }

  /** A wire sink for the Diameter connections of `node` (give it to tapDiameterTransport). */
  sink(node: string): WireSink {
    // Per connection, in least-recently-used order.
    const conns = new Map<string, FollowedConnection>();
    return (dir, bytes, local, remote) => {
      const key = `${local.address}:${local.port}|${remote.address}:${remote.port}`;
      let c = conns.get(key);
      if (c === undefined) {
        if (conns.size >= MAX_METRIC_CONNECTIONS) conns.delete(conns.keys().next().value as string);
        c = { in: new DiameterFramer(), out: new DiameterFramer(), pending: new Map() };
      } else conns.delete(key);
      conns.set(key, c);
      const f = c[dir];
      const table = c.pending;
      try {
        // Header fields and the result read in place: the node decodes the message itself.
        f.pushFrames(bytes, (raw) => {
          const m = peekHeader(raw);
          if (m.request) {
            if (table.size >= MAX_OUTSTANDING) table.delete(table.keys().next().value as number);
            table.set(m.hopByHop, { at: this.now(), role: dir === 'out' ? 'client' : 'server', command: commandName(m.commandCode) });
            return;
          }
          const req = table.get(m.hopByHop);
          if (!req) return;
          table.delete(m.hopByHop);
          this.requests.inc({ node, role: req.role, command: req.command, result: resultLabel(raw) });
          this.latency.observe({ node, role: req.role, command: req.command }, (this.now() - req.at) / 1000);
        });
      } catch {
        // A broken stream is the peer code's business; the metrics read this direction afresh.
        c[dir] = new DiameterFramer();
      }
    };
  }
}
