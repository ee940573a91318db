/**
 * The checks of a capture against SPEC.md (R-SM, R-SA, R-RR, R-FAIL, R-AKA-6), fed with the
 * decoded SIP, Diameter and ESP events in capture order. It learns the keys (Cx MAA, the
 * S-CSCF's 401), rebuilds each registration and its SA sets from the UE–P-CSCF leg, keys the
 * sets by TS 33.203 Annex I, and reports {@link Finding}s through the sink. State is bounded by
 * the number of live registrations and transactions.
 */
import { parseAkaNonce } from '../auth/index.js';
import { stallCause } from './aka-checks.js';
import { toHex } from '../common/index.js';
import { akaVectorOf, isRequest as isDiameterRequest, parseMaa } from '../diameter/index.js';
import { checkSecurityClientUnchanged, checkSecurityVerify, effectiveIpsec, isIpsec3gpp, sameTransform, type SecMechanism } from '../secagree/index.js';
import type { FindingSink } from './findings.js';
import type { KeyRing } from './key-ring.js';
import type { Challenge, Registration, SaSet, StepKind } from './model.js';
import { RULES, type RuleName } from './rules.js';
import { callId, challenge as challengeOf, credentials, cseq, expiresOf, integrityProtected, pAssociatedUris, securityHeader, txKey, uriOf, viaCount } from './sip-facts.js';
import { SaTable } from './sa-table.js';
import { checkDigest, ep, espRules, flowRules, hex32, impuBinding, portRules, scscfChallenge, show, type RuleContext } from './message-rules.js';
import type { DiameterEvent, Endpoint, EspEvent, SipEvent } from './types.js';

/** R-SA-7: after the 200 OK a set lives for the registration's expiry plus 30 s. */
const EXPIRY_GRACE_MS = 30_000;
/** R-RR-2: 64·T1 (T1 = 500 ms, RFC 3261 §17.1.1.1), how long the replaced set outlives the change-over. */
const CHANGE_OVER_MS = 64 * 500;
const MAX_TX = 20_000;
const MAX_STEPS = 200;

export interface CheckerOptions {
  /** Diagnose a registration as stalled when no protected REGISTER follows the 401 within this time. */
  stallMs?: number;
}

interface RegisterTx {
  reg: number;
  kind: StepKind;
  /** Expires 0: its 2xx ends the registration, also when it answers a challenge (TS 24.229 §5.1.1.5.1). */
  deregistration: boolean;
  setId?: number;
  stepIndex: number;
  src: Endpoint;
  dst: Endpoint;
}


export class Checker {
  readonly registrations: Registration[] = [];
  readonly table: SaTable;
  /** Endpoint labels learnt from roles (UE, P-CSCF, S-CSCF, HSS …), `addr|port` or `addr`. */
  readonly roles = new Map<string, string>();
  private readonly byImpi = new Map<string, Registration>();
  private readonly ueEndpoints = new Map<string, number>();
  private readonly tx = new Map<string, RegisterTx>();
  private readonly requests = new Map<string, { src: Endpoint; dst: Endpoint }>();
  private readonly pending = new Set<Registration>();
  private readonly stallMs: number;
  lastAt = 0;
  private readonly ctx: RuleContext;

  constructor(
    private readonly keys: KeyRing,
    private readonly findings: FindingSink,
    opts: CheckerOptions = {},
  ) {
    this.stallMs = opts.stallMs ?? 30_000;
    this.table = new SaTable((s) => this.registrations[s.registration]?.live.delete(s.id));
    this.ctx = { table: this.table, keys, registrations: this.registrations, ueEndpoints: this.ueEndpoints, requests: this.requests, pending: this.pending, report: (rule, frames, message, extra) => this.report(rule, frames, message, extra) };
  }

  private report(rule: RuleName, frames: number[], message: string, extra: { subject?: string; registration?: number } = {}): void {
    const r = RULES[rule];
    this.findings.add({ rule, severity: r.severity, spec: r.spec, clause: r.clause, frames, message, ...extra });
  }

  // ---- Diameter: the keys of the Cx MAA (TS 29.229 §6.1.8) ----

