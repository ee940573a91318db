/**
 * The probe's UE, scripted from the specification text rather than built on imsec's UE: three
 * plain UDP ports (unprotected, port_uc, port_us), SAs held by hand, SIP written out as text.
 * Each REGISTER step is exposed separately so a check can change exactly one thing.
 *
 * The flows it follows (SPEC R-SA-3; TS 24.229 §5.1.1.2.2, TS 33.203 §7.1): the UE sends
 * requests and responses from port_uc to port_ps and receives requests and responses on port_us
 * from port_pc (UDP, `mod=UDP-enc-tun`, RFC 3948). Every received datagram is opened (ESP) and
 * parsed; a request that arrives over an SA is answered 200 on the same set (RFC 3261 §8.2.6),
 * so the probe is reachable like a phone.
 */
import { toBase64, toHex } from '../common/index.js';
import type { DigestChallenge } from '../auth/index.js';
import type { DigestCredentials } from '../auth/index.js';
import type { Endpoint } from '../ip/index.js';
import type { SecMechanism } from '../secagree/index.js';
import { callIdOf, cseqOf, parseMessage, securityServerOf, wwwAuthenticateOf, type SipMessage, type SipResponse } from '../sip/index.js';
import type { ProbeContext } from './context.js';
import { ProbeError } from './errors.js';
import { openSip, sealSip, spiOf } from './hand-sa.js';
import { messageText, okText, registerText, type MessageOptions, type RegisterOptions } from './probe-texts.js';
import { chosenMechanism, DEFAULT_OFFER, handSet, installKernelSet, type HandSet } from './hand-set.js';
import { RawPort, type Datagram } from './raw-port.js';
import { akaKeys, answer, type AkaKeys } from './subscriber.js';

export type { HandSet } from './hand-set.js';

export type PortRole = 'plain' | 'uc' | 'us' | 'extra';

/** One datagram the probe received, opened and parsed as far as it goes. */
export interface Received {
  frame: number;
  /** The datagram as it arrived. */
  data: Uint8Array;
  port: PortRole;
  from: Endpoint;
  /** Set when it opened on one of this UE's inbound SAs. */
  spi?: number;
  seq?: number;
  set?: HandSet;
  msg?: SipMessage;
  callId?: string;
}

/** A challenge as the UE reads it: the digest challenge, the AKA keys, the Security-Server. */
export interface Challenge {
  r401: SipResponse;
  frame: number;
  ch: DigestChallenge;
  keys: AkaKeys;
  server: SecMechanism[];
}

let uid = 0;

export class ProbeUe {
  readonly received: Received[] = [];
  readonly sets: HandSet[] = [];
  cseq = 0;
  readonly callId: string;
  private branch = 0;
  private waiters = new Set<() => void>();
  /** Answer requests that arrive over an SA (off for checks that watch them only). */
  autoAnswer = true;
  private readonly extraPorts: RawPort[] = [];

  private constructor(
    readonly ctx: ProbeContext,
    readonly plain: RawPort,
    readonly uc: RawPort,
    readonly us: RawPort,
    readonly tag: string,
  ) {
    this.callId = `probe-${tag}-${toHex(ctx.rng.bytes(6))}`;
    this.instance = `urn:uuid:00000000-0000-5000-8000-${toHex(ctx.rng.bytes(6))}`;
  }

  /** `+sip.instance` (RFC 5626 §4.1): one per UE, so its de-registration removes its own binding. */
  readonly instance: string;

