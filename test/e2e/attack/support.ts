/**
 * What every attack test of [O] needs: the core's resource use read from /proc (RSS and open file
 * descriptors of the child process), an attacker's UDP socket on another loopback address (a
 * host outside the core's trust domain), and the legitimate flow that must still work afterwards
 * (registration, re-registration and a MESSAGE between two soft UEs of the UE library).
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { procUsage, type ProcUsage } from '../../../src/cli/bench-soak.js';
import { DEMO_SUBSCRIBERS } from '../../../src/nodes/core/index.js';
import { createUe, parseUeConfig, type Ue } from '../../../src/nodes/ue/index.js';
import type { SipMessage, SipRequest } from '../../../src/sip/index.js';

/** The attacker's address: loopback, but not the core's (127.0.0.1), so outside its trust domain. */
export const ATTACKER = '127.0.0.2';

/** Resident set (kB) and open descriptors of a process (from /proc). */
export type Usage = ProcUsage;
export const usage = procUsage;

/**
 * Tolerances for "back to baseline": descriptors within 8 of the baseline (the UEs' own
 * connections come and go), RSS within 64 MiB (V8 keeps some of what it grew).
 */
export const FD_TOLERANCE = 8;
export const RSS_TOLERANCE_KB = 64 * 1024;

/** Waits (bounded) until the core's descriptors and RSS are back near `base`; returns the last sample. */
export async function backToBaseline(pid: number, base: Usage, ms = 15_000): Promise<Usage> {
  const until = Date.now() + ms;
  let u = usage(pid);
  while (Date.now() < until) {
    u = usage(pid);
    if (u.fds <= base.fds + FD_TOLERANCE && u.rssKb <= base.rssKb + RSS_TOLERANCE_KB) return u;
    await new Promise((r) => setTimeout(r, 200));
  }
  return u;
}

/** Prints a usage line for the report (stderr, so TAP output stays clean). */
export function report(name: string, phase: string, u: Usage): void {
  process.stderr.write(`[O] ${name} ${phase}: rss=${(u.rssKb / 1024).toFixed(1)} MiB fds=${u.fds}\n`);
}

/** A UDP socket on {@link ATTACKER} that sends text and collects what comes back. */
export async function attackerUdp(): Promise<{ socket: Socket; send(text: string, port: number): Promise<void>; replies: string[]; close(): Promise<void> }> {
  const socket = createSocket('udp4');
  const replies: string[] = [];
  socket.on('message', (b) => replies.push(b.toString('latin1')));
  await new Promise<void>((r) => socket.bind(0, ATTACKER, () => r()));
  return {
    socket,
    replies,
    send: (text, port) => new Promise((res, rej) => socket.send(Buffer.from(text, 'latin1'), port, '127.0.0.1', (e) => (e ? rej(e) : res()))),
    close: () => new Promise((r) => socket.close(() => r())),
  };
}

/** A demo subscriber's UE against the core, recording the requests it receives. */
export async function demoUe(impi: 'alice@ims.lab' | 'bob@ims.lab', pcscfPort: number): Promise<{ ue: Ue; received: SipRequest[] }> {
  const s = DEMO_SUBSCRIBERS.find((d) => d.impi === impi)!;
  const received: SipRequest[] = [];
  const ue = createUe(
    parseUeConfig({ impi, impu: `sip:${impi}`, k: s.k, ...(s.op ? { op: s.op } : { opc: s.opc }), pcscf: `127.0.0.1:${pcscfPort}`, reRegister: { auto: false }, subscribeRegEvent: false }),
    {
      hooks: {
        incoming(msg: SipMessage) {
          if (msg.kind === 'request') received.push(msg);
          return msg;
        },
      },
    },
  );
  await ue.start();
  return { ue, received };
}

/**
 * The legitimate flow after an attack: bob and alice register, alice re-registers, alice's
 * MESSAGE reaches bob (200) with her asserted identity; both de-register.
 */
export async function legitimateFlow(pcscfPort: number): Promise<void> {
  const bob = await demoUe('bob@ims.lab', pcscfPort);
  const alice = await demoUe('alice@ims.lab', pcscfPort);
  try {
    await bob.ue.register();
    await alice.ue.register();
    await alice.ue.reRegister();
    const text = `after the attack ${Date.now()}`;
    const r = await alice.ue.sendMessage('sip:bob@ims.lab', text);
    assert.equal(r.status, 200, 'MESSAGE answered 200');
    const got = bob.received.find((m) => m.method === 'MESSAGE' && new TextDecoder().decode(m.body) === text);
    assert.ok(got, 'bob received the MESSAGE');
    assert.match(got.headers.get('p-asserted-identity') ?? '', /alice@ims\.lab/, 'asserted by the network as alice');
    await alice.ue.deregister();
    await bob.ue.deregister();
  } finally {
    await alice.ue.stop().catch(() => undefined);
    await bob.ue.stop().catch(() => undefined);
  }
}

/** A MESSAGE as an attacker writes it: From and P-Asserted-Identity claim `claimed`. */
export function forgedMessage(o: { target: string; claimed: string; via: string; route?: string; callId: string; body: string }): string {
  const lines = [
    `MESSAGE ${o.target} SIP/2.0`,
    `Via: SIP/2.0/UDP ${o.via};branch=z9hG4bK${o.callId}`,
    ...(o.route ? [`Route: ${o.route}`] : []),
    'Max-Forwards: 70',
    `From: <${o.claimed}>;tag=evil1`,
    `To: <${o.target}>`,
    `Call-ID: ${o.callId}`,
    'CSeq: 1 MESSAGE',
    `P-Asserted-Identity: <${o.claimed}>`,
    'Content-Type: text/plain',
    `Content-Length: ${Buffer.byteLength(o.body, 'latin1')}`,
  ];
  return `${lines.join('\r\n')}\r\n\r\n${o.body}`;
}
