/**
 * A small scripted P-CSCF + registrar for the UE's unit-level paths, on real loopback sockets:
 * unprotected UDP port, protected ports over the userspace ESP-in-UDP datapath (or plain
 * sockets, standing in for kernel XFRM), its own SA table, and the home network's AKA
 * arithmetic (vectors, AUTS verification) computed here independently of the UE code. Every
 * request it receives is recorded with the SA that protected it. Misbehaviour is scripted.
 */
import {
  Milenage,
  buildAkaNonce,
  digestResponse,
  formatDigestChallenge,
  generateVector,
  resyncHe,
  verifyAuts,
  verifyDigestResponse,
  akaPassword,
  type AuthVector,
  type DigestCredentials,
} from '../../../../src/auth/index.js';
import { ManualClock, SeededRng, type Clock } from '../../../../src/common/index.js';
import { SaManager, UdpEncapDatapath, mirrorSaTable, type IpsecDatapath, type Mirror, type XfrmRunner } from '../../../../src/ipsec/index.js';
import { KernelSocketCarrier, inboundSaLookup } from '../../../../src/ipsec/index.js';
import { encodeReginfo, type Reginfo, SipHeaders, SipRequest, authorizationOf, securityClientOf, securityVerifyOf, type SipResponse } from '../../../../src/sip/index.js';
import { ProtectedTransport, protectionOf, type Protection } from '../../../../src/sip/transport/protected/index.js';
import {
  buildSecurityServer,
  choosePcscfMechanism,
  checkSecurityVerify,
  formatSecurityMechanisms,
  type PcscfSecAgreePolicy,
  type SecMechanism,
} from '../../../../src/secagree/index.js';
import { SipStack, type RequestContext } from '../../../../src/sip/stack/index.js';
import { UdpTransport } from '../../../../src/sip/transport/index.js';

export const HOST = '127.0.0.1';
// TS 35.208 test set 1 (K, OPc): the subscriber both sides know.
export const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
export const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';

export interface Received {
  req: SipRequest;
  protected: boolean;
  protection?: Protection;
  auth?: DigestCredentials;
}

export interface FakeScript {
  /** Corrupt the MAC of the next challenges (R-FAIL-2). */
  badMac: boolean;
  /** Issue the next challenge with this SQN instead of the next fresh one (stale → R-FAIL-3). */
  forceSqn?: number;
  /** Replace the chosen Security-Server (R-SM-5). */
  securityServer?: (chosen: SecMechanism[]) => SecMechanism[];
  /** Algorithm of the challenge. */
  algorithm: 'AKAv1-MD5' | 'AKAv2-MD5';
  /** Registration lifetime granted, seconds. */
  expires: number;
  /** Answer a protected re-REGISTER with this status instead of processing it (R-RR-3). */
  failProtectedWith?: number;
  /** Drop every request silently (loss). */
  deaf: boolean;
  /** Seconds granted to a reg-event SUBSCRIBE (default: what was asked). */
  subscriptionExpires?: number;
  /** Answer a SUBSCRIBE inside the dialog (a refresh) with this status instead of 200. */
  refreshStatus?: number;
  /** Runs before the 200 to a de-REGISTER leaves (e.g. a NOTIFY to the UE that overtakes it). */
  beforeDeregistered?: () => Promise<void>;
  policy?: PcscfSecAgreePolicy;
}

export interface FakeOptions {
  clock?: Clock;
  /** 'esp': userspace ESP-in-UDP (default); 'plain': plain sockets as under kernel XFRM. */
  carrier?: 'esp' | 'plain';
  xfrmRunner?: XfrmRunner;
}

