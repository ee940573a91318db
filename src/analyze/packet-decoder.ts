/**
 * From frames to messages: link layer → IP (fragments joined) → GTP-U user packets → UDP, TCP
 * (streams reassembled), SCTP (DATA chunks) and ESP (opened through the key ring, transport or
 * tunnel mode, directly in IP or in UDP per RFC 3948) → SIP (found by content, on any port) and
 * Diameter. Capture duplicates (duplicates.ts) are merged into one message with several frames.
 * Every frame is processed as it comes and forgotten, except bounded reassembly state.
 */
import { CaptureFrame, decodeGtpu, isSupportedLinktype, decodeSctp, GTPU_PORT, IpReassembler, linkPayload, SctpAssembler, TcpReassembler, SCTP_PPID_DIAMETER } from '../capture/index.js';
import { DiameterFramer, decodeMessage as decodeDiameter } from '../diameter/index.js';
import { decodeIpv4, decodeIpv6, decodeTcp, decodeUdp, formatIp, TCP_FIN, TCP_RST } from '../ip/index.js';
import { parseMessage, SipStreamFramer } from '../sip/index.js';
import { DuplicateFilter, fnv1a } from './duplicates.js';
import type { KeyRing } from './key-ring.js';
import type { DiameterEvent, Endpoint, EspEvent, FrameProblem, Protection, SipEvent } from './types.js';

export interface DecoderSink {
  /**
   * Whether a SIP message in the clear needs parsing (undefined: always). A message not needed
   * is only counted through {@link DecoderSink.sipSkipped}.
   */
  wantsSip?(src: Endpoint, dst: Endpoint, bytes: Uint8Array): boolean;
  sipSkipped?(): void;
  sip(ev: SipEvent): void;
  diameter(ev: DiameterEvent): void;
  esp(ev: EspEvent): void;
  problem(p: FrameProblem): void;
}

/** Where an IP packet sits: its frame, capture path (interface, encapsulations) and protection. */
interface Ctx {
  frame: number;
  frames: number[];
  at: number;
  path: string;
  depth: number;
  protection?: Protection;
}

interface StreamApp {
  kind: 'unknown' | 'sip' | 'diameter' | 'other';
  tries: number;
  sip?: SipStreamFramer;
  diameter?: DiameterFramer;
  frames: number[];
}

const MAX_STREAM_APPS = 20_000;
const MAX_DEPTH = 4;
const IPPROTO = { TCP: 6, UDP: 17, ESP: 50, SCTP: 132, IPV4: 4, IPV6: 41 } as const;
export const IPSEC_NAT_T_PORT = 4500;

const SIP_VERSION = [0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30]; // "SIP/2.0"

function sipVersionAt(b: Uint8Array, at: number): boolean {
  if (at < 0 || at + 7 > b.length) return false;
  for (let i = 0; i < 7; i++) if (b[at + i] !== SIP_VERSION[i]) return false;
  return true;
}

/** RFC 3261 §7.1/§7.2: a start line `METHOD SP URI SP SIP/2.0` or `SIP/2.0 SP code` (bytes only, no strings). */
export function looksLikeSip(b: Uint8Array): boolean {
  let i = 0;
  while (i < b.length && i < 4 && (b[i] === 13 || b[i] === 10)) i++;
  if (i >= b.length || b[i] < 0x41 || b[i] > 0x5a) return false;
  if (sipVersionAt(b, i)) return b[i + 7] === 0x20;
  const end = Math.min(b.length, i + 1024);
  let eol = i;
  while (eol < end && b[eol] !== 13 && b[eol] !== 10) eol++;
  return eol < end && b[eol - 8] === 0x20 && sipVersionAt(b, eol - 7);
}

/** RFC 6733 §3: version 1, a length that is a multiple of 4 and at least 20, no reserved flags. */
export function looksLikeDiameter(b: Uint8Array): boolean {
  if (b.length < 20 || b[0] !== 1) return false;
  const len = (b[1] << 16) | (b[2] << 8) | b[3];
  return len >= 20 && len % 4 === 0 && (b[4] & 0x0f) === 0;
}

