/**
 * RFC 3261 §17.1.1.1 and Table 4 (Appendix A): the SIP timer base values and the derived
 * transaction timers, plus RFC 6026 §8.4/§8.7 Timers L and M.
 *
 * | timer | value                                   | section       |
 * |-------|-----------------------------------------|---------------|
 * | A     | initially T1, doubles (INVITE request)  | §17.1.1.2     |
 * | B     | 64*T1                                   | §17.1.1.2     |
 * | D     | ≥ 32 s unreliable, 0 reliable           | §17.1.1.2     |
 * | E     | initially T1, doubles up to T2          | §17.1.2.2     |
 * | F     | 64*T1                                   | §17.1.2.2     |
 * | G     | initially T1, doubles up to T2          | §17.2.1       |
 * | H     | 64*T1                                   | §17.2.1       |
 * | I     | T4 unreliable, 0 reliable               | §17.2.1       |
 * | J     | 64*T1 unreliable, 0 reliable            | §17.2.2       |
 * | K     | T4 unreliable, 0 reliable               | §17.1.2.2     |
 * | L     | 64*T1                                   | RFC 6026 §8.7 |
 * | M     | 64*T1                                   | RFC 6026 §8.4 |
 */
import { InvalidArgumentError } from '../../common/index.js';

/** The transaction timers of RFC 3261 §17 and RFC 6026 (there is no Timer C here: it belongs to the proxy core). */
export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M';

/** RFC 3261 §17.1.1.1: T1 (RTT estimate), T2 (max retransmit interval), T4 (max message lifetime), in ms. */
export interface TimerConfig {
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  /** Timer D for unreliable transports; RFC 3261 §17.1.1.2 says "at least 32 seconds". */
  readonly d: number;
}

/** RFC 3261 Table 4 defaults: T1 500 ms, T2 4 s, T4 5 s, Timer D 32 s. */
export const defaultTimers: TimerConfig = Object.freeze({ t1: 500, t2: 4000, t4: 5000, d: 32000 });

/** Fills the unset fields of a partial timer configuration from {@link defaultTimers} and checks them. */
export function timerConfig(partial: Partial<TimerConfig> = {}): TimerConfig {
  const c: TimerConfig = { ...defaultTimers, ...partial };
  for (const k of ['t1', 't2', 't4', 'd'] as const) {
    if (!Number.isFinite(c[k]) || c[k] <= 0) throw new InvalidArgumentError(`timer ${k} must be a positive number of ms`, k);
  }
  if (c.t2 < c.t1) throw new InvalidArgumentError('T2 must not be smaller than T1', 't2');
  return Object.freeze(c);
}

/** 64*T1: Timers B, F, H, J (unreliable), L and M. */
export function timeoutInterval(c: TimerConfig): number {
  return 64 * c.t1;
}