  diameter(ev: DiameterEvent): void {
    const m = ev.message;
    const req = isDiameterRequest(m);
    if (m.applicationId === 16777216) this.roles.set(ep(req ? ev.dst : ev.src), 'HSS');
    if (m.commandCode === 303 && req) this.roles.set(ep(ev.src), 'S-CSCF');
    if (m.commandCode === 300 && req) this.roles.set(ep(ev.src), 'I-CSCF');
    if (m.commandCode !== 303 || req) return;
    let items;
    try {
      items = parseMaa(m).sipAuthDataItems;
    } catch {
      return;
    }
    for (const item of items) {
      try {
        const v = akaVectorOf(item);
        this.keys.addAka(toHex(v.rand), { ik: v.ik, ck: v.ck, autn: v.autn, xres: v.xres, source: 'maa', frames: ev.frames });
      } catch {
        // An item without a full AKA vector (e.g. a Digest scheme) carries no keys.
      }
    }
  }

  /** One ESP packet's outcome. */
  esp(ev: EspEvent): void {
    this.tick(ev.at);
    espRules(this.ctx, ev);
  }

  // ---- SIP ----

  sip(ev: SipEvent): void {
    this.tick(ev.at);
    const m = ev.message;
    const p = ev.protection;
    const set = p === undefined ? undefined : p.setId !== undefined ? this.table.get(p.setId) : this.table.bySpi(p.spi, ev.src.address, ev.dst.address);
    if (!ev.protection) portRules(this.ctx, ev);
    if (set) flowRules(this.ctx, ev, set);
    if (m.kind === 'request') {
      if (ev.transport === 'tcp' || ev.protection) this.rememberRequest(ev);
      if (m.method === 'REGISTER') {
        // The registration path UE → P-CSCF → I-CSCF → S-CSCF: one more Via per hop.
        const vias = viaCount(m);
        const hop = ['', 'P-CSCF', 'I-CSCF', 'S-CSCF'][vias];
        if (hop && !this.roles.has(ep(ev.dst))) this.roles.set(ep(ev.dst), hop);
        if (vias === 1) this.register(ev, set);
        else this.forwardedRegister(ev);
      } else if (set && (ev.protection!.spi === set.spiPs || ev.protection!.spi === set.spiPc)) impuBinding(this.ctx, ev, set);
      else if (set && m.method === 'NOTIFY') this.regEvent(ev, set);
      return;
    }
    const c = cseq(m);
    if (c?.method !== 'REGISTER') return;
    if (viaCount(m) === 1) this.registerResponse(ev);
    else if (m.status === 401) scscfChallenge(this.ctx, ev);
  }

  private tick(at: number): void {
    this.lastAt = Math.max(this.lastAt, at);
    for (const r of this.pending) {
      const ch = r.challenge;
      if (!ch || ch.answered) {
        this.pending.delete(r);
        continue;
      }
      if (!ch.reported && at - ch.at > this.stallMs) this.stalled(r, ch, at, true);
    }
  }

  /**
   * Whether a SIP message in the clear matters to any check: to or from a UE, on a protected port,
   * or about a registration. Others (core-side requests and responses) need no parsing unless the
   * ladder shows them.
   */
  needs(src: Endpoint, dst: Endpoint, bytes: Uint8Array): boolean {
    if (this.ueEndpoints.has(ep(src)) || this.ueEndpoints.has(ep(dst))) return true;
    const { onSrc, onDst } = this.table.protectedEnds(src, dst);
    return onSrc || onDst || Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf('REGISTER') >= 0;
  }

  private rememberRequest(ev: SipEvent): void {
    if (this.requests.size >= MAX_TX) this.requests.delete(this.requests.keys().next().value as string);
    this.requests.set(txKey(ev.message), { src: ev.src, dst: ev.dst });
  }

  /** R-RR-5: a reg-event NOTIFY to the UE with a shortened registration asks it to re-authenticate (RFC 3680, TS 24.229 §5.4.1.6). */
  private regEvent(ev: SipEvent, s: SaSet): void {
    const reg = this.registrations[s.registration];
    const body = Buffer.from(ev.message.body).toString('utf8');
    if (!reg || !/event\s*=\s*"shortened"/.test(body)) return;
    if (reg.steps.length < MAX_STEPS) reg.steps.push({ kind: 'network-reauth', at: ev.at, frames: ev.frames, protected: true, setId: s.id });
  }

