/**
 * The S-CSCF's registrations in memory: one entry per registration (keyed by its aor, the
 * identity the UE registered) and an index from every identity of each implicit set to it, so a
 * request for any identity of the set finds the registration (R-REG-2). Plus {@link KeyedLock},
 * which runs the work on one user strictly one after another.
 */
import type { StoredRegistration } from '../../store/registrar-store.js';
import { impuKey } from '../common/identity.js';

export class RegistrationTable {
  private readonly byAor = new Map<string, StoredRegistration>();
  private readonly index = new Map<string, string>();

  get size(): number {
    return this.byAor.size;
  }

  /** The registration with this aor. */
  get(aor: string): StoredRegistration | undefined {
    return this.byAor.get(aor);
  }

  /** The registration whose implicit set holds this identity (any spelling impuKey equates). */
  find(impu: string): StoredRegistration | undefined {
    const k = impuKey(impu);
    return k === undefined ? undefined : this.findKey(k);
  }

  /** As {@link find}, by an impuKey. */
  findKey(key: string): StoredRegistration | undefined {
    const aor = this.index.get(key);
    return aor === undefined ? undefined : this.byAor.get(aor);
  }

  /** Registrations of one private identity. */
  byImpi(impi: string): StoredRegistration[] {
    return [...this.byAor.values()].filter((r) => r.impi === impi);
  }

  all(): StoredRegistration[] {
    return [...this.byAor.values()];
  }

  /** Adds or replaces a registration and re-indexes its implicit set. */
  put(reg: StoredRegistration): void {
    const old = this.byAor.get(reg.aor);
    if (old) this.unindex(old);
    this.byAor.set(reg.aor, reg);
    for (const u of [reg.aor, ...reg.impus]) {
      const k = impuKey(u);
      if (k !== undefined) this.index.set(k, reg.aor);
    }
  }

  /** Removes a registration; false when there was none. */
  delete(aor: string): boolean {
    const old = this.byAor.get(aor);
    if (!old) return false;
    this.unindex(old);
    this.byAor.delete(aor);
    return true;
  }

  clear(): void {
    this.byAor.clear();
    this.index.clear();
  }

  private unindex(reg: StoredRegistration): void {
    for (const u of [reg.aor, ...reg.impus]) {
      const k = impuKey(u);
      if (k !== undefined && this.index.get(k) === reg.aor) this.index.delete(k);
    }
  }
}

/** Runs async work per key strictly in order (one REGISTER of a user at a time). */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const p = prev.then(fn);
    const tail = p.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return p;
  }

  /** Keys with work queued or running. */
  get busy(): number {
    return this.tails.size;
  }
}
