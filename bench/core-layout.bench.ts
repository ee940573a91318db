/**
 * Registrations with IPsec through `imsec core` (one process, the baseline) and through its four
 * nodes as processes, in the same run: the same measurement as `imsec bench core-layout`
 * (src/cli/bench-core-layout.ts), 2,000 registrations per round at 400/s offered, 3 rounds.
 */
import { formatCoreLayoutBench, runCoreLayoutBench } from '../src/cli/bench-core-layout.js';

process.stdout.write(formatCoreLayoutBench(await runCoreLayoutBench({ ues: 2000, rate: 400, rounds: 3, log: (l) => process.stderr.write(`${l}\n`) })));
