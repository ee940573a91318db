/**
 * One CANCEL through a stateful proxy, scripted from RFC 3261 on both sides of the node with
 * SIP written as text (plain UDP sockets downstream; upstream plain or over hand-held SAs):
 *
 * ```
 *  upstream            node (proxy)            downstream
 *   INVITE ───────────▶   100 ◀── (kept)
 *                         INVITE ─────────────▶
 *   180 ◀──────────────── 180 ◀──────────────── 180
 *   CANCEL ───────────▶   200 (§16.10, hop by hop)
 *   200 ◀──────────────   CANCEL ─────────────▶ (§9.1: same Request-URI, Call-ID, CSeq number, top Via)
 *                         ◀──────────────────── 200, 487
 *                         ACK ────────────────▶ (§17.1.1.3, the node's own client transaction)
 *   487 ◀──────────────── (§16.7)
 *   ACK ──────────────▶   absorbed by the INVITE server transaction (§17.2.1 "Confirmed")
 * ```
 * Then time runs on (Timers D, I, J, K) and every transaction and response context is gone.
 */
import assert from 'node:assert/strict';
import type { ManualClock } from '../../src/common/index.js';
import { cseqOf, parseMessage, toTag, topVia, viaBranch, viasOf, type SipMessage, type SipRequest, type SipResponse } from '../../src/sip/index.js';
import type { SipStack } from '../../src/sip/stack/index.js';
import type { Endpoint } from '../../src/sip/transport/index.js';
import { RawPort, sipText } from './raw-esp.js';
import { waitFor } from './wait.js';

/** The upstream side of the node: how SIP text reaches it and how its answers come back. */
export interface UpstreamLeg {
  send(text: string): Promise<void>;
  next(what: string): Promise<SipMessage>;
}

export function parseSip(data: Uint8Array | string): SipMessage {
  return parseMessage(typeof data === 'string' ? new TextEncoder().encode(data) : data);
}

/** A plain UDP socket talking to `to`. */
export function plainLeg(port: RawPort, to: Endpoint): UpstreamLeg {
  return {
    send: (text) => port.send(text, to),
    next: async (what) => parseSip((await port.next(what)).data),
  };
}

/** RFC 3261 §8.2.6: a response copying Via, From, To (a tag added), Call-ID and CSeq. */
export function answerText(req: SipMessage, status: number, reason: string, tag: string): string {
  const copy = (n: string): [string, string][] => req.headers.getLines(n).map((v) => [n, v] as [string, string]);
  const to = req.headers.get('To')!;
  return sipText(`SIP/2.0 ${status} ${reason}`, [...copy('Via'), ...copy('From'), ['To', /;tag=/.test(to) ? to : `${to};tag=${tag}`], ...copy('Call-ID'), ...copy('CSeq')]);
}

export interface CancelScript {
  up: UpstreamLeg;
  down: RawPort;
  /** The node's SIP stack: its transaction layer and proxy core are checked at the end. */
  stack: SipStack;
  clock: ManualClock;
  /** The INVITE's Request-URI, the upstream's Via sent-by, its Route set and extra header fields. */
  uri: string;
  viaHost: string;
  routes: string[];
  to: string;
  from?: string;
  headers?: [string, string][];
}

export interface CancelResult {
  /** The INVITE as the downstream got it. */
  forwarded: SipRequest;
  /** The CANCEL as the downstream got it. */
  cancel: SipRequest;
  /** The responses the upstream got, in order (100 first, then 180, the CANCEL's 200, 487). */
  upstream: SipResponse[];
}

/** The next response upstream, recording it. */
async function response(up: UpstreamLeg, got: SipResponse[], what: string): Promise<SipResponse> {
  const m = await up.next(what);
  assert.equal(m.kind, 'response', `${what}: a response`);
  got.push(m);
  return m;
}

