/**
 * `freePort` (src/cli/scale-out-topology.ts): the port `imsec core --processes` chooses for a
 * SIP node it starts as a child (the S-CSCF and the I-CSCF name each other's port before either
 * starts). A SIP node binds the port for UDP and for TCP; the kernel keeps one port space per
 * protocol, so a free TCP port may be a UDP port in use. Seen in the full test run: the I-CSCF
 * process failed "cannot bind UDP 127.0.0.1:45829" on a port chosen free for TCP only.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { freePort, udpPortFree } from '../../src/cli/scale-out-topology.js';

describe('freePort: a port free for both TCP and UDP', () => {
  test('[R-LAB-4] udpPortFree: false while another socket holds the UDP port, true once it is let go', async () => {
    const other = createSocket('udp4');
    await new Promise<void>((r) => other.bind(0, '127.0.0.1', () => r()));
    const port = other.address().port;
    assert.equal(await udpPortFree('127.0.0.1', port), false);
    await new Promise<void>((r) => other.close(() => r()));
    assert.equal(await udpPortFree('127.0.0.1', port), true);
  });

  test('[R-LAB-4] each port freePort gives can be bound for TCP and for UDP at once', async () => {
    for (let i = 0; i < 20; i++) {
      const port = await freePort('127.0.0.1');
      const tcp = createServer();
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, '127.0.0.1', () => resolve());
      });
      const udp = createSocket('udp4');
      const bound = await new Promise<boolean>((resolve) => {
        udp.once('error', () => {
          udp.close();
          resolve(false);
        });
        udp.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve(true));
      });
      await new Promise<void>((r) => tcp.close(() => r()));
      if (bound) await new Promise<void>((r) => udp.close(() => r()));
      assert.equal(bound, true, `port ${port}: UDP too`);
    }
  });
});
