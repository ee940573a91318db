/**
 * [O] Diameter before capabilities exchange (RFC 6733 §5.3: the first message on an inbound
 * connection is a CER; §5.6 peer state machine, R-Conn-CER): a small size limit and a timer for
 * the CER, a cap on connections still waiting for theirs, and only configured Origin-Hosts get
 * past it (others: DIAMETER_UNKNOWN_PEER 3010, §7.1.3). Scripted peers over the in-memory
 * transport and a manual clock.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, SeededRng } from '../../src/common/index.js';
import { buildCer, encodeMessage, MemoryTransport, PRE_CER_DEFAULTS, type DiameterNodeOptions, type MemoryConnection, cxCapabilities } from '../../src/diameter/index.js';
import { DiameterNode } from '../../src/diameter/io.js';

const settle = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

async function hss(extra: Partial<DiameterNodeOptions> = {}) {
  const clock = new ManualClock(1_700_000_000_000);
  const transport = new MemoryTransport();
  const node = new DiameterNode({
    ...cxCapabilities(),
    originHost: 'hss.ims.lab',
    originRealm: 'ims.lab',
    hostIpAddresses: ['127.0.0.1'],
    listen: { host: 'hss', port: 3868 },
    peers: [{ host: 'scscf.ims.lab' }],
    clock,
    transport,
    rng: new SeededRng('hss'),
    timers: { cerTimeoutMs: 1000 },
    ...extra,
  });
  await node.start();
  const connect = async (): Promise<{ c: MemoryConnection; closed: () => boolean }> => {
    const c = (await transport.connect('hss', 3868)) as MemoryConnection;
    let closed = false;
    c.onClose(() => (closed = true));
    return { c, closed: () => closed };
  };
  return { node, clock, connect };
}

/** A Diameter header announcing `length` bytes (version 1, CER command code), and nothing more. */
function announce(length: number): Uint8Array {
  const h = new Uint8Array(20);
  h[0] = 1;
  h[1] = (length >>> 16) & 0xff;
  h[2] = (length >>> 8) & 0xff;
  h[3] = length & 0xff;
  h[4] = 0x80;
  h[7] = 257;
  return h;
}

describe('[O] RFC 6733 §5.3 before the CER', () => {
  test('[O] defaults: 4 KiB before CER, 64 unauthenticated connections', () => {
    assert.deepEqual(PRE_CER_DEFAULTS, { maxMessageSize: 4096, maxUnboundConnections: 64 });
  });

  test('[O] announcing a message over the pre-CER limit closes the connection at once, nothing is buffered', async () => {
    const { node, connect } = await hss();
    const a = await connect();
    a.c.write(announce(4 * 1024 * 1024));
    await settle();
    assert.ok(a.closed());
    assert.equal(node.unboundConnections.open, 0);
    await node.stop();
  });

  test('[O] a connection that sends no CER within cerTimeoutMs is closed', async () => {
    const { node, connect, clock } = await hss();
    const a = await connect();
    a.c.write(announce(1024).subarray(0, 10));
    await settle();
    clock.advance(999);
    await settle();
    assert.equal(a.closed(), false);
    clock.advance(1);
    await settle();
    assert.ok(a.closed());
    assert.equal(node.unboundConnections.open, 0);
    await node.stop();
  });

  test('[O] beyond maxUnboundConnections new connections are closed; a known peer gets in once a slot is free, and may then send large messages', async () => {
    const { node, connect, clock } = await hss({ maxUnboundConnections: 3, timers: { cerTimeoutMs: 1000 } });
    const idle = [await connect(), await connect(), await connect()];
    await settle();
    const extra = await connect();
    await settle();
    assert.ok(extra.closed(), 'the fourth is refused');
    assert.ok(idle.every((x) => !x.closed()));
    assert.deepEqual(node.unboundConnections, { open: 3, refused: 1 });
    clock.advance(1000);
    await settle();
    assert.ok(idle.every((x) => x.closed()), 'the CER timer frees the slots');
    const good = await connect();
    const cer = buildCer({ ...node.local, originHost: 'scscf.ims.lab' });
    good.c.write(encodeMessage({ ...cer, hopByHop: 1, endToEnd: 1 }));
    await settle();
    assert.equal(node.peerState('scscf.ims.lab')?.psm, 'R-Open');
    // After CER the normal limit applies: a 64 KiB announcement is not refused (it is waited for).
    good.c.write(announce(65_536));
    await settle();
    assert.equal(good.closed(), false);
    await node.stop();
  });

  test('[R-CX-1] [O] an unknown Origin-Host gets DIAMETER_UNKNOWN_PEER (3010) and its slot is freed', async () => {
    const { node, connect } = await hss({ maxUnboundConnections: 1 });
    const rogue = await connect();
    const got: Uint8Array[] = [];
    rogue.c.onData((d) => got.push(d));
    const cer = buildCer({ ...node.local, originHost: 'rogue.evil.lab', originRealm: 'evil.lab' });
    rogue.c.write(encodeMessage({ ...cer, hopByHop: 1, endToEnd: 1 }));
    await settle(20);
    assert.ok(got.length > 0);
    assert.match(Buffer.concat(got).toString('latin1'), /unknown peer rogue\.evil\.lab/);
    assert.equal(node.unboundConnections.open, 0);
    const next = await connect();
    await settle();
    assert.equal(next.closed(), false);
    await node.stop();
  });
});

describe('[O] RFC 6733 §5.3 a known Origin-Host from an address not its own', () => {
  test('[R-CX-1] [O] is refused like an unknown peer: DIAMETER_UNKNOWN_PEER (3010), closed, the peer stays down', async () => {
    const { node, connect } = await hss({ peers: [{ host: 'scscf.ims.lab', addresses: ['10.0.0.7'] }] });
    const impostor = await connect();
    const got: Uint8Array[] = [];
    impostor.c.onData((d) => got.push(d));
    const cer = buildCer({ ...node.local, originHost: 'scscf.ims.lab' });
    impostor.c.write(encodeMessage({ ...cer, hopByHop: 1, endToEnd: 1 }));
    await settle(20);
    const cea = Buffer.concat(got);
    assert.ok(cea.length > 20);
    assert.match(cea.toString('latin1'), /unknown peer scscf\.ims\.lab/);
    assert.ok(impostor.closed());
    assert.notEqual(node.peerState('scscf.ims.lab')?.psm, 'R-Open');
    await node.stop();
  });
});
