/**
 * `imsec load`'s layer (R-LAB-4): a swarm of emulated IMS UEs with IMS AKA, sec-agree and IPsec
 * ESP each, the scenarios that drive it, and what they measure.
 */
export { Swarm, DEFAULT_PORT_BASE, fdsNeeded, swarmPlace, swarmPortSpan, type SwarmOptions, type SwarmUe } from './swarm.js';
export { busyPortIn, chooseProtectedPorts, portBlock } from './port-plan.js';
export { LoadRun, LOAD_SCENARIOS, failureReason, type LoadScenario, type LoadRunOptions, type LoadRunResult } from './run.js';
export { LoadStats, LatencyHistogram, LOAD_OPS, type LoadOp, type OpStats } from './stats.js';
export { summarize, formatSummary, progressLine, type LoadSummary, type OpSummary } from './report.js';
export { parseRange, rangeRows, fileRows, toLoadSubscribers, MAX_RANGE, type LoadSubscriber, type SubscriberRange } from './subscribers.js';
export { driveLoad, openFileLimit, type DriveOptions } from './drive.js';
export { swarmDatapath, SWARM_DATAPATHS, type SwarmDatapath, type SwarmDatapathKind, type SwarmDatapathOptions } from './swarm-datapath.js';
