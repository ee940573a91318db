/**
 * `imsec analyze` as a library (SPEC R-LAB-2): frames in, one {@link AnalysisReport} out. Frames
 * are decoded (packet-decoder.ts), checked (checker.ts) and forgotten; the report keeps bounded
 * lists (ladder, findings, problems) and counts what it had to leave out.
 */
import type { CaptureFrame } from '../capture/index.js';
import { DIAMETER_COMMANDS, diameterNotes, sipNotes } from '../nodes/demo/index.js';
import { isRequest as isDiameterRequest, readResult } from '../diameter/index.js';
import { Checker } from './checker.js';
import { FindingSink } from './findings.js';
import { KeyRing } from './key-ring.js';
import { exportLine, type GivenSa } from './keys-file.js';
import type { Registration, SaSet } from './model.js';
import { PacketDecoder } from './packet-decoder.js';
import { cseq } from './sip-facts.js';
import type { DiameterEvent, Endpoint, EspEvent, Finding, FrameProblem, SipEvent } from './types.js';

export const ANALYZE_SCHEMA = 'imsec-analyze/1';
export const DEFAULT_LADDER_LIMIT = 5000;
const MAX_PROBLEMS = 200;
/** Diameter application ids (IANA): the interface names shown on the ladder. */
const APPLICATIONS: Readonly<Record<number, string>> = { 0: 'Diameter', 16777216: 'Cx', 16777217: 'Sh', 16777236: 'Rx', 16777238: 'Gx', 16777251: 'S6a' };
/** RFC 6733 / RFC 4006 / TS 29.214 commands seen beside Cx (Gx, Rx): code → request, answer. */
const OTHER_COMMANDS: Readonly<Record<number, readonly [string, string]>> = { 258: ['RAR', 'RAA'], 265: ['AAR', 'AAA'], 272: ['CCR', 'CCA'], 274: ['ASR', 'ASA'], 275: ['STR', 'STA'] };

export interface AnalyzeOptions {
  /** SAs given by the user (keys file). */
  keys?: readonly GivenSa[];
  /** Stall diagnosis threshold after a 401 (default 30 s). */
  stallMs?: number;
  /** Most ladder entries kept (default 5000). */
  ladderLimit?: number;
  /** Sees every decoded message as the checks do (tests, tools built on the analyser). */
  observe?: { sip?(ev: SipEvent): void; diameter?(ev: DiameterEvent): void };
}

/** One message of the ladder, endpoints resolved to role names where known. */
export interface LadderLine {
  n: number;
  frames: number[];
  at: number;
  from: string;
  to: string;
  kind: 'sip' | 'diameter';
  transport: 'udp' | 'tcp' | 'sctp';
  summary: string;
  notes: string[];
  esp?: { spi: number; seq: number; set?: number };
  sip?: { method?: string; status?: number; cseqMethod?: string };
  diameter?: { command: string; request: boolean; code: number; application: string; result?: { code: number; vendorId?: number } };
}

export interface AnalysisReport {
  schema: typeof ANALYZE_SCHEMA;
  captures: { file: string; frames: number; bytes: number }[];
  summary: {
    frames: number;
    sip: number;
    diameter: number;
    esp: { packets: number; verified: number; icvFailed: number; replayed: number; noKeys: number; malformed: number };
    registrations: number;
    saSets: number;
    findings: Record<'info' | 'warning' | 'error', number>;
    problems: number;
  };
  keys: { akaVectors: number; sasDerived: number; sasGiven: number };
  ladder: LadderLine[];
  ladderOmitted: number;
  registrations: Registration[];
  saSets: SaSet[];
  findings: Finding[];
  findingsOmitted: number;
  problems: FrameProblem[];
  problemsOmitted: number;
}

/** A ladder line as kept while reading: endpoints are named only at the end, when roles are known. */
type Pending = Omit<LadderLine, 'from' | 'to'> & { src: Endpoint; dst: Endpoint };

export class Analyzer {
  private readonly ring = new KeyRing();
  private readonly sink = new FindingSink();
  private readonly checker: Checker;
  private readonly decoder: PacketDecoder;
  private readonly ladder: Pending[] = [];
  private ladderOmitted = 0;
  private readonly problems: FrameProblem[] = [];
  private problemsOmitted = 0;
  private readonly captures: AnalysisReport['captures'] = [];
  private readonly counts = { frames: 0, sip: 0, diameter: 0, esp: { packets: 0, verified: 0, icvFailed: 0, replayed: 0, noKeys: 0, malformed: 0 } };
  private akaVectors = new Set<string>();
  private readonly ladderLimit: number;
  private readonly given: number;
  private readonly observe: AnalyzeOptions['observe'];

  constructor(opts: AnalyzeOptions = {}) {
    this.observe = opts.observe;
    this.ladderLimit = opts.ladderLimit ?? DEFAULT_LADDER_LIMIT;
    for (const sa of opts.keys ?? []) this.ring.addSa(sa, 'file');
    this.given = opts.keys?.length ?? 0;
    this.checker = new Checker(this.ring, this.sink, { stallMs: opts.stallMs });
    this.decoder = new PacketDecoder(this.ring, {
      // Core-side SIP that no check needs is parsed only while the ladder still shows messages.
      wantsSip: (src, dst, bytes) => this.observe?.sip !== undefined || this.ladder.length < this.ladderLimit || this.checker.needs(src, dst, bytes),
      sipSkipped: () => this.counts.sip++,
      sip: (ev) => this.onSip(ev),
      diameter: (ev) => this.onDiameter(ev),
      esp: (ev) => this.onEsp(ev),
      problem: (p) => this.onProblem(p),
    });
  }

