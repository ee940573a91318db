/**
 * Runs the probe (R-LAB-3): each selected check as its own registration, one after the other,
 * each with its own sockets; a check that cannot get as far as it needs is NOT TESTABLE with the
 * reason, never a crash. With the xfrm datapath the checks that need a crafted ESP packet are
 * NOT TESTABLE with their reason, and so is every other one until the kernel datapath exists.
 */
import { InvalidArgumentError, cryptoRng, systemClock, type Clock, type Rng } from '../common/index.js';
import type { Endpoint } from '../ip/index.js';
import { XfrmDatapath, ipRunner } from '../ipsec/index.js';
import { RawPort } from './raw-port.js';
import { ProbeCapture } from './capture.js';
import { ALL_CHECKS, CheckScope, type CheckDef, type Outcome } from './checks/index.js';
import { DEFAULT_LIMITS, targetGuard, type ProbeContext, type ProbeLimits, type SharedPlain } from './context.js';
import { ProbeError } from './errors.js';
import { Pacer } from './pacer.js';
import type { ProbeSubscriber } from './subscriber.js';
import type { CheckResult, ProbeReport } from './verdict.js';

export interface ProbeOptions {
  target: Endpoint;
  local: string;
  subscriber: ProbeSubscriber;
  datapath?: 'userspace' | 'xfrm';
  only?: string[];
  /** Datagrams a second at most (default 50). */
  rate?: number;
  limits?: Partial<ProbeLimits>;
  clock?: Clock;
  rng?: Rng;
  /** One unprotected port for every scripted UE (see {@link ProbeContext.sharedPlain}). */
  plainPort?: number;
  /** Local addresses the checks take in turn (default: `local` for all). */
  locals?: string[];
  /** port_uc and port_us of each check's first UE (see {@link ProbeContext.uePorts}). */
  uePorts?: { uc: number; us: number };
  /** `ip -n NETNS` for the xfrm datapath (default: the current namespace). */
  xfrmNetns?: string;
  /** Told after each check (progress). */
  onResult?: (r: CheckResult) => void;
}

/** The checks `only` selects (ids or id prefixes such as `esp`); throws for a name that matches none. */
export function selectChecks(only: string[] | undefined): CheckDef[] {
  if (!only || only.length === 0) return [...ALL_CHECKS];
  for (const o of only) {
    if (!ALL_CHECKS.some((c) => c.id === o || c.id.startsWith(`${o}.`))) throw new InvalidArgumentError(`no check named ${o} (known: ${ALL_CHECKS.map((c) => c.id).join(', ')})`, '--only');
  }
  return ALL_CHECKS.filter((c) => only.some((o) => c.id === o || c.id.startsWith(`${o}.`)));
}

/** The probe's reqid range ('PR'), apart from the P-CSCF's and the UE's: it never touches theirs. */
export const PROBE_REQID_BASE = 0x50520000;

export async function runProbe(o: ProbeOptions): Promise<{ report: ProbeReport; capture: ProbeCapture }> {
  const clock = o.clock ?? systemClock;
  const limits = { ...DEFAULT_LIMITS, ...o.limits };
  if (limits.flood < 1 || limits.flood > 64) throw new InvalidArgumentError('--flood must be 1..64', '--flood');
  if (limits.wrongRes < 1 || limits.wrongRes > 16) throw new InvalidArgumentError('--wrong-res must be 1..16', '--wrong-res');
  const capture = new ProbeCapture(() => clock.now());
  const pacer = new Pacer(clock, o.rate ?? 50);
  const datapath = o.datapath ?? 'userspace';
  const guard = targetGuard(o.target);
  const ctx: ProbeContext = { target: o.target, local: o.local, sub: o.subscriber, capture, pacer, clock, rng: o.rng ?? cryptoRng, limits, guard, datapath };
  if (o.uePorts) ctx.uePorts = o.uePorts;
  if (datapath === 'xfrm') ctx.xfrm = new XfrmDatapath({ runner: ipRunner(o.xfrmNetns ? { netns: o.xfrmNetns } : {}), reqidBase: PROBE_REQID_BASE, reqidCount: 0x10000 });
  try {
    return await runChecks(o, ctx, datapath, pacer, capture, limits, clock);
  } finally {
    await ctx.xfrm?.close();
  }
}

/** The shared unprotected port on `local` (see {@link ProbeContext.sharedPlain}). */
async function sharedPlain(ctx: ProbeContext, local: string, port: number): Promise<SharedPlain> {
  const listeners = new Set<(d: { data: Uint8Array; from: Endpoint }) => void>();
  const raw = await RawPort.open(local, port, {
    guard: ctx.guard,
    clock: ctx.clock,
    tap: (dir, l, remote, data) => void ctx.capture.record(dir === 'out' ? l : remote, dir === 'out' ? remote : l, data),
    onDatagram: (_p, d) => {
      for (const fn of [...listeners]) fn(d);
    },
  });
  return { port: raw, listeners };
}

async function runChecks(o: ProbeOptions, ctx: ProbeContext, datapath: 'userspace' | 'xfrm', pacer: Pacer, capture: ProbeCapture, limits: ProbeLimits, clock: Clock): Promise<{ report: ProbeReport; capture: ProbeCapture }> {
  const results: CheckResult[] = [];
  const startedAt = new Date(clock.now()).toISOString();
  const locals = o.locals && o.locals.length > 0 ? o.locals : [o.local];
  for (const [i, check] of selectChecks(o.only).entries()) {
    const t0 = clock.now();
    // One UE address per check when several are given (a P-CSCF that keys a UE by its address).
    const local = locals[i % locals.length];
    const plain = o.plainPort !== undefined ? await sharedPlain(ctx, local, o.plainPort) : undefined;
    const scope = new CheckScope({ ...ctx, local, ...(plain ? { sharedPlain: plain } : {}) });
    let out: Outcome;
    if (datapath === 'xfrm' && check.xfrmReason) out = { verdict: 'NOT TESTABLE', reason: check.xfrmReason };
    else {
      try {
        out = await check.run(scope);
      } catch (e) {
        if (!(e instanceof ProbeError)) {
          await scope.close();
          await plain?.port.close();
          throw e;
        }
        out = { verdict: 'NOT TESTABLE', reason: e.message };
      }
      await scope.close();
    }
    await plain?.port.close();
    const r: CheckResult = { id: check.id, title: check.title, spec: check.spec, clause: check.clause, verdict: out.verdict, reason: out.reason, evidence: scope.evidence.filter((e) => e.frame > 0), ms: clock.now() - t0 };
    results.push(r);
    o.onResult?.(r);
  }
  const report: ProbeReport = {
    target: `${o.target.address}:${o.target.port}`,
    datapath,
    subscriber: o.subscriber.id.impi,
    startedAt,
    results,
    bounds: { rate: pacer.perSecond, flood: limits.flood, wrongRes: limits.wrongRes, saSets: 4, answerMs: limits.answerMs, quietMs: limits.quietMs, awaitAuthMs: limits.awaitAuthMs },
    frames: capture.frameCount,
    datagramsSent: pacer.sent,
  };
  return { report, capture };
}
