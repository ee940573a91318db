/**
 * DiameterNode end to end over the in-memory transport with a manual clock (RFC 6733 §5
 * capabilities exchange, allowlist, §6.2 answer matching, §7.1.5 AVP_UNSUPPORTED, request
 * timeouts; RFC 3539 watchdog, failover and reconnect), and over real TCP on loopback.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, SeededRng } from '../../src/common/index.js';
import {
  CxResult,
  DiameterFramer,
  DiameterPeerError,
  DiameterTimeoutError,
  MemoryTransport,
  buildCer,
  buildLia,
  buildLir,
  encodeMessage,
  getValue,
  parseLia,
  parseLir,
  rawAvp,
  type DiameterMessage,
  type DiameterNodeOptions,
  type MemoryConnection,
  cxCapabilities,
  localCapabilities,
} from '../../src/diameter/index.js';
import { DiameterNode } from '../../src/diameter/io.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
async function settle(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await tick();
}

function world() {
  const clock = new ManualClock(1_700_000_000_000);
  const transport = new MemoryTransport();
  const mk = (o: Partial<DiameterNodeOptions> & Pick<DiameterNodeOptions, 'originHost' | 'peers'>): DiameterNode =>
    new DiameterNode({ ...cxCapabilities(), originRealm: 'ims.lab', hostIpAddresses: ['127.0.0.1'], clock, transport, rng: new SeededRng(o.originHost), timers: { watchdogMs: 10_000, requestTimeoutMs: 3000, reopenDwas: 1 }, ...o });
  return { clock, transport, mk };
}

const lir = (node: DiameterNode, extra: Partial<Parameters<typeof buildLir>[0]> = {}): DiameterMessage =>
  buildLir({ sessionId: node.newSessionId(), originHost: node.local.originHost, originRealm: 'ims.lab', destinationRealm: 'ims.lab', publicIdentity: 'sip:bob@ims.lab', ...extra });

function hssHandler(node: DiameterNode, name: string, seen: DiameterMessage[] = []) {
  node.onRequest((req) => {
    seen.push(req);
    parseLir(req);
    return buildLia(req, { originHost: name, originRealm: 'ims.lab', result: CxResult.SUCCESS, serverName: `sip:${name}` });
  });
  return seen;
}

/** Decoded messages written on a memory connection. */
function sent(c: MemoryConnection): DiameterMessage[] {
  const out: DiameterMessage[] = [];
  const f = new DiameterFramer();
  for (const w of c.written) f.push(w, (m) => out.push(m));
  return out;
}

async function pair() {
  const w = world();
  const hss = w.mk({ originHost: 'hss.ims.lab', listen: { host: 'hss', port: 3868 }, peers: [{ host: 'icscf.ims.lab' }] });
  const icscf = w.mk({ originHost: 'icscf.ims.lab', peers: [{ host: 'hss.ims.lab', connect: { host: 'hss', port: 3868 } }] });
  const seen = hssHandler(hss, 'hss.ims.lab');
  await hss.start();
  await icscf.start();
  await settle();
  return { ...w, hss, icscf, seen };
}

