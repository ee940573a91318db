/**
 * The shape of one check and the helpers every check uses: a scope that opens scripted UEs and
 * cleans them up (de-registration, closed sockets), evidence collection, and the pattern of a
 * negative test with a positive control (what must be dropped is sent, silence is awaited, then
 * a good packet on the same SA must still get through, else the silence proves nothing).
 */
import type { ProbeContext } from '../context.js';
import { ProbeUe, statusOf, type HandSet, type Received } from '../probe-ue.js';
import type { EvidenceItem, Verdict } from '../verdict.js';

export interface Outcome {
  verdict: Verdict;
  reason: string;
}

export interface CheckDef {
  id: string;
  title: string;
  spec: string[];
  clause: string;
  /** Why the check cannot run over kernel ESP (--datapath xfrm), when it cannot. */
  xfrmReason?: string;
  run(s: CheckScope): Promise<Outcome>;
}

export const pass = (reason: string): Outcome => ({ verdict: 'PASS', reason });
export const fail = (reason: string): Outcome => ({ verdict: 'FAIL', reason });
export const untestable = (reason: string): Outcome => ({ verdict: 'NOT TESTABLE', reason });

/** One check's resources and evidence. */
export class CheckScope {
  readonly evidence: EvidenceItem[] = [];
  private readonly ues: ProbeUe[] = [];
  private readonly regs: { ue: ProbeUe; set: HandSet }[] = [];

  constructor(readonly ctx: ProbeContext) {}

  /** A scripted UE; the check's first one on `--ue-ports` when given. */
  async ue(tag: string): Promise<ProbeUe> {
    const ue = await ProbeUe.open(this.ctx, tag, this.ues.length === 0 ? this.ctx.uePorts : undefined);
    this.ues.push(ue);
    return ue;
  }

  note(frame: number | Received | undefined, note: string): void {
    if (frame === undefined) return;
    this.evidence.push({ frame: typeof frame === 'number' ? frame : frame.frame, note });
  }

  /** A full registration (steps 1–3 of TS 33.203 §7.2) with its frames noted; de-registered at the end. */
  async registered(ue: ProbeUe): Promise<HandSet> {
    const r = await ue.register();
    this.note(r.challenge.frame, `401 with Security-Server ${describe(r.set.server)}`);
    this.note(r.ok, `200 to the protected REGISTER (SPI 0x${r.set.pcUs.spi.toString(16)})`);
    this.regs.push({ ue, set: r.set });
    return r.set;
  }

  /** A new scripted UE, registered (see {@link registered}). */
  async registeredUe(tag: string): Promise<{ ue: ProbeUe; set: HandSet }> {
    const ue = await this.ue(tag);
    return { ue, set: await this.registered(ue) };
  }

  /** De-register `set` at the end (a registration the check made in its own way). */
  track(ue: ProbeUe, set: HandSet): void {
    this.regs.push({ ue, set });
  }

  /** Forget a registration the check ended itself. */
  forget(set: HandSet): void {
    const i = this.regs.findIndex((r) => r.set === set);
    if (i >= 0) this.regs.splice(i, 1);
  }

  /** De-register what is still registered, close every socket. */
  async close(): Promise<void> {
    for (const r of this.regs.reverse()) await r.ue.deregister(r.set).catch(() => undefined);
    await Promise.all(this.ues.map((u) => u.close()));
  }

  /**
   * Negative test with a positive control: `send` sends something the target must drop (its
   * SIP carries `callId`); anything received for that Call-ID within the quiet time means it got
   * through. Then a ping on `set` must still be answered.
   */
  async mustDrop(ue: ProbeUe, set: HandSet, what: string, send: () => Promise<{ frame: number; callId: string }>): Promise<Outcome> {
    const since = ue.received.length;
    const sent = await send();
    this.note(sent.frame, what);
    const leak = await ue.anyFor(sent.callId, since);
    if (leak) {
      this.note(leak, `${leak.msg?.kind === 'request' ? 'forwarded copy' : `response ${statusOf(leak)}`} for the packet that should have been dropped`);
      return fail(`${what}: the target accepted it (${leak.msg?.kind === 'request' ? 'the request was forwarded' : `answered ${statusOf(leak)}`})`);
    }
    const control = await ue.ping(set);
    this.note(control.frame, 'control: a good MESSAGE on the same SA');
    if (statusOf(control.resp) === undefined) return untestable(`${what}: nothing came back, but the control MESSAGE on the same SA was not answered either, so the silence proves nothing`);
    this.note(control.resp, `control answered ${statusOf(control.resp)}`);
    return pass(`${what}: dropped (nothing for it within ${this.ctx.limits.quietMs} ms), while a good packet on the same SA still got ${statusOf(control.resp)}`);
  }
}

export function describe(m: { alg?: string; ealg?: string; mod?: string; spiC?: number; spiS?: number; portC?: number; portS?: number }): string {
  return `alg=${m.alg} ealg=${m.ealg ?? 'null'} mod=${m.mod ?? 'trans'} spi-c=${m.spiC} spi-s=${m.spiS} port-c=${m.portC} port-s=${m.portS}`;
}
