/**
 * A socket agent for the kernel tests: one Node process inside a network namespace
 * (`ip netns exec NS node agent.js`) that binds, sends and records UDP and TCP on request, so
 * that one process per namespace serves every scenario of a test file (starting Node inside
 * user-mode Linux takes about a second).
 *
 * Protocol: one JSON object per line on stdin, `{ id, op, ... }`; one JSON line per request on
 * stdout, `{ id, ok, result | error }`. Received data is recorded and handed over by `received`.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

export interface Endpoint {
  address: string;
  port: number;
}

export interface Received {
  proto: 'udp' | 'tcp';
  local: Endpoint;
  remote: Endpoint;
  data: string;
}

export type AgentRequest =
  | { op: 'udpBind'; local: Endpoint }
  | { op: 'udpSend'; local: Endpoint; to: Endpoint; data: string }
  | { op: 'tcpListen'; local: Endpoint }
  /** Connects from `local` to `to`, writes `data`, reads the peer's answer until it closes. */
  | { op: 'tcpExchange'; local: Endpoint; to: Endpoint; data: string }
  /** Hands over what was recorded, waiting (at most `timeoutMs`) until there are `atLeast`. */
  | { op: 'received'; atLeast?: number; timeoutMs?: number }
  | { op: 'closeAll' };

const key = (e: Endpoint): string => `${e.address}|${e.port}`;
const udp = new Map<string, UdpSocket>();
const tcp = new Map<string, Server>();
let received: Received[] = [];

function udpBind(local: Endpoint): Promise<void> {
  const s = createSocket({ type: local.address.includes(':') ? 'udp6' : 'udp4' });
  s.on('message', (m, r) => record({ proto: 'udp', local, remote: { address: r.address, port: r.port }, data: m.toString() }));
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(local.port, local.address, () => {
      udp.set(key(local), s);
      resolve();
    });
  });
}

function udpSend(local: Endpoint, to: Endpoint, data: string): Promise<void> {
  const s = udp.get(key(local));
  if (!s) return Promise.reject(new Error(`no UDP socket on ${key(local)}`));
  return new Promise((resolve, reject) => s.send(data, to.port, to.address, (e) => (e ? reject(e) : resolve())));
}

/** Records what a connection brings and answers `ack:<data>` when the peer has finished. */
function tcpListen(local: Endpoint): Promise<void> {
  const server = createServer((c: Socket) => {
    let data = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => (data += d));
    c.on('end', () => {
      record({ proto: 'tcp', local, remote: { address: c.remoteAddress ?? '', port: c.remotePort ?? 0 }, data });
      c.end(`ack:${data}`);
    });
    c.on('error', () => undefined);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: local.port, host: local.address }, () => {
      tcp.set(key(local), server);
      resolve();
    });
  });
}

function tcpExchange(local: Endpoint, to: Endpoint, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = createConnection({ host: to.address, port: to.port, localAddress: local.address, localPort: local.port });
    let answer = '';
    c.setEncoding('utf8');
    c.setTimeout(20_000, () => c.destroy(new Error('TCP exchange timed out')));
    c.on('connect', () => c.end(data));
    c.on('data', (d: string) => (answer += d));
    c.on('error', reject);
    c.on('close', () => resolve(answer));
  });
}

let arrived: (() => void) | undefined;

function record(r: Received): void {
  received.push(r);
  arrived?.();
}

async function takeReceived(atLeast: number, timeoutMs: number): Promise<Received[]> {
  const deadline = Date.now() + timeoutMs;
  while (received.length < atLeast && Date.now() < deadline) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, deadline - Date.now());
      arrived = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    arrived = undefined;
  }
  const out = received;
  received = [];
  return out;
}

async function closeAll(): Promise<void> {
  for (const s of udp.values()) s.close();
  await Promise.all([...tcp.values()].map((s) => new Promise((r) => s.close(r))));
  udp.clear();
  tcp.clear();
  received = [];
}

async function handle(r: AgentRequest): Promise<unknown> {
  switch (r.op) {
    case 'udpBind':
      return udpBind(r.local);
    case 'udpSend':
      return udpSend(r.local, r.to, r.data);
    case 'tcpListen':
      return tcpListen(r.local);
    case 'tcpExchange':
      return tcpExchange(r.local, r.to, r.data);
    case 'received':
      return takeReceived(r.atLeast ?? 0, r.timeoutMs ?? 10_000);
    case 'closeAll':
      return closeAll();
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const req = JSON.parse(line) as AgentRequest & { id: number };
  handle(req).then(
    (result) => process.stdout.write(JSON.stringify({ id: req.id, ok: true, result }) + '\n'),
    (e: unknown) => process.stdout.write(JSON.stringify({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) }) + '\n'),
  );
});
rl.on('close', () => {
  void closeAll().then(() => process.exit(0));
});
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
