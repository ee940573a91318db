/**
 * V8 cuts a substring of 13 or more characters as a view into its parent string, and builds a
 * concatenation as a rope over its parts; either keeps its parents alive as long as it lives. A
 * value kept for the life of a registration (an IMPI, a Contact's instance, a dialog's tag) that
 * was cut from a parsed message would keep the whole message text alive: several whole messages
 * per UE at 100,000 registrations (measured in heap snapshots of `imsec core`). `detached` gives
 * a flat copy that keeps nothing else alive (the JSON round trip builds a fresh string; shorter
 * strings are never views).
 */
export function detached(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}

/**
 * `s` kept for a long life: the equal string of `kept` when there is one (an IMPI or IMPU that
 * the registration's SA set already keeps: one copy for both owners), else a {@link detached} copy.
 */
export function keptCopy(s: string, kept: readonly string[]): string {
  for (const k of kept) if (k === s) return k;
  return detached(s);
}

/** A table of at most `cap` entries that starts again empty when it is full (its keys come from peers). */
abstract class BoundedTable<V> {
  protected readonly m = new Map<string, V>();
  constructor(private readonly cap: number) {}

  /** Stores `v` under `key`, emptying the table first when it is full; returns `v`. */
  protected put(key: string, v: V): V {
    if (this.m.size >= this.cap) this.m.clear();
    this.m.set(key, v);
    return v;
  }

  get size(): number {
    return this.m.size;
  }
}

/**
 * A bounded table of strings that many long-lived records hold with the same content, so that
 * they share one copy: a node's records of 100,000 registrations hold the same Service-Route,
 * Path, peer URI and peer address, each otherwise a copy per UE (heap snapshots of `imsec core`,
 * issue [K]: "interned strings"). A string not yet in the table enters as a {@link detached}
 * copy. The values come from peers, so the table is bounded: when it is full it starts again
 * empty, and the values that recur come back at once. Interning changes no value, only how many
 * copies of it the heap holds.
 */
export class StringPool extends BoundedTable<string> {
  constructor(cap = 4096) {
    super(cap);
  }

  /** The pool's copy of `s` (the table's key is the copy too: never a view into a message). */
  get(s: string): string {
    const hit = this.m.get(s);
    if (hit !== undefined) return hit;
    const copy = detached(s);
    return this.put(copy, copy);
  }
}

const shared = new StringPool();

/** `s` from the process's shared {@link StringPool}: a value many registrations keep alike. */
export function interned(s: string): string {
  return shared.get(s);
}

const NO_STRINGS: readonly string[] = Object.freeze([]);

/**
 * The same for lists that many records hold alike: a Path, a Service-Route, a dialog's route set,
 * the same for every UE behind one P-CSCF (one array per UE otherwise, besides its strings). The
 * list is frozen, since every holder shares it; bounded like {@link StringPool}.
 */
export class ListPool extends BoundedTable<readonly string[]> {
  constructor(cap = 1024) {
    super(cap);
  }

  /** The pool's frozen copy of `values`, its strings {@link interned}. */
  get(values: readonly string[]): readonly string[] {
    if (values.length === 0) return NO_STRINGS;
    const key = JSON.stringify(values);
    return this.m.get(key) ?? this.put(key, Object.freeze(values.map(interned)));
  }
}

const sharedLists = new ListPool();

/** `values` from the process's shared {@link ListPool}. */
export function internedList(values: readonly string[]): readonly string[] {
  return sharedLists.get(values);
}

/**
 * A map key of several parts, `a|b|c`. Joined, not templated: a template literal builds a rope of
 * its parts that a map keeps as it is (five or six objects per key at 100,000 registrations);
 * a join makes one flat string, which also hashes faster on each lookup.
 */
export function joinedKey(...parts: (string | number)[]): string {
  return parts.join('|');
}
