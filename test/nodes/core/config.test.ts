/**
 * The core configuration: defaults of the node conventions, the print/parse round trip with
 * redacted keys, refusals naming the field, the node configurations derived from it (each node's
 * own parser must accept them; wiring wins over `settings`), and the provisioning of subscribers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ImsError } from '../../../src/common/index.js';
import { parseHssConfig } from '../../../src/nodes/hss/index.js';
import { parseIcscfConfig } from '../../../src/nodes/icscf/index.js';
import { parsePcscfConfig } from '../../../src/nodes/pcscf/index.js';
import { parseScscfConfig } from '../../../src/nodes/scscf/index.js';
import { CoreConfigError, coreConfigJson, defaultCoreConfig, DEMO_SUBSCRIBERS, nodeConfigInput, parseCoreConfig, provisionCoreSubscribers } from '../../../src/nodes/core/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';

const K4 = '9e5944aea94b81165c82fbf9f32db751';
const OP4 = '223014c5806694c007ca1eeef57f004f';

function refused(raw: unknown, field: RegExp): void {
  assert.throws(
    () => parseCoreConfig(raw),
    (e: unknown) => e instanceof CoreConfigError && e instanceof ImsError && e.code === 'CONFIG' && field.test(e.message),
  );
}

describe('core configuration', () => {
  test('[R-RR-1] {} is the lab core of the node conventions with the two demo subscribers (P-CSCF port_ps 5100, port_pc pool 5101-5108)', () => {
    const c = parseCoreConfig({});
    assert.deepEqual(c, defaultCoreConfig());
    assert.equal(c.hss.diameterPort, 3868);
    assert.equal(c.scscf.sipPort, 6060);
    assert.equal(c.icscf.sipPort, 4060);
    assert.equal(c.pcscf.sipPort, 5060);
    assert.deepEqual(c.pcscf.protectedPorts, { min: 5100, max: 5108 });
    assert.equal(c.pcscf.datapath, 'userspace');
    assert.deepEqual(
      c.subscribers.map((s) => [s.impi, s.impus]),
      [
        ['alice@ims.lab', ['sip:alice@ims.lab', 'tel:+15550101']],
        ['bob@ims.lab', ['sip:bob@ims.lab', 'tel:+15550102']],
      ],
    );
  });

  test('printed JSON hides every key and parses back to the same configuration', () => {
    const c = parseCoreConfig({ realm: 'ims.lab', hss: { diameterPort: 0, rest: '127.0.0.1:0' }, pcscf: { protectedPorts: 'auto', settings: { t: 1 } }, subscribers: [...DEMO_SUBSCRIBERS.map((s) => ({ ...s, impus: [...s.impus] }))] });
    const json = coreConfigJson(c);
    const text = JSON.stringify(json);
    for (const s of DEMO_SUBSCRIBERS) {
      assert.ok(!text.includes(s.k) && !text.includes(s.op!), 'a demo key was printed');
    }
    assert.equal((json.subscribers as { k: string }[])[0].k, '[secret]');
    assert.deepEqual(parseCoreConfig(JSON.parse(text)), c);
  });

  test('"[secret]" stands for a built-in demo key only; another subscriber needs its key', () => {
    const c = parseCoreConfig({ subscribers: [{ impi: 'alice@ims.lab', impus: ['sip:alice@ims.lab'], k: '[secret]', op: '[secret]' }] });
    assert.equal(c.subscribers[0].k, DEMO_SUBSCRIBERS[0].k);
    refused({ subscribers: [{ impi: 'carol@ims.lab', impus: ['sip:carol@ims.lab'], k: '[secret]', op: OP4 }] }, /^subscribers\[0\]\.k: is redacted/);
  });

  test('mistakes are refused naming the field, never quoting a key', () => {
    refused({ hss: { diameterPrt: 1 } }, /^hss\.diameterPrt: unknown setting/);
    refused({ scscf: { sipPort: 70000 } }, /^scscf\.sipPort: must be a port/);
    refused({ pcscf: { protectedPorts: '5100-5100' } }, /^pcscf\.protectedPorts/);
    refused({ pcscf: { datapath: 'kernel' } }, /^pcscf\.datapath/);
    refused({ realm: 'not a realm' }, /^realm: must be a domain name/);
    refused({ logLevel: 'loud' }, /^logLevel/);
    refused({ icscf: { settings: [] } }, /^icscf\.settings/);
    refused({ subscribers: [{ impi: 'carol@ims.lab', impus: ['sip:carol@ims.lab'], k: K4 }] }, /^subscribers\[0\]\.op: give exactly one of op and opc/);
    refused({ subscribers: [{ impi: 'carol@ims.lab', impus: ['sip:carol@ims.lab'], k: 'zz', op: OP4 }] }, /^subscribers\[0\]\.k: must be 16 bytes/);
    refused({ subscribers: [{ impi: 'carol@ims.lab', impus: ['carol'], k: K4, op: OP4 }] }, /^subscribers\[0\]: /);
    refused({ subscribers: [{ impi: 'carol@ims.lab', impus: ['sip:carol@ims.lab'], k: K4, op: OP4 }, { impi: 'carol@ims.lab', impus: ['sip:carol2@ims.lab'], k: K4, op: OP4 }] }, /^subscribers\[1\]\.impi: IMPI carol@ims\.lab is listed twice/);
    try {
      parseCoreConfig({ subscribers: [{ impi: 'carol@ims.lab', impus: ['nope'], k: K4, op: OP4 }] });
    } catch (e) {
      assert.ok(!(e as Error).message.includes(K4));
    }
  });

  test('settings hold JSON data only (RFC 8259 §3, §6), so they print and parse back unchanged', () => {
    // The fuzz counterexample of fuzz/core-demo (seed -54715649): an undefined array element.
    refused({ scscf: { settings: { '': [undefined] } } }, /^scscf\.settings\.\[0\]: must be JSON data/);
    refused({ hss: { settings: { t: Number.NaN } } }, /^hss\.settings\.t: must be JSON data/);
    refused({ pcscf: { settings: { when: new Date(0) } } }, /^pcscf\.settings\.when: must be JSON data/);
    refused({ icscf: { settings: { n: 1n } } }, /^icscf\.settings\.n: must be JSON data/);
    const c = parseCoreConfig({ scscf: { settings: { a: undefined, b: -0, c: [1, { d: null }] } } });
    assert.deepEqual(c.scscf.settings, { b: 0, c: [1, { d: null }] });
    assert.ok(Object.is(c.scscf.settings.b, 0));
    assert.deepEqual(parseCoreConfig(JSON.parse(JSON.stringify(coreConfigJson(c)))), c);
  });

  test("every node's own parser takes the derived configuration; the wiring wins over settings, other settings pass", () => {
    const c = parseCoreConfig({
      realm: 'lab.example',
      host: '127.0.0.1',
      dataDir: '/data',
      scscf: { sipPort: 0, settings: { sip: { listen: '10.0.0.1:9' }, registrar: { authItems: 3 } } },
      pcscf: { settings: { policy: { algs: ['hmac-md5-96'] } } },
    });
    const hss = parseHssConfig(nodeConfigInput.hss(c, null));
    assert.equal(hss.store, 'sqlite:/data/hss.sqlite');
    assert.deepEqual(hss.diameter.listen, { host: '127.0.0.1', port: 3868 });
    assert.equal(hss.diameter.originHost, 'hss.lab.example');
    assert.deepEqual(hss.diameter.peers.map((p) => p.host), ['scscf.lab.example', 'icscf.lab.example']);
    assert.deepEqual(hss.serverCapabilities.serverNames, []);
    assert.equal(hss.rest, null);
    const scscf = parseScscfConfig(nodeConfigInput.scscf(c, { hssPort: 1111, icscfPort: 2222 }));
    assert.deepEqual(scscf.sip.listen, { host: '127.0.0.1', port: 0 });
    assert.equal(scscf.registrar.authItems, 3);
    assert.equal(scscf.serverName, 'sip:scscf.lab.example');
    assert.deepEqual(scscf.diameter.hss, { host: 'hss.lab.example', realm: 'lab.example', port: 1111, address: '127.0.0.1' });
    assert.equal(scscf.icscf, 'sip:icscf.lab.example:2222');
    assert.equal(scscf.store, 'sqlite:/data/scscf.sqlite');
    const icscf = parseIcscfConfig(nodeConfigInput.icscf(c, { hssPort: 1111, scscfServerName: 'sip:scscf.lab.example:3333' }));
    assert.deepEqual(icscf.diameter.hss.connect, { host: '127.0.0.1', port: 1111 });
    assert.deepEqual(icscf.scscfs.map((s) => s.uri), ['sip:scscf.lab.example:3333']);
    assert.deepEqual(icscf.homeDomains, ['lab.example']);
    const pcscf = parsePcscfConfig(nodeConfigInput.pcscf(c, { icscfPort: 2222, scscfPort: 3333 }));
    assert.equal(pcscf.icscf, 'sip:icscf.lab.example:2222');
    assert.equal(pcscf.hosts['icscf.lab.example'], '127.0.0.1');
    assert.deepEqual(pcscf.policy.algs, ['hmac-md5-96']);
    // [R-SA-5] only the CSCFs' own ports count as the core on the unprotected port.
    assert.deepEqual(pcscf.trustedCore, ['127.0.0.1:3333', '127.0.0.1:2222']);
    assert.deepEqual(pcscf.protected.ports, { min: 5100, max: 5108 });
  });

  test('with a fixed S-CSCF port the HSS names it in Server-Capabilities', () => {
    const c = parseCoreConfig({});
    assert.deepEqual(parseHssConfig(nodeConfigInput.hss(c, 'sip:scscf.ims.lab:6060')).serverCapabilities.serverNames, ['sip:scscf.ims.lab:6060']);
  });
});

describe('provisioning', () => {
  test('[R-REG-2] subscribers are created once, then updated in place (SQN state kept)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-core-prov-'));
    const store = new SqliteStore(join(dir, 'hss.sqlite'));
    try {
      const subs = parseCoreConfig({}).subscribers;
      assert.deepEqual(await provisionCoreSubscribers(store, subs), [
        { impi: 'alice@ims.lab', action: 'created' },
        { impi: 'bob@ims.lab', action: 'created' },
      ]);
      const alloc = await store.allocateSqns('alice@ims.lab', 'scscf.ims.lab', 3);
      const seqBefore = (await store.getSubscriber('alice@ims.lab'))!.seqHe;
      assert.ok(alloc && seqBefore > 0);
      const again = [{ ...subs[0], impus: ['sip:alice@ims.lab', 'tel:+15550101', 'sip:alice.w@ims.lab'] }];
      assert.deepEqual(await provisionCoreSubscribers(store, again), [{ impi: 'alice@ims.lab', action: 'updated' }]);
      const after = (await store.getSubscriber('alice@ims.lab'))!;
      assert.equal(after.seqHe, seqBefore);
      assert.deepEqual(
        after.impus.map((u) => [u.impu, u.irs]),
        [
          ['sip:alice@ims.lab', 1],
          ['tel:+15550101', 1],
          ['sip:alice.w@ims.lab', 1],
        ],
      );
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
