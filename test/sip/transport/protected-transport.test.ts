/**
 * The protected SIP transport (TS 33.203 §7.1) over C2's userspace ESP-in-UDP datapath and over
 * plain sockets (kernel XFRM carrier), on real loopback sockets, plus the port and routing rules
 * with a scripted carrier.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { ManualClock, SeededRng } from '../../../src/common/index.js';
import { KernelSocketCarrier, SaManager, UdpEncapDatapath, inboundSaLookup, mirrorSaTable, type Mirror, type SaSet } from '../../../src/ipsec/index.js';
import {
  ProtectedTransport,
  isProtected,
  protectionOf,
  type CarrierMessageInfo,
  type ProtectedCarrier,
  type Protection,
  type ResponseFlow,
} from '../../../src/sip/transport/protected/index.js';
import { SipHeaders, SipRequest, parseMessage, serializeMessage, topVia, type SipMessage } from '../../../src/sip/index.js';
import { SipStack, type RequestContext } from '../../../src/sip/stack/index.js';
import type { Endpoint, InboundMessage } from '../../../src/sip/transport/index.js';
import { waitFor } from '../../support/wait.js';

const HOST = '127.0.0.1';
const IK = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const CK = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 - i);

function message(uri: string, from = 'sip:alice@ims.lab', callId = `c${Math.random().toString(16).slice(2)}`): SipRequest {
  const h = new SipHeaders();
  h.append('From', `<${from}>;tag=f1`);
  h.append('To', `<${uri}>`);
  h.append('Call-ID', callId);
  h.append('CSeq', '1 MESSAGE');
  h.append('Content-Type', 'text/plain');
  return new SipRequest('MESSAGE', uri, h, new TextEncoder().encode('hello'));
}

interface Side {
  mgr: SaManager;
  dp: UdpEncapDatapath;
  mirror: Mirror;
  t: ProtectedTransport;
  stack: SipStack;
  set: SaSet;
  portC: number;
  portS: number;
  spiC: number;
  spiS: number;
  taps: Uint8Array[];
}

/** A UE and a P-CSCF with one matching SA set installed in two userspace datapaths. */
async function protectedPair(responseFlow: ResponseFlow = 'client-to-server'): Promise<{ ue: Side; pc: Side; close(): Promise<void> }> {
  const tapped = (): { dp: UdpEncapDatapath; taps: Uint8Array[] } => {
    const taps: Uint8Array[] = [];
    return { dp: new UdpEncapDatapath({ tap: (dir, _l, _r, d) => dir === 'out' && taps.push(d.slice()) }), taps };
  };
  const ueSide = tapped();
  const pcSide = tapped();
  // Each protected port bound by its datapath at once and held (the SAs share the socket); a port
  // found free first and bound later could be taken in between by another test process.
  const [ueC, ueS] = [await ueSide.dp.listen(HOST, 0), await ueSide.dp.listen(HOST, 0)];
  const [pcC, pcS] = [await pcSide.dp.listen(HOST, 0), await pcSide.dp.listen(HOST, 0)];
  const clock = new ManualClock(0);
  const ueMgr = new SaManager({ role: 'ue', clock, rng: new SeededRng(1) });
  const pcMgr = new SaManager({ role: 'pcscf', clock, rng: new SeededRng(2) });
  const ueLocal = ueMgr.reserveLocal();
  const pcLocal = pcMgr.reserveLocal({ avoidSpis: [ueLocal.spiC, ueLocal.spiS] });
  const common = { impi: 'alice@ims.lab', impus: ['sip:alice@ims.lab'], ueAddress: HOST, pcscfAddress: HOST, integrity: 'hmac-sha-1-96', encryption: 'aes-cbc', mode: 'UDP-enc-tun', ik: IK, ck: CK } as const;
  const ueSpis = { spiC: ueLocal.spiC, spiS: ueLocal.spiS, portC: ueC, portS: ueS };
  const pcSpis = { spiC: pcLocal.spiC, spiS: pcLocal.spiS, portC: pcC, portS: pcS };
  ueLocal.release();
  pcLocal.release();
  const mk = async ({ dp, taps }: ReturnType<typeof tapped>, mgr: SaManager, local: typeof ueSpis, remote: typeof ueSpis): Promise<Side> => {
    const mirror = mirrorSaTable(mgr, dp);
    const r = mgr.createSet({ ...common, local, remote });
    assert.ok(r.ok);
    await mirror.idle();
    const t = new ProtectedTransport({ carrier: dp, address: HOST, serverPort: local.portS, clientPort: local.portC, saManager: mgr, responseFlow });
    const stack = new SipStack({ transports: [t] });
    return { mgr, dp, mirror, t, stack, set: r.set, ...local, taps };
  };
  const ue = await mk(ueSide, ueMgr, ueSpis, pcSpis);
  const pc = await mk(pcSide, pcMgr, pcSpis, ueSpis);
  return {
    ue,
    pc,
    async close() {
      for (const s of [ue, pc]) {
        await s.stack.close();
        s.mgr.clear();
        await s.mirror.idle();
        await s.dp.close();
      }
    },
  };
}

