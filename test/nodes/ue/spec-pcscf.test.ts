/**
 * The soft UE against a P-CSCF scripted from the specification text, not against imsec's
 * P-CSCF: plain UDP sockets for the P-CSCF's unprotected port, port_ps and port_pc, SAs held by
 * hand (TS 33.203 Annex I keys), the AKA arithmetic of the home network (TS 35.206 Milenage,
 * TS 33.102 vectors) and SIP written out as text. Each datagram the UE sends is checked for its
 * source port, destination port, SPI and content.
 *
 * Rules (SPEC R-SA-3, R-RR-1, R-RR-2, R-FAIL-2, R-FAIL-3, R-SA-5):
 * - TS 24.229 §5.1.1.2.2 (as TS 34.229-1 tests it): over UDP the UE sends requests and responses
 *   from port_uc to port_ps, and receives requests and responses on port_us from port_pc.
 * - TS 24.229 §5.1.1.2.1/§5.1.1.2.2: the unprotected REGISTER's Contact is the unprotected port,
 *   with +sip.instance (RFC 5626 §4.1) and the MMTel ICSI; the protected one's is port_us.
 * - TS 24.229 §5.1.1.4.2: a re-REGISTER carries the last nonce and response, a new
 *   Security-Client (new SPIs, new port_uc, the same port_us) and Security-Verify.
 * - TS 24.229 §5.1.1.5.1 / TS 33.203 §7.4: after the 200 the UE sends on the new set, keeps the old
 *   set both ways until the P-CSCF's first message on the new one, then 64·T1 more.
 * - TS 24.229 §5.1.1.5.3: after a bad MAC or a stale SQN the report carries a new Security-Client
 *   with new spi-c, spi-s and port-c, no SA is made for the failed attempt, and the next 401 is
 *   handled as usual.
 * - TS 24.229 §5.1.1.5.1 (as TS 34.229-1 §8.1.2 quotes it): "A UE can be re-authenticated during
 *   subsequent reregistrations, deregistrations …"; on a 401 the UE sets up a temporary set from
 *   the Security-Client of the challenged REGISTER and the Security-Server, and sends the
 *   protected REGISTER over it, populated as the challenged one, with the 401's Call-ID.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { Milenage, akaPassword, buildAkaNonce, generateVector, verifyAuts, verifyDigestResponse, type AuthVector } from '../../../src/auth/index.js';
import { ManualClock, SeededRng, fromHex } from '../../../src/common/index.js';
import { createUe, memorySqnStore, parseUeConfig, type Ue } from '../../../src/nodes/ue/index.js';
import { usimStateFromSqnMs } from '../../../src/auth/index.js';
import type { SecMechanism } from '../../../src/secagree/index.js';
import { authorizationOf, contactsOf, formatUri, parseMessage, securityClientOf, securityVerifyOf, topVia, type SipMessage, type SipRequest } from '../../../src/sip/index.js';
import { RawPort, handSa, openSip, sealSip, sipText, spiOf, type HandSa } from '../../support/raw-esp.js';

const HOST = '127.0.0.1';
const K = fromHex('465b5ce8b199b49faa5f0a2ee238a6bc');
const OPC = fromHex('cd63cb71954a9f4e48a5994e37a02baf');
const T1 = 500;

function parse(bytes: Uint8Array | string): SipMessage {
  return parseMessage(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
}

/** The P-CSCF's own side of one SA set, held by hand (TS 33.203 §7.1). */
interface PcSet {
  ucPs: HandSa;
  pcUs: HandSa;
  psUc: HandSa;
  server: string;
  ue: SecMechanism;
}

/** The scripted P-CSCF (see the module comment). */
class SpecPcscf {
  private readonly milenage = new Milenage(K, OPC);
  private readonly rng = new SeededRng('spec-pcscf');
  private spi = 0x1000;
  constructor(
    readonly pu: RawPort,
    readonly ps: RawPort,
    readonly pcs: RawPort[],
  ) {}

  vector(sqn: number, badMac = false): AuthVector {
    const v = generateVector(this.milenage, this.rng.bytes(16), sqn, 0x8000);
    if (badMac) v.autn[15] ^= 0x01;
    return v;
  }

