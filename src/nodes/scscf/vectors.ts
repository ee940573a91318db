/**
 * Authentication vectors held by the S-CSCF (TS 33.203 §6.1.1, TS 29.228 §6.3): the HSS sends
 * them in ordered batches (MAA, SIP-Item-Number 1..n); the S-CSCF keeps them per IMPI and uses
 * them first-in first-out, each at most once (R-AKA-2). A resynchronisation makes every vector
 * still held stale (their SQNs are behind the UE's), so they are dropped (TS 33.102 §6.3.5).
 *
 * Vectors are secrets (XRES, CK, IK): nothing here logs or formats them.
 */
import type { AkaVector } from '../../diameter/index.js';

/** One vector with the Digest AKA version its scheme calls for (RFC 3310 v1, RFC 4169 v2). */
export interface HeldVector extends AkaVector {
  version: 1 | 2;
  /** SIP-Item-Number from the MAA, when the HSS numbered the items. */
  itemNumber?: number;
}

export class VectorQueue {
  private readonly byImpi = new Map<string, HeldVector[]>();
  /** Vectors handed out, ever (for counters and tests). */
  taken = 0;

  /** Appends a batch in the HSS's order (ordered by SIP-Item-Number when every item has one). */
  push(impi: string, batch: readonly HeldVector[]): void {
    const ordered = batch.every((v) => v.itemNumber !== undefined) ? [...batch].sort((a, b) => a.itemNumber! - b.itemNumber!) : [...batch];
    const q = this.byImpi.get(impi);
    if (q) q.push(...ordered);
    else if (ordered.length) this.byImpi.set(impi, ordered);
  }

  /** The oldest vector, removed from the queue (never handed out twice), or undefined. */
  take(impi: string): HeldVector | undefined {
    const q = this.byImpi.get(impi);
    if (!q || q.length === 0) return undefined;
    const v = q.shift()!;
    if (q.length === 0) this.byImpi.delete(impi);
    this.taken++;
    return v;
  }

  /** Vectors still held for an IMPI. */
  size(impi: string): number {
    return this.byImpi.get(impi)?.length ?? 0;
  }

  /** Drops every vector of an IMPI (resynchronisation, de-registration). */
  clear(impi: string): void {
    this.byImpi.delete(impi);
  }

  /** Drops everything (stop). */
  clearAll(): void {
    this.byImpi.clear();
  }
}
