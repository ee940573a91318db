/**
 * Test harness for the P-CSCF on real loopback sockets:
 * - {@link StubCore}: a tiny SIP responder on UDP playing I-CSCF + S-CSCF: 401 with ik/ck to an
 *   unprotected (or AKA-needing) REGISTER, 200 with P-Associated-URI and Service-Route to the
 *   protected answer, 200 to SUBSCRIBE; every request it gets is kept for assertions.
 * - {@link ScriptedUe}: a UE built from the pieces a real one uses (B2's SipStack, C2's UE offer,
 *   SaManager and UdpEncapDatapath, G1's ProtectedTransport), driven step by step by the test.
 * - {@link startPcscf}: a P-CSCF on port 0 with OS-assigned protected ports and a ManualClock.
 */
import assert from 'node:assert/strict';
import { ManualClock, SeededRng, toHex, type Rng } from '../../../src/common/index.js';
import { SaManager, UdpEncapDatapath, mirrorSaTable, type Mirror, type SaSet } from '../../../src/ipsec/index.js';
import { ProtectedTransport } from '../../../src/sip/transport/protected/index.js';
import { encodeReginfo, REGINFO_CONTENT_TYPE, type Reginfo, SipHeaders, SipRequest, authorizationOf, callIdOf, contactsOf, formatUri, fromTag, securityServerOf, toTag, type SipResponse } from '../../../src/sip/index.js';
import { createPcscf, parsePcscfConfig, type PcscfDeps, type PcscfNode } from '../../../src/nodes/pcscf/index.js';
import {
  buildUeOffer,
  formatSecurityMechanisms,
  ueAcceptSecurityServer,
  type EncryptionAlgName,
  type IntegrityAlgName,
  type IpsecMode,
  type SecMechanism,
  type UeAcceptance,
} from '../../../src/secagree/index.js';
import { SipStack, type RequestContext } from '../../../src/sip/stack/index.js';
import { UdpTransport } from '../../../src/sip/transport/index.js';
import { waitFor } from '../../support/wait.js';

export const HOST = '127.0.0.1';

export { waitFor };

/** Lets pending socket I/O and promise chains run. */
export function settle(ms = 20): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A stub I-CSCF/S-CSCF (see the module comment). */
export class StubCore {
  readonly requests: SipRequest[] = [];
  /** IK and CK of each 401 sent, newest last (the test hands them to the UE, as its ISIM would compute them). */
  readonly keys: { ik: Uint8Array; ck: Uint8Array }[] = [];
  /** Overrides the default behaviour for one request; return true when handled. */
  intercept: ((req: SipRequest, ctx: RequestContext) => boolean | Promise<boolean>) | undefined;
  expires = 600;
  associated: string[] = ['sip:alice@ims.lab', 'tel:+15551234'];
  /** The Service-Route the 200 to a REGISTER carries (default: this stub's `orig` URI). */
  serviceRoute: string | undefined;
  subscribes: SipRequest[] = [];
  private constructor(
    readonly stack: SipStack,
    readonly port: number,
    private readonly rng: Rng,
  ) {
    stack.onRequest((req, ctx) => this.handle(req, ctx));
  }

  static async start(clock: ManualClock, seed = 'stub'): Promise<StubCore> {
    const t = await UdpTransport.bind({ address: HOST, port: 0 });
    const rng = new SeededRng(seed);
    const stack = new SipStack({ transports: [t], clock, rng });
    return new StubCore(stack, t.local.port, rng);
  }

  get uri(): string {
    return `sip:${HOST}:${this.port}`;
  }

  last(method: string): SipRequest | undefined {
    return [...this.requests].reverse().find((r) => r.method === method);
  }

  all(method: string): SipRequest[] {
    return this.requests.filter((r) => r.method === method);
  }

  private async handle(req: SipRequest, ctx: RequestContext): Promise<void> {
    this.requests.push(req);
    if (this.intercept && (await this.intercept(req, ctx))) return;
    if (req.method === 'REGISTER') return this.register(req, ctx);
    if (req.method === 'SUBSCRIBE') {
      this.subscribes.push(req);
      ctx.reply(200, 'OK', { headers: [['Expires', '600000'], ['Contact', `<sip:scscf@${HOST}:${this.port}>`]] });
      return;
    }
    // RFC 3261 §12.1.1: a UAS copies Record-Route into its dialog-creating response.
    const rr = req.headers.getLines('Record-Route').map((v) => ['Record-Route', v] as [string, string]);
    ctx.reply(200, 'OK', { headers: [...rr, ['Contact', `<sip:callee@${HOST}:${this.port}>`]] });
  }

