/**
 * [M] The node configurations from one schema each (nodes/<node>/config.ts, common/schema.ts): on
 * any JSON, a parser returns a configuration or throws its node's configuration error (code
 * CONFIG, the message starting with the field it names), nothing else; and every configuration the
 * schema accepts round-trips: its document form (the schema's codecs run backwards) printed as
 * JSON parses back to the same configuration. Fixed seeds (test/support/fuzz.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { TSchema } from 'typebox';
import { encodeSchema } from '../../src/common/schema.js';
import { NodeConfigError } from '../../src/nodes/common/config-fields.js';
import { HssConfigSchema, parseHssConfig } from '../../src/nodes/hss/index.js';
import { IcscfConfigSchema, parseIcscfConfig } from '../../src/nodes/icscf/index.js';
import { parsePcscfConfig, PcscfConfigSchema } from '../../src/nodes/pcscf/index.js';
import { parseScscfConfig, ScscfConfigSchema } from '../../src/nodes/scscf/index.js';
import { decodeFuzzValue, encodeFuzzValue, fuzzTarget } from '../support/fuzz.js';

const RUNS = 300;
const fuzz = fuzzTarget<{ node: string; raw: unknown }>(import.meta.url, (input) => ({ ext: '.json', data: encodeFuzzValue(input) }));

const NODES: Record<string, { schema: TSchema; parse: (raw: unknown) => unknown }> = {
  pcscf: { schema: PcscfConfigSchema, parse: parsePcscfConfig },
  icscf: { schema: IcscfConfigSchema, parse: parseIcscfConfig },
  scscf: { schema: ScscfConfigSchema, parse: parseScscfConfig },
  hss: { schema: HssConfigSchema, parse: parseHssConfig },
};

/** A configuration or a CONFIG error naming a field; what parses round-trips through its JSON document form. */
const contract = fuzz.guard(({ node, raw }: { node: string; raw: unknown }) => {
  const { schema, parse } = NODES[node];
  let c: unknown;
  try {
    c = parse(raw);
  } catch (e) {
    assert.ok(e instanceof NodeConfigError && e.code === 'CONFIG', `${node} threw ${String(e)}`);
    assert.ok(e.message.startsWith(`${e.field}: `), e.message);
    return;
  }
  const printed = JSON.parse(JSON.stringify(encodeSchema(schema, c))) as unknown;
  assert.deepEqual(parse(printed), c, `${node}: the printed form parses to another configuration`);
});

const num = fc.oneof(fc.integer({ min: -2, max: 70_000 }), fc.constantFrom(0, 1, 500, 6000, 65535, 4_294_967_295), fc.double(), fc.string({ maxLength: 3 }));
const hostPort = fc.oneof(
  fc.constantFrom('127.0.0.1:0', '[::1]:5060', '10.0.0.1:70000', 'nowhere', 'h.lab:1'),
  fc.record({ host: fc.constantFrom('127.0.0.1', 'h.lab', ''), port: num }, { requiredKeys: [] }),
  fc.string({ maxLength: 10 }),
);
const names = fc.oneof(fc.array(fc.constantFrom('ims.lab', 'a.ims.lab', '127.0.0.1', '10.0.0.0/8', '::1', ''), { maxLength: 3 }), fc.string({ maxLength: 4 }));
const protocols = fc.oneof(fc.constant(['udp']), fc.constant(['UDP', 'tcp']), fc.array(fc.constantFrom('udp', 'tcp', 'sctp', 'TCP'), { maxLength: 3 }));
const sip = fc.record({ listen: hostPort, protocols, t1Ms: num, tcp: fc.record({ idleTimeoutMs: num, maxConnections: num }, { requiredKeys: [] }) }, { requiredKeys: [] });
const common = { sip, logLevel: fc.constantFrom('warn', 'silent', 'loud'), hosts: fc.oneof(fc.dictionary(fc.constantFrom('a.lab', 'b.lab'), fc.constantFrom('127.0.0.1', 'x')), fc.constant([])), extra: fc.anything({ maxDepth: 1 }) };
const opt = { requiredKeys: [] as never[] };

