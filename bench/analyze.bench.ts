/**
 * `imsec analyze` against `tshark -r` on a ≥ 100 MB capture built from the demo's (see
 * src/cli/bench-analyze.ts). Also available as `imsec bench analyze [--mb N] [--json]`.
 */
import { fileURLToPath } from 'node:url';
import { printAnalyzeBench, runAnalyzeBench } from '../src/cli/bench-analyze.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
printAnalyzeBench(await runAnalyzeBench({ cli, mb: Number(process.env.BENCH_ANALYZE_MB ?? 100) }), (s) => process.stdout.write(s));
