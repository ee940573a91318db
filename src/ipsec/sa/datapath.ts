/**
 * The datapath seam: what carries ESP for the SA table. Two backends implement it — userspace
 * RFC 3948 UDP-encapsulated ESP (../udp-encap/) and Linux kernel XFRM (../xfrm/) — and
 * {@link mirrorSaTable} keeps one in step with an {@link SaManager}.
 */
import type { SaManager } from './manager.js';
import type { SecurityAssociation } from './types.js';

/** A backend that carries ESP for the SAs it was given (RFC 4301 §4.4.2 SAD). */
export interface IpsecDatapath {
  /** Short name for logs (`udp-encap`, `xfrm`). */
  readonly name: string;
  /** Make the SA effective. Rejects with a typed error (e.g. IPSEC_KERNEL) on failure. */
  install(sa: SecurityAssociation): Promise<void>;
  /** Remove an SA installed before; removing an unknown SA is not an error. */
  remove(sa: SecurityAssociation): Promise<void>;
  /** Remove everything this datapath installed and release its resources. */
  close(): Promise<void>;
}

export interface MirrorOptions {
  /** Called for every failed install/remove (the table keeps going). Default: ignore. */
  onError?: (err: unknown, sa: SecurityAssociation, op: 'install' | 'remove') => void;
}

export interface Mirror {
  /** Stop following the table (installed SAs stay installed). */
  stop(): void;
  /** Resolves when every install/remove queued so far has finished. */
  idle(): Promise<void>;
  /**
   * Resolves when the operations queued so far on the SAs of one set have finished: what a
   * registration waits for, whatever the rest of the table is doing (under load the datapath
   * as a whole is never idle).
   */
  settled(setId: number): Promise<void>;
}

/**
 * Follow a manager's events: install each created SA, remove each deleted one. Operations on one
 * SA run in order (a remove waits for its install); different SAs proceed independently.
 */
export function mirrorSaTable(manager: SaManager, datapath: IpsecDatapath, opts: MirrorOptions = {}): Mirror {
  // The last queued operation of each SA with one in flight, and every operation in flight:
  // both shrink as operations finish, so `idle` costs the work pending, not the table's size.
  const chains = new Map<string, Promise<void>>();
  const inflight = new Set<Promise<void>>();
  const bySet = new Map<number, Set<Promise<void>>>();
  const run = (sa: SecurityAssociation, op: 'install' | 'remove'): void => {
    const prev = chains.get(sa.id) ?? Promise.resolve();
    const next = prev
      .then(() => (op === 'install' ? datapath.install(sa) : datapath.remove(sa)))
      .catch((err: unknown) => opts.onError?.(err, sa, op));
    chains.set(sa.id, next);
    inflight.add(next);
    let mine = bySet.get(sa.setId);
    if (!mine) bySet.set(sa.setId, (mine = new Set()));
    mine.add(next);
    void next.then(() => {
      inflight.delete(next);
      if (chains.get(sa.id) === next) chains.delete(sa.id);
      mine.delete(next);
      if (mine.size === 0 && bySet.get(sa.setId) === mine) bySet.delete(sa.setId);
    });
  };
  const stop = manager.on((e) => {
    if (e.kind === 'saCreated') run(e.sa, 'install');
    else if (e.kind === 'saDeleted') run(e.sa, 'remove');
  });
  return {
    stop,
    async idle() {
      while (inflight.size > 0) await Promise.all([...inflight]);
    },
    async settled(setId) {
      const snapshot = bySet.get(setId);
      if (snapshot) await Promise.all([...snapshot]);
    },
  };
}