  /** 401 with fresh IK/CK unless the REGISTER is a protected answer; then 200 (or 200 with no binding for expires 0). */
  private register(req: SipRequest, ctx: RequestContext): void {
    const cred = authorizationOf(req)[0];
    const answered = cred !== undefined && cred.integrityProtected === 'yes' && cred.response !== '';
    if (!answered) {
      const ik = this.rng.bytes(16);
      const ck = this.rng.bytes(16);
      this.keys.push({ ik: ik.slice(), ck: ck.slice() });
      const nonce = Buffer.from(this.rng.bytes(32)).toString('base64');
      ctx.reply(401, 'Unauthorized', {
        headers: [['WWW-Authenticate', `Digest realm="ims.lab", nonce="${nonce}", algorithm=AKAv1-MD5, qop="auth", ik="${toHex(ik)}", ck="${toHex(ck)}"`]],
      });
      return;
    }
    const expiresHdr = req.headers.get('Expires');
    const contacts = contactsOf(req);
    const wanted = expiresHdr !== undefined ? Number(expiresHdr) : contacts !== '*' && contacts[0]?.params.get('expires') != null ? Number(contacts[0].params.get('expires')) : this.expires;
    const headers: [string, string][] = [];
    if (wanted > 0 && contacts !== '*') headers.push(['Contact', `<${formatUri(contacts[0].uri)}>;expires=${Math.min(wanted, this.expires)}`]);
    headers.push(['P-Associated-URI', this.associated.map((u) => `<${u}>`).join(', ')]);
    headers.push(['Service-Route', this.serviceRoute ?? `<sip:orig@${HOST}:${this.port};lr>`]);
    ctx.reply(200, 'OK', { headers });
  }

  /** Sends a reg-event NOTIFY in the dialog of the P-CSCF's SUBSCRIBE. */
  async notify(sub: SipRequest, to: { address: string; port: number }, doc: Reginfo, state = 'active;expires=600000'): Promise<SipResponse> {
    return this.stack.sendRequest(this.notifyRequest(sub, to, doc, state), { address: to.address, port: to.port });
  }

  /** The reg-event NOTIFY of {@link notify}, not sent (e.g. to send it over another transport). */
  notifyRequest(sub: SipRequest, to: { address: string; port: number }, doc: Reginfo, state: string): SipRequest {
    const h = new SipHeaders();
    h.append('From', `${sub.headers.get('To')!};tag=stubtag`);
    h.append('To', `${sub.headers.get('From')!}`);
    h.append('Call-ID', callIdOf(sub)!);
    h.append('CSeq', '1 NOTIFY');
    h.append('Event', 'reg');
    h.append('Subscription-State', state);
    h.append('Contact', `<sip:scscf@${HOST}:${this.port}>`);
    h.append('Content-Type', REGINFO_CONTENT_TYPE);
    const contact = contactsOf(sub);
    const target = contact !== '*' && contact[0] ? formatUri(contact[0].uri) : `sip:${to.address}:${to.port}`;
    return new SipRequest('NOTIFY', target, h, encodeReginfo(doc));
  }

  async close(): Promise<void> {
    await this.stack.close();
  }
}

export interface UeOptions {
  /** Binds and holds the protected ports (default: the UE's userspace datapath); read at create. */
  portsOn?: { listen(address: string, port: number): Promise<number> };
  impi?: string;
  impu?: string;
  algs?: IntegrityAlgName[];
  ealgs?: EncryptionAlgName[];
  mods?: IpsecMode[];
  seed?: string;
  /** Keep this protected server port (R-RR-1: a re-registering UE keeps port_us); default a fresh one. */
  portS?: number;
}

/** A scripted UE (see the module comment). */
export class ScriptedUe {
  readonly impi: string;
  readonly impu: string;
  readonly mgr: SaManager;
  readonly dp: UdpEncapDatapath;
  readonly mirror: Mirror;
  private readonly portsOn: NonNullable<UeOptions['portsOn']>;
  offer: SecMechanism[] = [];
  local = { spiC: 0, spiS: 0, portC: 0, portS: 0 };
  accepted: UeAcceptance | undefined;
  set: SaSet | undefined;
  prot: ProtectedTransport | undefined;
  private cseq = 1;
  readonly callId: string;
  readonly protectedRequests: SipRequest[] = [];
  onProtectedRequest: ((req: SipRequest, ctx: RequestContext) => void) | undefined;

