/**
 * Capture duplicates: a capture taken on a core host ("any" interface, GTP-U on S1-U plus the
 * decapsulated copy, a bridge and a tunnel) holds the same IP packet several times. A copy is the
 * same packet (addresses, IPv4 Identification, same upper-layer bytes) seen again within
 * {@link DUPLICATE_WINDOW_MS} along another capture path (interface or encapsulation). The same
 * packet again on the same path is not a capture duplicate: it was sent twice (a SIP
 * retransmission, or an ESP replay the checks must see).
 */
export const DUPLICATE_WINDOW_MS = 1000;
const MAX_ENTRIES = 50_000;

interface Seen {
  path: string;
  at: number;
  frames: number[];
}

/**
 * FNV-1a over the first 128 and the last 64 bytes (fast, not cryptographic: only to tell packets
 * apart; with the length, addresses and IPv4 Identification in the key). ESP packets differ in
 * their sequence number (head) and ICV (tail); SIP messages in their start line and Via (head).
 */
export function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  const head = Math.min(b.length, 128);
  for (let i = 0; i < head; i++) h = Math.imul(h ^ b[i], 0x01000193);
  for (let i = Math.max(head, b.length - 64); i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

export class DuplicateFilter {
  private readonly seen = new Map<string, Seen>();
  private sincePrune = 0;

  /**
   * The frames array of the first copy when this packet is a capture duplicate (the caller adds
   * its frame to it); otherwise undefined, and `frames` is remembered as this packet's.
   */
  check(key: string, path: string, at: number, frames: number[]): number[] | undefined {
    const s = this.seen.get(key);
    if (s && s.path !== path && at - s.at <= DUPLICATE_WINDOW_MS) return s.frames;
    if (s) this.seen.delete(key);
    this.seen.set(key, { path, at, frames });
    if (++this.sincePrune >= 1024 || this.seen.size > MAX_ENTRIES) this.prune(at);
    return undefined;
  }

  /** Forgets packets older than the window (the map is in arrival order), and the excess. */
  private prune(now: number): void {
    this.sincePrune = 0;
    for (const [k, s] of this.seen) {
      if (now - s.at <= DUPLICATE_WINDOW_MS && this.seen.size <= MAX_ENTRIES) break;
      this.seen.delete(k);
    }
  }
}