const docs: Record<string, fc.Arbitrary<unknown>> = {
  pcscf: fc.record(
    {
      ...common,
      protected: fc.record({ ports: fc.oneof(fc.constantFrom('auto', null, '6000-6010', '7-7', '5100-5108'), fc.record({ min: num, max: num })), responseFlow: fc.constantFrom('client-to-server', 'server-to-client', 'both'), address: fc.constantFrom('127.0.0.1', 'p.lab') }, opt),
      policy: fc.record({ algs: fc.subarray(['HMAC-MD5-96', 'hmac-sha-1-96', 'aes-gmac', 'null', 'sha9']), ealgs: fc.subarray(['aes-gcm', 'aes-cbc', 'null', 'rot13']), honourQ: fc.oneof(fc.boolean(), fc.constant('yes')) }, opt),
      datapath: fc.constantFrom('userspace', 'xfrm', 'kernel'),
      trustedCore: fc.array(fc.constantFrom('127.0.0.1', '10.0.0.1:5060', '[::1]:5060', 'scscf.lab', '1.2.3.4:0'), { maxLength: 3 }),
      maxSetsPerImpi: num,
      regEvent: fc.record({ subscribe: fc.boolean(), expires: num }, opt),
      icscf: fc.constantFrom('sip:icscf.ims.lab:4060', 'tel:+1', ''),
    },
    opt,
  ),
  icscf: fc.record(
    {
      ...common,
      trustDomain: names,
      homeDomains: names,
      homeAddresses: fc.array(fc.constantFrom('127.0.0.1:6060', '1.2.3.4:70000', 'x'), { maxLength: 2 }),
      scscfs: fc.array(fc.oneof(fc.constantFrom('sip:s.lab', ''), fc.record({ uri: fc.constant('sip:s2.lab'), capabilities: fc.array(num, { maxLength: 2 }) }, opt)), { maxLength: 2 }),
      recordRoute: fc.constantFrom('thig', 'always', 'sometimes'),
      thig: fc.oneof(fc.constant(null), fc.record({ kv: fc.constantFrom('000102030405060708090a0b0c0d0e0f', '0x000102030405060708090A0B0C0D0E0F', 'zz'), headers: fc.subarray(['Via', 'path', 'Contact']), port: num, maxTokenChars: num }, opt)),
      diameter: fc.record({ originRealm: fc.constantFrom('ims.lab', ''), hss: fc.record({ connect: hostPort, realm: fc.constant('r.lab') }, opt), hostIpAddresses: names, watchdogMs: num }, opt),
    },
    opt,
  ),
  scscf: fc.record(
    {
      ...common,
      serverName: fc.constantFrom('sip:scscf.ims.lab:6060', 'scscf', 'sip:s.lab'),
      icscf: fc.constantFrom(null, 'sip:i.lab', 'x'),
      trustDomain: names,
      aliases: names,
      registrar: fc.record({ minExpires: num, maxExpires: num, defaultExpires: num, authScheme: fc.constantFrom('Unknown', 'Digest-AKAv2-MD5', 'MD5'), sendKeys: fc.boolean() }, opt),
      regEvent: fc.record({ minExpires: num, maxExpires: num }, opt),
      diameter: fc.record({ hss: fc.record({ host: fc.constantFrom('hss.x.lab', 'hss'), port: num, address: fc.constant('127.0.0.1') }, opt), hostIpAddresses: names }, opt),
    },
    opt,
  ),
  hss: fc.record(
    {
      logLevel: common.logLevel,
      extra: common.extra,
      dataDir: fc.constantFrom('/var/lib/hss', ''),
      diameter: fc.record(
        {
          listen: hostPort,
          peers: fc.array(fc.oneof(fc.constantFrom('s.lab', ''), fc.record({ host: fc.constant('i.lab'), connect: hostPort, addresses: names }, opt)), { maxLength: 2 }),
          hostIpAddresses: names,
          preCerMaxMessageSize: num,
        },
        opt,
      ),
      rest: fc.oneof(fc.constantFrom(null, false, 'on'), fc.record({ listen: hostPort }, opt)),
      maxAuthItems: num,
      serverCapabilities: fc.record({ mandatory: fc.array(num, { maxLength: 2 }), serverNames: names }, opt),
      visitedNetworks: fc.oneof(fc.constant(null), names),
      scscfHosts: fc.dictionary(fc.constantFrom('sip:s.lab'), fc.constantFrom('s.lab', '')),
    },
    opt,
  ),
};

describe('[M] fuzz: node configurations from their schemas', () => {
  test('corpus: every saved configuration keeps the contract', () => {
    for (const { name, bytes } of fuzz.corpus('.json')) {
      try {
        contract(decodeFuzzValue(bytes.toString('utf8')) as { node: string; raw: unknown });
      } catch (e) {
        assert.fail(`${name}: ${String(e)}`);
      }
    }
  });

  for (const node of Object.keys(NODES)) {
    test(`${node}: a configuration or a CONFIG error naming the field; every accepted configuration round-trips through its JSON form`, () => {
      fc.assert(fc.property(fc.oneof(docs[node], docs[node], fc.anything()), (raw) => contract({ node, raw })), fuzz.params(RUNS));
    });
  }
});
