/**
 * What every check of a probe run shares: the target, the subscriber, the evidence, the pacing
 * and the bounds. The guard enforces R-LAB-3's "never sends to any address but the target's".
 */
import { canonicalAddress } from '../sip/index.js';
import type { Clock, Rng } from '../common/index.js';
import type { Endpoint } from '../ip/index.js';
import { ProbeError } from './errors.js';
import type { XfrmDatapath } from '../ipsec/index.js';
import type { ProbeCapture } from './capture.js';
import type { RawPort } from './raw-port.js';
import type { Pacer } from './pacer.js';
import type { ProbeSubscriber } from './subscriber.js';

/** Bounds of one run (each is stated in the report). */
export interface ProbeLimits {
  /** How long to wait for an answer the target owes (ms). */
  answerMs: number;
  /** How long silence must last to count as "dropped" (ms). */
  quietMs: number;
  /** Half-open registrations of the flood check. */
  flood: number;
  /** Wrong-RES REGISTERs of the DoS check. */
  wrongRes: number;
  /** The target's reg-await-auth timer (ms) the flood check waits out (TS 24.229 Table 7.8.1: 4 min). */
  awaitAuthMs: number;
}

export const DEFAULT_LIMITS: ProbeLimits = { answerMs: 4000, quietMs: 1500, flood: 16, wrongRes: 3, awaitAuthMs: 245_000 };

export interface ProbeContext {
  /** The P-CSCF's unprotected SIP endpoint. */
  target: Endpoint;
  /** The local address the probe binds. */
  local: string;
  sub: ProbeSubscriber;
  capture: ProbeCapture;
  pacer: Pacer;
  clock: Clock;
  rng: Rng;
  limits: ProbeLimits;
  /** Throws unless `to` is the target's address. */
  guard: (to: Endpoint) => void;
  /**
   * `userspace`: the probe seals and opens ESP itself (RFC 3948, `mod=UDP-enc-tun`) and can craft
   * any packet; `xfrm`: the kernel does ESP (`mod=trans`) on SAs the probe installs with `xfrm`.
   */
  datapath: 'userspace' | 'xfrm';
  xfrm?: XfrmDatapath;
  /**
   * One unprotected port shared by every scripted UE (`--plain-port`, e.g. 5060 for a P-CSCF that
   * takes a REGISTER as initial only from the Via port 5060); each UE sees every datagram on it
   * and keeps to its own Call-IDs.
   */
  sharedPlain?: SharedPlain;
  /**
   * port_uc and port_us of each check's first UE (`--ue-ports`): the same pair every time, as a
   * phone that registers again keeps its ports. Other UEs of a check take ports from the OS.
   */
  uePorts?: { uc: number; us: number };
}

/** The shared unprotected port and the UEs listening on it. */
export interface SharedPlain {
  port: RawPort;
  listeners: Set<(d: { data: Uint8Array; from: Endpoint }) => void>;
}

/** A guard that lets datagrams go only to `target`'s address (any port: its protected ports too). */
export function targetGuard(target: Endpoint): (to: Endpoint) => void {
  const allowed = canonicalAddress(target.address);
  return (to) => {
    if (canonicalAddress(to.address) !== allowed) throw new ProbeError(`refusing to send to ${to.address}: the probe sends only to the target ${target.address}`);
  };
}