export class PacketDecoder {
  private readonly fragments = new IpReassembler();
  private readonly tcp = new TcpReassembler();
  private readonly sctp = new SctpAssembler();
  private readonly dups = new DuplicateFilter();
  private readonly apps = new Map<string, StreamApp>();
  private readonly unsupported = new Set<number>();

  constructor(
    private readonly keys: KeyRing,
    private readonly sink: DecoderSink,
  ) {}

  /** Decodes one frame (never throws: what cannot be read becomes a {@link FrameProblem}). */
  frame(f: CaptureFrame): void {
    const frames = [f.number];
    if (!isSupportedLinktype(f.linktype)) {
      // Said once per link type, at its first frame.
      if (!this.unsupported.has(f.linktype)) this.sink.problem({ frame: f.number, reason: `link type ${f.linktype} is not supported: its frames are skipped` });
      this.unsupported.add(f.linktype);
      return;
    }
    try {
      const ip = linkPayload(f.linktype, f.data);
      if (!ip) return;
      this.ip(ip, { frame: f.number, frames, at: f.timestampMs, path: `if${f.interfaceId}`, depth: 0 });
    } catch (e) {
      this.sink.problem({ frame: f.number, reason: e instanceof Error ? e.message : String(e) });
    }
  }

  private ip(packet: Uint8Array, ctx: Ctx): void {
    if (packet.length === 0) return;
    const r = this.fragments.push(packet, ctx.at, ctx.frame);
    if (r.kind === 'pending') return;
    if (r.kind === 'dropped') {
      this.sink.problem({ frame: ctx.frame, reason: `IP fragments dropped: ${r.reason}` });
      return;
    }
    const whole = r.packet;
    let src: string;
    let dst: string;
    let proto: number;
    let payload: Uint8Array;
    let id = 0;
    if (whole[0] >>> 4 === 4) {
      const p = decodeIpv4(whole, { verifyChecksum: false });
      [src, dst, proto, payload, id] = [formatIp(p.src), formatIp(p.dst), p.protocol, p.payload, p.id];
    } else {
      const p = decodeIpv6(whole);
      [src, dst, proto, payload] = [formatIp(p.src), formatIp(p.dst), p.protocol, p.payload];
    }
    const c: Ctx = r.kind === 'complete' ? { ...ctx, frames: [ctx.frame, ...r.frames.filter((n) => n !== ctx.frame)] } : ctx;
    this.transport(src, dst, proto, payload, id, c);
  }

  /** Upper layer of an IP packet (or of ESP's transport-mode payload). */
  private transport(src: string, dst: string, proto: number, payload: Uint8Array, ipId: number, ctx: Ctx): void {
    switch (proto) {
      case IPPROTO.UDP:
        return this.udp(src, dst, payload, ipId, ctx);
      case IPPROTO.TCP:
        return this.tcpSegment(src, dst, payload, ctx);
      case IPPROTO.ESP:
        return this.esp(src, dst, payload, undefined, ipId, ctx);
      case IPPROTO.SCTP:
        return this.sctpPacket(src, dst, payload, ctx);
      case IPPROTO.IPV4:
      case IPPROTO.IPV6:
        if (ctx.depth < MAX_DEPTH) this.ip(payload, { ...ctx, depth: ctx.depth + 1, path: `${ctx.path}/ip:${src}>${dst}` });
        return;
      default:
        return;
    }
  }

  /** True when this packet is a capture duplicate (its frame is added to the first copy's). */
  private duplicate(key: string, ctx: Ctx): boolean {
    const first = this.dups.check(key, ctx.path, ctx.at, ctx.frames);
    if (!first) return false;
    if (first !== ctx.frames) for (const n of ctx.frames) if (!first.includes(n)) first.push(n);
    return true;
  }

