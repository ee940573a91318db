/**
 * R-LAB-5 collectors in isolation, with injected clocks: the Diameter request/answer matching
 * (RFC 6733 §3: Hop-by-Hop Identifier) and its latency, a request split over TCP reads, the
 * HSS store wrapper's SQN count (TS 33.102 Annex C) and commit timing, SA-set counting from the
 * SA manager's events, and the message-text redaction of the console (TS 24.229 §5.4.1.2.1 ik/ck,
 * TS 29.229 §6.3 Confidentiality-Key, Integrity-Key, SIP-Authorization).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { buildMaa, buildMar, CxResult, encodeMessage, type SipAuthDataItem } from '../../src/diameter/index.js';
import { HssStoreMetrics, DiameterMetrics, MAX_METRIC_CONNECTIONS, countSaSets, type SaEventSource } from '../../src/metrics/index.js';
import type { SaEvent, SecurityAssociation, SaSet } from '../../src/ipsec/index.js';
import { openStore } from '../../src/store/index.js';
import { provisionSubscriber } from '../../src/nodes/hss/provisioning.js';
import { diameterText, redactSipText } from '../../src/web/message-text.js';
import { parseExposition } from './exposition.js';
import { Counter } from 'prom-client';

const head = { sessionId: 'scscf.ims.lab;1;1', originHost: 'scscf.ims.lab', originRealm: 'ims.lab', destinationRealm: 'ims.lab' };
const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
// TS 35.208 test set 1 outputs, used as the secrets an MAA carries.
const XRES = 'a54211d5e3ba50bf';
const CK = 'b40ba9a3c58b2a05bbf0d987b21bf8cb';
const IK = 'f769bcd751044604127672711c6d3441';

function marAndMaa(hopByHop: number) {
  const mar = buildMar({ ...head, userName: 'alice@ims.lab', publicIdentity: 'sip:alice@ims.lab', sipAuthDataItem: { scheme: 'Digest-AKAv1-MD5' }, sipNumberAuthItems: 1, serverName: 'sip:scscf.ims.lab' }, { hopByHop, endToEnd: hopByHop });
  const item: SipAuthDataItem = { itemNumber: 1, scheme: 'Digest-AKAv1-MD5', authenticate: hex('23553cbe9637a89d218ae64dae47bf35' + '55f328b43577b9b94a9ffac354dfafb3'), authorization: hex(XRES), confidentialityKey: hex(CK), integrityKey: hex(IK) };
  const maa = buildMaa(mar, { originHost: 'hss.ims.lab', originRealm: 'ims.lab', result: CxResult.SUCCESS, sipNumberAuthItems: 1, sipAuthDataItems: [item] });
  return { mar, maa };
}

describe('Diameter metrics from the wire (RFC 6733 §3)', () => {
  test('[R-LAB-5] [R-CX-2] a request is counted when its answer comes back on the same connection, by command and result, timed by the injected clock', async () => {
    const registry = new Registry();
    let now = 1000;
    const d = new DiameterMetrics(registry, () => now);
    const sink = d.sink('S-CSCF');
    const local = { address: '127.0.0.1', port: 40000 };
    const remote = { address: '127.0.0.1', port: 3868 };
    const one = marAndMaa(7);
    const two = marAndMaa(8);
    const marBytes = encodeMessage(one.mar);
    // The first MAR arrives at the transport in two pieces (framing across TCP reads).
    sink('out', marBytes.subarray(0, 10), local, remote, 'tcp');
    sink('out', marBytes.subarray(10), local, remote, 'tcp');
    sink('out', encodeMessage(two.mar), local, remote, 'tcp');
    now += 3; // ms
    sink('in', encodeMessage(two.maa), local, remote, 'tcp');
    now += 2;
    sink('in', encodeMessage(one.maa), local, remote, 'tcp');
    // An answer nobody asked for is not counted.
    sink('in', encodeMessage(marAndMaa(99).maa), local, remote, 'tcp');
    const m = parseExposition(await registry.metrics());
    assert.equal(m.get('imsec_diameter_requests_total', { node: 'S-CSCF', role: 'client', command: 'MAR', result: '2001' }), 2);
    assert.equal(m.get('imsec_diameter_request_duration_seconds_count', { node: 'S-CSCF', role: 'client', command: 'MAR' }), 2);
    assert.equal(m.get('imsec_diameter_request_duration_seconds_sum', { node: 'S-CSCF', role: 'client', command: 'MAR' }), 0.008);
    assert.equal(m.get('imsec_diameter_request_duration_seconds_bucket', { node: 'S-CSCF', role: 'client', command: 'MAR', le: '0.0025' }), 0);
    assert.equal(m.get('imsec_diameter_request_duration_seconds_bucket', { node: 'S-CSCF', role: 'client', command: 'MAR', le: '0.005' }), 2);
  });

  test('[R-LAB-5] a request received is counted under role="server"; garbage on a flow stops that flow only', async () => {
    const registry = new Registry();
    const d = new DiameterMetrics(registry, () => 0);
    const sink = d.sink('hss');
    const a = { address: '127.0.0.1', port: 3868 };
    const b = { address: '127.0.0.1', port: 40001 };
    const { mar, maa } = marAndMaa(1);
    sink('in', new Uint8Array(40).fill(0xff), a, { address: '127.0.0.1', port: 1 }, 'tcp');
    sink('in', encodeMessage(mar), a, b, 'tcp');
    sink('out', encodeMessage(maa), a, b, 'tcp');
    const m = parseExposition(await registry.metrics());
    assert.equal(m.get('imsec_diameter_requests_total', { node: 'hss', role: 'server', command: 'MAR', result: '2001' }), 1);
  });
  test('[R-LAB-5] a sink follows at most MAX_METRIC_CONNECTIONS connections, forgetting the one least recently heard from', async () => {
    const registry = new Registry();
    const d = new DiameterMetrics(registry, () => 0);
    const sink = d.sink('S-CSCF');
    const hss = { address: '127.0.0.1', port: 3868 };
    const end = (port: number) => ({ address: '127.0.0.1', port });
    const one = marAndMaa(1);
    const two = marAndMaa(2);
    sink('out', encodeMessage(one.mar), end(40000), hss, 'tcp'); // A
    sink('out', encodeMessage(two.mar), end(40001), hss, 'tcp'); // B
    // Each reconnect is a new pair of ends: fill the table with connections that never answer.
    for (let i = 0; i < MAX_METRIC_CONNECTIONS - 2; i++) sink('out', encodeMessage(marAndMaa(100 + i).mar), end(41000 + i), hss, 'tcp');
    sink('out', encodeMessage(marAndMaa(3).mar), end(40001), hss, 'tcp'); // B heard from again
    sink('out', encodeMessage(marAndMaa(4).mar), end(42000), hss, 'tcp'); // one more: A, the least recent, goes
    sink('in', encodeMessage(one.maa), end(40000), hss, 'tcp');
    sink('in', encodeMessage(two.maa), end(40001), hss, 'tcp');
    const m = parseExposition(await registry.metrics());
    assert.equal(m.get('imsec_diameter_requests_total', { node: 'S-CSCF', role: 'client', command: 'MAR', result: '2001' }), 1, "only B's answer is matched");
  });
});

describe('HSS store metrics', () => {
  test('[R-LAB-5] [R-AKA-3] SQNs counted from what the store allocated; every write timed; reads untouched', async () => {
    const registry = new Registry();
    let now = 0;
    const s = new HssStoreMetrics(registry, () => (now += 0.5));
    const store = s.wrap(await openStore(':memory:'));
    try {
      await provisionSubscriber(store, { impi: 'alice@ims.lab', impus: ['sip:alice@ims.lab'], k: '465b5ce8b199b49faa5f0a2ee238a6bc', opc: 'cd63cb71954a9f4e48a5994e37a02baf' });
      await store.allocateSqns('alice@ims.lab', 'scscf.ims.lab', 3);
      if (store.allocateSqnsMany) await store.allocateSqnsMany([{ impi: 'alice@ims.lab', originHost: 'scscf.ims.lab', count: 2 }, { impi: 'nobody@ims.lab', originHost: 'scscf.ims.lab', count: 4 }]);
      assert.equal((await store.getSubscriber('alice@ims.lab'))?.impi, 'alice@ims.lab');
      const m = parseExposition(await registry.metrics());
      assert.equal(m.get('imsec_hss_sqn_allocations_total'), store.allocateSqnsMany ? 5 : 3, 'the unknown IMPI got none');
      assert.equal(m.get('imsec_hss_store_commit_seconds_count', { op: 'allocateSqns' }), 1);
      assert.equal(m.get('imsec_hss_store_commit_seconds_sum', { op: 'allocateSqns' }), 0.0005);
      assert.equal(m.get('imsec_hss_store_commit_seconds_count', { op: 'createSubscriber' }), 1);
      assert.equal(m.all('imsec_hss_store_commit_seconds_count').some((x) => x.labels.op === 'getSubscriber'), false);
    } finally {
      await store.close();
    }
  });
});

describe('SA set counting (TS 33.203 §7.4, R-SA-7)', () => {
  test('[R-LAB-5] [R-RR-2] one set created per set id; deleted with the reason of its last SA', async () => {
    const registry = new Registry();
    const created = new Counter({ name: 'c_total', help: 'c', labelNames: ['side'], registers: [registry] });
    const deleted = new Counter({ name: 'd_total', help: 'd', labelNames: ['side', 'reason'], registers: [registry] });
    let listener: ((e: SaEvent) => void) | undefined;
    const src: SaEventSource = { on: (l) => ((listener = l), () => (listener = undefined)), sets: () => [] };
    const off = countSaSets(src, 'pcscf', created, deleted);
    const sa = (setId: number) => ({ setId }) as SecurityAssociation;
    const set = (id: number) => ({ id }) as SaSet;
    for (const id of [1, 2]) for (let i = 0; i < 4; i++) listener!({ kind: 'saCreated', sa: sa(id) });
    listener!({ kind: 'saDeleted', sa: sa(1), reason: 'replaced' });
    listener!({ kind: 'setStateChanged', set: set(1), from: 'old', to: 'deleted' });
    listener!({ kind: 'saDeleted', sa: sa(2), reason: 'deregistered' });
    listener!({ kind: 'setStateChanged', set: set(2), from: 'active', to: 'deleted' });
    off();
    assert.equal(listener, undefined, 'unsubscribed');
    const m = parseExposition(await registry.metrics());
    assert.equal(m.get('c_total', { side: 'pcscf' }), 2);
    assert.equal(m.get('d_total', { side: 'pcscf', reason: 'replaced' }), 1);
    assert.equal(m.get('d_total', { side: 'pcscf', reason: 'deregistered' }), 1);
  });
});

describe('console message texts', () => {
  test('[R-LAB-5] [R-AKA-6] ik and ck of the S-CSCF 401 become [secret], quoted or not', () => {
    const www = `WWW-Authenticate: Digest realm="ims.lab", nonce="abc", algorithm=AKAv1-MD5, ik="${IK}", ck=${CK}\r\n`;
    const out = redactSipText(`SIP/2.0 401 Unauthorized\r\n${www}\r\n`);
    assert.ok(!out.includes(IK) && !out.includes(CK));
    assert.match(out, /ik="\[secret\]", ck="\[secret\]"/);
    assert.match(out, /nonce="abc"/, 'the public challenge stays');
  });

  test('[R-LAB-5] an MAA as text: RAND‖AUTN shown, XRES, CK and IK as [secret]', () => {
    const text = diameterText(marAndMaa(3).maa);
    for (const s of [XRES, CK, IK]) assert.ok(!text.includes(s), s);
    assert.match(text, /^MAA \(code 303, answer/);
    assert.match(text, /SIP-Authenticate: 0x23553cbe/);
    assert.match(text, /SIP-Authorization: \[secret\]/);
    assert.match(text, /Confidentiality-Key: \[secret\]/);
    assert.match(text, /Integrity-Key: \[secret\]/);
  });
});
