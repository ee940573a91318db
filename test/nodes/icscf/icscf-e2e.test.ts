/**
 * The I-CSCF over real loopback sockets: SIP (B2's stack) towards a P-CSCF-like client and stub
 * S-CSCFs, Diameter Cx towards the REAL HSS of src/nodes/hss (temp SQLite store). Proves R-REG-1
 * (UAR picks the S-CSCF; errors map to SIP), LIR routing, and R-HIDE-1 on a request leaving the
 * network and its response coming back, with a second I-CSCF opening what the first one sealed.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { CxCommand, parseUaa, type DiameterMessage, cxCapabilities } from '../../../src/diameter/index.js';
import { DiameterNode } from '../../../src/diameter/io.js';
import { createResponse, formatUri, routesOf, serializeMessage, SipHeaders, SipRequest, viasOf, type SipResponse } from '../../../src/sip/index.js';
import { register, REALM, sipRequest, sipStack, startHss, startIcscf, startStubScscf, type Cleanup } from './harness.js';

const cleanup: Cleanup = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!().catch(() => {});
});

const KV = '2b7e151628aed2a6abf7158809cf4f3c';

describe('I-CSCF registration and terminating routing with the real HSS (TS 24.229 §5.3.1, §5.3.2)', () => {
  test('[R-REG-1] REGISTER → UAR → S-CSCF chosen by capabilities; the next REGISTER goes to the Server-Name the HSS now keeps', async () => {
    // The HSS requires capability 7 for a first registration; of the two configured S-CSCFs only the second has it.
    const hssPort = (await startHss(cleanup, { mandatory: [7] })).diameterPort!;
    const other = await startStubScscf(cleanup, undefined);
    const scscf = await startStubScscf(cleanup, hssPort);
    const icscf = await startIcscf(cleanup, {
      diameter: { hss: { connect: `127.0.0.1:${hssPort}` } },
      scscfs: [{ uri: other.uri, capabilities: [] }, { uri: scscf.uri, capabilities: [7] }],
    });
    await icscf.waitForHss(3000);
    const uaas: DiameterMessage[] = [];
    icscf.diameter.onTrace((dir, _peer, m) => {
      if (dir === 'in' && m.commandCode === CxCommand.USER_AUTHORIZATION) uaas.push(m);
    });
    const pcscf = await sipStack(cleanup);
    const dest = { address: '127.0.0.1', port: icscf.address().sip.port };

    const first = await pcscf.stack.sendRequest(register('alice'), dest);
    assert.equal(first.status, 401);
    const firstUaa = parseUaa(uaas[0]);
    assert.deepEqual([firstUaa.result.code, firstUaa.result.vendorId, firstUaa.serverName, firstUaa.serverCapabilities?.mandatory], [2001, 10415, undefined, [7]], 'DIAMETER_FIRST_REGISTRATION with capabilities');
    assert.equal(other.received.length, 0);
    assert.equal(scscf.received.length, 1);
    const vias = viasOf(scscf.received[0]);
    assert.equal(vias.length, 2, 'I-CSCF Via on top of the P-CSCF Via');
    assert.equal(vias[0].port, icscf.address().sip.port);
    assert.equal(vias[1].port, pcscf.local.port);

    // The stub S-CSCF sent MAR with its name: the HSS now answers UAR with Server-Name, and the I-CSCF follows it.
    const second = await pcscf.stack.sendRequest(register('alice', ['Authorization: Digest username="alice@ims.lab", realm="ims.lab", nonce="abc", uri="sip:ims.lab", response="0123456789abcdef0123456789abcdef"']), dest);
    assert.equal(second.status, 200);
    assert.equal(parseUaa(uaas[1]).serverName, scscf.uri);
    assert.equal(scscf.received.length, 2);
    assert.equal(other.received.length, 0);
    assert.equal(second.headers.get('service-route'), `<${scscf.uri};lr>`);
  });

  test('[R-REG-1] UAR errors reach the UE as SIP: unknown user 403, IMPI/IMPU mismatch 403, no HSS 480, HSS silent 480', async () => {
    const hssPort = (await startHss(cleanup)).diameterPort!;
    const icscf = await startIcscf(cleanup, { diameter: { hss: { connect: `127.0.0.1:${hssPort}` } }, scscfs: ['sip:scscf.ims.lab:1'] });
    await icscf.waitForHss(3000);
    const pcscf = await sipStack(cleanup);
    const dest = { address: '127.0.0.1', port: icscf.address().sip.port };
    assert.equal((await pcscf.stack.sendRequest(register('mallory'), dest)).status, 403);
    const mismatch = register('bob');
    mismatch.headers.set('Authorization', `Digest username="alice@${REALM}", realm="${REALM}", nonce="", uri="sip:${REALM}", response=""`);
    assert.equal((await pcscf.stack.sendRequest(mismatch, dest)).status, 403);

    // An I-CSCF whose HSS is not there at all.
    const lonely = await startIcscf(cleanup, { diameter: { hss: { connect: '127.0.0.1:1' } } });
    assert.equal((await pcscf.stack.sendRequest(register('alice'), { address: '127.0.0.1', port: lonely.address().sip.port })).status, 480);

    // An HSS that accepts the connection but never answers a UAR (Diameter request timer).
    const silent = new DiameterNode({ ...cxCapabilities(), originHost: 'hss.ims.lab', originRealm: REALM, hostIpAddresses: ['127.0.0.1'], listen: { host: '127.0.0.1', port: 0 }, peers: [{ host: 'icscf.ims.lab' }] });
    silent.onRequest(() => new Promise<DiameterMessage>(() => {}));
    await silent.start();
    cleanup.push(() => silent.stop());
    const patient = await startIcscf(cleanup, { diameter: { hss: { connect: `127.0.0.1:${silent.listenPort}` }, requestTimeoutMs: 200 } });
    await patient.waitForHss(3000);
    const t0 = Date.now();
    assert.equal((await pcscf.stack.sendRequest(register('alice'), { address: '127.0.0.1', port: patient.address().sip.port })).status, 480);
    assert.ok(Date.now() - t0 >= 190);
  });

  test('LIR routes a MESSAGE to the registered user’s S-CSCF; unknown user 404; registered-never user 480', async () => {
    const hssPort = (await startHss(cleanup)).diameterPort!;
    const scscf = await startStubScscf(cleanup, hssPort);
    const icscf = await startIcscf(cleanup, { diameter: { hss: { connect: `127.0.0.1:${hssPort}` } }, scscfs: [scscf.uri] });
    await icscf.waitForHss(3000);
    const ue = await sipStack(cleanup);
    const dest = { address: '127.0.0.1', port: icscf.address().sip.port };
    // Register alice (MAR then SAR at the stub S-CSCF).
    assert.equal((await ue.stack.sendRequest(register('alice'), dest)).status, 401);
    assert.equal((await ue.stack.sendRequest(register('alice', ['Authorization: Digest username="alice@ims.lab", realm="ims.lab", nonce="n", uri="sip:ims.lab", response="00112233445566778899aabbccddeeff"']), dest)).status, 200);
    scscf.received.length = 0;

    const msg = (to: string) => sipRequest([`MESSAGE sip:${to}@${REALM} SIP/2.0`, `To: <sip:${to}@${REALM}>`, 'From: <sip:carol@other.lab>;tag=m1', `Call-ID: msg-${to}-${Math.random()}`, 'CSeq: 1 MESSAGE', 'Content-Type: text/plain']);
    const ok = await ue.stack.sendRequest(msg('alice'), dest);
    assert.equal(ok.status, 200);
    assert.equal(scscf.received.length, 1);
    assert.equal(scscf.received[0].method, 'MESSAGE');
    assert.equal(scscf.received[0].uri, `sip:alice@${REALM}`);
    assert.equal(routesOf(scscf.received[0], 'Route').map((r) => formatUri(r.uri))[0], `${scscf.uri};lr`);

    assert.equal((await ue.stack.sendRequest(msg('nobody'), dest)).status, 404);
    assert.equal((await ue.stack.sendRequest(msg('bob'), dest)).status, 480);
    assert.equal(scscf.received.length, 1);
  });
});

describe('I-CSCF topology hiding over real sockets (R-HIDE-1)', () => {
  test('[R-HIDE-1] a request leaving the network is hidden, its response comes back exact; a second I-CSCF with the same Kv opens the token', async () => {
    const home = await sipStack(cleanup); // the home S-CSCF, proxying a request out of the network
    const foreign = await sipStack(cleanup); // the other network
    const PCSCF_VIA = 'SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKpcscfhidden';
    const net = () => ({
      diameter: { hss: { connect: '127.0.0.1:1' } },
      homeAddresses: [`127.0.0.1:${home.local.port}`, '127.0.0.1:5999'],
      hosts: { 'other.lab': '127.0.0.1' },
      thig: { kv: KV, host: 'icscf.ims.lab', port: 4060 },
    });
    const icscf1 = await startIcscf(cleanup, net());
    const icscf2 = await startIcscf(cleanup, net());
    const atForeign: string[] = [];
    foreign.stack.onRequest((req, ctx) => {
      atForeign.push(Buffer.from(serializeMessage(req)).toString());
      const r = createResponse(req, 200, 'OK');
      for (const rr of req.headers.getLines('record-route')) r.headers.append('Record-Route', rr);
      ctx.respond(r);
    });
    const atHome: string[] = [];
    home.stack.onRequest((req, ctx) => {
      atHome.push(`${req.method} ${req.headers.getLines('route').join(',')}`);
      ctx.reply(200, 'OK');
    });

    const i1 = icscf1.address().sip.port;
    const out = sipRequest([
      `MESSAGE sip:bob@other.lab:${foreign.local.port} SIP/2.0`,
      PCSCF_VIA.replace(/^/, 'Via: '),
      `Route: <sip:127.0.0.1:${i1};lr>`,
      `Record-Route: <sip:127.0.0.1:${home.local.port};lr>`,
      'Max-Forwards: 70',
      'To: <sip:bob@other.lab>',
      `From: <sip:alice@${REALM}>;tag=h1`,
      'Call-ID: thig-e2e-1',
      'CSeq: 1 MESSAGE',
    ]);
    // The home S-CSCF proxies it (its own Via on top of the P-CSCF's) to I-CSCF 1.
    const resp = await home.stack.forwardRequest(out, { address: '127.0.0.1', port: i1 });
    assert.equal(resp.status, 200);
    assert.equal(atForeign.length, 1);
    const wire = atForeign[0];
    assert.ok(wire.includes('tokenized-by=ims.lab'), wire);
    for (const leak of [`127.0.0.1:${home.local.port}`, '127.0.0.1:5999', 'z9hG4bKpcscfhidden']) assert.ok(!wire.includes(leak), `${leak} leaked:\n${wire}`);
    // Back at home: the response matched the S-CSCF's client transaction (its Via restored) and carries the original Vias and Record-Route.
    assert.deepEqual(viasOf(resp).map((v) => `${v.host}:${v.port}`), [`127.0.0.1:${home.local.port}`, '127.0.0.1:5999']);
    assert.equal(resp.headers.getAll('via')[1], PCSCF_VIA);
    assert.deepEqual(resp.headers.getLines('record-route'), [`<sip:127.0.0.1:${home.local.port};lr>`]);

    // The other network uses the hidden Record-Route as its Route, through ANOTHER I-CSCF with the same Kv.
    const tokenRoute = wire.split('\r\n').find((l) => l.startsWith('Record-Route:'))!.slice('Record-Route:'.length).trim();
    const back = sipRequest([`MESSAGE sip:alice@${REALM} SIP/2.0`, `Route: ${tokenRoute}`, `To: <sip:alice@${REALM}>`, 'From: <sip:bob@other.lab>;tag=f1', 'Call-ID: thig-e2e-2', 'CSeq: 1 MESSAGE']);
    const viaI2 = await foreign.stack.sendRequest(back, { address: '127.0.0.1', port: icscf2.address().sip.port });
    assert.equal(viaI2.status, 200);
    assert.deepEqual(atHome, [`MESSAGE <sip:127.0.0.1:${home.local.port};lr>`]);
    assert.equal(icscf2.status().counters.tokensOpened, 1);
    assert.ok(icscf1.status().counters.tokensWritten >= 2);
  });
});

describe('I-CSCF as a stateful INVITE proxy (RFC 3261 §16.7, §16.10)', () => {
  test('provisional responses are relayed; a CANCEL is answered 200 and cancels the forwarded INVITE, which ends 487', async () => {
    const callee = await sipStack(cleanup);
    const got: string[] = [];
    callee.stack.onRequest((req, ctx) => {
      got.push(req.method);
      if (req.method === 'INVITE') return void ctx.reply(180, 'Ringing');
      if (req.method === 'CANCEL') {
        ctx.reply(200, 'OK');
        const inv = callee.stack.transactions.findInviteFor(req);
        if (inv) inv.respond(createResponse(inv.request, 487, 'Request Terminated'));
        return;
      }
      ctx.reply(405);
    });
    const icscf = await startIcscf(cleanup, { diameter: { hss: { connect: '127.0.0.1:1' } } });
    const caller = await sipStack(cleanup);
    const dest = { address: '127.0.0.1', port: icscf.address().sip.port };
    const invite = sipRequest([
      `INVITE sip:bob@127.0.0.1:${callee.local.port} SIP/2.0`,
      `Route: <sip:127.0.0.1:${callee.local.port};lr>`,
      `To: <sip:bob@${REALM}>`,
      'From: <sip:carol@other.lab>;tag=inv1',
      'Call-ID: cancel-1',
      'CSeq: 7 INVITE',
      'Contact: <sip:carol@127.0.0.1:5098>',
    ]);
    let cancelled: Promise<SipResponse> | undefined;
    const provisional: number[] = [];
    const final = await caller.stack.sendRequest(invite, dest, {
      onProvisional: (r) => {
        provisional.push(r.status);
        if (r.status !== 180 || cancelled) return;
        // RFC 3261 §9.1, built here independently of the I-CSCF's own code.
        const h = new SipHeaders();
        h.append('Via', invite.headers.getAll('via')[0]);
        h.append('Route', invite.headers.get('route')!);
        h.append('Max-Forwards', '70');
        for (const n of ['From', 'To', 'Call-ID']) h.append(n, invite.headers.get(n)!);
        h.append('CSeq', '7 CANCEL');
        cancelled = caller.stack.sendRequest(new SipRequest('CANCEL', invite.uri, h), dest);
      },
    });
    assert.ok(provisional.includes(180), `provisional ${provisional.join(',')}`);
    assert.equal((await cancelled!).status, 200);
    assert.equal(final.status, 487);
    assert.deepEqual(got, ['INVITE', 'CANCEL']);
    // A CANCEL for nothing gets 481.
    const h = new SipHeaders([['To', '<sip:x@ims.lab>'], ['From', '<sip:y@ims.lab>;tag=1'], ['Call-ID', 'nothing'], ['CSeq', '1 CANCEL']]);
    assert.equal((await caller.stack.sendRequest(new SipRequest('CANCEL', 'sip:x@ims.lab', h), dest)).status, 481);
  });
});
