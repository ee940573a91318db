/**
 * S-CSCF benchmark: the same measurement as `imsec bench scscf` (src/cli/bench-scscf.ts): imsec's
 * S-CSCF against Kamailio's under the same SIPp IMS AKA registrations, same HSS, interleaved rounds.
 * Needs sipp, kamailio (kamailio-ims-modules) and unshare.
 */
import { formatScscfBench, runScscfBench } from '../src/cli/bench-scscf.js';

process.stdout.write(formatScscfBench(await runScscfBench({ log: (l) => process.stderr.write(`${l}\n`) })));
