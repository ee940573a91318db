/**
 * Registration benchmark: the same measurement as `imsec bench register` (src/cli/bench-register.ts):
 * full IMS AKA registrations per second through I-CSCF + S-CSCF + HSS, driven by SIPp at increasing
 * rates until registrations fail. Needs sipp.
 */
import { formatRegisterBench, runRegisterBench } from '../src/cli/bench-register.js';

process.stdout.write(formatRegisterBench(await runRegisterBench({ log: (l) => process.stderr.write(`${l}\n`) })));
