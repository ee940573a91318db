/**
 * The HSS node over real TCP on 127.0.0.1 (RFC 6733): an S-CSCF (a DiameterNode of the test)
 * connects, fetches vectors and registers; the peer allowlist refuses strangers; the operator
 * de-registers a user (RTR, TS 29.228 §6.1.3) through the API and through REST; a profile change
 * through REST reaches the S-CSCF as PPR (TS 29.228 §6.2.2); stopping sends DPR.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../src/common/index.js';
import {
  CxCommand,
  CxResult,
  buildPpa,
  buildRta,
  parseMaa,
  parsePpr,
  parseRtr,
  parseSaa,
  type DiameterMessage,
  cxCapabilities,
} from '../../../src/diameter/index.js';
import { DiameterNode } from '../../../src/diameter/io.js';
import { defaultHssConfig, fastifyRest, HssServer, createHss, type HssConfig } from '../../../src/nodes/hss/index.js';
import type { HssStore } from '../../../src/store/index.js';
import { alice, HSS_HOST, mar, memoryStore, REALM, sar, sat, SCSCF, SCSCF_HOST, xmlTexts } from './support.js';
import { waitFor } from '../../support/wait.js';

const IMPI = `alice@${REALM}`;
const IMPU = `sip:alice@${REALM}`;
const TEL = 'tel:+15551000';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!().catch(() => {});
});

function config(rest: boolean): HssConfig {
  const c = defaultHssConfig('/nonexistent');
  c.diameter.listen = { host: '127.0.0.1', port: 0 };
  c.diameter.peers = [{ host: SCSCF_HOST }];
  c.rest = rest ? { listen: { host: '127.0.0.1', port: 0 } } : null;
  c.diameter.requestTimeoutMs = 2000;
  return c;
}

async function startHss(rest = false): Promise<{ hss: HssServer; store: HssStore }> {
  const store = memoryStore();
  await store.createSubscriber(alice());
  const hss = createHss(config(rest), { store, ownsStore: true, rng: new SeededRng('server-test'), rest: rest ? fastifyRest : null });
  await hss.start();
  cleanup.push(() => hss.stop());
  return { hss, store };
}

/** A client node playing the S-CSCF; `inbox` collects the requests the HSS sends it. */
async function scscf(port: number, originHost = SCSCF_HOST, answer?: (req: DiameterMessage) => DiameterMessage) {
  const inbox: DiameterMessage[] = [];
  const status: string[] = [];
  const node = new DiameterNode({
    ...cxCapabilities(),
    originHost,
    originRealm: REALM,
    hostIpAddresses: ['127.0.0.1'],
    peers: [{ host: HSS_HOST, connect: { host: '127.0.0.1', port } }],
    timers: { reconnectMinMs: 60_000, requestTimeoutMs: 2000 },
  });
  node.onRequest((req) => {
    inbox.push(req);
    if (answer) return answer(req);
    if (req.commandCode === CxCommand.REGISTRATION_TERMINATION) return buildRta(req, { originHost, originRealm: REALM, result: CxResult.SUCCESS });
    return buildPpa(req, { originHost, originRealm: REALM, result: CxResult.SUCCESS });
  });
  node.onPeerStatus((_h, s) => status.push(s));
  await node.start();
  cleanup.push(() => node.stop());
  return { node, inbox, status };
}

async function register(node: DiameterNode): Promise<void> {
  const maa = parseMaa(await node.request(mar({ impi: IMPI, impu: IMPU, n: 2 })));
  assert.equal(maa.result.code, 2001);
  assert.equal(maa.sipAuthDataItems.length, 2);
  const saa = parseSaa(await node.request(sar({ impi: IMPI, impus: [IMPU], type: sat.REGISTRATION })));
  assert.equal(saa.result.code, 2001);
  assert.deepEqual(xmlTexts(new TextDecoder().decode(saa.userData), 'Identity'), [IMPU, TEL]);
}

