/**
 * `imsec core`: a reg-event NOTIFY too large for UDP under RFC 3261 §18.1.1's unknown-MTU rule
 * (over 1300 bytes: a subscriber with many IMPUs) still reaches the UE. The core's nodes share one
 * host address, so the path MTU between them is known (the loopback device) and the S-CSCF sends
 * the NOTIFY over UDP from its SIP port; the P-CSCF, whose trusted-core entries are the S-CSCF's
 * and I-CSCF's `address:port` (R-SA-5: UEs may share the core's address on a lab host), takes it
 * for the core's. The control: told the path MTU is 1500, the S-CSCF moves it to TCP, from an
 * ephemeral port, and the P-CSCF refuses it 403 as a non-REGISTER on the unprotected port.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { createImsCore, parseCoreConfig, type ImsCore } from '../../../src/nodes/core/index.js';
import { createUe, parseUeConfig, type Ue, type UeIncomingRequest } from '../../../src/nodes/ue/index.js';
import { waitFor } from '../../support/wait.js';

const HOST = '127.0.0.1';
// TS 35.208 test set 4 (K, OP), with ten IMPUs: its reginfo (RFC 3680) is well over 1300 bytes.
const DAVE = {
  impi: 'dave@ims.lab',
  impus: ['sip:dave@ims.lab', ...Array.from({ length: 9 }, (_, i) => `tel:+1555010${String(i).padStart(2, '0')}`)],
  k: '9e5944aea94b81165c82fbf9f32db751',
  op: '223014c5806694c007ca1eeef57f004f',
};

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

async function world(scscfSettings: Record<string, unknown> = {}): Promise<{ core: ImsCore; ue: Ue; requests: UeIncomingRequest[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-large-notify-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const core = createImsCore(
    parseCoreConfig({
      dataDir: dir,
      host: HOST,
      hss: { diameterPort: 0 },
      scscf: { sipPort: 0, settings: scscfSettings },
      icscf: { sipPort: 0 },
      pcscf: { sipPort: 0, protectedPorts: 'auto' },
      subscribers: [DAVE],
      logLevel: 'silent',
    }),
  );
  cleanup.push(() => core.stop());
  await core.start();
  const p = core.pcscf.address().sip;
  const ue = createUe(parseUeConfig({ impi: DAVE.impi, impu: DAVE.impus[0], k: DAVE.k, op: DAVE.op, pcscf: `${p.address}:${p.port}`, localAddress: HOST, subscribeRegEvent: true, reRegister: { auto: false } }));
  cleanup.push(() => ue.stop());
  await ue.start();
  const requests: UeIncomingRequest[] = [];
  ue.onIncomingRequest((r) => requests.push(r));
  return { core, ue, requests };
}

describe('imsec core: a large reg-event NOTIFY between nodes on one host (RFC 3261 §18.1.1, TS 24.229 §5.4.2.1.2)', () => {
  test('[R-RR-5] [R-SA-5] the initial NOTIFY with ten IMPUs reaches the UE over UDP; the P-CSCF refuses nothing', async () => {
    const { core, ue, requests } = await world();
    const reg = await ue.register();
    assert.equal(reg.impus.length, 10);
    await waitFor(() => requests.some((r) => r.method === 'NOTIFY'), 'the initial reg-event NOTIFY at the UE', 10_000);
    const notify = requests.find((r) => r.method === 'NOTIFY')!;
    assert.equal(notify.status, 200, 'the UE read its reginfo and answered 200');
    assert.equal(core.pcscf.counters().portRuleRejected, 0, 'nothing from the core was refused on the unprotected port');
    await ue.deregister();
  });

  test('[R-SA-5] control: with the path MTU said to be 1500 the NOTIFY goes over TCP from an ephemeral port and the P-CSCF refuses it', async () => {
    const { core, ue, requests } = await world({ sip: { pathMtu: 1500 } });
    await ue.register();
    await waitFor(() => core.pcscf.counters().portRuleRejected > 0, 'the P-CSCF refusing the NOTIFY from a port not its trusted core', 10_000);
    assert.equal(requests.filter((r) => r.method === 'NOTIFY').length, 0, 'no NOTIFY reached the UE');
    await ue.deregister();
  });
});
