/**
 * The address lookup of the shared UDP sockets (issue [K]: per-datagram cost, R-LAB-4): an IP
 * literal is answered at once, in the same call, so node:dgram sends without waiting a tick for
 * `dns.lookup`; a name still goes to `dns.lookup`. Datagrams sent through it arrive.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { describe, test } from 'node:test';
import { ipLiteralLookup } from '../../src/common/udp-buffer.js';

const ask = (address: string): Promise<{ sync: boolean; err: Error | null; address: string; family: number }> =>
  new Promise((resolve) => {
    let returned = false;
    ipLiteralLookup(address, { family: 0 }, (err, a, family) => resolve({ sync: !returned, err, address: a, family }));
    returned = true;
  });

const bound = (s: Socket): Promise<number> => new Promise((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));

describe('ipLiteralLookup (issue [K] per-datagram cost)', () => {
  test('[R-LAB-4] IPv4 and IPv6 literals come back unchanged in the same call, with their family', async () => {
    assert.deepEqual(await ask('127.0.0.7'), { sync: true, err: null, address: '127.0.0.7', family: 4 });
    assert.deepEqual(await ask('::1'), { sync: true, err: null, address: '::1', family: 6 });
  });

  test('[R-LAB-4] a name is resolved by dns.lookup, on a later turn', async () => {
    const r = await ask('localhost');
    assert.equal(r.sync, false);
    assert.equal(r.err, null);
    assert.ok(r.address === '127.0.0.1' || r.address === '::1', r.address);
  });

  test('[R-LAB-4] a socket using it delivers datagrams to a literal and to a name', async () => {
    const rx = createSocket('udp4');
    const tx = createSocket({ type: 'udp4', lookup: ipLiteralLookup });
    try {
      const port = await bound(rx);
      await bound(tx);
      const got: string[] = [];
      const two = new Promise<void>((resolve) => rx.on('message', (m) => got.push(m.toString()) === 2 && resolve()));
      tx.send('to-literal', port, '127.0.0.1');
      tx.send('to-name', port, 'localhost');
      await two;
      assert.deepEqual(got.sort(), ['to-literal', 'to-name']);
    } finally {
      rx.close();
      tx.close();
    }
  });
});