describe('RFC 6733 §5.3 capabilities exchange and requests', () => {
  test('[R-CX-1] CER/CEA opens the peer on both sides; a Cx request is answered and matched by Hop-by-Hop', async () => {
    const { hss, icscf, seen, transport } = await pair();
    assert.deepEqual(icscf.peerState('hss.ims.lab'), { psm: 'I-Open', watchdog: 'OKAY', usable: true, pending: 0 });
    assert.equal(hss.peerState('icscf.ims.lab')?.psm, 'R-Open');
    const cer = sent(transport.clientConnections[0])[0];
    assert.equal(cer.commandCode, 257);
    const vsai = getValue(cer.avps, 'Vendor-Specific-Application-Id') ?? [];
    assert.deepEqual([getValue(vsai, 'Vendor-Id'), getValue(vsai, 'Auth-Application-Id'), getValue(cer.avps, 'Supported-Vendor-Id')], [10415, 16777216, 10415]);
    const p = icscf.request(lir(icscf));
    await settle();
    const ans = parseLia(await p);
    assert.equal(ans.serverName, 'sip:hss.ims.lab');
    assert.equal(seen.length, 1);
    assert.equal(seen[0].endToEnd >>> 20, Math.floor(1_700_000_000_000 / 1000) & 0xfff, 'End-to-End high bits from the clock');
  });

  test('[R-CX-1] the base peer advertises only the applications it is given; a Cx node names Cx (TS 29.229 §6) itself', () => {
    const opts: DiameterNodeOptions = { originHost: 'peer.ims.lab', originRealm: 'ims.lab', hostIpAddresses: ['127.0.0.1'], peers: [] };
    const bare = localCapabilities(opts, 0);
    assert.deepEqual([bare.supportedVendorIds, bare.vendorSpecificApplicationIds, bare.authApplicationIds, bare.acctApplicationIds], [[], [], [], []]);
    const cx = localCapabilities({ ...opts, ...cxCapabilities() }, 0);
    assert.deepEqual([cx.supportedVendorIds, cx.vendorSpecificApplicationIds], [[10415], [{ vendorId: 10415, authApplicationId: 16777216 }]]);
  });

  test('[R-CX-1] an Origin-Host not in the allowlist gets CEA DIAMETER_UNKNOWN_PEER (3010) and the connection is closed', async () => {
    const { hss, transport } = await pair();
    const c = (await transport.connect('hss', 3868)) as MemoryConnection;
    const got: DiameterMessage[] = [];
    const f = new DiameterFramer();
    c.onData((d) => f.push(d, (m) => got.push(m)));
    let closed = false;
    c.onClose(() => (closed = true));
    const cer = buildCer({ ...hss.local, originHost: 'rogue.evil.lab', originRealm: 'evil.lab' });
    c.write(encodeMessage({ ...cer, hopByHop: 1, endToEnd: 1 }));
    await settle();
    assert.equal(got.length, 1);
    assert.equal(getValue(got[0].avps, 'Result-Code'), 3010);
    assert.equal(got[0].flags & 0x20, 0x20, "protocol error: 'E' bit set");
    assert.ok(closed, 'connection closed after the CEA');
  });

  test('[R-CX-1] a request with an unknown AVP that has the M bit is answered DIAMETER_AVP_UNSUPPORTED (5001) with Failed-AVP', async () => {
    const { icscf, seen } = await pair();
    const bad = lir(icscf, { extraAvps: [rawAvp(4242, new Uint8Array([1, 2, 3, 4]), { vendorId: 777, mandatory: true }), rawAvp(4243, new Uint8Array([5]), { vendorId: 777 })] });
    const p = icscf.request(bad);
    await settle();
    const ans = await p;
    assert.equal(getValue(ans.avps, 'Result-Code'), 5001);
    const failed = getValue(ans.avps, 'Failed-AVP') ?? [];
    assert.deepEqual(failed.map((a) => [a.code, a.vendorId]), [[4242, 777]], 'only the mandatory unknown AVP is reported');
    assert.equal(getValue(ans.avps, 'Session-Id'), getValue(bad.avps, 'Session-Id'));
    assert.equal(seen.length, 0, 'the application never saw it');
    // An unknown AVP without the M bit is simply carried.
    const ok = icscf.request(lir(icscf, { extraAvps: [rawAvp(4243, new Uint8Array([5]), { vendorId: 777 })] }));
    await settle();
    assert.equal(getValue((await ok).avps, 'Result-Code'), 2001);
  });

  test('[R-CX-1] no answer within the request timer rejects with DIAMETER_TIMEOUT', async () => {
    const { hss, icscf, clock } = await pair();
    hss.onRequest(() => new Promise<DiameterMessage>(() => {}));
    const p = icscf.request(lir(icscf), { timeoutMs: 1500 });
    const outcome = p.then(
      () => 'answered',
      (e: unknown) => e,
    );
    await settle();
    clock.advance(1499);
    await settle();
    assert.equal(icscf.peerState('hss.ims.lab')?.pending, 1);
    clock.advance(1);
    const e = await outcome;
    assert.ok(e instanceof DiameterTimeoutError);
    assert.equal(e.code, 'DIAMETER_TIMEOUT');
    assert.equal(icscf.peerState('hss.ims.lab')?.pending, 0);
  });

  test('a request with no usable peer for its realm fails with DIAMETER_UNABLE_TO_DELIVER', async () => {
    const { icscf } = await pair();
    await assert.rejects(icscf.request(lir(icscf, { destinationRealm: 'other.lab' })), (e: unknown) => e instanceof DiameterPeerError && e.resultCode === 3002);
  });

  test('[R-CX-1] stop() sends DPR, the peer answers DPA, both sides end Closed', async () => {
    const { hss, icscf, transport } = await pair();
    const status: string[] = [];
    hss.onPeerStatus((h, s) => status.push(`${h}:${s}`));
    await icscf.stop();
    await settle();
    const msgs = sent(transport.clientConnections[0]);
    const dpr = msgs.find((m) => m.commandCode === 282 && m.flags & 0x80);
    assert.ok(dpr);
    assert.equal(getValue(dpr.avps, 'Disconnect-Cause'), 0);
    assert.equal(icscf.peerState('hss.ims.lab')?.psm, 'Closed');
    assert.equal(hss.peerState('icscf.ims.lab')?.psm, 'Closed');
    assert.deepEqual(status, ['icscf.ims.lab:down']);
    await hss.stop();
  });
  test('[R-CX-1] both peers connect at once: the election (§5.6.4) leaves one connection, opened on both sides', async () => {
    const w = world();
    const a = w.mk({ originHost: 'scscf.ims.lab', listen: { host: 'a', port: 3868 }, peers: [{ host: 'hss.ims.lab', connect: { host: 'b', port: 3868 } }] });
    const b = w.mk({ originHost: 'hss.ims.lab', listen: { host: 'b', port: 3868 }, peers: [{ host: 'scscf.ims.lab', connect: { host: 'a', port: 3868 } }] });
    hssHandler(b, 'hss.ims.lab');
    await Promise.all([a.start(), b.start()]);
    await settle(20);
    // scscf.ims.lab > hss.ims.lab: scscf wins and keeps the connection hss opened (its R side).
    assert.equal(a.peerState('hss.ims.lab')?.psm, 'R-Open');
    assert.equal(b.peerState('scscf.ims.lab')?.psm, 'I-Open');
    assert.equal(w.transport.clientConnections.filter((c) => !c.closed).length, 1, 'one connection survives');
    const p = a.request(lir(a));
    await settle();
    assert.equal(getValue((await p).avps, 'Result-Code'), 2001);
  });
});

