/**
 * IP fragment reassembly for capture analysis: IPv4 (RFC 791 §3.2, fragment offset in 8-byte
 * units, MF flag) and IPv6 (RFC 8200 §4.5, Fragment header 44). SIP over UDP easily exceeds the
 * MTU (a REGISTER with Security-Client and a long Contact, a 200 OK with P-Associated-URI), so
 * its datagrams arrive in pieces. Memory is bounded: at most {@link MAX_PENDING} datagrams in
 * progress, {@link MAX_FRAGMENTS} pieces each, 65535 bytes each, dropped after
 * {@link FRAGMENT_TIMEOUT_MS} of capture time (RFC 791 suggests 15 s; 60 s in RFC 8200 §4.5).
 * The output is a whole IP packet without fragmentation (header rebuilt, payload joined). Pure.
 */
import { decodeIpv4, IpParseError } from '../ip/index.js';

export const MAX_PENDING = 256;
export const MAX_FRAGMENTS = 64;
export const FRAGMENT_TIMEOUT_MS = 60_000;
const IPV6_FRAGMENT = 44;
const IPV6_EXT = new Set([0, 43, 60, 51]);

interface Piece {
  offset: number;
  bytes: Uint8Array;
}

interface Pending {
  firstSeenMs: number;
  /** Header of the packet to rebuild (IPv4: header of offset 0; IPv6: the 40-byte fixed header). */
  header?: Uint8Array;
  nextHeader: number;
  total: number;
  pieces: Piece[];
  /** The frames that carried pieces. */
  frames: number[];
}

/** Where an IP packet stands: whole (no fragmentation), completed by this piece, or pending. */
export type FragmentResult = { kind: 'whole'; packet: Uint8Array } | { kind: 'complete'; packet: Uint8Array; frames: number[] } | { kind: 'pending' } | { kind: 'dropped'; reason: string };

/** The IPv6 Fragment header, if any: its offset in the packet and the fields after it. */
function ipv6Fragment(b: Uint8Array): { at: number; next: number; offset: number; more: boolean; id: number } | undefined {
  if (b.length < 40) throw new IpParseError(`IPv6 packet of ${b.length} byte(s) is shorter than 40`, 0);
  let nh = b[6];
  let at = 40;
  for (let hops = 0; hops < 16 && at + 8 <= b.length; hops++) {
    if (nh === IPV6_FRAGMENT) {
      const off = ((b[at + 2] << 8) | b[at + 3]) & 0xfff8;
      return { at, next: b[at], offset: off, more: (b[at + 3] & 1) === 1, id: ((b[at + 4] << 24) | (b[at + 5] << 16) | (b[at + 6] << 8) | b[at + 7]) >>> 0 };
    }
    if (!IPV6_EXT.has(nh)) return undefined;
    const len = nh === 51 ? (b[at + 1] + 2) * 4 : (b[at + 1] + 1) * 8;
    nh = b[at];
    at += len;
  }
  return undefined;
}

function key(b: Uint8Array, v: 4 | 6, id: number, proto: number): string {
  const a = v === 4 ? b.subarray(12, 20) : b.subarray(8, 40);
  return `${v}|${Buffer.from(a.buffer, a.byteOffset, a.length).toString('latin1')}|${id}|${proto}`;
}

/** Reassembles IP fragments across frames (see the module comment). */
export class IpReassembler {
  private readonly pending = new Map<string, Pending>();
  /** Datagrams given up on (timeout, overlap, limits). */
  dropped = 0;

