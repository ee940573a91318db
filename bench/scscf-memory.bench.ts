/**
 * Memory per registered UE: the same measurement as `imsec bench scscf-memory`
 * (src/cli/bench-scscf-memory.ts), imsec's S-CSCF and HSS against Kamailio's S-CSCF at 100,000
 * registered users each. Needs sipp, kamailio (kamailio-ims-modules) and unshare.
 */
import { formatScscfMemoryBench, runScscfMemoryBench } from '../src/cli/bench-scscf-memory.js';

process.stdout.write(formatScscfMemoryBench(await runScscfMemoryBench({ log: (l) => process.stderr.write(`${l}\n`) })));