describe('TS 33.203 §7.1: protected SIP over userspace ESP-in-UDP (loopback)', () => {
  let pair: Awaited<ReturnType<typeof protectedPair>>;
  before(async () => {
    pair = await protectedPair();
  });
  after(async () => {
    await pair.close();
  });

  test('[R-SA-3] UE request leaves port_uc for port_ps; the response comes from port_pc to port_us (TS 24.229 §5.1.1.2.2)', async () => {
    const { ue, pc } = pair;
    let seen: { req: SipRequest; ctx: RequestContext; prot?: Protection } | undefined;
    pc.stack.onRequest((req, ctx) => {
      seen = { req, ctx, prot: protectionOf(req) };
      ctx.reply(200, 'OK');
    });
    const resp = await ue.stack.sendRequest(message('sip:bob@ims.lab'), { address: HOST, port: pc.portS, through: ue.t });
    assert.equal(resp.status, 200);
    assert.ok(seen);
    // Arrived at the P-CSCF's port-s from the UE's port-c ...
    assert.equal(seen.ctx.local.port, pc.portS);
    assert.equal(seen.ctx.remote.port, ue.portC);
    // ... on the SA whose SPI the P-CSCF chose for its port-s (flow uc-ps).
    assert.equal(seen.prot?.spi, pc.spiS);
    assert.equal(seen.prot?.saId, `${pc.set.id}/uc-ps`);
    assert.ok(isProtected(seen.req));
    // The Via carries the UE's protected server port (TS 24.229 §5.1.1.2) and no rport.
    const via = topVia(seen.req)!;
    assert.equal(via.port, ue.portS);
    assert.equal(via.params.get('rport'), undefined);
    // The response travelled like a request: P-CSCF port-c → UE port-s, on the UE's inbound SA
    // of flow pc-us (the UE's spi-s), not back to port-c.
    assert.equal(protectionOf(resp)?.spi, ue.spiS);
    assert.equal(protectionOf(resp)?.saId, `${ue.set.id}/pc-us`);
  });

  test('[R-SA-3] P-CSCF request leaves port_pc for port_us; the UE answers from port_uc to port_ps (TS 24.229 §5.1.1.2.2)', async () => {
    const { ue, pc } = pair;
    let prot: Protection | undefined;
    let ctxPorts: [number, number] | undefined;
    ue.stack.onRequest((req, ctx) => {
      prot = protectionOf(req);
      ctxPorts = [ctx.local.port, ctx.remote.port];
      ctx.reply(200, 'OK');
    });
    const resp = await pc.stack.sendRequest(message('sip:alice@127.0.0.1', 'sip:bob@ims.lab'), { address: HOST, port: ue.portS, through: pc.t });
    assert.equal(resp.status, 200);
    assert.deepEqual(ctxPorts, [ue.portS, pc.portC]);
    assert.equal(prot?.spi, ue.spiS);
    assert.equal(protectionOf(resp)?.spi, pc.spiS);
    assert.equal(protectionOf(resp)?.saId, `${pc.set.id}/uc-ps`);
  });

  test('[R-SA-5] a plain SIP datagram sent to a protected port never reaches the SIP layer', async () => {
    const { ue } = pair;
    let got = 0;
    ue.stack.onRequest((_req, ctx) => {
      got++;
      ctx.reply(200, 'OK');
    });
    const drops = (): number => Object.values(ue.dp.counters.dropped).reduce((a, b) => a + b, 0);
    const before = drops();
    const req = message('sip:alice@127.0.0.1');
    req.headers.prepend('Via', `SIP/2.0/UDP ${HOST}:9;branch=z9hG4bKplain`);
    req.headers.append('Max-Forwards', '70');
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.send(serializeMessage(req), ue.portS, HOST, () => r()));
    // Read as ESP, "MESS" is an SPI no SA has: dropped and counted by the datapath.
    await waitFor(() => drops() > before);
    s.close();
    assert.equal(got, 0);
  });

  test('[R-SA-8] a replayed protected request is dropped by the datapath and handed up once', async () => {
    const { ue, pc } = pair;
    let got = 0;
    pc.stack.onRequest((_req, ctx) => {
      got++;
      ctx.reply(200, 'OK');
    });
    ue.taps.length = 0;
    await ue.stack.sendRequest(message('sip:bob@ims.lab'), { address: HOST, port: pc.portS, through: ue.t });
    const packet = ue.taps[0];
    assert.ok(packet);
    const replays = pc.dp.counters.dropped.replay;
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.send(packet, pc.portS, HOST, () => r()));
    await waitFor(() => pc.dp.counters.dropped.replay > replays);
    s.close();
    assert.equal(got, 1);
  });

  test('a destination without an outbound SA rejects with SIP_TRANSPORT', async () => {
    const { ue } = pair;
    await assert.rejects(ue.t.send(message('sip:x@ims.lab'), { address: HOST, port: 9 }), (e: Error & { code?: string }) => e.code === 'SIP_TRANSPORT');
    assert.ok(ue.t.counters.sendErrors >= 1);
  });
});

