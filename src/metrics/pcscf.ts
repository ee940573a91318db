/**
 * P-CSCF and UE security metrics: SA sets live, created and deleted by reason (TS 33.203 §7.4,
 * R-SA-7), ESP packets and bytes per direction, ICV failures and replays dropped (RFC 4303 §3.4.3,
 * §3.4.4, R-SA-8), and requests dropped by the port rules (TS 33.203 §7.1, R-SA-5).
 *
 * Sets are counted from the SA manager's events (every SA of a set is created at once, and the
 * set's `deleted` state change carries the reason of its last SA); everything else is read from
 * the datapath and node counters at scrape time.
 */
import { Counter, type Registry } from 'prom-client';
import type { SaDeleteReason, SaEvent } from '../ipsec/index.js';
import type { UdpEncapCounters } from '../ipsec/udp-encap/index.js';
import { absoluteCounter, readGauge, type Sample } from './registry.js';

/** An SA manager as the metrics see it. */
export interface SaEventSource {
  on(listener: (e: SaEvent) => void): () => void;
  sets(): readonly { state: string }[];
}

/** One side that holds SAs: `pcscf`, or `ue` (the demo's UEs). */
export interface SaSide {
  side: 'pcscf' | 'ue';
  sa: SaEventSource;
  /** Userspace ESP counters (undefined for the kernel datapath or before start). */
  esp(): UdpEncapCounters | undefined;
  /** Requests refused by the port rules (R-SA-5). */
  portRuleDrops(): number;
}

/** Feeds the SA-set counters from the manager's events; returns the unsubscribe function. */
export function countSaSets(sa: SaEventSource, side: string, created: Counter<string>, deleted: Counter<string>): () => void {
  const lastReason = new Map<number, SaDeleteReason>();
  const seen = new Set<number>();
  return sa.on((e) => {
    if (e.kind === 'saCreated' && !seen.has(e.sa.setId)) {
      seen.add(e.sa.setId);
      created.inc({ side });
    } else if (e.kind === 'saDeleted') {
      lastReason.set(e.sa.setId, e.reason);
    } else if (e.kind === 'setStateChanged' && e.to === 'deleted') {
      deleted.inc({ side, reason: lastReason.get(e.set.id) ?? 'removed' });
      lastReason.delete(e.set.id);
      seen.delete(e.set.id);
    }
  });
}

function espSamples(sides: readonly SaSide[], pick: (c: UdpEncapCounters) => [number, number]): Sample[] {
  const out: Sample[] = [];
  for (const s of sides) {
    const c = s.esp();
    if (!c) continue;
    const [inbound, outbound] = pick(c);
    out.push([{ side: s.side, direction: 'in' }, inbound], [{ side: s.side, direction: 'out' }, outbound]);
  }
  return out;
}

function sum(sides: readonly SaSide[], read: (s: SaSide) => number | undefined): Sample[] {
  const by = new Map<string, number>();
  for (const s of sides) by.set(s.side, (by.get(s.side) ?? 0) + (read(s) ?? 0));
  return [...by].map(([side, v]) => [{ side }, v] as const);
}

/** Registers the SA, ESP and port-rule metrics for every side; returns a function that detaches the event listeners. */
export function registerSaMetrics(registry: Registry, sides: () => readonly SaSide[], attach: readonly SaSide[]): { attach(s: SaSide): () => void; detach(): void } {
  const created = new Counter({ name: 'imsec_sa_sets_created_total', help: 'IPsec SA sets (four SAs each) created, by side', labelNames: ['side'], registers: [registry] });
  const deleted = new Counter({ name: 'imsec_sa_sets_deleted_total', help: 'IPsec SA sets deleted, by side and reason (expired, deregistered, replaced, failed, removed…)', labelNames: ['side', 'reason'], registers: [registry] });
  readGauge(registry, 'imsec_sa_sets', 'IPsec SA sets live now, by side and state (temporary, active, expiring)', ['side', 'state'], () => {
    const by = new Map<string, number>();
    for (const s of sides()) for (const set of s.sa.sets()) by.set(`${s.side}|${set.state}`, (by.get(`${s.side}|${set.state}`) ?? 0) + 1);
    return [...by].map(([k, v]) => {
      const [side, state] = k.split('|');
      return [{ side, state }, v] as const;
    });
  });
  absoluteCounter(registry, 'imsec_esp_packets_total', 'ESP packets on the protected ports (userspace ESP-in-UDP datapath), by side and direction', ['side', 'direction'], () => espSamples(sides(), (c) => [c.received, c.sent]));
  absoluteCounter(registry, 'imsec_esp_bytes_total', 'ESP bytes (UDP payload: the whole ESP packet) on the protected ports, by side and direction', ['side', 'direction'], () => espSamples(sides(), (c) => [c.bytesReceived, c.bytesSent]));
  absoluteCounter(registry, 'imsec_esp_icv_failures_total', 'Inbound ESP packets dropped for a bad integrity check value (RFC 4303 §3.4.4)', ['side'], () => sum(sides(), (s) => s.esp()?.dropped.icv));
  absoluteCounter(registry, 'imsec_esp_replays_dropped_total', 'Inbound ESP packets dropped by the anti-replay window (RFC 4303 §3.4.3)', ['side'], () => sum(sides(), (s) => s.esp()?.dropped.replay));
  absoluteCounter(registry, 'imsec_esp_dropped_total', 'Inbound ESP-in-UDP datagrams dropped for any reason (not-esp, no-sa, malformed, spi, icv, replay, inner, selector)', ['side', 'reason'], () =>
    sides().flatMap((s) => Object.entries(s.esp()?.dropped ?? {}).map(([reason, v]) => [{ side: s.side, reason }, v] as const)),
  );
  absoluteCounter(registry, 'imsec_port_rule_drops_total', 'SIP messages refused by the protected/unprotected port rules (TS 33.203 §7.1)', ['side'], () => sum(sides(), (s) => s.portRuleDrops()));
  const offs: (() => void)[] = [];
  const attachOne = (s: SaSide): (() => void) => {
    const off = countSaSets(s.sa, s.side, created, deleted);
    offs.push(off);
    return off;
  };
  for (const s of attach) attachOne(s);
  return {
    attach: attachOne,
    detach: () => {
      for (const off of offs.splice(0)) off();
    },
  };
}
