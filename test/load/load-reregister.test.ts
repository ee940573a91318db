/**
 * `imsec load`'s UEs stay registered for `--duration` and re-register before expiry on their own
 * timers (R-REG-3), each time with a new SA set (R-RR-1), then de-register (TS 24.229 §5.1.1.6):
 * against `imsec core` as a child process, whose S-CSCF grants short expiries.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { driveLoad, rangeRows, toLoadSubscribers } from '../../src/load/index.js';
import { printCoreLogOnFailure, startCoreProcess, type CoreProcess } from '../e2e/support/core-process.js';

const K = 'fec86ba6eb707ed08905757b1bb44b8f';
const OP = 'dbc59adcb6f9a0ef735477b7fadf8374';
const UES = 20;
const subscribers = toLoadSubscribers(rangeRows({ prefix: 'rr', from: 1, to: UES }, { k: K, op: OP }, 'ims.lab'));

let core: CoreProcess;
printCoreLogOnFailure(() => core);
before(async () => {
  core = await startCoreProcess({ scscf: { sipPort: 0, settings: { registrar: { minExpires: 1 } } }, subscribers: subscribers.map((s) => ({ impi: s.impi, impus: [s.impu], k: K, op: OP })) }, false);
});
after(async () => {
  await core?.stop();
});

test('[R-LAB-4] [R-REG-3] [R-RR-1] registered UEs re-register before expiry while the run lasts, then de-register: zero failures', async () => {
  const s = await driveLoad({ pcscf: { address: '127.0.0.1', port: core.pcscfPort }, subscribers, scenario: 'register', rate: 40, expires: 10, durationMs: 12_000, firstAddress: '127.7.0.1', portBase: 12600 });
  assert.equal(s.ops.register?.ok, UES);
  assert.ok((s.ops.reregister?.ok ?? 0) >= UES, `every UE re-registered at least once: ${JSON.stringify(s.ops.reregister)}`);
  assert.equal(s.ops.deregister?.ok, UES);
  assert.equal(s.failureRatio, 0, JSON.stringify(s.ops));
});
