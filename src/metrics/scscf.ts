/**
 * S-CSCF metrics: registrations by kind and outcome and IMS AKA failures by reason (TS 33.203
 * §6.1, TS 24.229 §5.4.1), read from the registrar's own counters at scrape time.
 */
import type { Registry } from 'prom-client';
import type { ScscfCounters } from '../nodes/scscf/index.js';
import { absoluteCounter, readGauge, type Sample } from './registry.js';

/** What the S-CSCF metrics read. */
export interface ScscfMetricSource {
  counters(): ScscfCounters;
  /** Registrations held now (one per registered AoR). */
  registrations(): number;
}

/** Rows of `imsec_registrations_total` from the registrar counters. */
export function registrationSamples(c: ScscfCounters): Sample[] {
  return [
    [{ kind: 'initial', outcome: 'success' }, c.registrations],
    [{ kind: 're', outcome: 'success' }, c.reregistrations],
    [{ kind: 'de', outcome: 'success' }, c.deregistrations],
    [{ kind: 'network_initiated', outcome: 'success' }, c.networkDeregistrations],
    [{ kind: 'initial', outcome: 'failure' }, c.failedInitial],
    [{ kind: 're', outcome: 'failure' }, c.failedRe],
  ];
}

/** Rows of `imsec_aka_failures_total`: TS 33.102 §6.3.3 (MAC at the UE, SQN resync), §6.3.6 (wrong RES), TS 24.229 reg-await-auth. */
export function akaFailureSamples(c: ScscfCounters): Sample[] {
  return [
    [{ reason: 'mac' }, c.networkAuthFailures],
    [{ reason: 'sync' }, c.resyncs],
    [{ reason: 'wrong_res' }, c.authFailures],
    [{ reason: 'timeout' }, c.authTimeouts],
  ];
}

/** Registers the S-CSCF metrics. */
export function registerScscfMetrics(registry: Registry, s: ScscfMetricSource, present: () => boolean = () => true): void {
  const when = (read: () => Sample[]) => () => (present() ? read() : []);
  absoluteCounter(registry, 'imsec_registrations_total', 'Registrations handled by the S-CSCF, by kind (initial, re, de, network_initiated) and outcome', ['kind', 'outcome'], when(() => registrationSamples(s.counters())));
  absoluteCounter(registry, 'imsec_aka_failures_total', 'IMS AKA failures by reason: mac (UE found a bad MAC), sync (AUTS resynchronisation), wrong_res, timeout', ['reason'], when(() => akaFailureSamples(s.counters())));
  absoluteCounter(registry, 'imsec_aka_challenges_total', 'IMS AKA challenges (401 with a fresh vector) sent by the S-CSCF', [], when(() => [[{}, s.counters().challenges]]));
  readGauge(registry, 'imsec_registrations', 'Registrations held by the S-CSCF now', [], when(() => [[{}, s.registrations()]]));
  absoluteCounter(registry, 'imsec_scscf_unavailable_total', 'REGISTERs the S-CSCF answered 503 with Retry-After, by reason: overload (overload.maxRegistrations in progress), hss (no answer in time, no usable peer, DIAMETER_TOO_BUSY)', ['reason'], when(() => {
    const c = s.counters();
    return [[{ reason: 'overload' }, c.overloadRejected], [{ reason: 'hss' }, c.hssBusy]];
  }));
  readGauge(registry, 'imsec_scscf_registering', 'REGISTERs in progress at the S-CSCF (received, not yet answered)', [], when(() => [[{}, s.counters().registering]]));
}
