/**
 * Registrations with IMS AKA + IPsec through `imsec core`: the same measurement as
 * `imsec bench register-ipsec` (src/cli/bench-register-ipsec.ts): the rate with nobody
 * registered, with N registered (flatness), and the core's memory per registered UE.
 * N is 5,000 unless IMSEC_BENCH_REGISTERED says otherwise.
 */
import { formatRegisterIpsecBench, runRegisterIpsecBench } from '../src/cli/bench-register-ipsec.js';

const registered = Number(process.env.IMSEC_BENCH_REGISTERED ?? 5000);
process.stdout.write(formatRegisterIpsecBench(await runRegisterIpsecBench({ registered, probe: 1000, rate: 200, rounds: 3, log: (l) => process.stderr.write(`${l}\n`) })));