describe('RFC 3539 watchdog, failover and reconnect', () => {
  test('[R-CX-1] idle Tw sends DWR; DWA keeps the peer OKAY', async () => {
    const { icscf, clock, transport } = await pair();
    clock.advance(12_500);
    await settle();
    const dwrs = sent(transport.clientConnections[0]).filter((m) => m.commandCode === 280 && m.flags & 0x80);
    assert.equal(dwrs.length, 1);
    assert.equal(getValue(dwrs[0].avps, 'Origin-Host'), 'icscf.ims.lab');
    assert.equal(icscf.peerState('hss.ims.lab')?.watchdog, 'OKAY');
    clock.advance(12_500);
    await settle();
    assert.equal(icscf.peerState('hss.ims.lab')?.usable, true);
  });

  test('[R-CX-1] no DWA: SUSPECT after 2·Tw, DOWN after 3·Tw, reconnect with backoff, REOPEN → OKAY', async () => {
    const { icscf, clock, transport } = await pair();
    const t0 = clock.now();
    const status: string[] = [];
    icscf.onPeerStatus((_h, s) => status.push(`${s}@${Math.round((clock.now() - t0) / 1000)}`));
    transport.clientConnections[0].other!.blackhole = true; // the HSS's writes vanish
    for (let i = 0; i < 45; i++) {
      clock.advance(1000);
      await settle();
    }
    const [suspect, down, up] = status.map((x) => Number(x.split('@')[1]));
    assert.deepEqual(status.map((x) => x.split('@')[0]), ['suspect', 'down', 'up']);
    assert.ok(suspect >= 16 && suspect <= 24, `suspect at ${suspect} s (2 Tw, Tw = 10 s ± 2 s)`);
    assert.ok(down - suspect >= 8 && down - suspect <= 12, `down ${down - suspect} s after suspect`);
    assert.ok(up - down >= 1 && up - down <= 2, `reconnected ${up - down} s after down (backoff 1 s + jitter)`);
    assert.equal(transport.clientConnections.length, 2, 'a new connection');
    assert.ok(transport.clientConnections[0].closed, 'the dead one was closed');
    assert.deepEqual(icscf.peerState('hss.ims.lab'), { psm: 'I-Open', watchdog: 'OKAY', usable: true, pending: 0 });
  });

  test('reconnect retries with exponential backoff while the peer refuses', async () => {
    const w = world();
    const icscf = w.mk({ originHost: 'icscf.ims.lab', peers: [{ host: 'hss.ims.lab', connect: { host: 'hss', port: 3868 } }], timers: { reconnectMinMs: 1000, reconnectMaxMs: 8000, watchdogMs: 10_000 } });
    await icscf.start();
    await settle();
    assert.equal(icscf.peerState('hss.ims.lab')?.psm, 'Closed');
    const hss = w.mk({ originHost: 'hss.ims.lab', listen: { host: 'hss', port: 3868 }, peers: [{ host: 'icscf.ims.lab' }] });
    hssHandler(hss, 'hss.ims.lab');
    // Attempts at ~1 s, ~2 s, ~4 s later; the HSS comes up only after the second attempt.
    w.clock.advance(1300);
    await settle();
    assert.equal(icscf.peerState('hss.ims.lab')?.psm, 'Closed');
    await hss.start();
    w.clock.advance(1000);
    await settle();
    assert.equal(icscf.peerState('hss.ims.lab')?.psm, 'Closed', 'second attempt not due yet (backoff doubled to 2 s)');
    w.clock.advance(1700);
    await settle(10);
    assert.equal(icscf.peerState('hss.ims.lab')?.psm, 'I-Open');
  });

  test('[R-CX-1] a request pending on a peer that goes down fails over to another peer of the realm with the T bit', async () => {
    const w = world();
    const hss1 = w.mk({ originHost: 'hss1.ims.lab', listen: { host: 'hss1', port: 3868 }, peers: [{ host: 'icscf.ims.lab' }] });
    const hss2 = w.mk({ originHost: 'hss2.ims.lab', listen: { host: 'hss2', port: 3868 }, peers: [{ host: 'icscf.ims.lab' }] });
    const icscf = w.mk({
      originHost: 'icscf.ims.lab',
      peers: [
        { host: 'hss1.ims.lab', connect: { host: 'hss1', port: 3868 } },
        { host: 'hss2.ims.lab', connect: { host: 'hss2', port: 3868 } },
      ],
    });
    const seen1: DiameterMessage[] = [];
    hss1.onRequest((r) => {
      seen1.push(r);
      return new Promise(() => {});
    });
    const seen2 = hssHandler(hss2, 'hss2.ims.lab');
    await hss1.start();
    await hss2.start();
    await icscf.start();
    await settle();
    const p = icscf.request(lir(icscf, { destinationHost: 'hss1.ims.lab' }));
    await settle();
    assert.equal(seen1.length, 1);
    w.transport.clientConnections[0].destroy();
    await settle();
    const ans = await p;
    assert.equal(getValue(ans.avps, 'Origin-Host'), 'hss2.ims.lab');
    assert.equal(seen2.length, 1);
    assert.equal(seen2[0].flags & 0x10, 0x10, "'T' bit on the retransmission");
    assert.equal(seen2[0].endToEnd, seen1[0].endToEnd, 'same End-to-End id');
  });

  test('[R-CX-1] routing: Destination-Host is preferred when usable, else realm peers in round robin', async () => {
    const w = world();
    const hss1 = w.mk({ originHost: 'hss1.ims.lab', listen: { host: 'hss1', port: 3868 }, peers: [{ host: 'icscf.ims.lab' }] });
    const hss2 = w.mk({ originHost: 'hss2.ims.lab', listen: { host: 'hss2', port: 3868 }, peers: [{ host: 'icscf.ims.lab' }] });
    const icscf = w.mk({
      originHost: 'icscf.ims.lab',
      peers: [
        { host: 'hss1.ims.lab', connect: { host: 'hss1', port: 3868 } },
        { host: 'hss2.ims.lab', connect: { host: 'hss2', port: 3868 } },
      ],
    });
    hssHandler(hss1, 'hss1.ims.lab');
    hssHandler(hss2, 'hss2.ims.lab');
    await hss1.start();
    await hss2.start();
    await icscf.start();
    await settle();
    const who = async (m: DiameterMessage): Promise<string | undefined> => {
      const p = icscf.request(m);
      await settle();
      return getValue((await p).avps, 'Origin-Host');
    };
    assert.deepEqual([await who(lir(icscf, { destinationHost: 'hss2.ims.lab' })), await who(lir(icscf, { destinationHost: 'hss2.ims.lab' }))], ['hss2.ims.lab', 'hss2.ims.lab']);
    const rr = [await who(lir(icscf)), await who(lir(icscf)), await who(lir(icscf))];
    assert.deepEqual(new Set(rr), new Set(['hss1.ims.lab', 'hss2.ims.lab']));
    assert.notEqual(rr[0], rr[1]);
  });
});

