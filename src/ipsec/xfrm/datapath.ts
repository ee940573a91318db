/**
 * Linux kernel IPsec (XFRM) datapath: each SA becomes one `ip xfrm state` and one
 * `ip xfrm policy` per transport (TS 33.203 §7.1: UDP and TCP share the SAs). Used for
 * `mod=trans` (and `UDP-enc-tun` via `encap espinudp`, which additionally needs a UDP socket with
 * the UDP_ENCAP option on the receiving port — Node's dgram cannot set it).
 *
 * Rules: argument arrays only (see {@link ipRunner}); every entry carries a reqid from our range
 * and only those are ever deleted; nothing here flushes the kernel's tables; a kernel error is an
 * {@link IpsecKernelError} (IPSEC_KERNEL) with the command's stderr and the keys redacted.
 *
 * Removal deletes the state first. With `policyLingerMs` the SA's policies stay that long after
 * it: a packet they select then finds no SA and the kernel drops it, where without the policy it
 * would leave in the clear (TS 33.203 §7.1: SIP between the UE and the P-CSCF only inside ESP).
 * That covers what TCP still sends on a deleted set's connection while it closes (a FIN, a
 * retransmitted segment, the RST). A new SA whose selector a lingering policy holds takes it over
 * (`ip xfrm policy update`), so ports reused at once are no conflict.
 */
import { asError, InvalidArgumentError, systemClock, type Clock, type TimerHandle } from '../../common/index.js';
import type { IpsecDatapath } from '../sa/datapath.js';
import type { SecurityAssociation, Transport } from '../sa/types.js';
import { xfrmPolicyAddArgs, xfrmPolicyDeleteArgs, xfrmPolicyKey, xfrmStateAddArgs, xfrmStateDeleteArgs } from './argv.js';
import { IpsecKernelError } from './errors.js';
import { parsePolicyList, parseStateList } from './list.js';
import { ipRunner, type XfrmRunner } from './runner.js';

/** Default reqid range: 0x494d0000 ('IM') .. 0x494dffff. */
export const DEFAULT_REQID_BASE = 0x494d0000;
export const DEFAULT_REQID_COUNT = 0x10000;

/**
 * The policy linger the nodes use: well past the 150 ms in which a deleted set's TCP connection
 * is reset after it is let go (../../sip/transport/protected/protected-tcp.ts, ABORT_AFTER_MS).
 */
export const NODE_POLICY_LINGER_MS = 1000;

export interface XfrmDatapathOptions {
  runner?: XfrmRunner;
  reqidBase?: number;
  reqidCount?: number;
  replayWindow?: number;
  priority?: number;
  /** How long a removed SA's policies outlive its state (default 0: removed with it). */
  policyLingerMs?: number;
  /** Runs the linger timers. */
  clock?: Clock;
}

interface Installed {
  sa: SecurityAssociation;
  reqid: number;
  policies: Transport[];
}

/** A removed SA's policy kept for the linger: its delete is due at the timer, or under way. */
interface Lingering {
  readonly args: string[];
  /** The removed SA's reqid and how many of its policies still linger (freed at none). */
  readonly sa: { readonly reqid: number; left: number };
  timer?: TimerHandle;
  deleting?: Promise<void>;
}

export class XfrmDatapath implements IpsecDatapath {
  readonly name = 'xfrm';
  readonly reqidBase: number;
  readonly reqidCount: number;
  private readonly run: XfrmRunner;
  private readonly replayWindow: number;
  private readonly priority: number;
  private readonly lingerMs: number;
  private readonly clock: Clock;
  private readonly installed = new Map<string, Installed>();
  /** Policies of removed SAs, by selector and direction ({@link xfrmPolicyKey}). */
  private readonly lingering = new Map<string, Lingering>();
  /** The reqids of {@link installed} and of lingering policies, for allocation and the stale check. */
  private readonly usedReqids = new Set<number>();
  private nextReqid = 0;

