import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVia, viaReceived, viaRport } from '../../../src/sip/headers/index.js';
import { responseRoute, type ViaRoute } from '../../../src/sip/transport/response-route.js';

/** The routing view of a Via header value, read with the header codec (not the code under test). */
function route(via: string): ViaRoute {
  const v = parseVia(via);
  const r = viaRport(v);
  const maddr = v.params.get('maddr');
  return { transport: v.transport, host: v.host, port: v.port, received: viaReceived(v), rport: typeof r === 'number' ? r : undefined, maddr: maddr ?? undefined };
}
const src = { address: '192.0.2.1', port: 9988 };

describe('RFC 3261 §18.2.2 and RFC 3581 §4: where a response is sent', () => {
  test('RFC 3581 §6 example: received and rport send to 192.0.2.1:9988', () => {
    const r = responseRoute(route('SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;rport=9988;branch=z9hG4bKkjshdyff'), 'udp', src);
    assert.deepEqual(r, { destination: { address: '192.0.2.1', port: 9988 } });
  });

  test('§18.2.2 received without rport: the received address at the sent-by port', () => {
    const r = responseRoute(route('SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;branch=z9hG4bK1'), 'udp', src);
    assert.deepEqual(r.destination, { address: '192.0.2.1', port: 4540 });
  });

  test('§18.2.2 received without a sent-by port: port 5060', () => {
    const r = responseRoute(route('SIP/2.0/UDP pc33.atlanta.com;received=192.0.2.1;branch=z9hG4bK1'), 'udp', src);
    assert.deepEqual(r.destination, { address: '192.0.2.1', port: 5060 });
  });

  test('§18.2.2 no received: the sent-by host and port', () => {
    const r = responseRoute(route('SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK1'), 'udp', src);
    assert.deepEqual(r.destination, { address: '192.0.2.7', port: 5070 });
  });

  test('§18.2.2 maddr wins over received and rport (RFC 3581 §4 applies only without maddr)', () => {
    const r = responseRoute(route('SIP/2.0/UDP 10.1.1.1:4540;maddr=239.255.255.1;received=192.0.2.1;rport=9988;branch=z9hG4bK1'), 'udp', src);
    assert.deepEqual(r.destination, { address: '239.255.255.1', port: 4540 });
  });

  test('§18.2.2 reliable transport: the request\'s connection first, then received at the sent-by port', () => {
    const r = responseRoute(route('SIP/2.0/TCP 10.1.1.1:4540;received=192.0.2.1;rport=9988;branch=z9hG4bK1'), 'tcp', src);
    assert.deepEqual(r, { connection: src, destination: { address: '192.0.2.1', port: 4540 } });
  });

  test('§18.2.2 IPv6: a received IPv6 address routes without brackets; TLS defaults to 5061', () => {
    const r = responseRoute(route('SIP/2.0/UDP [2001:db8::9]:5080;received=2001:db8::1;rport=7000;branch=z9hG4bK1'), 'udp', src);
    assert.deepEqual(r.destination, { address: '2001:db8::1', port: 7000 });
    const tls = responseRoute(route('SIP/2.0/TLS [2001:db8::9];branch=z9hG4bK1'), 'tcp', src);
    assert.deepEqual(tls.destination, { address: '2001:db8::9', port: 5061 });
  });
});
