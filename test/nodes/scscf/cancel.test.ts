/**
 * The S-CSCF as a stateful proxy cancelling an INVITE (RFC 3261 §16.10, §9.1, §16.7): bob is
 * registered (IMS AKA against the real HSS core, in process, answered by the independent ISIM of
 * the harness) with his contact on a scripted UDP socket; a scripted upstream (an I-CSCF's place)
 * sends a terminating INVITE for sip:bob@ims.lab (TS 24.229 §5.4.3.3), the contact rings, the
 * upstream cancels. SIP on the wire is written as text; the S-CSCF runs on a ManualClock.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { ManualClock, SeededRng } from '../../../src/common/index.js';
import { HssCore } from '../../../src/nodes/hss/index.js';
import { createScscf, DiameterCxClient, parseScscfConfig, type Scscf } from '../../../src/nodes/scscf/index.js';
import { SqliteRegistrarStore } from '../../../src/store/registrar-sqlite.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { RawPort } from '../../support/raw-esp.js';
import { plainLeg, runCancel } from '../../support/cancel-scenario.js';
import { provision, registerFully, TestIsim } from './harness.js';

const HOST = '127.0.0.1';

describe('S-CSCF: CANCEL of a proxied INVITE (RFC 3261 §16.10, §9.1)', () => {
  const open: { close(): Promise<void> }[] = [];
  let scscf: Scscf | undefined;
  afterEach(async () => {
    await scscf?.stop();
    for (const p of open.splice(0)) await p.close();
  });

  test('a terminating INVITE to a registered contact, cancelled while it rings: 200 to the CANCEL here, the CANCEL on the INVITE\'s branch to the contact, the 487 back, each ACK on its hop', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const up = await RawPort.open(HOST);
    const down = await RawPort.open(HOST);
    const hssStore = new SqliteStore(':memory:');
    const store = new SqliteRegistrarStore(':memory:', { now: () => clock.now() });
    open.push(up, down, hssStore, store);
    await provision(hssStore, 'bob@ims.lab', ['sip:bob@ims.lab']);
    const hss = new HssCore({ store: hssStore, originHost: 'hss.ims.lab', originRealm: 'ims.lab', rng: new SeededRng('cancel-hss') });
    let sid = 0;
    const cx = new DiameterCxClient({
      request: (m) => hss.handle(m),
      newSessionId: () => `scscf.ims.lab;1;${++sid}`,
      originHost: 'scscf.ims.lab',
      originRealm: 'ims.lab',
      destinationRealm: 'ims.lab',
      destinationHost: 'hss.ims.lab',
      serverName: 'sip:scscf.ims.lab:6060',
    });
    scscf = createScscf(parseScscfConfig({ sip: { listen: `${HOST}:0`, protocols: ['udp'] }, registrar: { authItems: 1 }, icscf: null }), { clock, rng: new SeededRng('scscf-cancel'), store, cx });
    await scscf.start();
    const reg = await registerFully(scscf.core, new TestIsim(), { impu: 'sip:bob@ims.lab', impi: 'bob@ims.lab', contact: `<sip:bob@${HOST}:${down.port}>`, expires: 600 });
    assert.equal(reg.status, 200);

    const r = await runCancel({
      up: plainLeg(up, { address: HOST, port: scscf.address().sip.port }),
      down,
      stack: scscf.stack,
      clock,
      uri: 'sip:bob@ims.lab',
      viaHost: `${HOST}:${up.port}`,
      routes: [],
      to: 'sip:bob@ims.lab',
      headers: [['P-Asserted-Identity', '<sip:alice@ims.lab>']],
    });
    assert.deepEqual(r.upstream.map((x) => x.status), [100, 180, 200, 487]);
    // TS 24.229 §5.4.3.3: the Request-URI became bob's contact; the CANCEL carries the same one (§9.1).
    assert.equal(r.forwarded.uri, `sip:bob@${HOST}:${down.port}`);
    assert.equal(r.cancel.uri, r.forwarded.uri);
    assert.equal(r.forwarded.headers.get('P-Called-Party-ID'), '<sip:bob@ims.lab>');
  });
});
