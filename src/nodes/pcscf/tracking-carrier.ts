/**
 * The P-CSCF's protected carrier wrapped so that an SA is removed only after the sends already
 * handed to it have left (TS 33.203 §7.4: a 494 or the 200 of a de-registration still goes out
 * over the SA about to be deleted). The edge of wire.ts; no protocol logic.
 */
import type { Endpoint } from '../../sip/transport/index.js';
import type { CarrierMessageInfo, ProtectedCarrier } from '../../sip/transport/protected/index.js';

/**
 * A carrier that remembers its sends in flight per UE address, so an SA towards a UE is removed
 * only after the sends to that UE already handed over: a snapshot, so a remove waits for what
 * was queued before it, never for the traffic of every other UE (under load that never ends).
 */
export class TrackingCarrier implements ProtectedCarrier {
  private readonly inflight = new Map<string, Set<Promise<void>>>();
  constructor(private readonly inner: ProtectedCarrier) {}
  send(sip: Uint8Array, opts: { fromPort: number; fromAddress?: string; to: Endpoint }): Promise<void> {
    const p = this.inner.send(sip, opts);
    const k = opts.to.address;
    let mine = this.inflight.get(k);
    if (!mine) this.inflight.set(k, (mine = new Set()));
    const tracked = p.then(
      () => undefined,
      () => undefined,
    );
    mine.add(tracked);
    void tracked.then(() => {
      mine.delete(tracked);
      if (mine.size === 0 && this.inflight.get(k) === mine) this.inflight.delete(k);
    });
    return p;
  }
  onMessage(handler: (sip: Uint8Array, info: CarrierMessageInfo) => void): void {
    this.inner.onMessage(handler);
  }
  /** Sends to `ueAddress` in flight now have finished (every UE's when omitted). */
  async idle(ueAddress?: string): Promise<void> {
    const sets = ueAddress === undefined ? [...this.inflight.values()] : [this.inflight.get(ueAddress) ?? new Set<Promise<void>>()];
    await Promise.all(sets.flatMap((x) => [...x]));
  }
}
