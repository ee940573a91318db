/**
 * Free ports for tests that must name a port before the socket that uses it exists (a peer
 * configured ahead of its node, or a TCP connection that must come from a named port_uc).
 *
 * Each port is free for both UDP and TCP on `host` when it is returned, and it is drawn at random
 * from outside the kernel's ephemeral range (ip_local_port_range), so no socket bound to port 0
 * and no outgoing connection, in this process or another test's, can be given it in between.
 * A port drawn from inside that range, free for UDP only, was once taken by another test file's
 * outgoing TCP connection before this one bound it (EADDRINUSE). Tests still bind their own
 * sockets to port 0 wherever they can.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Ports no test binds by number: the load swarms' and benches' fixed bases (12000–17000) lie below. */
const FLOOR = 20_000;
const CEILING = 65_535;

function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'latin1').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi)) return [lo, hi];
  } catch { /* not Linux: the IANA dynamic range */ }
  return [49_152, 65_535];
}

/** The ports at or above FLOOR outside the ephemeral range, as [first, last] spans. */
function candidateSpans(): [number, number][] {
  const [lo, hi] = ephemeralRange();
  const spans: [number, number][] = [];
  if (lo - 1 >= FLOOR) spans.push([FLOOR, lo - 1]);
  if (hi + 1 <= CEILING) spans.push([Math.max(hi + 1, FLOOR), CEILING]);
  if (spans.length === 0) throw new Error(`no port range outside the ephemeral range ${lo}-${hi}`);
  return spans;
}

function randomPort(spans: [number, number][]): number {
  const total = spans.reduce((n, [a, b]) => n + b - a + 1, 0);
  let i = Math.floor(Math.random() * total);
  for (const [a, b] of spans) {
    if (i <= b - a) return a + i;
    i -= b - a + 1;
  }
  return spans[0][0];
}

function udpFree(port: number, host: string): Promise<boolean> {
  return new Promise((res) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', () => s.close(() => res(false)));
    s.bind(port, host, () => s.close(() => res(true)));
  });
}

function tcpFree(port: number, host: string): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => res(true)));
  });
}

export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const spans = candidateSpans();
  const ports: number[] = [];
  for (let tries = 0; ports.length < n; tries++) {
    if (tries > 1000) throw new Error(`no ${n} free ports found on ${host}`);
    const p = randomPort(spans);
    if (!ports.includes(p) && (await udpFree(p, host)) && (await tcpFree(p, host))) ports.push(p);
  }
  return ports;
}
