/**
 * Independent peers for the transport tests: plain node:dgram / node:net sockets that send text
 * we wrote by hand and report exactly the bytes they receive.
 */
import { createSocket, type Socket as UdpSocket, type RemoteInfo } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface RawUdp {
  readonly socket: UdpSocket;
  readonly address: string;
  readonly port: number;
  send(text: string | Uint8Array, port: number, address?: string): Promise<void>;
  /** The next datagram (waits up to ms). */
  next(ms?: number): Promise<{ text: string; from: RemoteInfo }>;
  close(): Promise<void>;
}

export async function rawUdp(address = '127.0.0.1'): Promise<RawUdp> {
  const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  const queue: { text: string; from: RemoteInfo }[] = [];
  const waiters: ((v: { text: string; from: RemoteInfo }) => void)[] = [];
  socket.on('message', (buf, from) => {
    const item = { text: buf.toString('latin1'), from };
    const w = waiters.shift();
    if (w) w(item);
    else queue.push(item);
  });
  await new Promise<void>((r) => socket.bind(0, address, () => r()));
  return {
    socket,
    address,
    port: socket.address().port,
    send: (text, port, to = address) => new Promise((res, rej) => socket.send(typeof text === 'string' ? Buffer.from(text, 'latin1') : text, port, to, (e) => (e ? rej(e) : res()))),
    next: (ms = 2000) =>
      new Promise((resolve, reject) => {
        const q = queue.shift();
        if (q) return resolve(q);
        const w = (v: { text: string; from: RemoteInfo }): void => {
          clearTimeout(t);
          resolve(v);
        };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error('no datagram'));
        }, ms);
        waiters.push(w);
      }),
    close: () => new Promise((r) => socket.close(() => r())),
  };
}

/** True when no datagram arrives within ms. */
export async function silent(peer: RawUdp, ms = 150): Promise<boolean> {
  try {
    await peer.next(ms);
    return false;
  } catch {
    return true;
  }
}

export interface RawTcp {
  readonly socket: Socket;
  readonly localPort: number;
  write(text: string | Uint8Array): void;
  /** Everything received so far, as latin1. */
  received(): string;
  /** Waits until the received text contains `needle` (or the socket closes). */
  waitFor(needle: string, ms?: number): Promise<string>;
  readonly closed: Promise<void>;
  close(): void;
}

function wrap(socket: Socket): RawTcp {
  let buf = '';
  const listeners: (() => void)[] = [];
  socket.on('data', (d) => {
    buf += d.toString('latin1');
    for (const l of listeners.splice(0)) l();
  });
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  socket.on('error', () => {});
  return {
    socket,
    get localPort() {
      return socket.localPort ?? 0;
    },
    write: (t) => void socket.write(typeof t === 'string' ? Buffer.from(t, 'latin1') : t),
    received: () => buf,
    waitFor(needle, ms = 2000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${JSON.stringify(needle)}; got ${JSON.stringify(buf)}`)), ms);
        const check = (): void => {
          if (buf.includes(needle)) {
            clearTimeout(t);
            resolve(buf);
          } else listeners.push(check);
        };
        check();
      });
    },
    closed,
    close: () => socket.destroy(),
  };
}

export async function rawTcpConnect(port: number, address = '127.0.0.1'): Promise<RawTcp> {
  const s = connect({ port, host: address });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return wrap(s);
}

/** A plain TCP listener that records each accepted connection. */
export async function rawTcpServer(address = '127.0.0.1'): Promise<{ server: Server; port: number; conns: RawTcp[]; accepted(): Promise<RawTcp>; close(): Promise<void> }> {
  const conns: RawTcp[] = [];
  const waiters: ((c: RawTcp) => void)[] = [];
  const server = createServer((s) => {
    const c = wrap(s);
    conns.push(c);
    waiters.shift()?.(c);
  });
  await new Promise<void>((r) => server.listen(0, address, () => r()));
  const a = server.address();
  return {
    server,
    port: typeof a === 'object' && a ? a.port : 0,
    conns,
    accepted: () => (conns.length ? Promise.resolve(conns[conns.length - 1]) : new Promise((r) => waiters.push(r))),
    close: () =>
      new Promise((r) => {
        for (const c of conns) c.close();
        server.close(() => r());
      }),
  };
}

/**
 * A TCP port on `address` that refuses connections for as long as it is held: the local end of a
 * connection to a throw-away listener. It is bound but not listening, so a SYN to it is answered
 * with RST (ECONNREFUSED), and no other socket can listen on that number meanwhile (EADDRINUSE, on
 * this address or the wildcard). Closing a listener to get a "closed" port races with every other
 * test process that binds port 0 and may be given the same number.
 */
export async function refusingTcpPort(address = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const srv = await rawTcpServer(address);
  const client = await rawTcpConnect(srv.port, address);
  await srv.accepted();
  return {
    port: client.localPort,
    close: async () => {
      client.close();
      await srv.close();
    },
  };
}

/** A hand-written request; `via` is the full top Via value. */
export function requestText(opts: { method?: string; via: string; callId?: string; extra?: string[]; body?: string; omit?: string[] }): string {
  const method = opts.method ?? 'OPTIONS';
  const lines = [
    `${method} sip:bob@127.0.0.1 SIP/2.0`,
    `Via: ${opts.via}`,
    'Max-Forwards: 70',
    'To: <sip:bob@127.0.0.1>',
    'From: <sip:alice@127.0.0.1>;tag=abc123',
    `Call-ID: ${opts.callId ?? 'call-1@test'}`,
    `CSeq: 1 ${method}`,
    ...(opts.extra ?? []),
    `Content-Length: ${Buffer.byteLength(opts.body ?? '', 'latin1')}`,
  ].filter((l) => !(opts.omit ?? []).some((o) => l.startsWith(`${o}:`)));
  return `${lines.join('\r\n')}\r\n\r\n${opts.body ?? ''}`;
}

/** The value of the first header `name` in a raw message (case-insensitive name). */
export function headerOf(text: string, name: string): string | undefined {
  const head = text.split('\r\n\r\n')[0];
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0 && line.slice(0, i).trim().toLowerCase() === name.toLowerCase()) return line.slice(i + 1).trim();
  }
  return undefined;
}

