/** Listeners of one kind of UE event: a listener that throws never disturbs the UE or the others. */
export class Listeners<T> {
  private readonly set = new Set<(v: T) => void>();

  /** Adds a listener; returns the function that removes it. */
  add(cb: (v: T) => void): () => void {
    this.set.add(cb);
    return () => this.set.delete(cb);
  }

  /** Calls every listener with `v`; what one throws goes to `onError`. */
  emit(v: T, onError?: (err: unknown) => void): void {
    for (const l of this.set) {
      try {
        l(v);
      } catch (err) {
        onError?.(err);
      }
    }
  }
}