export class FakePcscf {
  readonly received: Received[] = [];
  readonly script: FakeScript = { badMac: false, algorithm: 'AKAv1-MD5', expires: 600, deaf: false };
  readonly sa: SaManager;
  readonly milenage = new Milenage(Buffer.from(K, 'hex'), Buffer.from(OPC, 'hex'));
  /** SEQ_HE of the subscriber (IND 0). */
  seqHe = 1;
  readonly serviceRoute = '<sip:orig@scscf.ims.lab:6060;lr>';
  readonly associated = ['sip:alice@ims.lab', 'tel:+15551234'];
  private vectors = new Map<string, AuthVector>();
  private sent = new Map<string, SecMechanism[]>();
  private setByNonce = new Map<string, number>();
  /** Nonces whose answer completed a registration: a REGISTER carrying one is a re-registration. */
  private readonly usedNonces = new Set<string>();
  private lastRand: Uint8Array | undefined;

  private constructor(
    readonly stack: SipStack,
    readonly udp: UdpTransport,
    readonly protectedT: ProtectedTransport,
    readonly portC: number,
    readonly portS: number,
    readonly datapath: IpsecDatapath,
    private readonly mirror: Mirror,
    private readonly kernel: KernelSocketCarrier | undefined,
    sa: SaManager,
  ) {
    this.sa = sa;
    stack.onRequest((req, ctx) => this.onRequest(req, ctx));
  }

  static async start(opts: FakeOptions = {}): Promise<FakePcscf> {
    const clock = opts.clock ?? new ManualClock(0);
    const sa = new SaManager({ role: 'pcscf', clock, rng: new SeededRng(99) });
    let datapath: IpsecDatapath;
    let carrier: UdpEncapDatapath | KernelSocketCarrier;
    let kernel: KernelSocketCarrier | undefined;
    if (opts.carrier === 'plain') {
      kernel = new KernelSocketCarrier(HOST, inboundSaLookup(sa));
      carrier = kernel;
      datapath = { name: 'none', install: async () => undefined, remove: async () => undefined, close: async () => undefined };
    } else {
      const dp = new UdpEncapDatapath();
      carrier = dp;
      datapath = dp;
    }
    // port_pc and port_ps (TS 33.203 §7.1) bound on the carrier now and held for the fake's life:
    // a port found free and bound again later can be taken in between by another test process.
    const portC = await carrier.listen(HOST, 0);
    const portS = await carrier.listen(HOST, 0);
    const mirror = mirrorSaTable(sa, datapath);
    const udp = await UdpTransport.bind({ address: HOST, port: 0 });
    const protectedT = new ProtectedTransport({ carrier, address: HOST, serverPort: portS, clientPort: portC, saManager: sa });
    const stack = new SipStack({ transports: [udp, protectedT], clock, rng: new SeededRng(7) });
    return new FakePcscf(stack, udp, protectedT, portC, portS, datapath, mirror, kernel, sa);
  }

  get unprotectedPort(): number {
    return this.udp.local.port;
  }

  registers(): Received[] {
    return this.received.filter((r) => r.req.method === 'REGISTER');
  }

  async close(): Promise<void> {
    await this.stack.close();
    this.sa.clear();
    await this.mirror.idle();
    this.mirror.stop();
    await this.datapath.close();
    await this.kernel?.close();
  }

  /** A request from the network to the UE's protected server port (from our port-c). */
  sendToUe(ue: { address: string; port: number }, method: 'MESSAGE' | 'NOTIFY', body: Uint8Array, extra: [string, string][] = []): Promise<SipResponse> {
    const h = new SipHeaders();
    h.append('From', `<sip:bob@ims.lab>;tag=${Math.random().toString(16).slice(2)}`);
    h.append('To', '<sip:alice@ims.lab>');
    h.append('Call-ID', `fake-${Math.random().toString(16).slice(2)}`);
    h.append('CSeq', `1 ${method}`);
    for (const [n, v] of extra) h.append(n, v);
    const req = new SipRequest(method, `sip:alice@${ue.address}:${ue.port}`, h, body);
    return this.stack.sendRequest(req, { address: ue.address, port: ue.port, through: this.protectedT });
  }

