/**
 * The message ladder of the demo: each packet of a {@link WireTap} trace decoded into one line per
 * message — who sent what to whom. SIP (RFC 3261) from UDP datagrams or TCP streams, Diameter
 * (RFC 6733 framing, TS 29.229 Cx commands) from TCP streams, and the SIP inside ESP-in-UDP
 * (RFC 3948 tunnel mode, TS 33.203 `mod=UDP-enc-tun`) opened with a private copy of the SA, as
 * Wireshark does with the exported keys. Pure decoding with per-flow state; no I/O. Nothing
 * secret is ever put into a line (the 401's ik/ck are reported as present, never shown).
 */
import type { WirePacket } from '../../capture/index.js';
import { endpointId } from '../../capture/index.js';
import { DiameterFramer, findAvp, getValue, isRequest as isDiameterRequest, readResult, ResultCode, valueOf, type DiameterMessage, CxExperimentalResultCode, ServerAssignmentType, UserAuthorizationType } from '../../diameter/index.js';
import { decodeUdp, IPPROTO_UDP, type Endpoint } from '../../ip/index.js';
import { EspSa } from '../../ipsec/esp/index.js';
import type { SecurityAssociation } from '../../ipsec/sa/index.js';
import { decapsulate } from '../../ipsec/udp-encap/index.js';
import { parseMessage, SipStreamFramer, type SipMessage } from '../../sip/index.js';

/** One message of the ladder. */
export interface LadderEntry {
  /** Trace order (the packet's sequence number). */
  readonly seq: number;
  readonly at: number;
  readonly from: string;
  readonly to: string;
  readonly kind: 'sip' | 'diameter';
  readonly proto: 'udp' | 'tcp';
  /** `REGISTER sip:ims.lab`, `401 Unauthorized`, `MAR`, `MAA` … */
  readonly summary: string;
  /** What matters for IMS access security in this message (headers present, Cx types, results). */
  readonly notes: string[];
  /** Set when the message travelled inside ESP: the SPI and sequence number of the packet. */
  readonly esp?: { spi: number; seq: number };
  readonly sip?: { method?: string; status?: number; cseqMethod?: string };
  /** `application` names the Diameter interface when it is not Cx (Gx, Rx, …). */
  readonly diameter?: { command: string; request: boolean; code: number; result?: { code: number; vendorId?: number }; application?: string };
  /** The whole message as text, when {@link LadderOptions.render} is given (the console). */
  readonly text?: string;
}

/**
 * An ESP packet in transport mode as captured on the link (RFC 4303 §3.1.1, TS 33.203 Annex H
 * `mod=trans`): the IP payload, with the packet's addresses. The kernel sealed it, so only the
 * capture sees it (the sockets see the SIP inside).
 */
export interface TransportEspPacket {
  /** The capture's frame number. */
  readonly seq: number;
  readonly at: number;
  readonly src: string;
  readonly dst: string;
  /** The ESP header onwards. */
  readonly esp: Uint8Array;
}