  /** Three ports on the probe's local address (fresh ones unless `ports` names port_uc and port_us). */
  static async open(ctx: ProbeContext, tag: string, ports?: { uc: number; us: number }): Promise<ProbeUe> {
    const holder: { ue?: ProbeUe } = {};
    const open = (role: PortRole): Promise<RawPort> =>
      RawPort.open(ctx.local, role === 'uc' ? ports?.uc ?? 0 : role === 'us' ? ports?.us ?? 0 : 0, {
        guard: ctx.guard,
        clock: ctx.clock,
        tap: (dir, local, remote, data) => void ctx.capture.record(dir === 'out' ? local : remote, dir === 'out' ? remote : local, data),
        onDatagram: (port, d) => holder.ue?.onDatagram(role, port, d),
      });
    const shared = ctx.sharedPlain;
    const plain = shared ? shared.port : await open('plain');
    const [uc, us] = [await open('uc'), await open('us')];
    const ue = new ProbeUe(ctx, plain, uc, us, `${tag}${++uid}`);
    holder.ue = ue;
    if (shared) {
      ue.sharedListener = (d) => ue.onDatagram('plain', plain, d);
      shared.listeners.add(ue.sharedListener);
    }
    return ue;
  }

  /** Another port on the local address (a second source, for the binding checks). */
  async extraPort(): Promise<RawPort> {
    const p = await RawPort.open(this.ctx.local, 0, {
      guard: this.ctx.guard,
      clock: this.ctx.clock,
      tap: (dir, local, remote, data) => void this.ctx.capture.record(dir === 'out' ? local : remote, dir === 'out' ? remote : local, data),
      onDatagram: (port, d) => this.onDatagram('extra', port, d),
    });
    this.extraPorts.push(p);
    return p;
  }

  private sharedListener?: (d: Datagram) => void;
  private nextSetId = 1;

  async close(): Promise<void> {
    const own = this.sharedListener ? [] : [this.plain];
    if (this.sharedListener) this.ctx.sharedPlain!.listeners.delete(this.sharedListener);
    await Promise.all([...own, this.uc, this.us, ...this.extraPorts].map((p) => p.close()));
    for (const set of this.sets) {
      await set.ready.catch(() => undefined);
      for (const sa of set.kernel ?? []) await this.ctx.xfrm!.remove(sa).catch(() => undefined);
    }
    for (const w of this.waiters) w();
  }

  /** `mod` of this run's offers: UDP-enc-tun in userspace, transport mode over kernel ESP. */
  get mode(): 'UDP-enc-tun' | 'trans' {
    return this.ctx.datapath === 'xfrm' ? 'trans' : 'UDP-enc-tun';
  }

  get impu(): string {
    return this.ctx.sub.id.impu;
  }

  frameOf(bytes: Uint8Array): number {
    return this.ctx.capture.frameOf(bytes) ?? 0;
  }

  // ---- receiving ----

  private onDatagram(role: PortRole, port: RawPort, d: Datagram): void {
    port.inbox.length = 0;
    const r: Received = { frame: this.frameOf(d.data), data: d.data, port: role, from: d.from };
    let text: string | undefined;
    if ((role === 'uc' || role === 'us') && this.ctx.datapath === 'xfrm') {
      // The kernel has opened the ESP (only its SAs' packets reach these ports, its inbound policy requires it).
      r.set = this.sets[this.sets.length - 1];
      text = new TextDecoder().decode(d.data);
    } else if (role === 'uc' || role === 'us') {
      let spi: number | undefined;
      try {
        spi = spiOf(d.data);
      } catch {
        spi = undefined;
      }
      const set = this.sets.find((s) => (role === 'us' ? s.pcUs.spi : s.psUc.spi) === spi);
      if (set) {
        try {
          const o = openSip(role === 'us' ? set.pcUs : set.psUc, d.data);
          Object.assign(r, { spi, seq: o.seq, set });
          text = o.text;
        } catch {
          text = undefined;
        }
      }
    } else {
      text = new TextDecoder().decode(d.data);
    }
    if (text !== undefined) {
      try {
        r.msg = parseMessage(new TextEncoder().encode(text));
        r.callId = callIdOf(r.msg);
      } catch {
        r.msg = undefined;
      }
    }
    this.received.push(r);
    if (r.msg?.kind === 'request' && r.set && this.autoAnswer && r.msg.method !== 'ACK') void this.answerRequest(r.set, r.msg).catch(() => undefined);
    for (const w of [...this.waiters]) w();
  }

