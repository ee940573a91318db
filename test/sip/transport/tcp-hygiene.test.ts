/**
 * [O] connection hygiene of SIP over TCP (RFC 3261 §18.3 leaves connection management to the
 * implementation; RFC 5626 §3.5.1 keep-alives): idle and partial-message timeouts on a manual
 * clock, caps per source address and in total with one log line per episode.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ManualClock } from '../../../src/common/clock.js';
import { TcpTransport } from '../../../src/sip/transport/tcp.js';
import { TCP_DEFAULTS, type TcpTransportOptions } from '../../../src/sip/transport/tcp-options.js';
import type { InboundMessage } from '../../../src/sip/transport/types.js';
import { waitFor as waitUntil } from '../../support/wait.js';
import { requestText } from './raw-peers.js';

const open: { close(): Promise<void> | void }[] = [];
after(async () => {
  for (const o of open) await o.close();
});

async function listen(extra: Partial<TcpTransportOptions> = {}) {
  const clock = new ManualClock();
  const lines: string[] = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  );
  const t = await TcpTransport.listen({ address: '127.0.0.1', clock, logger, ...extra });
  open.push(t);
  const got: InboundMessage[] = [];
  t.onMessage((m) => got.push(m));
  // Chunks the transport has read: the timers start when the bytes are read, not when written.
  const chunks = { in: 0 };
  t.onWire = (dir) => void (dir === 'in' && chunks.in++);
  return { t, got, clock, lines, chunks };
}

/** A client socket from `from` (another loopback address stands for another host). */
async function client(port: number, from = '127.0.0.1'): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect({ port, host: '127.0.0.1', localAddress: from });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  open.push({ close: () => void socket.destroy() });
  return { socket, closed };
}

const isClosed = (p: Promise<void>): Promise<boolean> => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 100))]);

describe('[O] SIP TCP connection hygiene (RFC 3261 §18.3, RFC 5626 §3.5.1)', () => {
  test('[O] defaults: idle 120 s, partial message 20 s, 1024 connections in total, 128 per source', () => {
    assert.deepEqual(TCP_DEFAULTS, { idleTimeoutMs: 120_000, partialTimeoutMs: 20_000, maxConnections: 1024, maxConnectionsPerSource: 128 });
  });

  test('[O] a connection idle for idleTimeoutMs is closed; traffic restarts the timer', async () => {
    const { t, got, clock } = await listen({ idleTimeoutMs: 1000, partialTimeoutMs: 0 });
    const c = await client(t.local.port);
    await waitUntil(() => t.connectionCount === 1);
    clock.advance(900);
    c.socket.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKidle1' }));
    await waitUntil(() => got.length === 1);
    clock.advance(900);
    assert.equal(await isClosed(c.closed), false, 'traffic 900 ms ago: still open');
    clock.advance(200);
    await c.closed;
    await waitUntil(() => t.connectionCount === 0);
    assert.equal(t.counters.idleClosed, 1);
  });

  test('[O] half a request is dropped partialTimeoutMs after its first byte, however slowly it trickles', async () => {
    const { t, got, clock, chunks } = await listen({ idleTimeoutMs: 0, partialTimeoutMs: 5000 });
    const c = await client(t.local.port);
    const text = requestText({ via: 'SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKslow' });
    c.socket.write(text.slice(0, 40));
    await waitUntil(() => chunks.in === 1);
    for (let i = 0; i < 4; i++) {
      clock.advance(1000);
      c.socket.write(text.slice(40 + i, 41 + i));
      await waitUntil(() => chunks.in === 2 + i);
    }
    assert.equal(await isClosed(c.closed), false);
    clock.advance(1000);
    await c.closed;
    assert.equal(got.length, 0);
    assert.equal(t.counters.partialClosed, 1);
  });

  test('[O] a whole message stops the partial timer', async () => {
    const { t, got, clock, chunks } = await listen({ idleTimeoutMs: 0, partialTimeoutMs: 5000 });
    const c = await client(t.local.port);
    const text = requestText({ via: 'SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKwhole' });
    c.socket.write(text.slice(0, 30));
    await waitUntil(() => chunks.in === 1);
    clock.advance(4000);
    c.socket.write(text.slice(30));
    await waitUntil(() => got.length === 1);
    clock.advance(10_000);
    assert.equal(await isClosed(c.closed), false);
    assert.equal(t.counters.partialClosed, 0);
  });

  test('[O] connections beyond the per-source cap are refused, other sources still get in, one log line', async () => {
    const { t, lines } = await listen({ maxConnectionsPerSource: 3, maxConnections: 100 });
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push(await client(t.local.port, '127.0.0.2'));
    await waitUntil(() => t.connectionsFrom('127.0.0.2') === 3);
    const extra = [await client(t.local.port, '127.0.0.2'), await client(t.local.port, '127.0.0.2')];
    await Promise.all(extra.map((e) => e.closed));
    assert.equal(t.connectionsFrom('127.0.0.2'), 3);
    assert.equal(t.counters.connectionsRefused, 2);
    const other = await client(t.local.port, '127.0.0.3');
    await waitUntil(() => t.connectionsFrom('127.0.0.3') === 1);
    assert.equal(await isClosed(other.closed), false);
    const capLines = lines.filter((l) => l.includes('tcp connection cap reached'));
    assert.equal(capLines.length, 1, 'one line per episode');
    assert.match(capLines[0], /3 from 127\.0\.0\.2/);
    // Below the cap again: the next episode is reported again.
    mine[0].socket.destroy();
    await waitUntil(() => t.connectionsFrom('127.0.0.2') === 2);
    await client(t.local.port, '127.0.0.2');
    await waitUntil(() => t.connectionsFrom('127.0.0.2') === 3);
    await (await client(t.local.port, '127.0.0.2')).closed;
    assert.equal(lines.filter((l) => l.includes('tcp connection cap reached')).length, 2);
  });

  test('[O] connections beyond the total cap are refused', async () => {
    const { t } = await listen({ maxConnectionsPerSource: 100, maxConnections: 4 });
    for (let i = 0; i < 4; i++) await client(t.local.port, `127.0.0.${2 + i}`);
    await waitUntil(() => t.connectionCount === 4);
    await (await client(t.local.port, '127.0.0.9')).closed;
    assert.equal(t.connectionCount, 4);
    assert.equal(t.counters.connectionsRefused, 1);
  });
});
