/**
 * `imsec probe` (R-LAB-3): test a P-CSCF against the threats TS 33.203 was written for, with a
 * UE scripted from the specification text, a verdict per check and packet evidence. The raw
 * endpoint (plain UDP ports, hand-held SAs) is exported for tests that script peers the same way.
 */
export { RawPort, localAddressFor, type Datagram, type RawPortOptions } from './raw-port.js';
export { handSa, craftedSa, sealSip, openSip, spiOf, seqOf, withBadIcv, sipText, type HandSa, type HandSaParams } from './hand-sa.js';
export { ProbeError } from './errors.js';
export { parseSubscriber, akaKeys, type ProbeSubscriber, type AkaKeys } from './subscriber.js';
export { ProbeCapture } from './capture.js';
export { Pacer } from './pacer.js';
export { DEFAULT_LIMITS, targetGuard, type ProbeLimits, type ProbeContext } from './context.js';
export { ProbeUe, statusOf, type HandSet, type Received, type Challenge } from './probe-ue.js';
export { ALL_CHECKS, type CheckDef } from './checks/index.js';
export { runProbe, selectChecks, type ProbeOptions } from './runner.js';
export { formatReport, formatResult, reportJson } from './report-text.js';
export { exitStatus, tally, type Verdict, type CheckResult, type ProbeReport, type EvidenceItem } from './verdict.js';
