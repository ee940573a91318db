/**
 * ESP encap/decap (RFC 4303) per transform over a payload sweep, each beside bare node:crypto
 * doing the same HMAC/cipher work on the same bytes (see src/cli/bench-esp.ts). Also available
 * as `imsec bench esp [--json]`.
 */
import { formatEspBench, runEspBench } from '../src/cli/bench-esp.js';

const r = runEspBench({ sizes: [64, 200, 1000, 4000] });
process.stdout.write(formatEspBench(r));
const sha1 = r.results['hmac-sha-1-96/null'];
if (sha1) {
  const worst = Math.min(...Object.values(sha1).map((c) => c.ratio_to_bare));
  console.log(`\nhmac-sha-1-96/null worst ratio to bare node:crypto: ${worst.toFixed(2)} (target >= 0.70)`);
}
