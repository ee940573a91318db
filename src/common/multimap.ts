/**
 * A multimap whose buckets are the one value itself (almost every key of a registration table:
 * one set per IMPI, per UE port, per selector, per address) or an array when a key has several.
 * A Set per key costs an object and a hash table for what is nearly always one value: a few
 * hundred bytes per registered UE and a few hundred thousand objects for the collector at 100,000
 * (measured in heap snapshots of the P-CSCF). Values must be objects and not arrays, so that a
 * value is never mistaken for a bucket.
 */
export type Bucket<V> = V | V[];

const NONE: readonly never[] = [];

/** Adds `v` to (`on`) or removes it from the bucket of `k`; an emptied bucket leaves the map. */
export function bucketPut<K, V extends object>(m: Map<K, Bucket<V>>, k: K, v: V, on: boolean): void {
  const b = m.get(k);
  if (on) {
    if (b === undefined) m.set(k, v);
    else if (Array.isArray(b)) {
      if (!b.includes(v)) b.push(v);
    } else if (b !== v) m.set(k, [b, v]);
    return;
  }
  if (b === undefined) return;
  if (!Array.isArray(b)) {
    if (b === v) m.delete(k);
    return;
  }
  const i = b.indexOf(v);
  if (i >= 0) b.splice(i, 1);
  if (b.length === 1) m.set(k, b[0]);
  else if (b.length === 0) m.delete(k);
}

/** The values in the bucket of `k`, in the order they were added. */
export function bucketValues<K, V extends object>(m: Map<K, Bucket<V>>, k: K): readonly V[] {
  const b = m.get(k);
  return b === undefined ? NONE : Array.isArray(b) ? b : [b];
}