  notifyReg(ue: { address: string; port: number }, info: Reginfo, subscriptionState = 'active;expires=600'): Promise<SipResponse> {
    return this.sendToUe(ue, 'NOTIFY', encodeReginfo(info), [['Event', 'reg'], ['Subscription-State', subscriptionState], ['Content-Type', 'application/reginfo+xml']]);
  }

  private async onRequest(req: SipRequest, ctx: RequestContext): Promise<void> {
    if (this.script.deaf) return;
    const prot = protectionOf(req);
    let auth: DigestCredentials | undefined;
    try {
      auth = authorizationOf(req)[0];
    } catch {
      auth = undefined;
    }
    this.received.push({ req, protected: prot !== undefined, protection: prot, auth });
    if (req.method === 'SUBSCRIBE') return this.subscribe(req, ctx);
    if (req.method !== 'REGISTER') {
      ctx.reply(200, 'OK');
      return;
    }
    if (!auth) return void ctx.reply(403, 'No Authorization');
    // De-registration.
    if (req.headers.get('expires') === '0') {
      await this.script.beforeDeregistered?.();
      ctx.reply(200, 'OK', { headers: [['Contact', `${req.headers.get('contact')};expires=0`]] });
      return;
    }
    // Resynchronisation (TS 33.102 §6.3.5), then a fresh challenge.
    if (auth.auts) {
      const v = this.lastRand && verifyAuts(this.milenage, this.lastRand, auth.auts);
      if (!v || !v.ok) return void ctx.reply(403, 'Bad AUTS');
      this.seqHe = resyncHe({ seqHe: this.seqHe }, v.sqnMs).seqHe;
      return this.challenge(req, ctx);
    }
    // A failure report (response empty after a challenge, no auts): R-FAIL-2.
    if (auth.response === '' && auth.nonce !== '') return void ctx.reply(403, 'Authentication Failed');
    // A re-registration carries the nonce and response of the last registration (TS 24.229
    // §5.1.1.4.2); this registrar always runs AKA again.
    if (auth.response === '' || this.usedNonces.has(auth.nonce)) return this.challenge(req, ctx);
    // The protected answer.
    if (!prot) return void ctx.reply(403, 'Unprotected answer');
    if (this.script.failProtectedWith) return void ctx.reply(this.script.failProtectedWith, 'Scripted failure');
    const v = this.vectors.get(auth.nonce);
    const setId = this.setByNonce.get(auth.nonce);
    if (!v || setId === undefined) return void ctx.reply(403, 'Unknown nonce');
    const password = akaPassword(this.script.algorithm === 'AKAv1-MD5' ? 1 : 2, v.xres, v.ik, v.ck);
    const ok = verifyDigestResponse({ algorithm: this.script.algorithm, username: auth.username, realm: auth.realm, password, method: 'REGISTER', uri: auth.uri, nonce: auth.nonce, qop: auth.qop as 'auth' | undefined, nc: auth.nc, cnonce: auth.cnonce }, auth.response);
    if (!ok) return void ctx.reply(403, 'Wrong RES');
    if (!checkSecurityVerify(this.sent.get(auth.nonce)!, securityVerifyOf(req)).ok) return void ctx.reply(494, 'Security Agreement Required');
    if (prot.setId !== setId) return void ctx.reply(403, 'Not on the SAs of this challenge');
    this.sa.activate(setId, this.script.expires * 1000, this.associated);
    this.usedNonces.add(auth.nonce);
    ctx.reply(200, 'OK', {
      headers: [
        ['Contact', `${req.headers.get('contact')};expires=${this.script.expires}`],
        ['P-Associated-URI', this.associated.map((u) => `<${u}>`).join(', ')],
        ['Service-Route', this.serviceRoute],
      ],
    });
  }

  /** The notifier's To tag and Contact, and the Record-Route a P-CSCF puts on the UE's SUBSCRIBE (unprotected face, protected face). */
  readonly notifierTag = 'notifier1';
  readonly notifierContact = '<sip:scscf.ims.lab:6060>';
  get recordRoute(): string[] {
    return [`<sip:${HOST}:${this.unprotectedPort};lr>`, `<sip:${HOST}:${this.portS};lr>`];
  }

