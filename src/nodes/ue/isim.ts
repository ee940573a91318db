/**
 * The soft ISIM (TS 31.103, TS 33.102 §6.3.3): Milenage keyed with K and OPc, and the USIM's
 * SQN array of TS 33.102 Annex C.2, persisted through a {@link SqnStore} after every accepted
 * challenge so that a SQN is never accepted twice across runs. K and OPc stay inside the
 * Milenage key schedule and are never stored or printed.
 */
import { freshUsimState, isimAuthenticate, Milenage, sqnMsOf, DEFAULT_SQN_CONFIG, type IsimResult, type SqnConfig, type UsimSqnState } from '../../auth/index.js';

/** Where the SQN array lives between runs (a JSON file at the CLI, memory in tests). */
export interface SqnStore {
  /** The saved array, or undefined when nothing was saved yet. */
  load(): UsimSqnState | undefined;
  /** Replace the saved array (atomically, for a file). */
  save(state: UsimSqnState): void;
}

/** A store that keeps the array in memory only. */
export function memorySqnStore(initial?: UsimSqnState): SqnStore & { state?: UsimSqnState } {
  const s: SqnStore & { state?: UsimSqnState } = {
    state: initial,
    load: () => (s.state ? { slots: [...s.state.slots] } : undefined),
    save: (st) => {
      s.state = { slots: [...st.slots] };
    },
  };
  return s;
}

export class SoftIsim {
  private readonly milenage: Milenage;
  private state: UsimSqnState;

  constructor(
    k: Uint8Array,
    opc: Uint8Array,
    private readonly store: SqnStore,
    private readonly sqnConfig: SqnConfig = DEFAULT_SQN_CONFIG,
  ) {
    this.milenage = new Milenage(k, opc);
    const loaded = store.load();
    this.state = loaded && loaded.slots.length === 2 ** sqnConfig.indBits ? loaded : freshUsimState(sqnConfig);
  }

  /**
   * TS 33.102 §6.3.3 on RAND and AUTN: MAC check, SQN freshness (Annex C.2), then RES/CK/IK.
   * On success the SQN array is updated and saved before the result is returned.
   */
  authenticate(rand: Uint8Array, autn: Uint8Array): IsimResult {
    const r = isimAuthenticate(this.milenage, rand, autn, this.state, this.sqnConfig);
    if (r.result === 'ok' && r.state) {
      this.state = r.state;
      this.store.save(r.state);
    }
    return r;
  }

  /** SQN_MS: the highest SQN accepted so far (C.2.2). */
  get sqnMs(): number {
    return sqnMsOf(this.state);
  }

  /** A copy of the SQN array. */
  sqnState(): UsimSqnState {
    return { slots: [...this.state.slots] };
  }
}
