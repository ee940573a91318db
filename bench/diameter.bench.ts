/**
 * Diameter benchmark: the same measurement as `imsec bench diameter` (src/cli/bench-diameter.ts):
 * MAR/MAA codec and typed Cx pairs per second, and round trips over loopback TCP.
 */
import { formatDiameterBench, runDiameterBench } from '../src/cli/bench-diameter.js';

process.stdout.write(formatDiameterBench(await runDiameterBench()));
