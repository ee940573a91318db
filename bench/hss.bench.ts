/**
 * HSS benchmark: the same measurement as `imsec bench hss` (src/cli/bench-hss.ts): MAR→MAA per
 * second and p50/p99 latency through an `imsec hss` process over loopback Diameter, with durable
 * SQN, on SQLite and (when installed) a throwaway PostgreSQL.
 */
import { formatHssBench, runHssBench } from '../src/cli/bench-hss.js';

process.stdout.write(formatHssBench(await runHssBench()));