  private constructor(
    readonly stack: SipStack,
    readonly plain: UdpTransport,
    readonly pcscf: { address: string; port: number },
    readonly clock: ManualClock,
    opts: UeOptions,
  ) {
    this.impi = opts.impi ?? 'alice@ims.lab';
    this.impu = opts.impu ?? 'sip:alice@ims.lab';
    const rng = new SeededRng(opts.seed ?? 'ue');
    this.mgr = new SaManager({ role: 'ue', clock, rng, temporaryLifetimeMs: 10 * 60_000 });
    this.dp = new UdpEncapDatapath({ rng });
    this.mirror = mirrorSaTable(this.mgr, this.dp);
    this.portsOn = opts.portsOn ?? this.dp;
    this.callId = `reg-${toHex(rng.bytes(6))}`;
    stack.onRequest((req, ctx) => {
      this.protectedRequests.push(req);
      if (this.onProtectedRequest) this.onProtectedRequest(req, ctx);
      else ctx.reply(200, 'OK');
    });
  }

  static async create(pcscf: { address: string; port: number }, clock: ManualClock, opts: UeOptions & { algs?: IntegrityAlgName[] } = {}): Promise<ScriptedUe> {
    const plain = await UdpTransport.bind({ address: HOST, port: 0 });
    const stack = new SipStack({ transports: [plain], clock, rng: new SeededRng(`${opts.seed ?? 'ue'}-stack`) });
    const ue = new ScriptedUe(stack, plain, pcscf, clock, opts);
    await ue.newOffer(opts);
    return ue;
  }

  /** Fresh SPIs and protected ports and the Security-Client offering them (R-SM-1). */
  async newOffer(opts: UeOptions = {}): Promise<SecMechanism[]> {
    // Bound on the carrier now and held until it closes (not found free and bound again later,
    // when another test process may have taken the number): the SAs share these sockets.
    const portC = await this.portsOn.listen(HOST, 0);
    const portS = opts.portS ?? (await this.portsOn.listen(HOST, 0));
    const r = this.mgr.reserveLocal();
    this.local = { spiC: r.spiC, spiS: r.spiS, portC, portS };
    r.release();
    this.offer = buildUeOffer({ ...this.local, algs: opts.algs ?? ['hmac-sha-1-96', 'hmac-md5-96'], ealgs: opts.ealgs ?? ['aes-cbc', 'null'], mods: opts.mods ?? ['UDP-enc-tun'] });
    return this.offer;
  }

  /** A REGISTER as TS 24.229 §5.1.1.2 builds it (sec-agree required, Security-Client offered). */
  registerRequest(o: { auth?: string; securityClient?: SecMechanism[] | null; verify?: SecMechanism[]; expires?: number; contactPort?: number; requireSecAgree?: boolean } = {}): SipRequest {
    const h = new SipHeaders();
    h.append('From', `<${this.impu}>;tag=ue${this.cseq}`);
    h.append('To', `<${this.impu}>`);
    h.append('Call-ID', this.callId);
    h.append('CSeq', `${this.cseq++} REGISTER`);
    h.append('Contact', `<sip:alice@${HOST}:${o.contactPort ?? this.local.portS}>;expires=${o.expires ?? 600}`);
    h.append('Authorization', o.auth ?? `Digest username="${this.impi}", realm="ims.lab", nonce="", uri="sip:ims.lab", response=""`);
    if (o.requireSecAgree !== false) {
      h.append('Require', 'sec-agree');
      h.append('Proxy-Require', 'sec-agree');
    }
    h.append('Supported', 'path, sec-agree');
    const sc = o.securityClient === undefined ? this.offer : o.securityClient;
    if (sc !== null && sc.length > 0) h.append('Security-Client', formatSecurityMechanisms(sc));
    if (o.verify) h.append('Security-Verify', formatSecurityMechanisms(o.verify));
    return new SipRequest('REGISTER', 'sip:ims.lab', h);
  }

  /** Sends a REGISTER on the unprotected port (from the UE's plain UDP socket). */
  sendUnprotected(req: SipRequest): Promise<SipResponse> {
    return this.stack.sendRequest(req, { address: this.pcscf.address, port: this.pcscf.port, through: this.plain });
  }

  /**
   * Checks the 401's Security-Server (R-SM-5) and creates the UE's four SAs with the keys the
   * stub issued, then opens the UE's protected transport on the new ports.
   */
  async acceptChallenge(resp: SipResponse, keys: { ik: Uint8Array; ck: Uint8Array }): Promise<UeAcceptance> {
    assert.equal(resp.status, 401);
    const acc = ueAcceptSecurityServer(this.offer, securityServerOf(resp));
    assert.ok(acc.ok, `UE refused Security-Server: ${JSON.stringify(acc)}`);
    this.accepted = acc;
    const r = this.mgr.createSet({
      impi: this.impi,
      impus: [this.impu],
      ueAddress: HOST,
      pcscfAddress: this.pcscf.address,
      remote: acc.pcscf,
      local: this.local,
      integrity: acc.alg,
      encryption: acc.ealg,
      mode: acc.mod,
      ik: keys.ik,
      ck: keys.ck,
    });
    assert.ok(r.ok, `UE createSet: ${JSON.stringify(!r.ok && r)}`);
    this.set = r.set;
    await this.mirror.idle();
    if (this.prot) {
      this.prot.setServerPort(this.local.portS);
      this.prot.setClientPort(this.local.portC);
    } else {
      this.prot = new ProtectedTransport({ carrier: this.dp, address: HOST, serverPort: this.local.portS, clientPort: this.local.portC, saManager: this.mgr });
      this.stack.transportLayer.add(this.prot);
    }
    return acc;
  }

