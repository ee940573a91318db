/**
 * The datapath mirror under load (issue [K]): a registration waits only for its own set's SAs to
 * be installed (TS 33.203 §7.2: the protected REGISTER needs the new SAs), not for the whole
 * table's operations, which under load never all finish at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, SeededRng } from '../../../src/common/index.js';
import { SaManager, mirrorSaTable, type IpsecDatapath, type SecurityAssociation } from '../../../src/ipsec/index.js';

const IK = new Uint8Array(16).fill(7);
const CK = new Uint8Array(16).fill(9);

function newSet(sa: SaManager, n: number): number {
  const r = sa.createSet({ impi: `u${n}@ims.lab`, impus: [`sip:u${n}@ims.lab`], ueAddress: `127.9.0.${n}`, pcscfAddress: '127.0.0.1', remote: { spiC: 0x80000100 + 2 * n, spiS: 0x80000101 + 2 * n, portC: 40000, portS: 40001 }, local: { spiC: 0x1000 + 2 * n, spiS: 0x1001 + 2 * n, portC: 5101, portS: 5100 }, integrity: 'hmac-sha-1-96', encryption: 'null', mode: 'UDP-enc-tun', ik: IK, ck: CK });
  assert.ok(r.ok);
  return r.set.id;
}

test('[R-SA-7] [R-SM-6] settled(set) resolves once that set is installed while another set\'s installs are still pending; idle() waits for both', async () => {
  const sa = new SaManager({ role: 'pcscf', clock: new ManualClock(0), rng: new SeededRng(1) });
  const held = new Map<string, () => void>();
  const installed: string[] = [];
  const dp: IpsecDatapath = {
    name: 'held',
    install: (x: SecurityAssociation) =>
      x.impi === 'u2@ims.lab'
        ? new Promise<void>((r) => held.set(x.id, () => (installed.push(x.id), r())))
        : (installed.push(x.id), Promise.resolve()),
    remove: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const mirror = mirrorSaTable(sa, dp);
  const slow = newSet(sa, 2);
  const fast = newSet(sa, 1);
  let idle = false;
  const allDone = mirror.idle().then(() => (idle = true));
  await mirror.settled(fast);
  assert.equal(installed.filter((id) => id.startsWith(`${fast}/`)).length, 4, 'the four SAs of the set are in');
  assert.equal(idle, false, 'the other set is still being installed');
  assert.equal(held.size, 4);
  for (const release of held.values()) release();
  await mirror.settled(slow);
  await allDone;
  assert.equal(idle, true);
  assert.equal(installed.length, 8);
  await mirror.settled(999);
  mirror.stop();
});
