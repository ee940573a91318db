/**
 * Linux kernel IPsec (XFRM) datapath: each SA becomes one `ip xfrm state` and one
 * `ip xfrm policy` per transport (TS 33.203 §7.1: UDP and TCP share the SAs). Used for
 * `mod=trans` (and `UDP-enc-tun` via `encap espinudp`, which additionally needs a UDP socket with
 * the UDP_ENCAP option on the receiving port — Node's dgram cannot set it).
 *
 * Rules: argument arrays only (see {@link ipRunner}); every entry carries a reqid from our range
 * and only those are ever deleted; nothing here flushes the kernel's tables; a kernel error is an
 * {@link IpsecKernelError} (IPSEC_KERNEL) with the command's stderr and the keys redacted.
 */
import { asError, InvalidArgumentError } from '../../common/index.js';
import type { IpsecDatapath } from '../sa/datapath.js';
import type { SecurityAssociation, Transport } from '../sa/types.js';
import { xfrmPolicyAddArgs, xfrmPolicyDeleteArgs, xfrmStateAddArgs, xfrmStateDeleteArgs } from './argv.js';
import { IpsecKernelError } from './errors.js';
import { parsePolicyList, parseStateList } from './list.js';
import { ipRunner, type XfrmRunner } from './runner.js';

/** Default reqid range: 0x494d0000 ('IM') .. 0x494dffff. */
export const DEFAULT_REQID_BASE = 0x494d0000;
export const DEFAULT_REQID_COUNT = 0x10000;

export interface XfrmDatapathOptions {
  runner?: XfrmRunner;
  reqidBase?: number;
  reqidCount?: number;
  replayWindow?: number;
  priority?: number;
}

interface Installed {
  sa: SecurityAssociation;
  reqid: number;
  policies: Transport[];
}

export class XfrmDatapath implements IpsecDatapath {
  readonly name = 'xfrm';
  readonly reqidBase: number;
  readonly reqidCount: number;
  private readonly run: XfrmRunner;
  private readonly replayWindow: number;
  private readonly priority: number;
  private readonly installed = new Map<string, Installed>();
  /** The reqids of {@link installed}, for allocation and the stale check. */
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
        await this.run(xfrmPolicyAddArgs(sa, t, opts));
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

  /** Policies, then the state. Every delete is tried; the first failure is rethrown. */
  async remove(sa: SecurityAssociation): Promise<void> {
    const entry = this.installed.get(sa.id);
    if (!entry) return;
    this.installed.delete(sa.id);
    this.usedReqids.delete(entry.reqid);
    await this.undo(entry);
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
