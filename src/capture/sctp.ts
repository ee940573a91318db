/**
 * SCTP (RFC 9260 §3): the common header and the DATA chunks (type 0, §3.3.1) whose user data
 * carries Diameter (PPID 46, RFC 6733 §2.1) or anything else. Fragmented user messages (B/E flags)
 * are joined per stream in TSN order with a bounded buffer; other chunks are skipped. Pure.
 * ```
 * | Source Port (2) | Destination Port (2) | Verification Tag (4) | Checksum (4) |
 * chunk: | Type (1) | Flags (1) | Length (2) | value ... padded to 4 |
 * DATA:  | 0 | U B E | Length | TSN (4) | Stream Identifier (2) | Stream Seq (2) | PPID (4) | data |
 * ```
 */
import { ImsError } from '../common/index.js';

export const SCTP_PPID_DIAMETER = 46;
const DATA = 0;
const MAX_MESSAGE_BYTES = 1024 * 1024;
const MAX_ASSEMBLIES = 1024;

export class SctpError extends ImsError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super('PCAP', message);
  }
}

export interface SctpDataChunk {
  tsn: number;
  stream: number;
  ppid: number;
  begin: boolean;
  end: boolean;
  data: Uint8Array;
}

export interface SctpPacket {
  srcPort: number;
  dstPort: number;
  data: SctpDataChunk[];
}

/** Decodes an SCTP packet (the IP payload): ports and the DATA chunks. */
export function decodeSctp(b: Uint8Array): SctpPacket {
  if (b.length < 12) throw new SctpError(`SCTP packet of ${b.length} byte(s) is shorter than 12`, 0);
  const data: SctpDataChunk[] = [];
  let at = 12;
  while (at + 4 <= b.length) {
    const type = b[at];
    const flags = b[at + 1];
    const len = (b[at + 2] << 8) | b[at + 3];
    if (len < 4 || at + len > b.length) throw new SctpError(`SCTP chunk length ${len} does not fit`, at + 2);
    if (type === DATA) {
      if (len < 16) throw new SctpError(`SCTP DATA chunk of ${len} bytes is shorter than 16`, at);
      data.push({
        tsn: ((b[at + 4] << 24) | (b[at + 5] << 16) | (b[at + 6] << 8) | b[at + 7]) >>> 0,
        stream: (b[at + 8] << 8) | b[at + 9],
        ppid: ((b[at + 12] << 24) | (b[at + 13] << 16) | (b[at + 14] << 8) | b[at + 15]) >>> 0,
        begin: (flags & 2) !== 0,
        end: (flags & 1) !== 0,
        data: b.subarray(at + 16, at + len),
      });
    }
    at += (len + 3) & ~3;
  }
  return { srcPort: (b[0] << 8) | b[1], dstPort: (b[2] << 8) | b[3], data };
}

/** Joins fragmented SCTP user messages (B … E in consecutive TSNs) per association and stream. */
export class SctpAssembler {
  private readonly partial = new Map<string, { nextTsn: number; parts: Uint8Array[]; bytes: number }>();

  /** Feeds one DATA chunk of the association `assoc`; returns the whole user message when complete. */
  push(assoc: string, c: SctpDataChunk): Uint8Array | undefined {
    if (c.begin && c.end) return c.data;
    const k = `${assoc}|${c.stream}`;
    if (c.begin) {
      if (this.partial.size >= MAX_ASSEMBLIES) this.partial.delete(this.partial.keys().next().value as string);
      this.partial.set(k, { nextTsn: (c.tsn + 1) >>> 0, parts: [Uint8Array.from(c.data)], bytes: c.data.length });
      return undefined;
    }
    const p = this.partial.get(k);
    if (!p || p.nextTsn !== c.tsn || p.bytes + c.data.length > MAX_MESSAGE_BYTES) {
      this.partial.delete(k);
      return undefined;
    }
    p.parts.push(Uint8Array.from(c.data));
    p.bytes += c.data.length;
    p.nextTsn = (c.tsn + 1) >>> 0;
    if (!c.end) return undefined;
    this.partial.delete(k);
    return Buffer.concat(p.parts);
  }
}
