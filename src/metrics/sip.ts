/**
 * SIP metrics per node: transactions started (RFC 3261 §17: client and server), retransmissions
 * sent on a timer (§17.1.1.2 Timer A/E, §17.2.1 Timer G) and received and absorbed, transactions
 * that timed out (Timer B/F/H), and the transport's messages and drops. Read from the stack's
 * own counters at scrape time.
 */
import type { Registry } from 'prom-client';
import type { SipStack } from '../sip/stack/index.js';
import { absoluteCounter, type Sample } from './registry.js';

/** A SIP stack of one node (undefined before the node starts). */
export interface SipStackSource {
  node: string;
  stack(): SipStack | undefined;
}

function rows(sources: readonly SipStackSource[], read: (s: SipStack, node: string) => Sample[]): Sample[] {
  return sources.flatMap((src) => {
    const s = src.stack();
    return s ? read(s, src.node) : [];
  });
}

/** Registers the SIP metrics of every stack of this process. */
export function registerSipMetrics(registry: Registry, sources: () => readonly SipStackSource[]): void {
  absoluteCounter(registry, 'imsec_sip_transactions_total', 'SIP transactions started, by node and role (client, server)', ['node', 'role'], () =>
    rows(sources(), (s, node) => [
      [{ node, role: 'client' }, s.transactions.counters.clientStarted],
      [{ node, role: 'server' }, s.transactions.counters.serverStarted],
    ]),
  );
  absoluteCounter(registry, 'imsec_sip_retransmissions_total', 'SIP retransmissions, by node and direction (sent: resent on a timer; received: absorbed by a transaction)', ['node', 'direction'], () =>
    rows(sources(), (s, node) => [
      [{ node, direction: 'sent' }, s.transactions.counters.retransmitted],
      [{ node, direction: 'received' }, s.transactions.counters.absorbed],
    ]),
  );
  absoluteCounter(registry, 'imsec_sip_transaction_timeouts_total', 'SIP transactions ended by a time-out (Timer B, F or H), by node', ['node'], () => rows(sources(), (s, node) => [[{ node }, s.transactions.counters.timedOut]]));
  absoluteCounter(registry, 'imsec_sip_messages_total', 'SIP messages through the transports, by node and direction', ['node', 'direction'], () =>
    rows(sources(), (s, node) => {
      const c = s.counters;
      return [
        [{ node, direction: 'received' }, c.received],
        [{ node, direction: 'sent' }, c.sent],
      ];
    }),
  );
  absoluteCounter(registry, 'imsec_sip_dropped_total', 'SIP messages the transports dropped, by node and reason', ['node', 'reason'], () =>
    rows(sources(), (s, node) => Object.entries(s.counters.dropped).map(([reason, v]) => [{ node, reason }, v] as const)),
  );
}
