/**
 * The swarm's protected ports (src/load/port-plan.ts): the block a swarm binds on the wildcard
 * address is checked before the first UE registers. A block given that is not free is refused
 * naming --port-base; without one, the first free block is taken, so two swarms on one host no
 * longer take each other's ESP.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, describe, test } from 'node:test';
import { InvalidArgumentError } from '../../src/common/index.js';
import { busyPortIn, chooseProtectedPorts, portBlock, swarmPortSpan } from '../../src/load/index.js';

const held: Socket[] = [];

/** Holds 0.0.0.0:`port` (UDP) until the end of the file, as another swarm would. */
async function hold(port: number): Promise<void> {
  const s = createSocket('udp4');
  held.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind({ port, address: '0.0.0.0', exclusive: true }, () => resolve());
  });
}

describe('the swarm\'s protected port block', () => {
  after(async () => {
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
  });

  test('[R-LAB-4] the block spans a server port and eight client ports per UE of an address', () => {
    assert.equal(swarmPortSpan(16), 144);
    assert.deepEqual(portBlock(12000, 16), { first: 12000, last: 12143 });
  });

  test('[R-LAB-4] busyPortIn: undefined for a free block, the held port once one is held, and it releases what it bound', async () => {
    const { first } = await chooseProtectedPorts({ uesPerAddress: 1, from: 23000 });
    assert.equal(await busyPortIn(first, 9), undefined);
    assert.equal(await busyPortIn(first, 9), undefined, 'the first check left nothing bound');
    await hold(first + 4);
    assert.equal(await busyPortIn(first, 9), first + 4);
  });

  test('[R-LAB-4] without --port-base the first free block is taken: a held port moves the swarm to the next block', async () => {
    const a = await chooseProtectedPorts({ uesPerAddress: 2, from: 24000 });
    assert.equal(a.last - a.first + 1, 18);
    await hold(a.last);
    const b = await chooseProtectedPorts({ uesPerAddress: 2, from: a.first });
    assert.ok(b.first >= a.first + 18, `the next block (${b.first}), not one holding port ${a.last}`);
    assert.equal((b.first - a.first) % 18, 0, 'blocks are whole spans apart');
  });

  test('[R-LAB-4] a --port-base whose block is not free is refused, naming the port and the flag; a free one is used as given', async () => {
    const { first } = await chooseProtectedPorts({ uesPerAddress: 1, from: 25000 });
    await hold(first + 2);
    await assert.rejects(chooseProtectedPorts({ given: first, uesPerAddress: 1 }), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.equal(err.argument, '--port-base');
      assert.match(err.message, new RegExp(`^the protected ports ${first}-${first + 8} are not free \\(${first + 2} is in use, another swarm\\?\\)`));
      return true;
    });
    const free = await chooseProtectedPorts({ uesPerAddress: 1, from: first + 9 });
    assert.deepEqual(await chooseProtectedPorts({ given: free.first, uesPerAddress: 1 }), free, 'a free block given is the one used');
  });
});