describe('[R-SA-3] responseFlow server-to-client: the Rel-5 pairing stays selectable (loopback)', () => {
  test('[R-SA-3] a response leaves the responder\'s port-s for the request\'s port-c, on the ps-uc / us-pc SAs', async () => {
    const pair = await protectedPair('server-to-client');
    try {
      const { ue, pc } = pair;
      pc.stack.onRequest((_req, ctx) => void ctx.reply(200, 'OK'));
      ue.stack.onRequest((_req, ctx) => void ctx.reply(200, 'OK'));
      const up = await ue.stack.sendRequest(message('sip:bob@ims.lab'), { address: HOST, port: pc.portS, through: ue.t });
      assert.equal(up.status, 200);
      // P-CSCF port-s → UE port-c: the UE's inbound SA of flow ps-uc (the UE's spi-c).
      assert.equal(protectionOf(up)?.spi, ue.spiC);
      assert.equal(protectionOf(up)?.saId, `${ue.set.id}/ps-uc`);
      const down = await pc.stack.sendRequest(message('sip:alice@127.0.0.1', 'sip:bob@ims.lab'), { address: HOST, port: ue.portS, through: pc.t });
      assert.equal(down.status, 200);
      // UE port-s → P-CSCF port-c: the P-CSCF's inbound SA of flow us-pc (its spi-c).
      assert.equal(protectionOf(down)?.spi, pc.spiC);
      assert.equal(protectionOf(down)?.saId, `${pc.set.id}/us-pc`);
    } finally {
      await pair.close();
    }
  });
});

