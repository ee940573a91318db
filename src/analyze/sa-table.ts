/**
 * The SA sets rebuilt from a capture (TS 33.203 §7.1: four SAs per sec-agree) and what depends on
 * them: which ports between a UE and its P-CSCF are protected right now, which set an SPI belongs
 * to, and the ESP keys of each set, expanded from IK/CK as Annex I says and handed to the key
 * ring. Bounded: at most {@link MAX_SETS} sets are kept (the oldest are dropped first).
 */
import { deriveEspKeys, isEncryptionAlg, isIntegrityAlg } from '../ipsec/index.js';
import type { AkaKeys, KeyRing } from './key-ring.js';
import type { SaSet } from './model.js';
import type { Endpoint } from './types.js';

export const MAX_SETS = 2_000;

/** A change of state with the event that caused it. */
export interface At {
  at: number;
  frames: number[];
}

export type NewSet = Omit<SaSet, 'id' | 'state' | 'history' | 'esp' | 'keyed' | 'keySource' | 'createdAt' | 'createdFrames'>;

export class SaTable {
  private readonly sets = new Map<number, SaSet>();
  /** Live sets by `ue>pcscf` address pair: their ports are protected between those hosts. */
  private readonly livePairs = new Map<string, Set<number>>();
  private nextId = 1;
  /** Sets dropped from memory beyond {@link MAX_SETS}. */
  omitted = 0;

  /** `onEnded` hears of every set deleted or failed. */
  constructor(private readonly onEnded: (s: SaSet) => void) {}

  get(id: number | undefined): SaSet | undefined {
    return id === undefined ? undefined : this.sets.get(id);
  }

  all(): SaSet[] {
    return [...this.sets.values()];
  }

  /** A new temporary set (TS 33.203 §7.4: made at the 401). */
  create(fields: NewSet, ev: At): SaSet {
    if (this.sets.size >= MAX_SETS) {
      const oldest = this.sets.keys().next().value as number;
      this.setState(oldest, 'deleted', ev);
      this.sets.delete(oldest);
      this.omitted++;
    }
    const set: SaSet = { ...fields, id: this.nextId++, keyed: false, state: 'temporary', createdAt: ev.at, createdFrames: ev.frames, history: [{ at: ev.at, state: 'temporary', frames: ev.frames }], esp: { ok: 0, icv: 0, replay: 0, fromUe: 0 } };
    this.sets.set(set.id, set);
    const pair = `${set.ue}>${set.pcscf}`;
    if (!this.livePairs.has(pair)) this.livePairs.set(pair, new Set());
    this.livePairs.get(pair)!.add(set.id);
    return set;
  }

  setState(id: number, state: SaSet['state'], ev: At): void {
    const s = this.sets.get(id);
    if (!s || s.state === state) return;
    s.state = state;
    s.history.push({ at: ev.at, state, frames: ev.frames });
    if (state === 'deleted' || state === 'failed') {
      this.livePairs.get(`${s.ue}>${s.pcscf}`)?.delete(id);
      this.onEnded(s);
    }
  }

  /** The live set an SPI belongs to, for ESP opened with keys from a file (no set attached). */
  bySpi(spi: number, src: string, dst: string): SaSet | undefined {
    for (const pair of [`${src}>${dst}`, `${dst}>${src}`]) {
      for (const id of this.livePairs.get(pair) ?? []) {
        const s = this.sets.get(id);
        if (s && (s.spiUc === spi || s.spiUs === spi || s.spiPc === spi || s.spiPs === spi)) return s;
      }
    }
    return undefined;
  }

  /**
   * R-SA-3: live sets (other than `set`) that hold one of its inbound SPIs at the same host: the
   * P-CSCF's spi-c/spi-s at its address, or the UE's at the UE's address.
   */
  clashes(set: SaSet): SaSet[] {
    const out: SaSet[] = [];
    for (const ids of this.livePairs.values()) {
      for (const id of ids) {
        const o = this.sets.get(id);
        if (!o || o.id === set.id) continue;
        const atPcscf = o.pcscf === set.pcscf && [o.spiPc, o.spiPs].some((x) => x === set.spiPc || x === set.spiPs);
        const atUe = o.ue === set.ue && [o.spiUc, o.spiUs].some((x) => x === set.spiUc || x === set.spiUs);
        if (atPcscf || atUe) out.push(o);
      }
    }
    return out;
  }

  /** Which ends of a packet between a UE and its P-CSCF sit on a port of one of their live sets. */
  protectedEnds(src: Endpoint, dst: Endpoint): { onSrc: boolean; onDst: boolean } {
    let onSrc = false;
    let onDst = false;
    for (const id of this.livePairs.get(`${src.address}>${dst.address}`) ?? []) {
      const s = this.sets.get(id);
      if (!s) continue;
      onSrc ||= src.port === s.uc || src.port === s.us;
      onDst ||= dst.port === s.pc || dst.port === s.ps;
    }
    for (const id of this.livePairs.get(`${dst.address}>${src.address}`) ?? []) {
      const s = this.sets.get(id);
      if (!s) continue;
      onSrc ||= src.port === s.pc || src.port === s.ps;
      onDst ||= dst.port === s.uc || dst.port === s.us;
    }
    return { onSrc, onDst };
  }

  /**
   * TS 33.203 Annex I: the four SAs' keys from IK/CK, into the key ring (UE → P-CSCF on spi_ps and
   * spi_pc, P-CSCF → UE on spi_us and spi_uc). Without IK/CK the set counts as keyed when a keys
   * file gave SAs for its SPIs.
   */
  key(set: SaSet, keys: AkaKeys | undefined, ring: KeyRing): void {
    const spis = [set.spiUc, set.spiUs, set.spiPc, set.spiPs];
    for (const x of spis) ring.announceSpi(x);
    const alg = set.alg;
    const ealg = set.ealg;
    if (keys && isIntegrityAlg(alg) && isEncryptionAlg(ealg)) {
      try {
        const k = deriveEspKeys(alg, ealg, keys.ik, keys.ck);
        const add = (spi: number, src: string, dst: string) => ring.addSa({ src, dst, spi, integrity: alg, encryption: ealg, keys: k }, 'derived', set.id);
        set.keyed = add(set.spiPs, set.ue, set.pcscf) && add(set.spiPc, set.ue, set.pcscf) && add(set.spiUs, set.pcscf, set.ue) && add(set.spiUc, set.pcscf, set.ue);
        set.keySource = keys.source;
      } catch {
        set.keyed = false;
      }
    } else if (spis.some((x) => ring.hasGivenSa(x))) {
      set.keyed = true;
      set.keySource = 'file';
    }
  }
}
