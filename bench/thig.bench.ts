/**
 * THIG benchmark: the same measurement as `imsec bench thig` (src/cli/bench-thig.ts): hide and
 * reveal of an outgoing INVITE, and THIG token seal/open, per second.
 */
import { formatThigBench, runThigBench } from '../src/cli/bench-thig.js';

process.stdout.write(formatThigBench(runThigBench()));
