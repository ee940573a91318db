import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultIcscfConfig, describeIcscfConfig, IcscfConfigError, parseIcscfConfig } from '../../../src/nodes/icscf/index.js';

const KV = '000102030405060708090a0b0c0d0e0f';

describe('I-CSCF configuration', () => {
  test('an empty file gives the default lab I-CSCF (SIP 4060, icscf.ims.lab, HSS 3868, S-CSCF 6060, no THIG)', () => {
    const c = parseIcscfConfig({});
    assert.deepEqual(c, defaultIcscfConfig());
    assert.deepEqual([c.sip.listen.port, c.diameter.originHost, c.diameter.hss.connect.port, c.scscfs[0].uri, c.thig], [4060, 'icscf.ims.lab', 3868, 'sip:scscf.ims.lab:6060', null]);
  });

  test('fields map onto the typed config; Kv becomes 16 bytes; THIG host defaults to the home domain', () => {
    const c = parseIcscfConfig({
      sip: { listen: '127.0.0.1:0', protocols: ['UDP'] },
      diameter: { originHost: 'icscf2.ims.lab', hss: { connect: { host: '127.0.0.1', port: 3869 } }, requestTimeoutMs: 500 },
      homeDomains: ['home.net'],
      homeAddresses: ['127.0.0.1:6060'],
      scscfs: ['sip:s1.home.net', { uri: 'sip:s2.home.net', capabilities: [1, 2] }],
      thig: { kv: `0x${KV}`, port: 4060, headers: ['Via', 'Path'] },
    });
    assert.deepEqual(c.sip.listen, { host: '127.0.0.1', port: 0 });
    assert.deepEqual(c.sip.protocols, ['udp']);
    assert.equal(c.diameter.destinationRealm, 'ims.lab');
    assert.equal(c.defaultVisitedNetwork, 'home.net');
    assert.deepEqual(c.scscfs, [{ uri: 'sip:s1.home.net' }, { uri: 'sip:s2.home.net', capabilities: [1, 2] }]);
    assert.deepEqual([...c.thig!.kv], [...Buffer.from(KV, 'hex')]);
    assert.deepEqual([c.thig!.host, c.thig!.port, c.thig!.headers], ['home.net', 4060, ['via', 'path']]);
    assert.ok(!JSON.stringify(describeIcscfConfig(c)).includes(KV));
  });

  test('bad values name the field (code CONFIG) and never repeat Kv', () => {
    const cases: [unknown, string][] = [
      [[], 'config'],
      [{ colour: 1 }, 'colour'],
      [{ sip: { listen: 'nowhere' } }, 'sip.listen'],
      [{ sip: { protocols: ['sctp'] } }, 'sip.protocols'],
      [{ homeDomains: [] }, 'homeDomains'],
      [{ homeAddresses: ['1.2.3.4:70000'] }, 'homeDomains'],
      [{ thig: { kv: KV.slice(2) } }, 'thig.kv'],
      [{ thig: { kv: 'zz' + KV.slice(2) } }, 'thig.kv'],
      [{ thig: { kv: KV, headers: ['Contact'] } }, 'thig.headers'],
      [{ recordRoute: 'sometimes' }, 'recordRoute'],
    ];
    for (const [raw, field] of cases) {
      assert.throws(
        () => parseIcscfConfig(raw),
        (e: unknown) => e instanceof IcscfConfigError && e.code === 'CONFIG' && e.field === field && !e.message.includes(KV.slice(2)),
        field,
      );
    }
  });
});
