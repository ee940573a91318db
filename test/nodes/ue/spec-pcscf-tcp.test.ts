/**
 * The soft UE over TCP (`transport: "tcp"`, kernel datapath) against a P-CSCF scripted from the
 * specification text, not against imsec's P-CSCF: plain TCP sockets for the P-CSCF's unprotected
 * port, port_ps and port_pc, SIP written out as text, the AKA arithmetic of the home network
 * (TS 35.206 Milenage). This host's kernel has no ESP: `ip xfrm` goes to a recording stub, so
 * the connections run in the clear and the SAs are checked in the commands the UE gave (SPIs,
 * ports, both transports).
 *
 * Rules:
 * - TS 33.203 §6.2: two SA pairs "shared by TCP and UDP", one between the UE's client port and
 *   the P-CSCF's server port, the other between the P-CSCF's client port and the UE's server
 *   port: the UE's policies cover TCP as well as UDP on each.
 * - Hence over TCP (TS 33.203 §7.1; RFC 3261 §18.2.2): the UE opens its connection from port_uc
 *   to port_ps and sends its requests on it; it accepts the connections the P-CSCF opens from
 *   port_pc to port_us and answers their requests on them; a connection from any other port
 *   is not heard (R-SA-5).
 * - TS 24.229 §5.1.1.2.1 (TS 34.229-1 A.1.1): the Via of a REGISTER over TCP says SIP/2.0/TCP
 *   and carries no rport; the protected one's sent-by is port_us.
 * - TS 33.203 §7.4, TS 24.229 §5.1.1.4.2: a re-registration brings a new port_uc, so the new set
 *   gets a new connection; port_us stays.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { Milenage, akaPassword, buildAkaNonce, generateVector, verifyDigestResponse, type AuthVector } from '../../../src/auth/index.js';
import { ManualClock, SeededRng, fromHex } from '../../../src/common/index.js';
import type { XfrmRunner } from '../../../src/ipsec/index.js';
import { createUe, memorySqnStore, parseUeConfig, type Ue, type UeRegistration } from '../../../src/nodes/ue/index.js';
import type { SecMechanism } from '../../../src/secagree/index.js';
import { authorizationOf, contactsOf, formatUri, parseMessage, securityClientOf, topVia, type SipMessage, type SipRequest } from '../../../src/sip/index.js';
import { freePorts } from '../../support/ports.js';
import { sipText } from '../../support/raw-esp.js';

const HOST = '127.0.0.1';
const K = fromHex('465b5ce8b199b49faa5f0a2ee238a6bc');
const OPC = fromHex('cd63cb71954a9f4e48a5994e37a02baf');

/** Resolves when one of `waiting` is called, or after 50 ms at most. */
function wake(waiting: (() => void)[]): Promise<void> {
  return new Promise<void>((r) => {
    const timer = setTimeout(r, 50);
    waiting.push(() => {
      clearTimeout(timer);
      r();
    });
  });
}

/** One TCP connection of the scripted P-CSCF: SIP messages framed by Content-Length (RFC 3261 §18.3). */
class Conn {
  private buf = '';
  private readonly waiting: (() => void)[] = [];
  constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      for (const w of this.waiting.splice(0)) w();
    });
  }

  get remotePort(): number {
    return this.socket.remotePort ?? 0;
  }

  /** The next whole message on this connection (fails after 5 s). */
  async next(what: string): Promise<SipMessage> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(this.buf.slice(0, end))?.[1] ?? 0);
        if (this.buf.length >= end + 4 + len) {
          const text = this.buf.slice(0, end + 4 + len);
          this.buf = this.buf.slice(end + 4 + len);
          return parseMessage(new TextEncoder().encode(text));
        }
      }
      if (Date.now() > deadline) throw new Error(`${what}: nothing arrived`);
      await wake(this.waiting);
    }
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Whatever arrived and was not read. */
  get unread(): string {
    return this.buf;
  }
}

/** A listening port of the scripted P-CSCF, handing over each accepted connection. */
class Listener {
  private readonly accepted: Conn[] = [];
  private readonly waiting: (() => void)[] = [];
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async open(port = 0): Promise<Listener> {
    const server = createServer();
    await new Promise<void>((r) => server.listen({ host: HOST, port }, r));
    const l = new Listener(server, (server.address() as { port: number }).port);
    server.on('connection', (s) => {
      l.accepted.push(new Conn(s));
      for (const w of l.waiting.splice(0)) w();
    });
    return l;
  }

