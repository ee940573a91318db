/**
 * The HSS configuration (nodes/hss/config.ts) and how `imsec hss` flags override it
 * (cli/hss.ts): defaults, every field, refusals naming the field.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultHssConfig, HssConfigError, parseHostPort, parseHssConfig } from '../../../src/nodes/hss/config.js';
import { hssConfigFrom } from '../../../src/cli/hss.js';

describe('HSS configuration', () => {
  test('[R-CX-1] defaults: 127.0.0.1:3868, hss.ims.lab / ims.lab, embedded SQLite in ./.imsec, REST on 127.0.0.1:8080', () => {
    const c = parseHssConfig({});
    assert.deepEqual(c, defaultHssConfig());
    assert.deepEqual(c.diameter.listen, { host: '127.0.0.1', port: 3868 });
    assert.deepEqual([c.diameter.originHost, c.diameter.originRealm], ['hss.ims.lab', 'ims.lab']);
    assert.equal(c.store, 'sqlite:.imsec/hss.sqlite');
    assert.deepEqual(c.rest, { listen: { host: '127.0.0.1', port: 8080 } });
    assert.equal(c.maxAuthItems, 5);
    assert.equal(c.visitedNetworks, null);
  });

  test('[R-CX-1] every setting is read; peers as names or objects; rest null turns the API off', () => {
    const c = parseHssConfig({
      dataDir: '/var/lib/hss',
      diameter: { listen: '[::1]:3870', originHost: 'hss.example.net', originRealm: 'example.net', peers: ['scscf.example.net', { host: 'icscf.example.net', realm: 'other.net', connect: '10.0.0.2:3868' }], watchdogMs: 10000 },
      rest: null,
      maxAuthItems: 10,
      serverCapabilities: { mandatory: [1], serverNames: ['sip:scscf.example.net'] },
      visitedNetworks: ['example.net'],
      scscfHosts: { 'sip:scscf.example.net': 'scscf.example.net' },
      logLevel: 'warn',
    });
    assert.equal(c.store, 'sqlite:/var/lib/hss/hss.sqlite');
    assert.deepEqual(c.diameter.listen, { host: '::1', port: 3870 });
    assert.deepEqual(c.diameter.hostIpAddresses, ['::1']);
    assert.deepEqual(c.diameter.peers, [{ host: 'scscf.example.net' }, { host: 'icscf.example.net', realm: 'other.net', connect: { host: '10.0.0.2', port: 3868 } }]);
    assert.equal(c.rest, null);
    assert.deepEqual(c.serverCapabilities, { mandatory: [1], optional: [], serverNames: ['sip:scscf.example.net'] });
    assert.deepEqual([c.maxAuthItems, c.visitedNetworks, c.logLevel, c.diameter.watchdogMs], [10, ['example.net'], 'warn', 10000]);
  });

  test('[R-CX-1] mistakes are refused with the field named: unknown keys, bad ports, bad types', () => {
    const bad: [unknown, RegExp][] = [
      [{ diamter: {} }, /^diamter: unknown setting/],
      [{ diameter: { listen: '127.0.0.1' } }, /^diameter\.listen: expected HOST:PORT/],
      [{ diameter: { listen: '127.0.0.1:70000' } }, /^diameter\.listen: must be an integer in 0\.\.65535/],
      [{ diameter: { peers: [7] } }, /^diameter\.peers\[0\]: must be a host name/],
      [{ maxAuthItems: 0 }, /^maxAuthItems: must be an integer in 1\.\.100/],
      [{ logLevel: 'loud' }, /^logLevel: must be/],
      [[], /^config: the configuration must be a JSON object/],
    ];
    for (const [raw, re] of bad) {
      assert.throws(() => parseHssConfig(raw), (e: unknown) => e instanceof HssConfigError && e.code === 'CONFIG' && re.test(e.message), JSON.stringify(raw));
    }
    assert.deepEqual(parseHostPort({ host: 'h', port: 1 }, 'x'), { host: 'h', port: 1 });
  });

  test('[R-CX-1] flags override: --listen, --peer, --store, --data-dir, --rest off, --max-auth-items', () => {
    const c = hssConfigFrom({ listen: '127.0.0.2:0', peer: ['a.ims.lab', 'b.ims.lab'], dataDir: '/tmp/d', rest: 'off', maxAuthItems: '3', originHost: 'h.ims.lab' });
    assert.deepEqual(c.diameter.listen, { host: '127.0.0.2', port: 0 });
    assert.deepEqual(c.diameter.hostIpAddresses, ['127.0.0.2']);
    assert.deepEqual(c.diameter.peers, [{ host: 'a.ims.lab' }, { host: 'b.ims.lab' }]);
    assert.equal(c.store, 'sqlite:/tmp/d/hss.sqlite');
    assert.equal(c.rest, null);
    assert.equal(c.maxAuthItems, 3);
    assert.equal(c.diameter.originHost, 'h.ims.lab');
    assert.equal(hssConfigFrom({ store: 'postgres://hss@db/hss', peer: [] }).store, 'postgres://hss@db/hss');
  });
});
