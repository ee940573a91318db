/**
 * [O] the hardening settings in the node configurations: the trust domain (RFC 3325 §2.3), SIP
 * TCP limits, the Diameter limits before CER (RFC 6733 §5.3), and what `imsec core` derives for
 * them. A bad value is a typed configuration error naming its field.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultCoreConfig, nodeConfigInput, parseCoreConfig } from '../../../src/nodes/core/index.js';
import { parseHssConfig, HssConfigError } from '../../../src/nodes/hss/index.js';
import { parseIcscfConfig } from '../../../src/nodes/icscf/index.js';
import { IcscfConfigError } from '../../../src/nodes/icscf/errors.js';
import { parseScscfConfig, ScscfConfigError } from '../../../src/nodes/scscf/index.js';

describe('[O] hardening settings', () => {
  test('[O] defaults: loopback trust domain, transport TCP defaults, 5 s / 4 KiB / 64 before CER, peers from any address', () => {
    assert.deepEqual(parseScscfConfig({}).trustDomain, ['127.0.0.1', '::1']);
    assert.deepEqual(parseIcscfConfig({}).trustDomain, ['127.0.0.1', '::1']);
    assert.deepEqual(parseScscfConfig({}).sip.tcp, {});
    const d = parseHssConfig({}).diameter;
    assert.deepEqual([d.cerTimeoutMs, d.preCerMaxMessageSize, d.maxUnboundConnections], [5000, 4096, 64]);
    assert.ok(d.peers.every((p) => p.addresses === undefined));
  });

  test('[O] values are read; bad ones are typed errors naming the field', () => {
    const s = parseScscfConfig({ trustDomain: ['10.0.0.0/8'], sip: { tcp: { idleTimeoutMs: 1000, maxConnectionsPerSource: 4 } } });
    assert.deepEqual([s.trustDomain, s.sip.tcp], [['10.0.0.0/8'], { idleTimeoutMs: 1000, maxConnectionsPerSource: 4 }]);
    const cases: [() => unknown, new (...a: never[]) => Error, RegExp][] = [
      [() => parseScscfConfig({ trustDomain: ['10.0.0.1:5060'] }), ScscfConfigError, /^trustDomain: /],
      [() => parseScscfConfig({ trustDomain: '10.0.0.1' }), ScscfConfigError, /^trustDomain: /],
      [() => parseIcscfConfig({ sip: { tcp: { partialTimeoutMs: -1 } } }), IcscfConfigError, /^sip\.tcp\.partialTimeoutMs: /],
      [() => parseIcscfConfig({ sip: { tcp: { maxConections: 3 } } }), IcscfConfigError, /^sip\.tcp\.maxConections: unknown setting/],
      [() => parseHssConfig({ diameter: { preCerMaxMessageSize: 16 } }), HssConfigError, /^diameter\.preCerMaxMessageSize: /],
      [() => parseHssConfig({ diameter: { peers: [{ host: 'scscf.ims.lab', addresses: ['scscf.ims.lab'] }] } }), HssConfigError, /^diameter\.peers\[0\]\.addresses\[0\]: /],
    ];
    for (const [f, E, msg] of cases) assert.throws(f, (e: unknown) => e instanceof E && msg.test((e).message), String(msg));
  });

  test('[O] imsec core: the CSCFs trust the core\'s own address, the HSS knows its peers by that address too; settings may override', () => {
    const c = parseCoreConfig({ host: '127.0.0.5' });
    assert.deepEqual(parseScscfConfig(nodeConfigInput.scscf(c, { hssPort: 1, icscfPort: 2 })).trustDomain, ['127.0.0.5']);
    assert.deepEqual(parseIcscfConfig(nodeConfigInput.icscf(c, { hssPort: 1, scscfServerName: 'sip:scscf.ims.lab:6060' })).trustDomain, ['127.0.0.5']);
    assert.deepEqual(parseHssConfig(nodeConfigInput.hss(c, null)).diameter.peers.map((p) => [p.host, p.addresses]), [['scscf.ims.lab', ['127.0.0.5']], ['icscf.ims.lab', ['127.0.0.5']]]);
    const wildcard = { ...defaultCoreConfig(), host: '0.0.0.0' };
    assert.deepEqual(parseScscfConfig(nodeConfigInput.scscf(wildcard, { hssPort: 1, icscfPort: 2 })).trustDomain, ['127.0.0.1', '::1']);
    const custom = parseCoreConfig({ icscf: { settings: { trustDomain: ['10.1.0.0/16'], sip: { tcp: { partialTimeoutMs: 500 } } } } });
    const i = parseIcscfConfig(nodeConfigInput.icscf(custom, { hssPort: 1, scscfServerName: 'sip:scscf.ims.lab:6060' }));
    assert.deepEqual([i.trustDomain, i.sip.tcp], [['10.1.0.0/16'], { partialTimeoutMs: 500 }]);
  });
});
