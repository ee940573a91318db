/**
 * Prometheus metrics of the imsec nodes (R-LAB-5): one registry per process ({@link MetricsHub})
 * whose collectors read the counters the nodes keep. README "Metrics" lists every metric.
 */
export { MetricsHub, METRICS_CONTENT_TYPE } from './hub.js';
export { createMetricsRegistry, absoluteCounter, readGauge, LATENCY_BUCKETS, type Sample, type MetricsRegistryOptions } from './registry.js';
export { DiameterMetrics, MAX_METRIC_CONNECTIONS } from './diameter.js';
export { HssStoreMetrics, registerHssMetrics } from './hss.js';
export { registerSaMetrics, countSaSets, type SaSide, type SaEventSource } from './pcscf.js';
export { registerScscfMetrics, registrationSamples, akaFailureSamples, type ScscfMetricSource } from './scscf.js';
export { registerSipMetrics, type SipStackSource } from './sip.js';
export { mergeExpositions, MetricsTextError, type ProcessScrape } from './merge.js';