describe('HSS node over TCP (RFC 6733, TS 29.229)', () => {
  test('[R-CX-1][R-CX-2] a configured S-CSCF connects (CER/CEA), gets vectors (MAR) and registers (SAR); counters follow', async () => {
    const { hss, store } = await startHss();
    const { node } = await scscf(hss.diameterPort!);
    await node.waitForPeer(HSS_HOST);
    await register(node);
    const st = hss.status();
    assert.deepEqual([st.counters.mar, st.counters.sar, st.counters.vectors], [1, 1, 2]);
    assert.equal(st.peers[SCSCF_HOST], 'up');
    assert.equal((await store.getPublicIdentity(IMPU))!.state, 'REGISTERED');
  });

  test('[R-CX-1][R-AKA-3] an Origin-Host not in the allowlist is refused at CER and never reaches the Cx handlers', async () => {
    const { hss } = await startHss();
    const { node } = await scscf(hss.diameterPort!, 'rogue.ims.lab');
    await assert.rejects(node.waitForPeer(HSS_HOST, 1500));
    assert.equal(hss.status().counters.mar, 0);
  });

  test('[R-CX-2] operator de-registration: RTR to the serving S-CSCF with the IMPI and IMPUs; on RTA success the set is NOT_REGISTERED', async () => {
    const { hss, store } = await startHss();
    const { node, inbox } = await scscf(hss.diameterPort!);
    await node.waitForPeer(HSS_HOST);
    await register(node);
    const results = await hss.deregister({ impi: IMPI }, { code: 0, info: 'contract ended' });
    assert.deepEqual(results.map((r) => [r.ok, r.peer, r.scscfName, r.impus]), [[true, SCSCF_HOST, SCSCF, [IMPU, TEL]]]);
    assert.equal(inbox.length, 1);
    const rtr = parseRtr(inbox[0]);
    assert.deepEqual([rtr.destinationHost, rtr.userName, rtr.publicIdentities, rtr.deregistrationReason], [SCSCF_HOST, IMPI, [IMPU, TEL], { code: 0, info: 'contract ended' }]);
    assert.deepEqual([(await store.getPublicIdentity(TEL))!.state, (await store.getPublicIdentity(TEL))!.scscfName], ['NOT_REGISTERED', null]);
  });

  test('[R-CX-2] an RTR the S-CSCF refuses leaves the registration as it was', async () => {
    const { hss, store } = await startHss();
    const { node } = await scscf(hss.diameterPort!, SCSCF_HOST, (req) => buildRta(req, { originHost: SCSCF_HOST, originRealm: REALM, result: CxResult.UNABLE_TO_COMPLY }));
    await node.waitForPeer(HSS_HOST);
    await register(node);
    const [r] = await hss.deregister({ impus: [TEL] });
    assert.equal(r.ok, false);
    assert.match(r.detail, /5012/);
    assert.equal((await store.getPublicIdentity(IMPU))!.state, 'REGISTERED');
  });

  test('[R-CX-2] REST: POST /subscribers/:impi/deregister sends RTR; PATCH of the profile pushes PPR with the new User-Data; GET /hss/status', async () => {
    const { hss, store } = await startHss(true);
    const { node, inbox } = await scscf(hss.diameterPort!);
    await node.waitForPeer(HSS_HOST);
    await register(node);
    const base = `http://127.0.0.1:${hss.restPort}`;
    const auth = { authorization: `Bearer ${hss.restAccess!.token}` };
    const ifc = '<InitialFilterCriteria><Priority>1</Priority><ApplicationServer><ServerName>sip:as.ims.lab</ServerName></ApplicationServer></InitialFilterCriteria>';
    const patch = await fetch(`${base}/subscribers/${encodeURIComponent(IMPI)}`, { method: 'PATCH', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ serviceProfile: ifc }) });
    assert.equal(patch.status, 200);
    await waitFor(() => inbox.length === 1);
    const ppr = parsePpr(inbox[0]);
    assert.equal(ppr.userName, IMPI);
    const xml = new TextDecoder().decode(ppr.userData);
    assert.deepEqual(xmlTexts(xml, 'Identity'), [IMPU, TEL]);
    assert.ok(xml.includes(ifc), 'the new profile is in the PPR');
    const bad = await fetch(`${base}/subscribers/${encodeURIComponent(IMPI)}/deregister`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'BOGUS' }) });
    assert.equal(bad.status, 400);
    const unknown = await fetch(`${base}/subscribers/${encodeURIComponent('ghost@ims.lab')}/deregister`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(unknown.status, 404);
    const res = await fetch(`${base}/subscribers/${encodeURIComponent(IMPI)}/deregister`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'NEW_SERVER_ASSIGNED' }) });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { ok: boolean; results: { impus: string[] }[] };
    assert.equal(body.ok, true);
    assert.deepEqual(body.results[0].impus, [IMPU, TEL]);
    assert.equal(parseRtr(inbox[1]).deregistrationReason.code, 1);
    assert.equal((await store.getPublicIdentity(IMPU))!.state, 'NOT_REGISTERED');
    const status = (await (await fetch(`${base}/hss/status`, { headers: auth })).json()) as { counters: { mar: number; sar: number } };
    assert.deepEqual([status.counters.mar, status.counters.sar], [1, 1]);
  });

  test('[R-CX-2] REST: deleting a registered subscriber de-registers it at its S-CSCF first (RTR, PERMANENT_TERMINATION)', async () => {
    const { hss, store } = await startHss(true);
    const { node, inbox } = await scscf(hss.diameterPort!);
    await node.waitForPeer(HSS_HOST);
    await register(node);
    const del = await fetch(`http://127.0.0.1:${hss.restPort}/subscribers/${encodeURIComponent(IMPI)}`, { method: 'DELETE', headers: { authorization: `Bearer ${hss.restAccess!.token}` } });
    assert.equal(del.status, 204);
    assert.equal(inbox.length, 1);
    const rtr = parseRtr(inbox[0]);
    assert.deepEqual([rtr.userName, rtr.publicIdentities, rtr.deregistrationReason.code], [IMPI, [IMPU, TEL], 0]);
    assert.equal(await store.getSubscriber(IMPI), null);
  });

  test('[R-CX-1] stop sends DPR: the S-CSCF sees the HSS go down at once', async () => {
    const { hss } = await startHss();
    const { node, status } = await scscf(hss.diameterPort!);
    await node.waitForPeer(HSS_HOST);
    const t0 = Date.now();
    await hss.stop();
    await waitFor(() => status.includes('down'), 3000);
    assert.ok(Date.now() - t0 < 3000);
    assert.notEqual(node.peerState(HSS_HOST)?.psm, 'I-Open');
  });
});