  /** The first received datagram (from index `since`) that `pred` accepts, or undefined after `ms`. */
  async waitFor(pred: (r: Received) => boolean, ms: number, since = 0): Promise<Received | undefined> {
    const end = this.ctx.clock.now() + ms;
    for (;;) {
      const hit = this.received.slice(since).find(pred);
      if (hit) return hit;
      const left = end - this.ctx.clock.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          t.cancel();
          this.waiters.delete(done);
          resolve();
        };
        const t = this.ctx.clock.setTimeout(left, done);
        this.waiters.add(done);
      });
    }
  }

  /** The final response (status >= 200) of a request of ours (Call-ID and CSeq). */
  finalFor(callId: string, cseq: number, ms = this.ctx.limits.answerMs, since = 0): Promise<Received | undefined> {
    return this.waitFor((r) => r.msg?.kind === 'response' && r.callId === callId && cseqOf(r.msg)?.seq === cseq && (r.msg).status >= 200, ms, since);
  }

  /** Anything received for `callId` (a forwarded copy or a response) within the quiet time. */
  anyFor(callId: string, since: number, ms = this.ctx.limits.quietMs): Promise<Received | undefined> {
    return this.waitFor((r) => r.callId === callId, ms, since);
  }

  // ---- sending ----

  async sendPlain(text: string | Uint8Array, to: Endpoint = this.ctx.target, from: RawPort = this.plain): Promise<number> {
    const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
    await this.ctx.pacer.slot();
    await from.send(bytes, to);
    return this.frameOf(bytes);
  }

  /**
   * Send from port_uc to port_ps over the set's uc→ps SA: sealed here (userspace) or by the
   * kernel (xfrm); returns the datagram the socket sent and its frame.
   */
  async sendProtected(set: HandSet, text: string): Promise<{ bytes: Uint8Array; frame: number }> {
    await set.ready;
    const bytes = this.ctx.datapath === 'xfrm' ? new TextEncoder().encode(text) : sealSip(set.ucPs, text);
    return { bytes, frame: await this.sendPlain(bytes, set.ps, this.uc) };
  }

  private async answerRequest(set: HandSet, req: SipMessage): Promise<void> {
    await this.sendProtected(set, okText(req));
  }

  // ---- requests ----

  /** Fresh SPIs for this UE's inbound SAs: MSB 1 (R-SA-3's default UE policy), never 0..255. */
  freshSpis(): { c: number; s: number } {
    const b = this.ctx.rng.bytes(8);
    const v = (o: number): number => (0x80000000 | (((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0)) >>> 0;
    const c = v(0);
    let s = v(4);
    if (s === c) s = (c ^ 1) >>> 0;
    return { c, s };
  }

  /** A Security-Client offer (RFC 3329 §2.2, TS 33.203 Annex H) on this UE's ports. */
  offer(spis = this.freshSpis(), mechs: readonly { alg: string; ealg: string }[] = DEFAULT_OFFER): SecMechanism[] {
    return mechs.map((m) => ({ name: 'ipsec-3gpp', alg: m.alg, ealg: m.ealg, prot: 'esp', mod: this.mode, spiC: spis.c, spiS: spis.s, portC: this.uc.port, portS: this.us.port, extensions: [] }));
  }

  /** A REGISTER (TS 24.229 §5.1.1.2.1, §5.1.1.4.2); every header a check may change is an option. */
  registerText(o: RegisterOptions): string {
    const viaPort = o.protectedVia ? this.us.port : this.plain.port;
    const branch = `${this.callId}-${++this.branch}`;
    return registerText(o, { local: this.ctx.local, viaPort, branch, impu: this.impu, tag: this.tag, callId: this.callId, cseq: ++this.cseq, instance: this.instance, homeDomain: this.ctx.sub.id.homeDomain });
  }

  /** The initial REGISTER's Authorization (TS 24.229 §5.1.1.2.2: empty nonce and response). */
  initialAuth(impi = this.ctx.sub.id.impi): DigestCredentials {
    const d = this.ctx.sub.id.homeDomain;
    return { username: impi, realm: d, nonce: '', uri: `sip:${d}`, response: '' };
  }

  /** Step 1: the unprotected REGISTER; its final response (undefined on silence). */
  async initial(client: SecMechanism[] | string, extra: { impi?: string } = {}): Promise<{ frame: number; resp?: Received }> {
    const since = this.received.length;
    const bytes = new TextEncoder().encode(this.registerText({ protectedVia: false, auth: this.initialAuth(extra.impi), client }));
    const frame = await this.sendPlain(bytes);
    // RFC 3261 §17.1.2.2: retransmit over UDP at T1 = 500 ms, doubling, until the answer time ends.
    const end = this.ctx.clock.now() + this.ctx.limits.answerMs;
    for (let t = 500; ; t = Math.min(t * 2, 4000)) {
      const left = end - this.ctx.clock.now();
      const resp = await this.finalFor(this.callId, this.cseq, Math.max(0, Math.min(t, left)), since);
      if (resp || left <= t) return { frame, resp };
      await this.sendPlain(bytes);
    }
  }

  /** Reads a 401: the AKA challenge, RES/IK/CK (Milenage) and the Security-Server. */
  challenge(resp: Received): Challenge {
    const r401 = resp.msg as SipResponse;
    if (r401.status !== 401) throw new ProbeError(`expected 401 to the initial REGISTER, got ${r401.status} ${r401.reason}`);
    const ch = wwwAuthenticateOf(r401).find((c) => /^AKAv[12]-MD5$/i.test(c.algorithm ?? ''));
    if (!ch) throw new ProbeError('the 401 carries no AKA challenge (AKAv1-MD5/AKAv2-MD5)');
    let server: SecMechanism[];
    try {
      server = securityServerOf(r401);
    } catch (e) {
      throw new ProbeError(`the 401's Security-Server does not parse: ${(e as Error).message}`);
    }
    return { r401, frame: resp.frame, ch, keys: akaKeys(this.ctx.sub, ch.nonce), server };
  }

  /** The mechanism the UE takes from Security-Server (see {@link chosenMechanism}). */
  chosen(server: SecMechanism[], offer: SecMechanism[]): SecMechanism | undefined {
    return chosenMechanism(server, offer);
  }

  /** The four SAs of TS 33.203 §7.1 for a chosen mechanism, keyed by Annex I (and in the kernel with xfrm). */
  buildSet(server: SecMechanism, offer: SecMechanism[], keys: AkaKeys, serverList: SecMechanism[] = [server]): HandSet {
    const set = handSet({ server, serverList, offer, keys, uc: this.uc.endpoint, us: this.us.endpoint, pcscf: this.ctx.target.address });
    for (const sa of [set.ucPs, set.usPc, set.pcUs, set.psUc]) this.ctx.capture.addSa(sa);
    if (this.ctx.datapath === 'xfrm') {
      set.ready = installKernelSet(this.ctx.xfrm!, set, keys, { setId: this.nextSetId++, impi: this.ctx.sub.id.impi, impu: this.impu });
    }
    set.ready.catch(() => undefined);
    this.sets.push(set);
    return set;
  }

  /** The answer to the challenge (RFC 3310 §3.3) or, with `wrongRes`, a digest from a wrong RES. */
  credentials(c: Challenge, wrongRes = false): DigestCredentials {
    const keys = wrongRes ? { ...c.keys, res: c.keys.res.map((b) => b ^ 0xff) } : c.keys;
    return answer(this.ctx.sub, c.ch, keys, this.ctx.rng);
  }

  /** Step 3: a protected REGISTER over `set`; its final response on port_us (or port_uc). */
  async protectedRegister(set: HandSet, o: RegisterOptions): Promise<{ frame: number; resp?: Received }> {
    const since = this.received.length;
    const { frame } = await this.sendProtected(set, this.registerText(o));
    const resp = await this.finalFor(this.callId, this.cseq, undefined, since);
    const status = statusOf(resp);
    if (status !== undefined && status >= 200 && status < 300 && typeof o.auth !== 'string') {
      this.lastAuth = o.auth;
      if ((o.expires ?? 600) > 0) set.serviceRoute = resp!.msg!.headers.getLines('Service-Route');
    }
    return { frame, resp };
  }

  /** Steps 1–3 of TS 33.203 §7.2 as the standard writes them; throws ProbeError when they fail. */
  async register(): Promise<{ set: HandSet; challenge: Challenge; ok: Received }> {
    const offer = this.offer();
    const first = await this.initial(offer);
    if (!first.resp) throw new ProbeError('no answer to the initial REGISTER');
    const c = this.challenge(first.resp);
    const server = this.chosen(c.server, offer);
    if (!server) throw new ProbeError(`the Security-Server names nothing the probe offered: ${c.r401.headers.get('Security-Server') ?? '(none)'}`);
    const set = this.buildSet(server, offer, c.keys, c.server);
    const second = await this.protectedRegister(set, { protectedVia: true, auth: this.credentials(c), client: offer, verify: c.server });
    const status = (second.resp?.msg as SipResponse | undefined)?.status;
    if (status === undefined || status < 200 || status >= 300) throw new ProbeError(`the protected REGISTER was not accepted (${status ?? 'no answer'})`);
    return { set, challenge: c, ok: second.resp! };
  }

  private lastAuth?: DigestCredentials;

  /** De-registration over the set (TS 24.229 §5.1.1.6, the last nonce and response); the answer's status. */
  async deregister(set: HandSet): Promise<number | undefined> {
    if (!this.lastAuth) return undefined;
    const o = { protectedVia: true, client: set.offer, verify: set.serverList, expires: 0 };
    const r = await this.protectedRegister(set, { ...o, auth: this.lastAuth });
    if (statusOf(r.resp) !== 401) return statusOf(r.resp);
    // A network that authenticates the de-registration too (one that is not told the REGISTER
    // came over the SAs, TS 24.229 §5.4.1.2.1): answer the challenge on the same SAs.
    const c = this.challenge(r.resp!);
    const again = await this.protectedRegister(set, { ...o, auth: this.credentials(c) });
    return statusOf(again.resp);
  }

  /** A MESSAGE (RFC 3428) to `to` with the given identity headers, routed to the P-CSCF's port_ps. */
  messageText(o: MessageOptions): { text: string; callId: string } {
    const callId = o.callId ?? `probe-msg-${toHex(this.ctx.rng.bytes(8))}`;
    const set = this.sets[this.sets.length - 1];
    const branch = ++this.branch;
    const text = messageText(o, {
      local: this.ctx.local,
      viaPort: o.via ?? this.us.port,
      branch: `${callId}-${branch}`,
      tag: `${this.tag}m${branch}`,
      impu: this.impu,
      callId,
      ps: set ? set.ps : this.ctx.target,
      serviceRoute: set?.serviceRoute ?? [],
      body: o.body ?? `imsec probe ${toBase64(this.ctx.rng.bytes(6))}`,
    });
    return { text, callId };
  }

  /**
   * A liveness ping over `set`: a MESSAGE to the probe's own IMPU (originating and terminating
   * legs both cross the P-CSCF). Resolves with the final response, if any, within the answer time.
   */
  async ping(set: HandSet): Promise<{ frame: number; bytes: Uint8Array; callId: string; resp?: Received }> {
    const since = this.received.length;
    const m = this.messageText({});
    const { frame, bytes } = await this.sendProtected(set, m.text);
    const resp = await this.waitFor((r) => r.callId === m.callId && r.msg?.kind === 'response' && (r.msg).status >= 200, this.ctx.limits.answerMs, since);
    return { frame, bytes, callId: m.callId, resp };
  }
}

/** The status of a received response, or undefined. */
export function statusOf(r: Received | undefined): number | undefined {
  return r?.msg?.kind === 'response' ? (r.msg).status : undefined;
}