describe('DiameterNode over TCP on loopback', () => {
  test('[R-CX-1] two nodes: CER/CEA, 200 concurrent Cx requests, DPR/DPA', async () => {
    const hss = new DiameterNode({ ...cxCapabilities(), originHost: 'hss.ims.lab', originRealm: 'ims.lab', hostIpAddresses: ['127.0.0.1'], listen: { host: '127.0.0.1', port: 0 }, peers: [{ host: 'icscf.ims.lab' }] });
    hssHandler(hss, 'hss.ims.lab');
    await hss.start();
    const icscf = new DiameterNode({ ...cxCapabilities(), originHost: 'icscf.ims.lab', originRealm: 'ims.lab', hostIpAddresses: ['127.0.0.1'], peers: [{ host: 'hss.ims.lab', connect: { host: '127.0.0.1', port: hss.listenPort as number } }] });
    try {
      await icscf.start();
      await icscf.waitForPeer('hss.ims.lab', 3000);
      const answers = await Promise.all(Array.from({ length: 200 }, () => icscf.request(lir(icscf))));
      assert.equal(answers.filter((a) => getValue(a.avps, 'Result-Code') === 2001).length, 200);
      const sids = new Set(answers.map((a) => getValue(a.avps, 'Session-Id')));
      assert.equal(sids.size, 200, 'every answer matched its own request');
      await icscf.stop();
      assert.equal(icscf.peerState('hss.ims.lab')?.psm, 'Closed');
      for (let i = 0; i < 100 && hss.peerState('icscf.ims.lab')?.psm !== 'Closed'; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(hss.peerState('icscf.ims.lab')?.psm, 'Closed');
    } finally {
      await icscf.stop();
      await hss.stop();
    }
  });
});