  /** A reg-event SUBSCRIBE answered as the S-CSCF would (RFC 6665 §4.2.1), the dialog's Record-Route included. */
  private subscribe(req: SipRequest, ctx: RequestContext): void {
    const inDialog = /;\s*tag=/.test(req.headers.get('to') ?? '');
    if (inDialog && this.script.refreshStatus !== undefined) return void ctx.reply(this.script.refreshStatus, 'Scripted refresh failure');
    const expires = this.script.subscriptionExpires ?? Number(req.headers.get('expires') ?? '600');
    ctx.reply(200, 'OK', {
      toTag: this.notifierTag,
      headers: [...this.recordRoute.map((r) => ['Record-Route', r] as [string, string]), ['Contact', this.notifierContact], ['Expires', String(expires)]],
    });
  }

  /** 401 with a fresh vector, a Security-Server and temporary SAs at the P-CSCF (TS 33.203 §7.2). */
  private async challenge(req: SipRequest, ctx: RequestContext): Promise<void> {
    const client = securityClientOf(req);
    const sel = choosePcscfMechanism(client, this.script.policy);
    if (!sel.ok) return void ctx.reply(494, 'Security Agreement Required');
    const sqn = this.script.forceSqn ?? (++this.seqHe) * 32;
    this.script.forceSqn = undefined;
    const rand = new Uint8Array(16).map(() => Math.floor(Math.random() * 256));
    const v = generateVector(this.milenage, rand, sqn, 0x8000);
    const autn = v.autn.slice();
    if (this.script.badMac) autn[15] ^= 0xff;
    const nonce = buildAkaNonce(v.rand, autn);
    this.vectors.set(nonce, { ...v, xres: v.xres.slice(), ck: v.ck.slice(), ik: v.ik.slice() });
    this.lastRand = v.rand.slice();
    const r = this.sa.reserveLocal({ avoidSpis: [sel.ue.spiC, sel.ue.spiS] });
    r.release();
    const mine = { spiC: r.spiC, spiS: r.spiS, portC: this.portC, portS: this.portS };
    const created = this.sa.createSet({
      impi: 'alice@ims.lab', impus: ['sip:alice@ims.lab'], ueAddress: HOST, pcscfAddress: HOST, remote: sel.ue, local: mine,
      integrity: sel.alg, encryption: sel.ealg, mode: sel.mod, ik: v.ik, ck: v.ck,
    });
    if (!created.ok) return void ctx.reply(500, `SA ${created.reason}`);
    await this.mirror.idle();
    let server = buildSecurityServer(sel, mine);
    if (this.script.securityServer) server = this.script.securityServer(server);
    this.sent.set(nonce, server);
    this.setByNonce.set(nonce, created.set.id);
    const challenge = formatDigestChallenge({ realm: 'ims.lab', nonce, algorithm: this.script.algorithm, qop: ['auth'] });
    ctx.reply(401, 'Unauthorized', { headers: [['WWW-Authenticate', challenge], ['Security-Server', formatSecurityMechanisms(server)]] });
  }

  /** The digest response a correct UE must send for the last challenge with this nonce (for assertions). */
  expectedResponse(auth: DigestCredentials): string {
    const v = this.vectors.get(auth.nonce)!;
    return digestResponse({ algorithm: this.script.algorithm, username: auth.username, realm: auth.realm, password: akaPassword(1, v.xres), method: 'REGISTER', uri: auth.uri, nonce: auth.nonce, qop: auth.qop as 'auth' | undefined, nc: auth.nc, cnonce: auth.cnonce });
  }

  /** The Security-Server sent with a nonce. */
  securityServerFor(nonce: string): SecMechanism[] | undefined {
    return this.sent.get(nonce);
  }
}