/** Runs the whole exchange of the module comment, asserting each step; returns what crossed. */
export async function runCancel(s: CancelScript): Promise<CancelResult> {
  const branch = 'z9hG4bKcancelup1';
  const via = `SIP/2.0/UDP ${s.viaHost};branch=${branch}`;
  const from = `<${s.from ?? 'sip:alice@ims.lab'}>;tag=up1`;
  const common: [string, string][] = [['Via', via], ['Max-Forwards', '70'], ...s.routes.map((r): [string, string] => ['Route', r]), ['From', from], ['To', `<${s.to}>`], ['Call-ID', 'cancel-call-1']];
  const invite = sipText(`INVITE ${s.uri} SIP/2.0`, [...common, ['CSeq', '41 INVITE'], ['Contact', `<sip:alice@${s.viaHost}>`], ...(s.headers ?? [])]);
  const cancel = sipText(`CANCEL ${s.uri} SIP/2.0`, [...common, ['CSeq', '41 CANCEL']]);
  const upstream: SipResponse[] = [];

  await s.up.send(invite);
  const d1 = await s.down.next('the forwarded INVITE');
  const forwarded = parseSip(d1.data) as SipRequest;
  assert.equal(forwarded.kind === 'request' && forwarded.method, 'INVITE');
  const ours = topVia(forwarded)!;
  assert.notEqual(viaBranch(ours), branch, 'RFC 3261 §16.6 step 8: a branch of the node\'s own');
  const vias = viasOf(forwarded);
  assert.equal(vias.length, 2, 'the node\'s Via on top of the upstream\'s');
  assert.equal(viaBranch(vias[1]), branch);
  assert.equal((await response(s.up, upstream, '100 Trying')).status, 100, '§17.2.1: the INVITE server transaction answers 100 at once');

  await s.down.send(answerText(forwarded, 180, 'Ringing', 'down1'), d1.from);
  const ringing = await response(s.up, upstream, '180 relayed');
  assert.equal(ringing.status, 180);
  assert.deepEqual(ringing.headers.getLines('Via'), [via], '§16.7 step 3: the node\'s Via removed');
  assert.equal(toTag(ringing), 'down1', '§16.7: the To tag of a 1xx is never changed');

  await s.up.send(cancel);
  const ok = await response(s.up, upstream, '200 to the CANCEL');
  assert.equal(ok.status, 200, '§16.10: "the element MUST immediately return a 200 (OK) response to the CANCEL"');
  assert.equal(cseqOf(ok)?.method, 'CANCEL');
  assert.equal(cseqOf(ok)?.seq, 41);
  assert.deepEqual(ok.headers.getLines('Via'), [via]);

  const d2 = await s.down.next('the CANCEL sent downstream');
  const down = parseSip(d2.data) as SipRequest;
  assert.equal(down.kind === 'request' && down.method, 'CANCEL');
  // §9.1: "The Request-URI, Call-ID, To, the numeric part of CSeq, and From header fields in the
  // CANCEL request MUST be identical to those in the request being cancelled … only a single Via
  // header field value matching the top Via value in the request being cancelled."
  assert.equal(down.uri, forwarded.uri);
  assert.equal(down.headers.get('Call-ID'), forwarded.headers.get('Call-ID'));
  assert.equal(down.headers.get('From'), forwarded.headers.get('From'));
  assert.equal(down.headers.get('To'), forwarded.headers.get('To'));
  assert.deepEqual(cseqOf(down), { seq: 41, method: 'CANCEL' });
  assert.deepEqual(down.headers.getLines('Via'), [forwarded.headers.getLines('Via')[0]]);
  assert.equal(viaBranch(topVia(down)!), viaBranch(ours));
  assert.deepEqual(down.headers.getLines('Route'), forwarded.headers.getLines('Route'), '§9.1: the Route values of the request cancelled');
  assert.deepEqual([d2.from.address, d2.from.port], [d1.from.address, d1.from.port], '§9.1: where the INVITE came from');

  await s.down.send(answerText(down, 200, 'OK', 'down1'), d2.from);
  await s.down.send(answerText(forwarded, 487, 'Request Terminated', 'down1'), d1.from);
  const ack = parseSip((await s.down.next('the ACK for the 487 (hop by hop)')).data) as SipRequest;
  // §17.1.1.3: the node's client transaction acknowledges the 487 itself, on the INVITE's branch.
  assert.equal(ack.kind === 'request' && ack.method, 'ACK');
  assert.equal(ack.uri, forwarded.uri);
  assert.deepEqual(ack.headers.getLines('Via'), [forwarded.headers.getLines('Via')[0]]);
  assert.deepEqual(cseqOf(ack), { seq: 41, method: 'ACK' });
  assert.equal(toTag(ack), 'down1');

  const terminated = await response(s.up, upstream, '487 relayed');
  assert.equal(terminated.status, 487);
  assert.deepEqual(cseqOf(terminated), { seq: 41, method: 'INVITE' });
  assert.deepEqual(terminated.headers.getLines('Via'), [via]);
  assert.equal(toTag(terminated), 'down1', '§16.7 step 6: "An element SHOULD preserve the To tag when simply forwarding a 3-6xx response"');

  // §17.1.1.3 upstream: the ACK for the 487 ends at the node (its server transaction), not downstream.
  const tx = s.stack.transactions.findInviteFor(parseSip(cancel) as SipRequest);
  assert.ok(tx, 'the INVITE server transaction');
  await s.up.send(sipText(`ACK ${s.uri} SIP/2.0`, [['Via', via], ['Max-Forwards', '70'], ...s.routes.map((r): [string, string] => ['Route', r]), ['From', from], ['To', terminated.headers.get('To')!], ['Call-ID', 'cancel-call-1'], ['CSeq', '41 ACK']]));
  await waitFor(() => tx.state === 'confirmed', 'the ACK to reach the INVITE server transaction');

  // Timers D (32 s), I, J and K run out: nothing is left, in the transaction layer or the proxy core.
  await s.clock.advanceAsync(64 * s.stack.transactions.timers.t1 + s.stack.transactions.timers.d);
  assert.deepEqual(s.stack.proxy.size, { contexts: 0, branches: 0 });
  assert.deepEqual(s.stack.transactions.size, { clients: 0, servers: 0 });
  assert.equal(s.down.inbox.length, 0, 'nothing more went downstream (one CANCEL, one ACK)');
  return { forwarded, cancel: down, upstream };
}
