import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVia, viaReceived, viaRport } from '../../../src/sip/headers/index.js';
import { SipHeaders, SipRequest } from '../../../src/sip/message/index.js';
import { setTopViaSentBy, stampReceived } from '../../../src/sip/transport/via.js';

function req(...vias: string[]): SipRequest {
  const h = new SipHeaders([['Max-Forwards', '70']]);
  for (const v of vias) h.append('Via', v);
  h.append('Call-ID', 'x');
  return new SipRequest('OPTIONS', 'sip:a@b', h);
}

describe('RFC 3261 §18.2.1 / RFC 3581 §4: the server transport stamps the top Via', () => {
  test('RFC 3581 §6 example: rport filled with 9988, received=192.0.2.1, branch kept', () => {
    const r = req('SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff');
    assert.equal(stampReceived(r, { address: '192.0.2.1', port: 9988 }), true);
    const v = parseVia(r.headers.get('via')!);
    assert.equal(viaReceived(v), '192.0.2.1');
    assert.equal(viaRport(v), 9988);
    assert.equal(v.params.get('branch'), 'z9hG4bKkjshdyff');
    assert.equal(v.host, '10.1.1.1');
    assert.equal(v.port, 4540);
  });

  test('§18.2.1 example: sent-by bobspc.biloxi.com from 192.0.2.4 gets received=192.0.2.4', () => {
    const r = req('SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bK1');
    stampReceived(r, { address: '192.0.2.4', port: 5060 });
    assert.equal(viaReceived(parseVia(r.headers.get('via')!)), '192.0.2.4');
  });

  test('§18.2.1 only the first via-parm changes; other values and fields keep their place and text', () => {
    const r = req('SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP b.example.com;branch=z9hG4bK2', 'SIP/2.0/TCP c.example.com;branch=z9hG4bK3');
    stampReceived(r, { address: '192.0.2.4', port: 1 });
    const lines = r.headers.getLines('via');
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^SIP\/2\.0\/UDP a\.example\.com;branch=z9hG4bK1;received=192\.0\.2\.4, SIP\/2\.0\/UDP b\.example\.com;branch=z9hG4bK2$/);
    assert.equal(lines[1], 'SIP/2.0/TCP c.example.com;branch=z9hG4bK3');
    assert.deepEqual([...r.headers].map(([n]) => n), ['Max-Forwards', 'Via', 'Via', 'Call-ID']);
  });

  test('§18.2.1 an IPv4-mapped IPv6 source equal to the sent-by adds nothing', () => {
    const r = req('SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK1');
    stampReceived(r, { address: '::ffff:192.0.2.4', port: 5060 });
    assert.equal(r.headers.get('via'), 'SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK1');
  });

  test('§18.2.1 IPv6 sent-by written differently from the source is still the same address', () => {
    const r = req('SIP/2.0/UDP [0:0:0:0:0:0:0:1]:5060;branch=z9hG4bK1');
    stampReceived(r, { address: '::1', port: 5060 });
    assert.equal(viaReceived(parseVia(r.headers.get('via')!)), undefined);
  });

  test('§18.2.1 no Via, or a malformed one: reported, message untouched', () => {
    const none = req();
    assert.equal(stampReceived(none, { address: '192.0.2.4', port: 1 }), false);
    const bad = req('garbage');
    assert.equal(stampReceived(bad, { address: '192.0.2.4', port: 1 }), false);
    assert.equal(bad.headers.get('via'), 'garbage');
  });
});

describe('RFC 3261 §18.1.1: the client transport writes sent-by', () => {
  test('§18.1.1 transport and sent-by replaced, params kept; IPv6 written in brackets', () => {
    const r = req('SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKx;rport');
    setTopViaSentBy(r, 'TCP', '[::1]', 5062);
    assert.equal(r.headers.get('via'), 'SIP/2.0/TCP [::1]:5062;branch=z9hG4bKx;rport');
  });
});
