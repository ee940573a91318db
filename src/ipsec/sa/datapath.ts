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

/** Operations in flight and who waits for them to end (a counter, not a list of promises). */
class Pending {
  count = 0;
  private waiters: (() => void)[] = [];
  wait(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
  done(): void {
    if (--this.count > 0) return;
    for (const w of this.waiters.splice(0)) w();
  }
}

/**
 * Follow a manager's events: install each created SA, remove each deleted one. Operations on one
 * SA run in order (a remove waits for its install); different SAs proceed independently. What is
 * kept lives only while operations are in flight: per SA its last operation, per set and for the
 * whole table a counter, so the cost of an operation and of {@link Mirror.settled} does not grow
 * with the table (nothing per live SA once its operations have finished).
 */
export function mirrorSaTable(manager: SaManager, datapath: IpsecDatapath, opts: MirrorOptions = {}): Mirror {
  const chains = new Map<string, Promise<void>>();
  const all = new Pending();
  const bySet = new Map<number, Pending>();
  const run = (sa: SecurityAssociation, op: 'install' | 'remove'): void => {
    let mine = bySet.get(sa.setId);
    if (!mine) bySet.set(sa.setId, (mine = new Pending()));
    mine.count++;
    all.count++;
    const exec = (): Promise<void> => (op === 'install' ? datapath.install(sa) : datapath.remove(sa));
    const prev = chains.get(sa.id);
    let started: Promise<void>;
    try {
      started = prev ? prev.then(exec) : exec();
    } catch (err) {
      started = Promise.reject(err);
    }
    const set = mine;
    const finish = (): void => {
      if (chains.get(sa.id) === next) chains.delete(sa.id);
      if (set.count === 1 && bySet.get(sa.setId) === set) bySet.delete(sa.setId);
      set.done();
      all.done();
    };
    const next: Promise<void> = started.then(finish, (err: unknown) => {
      try {
        opts.onError?.(err, sa, op);
      } finally {
        finish();
      }
    });
    chains.set(sa.id, next);
  };
  const stop = manager.on((e) => {
    if (e.kind === 'saCreated') run(e.sa, 'install');
    else if (e.kind === 'saDeleted') run(e.sa, 'remove');
  });
  return {
    stop,
    idle: () => all.wait(),
    settled: (setId) => bySet.get(setId)?.wait() ?? Promise.resolve(),
  };
}
