/**
 * Memory per registered UE node by node (HSS, S-CSCF, I-CSCF, P-CSCF each a process), beside
 * `imsec core` in one process filled the same way in the same run: the same measurement as
 * `imsec bench core-memory` (src/cli/bench-core-memory.ts). N is 20,000 unless
 * IMSEC_BENCH_REGISTERED says otherwise.
 */
import { formatCoreMemoryBench, runCoreMemoryBench } from '../src/cli/bench-core-memory.js';

const registered = Number(process.env.IMSEC_BENCH_REGISTERED ?? 20000);
process.stdout.write(formatCoreMemoryBench(await runCoreMemoryBench({ registered, warmUp: 1000, rate: 200, log: (l) => process.stderr.write(`${l}\n`) })));
