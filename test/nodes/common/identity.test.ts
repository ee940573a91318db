/** Identity keys and static host resolution (nodes/common). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { impuKey, resolveSipUri, sameImpu } from '../../../src/nodes/common/index.js';

describe('identities and host resolution', () => {
  test('impuKey: host case, escapes, URI parameters and tel visual separators do not make another identity', () => {
    assert.ok(sameImpu('sip:alice@IMS.lab', 'sip:alice@ims.lab;user=phone'));
    assert.ok(sameImpu('sip:%61lice@ims.lab', 'sip:alice@ims.lab'));
    assert.ok(sameImpu('tel:+1-555-0001', 'tel:+15550001'));
    assert.ok(!sameImpu('sip:Alice@ims.lab', 'sip:alice@ims.lab'), 'the user part is case-sensitive');
    assert.ok(!sameImpu('sip:alice@ims.lab:5060', 'sip:alice@ims.lab'));
    assert.equal(impuKey('not a uri'), undefined);
  });

  test('resolveSipUri: host table (any case), IP literals, default ports, transport parameter, maddr; errors are SIP_RESOLVE', () => {
    const hosts = { 'scscf.ims.lab': '127.0.0.1', 'v6.ims.lab': '::1' };
    assert.deepEqual(resolveSipUri('sip:orig@SCSCF.ims.lab:6060;lr', hosts), { address: '127.0.0.1', port: 6060, transport: 'udp' });
    assert.deepEqual(resolveSipUri('sip:a@192.0.2.1;transport=TCP', hosts), { address: '192.0.2.1', port: 5060, transport: 'tcp' });
    assert.deepEqual(resolveSipUri('sip:[::1]:5070', hosts), { address: '::1', port: 5070, transport: 'udp' });
    assert.deepEqual(resolveSipUri('sips:v6.ims.lab', hosts), { address: '::1', port: 5061, transport: 'tcp' });
    assert.deepEqual(resolveSipUri('sip:x@unknown.lab;maddr=10.0.0.1', hosts), { address: '10.0.0.1', port: 5060, transport: 'udp' });
    for (const bad of ['sip:nowhere.lab', 'tel:+1555', 'sip:scscf.ims.lab;transport=sctp']) assert.throws(() => resolveSipUri(bad, hosts), { code: 'SIP_RESOLVE' }, bad);
  });
});