  private udp(src: string, dst: string, b: Uint8Array, ipId: number, ctx: Ctx): void {
    const u = decodeUdp(b);
    const p = u.payload;
    if ((u.dstPort === GTPU_PORT || u.srcPort === GTPU_PORT) && ctx.depth < MAX_DEPTH && p.length >= 8 && p[0] >>> 5 === 1) {
      const g = decodeGtpu(p);
      if (g.payload && g.payload.length > 0) this.ip(g.payload, { ...ctx, depth: ctx.depth + 1, path: `${ctx.path}/gtp:${src}>${dst}#${g.teid}` });
      return;
    }
    if (p.length >= 16 && !ctx.protection) {
      const spi = ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
      const natT = (u.dstPort === IPSEC_NAT_T_PORT || u.srcPort === IPSEC_NAT_T_PORT) && spi !== 0;
      // An SPI negotiated in the capture, unless the datagram reads as SIP (its first byte a capital).
      if (natT || (this.keys.knowsSpi(spi) && ((p[0] < 0x41 || p[0] > 0x5a) || !looksLikeSip(p)))) return this.esp(src, dst, p, { src: u.srcPort, dst: u.dstPort }, ipId, ctx);
    }
    if (!looksLikeSip(p)) return;
    if (!ctx.protection && this.duplicate(`u|${src}|${dst}|${u.srcPort}|${u.dstPort}|${ipId}|${p.length}|${fnv1a(p)}`, ctx)) return;
    const from = { address: src, port: u.srcPort };
    const to = { address: dst, port: u.dstPort };
    if (!this.wanted(from, to, p, ctx)) return;
    const message = parseMessage(p);
    this.sink.sip({ frames: ctx.frames, at: ctx.at, src: from, dst: to, transport: 'udp', message, ...(ctx.protection ? { protection: ctx.protection } : {}) });
  }

  private wanted(src: Endpoint, dst: Endpoint, bytes: Uint8Array, ctx: Ctx): boolean {
    if (ctx.protection || !this.sink.wantsSip || this.sink.wantsSip(src, dst, bytes)) return true;
    this.sink.sipSkipped?.();
    return false;
  }

  private esp(src: string, dst: string, p: Uint8Array, ports: { src: number; dst: number } | undefined, ipId: number, ctx: Ctx): void {
    if (p.length < 8) {
      this.sink.problem({ frame: ctx.frame, reason: `ESP packet of ${p.length} byte(s) is shorter than its header` });
      return;
    }
    if (this.duplicate(`e|${src}|${dst}|${ipId}|${p.length}|${fnv1a(p)}`, ctx)) return;
    const opened = this.keys.open(dst, p);
    const spi = ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
    const ev: { -readonly [K in keyof EspEvent]: EspEvent[K] } = { frames: ctx.frames, at: ctx.at, src, dst, spi, seq: opened.seq, outcome: opened.outcome };
    if (ports) ev.ports = ports;
    if (opened.setId !== undefined) ev.setId = opened.setId;
    this.sink.esp(ev);
    if (opened.outcome !== 'ok' || !opened.payload || ctx.depth >= MAX_DEPTH) return;
    const protection: { -readonly [K in keyof Protection]: Protection[K] } = { spi, seq: opened.seq, encapsulation: ports ? 'udp' : 'ip' };
    if (opened.setId !== undefined) protection.setId = opened.setId;
    const inner: Ctx = { frame: ctx.frame, frames: ctx.frames, at: ctx.at, depth: ctx.depth + 1, protection, path: ctx.path };
    const nh = opened.nextHeader;
    if (nh === IPPROTO.IPV4 || nh === IPPROTO.IPV6) this.ip(opened.payload, inner);
    else if (nh === IPPROTO.UDP || nh === IPPROTO.TCP) this.transport(src, dst, nh, opened.payload, ipId, inner);
  }