/** A scripted carrier: records sends, lets the test inject opened datagrams. */
class FakeCarrier implements ProtectedCarrier {
  sent: Array<{ sip: Uint8Array; fromPort: number; to: Endpoint }> = [];
  fail = false;
  private handler?: (sip: Uint8Array, info: CarrierMessageInfo) => void;
  async send(sip: Uint8Array, opts: { fromPort: number; to: Endpoint }): Promise<void> {
    if (this.fail) throw new Error('no outbound SA');
    this.sent.push({ sip, fromPort: opts.fromPort, to: opts.to });
  }
  onMessage(h: (sip: Uint8Array, info: CarrierMessageInfo) => void): void {
    this.handler = h;
  }
  inject(msg: SipMessage | string, local: Endpoint, remote: Endpoint, setId = 7): void {
    const bytes = typeof msg === 'string' ? new TextEncoder().encode(msg) : serializeMessage(msg);
    this.handler!(bytes, { local, remote, outer: remote, spi: 0x1234, saId: `${setId}/pc-us`, setId, seq: 1 });
  }
}

const REQ = (viaPort: number, branch = 'z9hG4bKabc') =>
  `MESSAGE sip:alice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${viaPort};branch=${branch}\r\nFrom: <sip:b@x>;tag=1\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: k1\r\nCSeq: 4 MESSAGE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;

describe('TS 33.203 §7.1 port discipline and dispatch (scripted carrier)', () => {
  test('[R-RR-1] [R-RR-2] a retransmission leaves from the client port its request first left from, though the client port moved on meanwhile (RFC 3261 §17.1.2.2 Timer E)', async () => {
    const c = new FakeCarrier();
    const t = new ProtectedTransport({ carrier: c, address: HOST, serverPort: 6001, clientPort: 6000 });
    const first = parseMessage(new TextEncoder().encode(REQ(6001, 'z9hG4bKretx')));
    await t.send(first, { address: HOST, port: 5001 });
    // A re-registration takes a new port_uc for its protected REGISTER.
    t.setClientPort(6010);
    await t.send(parseMessage(new TextEncoder().encode(REQ(6001, 'z9hG4bKother'))), { address: HOST, port: 5001 });
    await t.send(first, { address: HOST, port: 5001 });
    assert.deepEqual(c.sent.map((x) => x.fromPort), [6000, 6010, 6000]);
    await t.close();
  });

  /** A P-CSCF-side set: local port_ps 5001 and port_pc 5020; the UE's port_uc 6000 and port_us 6001. */
  const SET = { id: 7, pcscf: { address: HOST, spiC: 0x2001, spiS: 0x2002, portC: 5020, portS: 5001 }, ue: { address: HOST, spiC: 0x80000001, spiS: 0x80000002, portC: 6000, portS: 6001 } };
  const sm = { noteInbound: () => undefined, get: (id: number) => (id === SET.id ? SET : undefined), role: 'pcscf' } as unknown as ConstructorParameters<typeof ProtectedTransport>[0]['saManager'];
  const RESP = (req: SipRequest, branch = 'z9hG4bKabc') =>
    parseMessage(new TextEncoder().encode(`SIP/2.0 200 OK\r\nVia: ${req.headers.get('via')!.replace('z9hG4bKabc', branch)}\r\nFrom: <sip:b@x>;tag=1\r\nTo: <sip:alice@127.0.0.1>;tag=2\r\nCall-ID: k1\r\nCSeq: 4 MESSAGE\r\nContent-Length: 0\r\n\r\n`));

  test('[R-SA-3] client-to-server (default): requests and responses leave from port-c to the peer\'s port-s; a response on its request\'s set', async () => {
    // TS 24.229 §5.1.1.2.2: over UDP every message leaves the sender's protected client port
    // for the receiver's protected server port.
    const c = new FakeCarrier();
    const t = new ProtectedTransport({ carrier: c, address: HOST, serverPort: 5001, clientPort: 5000, saManager: sm });
    const inbound: InboundMessage[] = [];
    t.onMessage((m) => inbound.push(m));
    // A request whose Via names port 6001 (the peer's port-s) that came from 6000 (its port-c) on set 7.
    c.inject(REQ(6001), { address: HOST, port: 5001 }, { address: HOST, port: 6000 }, SET.id);
    assert.equal(inbound.length, 1);
    const req = inbound[0].msg as SipRequest;
    // The response leaves on set 7: its port_pc (5020, not the transport's client port) to port_us.
    await t.send(RESP(req), { address: HOST, port: 6001 });
    assert.deepEqual([c.sent[0].fromPort, c.sent[0].to.port], [5020, 6001]);
    await t.send(message('sip:bob@ims.lab'), { address: HOST, port: 6001 });
    assert.deepEqual([c.sent[1].fromPort, c.sent[1].to.port], [5000, 6001]);
    t.setClientPort(5010);
    await t.send(message('sip:bob@ims.lab'), { address: HOST, port: 6001 });
    assert.equal(c.sent[2].fromPort, 5010);
    // A response for a request we never saw: from the client port to where the Via route says.
    await t.send(RESP(req, 'z9hG4bKzzz'), { address: HOST, port: 6001 });
    assert.deepEqual([c.sent[3].fromPort, c.sent[3].to.port], [5010, 6001]);
    await t.close();
  });

  test('[R-SA-3] server-to-client (Rel-5 pairing): a response leaves its set\'s port-s for the port-c its request came from', async () => {
    const c = new FakeCarrier();
    const t = new ProtectedTransport({ carrier: c, address: HOST, serverPort: 5001, clientPort: 5000, saManager: sm, responseFlow: 'server-to-client' });
    const inbound: InboundMessage[] = [];
    t.onMessage((m) => inbound.push(m));
    c.inject(REQ(6001), { address: HOST, port: 5001 }, { address: HOST, port: 6000 }, SET.id);
    const req = inbound[0].msg as SipRequest;
    await t.send(RESP(req), { address: HOST, port: 6001 });
    assert.deepEqual([c.sent[0].fromPort, c.sent[0].to.port], [5001, 6000]);
    // Requests are unchanged: port-c to the peer's port-s.
    await t.send(message('sip:bob@ims.lab'), { address: HOST, port: 6001 });
    assert.deepEqual([c.sent[1].fromPort, c.sent[1].to.port], [5000, 6001]);
    // Without an SA manager either: the server port back to the request's source.
    const bare = new ProtectedTransport({ carrier: c, address: HOST, serverPort: 7001, clientPort: 7000, responseFlow: 'server-to-client' });
    bare.onMessage((m) => inbound.push(m));
    c.inject(REQ(6001, 'z9hG4bKbare'), { address: HOST, port: 7001 }, { address: HOST, port: 6000 }, 99);
    await bare.send(RESP(inbound[1].msg as SipRequest, 'z9hG4bKbare'), { address: HOST, port: 6001 });
    assert.deepEqual([c.sent[2].fromPort, c.sent[2].to.port], [7001, 6000]);
    await t.close();
    await bare.close();
  });

  test('[R-RR-2] every delivered message notes its SA set (change-over ends on the first inbound)', () => {
    const c = new FakeCarrier();
    const noted: number[] = [];
    const t = new ProtectedTransport({ carrier: c, address: HOST, serverPort: 5001, clientPort: 5000, saManager: { noteInbound: (id) => noted.push(id), get: () => undefined, role: 'pcscf' } });
    t.onMessage(() => undefined);
    c.inject(REQ(6001), { address: HOST, port: 5001 }, { address: HOST, port: 6000 }, 42);
    c.inject('garbage\r\n\r\n', { address: HOST, port: 5001 }, { address: HOST, port: 6000 }, 43);
    assert.deepEqual(noted, [42]);
    assert.equal(t.counters.dropped.parse, 1);
  });

  test('transports sharing one carrier get the traffic of their own ports', () => {
    const c = new FakeCarrier();
    const a = new ProtectedTransport({ carrier: c, address: HOST, serverPort: 5001, clientPort: 5000 });
    const b = new ProtectedTransport({ carrier: c, address: HOST, serverPort: 7001, clientPort: 7000 });
    const got: string[] = [];
    a.onMessage(() => got.push('a'));
    b.onMessage(() => got.push('b'));
    c.inject(REQ(6001, 'z9hG4bK1'), { address: HOST, port: 7001 }, { address: HOST, port: 6000 });
    c.inject(REQ(6001, 'z9hG4bK2'), { address: HOST, port: 5001 }, { address: HOST, port: 6000 });
    c.inject(REQ(6001, 'z9hG4bK3'), { address: HOST, port: 9999 }, { address: HOST, port: 6000 });
    assert.deepEqual(got, ['b', 'a']);
  });

  test('oversized messages and carrier failures reject with SIP_TRANSPORT', async () => {
    const c = new FakeCarrier();
    const t = new ProtectedTransport({ carrier: c, address: HOST, serverPort: 5001, clientPort: 5000 });
    const big = message('sip:bob@ims.lab');
    big.body = new Uint8Array(70_000);
    await assert.rejects(t.send(big, { address: HOST, port: 6001 }), (e: Error & { code?: string }) => e.code === 'SIP_TRANSPORT');
    c.fail = true;
    await assert.rejects(t.send(message('sip:bob@ims.lab'), { address: HOST, port: 6001 }), (e: Error & { code?: string }) => e.code === 'SIP_TRANSPORT' && /no outbound SA/.test(e.message));
    assert.equal(t.counters.sendErrors, 2);
    assert.throws(() => new ProtectedTransport({ carrier: c, address: 'ue.ims.lab', serverPort: 1, clientPort: 2 }), (e: Error & { code?: string }) => e.code === 'SIP_TRANSPORT');
  });
});

describe('kernel XFRM carrier: plain sockets on the protected ports', () => {
  test('SIP flows between two kernel carriers; a sender without an inbound SA is dropped', async () => {
    const sa = (src: number, dst: number, spi: number) => ({ direction: 'in' as const, spi, id: `1/${spi}`, setId: 1, state: 'active' as const, src: { address: HOST, port: src }, dst: { address: HOST, port: dst } });
    // The SA table each side would hold (only inbound SAs matter for the lookup), set once the ports are known.
    let ueSas: ReturnType<typeof sa>[] = [];
    let pcSas: ReturnType<typeof sa>[] = [];
    const ueCar = new KernelSocketCarrier(HOST, inboundSaLookup({ role: 'ue', setsAtUePort: () => [{ sas: ueSas }] as never }));
    const pcCar = new KernelSocketCarrier(HOST, inboundSaLookup({ role: 'pcscf', setsAtUePort: () => [{ sas: pcSas }] as never }));
    // Each port bound by its carrier at once and held (not found free first: another test process could take it).
    const [ueC, ueS, pcC, pcS] = await Promise.all([ueCar.listen(HOST, 0), ueCar.listen(HOST, 0), pcCar.listen(HOST, 0), pcCar.listen(HOST, 0)]);
    ueSas = [sa(pcS, ueC, 0x80000101), sa(pcC, ueS, 0x80000102)];
    pcSas = [sa(ueC, pcS, 0x0101), sa(ueS, pcC, 0x0102)];
    const ueT = new ProtectedTransport({ carrier: ueCar, address: HOST, serverPort: ueS, clientPort: ueC });
    const pcT = new ProtectedTransport({ carrier: pcCar, address: HOST, serverPort: pcS, clientPort: pcC });
    const ueStack = new SipStack({ transports: [ueT] });
    const pcStack = new SipStack({ transports: [pcT] });
    let spi: number | undefined;
    pcStack.onRequest((req, ctx) => {
      spi = protectionOf(req)?.spi;
      ctx.reply(202, 'Accepted');
    });
    const resp = await ueStack.sendRequest(message('sip:bob@ims.lab'), { address: HOST, port: pcS, through: ueT });
    assert.equal(resp.status, 202);
    assert.equal(spi, 0x0101);
    // A datagram from a port no SA names is not SIP for us.
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, HOST, () => r()));
    await new Promise<void>((r) => s.send(new TextEncoder().encode(REQ(1)), pcS, HOST, () => r()));
    await waitFor(() => pcCar.counters.noSa === 1);
    s.close();
    await ueStack.close();
    await pcStack.close();
    await ueCar.close();
    await pcCar.close();
  });
});
