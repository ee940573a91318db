/**
 * A separate OS process allocating SQNs, for the concurrency and crash tests:
 *
 *   node sqn-worker.js <store-url> <impi> <origin-host> <allocations|forever> <max-count> <seed> [pace-ms]
 *
 * pace-ms > 0 waits that long between allocations, so that two workers' runs overlap in time
 * even on a loaded machine where one could otherwise finish before the other is scheduled.
 *
 * It opens the store, prints `ready`, and starts when a line arrives on stdin (so that two
 * workers really run at the same time). Each allocation asks for 1..max-count SQNs; once `allocateSqns` has resolved (the transaction
 * is committed) every SQN is printed on its own line. Writes to a pipe are synchronous on
 * Linux, so a line printed is a line the parent will read even if this process is killed next.
 */
import { openStore } from '../../src/store/index.js';

const [url, impi, peer, howMany, maxCount, seed, paceMs] = process.argv.slice(2);
const pace = Number(paceMs ?? 0);
const total = howMany === 'forever' ? Infinity : Number(howMany);
const max = Number(maxCount);
let x = Number(seed) >>> 0 || 1;
const next = (): number => {
  x ^= x << 13;
  x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5;
  x >>>= 0;
  return x;
};

const store = await openStore(url);
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
process.stdin.destroy();
for (let i = 0; i < total; i++) {
  const a = await store.allocateSqns(impi, peer, 1 + (next() % max));
  process.stdout.write(a.sqns.join('\n') + '\n');
  if (pace > 0) await new Promise((resolve) => setTimeout(resolve, pace));
}
await store.close();