  private tcpSegment(src: string, dst: string, b: Uint8Array, ctx: Ctx): void {
    const t = decodeTcp(b);
    const key = `${src}|${t.srcPort}|${dst}|${t.dstPort}`;
    const { out, closed } = this.tcp.push(key, { seq: t.seq, flags: t.flags, payload: t.payload, frame: ctx.frame });
    if (out.length === 0 && !closed) return;
    let app = this.apps.get(key);
    if (!app) {
      if (this.apps.size >= MAX_STREAM_APPS) this.apps.delete(this.apps.keys().next().value as string);
      app = { kind: 'unknown', tries: 0, frames: [] };
      this.apps.set(key, app);
    }
    const from: Endpoint = { address: src, port: t.srcPort };
    const to: Endpoint = { address: dst, port: t.dstPort };
    for (const d of out) {
      if (d.kind === 'gap') {
        // Bytes were lost: start over at the next segment that begins a message.
        app.kind = 'unknown';
        app.tries = 0;
        app.frames = [];
        continue;
      }
      this.streamData(app, d.bytes, d.frame, from, to, ctx);
    }
    if (closed || (t.flags & (TCP_FIN | TCP_RST)) !== 0) this.apps.delete(key);
  }

  private streamData(app: StreamApp, bytes: Uint8Array, frame: number, from: Endpoint, to: Endpoint, ctx: Ctx): void {
    if (app.kind === 'unknown') {
      if (looksLikeSip(bytes)) [app.kind, app.sip] = ['sip', new SipStreamFramer()];
      else if (looksLikeDiameter(bytes)) [app.kind, app.diameter] = ['diameter', new DiameterFramer()];
      else if (++app.tries >= 8) app.kind = 'other';
      if (app.kind === 'unknown' || app.kind === 'other') return;
    }
    if (app.kind === 'other') return;
    if (!app.frames.includes(frame)) app.frames.push(frame);
    const take = (): number[] => {
      const fr = app.frames;
      app.frames = [];
      return fr;
    };
    try {
      if (app.sip) {
        const framer = app.sip;
        framer.push(bytes, (m) => {
          if (m.length <= 4) return;
          const frames = take();
          if (!this.wanted(from, to, m, ctx)) return;
          const message = parseMessage(m);
          this.sink.sip({ frames, at: ctx.at, src: from, dst: to, transport: 'tcp', message, ...(ctx.protection ? { protection: ctx.protection } : {}) });
        });
        if (framer.buffered > 0) app.frames = [frame];
      } else if (app.diameter) {
        const framer = app.diameter;
        framer.push(
          bytes,
          (message) => this.sink.diameter({ frames: take(), at: ctx.at, src: from, dst: to, transport: 'tcp', message }),
          (err) => this.sink.problem({ frame, reason: `Diameter: ${err.message}` }),
        );
        if (framer.buffered > 0) app.frames = [frame];
      }
    } catch (e) {
      app.kind = 'unknown';
      app.sip = undefined;
      app.diameter = undefined;
      app.frames = [];
      this.sink.problem({ frame, reason: e instanceof Error ? e.message : String(e) });
    }
  }

  private sctpPacket(src: string, dst: string, b: Uint8Array, ctx: Ctx): void {
    const s = decodeSctp(b);
    const assoc = `${src}|${s.srcPort}|${dst}|${s.dstPort}`;
    for (const c of s.data) {
      const msg = this.sctp.push(assoc, c);
      if (!msg || (c.ppid !== SCTP_PPID_DIAMETER && !looksLikeDiameter(msg))) continue;
      if (!looksLikeDiameter(msg)) continue;
      try {
        const message = decodeDiameter(msg);
        this.sink.diameter({ frames: ctx.frames, at: ctx.at, src: { address: src, port: s.srcPort }, dst: { address: dst, port: s.dstPort }, transport: 'sctp', message });
      } catch (e) {
        this.sink.problem({ frame: ctx.frame, reason: `Diameter over SCTP: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
  }
}
