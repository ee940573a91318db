/**
 * The S-CSCF as a node object over real loopback sockets (ports 0): our HSS (Diameter Cx over
 * TCP), the S-CSCF (createScscf), and two UEs built on the SIP stack with the src/auth ISIM.
 * Registration, UE-to-UE MESSAGE through the S-CSCF, a restart on the same SQLite file, and an
 * HSS-initiated de-registration (RTR). Everything started here is stopped here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseDigestChallenge } from '../../../src/auth/digest/index.js';
import { SeededRng, systemClock } from '../../../src/common/index.js';
import { defaultHssConfig, HssServer, createHss } from '../../../src/nodes/hss/index.js';
import { createScscf, parseScscfConfig, type Scscf } from '../../../src/nodes/scscf/index.js';
import { SipHeaders, SipRequest, type SipResponse } from '../../../src/sip/index.js';
import { SipStack } from '../../../src/sip/stack/index.js';
import { UdpTransport, type Destination } from '../../../src/sip/transport/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { provision, TestIsim } from './harness.js';

interface Ue {
  impu: string;
  impi: string;
  stack: SipStack;
  port: number;
  isim: TestIsim;
  inbox: SipRequest[];
  cseq: number;
}

async function ue(impu: string, impi: string): Promise<Ue> {
  const t = await UdpTransport.bind({ address: '127.0.0.1', port: 0 });
  const stack = new SipStack({ transports: [t], clock: systemClock, rng: new SeededRng(impi) });
  const u: Ue = { impu, impi, stack, port: t.local.port, isim: new TestIsim(), inbox: [], cseq: 0 };
  stack.onRequest((req, ctx) => {
    u.inbox.push(req);
    ctx.reply(200, 'OK');
  });
  return u;
}

function registerReq(u: Ue, authorization: string | undefined, expires = 600): SipRequest {
  const h = new SipHeaders();
  h.append('From', `<${u.impu}>;tag=${u.impi.split('@')[0]}`);
  h.append('To', `<${u.impu}>`);
  h.append('Call-ID', `reg-${u.impi}`);
  h.append('CSeq', `${++u.cseq} REGISTER`);
  h.append('Contact', `<sip:${u.impi.split('@')[0]}@127.0.0.1:${u.port}>`);
  h.append('Expires', String(expires));
  h.append('Authorization', authorization ?? `Digest username="${u.impi}", realm="ims.lab", nonce="", uri="sip:ims.lab", response=""`);
  return new SipRequest('REGISTER', 'sip:ims.lab', h);
}

async function registerUe(u: Ue, dest: Destination): Promise<SipResponse> {
  const r1 = await u.stack.sendRequest(registerReq(u, undefined), dest);
  assert.equal(r1.status, 401);
  const { authorization } = u.isim.answer(r1, { impi: u.impi });
  return u.stack.sendRequest(registerReq(u, authorization), dest);
}

function message(from: Ue, to: string, serviceRoute: string): SipRequest {
  const h = new SipHeaders();
  h.append('Route', serviceRoute);
  h.append('From', `<${from.impu}>;tag=m${from.cseq}`);
  h.append('To', `<${to}>`);
  h.append('Call-ID', `msg-${from.impi}-${++from.cseq}`);
  h.append('CSeq', `1 MESSAGE`);
  h.append('P-Asserted-Identity', `<${from.impu}>`);
  h.append('Content-Type', 'text/plain');
  return new SipRequest('MESSAGE', to, h, new TextEncoder().encode('hello'));
}

describe('S-CSCF node over loopback with our HSS', () => {
  let dir: string;
  let hssStore: SqliteStore;
  let hss: HssServer;
  const cleanup: (() => Promise<void>)[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'imsec-scscf-e2e-'));
    hssStore = new SqliteStore(join(dir, 'hss.sqlite'));
    await provision(hssStore, 'alice@ims.lab', ['sip:alice@ims.lab', 'tel:+15550001']);
    await provision(hssStore, 'bob@ims.lab', ['sip:bob@ims.lab']);
    const c = defaultHssConfig(dir);
    c.diameter.listen = { host: '127.0.0.1', port: 0 };
    c.diameter.peers = [{ host: 'scscf.ims.lab' }];
    c.rest = null;
    hss = createHss(c, { store: hssStore, ownsStore: true, rng: new SeededRng('e2e-hss') });
    await hss.start();
  });

  after(async () => {
    while (cleanup.length) await cleanup.pop()!().catch(() => {});
    await hss.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function scscfConfig(port: number) {
    return parseScscfConfig({
      sip: { listen: `127.0.0.1:${port}`, protocols: ['udp'] },
      diameter: { hss: { host: 'hss.ims.lab', port: hss.diameterPort } },
      store: `sqlite:${join(dir, 'scscf.sqlite')}`,
      icscf: null,
      registrar: { sendKeys: false },
    });
  }

  async function startScscf(port = 0): Promise<Scscf> {
    const s = createScscf(scscfConfig(port));
    await s.start();
    await s.waitForHss(5000);
    return s;
  }

  test('[R-REG-2] [R-AKA-6] UEs register over UDP with AKA through the Diameter HSS; a MESSAGE goes UE to UE; a restart keeps the registrations; RTR de-registers', { timeout: 30_000 }, async () => {
    const alice = await ue('sip:alice@ims.lab', 'alice@ims.lab');
    const bob = await ue('sip:bob@ims.lab', 'bob@ims.lab');
    cleanup.push(() => alice.stack.close(), () => bob.stack.close());
    let scscf = await startScscf();
    const dest = (): Destination => ({ address: '127.0.0.1', port: scscf.address().sip.port, transport: 'udp' });
    assert.match(scscf.serverName(), /^sip:scscf\.ims\.lab:\d+$/);
    assert.notEqual(scscf.serverName(), 'sip:scscf.ims.lab:6060', 'the bound port replaces the configured one');

    const ra = await registerUe(alice, dest());
    assert.equal(ra.status, 200);
    assert.equal(ra.headers.get('p-associated-uri'), '<sip:alice@ims.lab>, <tel:+15550001>');
    const serviceRoute = ra.headers.get('service-route')!;
    assert.deepEqual(scscf.core.registration('sip:alice@ims.lab')!.bindings[0].received, { transport: 'udp', address: '127.0.0.1', port: alice.port }, 'the last hop is kept with the binding');
    assert.equal(serviceRoute, `<sip:orig@scscf.ims.lab:${scscf.address().sip.port};lr>`);
    assert.equal((await registerUe(bob, dest())).status, 200);
    assert.equal((await hssStore.getPublicIdentity('tel:+15550001'))!.state, 'REGISTERED');
    assert.equal((await hssStore.getPublicIdentity('sip:bob@ims.lab'))!.scscfName, scscf.serverName());

    // UE to UE: the S-CSCF resolves scscf.ims.lab through its host table to itself.
    const m1 = await alice.stack.sendRequest(message(alice, 'sip:bob@ims.lab', serviceRoute), dest());
    assert.equal(m1.status, 200);
    assert.equal(bob.inbox.length, 1);
    assert.equal(bob.inbox[0].uri, `sip:bob@127.0.0.1:${bob.port}`);
    assert.equal(bob.inbox[0].headers.get('p-called-party-id'), '<sip:bob@ims.lab>');
    assert.equal(new TextDecoder().decode(bob.inbox[0].body), 'hello');

    // The HSS de-registers bob (RTR → RTA); the S-CSCF forgets him.
    const results = await hss.deregister({ impi: 'bob@ims.lab' });
    assert.deepEqual(results.map((r) => [r.ok, r.peer]), [[true, 'scscf.ims.lab']]);
    assert.equal(scscf.registrations().some((r) => r.aor === 'sip:bob@ims.lab'), false);
    assert.equal((await alice.stack.sendRequest(message(alice, 'sip:bob@ims.lab', serviceRoute), dest())).status, 404);

    // Restart: a new node object over the same SQLite file, on the same port.
    const port = scscf.address().sip.port;
    await scscf.stop();
    scscf = await startScscf(port);
    const restarted = scscf;
    cleanup.push(() => restarted.stop());
    assert.deepEqual(scscf.registrations().map((r) => r.aor), ['sip:alice@ims.lab']);
    assert.equal((await registerUe(bob, dest())).status, 200, 'MAR and SAR work from the restarted node');
    const m2 = await bob.stack.sendRequest(message(bob, 'tel:+15550001', serviceRoute), dest());
    assert.equal(m2.status, 200, 'the restarted S-CSCF still routes to alice');
    assert.equal(alice.inbox.length, 1);
    assert.equal(alice.inbox[0].uri, `sip:alice@127.0.0.1:${alice.port}`);
    await scscf.stop();
  });

  test('OPTIONS to the S-CSCF itself is answered 200; a wrong challenge answer over the wire is 403', { timeout: 20_000 }, async () => {
    const scscf = await startScscf();
    cleanup.push(() => scscf.stop());
    const u = await ue('sip:alice@ims.lab', 'alice@ims.lab');
    cleanup.push(() => u.stack.close());
    const dest: Destination = { address: '127.0.0.1', port: scscf.address().sip.port, transport: 'udp' };
    const h = new SipHeaders([['From', '<sip:alice@ims.lab>;tag=o'], ['To', `<${scscf.serverName()}>`], ['Call-ID', 'opt'], ['CSeq', '1 OPTIONS']]);
    assert.equal((await u.stack.sendRequest(new SipRequest('OPTIONS', scscf.serverName(), h), dest)).status, 200);
    const r1 = await u.stack.sendRequest(registerReq(u, undefined), dest);
    assert.equal(parseDigestChallenge(r1.headers.get('www-authenticate')!).ik, undefined, 'sendKeys false');
    const { authorization } = u.isim.answer(r1, { tamper: true });
    assert.equal((await u.stack.sendRequest(registerReq(u, authorization), dest)).status, 403);
    await scscf.stop();
  });
});