  /** A response to `req` (RFC 3261 §8.2.6), with extra headers. */
  respond(req: SipMessage, status: string, extra: [string, string][] = []): string {
    const copy = (n: string): [string, string][] => req.headers.getLines(n).map((v) => [n, v] as [string, string]);
    const to = req.headers.get('To')!;
    return sipText(`SIP/2.0 ${status}`, [...copy('Via'), ...copy('From'), ['To', /;\s*tag=/.test(to) ? to : `${to};tag=pc1`], ...copy('Call-ID'), ...copy('CSeq'), ...extra]);
  }

  /** 401 with RAND‖AUTN and a Security-Server naming port `pc` and port_ps (TS 24.229 §5.2.2.1). */
  challenge(req: SipMessage, v: AuthVector, pc: RawPort): { text: string; server: string; spis: { c: number; s: number } } {
    const spis = { c: ++this.spi, s: ++this.spi };
    const server = `ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;prot=esp;mod=UDP-enc-tun;spi-c=${spis.c};spi-s=${spis.s};port-c=${pc.port};port-s=${this.ps.port}`;
    const text = this.respond(req, '401 Unauthorized', [
      ['WWW-Authenticate', `Digest realm="ims.lab", nonce="${buildAkaNonce(v.rand, v.autn)}", algorithm=AKAv1-MD5, qop="auth"`],
      ['Security-Server', server],
    ]);
    return { text, server, spis };
  }

  /** The P-CSCF's SAs for a set, keyed from the vector (Annex I). */
  set(ue: SecMechanism, pc: RawPort, spis: { c: number; s: number }, server: string, v: AuthVector): PcSet {
    const base = { alg: 'hmac-sha-1-96', ealg: 'null', ik: v.ik, ck: v.ck };
    const uc = { address: HOST, port: ue.portC! };
    const us = { address: HOST, port: ue.portS! };
    return {
      server,
      ue,
      ucPs: handSa({ ...base, spi: spis.s, src: uc, dst: this.ps.endpoint }),
      pcUs: handSa({ ...base, spi: ue.spiS!, src: pc.endpoint, dst: us }),
      psUc: handSa({ ...base, spi: ue.spiC!, src: this.ps.endpoint, dst: uc }),
    };
  }

  /** Reads the next protected request on port_ps: it must come from the UE's port_uc on spi_ps. */
  async protectedOn(set: PcSet, what: string): Promise<SipMessage> {
    const d = await this.ps.next(what);
    assert.equal(d.from.port, set.ue.portC, `${what}: leaves the UE from port_uc`);
    assert.equal(spiOf(d.data), set.ucPs.spi, `${what}: on the uc→ps SA (the P-CSCF's spi-s)`);
    const o = openSip(set.ucPs, d.data);
    assert.deepEqual([o.src.port, o.dst.port], [set.ue.portC, this.ps.port]);
    return parse(o.text);
  }

  /** Sends on the pc→us SA of a set (from that set's port_pc). */
  sendToUe(set: PcSet, pc: RawPort, text: string): Promise<void> {
    return pc.send(sealSip(set.pcUs, text), { address: HOST, port: set.ue.portS! });
  }

  request(method: string, uePortS: number, n: number): string {
    return sipText(`${method} sip:alice@${HOST}:${uePortS} SIP/2.0`, [
      ['Via', `SIP/2.0/UDP ${HOST}:${this.ps.port};branch=z9hG4bKpc${n}`],
      ['Max-Forwards', '69'],
      ['From', '<sip:bob@ims.lab>;tag=b1'],
      ['To', '<sip:alice@ims.lab>'],
      ['Call-ID', `pc-req-${n}`],
      ['CSeq', `1 ${method}`],
      ['Content-Type', 'text/plain'],
    ], 'hello');
  }

  ok200(req: SipMessage): string {
    const contact = contactsOf(req);
    const c = contact !== '*' && contact[0] ? `<${formatUri(contact[0].uri)}>;expires=600` : '';
    return this.respond(req, '200 OK', [['Contact', c], ['P-Associated-URI', '<sip:alice@ims.lab>'], ['Service-Route', `<sip:orig@${HOST}:6060;lr>`]]);
  }
}

function verifies(req: SipMessage, v: AuthVector): boolean {
  const a = authorizationOf(req)[0];
  return verifyDigestResponse({ algorithm: 'AKAv1-MD5', username: a.username, realm: a.realm, password: akaPassword(1, v.xres), method: 'REGISTER', uri: a.uri, nonce: a.nonce, qop: a.qop as 'auth' | undefined, nc: a.nc, cnonce: a.cnonce }, a.response);
}