/** A packet the ladder could not read (counted, shown as such). */
export interface LadderProblem {
  readonly seq: number;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

export interface LadderOptions {
  /** The display name of an endpoint on a transport (undefined: `address:port`). */
  nameOf(e: Endpoint, proto: 'udp' | 'tcp'): string | undefined;
  /**
   * The SA an ESP packet with this SPI to this endpoint was sealed with (undefined when unknown).
   * Port 0: a transport-mode packet, whose ports are inside the encrypted part.
   */
  saFor(spi: number, to: Endpoint): SecurityAssociation | undefined;
  /** Also list Diameter base messages (CER/CEA, DWR/DWA, DPR/DPA). Default false. */
  diameterBase?: boolean;
  /** Renders each message's full text into the entry (the renderer removes secrets). */
  render?: { sip(bytes: Uint8Array): string; diameter(m: DiameterMessage): string };
}

/** RFC 6733 §3.1 and TS 29.229 §6.1: command code → request and answer abbreviations. */
export const DIAMETER_COMMANDS: Readonly<Record<number, readonly [string, string]>> = {
  257: ['CER', 'CEA'],
  280: ['DWR', 'DWA'],
  282: ['DPR', 'DPA'],
  300: ['UAR', 'UAA'],
  301: ['SAR', 'SAA'],
  302: ['LIR', 'LIA'],
  303: ['MAR', 'MAA'],
  304: ['RTR', 'RTA'],
  305: ['PPR', 'PPA'],
};
const BASE_COMMANDS = new Set([257, 280, 282]);

function reverse(o: Readonly<Record<string, number>>): Map<number, string> {
  return new Map(Object.entries(o).map(([k, v]) => [v, k]));
}
const BASE_RESULTS = reverse(ResultCode);
const CX_RESULTS = reverse(CxExperimentalResultCode);
const SAR_TYPES = reverse(ServerAssignmentType);
const UAR_TYPES = reverse(UserAuthorizationType);

/** `DIAMETER_FIRST_REGISTRATION (2001)`: the name in its namespace (RFC 6733 §7.1 or TS 29.229 §6.2). */
export function resultName(r: { code: number; vendorId?: number }): string {
  const name = r.vendorId ? CX_RESULTS.get(r.code) : BASE_RESULTS.get(r.code);
  return `${name ?? (r.vendorId ? `Experimental-Result ${r.vendorId}` : 'Result-Code')} (${r.code})`;
}

function firstLineOf(m: SipMessage): string {
  if (m.kind === 'request') {
    const uri = m.uri.length > 40 ? `${m.uri.slice(0, 37)}...` : m.uri;
    return `${m.method} ${uri}`;
  }
  return `${m.status} ${m.reason}`;
}

/** The IMS access security facts of a SIP message (RFC 3329 headers, TS 24.229 Authorization). */
export function sipNotes(m: SipMessage): string[] {
  const h = m.headers;
  const notes: string[] = [];
  if (h.has('Security-Client')) notes.push('Security-Client');
  if (h.has('Security-Server')) notes.push('Security-Server');
  if (h.has('Security-Verify')) notes.push('Security-Verify');
  const authz = h.get('Authorization');
  if (authz !== undefined) {
    const ip = /integrity-protected="?([a-z-]+)"?/i.exec(authz);
    if (/\bauts="?[^",]+/i.test(authz)) notes.push('AUTS (resync)');
    else if (/\bresponse=""/i.test(authz) && /\bnonce="[^"]+"/i.test(authz)) notes.push('empty response (auth failure)');
    else if (/\bresponse="[^"]+"/i.test(authz)) notes.push('AKA response');
    if (ip) notes.push(`integrity-protected=${ip[1]}`);
  }
  const www = h.get('WWW-Authenticate');
  if (www !== undefined) {
    notes.push(/algorithm="?AKAv2-MD5/i.test(www) ? 'AKAv2-MD5 challenge' : 'AKAv1-MD5 challenge');
    // TS 24.229 §5.4.1.2.1: the S-CSCF adds IK and CK for the P-CSCF, which removes them (R-AKA-6).
    if (/\bik="?[0-9a-f]/i.test(www) && /\bck="?[0-9a-f]/i.test(www)) notes.push('ik+ck for the P-CSCF');
  }
  if (m.kind === 'request' && m.method === 'REGISTER') {
    const exp = h.get('Expires');
    const contact = h.get('Contact') ?? '';
    if (exp?.trim() === '0' || /;\s*expires=0\b/i.test(contact)) notes.push('Expires 0: de-registration');
  }
  const pau = h.getAll('P-Associated-URI');
  if (pau.length > 0) {
    const uris = pau.flatMap((v) => v.split(',')).map((v) => v.trim().replace(/^<|>$/g, ''));
    notes.push(`P-Associated-URI ${uris.join(', ')}`);
  }
  return notes;
}

/** The Cx facts of a Diameter message. */
export function diameterNotes(m: DiameterMessage): string[] {
  const notes: string[] = [];
  try {
    if (isDiameterRequest(m)) {
      const uat = getValue(m.avps, 'User-Authorization-Type');
      if (uat !== undefined) notes.push(UAR_TYPES.get(Number(uat)) ?? `type ${uat}`);
      const sat = getValue(m.avps, 'Server-Assignment-Type');
      if (sat !== undefined) notes.push(SAR_TYPES.get(Number(sat)) ?? `type ${sat}`);
      const n = getValue(m.avps, 'SIP-Number-Auth-Items');
      if (m.commandCode === 303 && n !== undefined) notes.push(`${n} vector${n === 1 ? '' : 's'}`);
      const item = findAvp(m.avps, 'SIP-Auth-Data-Item');
      if (item && findAvp(valueOf(item, 'SIP-Auth-Data-Item'), 'SIP-Authorization')) notes.push('resync: RAND+AUTS');
    } else {
      const r = readResult(m.avps);
      if (r) notes.push(resultName(r));
    }
  } catch {
    // A message our dictionary cannot read is still shown, without notes.
  }
  return notes;
}

/** Decodes trace packets into ladder entries (see the module comment). */
export class LadderDecoder {
  private readonly sipFramers = new Map<string, SipStreamFramer>();
  private readonly diameterFramers = new Map<string, DiameterFramer>();
  private readonly espCopies = new Map<string, EspSa>();
  readonly problems: LadderProblem[] = [];

