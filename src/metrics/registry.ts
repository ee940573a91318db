/**
 * One Prometheus registry per node process (prom-client), served at `/metrics` in the text
 * exposition format (Prometheus "Exposition formats", text 0.0.4). Naming follows the Prometheus
 * conventions: `imsec_` prefix, `_total` for counters, `_seconds` for durations, and only labels of
 * low cardinality — a node name, a command, a reason — never an IMPI, an IMPU or an address.
 *
 * Most imsec metrics are read, at scrape time, from the counters the nodes already keep
 * ({@link absoluteCounter}, {@link readGauge}); the few that need events (SA sets created and
 * deleted, Diameter latency, store commit latency) are fed as they happen.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** One sample: its label values and its value. */
export type Sample = readonly [labels: Record<string, string>, value: number];

export interface MetricsRegistryOptions {
  /** Add prom-client's process and Node.js metrics (CPU, memory, handles, event-loop lag). Default true. */
  processMetrics?: boolean;
  /** Labels put on every series (e.g. `{ process: 'core' }`). */
  defaultLabels?: Record<string, string>;
}

/** A fresh registry with the process metrics (prom-client `collectDefaultMetrics`, prefix `imsec_`-free, as Prometheus expects them). */
export function createMetricsRegistry(opts: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (opts.defaultLabels) registry.setDefaultLabels(opts.defaultLabels);
  // nodejs_eventloop_lag_seconds and the monitorEventLoopDelay percentiles come with these.
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  return registry;
}

/**
 * A counter whose value is read from a node's own monotonic counter at every scrape. `read`
 * returns every series; a series may report 0 (it is still exported, so rates start at zero).
 */
export function absoluteCounter(registry: Registry, name: string, help: string, labelNames: readonly string[], read: () => readonly Sample[]): Counter<string> {
  return new Counter({ name, help, labelNames: [...labelNames], registers: [registry], collect: collector(read, (m, labels, v) => (m as Counter<string>).inc(labels, Math.max(0, v))) });
}

/** A gauge read at every scrape (live SA sets, registrations, pending challenges…). */
export function readGauge(registry: Registry, name: string, help: string, labelNames: readonly string[], read: () => readonly Sample[]): Gauge<string> {
  return new Gauge({ name, help, labelNames: [...labelNames], registers: [registry], collect: collector(read, (m, labels, v) => (m as Gauge<string>).set(labels, v)) });
}

/** prom-client's `collect`: forget the old series, write the ones `read` gives now. */
function collector(read: () => readonly Sample[], write: (m: Counter<string> | Gauge<string>, labels: Record<string, string>, v: number) => void) {
  return function (this: Counter<string> | Gauge<string>): void {
    this.reset();
    for (const [labels, value] of read()) write(this, labels, value);
  };
}

/** Latency buckets for requests that cross loopback or a store commit: 0.25 ms … 5 s. */
export const LATENCY_BUCKETS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