  /** Feeds one frame. */
  frame(f: CaptureFrame): void {
    this.counts.frames++;
    this.decoder.frame(f);
  }

  /** Records that a capture file was read completely. */
  capture(file: string, frames: number, bytes: number): void {
    this.captures.push({ file, frames, bytes });
  }

  private keep(ev: SipEvent | DiameterEvent, kind: 'sip' | 'diameter'): void {
    if (this.ladder.length < this.ladderLimit) this.ladder.push(this.line(ev, kind, this.ladder.length + 1));
    else this.ladderOmitted++;
  }

  private onSip(ev: SipEvent): void {
    this.counts.sip++;
    this.observe?.sip?.(ev);
    this.checker.sip(ev);
    this.keep(ev, 'sip');
  }

  private onDiameter(ev: DiameterEvent): void {
    this.counts.diameter++;
    this.observe?.diameter?.(ev);
    this.checker.diameter(ev);
    if (ev.message.commandCode === 303 && !isDiameterRequest(ev.message)) this.akaVectors.add(`${ev.message.hopByHop}|${ev.message.endToEnd}`);
    if (![257, 280, 282].includes(ev.message.commandCode)) this.keep(ev, 'diameter');
  }

  private onEsp(ev: EspEvent): void {
    const e = this.counts.esp;
    e.packets++;
    if (ev.outcome === 'ok') e.verified++;
    else if (ev.outcome === 'icv') e.icvFailed++;
    else if (ev.outcome === 'replay' || ev.outcome === 'too-old') e.replayed++;
    else if (ev.outcome === 'no-sa') e.noKeys++;
    else e.malformed++;
    this.checker.esp(ev);
  }

  private onProblem(p: FrameProblem): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(p);
    else this.problemsOmitted++;
  }

  /** The esp_sa records of every SA derived from the capture's keys (secret). */
  exportLines(): string[] {
    return this.ring.derivedSas().map(exportLine);
  }

  private name(e: Endpoint): string {
    const role = this.checker.roles.get(`${e.address}|${e.port}`);
    const addr = e.address.includes(':') ? `[${e.address}]` : e.address;
    return role ? `${role} ${addr}:${e.port}` : `${addr}:${e.port}`;
  }

  private line(ev: SipEvent | DiameterEvent, kind: 'sip' | 'diameter', n: number): Pending {
    const base = { n, frames: ev.frames, at: ev.at, src: ev.src, dst: ev.dst, transport: ev.transport };
    if (kind === 'diameter') {
      const m = (ev as DiameterEvent).message;
      const req = isDiameterRequest(m);
      const names = DIAMETER_COMMANDS[m.commandCode] ?? OTHER_COMMANDS[m.commandCode];
      const command = names ? names[req ? 0 : 1] : `${req ? 'request' : 'answer'} ${m.commandCode} (app ${m.applicationId})`;
      let result: { code: number; vendorId?: number } | undefined;
      try {
        result = req ? undefined : readResult(m.avps);
      } catch {
        result = undefined;
      }
      const application = APPLICATIONS[m.applicationId] ?? `app ${m.applicationId}`;
      return { ...base, kind: 'diameter', summary: command, notes: diameterNotes(m), diameter: { command, request: req, code: m.commandCode, application, ...(result ? { result } : {}) } };
    }
    const s = ev as SipEvent;
    const m = s.message;
    const c = cseq(m)?.method;
    const summary = m.kind === 'request' ? `${m.method} ${m.uri.length > 40 ? `${m.uri.slice(0, 37)}...` : m.uri}` : `${m.status} ${m.reason}${c ? ` (${c})` : ''}`;
    const sip = m.kind === 'request' ? { method: m.method, ...(c ? { cseqMethod: c } : {}) } : { status: m.status, ...(c ? { cseqMethod: c } : {}) };
    const esp = s.protection ? { spi: s.protection.spi, seq: s.protection.seq, ...(s.protection.setId !== undefined ? { set: s.protection.setId } : {}) } : undefined;
    return { ...base, kind: 'sip', summary, notes: sipNotes(m), sip, ...(esp ? { esp } : {}) };
  }

  /** Ends the analysis (open stalls are reported) and builds the report. */
  finish(): AnalysisReport {
    this.checker.finish();
    const findings = this.sink.finish();
    const sev = { info: 0, warning: 0, error: 0 };
    for (const f of findings) sev[f.severity]++;
    const sets = this.checker.table.all();
    return {
      schema: ANALYZE_SCHEMA,
      captures: this.captures,
      summary: { frames: this.counts.frames, sip: this.counts.sip, diameter: this.counts.diameter, esp: { ...this.counts.esp }, registrations: this.checker.registrations.length, saSets: sets.length, findings: sev, problems: this.problems.length + this.problemsOmitted },
      keys: { akaVectors: this.akaVectors.size, sasDerived: this.ring.derivedSas().length, sasGiven: this.given },
      ladder: this.ladder.map(({ src, dst, ...l }) => ({ ...l, frames: [...l.frames].sort((a, b) => a - b), from: this.name(src), to: this.name(dst) })),
      ladderOmitted: this.ladderOmitted,
      registrations: this.checker.registrations,
      saSets: sets,
      findings,
      findingsOmitted: this.sink.dropped,
      problems: this.problems,
      problemsOmitted: this.problemsOmitted,
    };
  }
}
