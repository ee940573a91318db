/**
 * R-LAB-5: the metrics of a known scenario, exactly. The demo (nodes/demo/scenario.ts) runs the
 * whole TS 33.203 flow once: alice and bob register (IMS AKA, sec-agree, SAs), alice sends bob a
 * MESSAGE over both protected legs, alice re-registers with SA change-over (R-RR-1/2), then both
 * de-register (R-SA-7). Every count below follows from that script and the specs it runs.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsHub } from '../../src/metrics/index.js';
import { parseCoreConfig } from '../../src/nodes/core/index.js';
import { runDemo, type DemoResult } from '../../src/nodes/demo/index.js';
import { demoConsoleHooks } from '../../src/web/index.js';
import { parseExposition, type Samples } from './exposition.js';

describe('metrics after the demo (README "Metrics")', () => {
  let m: Samples;
  /** A scrape taken after the script, while the core still runs. */
  let live: Samples;
  let result: DemoResult;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-metrics-'));
    const hub = new MetricsHub();
    const d = demoConsoleHooks({
      hub,
      hold: async () => {
        live = parseExposition(await hub.metrics());
      },
    });
    try {
      const config = parseCoreConfig({ dataDir: dir, hss: { diameterPort: 0 }, scscf: { sipPort: 0 }, icscf: { sipPort: 0 }, pcscf: { sipPort: 0, protectedPorts: 'auto' }, logLevel: 'silent' });
      result = await runDemo({ config, out: () => undefined, hooks: d.hooks });
      m = parseExposition(await hub.metrics());
    } finally {
      await d.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('[R-LAB-5] [R-REG-1] registrations by kind and outcome, AKA challenges and failures (TS 33.203 §6.1)', () => {
    assert.equal(result.ok, true, result.failure?.message);
    assert.equal(m.get('imsec_registrations_total', { kind: 'initial', outcome: 'success' }), 2);
    assert.equal(m.get('imsec_registrations_total', { kind: 're', outcome: 'success' }), 1);
    assert.equal(m.get('imsec_registrations_total', { kind: 'de', outcome: 'success' }), 2);
    assert.equal(m.get('imsec_registrations_total', { kind: 'network_initiated', outcome: 'success' }), 0);
    assert.equal(m.get('imsec_registrations_total', { kind: 'initial', outcome: 'failure' }), 0);
    assert.equal(m.get('imsec_aka_challenges_total'), 3, 'two registrations and one re-registration, each with AKA');
    for (const reason of ['mac', 'sync', 'wrong_res', 'timeout']) assert.equal(m.get('imsec_aka_failures_total', { reason }), 0, reason);
    assert.equal(m.get('imsec_registrations'), 0, 'nobody is left registered');
  });

  test('[R-LAB-5] [R-SA-7] [R-RR-2] SA sets: 3 created per side; the old set outlives the change-over by 64·T1 (R-RR-2), so the de-registrations end all three; none live', () => {
    for (const side of ['pcscf', 'ue']) {
      assert.equal(m.get('imsec_sa_sets_created_total', { side }), 3, side);
      assert.equal(m.get('imsec_sa_sets_deleted_total', { side, reason: 'replaced' }) ?? 0, 0, side);
      assert.equal(m.get('imsec_sa_sets_deleted_total', { side, reason: 'deregistered' }), 3, side);
    }
    assert.equal(m.all('imsec_sa_sets').reduce((t, s) => t + s.value, 0), 0);
  });

  test('[R-LAB-5] [R-SA-8] ESP: what one side sends the other receives, packets and bytes; no ICV failure, no replay', () => {
    const pkts = (side: string, direction: string) => m.get('imsec_esp_packets_total', { side, direction });
    const bytes = (side: string, direction: string) => m.get('imsec_esp_bytes_total', { side, direction });
    assert.equal(pkts('pcscf', 'in')! + pkts('pcscf', 'out')!, result.messages.esp, 'one ESP packet per protected message of the ladder');
    assert.equal(pkts('pcscf', 'in'), pkts('ue', 'out'));
    assert.equal(pkts('pcscf', 'out'), pkts('ue', 'in'));
    assert.equal(bytes('pcscf', 'in'), bytes('ue', 'out'));
    assert.equal(bytes('pcscf', 'out'), bytes('ue', 'in'));
    assert.ok(bytes('pcscf', 'in')! > 0);
    for (const side of ['pcscf', 'ue']) {
      assert.equal(m.get('imsec_esp_icv_failures_total', { side }), 0);
      assert.equal(m.get('imsec_esp_replays_dropped_total', { side }), 0);
      assert.equal(m.get('imsec_port_rule_drops_total', { side }), 0);
    }
  });

  test('[R-LAB-5] [R-CX-2] Diameter by command and result, seen from both ends, with latency; SQNs and store commits', () => {
    const both = (command: string, result: string, n: number, client: string) => {
      assert.equal(m.get('imsec_diameter_requests_total', { node: 'hss', role: 'server', command, result }), n, `${command} ${result} at the HSS`);
      assert.equal(m.get('imsec_diameter_requests_total', { node: client, role: 'client', command, result }), n, `${command} ${result} at the ${client}`);
    };
    both('MAR', '2001', 3, 'scscf');
    both('SAR', '2001', 5, 'scscf'); // REGISTRATION ×2, RE_REGISTRATION, USER_DEREGISTRATION ×2 (TS 29.228 §6.1.2)
    both('UAR', '2001', 6, 'icscf'); // DIAMETER_FIRST_REGISTRATION … (each REGISTER crosses the I-CSCF)
    both('UAR', '2002', 2, 'icscf'); // DIAMETER_SUBSEQUENT_REGISTRATION
    assert.equal(m.get('imsec_diameter_request_duration_seconds_count', { node: 'hss', role: 'server', command: 'MAR' }), 3);
    assert.ok(m.get('imsec_diameter_request_duration_seconds_sum', { node: 'scscf', role: 'client', command: 'MAR' })! > 0);
    for (const node of ['scscf', 'icscf']) assert.equal(live.get('imsec_diameter_peers', { node, status: 'up' }), 1, `${node} has its HSS up`);
    assert.equal(live.get('imsec_diameter_peers', { node: 'hss', status: 'up' }), 2, 'the HSS has the S-CSCF and the I-CSCF');
    for (const node of ['scscf', 'icscf']) assert.equal(m.get('imsec_diameter_peers', { node, status: 'up' }), 0, `${node}: down once the core stopped`);
    assert.equal(m.get('imsec_hss_sqn_allocations_total'), 3, 'one SQN per vector (TS 33.102 Annex C), one vector per challenge');
    assert.equal(m.get('imsec_hss_vectors_total'), 3);
    assert.equal(m.get('imsec_hss_store_commit_seconds_count', { op: 'allocateSqnsMany' }) ?? m.get('imsec_hss_store_commit_seconds_count', { op: 'allocateSqns' }), 3);
  });

  test('[R-LAB-5] SIP transactions and retransmissions per node; process metrics and event-loop lag are exported', () => {
    const tx = (node: string, role: string) => m.get('imsec_sip_transactions_total', { node, role });
    assert.equal(tx('pcscf', 'server'), 15);
    assert.equal(tx('scscf', 'server'), 11);
    for (const node of ['pcscf', 'icscf', 'scscf']) {
      assert.equal(m.get('imsec_sip_retransmissions_total', { node, direction: 'sent' }), 0, node);
      assert.equal(m.get('imsec_sip_transaction_timeouts_total', { node }), 0, node);
    }
    const names = m.names();
    for (const n of ['nodejs_eventloop_lag_seconds', 'process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes']) assert.ok(names.has(n), n);
  });

  test('[R-LAB-5] labels have low cardinality: no series names an IMPI, an IMPU or an address', () => {
    for (const name of m.names()) {
      for (const s of m.all(name)) {
        for (const v of Object.values(s.labels)) assert.doesNotMatch(v, /@|sip:|tel:|\d+\.\d+\.\d+\.\d+|::/, `${name} ${JSON.stringify(s.labels)}`);
      }
    }
  });
});