  private regFor(impi: string, ue: Endpoint, pcscf: Endpoint): Registration {
    let r = this.byImpi.get(impi);
    if (!r) {
      r = { index: this.registrations.length, impi, ue: ue.address, pcscf: pcscf.address, impus: new Set(), state: 'unregistered', steps: [], sets: [], live: new Set(), digest: { verified: 0, failed: 0, unchecked: 0 } };
      this.registrations.push(r);
      this.byImpi.set(impi, r);
    }
    this.ueEndpoints.set(ep(ue), r.index);
    this.roles.set(ep(ue), 'UE');
    this.roles.set(ep(pcscf), 'P-CSCF');
    return r;
  }

  /** A REGISTER sent by the UE (one Via): the start or the answer of an authentication. */
  private register(ev: SipEvent, set: SaSet | undefined): void {
    const m = ev.message;
    const cr = credentials(m);
    const to = uriOf(m.headers.get('To'));
    const impi = cr?.username || to?.replace(/^sips?:/, '') || `${ev.src.address}`;
    const reg = this.regFor(impi, ev.src, ev.dst);
    const client = securityHeader(m, 'Security-Client');
    const verify = securityHeader(m, 'Security-Verify');
    const expires = expiresOf(m);
    // RFC 3310 §3.4: auts is base64 of 14 bytes; a malformed one makes the credentials unreadable.
    const rawAuts = /\bauts\s*=\s*"?([^",\s]*)/i.exec(m.headers.get('Authorization') ?? '')?.[1];
    if (rawAuts !== undefined && !cr?.auts) this.report('aka.auts-malformed', ev.frames, `auts="${rawAuts.slice(0, 40)}" in the REGISTER of ${impi} is not base64 of 14 bytes`, { registration: reg.index });
    const open = reg.challenge && !reg.challenge.answered ? reg.challenge : undefined;
    const answers = !!open && (set ? open.setId === set.id : open.setId === undefined && !!cr?.response);
    // A de-REGISTER may be challenged like any REGISTER (TS 24.229 §5.1.1.5.1: re-authentication
    // "during … deregistrations"); the protected one answering that 401 is an auth-response.
    const kind: StepKind = cr?.auts || rawAuts !== undefined ? 'sync-failure' : cr && cr.nonce !== '' && cr.response === '' ? 'mac-failure' : answers ? 'auth-response' : expires === 0 ? 'de-registration' : set ? 're-registration' : 'initial';
    const c = cseq(m);
    const step = { kind, at: ev.at, frames: ev.frames, protected: !!set, ...(set ? { setId: set.id } : {}) };
    // Steps beyond MAX_STEPS are counted, not kept (a long capture of one UE stays bounded).
    const stepIndex = reg.steps.length < MAX_STEPS ? reg.steps.push(step) - 1 : -1;
    if (stepIndex < 0) reg.stepsOmitted = (reg.stepsOmitted ?? 0) + 1;
    if (this.tx.size >= MAX_TX) this.tx.delete(this.tx.keys().next().value as string);
    this.tx.set(`${callId(m)}|${c?.n}`, { reg: reg.index, kind, deregistration: expires === 0, stepIndex, src: ev.src, dst: ev.dst, ...(set ? { setId: set.id } : {}) });
    if (open && (kind === 'mac-failure' || kind === 'sync-failure')) {
      // R-FAIL-2/3: the UE reports the failure instead of answering; the attempt's SAs go.
      open.answered = true;
      this.pending.delete(reg);
      if (open.setId !== undefined) this.table.setState(open.setId, 'failed', ev);
      const was = open.client.find(isIpsec3gpp);
      const now = client?.find(isIpsec3gpp);
      if (was && now && (was.spiC === now.spiC || was.spiS === now.spiS || was.portC === now.portC)) {
        this.report('fail.client-not-new', ev.frames, `${kind} REGISTER of ${impi} repeats ${[was.spiC === now.spiC ? 'spi-c' : '', was.spiS === now.spiS ? 'spi-s' : '', was.portC === now.portC ? 'port-c' : ''].filter(Boolean).join(', ')} of the Security-Client the 401 in frame ${open.frames[0]} answered`, { registration: reg.index });
      }
    }
    if (!set) {
      if (reg.activeSet !== undefined && this.table.get(reg.activeSet)?.state === 'active') {
        this.report('rr.clear-register', ev.frames, `REGISTER of ${impi} in the clear while SA set ${reg.activeSet} exists: the P-CSCF must mark it integrity-protected="no" and the S-CSCF run AKA`, { registration: reg.index });
      }
      if (open && kind === 'auth-response') {
        // No sec-agree was agreed: the answer in the clear is all there can be.
        open.answered = true;
        this.pending.delete(reg);
      } else if (open && open.setId !== undefined && kind === 'initial' && cr?.response) {
        open.clearAnswers++;
        this.report('reg.answer-in-clear', ev.frames, `${impi} answered the 401 (frame ${open.frames[0]}) without ESP: protection must start with the second REGISTER`, { registration: reg.index });
      }
      if (client) reg.client = client;
      return;
    }
    // Protected REGISTER.
    if (ev.src.address !== set.ue) this.report('sa.source-mismatch', ev.frames, `protected REGISTER of ${impi} from ${ev.src.address}, but SA set ${set.id} was bound to ${set.ue}`, { registration: reg.index });
    if (impi !== set.impi) this.report('sa.impi-mismatch', ev.frames, `REGISTER for ${impi} on SA set ${set.id} bound to ${set.impi}`, { registration: reg.index });
    if (kind === 'auth-response' && reg.challenge) {
      const ch = reg.challenge;
      ch.answered = true;
      this.pending.delete(reg);
      const v = checkSecurityVerify(ch.server, verify);
      if (!v.ok) this.report(verify ? 'secagree.verify-mismatch' : 'secagree.verify-missing', ev.frames, `${v.detail} (the 401 in frame ${ch.frames[0]})`, { registration: reg.index });
      if (ch.client.length > 0) {
        const cc = checkSecurityClientUnchanged(ch.client, client);
        if (!cc.ok) this.report('secagree.client-changed', ev.frames, `${cc.detail} (first REGISTER answered by the 401 in frame ${ch.frames[0]})`, { registration: reg.index });
      }
      checkDigest(this.ctx, ev, reg, cr);
    } else if (reg.lastServer) {
      const v = checkSecurityVerify(reg.lastServer, verify);
      if (!v.ok) this.report(verify ? 'secagree.verify-mismatch' : 'secagree.verify-missing', ev.frames, `${kind}: ${v.detail}`, { registration: reg.index });
      if (client) reg.client = client;
    }
  }

  /** A REGISTER between CSCFs: R-REG-4's integrity-protected value against how it arrived. */
  private forwardedRegister(ev: SipEvent): void {
    const m = ev.message;
    const t = this.tx.get(`${callId(m)}|${cseq(m)?.n}`);
    const ip = integrityProtected(m);
    if (!t || ip === undefined) return;
    const protectedIn = t.setId !== undefined;
    const saysYes = ip === 'yes' || ip === 'ip-assoc-yes' || ip === 'tls-yes';
    if (saysYes !== protectedIn && !(protectedIn && ip === 'ip-assoc-pending')) {
      this.report('reg.integrity-protected', ev.frames, `REGISTER forwarded with integrity-protected="${ip}", but it arrived ${protectedIn ? 'inside ESP' : 'in the clear'}`, { subject: `${callId(m)}|${cseq(m)?.n}`, registration: t.reg });
    }
  }

  private registerResponse(ev: SipEvent): void {
    const m = ev.message;
    if (m.kind !== 'response') return;
    const t = this.tx.get(`${callId(m)}|${cseq(m)?.n}`);
    if (!t) return;
    const reg = this.registrations[t.reg];
    const step = t.stepIndex >= 0 ? reg.steps[t.stepIndex] : undefined;
    if (m.status < 200) return;
    if (step) step.outcome = m.status;
    if (m.status === 401) return this.challenge401(ev, reg, t);
    const s = t.setId !== undefined ? this.table.get(t.setId) : undefined;
    if (m.status >= 300) {
      if (reg.challenge?.setId !== undefined && t.kind === 'auth-response') this.table.setState(reg.challenge.setId, 'failed', ev);
      reg.state = reg.activeSet !== undefined ? 'registered' : 'failed';
      return;
    }
    if (t.deregistration) {
      reg.state = 'deregistered';
      for (const id of [...reg.live]) this.table.setState(id, 'deleted', ev);
      reg.activeSet = undefined;
      return;
    }
    reg.state = 'registered';
    for (const u of pAssociatedUris(m)) reg.impus.add(u);
    const to = uriOf(m.headers.get('To'));
    if (to) reg.impus.add(to);
    const expires = expiresOf(m) ?? 3600;
    if (s && s.id !== reg.activeSet) {
      // R-RR-2 (TS 24.229 §5.2.2.1): the set this one replaces lives on for 64·T1 after the UE's
      // first message on the new set (its REGISTER); sets replaced before it are gone.
      for (const id of [...reg.live]) if (this.table.get(id)?.state === 'old') this.table.setState(id, 'deleted', ev);
      const prev = reg.activeSet !== undefined ? this.table.get(reg.activeSet) : undefined;
      if (prev) {
        this.table.setState(prev.id, 'old', ev);
        prev.expiresAt = Math.min(prev.expiresAt ?? Infinity, (step?.at ?? ev.at) + CHANGE_OVER_MS);
      }
      this.table.setState(s.id, 'active', ev);
      reg.activeSet = s.id;
      if (reg.challenge?.setId === s.id) reg.lastServer = reg.challenge.server;
    }
    // R-SA-7: the longer of the previous remaining lifetime and expiry + 30 s.
    if (s) s.expiresAt = Math.max(s.expiresAt ?? 0, ev.at + expires * 1000 + EXPIRY_GRACE_MS);
  }

  /** The P-CSCF's 401 to the UE: R-AKA-6, the sec-agree choice, and a new (temporary) SA set. */
  private challenge401(ev: SipEvent, reg: Registration, t: RegisterTx): void {
    const m = ev.message;
    const ch = challengeOf(m);
    if (ch?.ik || ch?.ck) this.report('aka.keys-to-ue', ev.frames, `the 401 to the UE ${show(ev.dst)} still carries ${[ch.ck ? 'ck=' : '', ch.ik ? 'ik=' : ''].filter(Boolean).join(' and ')}: the P-CSCF must remove them`, { registration: reg.index });
    let rand: string | undefined;
    let autn: Uint8Array | undefined;
    try {
      if (ch) ({ rand: rand, autn } = (({ rand: r, autn: a }) => ({ rand: toHex(r), autn: a }))(parseAkaNonce(ch.nonce)));
    } catch {
      rand = undefined;
    }
    if (ch?.ik && ch.ck && rand) this.keys.addAka(rand, { ik: ch.ik, ck: ch.ck, source: 'scscf-401', frames: ev.frames });
    const keys = rand ? this.keys.akaFor(rand) : undefined;
    if (keys?.autn && autn) {
      const same = toHex(keys.autn) === toHex(autn);
      reg.nonceMatchesMaa = same;
      if (!same) this.report('aka.nonce-mismatch', ev.frames, `the 401's nonce carries AUTN ${'≠'} the MAA's SIP-Authenticate for the same RAND (MAA frames ${keys.frames.join(', ')})`, { registration: reg.index });
    }
    if (reg.challenge && !reg.challenge.answered) {
      // A new challenge replaces an unanswered one: its temporary set is gone.
      if (!reg.challenge.reported) this.stalled(reg, reg.challenge, ev.at, true);
      if (reg.challenge.setId !== undefined) this.table.setState(reg.challenge.setId, 'failed', ev);
    }
    const server = securityHeader(m, 'Security-Server') ?? [];
    const client = reg.client ?? [];
    reg.state = 'challenged';
    const challenge: Challenge = { at: ev.at, frames: ev.frames, server, client, answered: false, reported: false, unknownSpiFromUe: 0, clearAnswers: 0 };
    reg.challenge = challenge;
    this.pending.add(reg);
    if (server.length === 0 || client.length === 0) return;
    const chosen = [...server].filter(isIpsec3gpp).sort((a, b) => (b.q ?? -1) - (a.q ?? -1))[0];
    const offered = chosen ? client.find((o) => isIpsec3gpp(o) && sameTransform(o, chosen)) : undefined;
    if (!chosen || !offered) {
      this.report('secagree.not-offered', ev.frames, `Security-Server ${chosen ? `alg=${chosen.alg} ealg=${chosen.ealg ?? 'null'}` : 'without ipsec-3gpp'} is not among the UE's offers`, { registration: reg.index });
      return;
    }
    const set = this.newSet(reg, ev, t, offered, chosen, keys);
    if (set) challenge.setId = set.id;
  }

  private newSet(reg: Registration, ev: SipEvent, t: RegisterTx, client: SecMechanism, server: SecMechanism, keys: ReturnType<KeyRing['akaFor']>): SaSet | undefined {
    const c = effectiveIpsec(client);
    const s = effectiveIpsec(server);
    if (c.spiC === undefined || c.spiS === undefined || c.portC === undefined || c.portS === undefined || s.spiC === undefined || s.spiS === undefined || s.portC === undefined || s.portS === undefined) return undefined;
    const set = this.table.create({ registration: reg.index, impi: reg.impi, ue: t.src.address, pcscf: t.dst.address, uc: c.portC, us: c.portS, pc: s.portC, ps: s.portS, spiUc: c.spiC, spiUs: c.spiS, spiPc: s.spiC, spiPs: s.spiS, alg: s.alg ?? '?', ealg: s.ealg, mode: s.mod }, ev);
    const id = set.id;
    if (reg.sets.length < MAX_STEPS) reg.sets.push(id);
    reg.live.add(id);
    const spis = [set.spiUc, set.spiUs, set.spiPc, set.spiPs];
    const reserved = spis.filter((x) => x >= 1 && x <= 255);
    if (reserved.length) this.report('sa.spi-reserved', ev.frames, `SA set ${id} uses SPI ${reserved.join(', ')} in the reserved range 1..255 (${reserved.every((x) => x === set.spiPc || x === set.spiPs) ? 'chosen by the P-CSCF' : 'chosen by the UE'})`, { registration: reg.index });
    if (new Set(spis).size < 4) this.report('sa.spi-shared', ev.frames, `SA set ${id}: SPIs ${spis.map(hex32).join(', ')} are not all distinct, so a packet could be reflected`, { registration: reg.index });
    for (const o of this.table.clashes(set)) {
      if (o.registration === reg.index) continue; // the same registration's sets: rr.spi-not-new below
      this.report('sa.spi-reused', ev.frames, `SA set ${id} of ${reg.impi} takes SPIs that the live set ${o.id} of ${o.impi} holds at the same host (${[set.spiPc, set.spiPs, set.spiUc, set.spiUs].filter((x) => [o.spiPc, o.spiPs, o.spiUc, o.spiUs].includes(x)).map(hex32).join(', ')}): the SPI no longer names one SA`, { registration: reg.index });
    }
    const prev = reg.activeSet !== undefined ? this.table.get(reg.activeSet) : undefined;
    if (prev && prev.state === 'active') {
      const old = new Set([prev.spiUc, prev.spiUs, prev.spiPc, prev.spiPs]);
      if (spis.some((x) => old.has(x))) this.report('rr.spi-not-new', ev.frames, `re-registration set ${id} reuses SPIs of the live set ${prev.id}`, { registration: reg.index });
      const moved = [prev.us !== set.us ? `UE port_us ${prev.us} → ${set.us}` : '', prev.ps !== set.ps ? `P-CSCF port_ps ${prev.ps} → ${set.ps}` : ''].filter(Boolean);
      if (moved.length) this.report('rr.port-not-kept', ev.frames, `re-registration set ${id}: ${moved.join(', ')}`, { subject: `${reg.impi}|${moved.join()}`, registration: reg.index });
    }
    for (const port of [set.uc, set.us]) {
      this.ueEndpoints.set(`${set.ue}|${port}`, reg.index);
      this.roles.set(`${set.ue}|${port}`, 'UE');
    }
    this.roles.set(`${set.pcscf}|${set.pc}`, 'P-CSCF');
    this.roles.set(`${set.pcscf}|${set.ps}`, 'P-CSCF');
    this.table.key(set, keys, this.keys);
    return set;
  }

  /** Where a registration stalls after the 401, and which observation points to the cause. */
  private stalled(reg: Registration, ch: Challenge, now: number, timedOut: boolean): void {
    ch.reported = true;
    this.pending.delete(reg);
    const set = ch.setId !== undefined ? this.table.get(ch.setId) : undefined;
    const secs = ((now - ch.at) / 1000).toFixed(1);
    const cause = stallCause(ch, set, reg.ue);
    const why = timedOut ? `no protected REGISTER within ${secs} s of the 401` : `no protected REGISTER before the capture ends, ${secs} s after the 401`;
    this.report('reg.stalled', ch.frames, `registration of ${reg.impi} stalls after the 401: ${why}; ${cause}`, { registration: reg.index });
  }

  /** End of capture: stalls still open are reported. */
  finish(): void {
    for (const r of [...this.pending]) if (r.challenge && !r.challenge.answered && !r.challenge.reported) this.stalled(r, r.challenge, this.lastAt, false);
  }
}