  /** The protected REGISTER answering the challenge (Security-Verify = the Security-Server received). */
  answerRequest(o: { verify?: SecMechanism[]; securityClient?: SecMechanism[]; expires?: number; contactPort?: number } = {}): SipRequest {
    return this.registerRequest({
      auth: `Digest username="${this.impi}", realm="ims.lab", nonce="bm9uY2U=", uri="sip:ims.lab", response="0123456789abcdef0123456789abcdef", algorithm=AKAv1-MD5`,
      verify: o.verify ?? this.accepted!.verify,
      ...(o.securityClient ? { securityClient: o.securityClient } : {}),
      ...(o.expires !== undefined ? { expires: o.expires } : {}),
      ...(o.contactPort !== undefined ? { contactPort: o.contactPort } : {}),
    });
  }

  /** Sends a request over the SAs: from port-c to the P-CSCF's port-s. */
  sendProtected(req: SipRequest, pcscfPortS = this.accepted!.pcscf.portS): Promise<SipResponse> {
    return this.stack.sendRequest(req, { address: this.pcscf.address, port: pcscfPortS, through: this.prot! });
  }

  /** A MESSAGE from the UE (From = `from`, default its IMPU). */
  message(to: string, o: { from?: string; ppi?: string; routes?: string[] } = {}): SipRequest {
    const h = new SipHeaders();
    if (o.routes) h.append('Route', o.routes.join(', '));
    h.append('From', `<${o.from ?? this.impu}>;tag=m${this.cseq}`);
    h.append('To', `<${to}>`);
    h.append('Call-ID', `msg-${this.cseq}-${this.callId}`);
    h.append('CSeq', `${this.cseq++} MESSAGE`);
    if (o.ppi) h.append('P-Preferred-Identity', `<${o.ppi}>`);
    h.append('Content-Type', 'text/plain');
    return new SipRequest('MESSAGE', to, h, new TextEncoder().encode('hi'));
  }

  /** Registers fully: REGISTER → 401 → SAs → protected REGISTER → 200. */
  async register(stub: StubCore): Promise<SipResponse> {
    const r1 = await this.sendUnprotected(this.registerRequest());
    assert.equal(r1.status, 401, `first REGISTER: ${r1.status} ${r1.reason}`);
    await this.acceptChallenge(r1, stub.keys[stub.keys.length - 1]);
    const r2 = await this.sendProtected(this.answerRequest());
    assert.equal(r2.status, 200, `protected REGISTER: ${r2.status} ${r2.reason}`);
    this.mgr.activate(this.set!.id, 600_000, [this.impu]);
    return r2;
  }

  async close(): Promise<void> {
    await this.stack.close();
    this.mgr.clear();
    await this.mirror.idle();
    await this.dp.close();
  }
}

/** A P-CSCF on 127.0.0.1:0 (UDP), OS-assigned protected ports, the stub as I-CSCF and trusted core. */
export async function startPcscf(stub: StubCore, clock: ManualClock, extra: Record<string, unknown> = {}, seed = 'pcscf', deps: PcscfDeps = {}): Promise<PcscfNode> {
  const config = parsePcscfConfig({
    sip: { listen: `${HOST}:0`, protocols: ['udp'] },
    protected: { ports: 'auto' },
    icscf: stub.uri,
    trustedCore: [`${HOST}:${stub.port}`],
    regEvent: { subscribe: false },
    logLevel: 'silent',
    ...extra,
  });
  const p = createPcscf(config, { clock, rng: new SeededRng(seed), ...deps });
  await p.start();
  return p;
}

/** Everything a test needs, closed in one call. */
export async function world(extra: Record<string, unknown> = {}, ueOpts: UeOptions = {}): Promise<{ clock: ManualClock; stub: StubCore; pcscf: PcscfNode; ue: ScriptedUe; close(): Promise<void> }> {
  const clock = new ManualClock(1_000_000);
  const stub = await StubCore.start(clock);
  const pcscf = await startPcscf(stub, clock, extra);
  const a = pcscf.address();
  const ue = await ScriptedUe.create({ address: a.sip.address, port: a.sip.port }, clock, ueOpts);
  return {
    clock,
    stub,
    pcscf,
    ue,
    async close() {
      await ue.close();
      await pcscf.stop();
      await stub.close();
    },
  };
}

export { fromTag, toTag };