  constructor(opts: XfrmDatapathOptions = {}) {
    this.run = opts.runner ?? ipRunner();
    this.reqidBase = opts.reqidBase ?? DEFAULT_REQID_BASE;
    this.reqidCount = opts.reqidCount ?? DEFAULT_REQID_COUNT;
    if (!Number.isInteger(this.reqidBase) || this.reqidBase < 1 || !Number.isInteger(this.reqidCount) || this.reqidCount < 1 || this.reqidBase + this.reqidCount - 1 > 0xffffffff) {
      throw new InvalidArgumentError('reqid range must lie within 1..2^32-1', 'reqidBase');
    }
    this.replayWindow = opts.replayWindow ?? 64;
    this.priority = opts.priority ?? 1000;
    this.lingerMs = opts.policyLingerMs ?? 0;
    this.clock = opts.clock ?? systemClock;
  }

  /** Whether a reqid is in our range (an entry we may delete). */
  owns(reqid: number | undefined): boolean {
    return reqid !== undefined && reqid >= this.reqidBase && reqid < this.reqidBase + this.reqidCount;
  }

  /** The reqid of an installed SA (undefined when not installed). */
  reqidOf(sa: SecurityAssociation): number | undefined {
    return this.installed.get(sa.id)?.reqid;
  }

  private allocReqid(): number {
    // The next free one after the last handed out: O(1) while the range is mostly free (a full
    // scan only when it wraps into reqids still installed).
    for (let i = 0; i < this.reqidCount; i++) {
      const r = this.reqidBase + ((this.nextReqid + i) % this.reqidCount);
      if (!this.usedReqids.has(r)) {
        this.nextReqid = (this.nextReqid + i + 1) % this.reqidCount;
        return r;
      }
    }
    throw new InvalidArgumentError('reqid range exhausted', 'reqidCount');
  }

  /** State first, then one policy per transport; on a failure everything added is removed. */
  async install(sa: SecurityAssociation): Promise<void> {
    if (this.installed.has(sa.id)) return;
    const reqid = this.allocReqid();
    const opts = { reqid, replayWindow: this.replayWindow, priority: this.priority };
    const entry: Installed = { sa, reqid, policies: [] };
    this.installed.set(sa.id, entry);
    this.usedReqids.add(reqid);
    try {
      await this.run(xfrmStateAddArgs(sa, opts));
    } catch (e) {
      this.installed.delete(sa.id);
      this.usedReqids.delete(entry.reqid);
      throw e;
    }
    try {
      for (const t of sa.transports) {
        // A lingering policy on this selector is taken over (update), or its delete awaited.
        const key = xfrmPolicyKey(sa, t);
        const held = this.lingering.get(key);
        let verb: 'add' | 'update' = 'add';
        if (held?.timer) {
          held.timer.cancel();
          this.endLinger(key, held);
          verb = 'update';
        } else if (held?.deleting) {
          // Had that delete failed, the add below says so (the policy would still exist).
          await held.deleting.catch(() => undefined);
        }
        await this.run(xfrmPolicyAddArgs(sa, t, opts, verb));
        entry.policies.push(t);
      }
    } catch (e) {
      this.installed.delete(sa.id);
      this.usedReqids.delete(entry.reqid);
      await this.undo(entry).catch(() => undefined);
      throw e;
    }
  }

  private async undo(entry: Installed): Promise<void> {
    let first: Error | undefined;
    for (const t of entry.policies) {
      try {
        await this.run(xfrmPolicyDeleteArgs(entry.sa, t));
      } catch (e) {
        first ??= asError(e);
      }
    }
    try {
      await this.run(xfrmStateDeleteArgs(entry.sa));
    } catch (e) {
      first ??= asError(e);
    }
    if (first) throw first;
  }