  async nextConnection(what: string): Promise<Conn> {
    const deadline = Date.now() + 5_000;
    while (this.accepted.length === 0) {
      if (Date.now() > deadline) throw new Error(`${what}: no connection`);
      await wake(this.waiting);
    }
    return this.accepted.shift()!;
  }

  get pending(): number {
    return this.accepted.length;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** Opens a connection from `localPort` to the UE's `port` (the P-CSCF's own, from port_pc). */
function connectFrom(localPort: number, port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: HOST, port, localAddress: HOST, localPort }, () => resolve(new Conn(s)));
    s.once('error', reject);
  });
}

function respond(req: SipMessage, status: string, extra: [string, string][] = []): string {
  const copy = (n: string): [string, string][] => req.headers.getLines(n).map((v) => [n, v] as [string, string]);
  const to = req.headers.get('To')!;
  return sipText(`SIP/2.0 ${status}`, [...copy('Via'), ...copy('From'), ['To', /;\s*tag=/.test(to) ? to : `${to};tag=pc1`], ...copy('Call-ID'), ...copy('CSeq'), ...extra]);
}

function verifies(req: SipMessage, v: AuthVector): boolean {
  const a = authorizationOf(req)[0];
  return verifyDigestResponse({ algorithm: 'AKAv1-MD5', username: a.username, realm: a.realm, password: akaPassword(1, v.xres), method: 'REGISTER', uri: a.uri, nonce: a.nonce, qop: a.qop as 'auth' | undefined, nc: a.nc, cnonce: a.cnonce }, a.response);
}

function message(uePortS: number, psPort: number, n: number): string {
  return sipText(`MESSAGE sip:alice@${HOST}:${uePortS} SIP/2.0`, [
    ['Via', `SIP/2.0/TCP ${HOST}:${psPort};branch=z9hG4bKpct${n}`],
    ['Max-Forwards', '69'],
    ['From', '<sip:bob@ims.lab>;tag=b1'],
    ['To', '<sip:alice@ims.lab>'],
    ['Call-ID', `pct-${n}`],
    ['CSeq', `1 MESSAGE`],
    ['Content-Type', 'text/plain'],
  ], `hello ${n}`);
}