  /** Fragments held (for tests and memory checks). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Feeds one IP packet (IPv4 or IPv6) seen at `atMs` in frame `frame`. Throws IpParseError when malformed. */
  push(packet: Uint8Array, atMs: number, frame: number): FragmentResult {
    this.expire(atMs);
    const v = packet.length > 0 ? packet[0] >>> 4 : 0;
    // Fast path: an IPv4 packet with MF clear and offset 0 is whole (the caller decodes it).
    if (v === 4 && packet.length >= 20 && (packet[6] & 0x3f) === 0 && packet[7] === 0) return { kind: 'whole', packet };
    if (v === 4) {
      const p = decodeIpv4(packet, { verifyChecksum: false });
      if (!p.moreFragments && p.fragmentOffset === 0) return { kind: 'whole', packet: packet.subarray(0, p.headerLength + p.payload.length) };
      const k = key(packet, 4, p.id, p.protocol);
      const header = p.fragmentOffset === 0 ? packet.subarray(0, p.headerLength) : undefined;
      return this.add(k, atMs, frame, p.fragmentOffset, p.moreFragments, p.payload, header, p.protocol, 4);
    }
    if (v === 6) {
      const f = ipv6Fragment(packet);
      const plen = (packet[4] << 8) | packet[5];
      if (!f) return { kind: 'whole', packet };
      const end = Math.min(packet.length, 40 + plen);
      if (f.at + 8 > end) throw new IpParseError('IPv6 Fragment header truncated', f.at);
      return this.add(key(packet, 6, f.id, f.next), atMs, frame, f.offset, f.more, packet.subarray(f.at + 8, end), packet.subarray(0, 40), f.next, 6);
    }
    throw new IpParseError(`IP version ${v} is neither 4 nor 6`, 0);
  }

  private add(k: string, atMs: number, frame: number, offset: number, more: boolean, bytes: Uint8Array, header: Uint8Array | undefined, next: number, v: 4 | 6): FragmentResult {
    let p = this.pending.get(k);
    if (!p) {
      if (this.pending.size >= MAX_PENDING) {
        const oldest = this.pending.keys().next().value as string;
        this.pending.delete(oldest);
        this.dropped++;
      }
      p = { firstSeenMs: atMs, nextHeader: next, total: -1, pieces: [], frames: [] };
      this.pending.set(k, p);
    }
    const drop = (reason: string): FragmentResult => {
      this.pending.delete(k);
      this.dropped++;
      return { kind: 'dropped', reason };
    };
    if (offset + bytes.length > 65535) return drop('fragment beyond 65535 bytes');
    if (p.pieces.length >= MAX_FRAGMENTS) return drop(`more than ${MAX_FRAGMENTS} fragments`);
    if (more && bytes.length % 8 !== 0) return drop('a non-final fragment whose length is not a multiple of 8');
    if (p.pieces.some((x) => x.offset === offset)) return { kind: 'pending' }; // a duplicate piece
    p.pieces.push({ offset, bytes: Uint8Array.from(bytes) });
    p.frames.push(frame);
    if (header && !p.header) p.header = Uint8Array.from(header);
    if (!more) p.total = offset + bytes.length;
    if (p.total < 0 || !p.header) return { kind: 'pending' };
    p.pieces.sort((a, b) => a.offset - b.offset);
    let covered = 0;
    for (const x of p.pieces) {
      if (x.offset > covered) return { kind: 'pending' };
      if (x.offset < covered) return drop('overlapping fragments');
      covered = x.offset + x.bytes.length;
    }
    if (covered !== p.total) return drop('fragments beyond the last one');
    this.pending.delete(k);
    return { kind: 'complete', packet: rebuild(p, v), frames: p.frames };
  }

  private expire(nowMs: number): void {
    for (const [k, p] of this.pending) {
      if (nowMs - p.firstSeenMs <= FRAGMENT_TIMEOUT_MS) break;
      this.pending.delete(k);
      this.dropped++;
    }
  }
}

function rebuild(p: Pending, v: 4 | 6): Uint8Array {
  const h = p.header!;
  const hl = v === 4 ? h.length : 40;
  const out = new Uint8Array(hl + p.total);
  out.set(h.subarray(0, hl));
  for (const x of p.pieces) out.set(x.bytes, hl + x.offset);
  if (v === 4) {
    const total = hl + p.total;
    out[2] = total >>> 8;
    out[3] = total & 0xff;
    out[6] &= 0x40; // keep DF, clear MF and the offset
    out[7] = 0;
  } else {
    out[4] = p.total >>> 8;
    out[5] = p.total & 0xff;
    out[6] = p.nextHeader;
  }
  return out;
}