  constructor(private readonly opts: LadderOptions) {}

  private label(e: Endpoint, proto: 'udp' | 'tcp'): string {
    return this.opts.nameOf(e, proto) ?? `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}`;
  }

  /** The messages in one packet (none for a partial TCP segment or a hidden base message). */
  decode(p: WirePacket): LadderEntry[] {
    const from = this.label(p.from, p.proto);
    const to = this.label(p.to, p.proto);
    const base = { seq: p.seq, at: p.at, from, to, proto: p.proto };
    const problem = (reason: string): LadderEntry[] => {
      this.problems.push({ seq: p.seq, from, to, reason });
      return [];
    };
    const flow = `${endpointId(p.from)}>${endpointId(p.to)}`;
    try {
      if (p.kind === 'diameter') {
        let f = this.diameterFramers.get(flow);
        if (!f) this.diameterFramers.set(flow, (f = new DiameterFramer()));
        const out: LadderEntry[] = [];
        f.push(p.bytes, (m) => {
          if (BASE_COMMANDS.has(m.commandCode) && !this.opts.diameterBase) return;
          const req = isDiameterRequest(m);
          const names = DIAMETER_COMMANDS[m.commandCode];
          const command = names ? names[req ? 0 : 1] : `${req ? 'request' : 'answer'} ${m.commandCode}`;
          let result: { code: number; vendorId?: number } | undefined;
          try {
            result = req ? undefined : readResult(m.avps);
          } catch {
            result = undefined;
          }
          const text = this.opts.render?.diameter(m);
          out.push({ ...base, kind: 'diameter', summary: command, notes: diameterNotes(m), diameter: { command, request: req, code: m.commandCode, ...(result ? { result } : {}) }, ...(text !== undefined ? { text } : {}) });
        });
        return out;
      }
      let sipBytes: Uint8Array[];
      let esp: { spi: number; seq: number } | undefined;
      if (p.kind === 'esp') {
        const opened = this.openEsp(p.bytes, p.to, (copy) => decapsulate(copy, p.bytes));
        if (typeof opened === 'string') return problem(opened);
        esp = opened.esp;
        sipBytes = [opened.payload];
      } else if (p.proto === 'tcp') {
        let f = this.sipFramers.get(flow);
        if (!f) this.sipFramers.set(flow, (f = new SipStreamFramer()));
        sipBytes = [];
        f.push(p.bytes, (b) => sipBytes.push(b));
      } else {
        sipBytes = [p.bytes];
      }
      return this.sipEntries(base, sipBytes, esp);
    } catch (e) {
      return problem((e as Error).message);
    }
  }

