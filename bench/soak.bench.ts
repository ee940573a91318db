/**
 * Soak benchmark: the same measurement as `imsec bench soak` (src/cli/bench-soak.ts): registrations
 * churning through `imsec core` with its RSS and descriptors sampled over time. `npm run bench`
 * runs a short one (SOAK_SECONDS, default 60); `imsec bench soak` defaults to ten minutes.
 */
import { formatSoak, runSoak } from '../src/cli/bench-soak.js';

const seconds = Number(process.env.SOAK_SECONDS ?? 60);
process.stdout.write(formatSoak(await runSoak({ seconds, ues: 8, log: (l) => process.stderr.write(`${l}\n`) })));
