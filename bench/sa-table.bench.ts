/**
 * The P-CSCF SA table's cost per registration, empty and with 100,000 live sets: the same
 * measurement as `imsec bench sa-table` (src/cli/bench-sa-table.ts).
 */
import { formatSaTableBench, runSaTableBench } from '../src/cli/bench-sa-table.js';

process.stdout.write(formatSaTableBench(await runSaTableBench(100_000)));
