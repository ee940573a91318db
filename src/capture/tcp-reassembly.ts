/**
 * TCP stream reassembly for capture analysis (RFC 9293 §3.4 sequence space): per direction of a
 * connection, the bytes in order, each run with the frame that carried it. Retransmitted and
 * duplicate segments (the same packet captured at several points) add nothing; a segment ahead of
 * the next expected byte waits, bounded per stream ({@link MAX_OUT_OF_ORDER_BYTES}); when the
 * bound is hit the stream skips the gap and says so, so the consumer can resynchronise. The number
 * of streams is bounded too ({@link MAX_STREAMS}, oldest dropped first). Pure.
 */
import { TCP_FIN, TCP_RST, TCP_SYN } from '../ip/index.js';

export const MAX_STREAMS = 20_000;
export const MAX_OUT_OF_ORDER_BYTES = 256 * 1024;
const MAX_OUT_OF_ORDER_SEGMENTS = 128;

/** In-order bytes delivered for one stream, or a gap the stream skipped. */
export type TcpDelivery = { kind: 'data'; bytes: Uint8Array; frame: number } | { kind: 'gap'; missing: number };

interface Held {
  seq: number;
  bytes: Uint8Array;
  frame: number;
}

interface Stream {
  next: number;
  held: Held[];
  heldBytes: number;
}

/** seq a - seq b in the 32-bit sequence space (RFC 9293 §3.4). */
function diff(a: number, b: number): number {
  return ((a - b) | 0);
}

/** Reassembles every TCP stream of a capture (see the module comment). */
export class TcpReassembler {
  private readonly streams = new Map<string, Stream>();
  /** Streams dropped because of {@link MAX_STREAMS}. */
  evicted = 0;

  get streamCount(): number {
    return this.streams.size;
  }

  /**
   * Feeds one segment of the stream `key` (one direction of one connection). Returns what became
   * deliverable, in order. `closed` is true after FIN or RST, when the stream is forgotten.
   */
  push(key: string, seg: { seq: number; flags: number; payload: Uint8Array; frame: number }): { out: TcpDelivery[]; closed: boolean } {
    const out: TcpDelivery[] = [];
    let s = this.streams.get(key);
    const syn = (seg.flags & TCP_SYN) !== 0;
    if (!s || syn) {
      if (!s && this.streams.size >= MAX_STREAMS) {
        this.streams.delete(this.streams.keys().next().value as string);
        this.evicted++;
      }
      // A stream seen from its SYN starts after it; one joined midway starts at this segment.
      s = { next: syn ? (seg.seq + 1) >>> 0 : seg.seq, held: [], heldBytes: 0 };
      this.streams.set(key, s);
    }
    const dataSeq = syn ? (seg.seq + 1) >>> 0 : seg.seq;
    if (seg.payload.length > 0) this.accept(s, { seq: dataSeq, bytes: seg.payload, frame: seg.frame }, out);
    const closed = (seg.flags & (TCP_FIN | TCP_RST)) !== 0;
    if (closed) this.streams.delete(key);
    return { out, closed };
  }

  private accept(s: Stream, h: Held, out: TcpDelivery[]): void {
    let d = diff(h.seq, s.next);
    if (d < 0) {
      // Retransmission or duplicate: keep only bytes beyond what was delivered.
      if (-d >= h.bytes.length) return;
      h = { seq: s.next, bytes: h.bytes.subarray(-d), frame: h.frame };
      d = 0;
    }
    if (d > 0) {
      if (s.held.some((x) => x.seq === h.seq && x.bytes.length >= h.bytes.length)) return;
      s.held.push({ seq: h.seq, bytes: Uint8Array.from(h.bytes), frame: h.frame });
      s.heldBytes += h.bytes.length;
      if (s.heldBytes > MAX_OUT_OF_ORDER_BYTES || s.held.length > MAX_OUT_OF_ORDER_SEGMENTS) {
        // Give up on the missing bytes: skip to the earliest held segment.
        s.held.sort((a, b) => diff(a.seq, b.seq));
        out.push({ kind: 'gap', missing: diff(s.held[0].seq, s.next) });
        s.next = s.held[0].seq;
        this.drain(s, out);
      }
      return;
    }
    out.push({ kind: 'data', bytes: h.bytes, frame: h.frame });
    s.next = (s.next + h.bytes.length) >>> 0;
    this.drain(s, out);
  }

  private drain(s: Stream, out: TcpDelivery[]): void {
    for (let progress = true; progress && s.held.length > 0; ) {
      progress = false;
      for (let i = 0; i < s.held.length; i++) {
        const h = s.held[i];
        const d = diff(h.seq, s.next);
        if (d > 0) continue;
        s.held.splice(i, 1);
        s.heldBytes -= h.bytes.length;
        if (-d < h.bytes.length) {
          out.push({ kind: 'data', bytes: h.bytes.subarray(-d), frame: h.frame });
          s.next = (s.next + h.bytes.length + d) >>> 0;
        }
        progress = true;
        break;
      }
    }
  }
}