describe('the UE against a P-CSCF scripted from TS 24.229 §5.1.1 / §5.2.2 and TS 33.203 §7 (exact datagrams)', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  async function rig(store = memorySqnStore(), auto = false): Promise<{ clock: ManualClock; pc: SpecPcscf; ue: Ue; pcPorts: RawPort[] }> {
    const clock = new ManualClock(1_000_000);
    const ports = await Promise.all([0, 1, 2, 3].map(() => RawPort.open(HOST)));
    closers.push(() => Promise.all(ports.map((p) => p.close())).then(() => undefined));
    const [pu, ps, ...pcPorts] = ports;
    const pc = new SpecPcscf(pu, ps, pcPorts);
    const cfg = parseUeConfig({ impi: 'alice@ims.lab', impu: 'sip:alice@ims.lab', k: '465b5ce8b199b49faa5f0a2ee238a6bc', opc: 'cd63cb71954a9f4e48a5994e37a02baf', pcscf: `${HOST}:${pu.port}`, expires: 600, subscribeRegEvent: false, reRegister: { auto }, integrity: ['hmac-sha-1-96'], encryption: ['null'] });
    const ue = createUe(cfg, { clock, rng: new SeededRng('spec-ue'), sqnStore: store });
    await ue.start();
    closers.push(() => ue.stop());
    return { clock, pc, ue, pcPorts };
  }

  /** The first REGISTER on the unprotected port, checked against TS 24.229 §5.1.1.2. */
  async function firstRegister(pc: SpecPcscf, ue: Ue): Promise<{ req: SipMessage; offer: SecMechanism }> {
    const d = await pc.pu.next('the unprotected REGISTER');
    assert.equal(d.from.port, ue.address().sip.port);
    const req = parse(d.data) as SipRequest;
    assert.equal(req.method, 'REGISTER');
    const contact = req.headers.get('Contact')!;
    assert.match(contact, new RegExp(`^<sip:${HOST}:${ue.address().sip.port}>;\\+sip\\.instance="<urn:uuid:[0-9a-f-]{36}>";\\+g\\.3gpp\\.icsi-ref="urn%3Aurn-7%3A3gpp-service\\.ims\\.icsi\\.mmtel"$`), 'the unprotected Contact');
    assert.equal(topVia(req)?.params.has('rport'), true);
    const offer = securityClientOf(req);
    assert.equal(offer.length, 1);
    const o = offer[0];
    assert.equal(o.portS, ue.address().protectedServer.port);
    for (const spi of [o.spiC!, o.spiS!]) assert.ok(spi >= 0x80000000, 'R-SA-3: UE SPIs have MSB 1');
    return { req, offer: o };
  }

  /** 401 → protected REGISTER → 200 with the given vector; returns the P-CSCF's set. */
  async function complete(pc: SpecPcscf, req: SipMessage, offer: SecMechanism, v: AuthVector, pcPort: RawPort, via: (text: string) => Promise<void>): Promise<{ set: PcSet; answer: SipMessage }> {
    const ch = pc.challenge(req, v, pcPort);
    await via(ch.text);
    const set = pc.set(offer, pcPort, ch.spis, ch.server, v);
    const answer = await pc.protectedOn(set, 'the protected REGISTER');
    assert.equal(securityVerifyOf(answer).length, 1);
    assert.equal(answer.headers.get('Security-Verify')!.replace(/\s/g, ''), ch.server, 'R-SM-4: Security-Verify = Security-Server');
    assert.deepEqual(securityClientOf(answer), [offer], 'Security-Client unchanged');
    assert.ok(verifies(answer, v), 'the digest response verifies against XRES');
    const c = contactsOf(answer);
    assert.ok(c !== '*' && c[0].uri.kind === 'sip' && c[0].uri.port === offer.portS, 'the protected Contact is port_us');
    await pc.sendToUe(set, pcPort, pc.ok200(answer));
    return { set, answer };
  }

  /** Sends a SIP text from the P-CSCF's unprotected port to where the UE's REGISTER came from. */
  const unprotected = (pc: SpecPcscf, ue: Ue) => (t: string) => pc.pu.send(t, ue.address().sip);

  async function registered(auto = false): Promise<{ clock: ManualClock; pc: SpecPcscf; ue: Ue; pcPorts: RawPort[]; set: PcSet; offer: SecMechanism; answer: SipMessage }> {
    const r = await rig(memorySqnStore(), auto);
    const p = r.ue.register();
    const { req, offer } = await firstRegister(r.pc, r.ue);
    const { set, answer } = await complete(r.pc, req, offer, r.pc.vector(32), r.pcPorts[0], unprotected(r.pc, r.ue));
    await p;
    return { ...r, set, offer, answer };
  }

  test('[R-SA-3] [R-SM-1] [R-SM-4] [R-SA-5] registration, requests and responses both ways over the SAs, port rule (TS 24.229 §5.1.1.2.2)', async () => {
    const { pc, ue, pcPorts, set } = await registered();
    assert.equal(ue.state().state, 'registered');
    const pc0 = pcPorts[0];
    // The UE's MESSAGE: port_uc → port_ps; the P-CSCF's 200: port_pc → port_us.
    const m = ue.sendMessage('sip:bob@ims.lab', 'hi');
    const msg = await pc.protectedOn(set, 'MESSAGE');
    assert.equal(msg.kind === 'request' && msg.method, 'MESSAGE');
    await pc.sendToUe(set, pc0, pc.respond(msg, '200 OK'));
    assert.equal((await m).status, 200);
    // A request from the P-CSCF: port_pc → port_us; the UE's 200 goes port_uc → port_ps (not back to port_pc).
    await pc.sendToUe(set, pc0, pc.request('MESSAGE', set.ue.portS!, 1));
    const ok = await pc.protectedOn(set, "the UE's 200");
    assert.equal(ok.kind === 'response' && ok.status, 200);
    assert.equal(pc0.inbox.length, 0, 'nothing comes back to port_pc');
    // R-SA-5: plain SIP on port_us is dropped and counted, never answered.
    const dp = (): number => Object.values(ue.counters().datapath!.dropped).reduce((x, y) => x + y, 0);
    const before = dp();
    await pc0.send(pc.request('MESSAGE', set.ue.portS!, 2), { address: HOST, port: set.ue.portS! });
    const end = Date.now() + 3000;
    while (dp() === before && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    assert.equal(dp(), before + 1);
    assert.equal(pc.ps.inbox.length + pc0.inbox.length, 0);
  });

  test('[R-RR-1] [R-RR-2] re-registration: last nonce and response, new SPIs and port_uc, same port_us; old set kept both ways until the P-CSCF uses the new, then 64·T1 (TS 24.229 §5.1.1.4.2, §5.1.1.5.1)', async () => {
    const { clock, pc, ue, pcPorts, set: s1, offer: o1, answer: a1 } = await registered();
    const p = ue.reRegister();
    const rr = await pc.protectedOn(s1, 'the re-REGISTER over the old set');
    const last = authorizationOf(a1)[0];
    const now = authorizationOf(rr)[0];
    assert.deepEqual([now.nonce, now.response], [last.nonce, last.response], 'TS 24.229 §5.1.1.4.2: the last nonce and response');
    assert.equal(rr.headers.get('Security-Verify')!.replace(/\s/g, ''), s1.server);
    const o2 = securityClientOf(rr)[0];
    assert.equal(o2.portS, o1.portS, 'R-RR-1: port_us kept');
    assert.notEqual(o2.portC, o1.portC, 'R-RR-1: a new port_uc');
    assert.ok(![o1.spiC, o1.spiS].includes(o2.spiC) && ![o1.spiC, o1.spiS].includes(o2.spiS), 'new SPIs');
    const { set: s2 } = await complete(pc, rr, o2, pc.vector(64), pcPorts[1], (t) => pc.sendToUe(s1, pcPorts[0], t));
    await p;
    assert.deepEqual(ue.sa.sets().map((s) => [s.state, s.sas.length]), [['old', 4], ['active', 4]], 'R-RR-2: the old set keeps both directions');
    // A request on the old set is answered on the old set (old port_uc → port_ps).
    await pc.sendToUe(s1, pcPorts[0], pc.request('MESSAGE', o1.portS!, 3));
    const okOld = await pc.protectedOn(s1, '200 on the old set');
    assert.equal(okOld.kind === 'response' && okOld.status, 200);
    // The UE's own requests go on the new set.
    const m = ue.sendMessage('sip:bob@ims.lab', 'on the new set');
    const msg = await pc.protectedOn(s2, 'MESSAGE on the new set');
    await pc.sendToUe(s2, pcPorts[1], pc.respond(msg, '200 OK'));
    assert.equal((await m).status, 200);
    // The P-CSCF's first message on the new set: the old set lives 64·T1 more, then goes.
    const old = ue.sa.sets().find((s) => s.state === 'old')!;
    assert.equal(old.expiresAt, clock.now() + 64 * T1);
    clock.advance(64 * T1);
    assert.deepEqual(ue.sa.sets().map((s) => s.state), ['active']);
  });

  test('[R-SA-7] [R-SM-4] [R-RR-1] a challenged de-registration: a temporary set from the de-REGISTER\'s new Security-Client, the protected de-REGISTER (Expires 0, RES) over it, then no SA left (TS 24.229 §5.1.1.6, §5.1.1.5.1)', async () => {
    const { pc, ue, pcPorts, set: s1, offer: o1, answer: a1 } = await registered();
    const p = ue.deregister();
    const dr = await pc.protectedOn(s1, 'the de-REGISTER over the current set');
    assert.equal(dr.headers.get('Expires'), '0');
    const last = authorizationOf(a1)[0];
    assert.deepEqual([authorizationOf(dr)[0].nonce, authorizationOf(dr)[0].response], [last.nonce, last.response], 'the last nonce and response');
    assert.equal(dr.headers.get('Security-Verify')!.replace(/\s/g, ''), s1.server, 'R-SM-4: Security-Verify = the set\'s Security-Server');
    const o2 = securityClientOf(dr)[0];
    assert.equal(o2.portS, o1.portS, 'port_us kept');
    assert.notEqual(o2.portC, o1.portC, 'a new port_uc');
    assert.ok(![o1.spiC, o1.spiS].includes(o2.spiC) && ![o1.spiC, o1.spiS].includes(o2.spiS), 'new SPIs: a temporary set made from them cannot collide with the current one');
    // The network re-authenticates the UE (§5.1.1.5.1), over the current set.
    const v = pc.vector(64);
    const ch = pc.challenge(dr, v, pcPorts[1]);
    await pc.sendToUe(s1, pcPorts[0], ch.text);
    const s2 = pc.set(o2, pcPorts[1], ch.spis, ch.server, v);
    const answer = await pc.protectedOn(s2, 'the protected de-REGISTER over the temporary set');
    assert.equal(answer.headers.get('Expires'), '0', 'populated as the challenged REGISTER: Expires 0');
    assert.equal(answer.headers.get('Call-ID'), dr.headers.get('Call-ID'), "the 401's Call-ID");
    assert.equal(answer.headers.get('Security-Verify')!.replace(/\s/g, ''), ch.server, 'R-SM-4: Security-Verify = the new Security-Server');
    assert.deepEqual(securityClientOf(answer), [o2], 'Security-Client identical to the challenged one');
    assert.ok(verifies(answer, v), 'the digest response verifies against XRES');
    assert.equal(ue.sa.sets().filter((x) => x.state === 'temporary').length, 1, 'the temporary set carries it');
    await pc.sendToUe(s2, pcPorts[1], pc.respond(answer, '200 OK'));
    await p;
    const st = ue.state();
    assert.equal(st.state, 'deregistered');
    assert.equal(st.lastFailure, undefined, 'the de-registration succeeded');
    assert.equal(ue.saTable().length, 0, 'R-SA-7: no SA left, old or temporary');
  });

  test('[R-SA-7] a de-REGISTER answered 200 at once makes no SA, and one refused leaves none either (TS 24.229 §5.1.1.6)', async () => {
    for (const status of ['200 OK', '403 Forbidden']) {
      const { pc, ue, set: s1 } = await registered();
      const p = ue.deregister();
      const dr = await pc.protectedOn(s1, 'the de-REGISTER');
      assert.equal(ue.sa.sets().length, 1, 'no SA for the new Security-Client before a challenge');
      await pc.sendToUe(s1, pc.pcs[0], pc.respond(dr, status));
      await p;
      const st = ue.state();
      assert.equal(st.state, 'deregistered');
      assert.deepEqual(st.lastFailure && [st.lastFailure.reason, st.lastFailure.status], status === '200 OK' ? undefined : ['rejected', 403]);
      assert.equal(ue.saTable().length, 0);
    }
  });

  test('[R-LAB-4] a 503 to the REGISTER: the failure names the status and the Retry-After the P-CSCF gave (RFC 3261 §20.33, §21.5.4)', async () => {
    const { pc, ue } = await rig();
    const p = ue.register().then(
      () => undefined,
      (e: Error & { reason?: string; status?: number; retryAfter?: number }) => e,
    );
    const { req } = await firstRegister(pc, ue);
    await unprotected(pc, ue)(pc.respond(req, '503 Service Unavailable', [['Retry-After', '30 (half-open registrations) ;duration=60']]));
    const e = await p;
    assert.deepEqual(e && [e.reason, e.status, e.retryAfter], ['rejected', 503, 30]);
    assert.equal(ue.saTable().length, 0);
  });

  test('[R-FAIL-2] bad MAC: the report carries a new Security-Client (new spi-c, spi-s, port-c), no SA is made, and the next 401 is handled as usual (TS 24.229 §5.1.1.5.3)', async () => {
    const { pc, ue, pcPorts } = await rig();
    const p = ue.register();
    const { req, offer } = await firstRegister(pc, ue);
    const bad = pc.vector(32, true);
    await unprotected(pc, ue)(pc.challenge(req, bad, pcPorts[0]).text);
    const d = await pc.pu.next('the failure report');
    const report = parse(d.data);
    const a = authorizationOf(report)[0];
    assert.equal(a.nonce, buildAkaNonce(bad.rand, bad.autn));
    assert.equal(a.response, '');
    assert.equal(a.auts, undefined);
    const o2 = securityClientOf(report)[0];
    assert.equal(o2.portS, offer.portS);
    assert.notEqual(o2.portC, offer.portC, 'a new port-c');
    assert.ok(![offer.spiC, offer.spiS].includes(o2.spiC) && ![offer.spiC, offer.spiS].includes(o2.spiS), 'new SPIs');
    assert.equal(ue.saTable().length, 0, 'no SA for the failed attempt');
    await complete(pc, report, o2, pc.vector(32), pcPorts[0], unprotected(pc, ue));
    await p;
    assert.equal(ue.state().state, 'registered');
  });

  test('[R-FAIL-3] stale SQN: AUTS with a new Security-Client, no SA; the HSS resyncs and the next 401 succeeds (TS 24.229 §5.1.1.5.3, TS 33.102 §6.3.5)', async () => {
    const store = memorySqnStore();
    store.save(usimStateFromSqnMs(32 * 50));
    const { pc, ue, pcPorts } = await rig(store);
    const p = ue.register();
    const { req, offer } = await firstRegister(pc, ue);
    const stale = pc.vector(32);
    await unprotected(pc, ue)(pc.challenge(req, stale, pcPorts[0]).text);
    const report = parse((await pc.pu.next('the AUTS report')).data);
    const a = authorizationOf(report)[0];
    assert.ok(a.auts, 'AUTS present');
    const check = verifyAuts(new Milenage(K, OPC), stale.rand, a.auts);
    assert.ok(check.ok);
    const o2 = securityClientOf(report)[0];
    assert.notEqual(o2.portC, offer.portC);
    assert.ok(![offer.spiC, offer.spiS].includes(o2.spiC));
    assert.equal(ue.saTable().length, 0);
    await complete(pc, report, o2, pc.vector(check.sqnMs + 32), pcPorts[0], unprotected(pc, ue));
    await p;
    assert.equal(ue.state().state, 'registered');
  });

  test('[R-FAIL-4] [R-REG-3] SAs that stop answering (a P-CSCF restart): the MESSAGE times out, the UE drops its SAs and registers anew from scratch (TS 24.229 §5.1.1.4.1, issue [O] §5)', async () => {
    const { clock, pc, ue, set } = await registered(true);
    const m = ue.sendMessage('sip:bob@ims.lab', 'anyone there?').then(
      () => undefined,
      (e: Error & { reason?: string }) => e,
    );
    await pc.protectedOn(set, 'the MESSAGE nobody answers');
    // RFC 3261 §17.1.2.2: Timer F = 64·T1; the retransmissions are read and left unanswered.
    for (let t = 0; t < 64 * T1; t += T1) {
      clock.advance(T1);
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.equal((await m)?.reason, 'timeout');
    const retransmissions = pc.ps.inbox.splice(0);
    assert.ok(retransmissions.length >= 5, 'Timer E retransmissions of the MESSAGE went unanswered');
    const d = await pc.pu.next('a new initial REGISTER');
    const req = parse(d.data);
    assert.equal(authorizationOf(req)[0].response, '', 'an initial REGISTER (TS 24.229 §5.1.1.2.2)');
    assert.equal(ue.saTable().length, 0, 'the dead SAs are gone');
    const o = securityClientOf(req)[0];
    await complete(pc, req, o, pc.vector(64), pc.pcs[1], unprotected(pc, ue));
    const end = Date.now() + 3000;
    while (ue.state().state !== 'registered' && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    assert.equal(ue.state().state, 'registered');
  });
});