describe('the UE over TCP against a P-CSCF scripted from TS 33.203 §6.2/§7.1 and TS 24.229 §5.1.1 (exact connections)', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  const milenage = new Milenage(K, OPC);
  const rng = new SeededRng('spec-pcscf-tcp');
  let spi = 0x2000;

  async function rig(): Promise<{ ue: Ue; pu: Listener; ps: Listener; pcPorts: number[]; commands: string[][]; conns: Conn[] }> {
    const [pu, ps] = await Promise.all([Listener.open(), Listener.open()]);
    closers.push(() => Promise.all([pu.close(), ps.close()]).then(() => undefined));
    const pcPorts = await freePorts(2);
    const commands: string[][] = [];
    const runner: XfrmRunner = async (args) => {
      commands.push([...args]);
      return { stdout: '', stderr: '' };
    };
    const cfg = parseUeConfig({ impi: 'alice@ims.lab', impu: 'sip:alice@ims.lab', k: '465b5ce8b199b49faa5f0a2ee238a6bc', opc: 'cd63cb71954a9f4e48a5994e37a02baf', pcscf: `${HOST}:${pu.port}`, localAddress: HOST, expires: 600, subscribeRegEvent: false, reRegister: { auto: false }, integrity: ['hmac-sha-1-96'], encryption: ['aes-cbc'], datapath: 'xfrm', transport: 'tcp' });
    const ue = createUe(cfg, { clock: new ManualClock(1_000_000), rng: new SeededRng('spec-ue-tcp'), sqnStore: memorySqnStore(), xfrmRunner: runner });
    await ue.start();
    const conns: Conn[] = [];
    closers.push(async () => {
      for (const c of conns) c.socket.destroy();
      await ue.stop();
    });
    return { ue, pu, ps, pcPorts, commands, conns };
  }

  /** The UE starts registering: its unprotected REGISTER on a connection to the P-CSCF's SIP port. */
  async function startRegister(r: Awaited<ReturnType<typeof rig>>): Promise<{ registering: Promise<UeRegistration>; plain: Conn; req: SipMessage }> {
    const registering = r.ue.register();
    const plain = await r.pu.nextConnection('the unprotected REGISTER');
    r.conns.push(plain);
    return { registering, plain, req: await plain.next('the unprotected REGISTER') };
  }

  /**
   * 401 with Security-Server (port-c `pcPort`, port-s port_ps) on `conn`, then the protected
   * REGISTER on a new connection from port_uc to port_ps, answered 200 on it.
   */
  async function challengeAndAnswer(r: Awaited<ReturnType<typeof rig>>, conn: Conn, req: SipMessage, offer: SecMechanism, pcPort: number, sqn: number): Promise<{ prot: Conn; server: string; spis: { c: number; s: number } }> {
    const v = generateVector(milenage, rng.bytes(16), sqn, 0x8000);
    const spis = { c: ++spi, s: ++spi };
    const server = `ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=${spis.c};spi-s=${spis.s};port-c=${pcPort};port-s=${r.ps.port}`;
    conn.send(respond(req, '401 Unauthorized', [['WWW-Authenticate', `Digest realm="ims.lab", nonce="${buildAkaNonce(v.rand, v.autn)}", algorithm=AKAv1-MD5, qop="auth"`], ['Security-Server', server]]));
    const prot = await r.ps.nextConnection('the protected REGISTER');
    r.conns.push(prot);
    assert.equal(prot.remotePort, offer.portC, 'TS 33.203 §7.1: the connection leaves the UE from port_uc');
    const answer = (await prot.next('the protected REGISTER')) as SipRequest;
    assert.equal(answer.method, 'REGISTER');
    const via = topVia(answer)!;
    assert.deepEqual([via.transport, via.port, via.params.has('rport')], ['TCP', offer.portS, false], 'Via: SIP/2.0/TCP, sent-by port_us, no rport');
    assert.equal(answer.headers.get('Security-Verify')!.replace(/\s/g, ''), server, 'R-SM-4: Security-Verify = Security-Server');
    assert.ok(verifies(answer, v), 'the digest response verifies against XRES');
    const c = contactsOf(answer);
    assert.ok(c !== '*' && c[0].uri.kind === 'sip' && c[0].uri.port === offer.portS, 'the protected Contact is port_us');
    prot.send(respond(answer, '200 OK', [['Contact', `<${formatUri((c)[0].uri)}>;expires=600`], ['P-Associated-URI', '<sip:alice@ims.lab>'], ['Service-Route', `<sip:orig@${HOST}:6060;lr>`]]));
    return { prot, server, spis };
  }

  test('[R-SA-3] [R-SM-1] [R-SA-5] registration over TCP: port_uc → port_ps for requests, port_pc → port_us accepted, responses on the request’s connection; SAs cover TCP', async () => {
    const r = await rig();
    // 1. The unprotected REGISTER on a TCP connection to the P-CSCF's SIP port.
    const { registering, plain, req } = await startRegister(r);
    const via = topVia(req)!;
    assert.deepEqual([via.transport, via.port, via.params.has('rport')], ['TCP', r.ue.address().sip.port, false], 'TS 24.229 §5.1.1.2.1: Via SIP/2.0/TCP, the unprotected port, no rport over TCP');
    const [offer] = securityClientOf(req);
    assert.equal(offer.mod, 'trans');
    assert.equal(offer.portS, r.ue.address().protectedServer.port);
    // 2.–3. 401 on that connection; the protected REGISTER on a new one from port_uc; 200 on it.
    const { prot, spis } = await challengeAndAnswer(r, plain, req, offer, r.pcPorts[0], 32);
    const reg = await registering;
    assert.equal(reg.ue.portC, offer.portC);
    assert.equal(r.ps.pending, 0, 'one connection to port_ps');

    // The SAs and their policies (TS 33.203 §6.2): each SA's selector for TCP and for UDP.
    const policies = r.commands.filter((c) => c[1] === 'policy' && c[2] === 'add').map((c) => `${c[c.indexOf('proto') + 1]} ${c[c.indexOf('sport') + 1]}>${c[c.indexOf('dport') + 1]} ${c[c.indexOf('dir') + 1]}`);
    const flows = [`${offer.portC}>${r.ps.port} out`, `${offer.portS}>${r.pcPorts[0]} out`, `${r.pcPorts[0]}>${offer.portS} in`, `${r.ps.port}>${offer.portC} in`];
    for (const f of flows) for (const proto of ['tcp', 'udp']) assert.ok(policies.includes(`${proto} ${f}`), `policy ${proto} ${f}`);
    const states = r.commands.filter((c) => c[1] === 'state' && c[2] === 'add').map((c) => Number(c[c.indexOf('spi') + 1]));
    assert.deepEqual(states.sort(), [offer.spiC!, offer.spiS!, spis.c, spis.s].sort(), 'four SAs: the UE’s SPIs inbound, the P-CSCF’s outbound');

    // 4. A request from the P-CSCF: its own connection from port_pc to port_us; the 200 on it.
    const got: string[] = [];
    r.ue.onMessage((m) => got.push(m.text));
    const toUe = await connectFrom(r.pcPorts[0], offer.portS);
    r.conns.push(toUe);
    toUe.send(message(offer.portS, r.ps.port, 1));
    const ok = await toUe.next('the UE’s answer');
    assert.equal(ok.kind === 'response' && ok.status, 200, 'answered on the P-CSCF’s connection (RFC 3261 §18.2.2)');
    assert.deepEqual(got, ['hello 1']);

    // 5. The UE's own request: on its connection from port_uc, answered there.
    const sending = r.ue.sendMessage('sip:bob@ims.lab', 'hi bob');
    const m = (await prot.next('the UE’s MESSAGE')) as SipRequest;
    assert.equal(m.method, 'MESSAGE');
    prot.send(respond(m, '200 OK'));
    assert.equal((await sending).status, 200);
    assert.equal(r.ps.pending, 0, 'no new connection: the one from port_uc carries it');

    // 6. A connection to port_us from a port no SA names (R-SA-5): not heard, not answered.
    const [stranger] = await freePorts(1);
    const odd = await connectFrom(stranger, offer.portS);
    r.conns.push(odd);
    odd.send(message(offer.portS, r.ps.port, 2));
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(odd.unread, '', 'no answer');
    assert.deepEqual(got, ['hello 1'], 'not handed up');
  });

  test('[R-RR-1] [R-RR-2] re-registration over TCP: the re-REGISTER on the old connection, the new set on a new connection from the new port_uc; port_us kept', async () => {
    const r = await rig();
    const { registering, plain, req } = await startRegister(r);
    const [offer] = securityClientOf(req);
    const { prot } = await challengeAndAnswer(r, plain, req, offer, r.pcPorts[0], 32);
    await registering;

    const again = r.ue.reRegister();
    // TS 24.229 §5.1.1.4.2: over the current set, i.e. on the connection from the old port_uc.
    const re = await prot.next('the re-REGISTER');
    const [offer2] = securityClientOf(re);
    assert.notEqual(offer2.portC, offer.portC, 'a new port_uc');
    assert.equal(offer2.portS, offer.portS, 'port_us kept');
    const { prot: prot2 } = await challengeAndAnswer(r, prot, re, offer2, r.pcPorts[1], 33);
    const reg2 = await again;
    assert.equal(reg2.ue.portC, offer2.portC);

    const sending = r.ue.sendMessage('sip:bob@ims.lab', 'on the new set');
    const m = (await prot2.next('the MESSAGE on the new set')) as SipRequest;
    assert.equal(m.method, 'MESSAGE');
    prot2.send(respond(m, '200 OK'));
    assert.equal((await sending).status, 200);
    // The P-CSCF's requests on the new set: a new connection from the new port_pc is accepted.
    const toUe = await connectFrom(r.pcPorts[1], offer2.portS!);
    r.conns.push(toUe);
    toUe.send(message(offer2.portS!, r.ps.port, 3));
    const ok = await toUe.next('the UE’s answer on the new set');
    assert.equal(ok.kind === 'response' && ok.status, 200);
  });
});
