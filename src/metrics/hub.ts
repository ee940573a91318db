/**
 * The metrics of one process: a prom-client registry with every imsec metric registered once,
 * and the nodes of the process added to it as they start (`imsec core` adds all four, `imsec
 * pcscf` one, the demo its UEs too). Several nodes share a metric through its `node` or `side`
 * label. See README "Metrics" for the table of every metric.
 */
import type { Registry } from 'prom-client';
import type { WireSink } from '../capture/index.js';
import type { HssServer } from '../nodes/hss/index.js';
import type { Icscf } from '../nodes/icscf/index.js';
import type { PcscfNode } from '../nodes/pcscf/index.js';
import type { Scscf } from '../nodes/scscf/index.js';
import type { Ue } from '../nodes/ue/index.js';
import type { HssStore } from '../store/index.js';
import { DiameterMetrics } from './diameter.js';
import { HssStoreMetrics, registerHssMetrics } from './hss.js';
import { registerSaMetrics, type SaSide } from './pcscf.js';
import { createMetricsRegistry, absoluteCounter, readGauge, type MetricsRegistryOptions, type Sample } from './registry.js';
import { registerScscfMetrics } from './scscf.js';
import { registerSipMetrics, type SipStackSource } from './sip.js';

/** Prometheus text exposition format 0.0.4. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Every imsec metric of one process (see the module comment). */
export class MetricsHub {
  readonly registry: Registry;
  readonly diameter: DiameterMetrics;
  readonly store: HssStoreMetrics;
  private scscf: Scscf | undefined;
  private hss: HssServer | undefined;
  private icscf: Icscf | undefined;
  private readonly sides: SaSide[] = [];
  private readonly stacks: SipStackSource[] = [];
  private readonly sa: ReturnType<typeof registerSaMetrics>;

  constructor(opts: MetricsRegistryOptions = {}) {
    this.registry = createMetricsRegistry(opts);
    this.diameter = new DiameterMetrics(this.registry);
    this.store = new HssStoreMetrics(this.registry);
    registerScscfMetrics(this.registry, {
      counters: () => this.scscf!.counters(),
      registrations: () => this.scscf!.registrations().length,
    }, () => this.scscf !== undefined);
    registerHssMetrics(this.registry, () => this.hss?.counters());
    this.sa = registerSaMetrics(this.registry, () => this.sides, []);
    registerSipMetrics(this.registry, () => this.stacks);
    readGauge(this.registry, 'imsec_diameter_peers', 'Diameter peers of each node by state (RFC 6733 §5.6 peer state machine: up = open and usable; suspect = watchdog unanswered)', ['node', 'status'], () => this.peerSamples());
    absoluteCounter(this.registry, 'imsec_icscf_requests_total', 'SIP requests handled by the I-CSCF, by Cx query made (uar, lir) or forwarded', ['step'], () => {
      const c = this.icscf?.core.counters;
      if (!c) return [];
      return [
        [{ step: 'uar' }, c.uar],
        [{ step: 'lir' }, c.lir],
        [{ step: 'forwarded' }, c.forwarded],
      ];
    });
  }

  /** Peers per node and status, read from the nodes (HSS: every peer; S-CSCF and I-CSCF: their HSS). */
  private peerSamples(): Sample[] {
    const rows: Sample[] = [];
    const add = (node: string, statuses: readonly string[]): void => {
      const by = new Map<string, number>([['up', 0], ['down', 0], ['suspect', 0]]);
      for (const st of statuses) by.set(st, (by.get(st) ?? 0) + 1);
      for (const [status, n] of by) rows.push([{ node, status }, n]);
    };
    if (this.hss) add('hss', Object.values(this.hss.status().peers));
    if (this.scscf) {
      const s = this.scscf.diameter?.peerState(this.scscf.config.diameter.hss.host);
      add('scscf', [s?.usable ? 'up' : 'down']);
    }
    if (this.icscf) {
      let hss: string;
      try {
        hss = this.icscf.status().hss;
      } catch {
        hss = 'down'; // not started yet
      }
      add('icscf', [hss]);
    }
    return rows;
  }

  /** A wire sink for the Diameter connections of `node`. */
  diameterSink(node: string): WireSink {
    return this.diameter.sink(node.toLowerCase().replace(/-/g, ''));
  }

  /** The HSS store with its writes timed and its SQNs counted. */
  wrapStore(store: HssStore): HssStore {
    return this.store.wrap(store);
  }

  addScscf(s: Scscf, node = 'scscf'): void {
    this.scscf = s;
    this.stacks.push({ node, stack: () => s.stack });
  }

  addHss(h: HssServer): void {
    this.hss = h;
  }

  addIcscf(i: Icscf, node = 'icscf'): void {
    this.icscf = i;
    this.stacks.push({ node, stack: () => i.stack });
  }

  addPcscf(p: PcscfNode, node = 'pcscf'): void {
    this.stacks.push({ node, stack: () => p.sipStack });
    const side: SaSide = {
      side: 'pcscf',
      sa: p.sa,
      esp: () => {
        const d = p.datapathCounters();
        return d?.kind === 'userspace' ? d.counters : undefined;
      },
      portRuleDrops: () => p.counters().portRuleRejected ?? 0,
    };
    this.sides.push(side);
    this.sa.attach(side);
  }

  /** A soft UE of this process (the demo): its SAs, ESP and port-rule drops under `side="ue"`. */
  addUe(u: Ue): void {
    const side: SaSide = { side: 'ue', sa: u.sa, esp: () => u.counters().datapath, portRuleDrops: () => u.counters().portRule };
    this.sides.push(side);
    this.sa.attach(side);
  }

  /** The exposition text. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Detaches the SA listeners. */
  close(): void {
    this.sa.detach();
  }
}
