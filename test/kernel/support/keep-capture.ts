/**
 * A failed capture check can keep its evidence: with IMSEC_KEEP_CAPTURES=DIR set (it reaches the
 * user-mode Linux guest like every IMSEC_* variable, scripts/lab/run.sh), a check that throws
 * copies its pcap, the esp_sa records it decoded with and the logs it is given into a new
 * directory under DIR, and its message names that directory. The keys are the lab's test keys; the file is for its owner only.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Runs `check`; when it throws and IMSEC_KEEP_CAPTURES is set, keeps `pcap`, `keys` and the
 * `logs` (file name → text, e.g. the core's log lines) first.
 */
export function keepingCapture<T>(pcap: string, keys: readonly string[], check: () => T, logs: Record<string, () => string> = {}): T {
  try {
    return check();
  } catch (err) {
    const dir = process.env.IMSEC_KEEP_CAPTURES;
    if (!dir || !(err instanceof Error)) throw err;
    mkdirSync(dir, { recursive: true });
    const kept = mkdtempSync(join(dir, 'capture-'));
    copyFileSync(pcap, join(kept, 'capture.pcap'));
    writeFileSync(join(kept, 'esp_sa.txt'), keys.map((l) => `${l}\n`).join(''), { mode: 0o600 });
    for (const [name, text] of Object.entries(logs)) writeFileSync(join(kept, name), text());
    err.message += ` (capture and keys kept in ${kept})`;
    throw err;
  }
}