  /**
   * The SIP message inside a transport-mode ESP packet (UDP inside, RFC 4303 §2.6 Next Header
   * 17), opened with a private copy of the SA: every ICV is checked, as Wireshark does with the
   * exported keys. The ports come from the UDP header inside.
   */
  decodeTransportEsp(p: TransportEspPacket): LadderEntry[] {
    const problem = (from: string, to: string, reason: string): LadderEntry[] => {
      this.problems.push({ seq: p.seq, from, to, reason });
      return [];
    };
    try {
      const opened = this.openEsp(p.esp, { address: p.dst, port: 0 }, (copy) => copy.open(p.esp));
      if (typeof opened === 'string') return problem(p.src, p.dst, opened);
      if (opened.nextHeader !== IPPROTO_UDP) return problem(p.src, p.dst, `ESP carries protocol ${opened.nextHeader}, not UDP`);
      const udp = decodeUdp(opened.payload);
      const from = { address: p.src, port: udp.srcPort };
      const to = { address: p.dst, port: udp.dstPort };
      const base = { seq: p.seq, at: p.at, from: this.label(from, 'udp'), to: this.label(to, 'udp'), proto: 'udp' as const };
      try {
        return this.sipEntries(base, [udp.payload], opened.esp);
      } catch (e) {
        return problem(base.from, base.to, (e as Error).message);
      }
    } catch (e) {
      return problem(p.src, p.dst, (e as Error).message);
    }
  }

  /** Opens an ESP packet with a copy of its SA (found by SPI and destination); a string says why not. */
  private openEsp(
    bytes: Uint8Array,
    to: Endpoint,
    open: (copy: EspSa) => { ok: true; payload: Uint8Array; seq: number; nextHeader?: number } | { ok: false; reason: string },
  ): string | { esp: { spi: number; seq: number }; payload: Uint8Array; nextHeader: number } {
    if (bytes.length < 8) return 'ESP packet too short';
    const spi = new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(0);
    const sa = this.opts.saFor(spi, to);
    if (!sa) return `ESP spi 0x${spi.toString(16)}: no SA known`;
    let copy = this.espCopies.get(`${sa.id}|${sa.spi}`);
    if (!copy) {
      copy = new EspSa({ spi: sa.spi, integrity: sa.integrity, encryption: sa.encryption, keys: sa.keys });
      this.espCopies.set(`${sa.id}|${sa.spi}`, copy);
    }
    const r = open(copy);
    if (!r.ok) return `ESP spi 0x${spi.toString(16)}: ${r.reason}`;
    return { esp: { spi, seq: r.seq }, payload: r.payload, nextHeader: r.nextHeader ?? IPPROTO_UDP };
  }

  private sipEntries(base: Pick<LadderEntry, 'seq' | 'at' | 'from' | 'to' | 'proto'>, sipBytes: Uint8Array[], esp: { spi: number; seq: number } | undefined): LadderEntry[] {
    return sipBytes.flatMap((b) => {
      if (b.length <= 4 && b.every((x) => x === 13 || x === 10)) return []; // RFC 5626 keep-alive
      const m = parseMessage(b);
      const cseq = m.headers.get('CSeq')?.trim().split(/\s+/)[1];
      const sip = m.kind === 'request' ? { method: m.method, ...(cseq ? { cseqMethod: cseq } : {}) } : { status: m.status, ...(cseq ? { cseqMethod: cseq } : {}) };
      const summary = m.kind === 'response' && cseq ? `${firstLineOf(m)} (${cseq})` : firstLineOf(m);
      const text = this.opts.render?.sip(b);
      return [{ ...base, kind: 'sip' as const, summary, notes: sipNotes(m), sip, ...(esp ? { esp } : {}), ...(text !== undefined ? { text } : {}) }];
    });
  }
}
