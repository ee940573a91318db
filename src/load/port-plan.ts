/**
 * Where the swarm's protected ports go (userspace datapath). The swarm binds one block of UDP
 * ports from its port base on the wildcard address, shared by every UE address (swarm.ts's port
 * plan, {@link swarmPortSpan}). Another swarm on the host, or anything else holding a port of that
 * block, would leave the SAs of that port with no socket: each registration through it then fails
 * far from the cause (no answer to the protected REGISTER, Timer F). So the block is checked before
 * the first UE registers: a block given is refused when it is not free, and without one the first
 * free block from {@link DEFAULT_PORT_BASE} is taken. A port taken between the check and the bind
 * still fails that one set's bind, logged as before.
 */
import { createSocket, type Socket } from 'node:dgram';
import { InvalidArgumentError } from '../common/index.js';
import { DEFAULT_PORT_BASE, swarmPortSpan } from './swarm.js';

/** Blocks tried from {@link DEFAULT_PORT_BASE} upward before giving up. */
const BLOCKS_TRIED = 32;

/** Binds 0.0.0.0:`port` exclusively; resolves false when it cannot (in use, not permitted). */
function tryBind(socket: Socket, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind({ port, address: '0.0.0.0', exclusive: true }, () => resolve(true));
  });
}

/**
 * The first port of `base … base + span − 1` that cannot be bound on 0.0.0.0 right now, or
 * undefined when every one can. Each port is bound and released again.
 */
export async function busyPortIn(base: number, span: number): Promise<number | undefined> {
  const sockets: Socket[] = [];
  try {
    for (let port = base; port < base + span; port++) {
      const socket = createSocket('udp4');
      sockets.push(socket);
      if (!(await tryBind(socket, port))) return port;
    }
    return undefined;
  } finally {
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => {
      try {
        s.close(() => resolve());
      } catch {
        resolve(); // a socket whose bind failed is already closed
      }
    })));
  }
}

/** The block of protected ports a swarm of `uesPerAddress` UEs per address spans from `first`. */
export function portBlock(first: number, uesPerAddress: number): { first: number; last: number } {
  return { first, last: first + swarmPortSpan(uesPerAddress) - 1 };
}

/**
 * The port base of a swarm of `uesPerAddress` UEs per address: `given` when its whole block is
 * free, else the first free block from `from` upward (in steps of the block's span). Throws an
 * InvalidArgumentError naming `--port-base` when the given block is not free, or no block is.
 */
export async function chooseProtectedPorts(o: { given?: number; uesPerAddress: number; from?: number }): Promise<{ first: number; last: number }> {
  const span = swarmPortSpan(o.uesPerAddress);
  if (o.given !== undefined) {
    const busy = await busyPortIn(o.given, span);
    if (busy !== undefined) {
      throw new InvalidArgumentError(`the protected ports ${o.given}-${o.given + span - 1} are not free (${busy} is in use, another swarm?): give another --port-base, or none to take the first free block`, '--port-base');
    }
    return portBlock(o.given, o.uesPerAddress);
  }
  const from = o.from ?? DEFAULT_PORT_BASE;
  for (let i = 0, first = from; i < BLOCKS_TRIED && first + span - 1 <= 65535; i++, first += span) {
    if ((await busyPortIn(first, span)) === undefined) return portBlock(first, o.uesPerAddress);
  }
  throw new InvalidArgumentError(`no free block of ${span} protected ports from ${from} (${BLOCKS_TRIED} tried): give --port-base`, '--port-base');
}