  /**
   * Policies, then the state; with a linger, the state now and the policies when it ends. Every
   * delete is tried; the first failure is rethrown.
   */
  async remove(sa: SecurityAssociation): Promise<void> {
    const entry = this.installed.get(sa.id);
    if (!entry) return;
    this.installed.delete(sa.id);
    if (this.lingerMs <= 0 || entry.policies.length === 0) {
      this.usedReqids.delete(entry.reqid);
      return this.undo(entry);
    }
    const removed = { reqid: entry.reqid, left: entry.policies.length };
    for (const t of entry.policies) {
      const key = xfrmPolicyKey(sa, t);
      const held: Lingering = { args: xfrmPolicyDeleteArgs(sa, t), sa: removed };
      held.timer = this.clock.setTimeout(this.lingerMs, () => void this.deleteLingering(key, held).catch(() => undefined));
      this.lingering.set(key, held);
    }
    await this.run(xfrmStateDeleteArgs(sa));
  }

  /** Deletes a lingering policy now (its timer fired, or the datapath closes). */
  private deleteLingering(key: string, held: Lingering): Promise<void> {
    held.timer?.cancel();
    held.timer = undefined;
    held.deleting ??= this.run(held.args).then(
      () => this.endLinger(key, held),
      (e: unknown) => {
        this.endLinger(key, held);
        throw e;
      },
    );
    return held.deleting;
  }

  private endLinger(key: string, held: Lingering): void {
    if (this.lingering.get(key) === held) this.lingering.delete(key);
    // The reqid is free once no policy of its SA is left.
    if (--held.sa.left === 0) this.usedReqids.delete(held.sa.reqid);
  }

  async close(): Promise<void> {
    let first: Error | undefined;
    for (const e of [...this.installed.values()]) {
      try {
        await this.remove(e.sa);
      } catch (err) {
        first ??= asError(err);
      }
    }
    for (const [key, held] of [...this.lingering]) {
      try {
        await this.deleteLingering(key, held);
      } catch (err) {
        first ??= asError(err);
      }
    }
    if (first) throw first;
  }

  /**
   * Delete entries left by an earlier run: states and policies whose reqid is in our range and
   * that this instance did not install. Never touches anything else. Returns how many went.
   */
  async removeStale(): Promise<number> {
    const stale = (r: number | undefined): boolean => this.owns(r) && !this.usedReqids.has(r!);
    const policies = parsePolicyList((await this.run(['xfrm', 'policy', 'list'])).stdout).filter((e) => stale(e.reqid));
    const states = parseStateList((await this.run(['xfrm', 'state', 'list', 'nokeys'])).stdout).filter((e) => stale(e.reqid));
    for (const e of [...policies, ...states]) await this.run(e.deleteArgs);
    return policies.length + states.length;
  }
}

/** What {@link probeKernelEsp} found. */
export type EspProbe = { ok: true } | { ok: false; reason: string };

/**
 * Whether the kernel behind `runner` accepts an ESP state: adds one of our own (TEST-NET-1
 * addresses, reqid at the top of the default range, SPI 0x100) and deletes it again. Run it in
 * a network namespace of your own. A kernel without ESP answers "Requested type not found".
 */
export async function probeKernelEsp(runner: XfrmRunner): Promise<EspProbe> {
  const args = [
    'xfrm', 'state', 'add', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'spi', '0x00000100',
    'reqid', String(DEFAULT_REQID_BASE + DEFAULT_REQID_COUNT - 1), 'mode', 'transport',
    'auth-trunc', 'hmac(sha1)', `0x${'00'.repeat(20)}`, '96', 'enc', 'ecb(cipher_null)', '',
  ];
  try {
    await runner(args);
  } catch (e) {
    if (e instanceof IpsecKernelError) return { ok: false, reason: e.stderr.trim() || e.message };
    throw e;
  }
  await runner(['xfrm', 'state', 'delete', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'spi', '0x00000100']);
  return { ok: true };
}
