/**
 * SIP parse/serialize benchmark: the same measurement as `imsec bench sip` (src/cli/bench-sip.ts).
 */
import { printSipBench, runSipBench } from '../src/cli/bench-sip.js';

printSipBench(runSipBench(), (s) => process.stdout.write(s));
