/**
 * The RFC 3261 §16 proxy core on its own: no sockets, no transaction layer. A recorder stands in
 * for the ports, a ManualClock for time, and every message the core sends or relays is compared
 * with text written out here from the RFC's rules (§16.6 the forwarded copy, §16.7 the relayed
 * responses, §9.1 the CANCEL), never with the core's own builders. SPEC.md names no requirement
 * for the proxy procedures, so the tests cite the RFC clauses they follow.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError, ManualClock, SeededRng } from '../../../src/common/index.js';
import { parseMessage, serializeMessage, type SipMessage, type SipRequest, type SipResponse } from '../../../src/sip/index.js';
import { bestResponse, newBranch, ProxyCore, responseRank, SipTimeoutError, type ProxyContext } from '../../../src/sip/stack/index.js';
import type { Destination } from '../../../src/sip/transport/index.js';

const T1 = 500;
const DEST: Destination = { address: '192.0.2.20', port: 5070 };
const UP_VIA = 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKup1';

function msg(lines: string[], body = ''): SipMessage {
  const text = `${lines.join('\r\n')}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  return parseMessage(new TextEncoder().encode(text));
}
const text = (m: SipMessage): string => new TextDecoder().decode(serializeMessage(m));

/**
 * The INVITE as the upstream sent it (RFC 3261 §8.1.1) or, with `ours`, as forwarded: §16.6 step
 * 8 (our Via, with that branch, on top) and step 3 (Max-Forwards as given).
 */
function inviteLines(method: string, mf: string, ours?: string): string[] {
  return [
    `${method} sip:bob@ims.lab SIP/2.0`,
    ...(ours === undefined ? [] : [`Via: SIP/2.0/UDP 0.0.0.0;branch=${ours}`]),
    `Via: ${UP_VIA}`,
    `Max-Forwards: ${mf}`,
    'Route: <sip:scscf.ims.lab;lr>',
    'To: <sip:bob@ims.lab>',
    'From: <sip:alice@ims.lab>;tag=a1',
    'Call-ID: call-1',
    `CSeq: 7 ${method}`,
    'Require: 100rel',
  ];
}
const invite = (method = 'INVITE', mf = '70'): SipRequest => msg(inviteLines(method, mf)) as SipRequest;

/** A response from downstream to the forwarded copy: our Via on top, then the upstream's. */
function down(branch: string, status: number, reason: string, method = 'INVITE', tag = 'b1'): SipResponse {
  return msg([
    `SIP/2.0 ${status} ${reason}`,
    `Via: SIP/2.0/UDP 0.0.0.0;branch=${branch}`,
    `Via: ${UP_VIA}`,
    `To: <sip:bob@ims.lab>${status > 100 ? `;tag=${tag}` : ''}`,
    'From: <sip:alice@ims.lab>;tag=a1',
    'Call-ID: call-1',
    `CSeq: 7 ${method}`,
  ]) as SipResponse;
}

/** What the same response looks like once relayed upstream (§16.7 step 3: our Via removed). */
function relayed(status: number, reason: string, method = 'INVITE', tag = 'b1'): string {
  return text(
    msg([`SIP/2.0 ${status} ${reason}`, `Via: ${UP_VIA}`, `To: <sip:bob@ims.lab>${status > 100 ? `;tag=${tag}` : ''}`, 'From: <sip:alice@ims.lab>;tag=a1', 'Call-ID: call-1', `CSeq: 7 ${method}`]),
  );
}

interface World {
  core: ProxyCore;
  clock: ManualClock;
  /** The branches the core will use, from a twin of its Rng. */
  branches: string[];
  sent: { req: SipRequest; dest: Destination; branch: string }[];
  cancels: { req: SipRequest; dest: Destination }[];
  abandoned: SipRequest[];
  upstream: SipResponse[];
  relayedUp: SipResponse[];
  open(req?: SipRequest, origin?: string): ProxyContext;
}

function world(seed = 'proxy'): World {
  const clock = new ManualClock(1_000);
  const twin = new SeededRng(seed);
  const w: World = {
    clock,
    branches: Array.from({ length: 4 }, () => newBranch(twin)),
    sent: [],
    cancels: [],
    abandoned: [],
    upstream: [],
    relayedUp: [],
    core: undefined as unknown as ProxyCore,
    open(req = invite(), origin = 'udp|192.0.2.1:5060|192.0.2.5:5060') {
      return w.core.open('server-key', req, { respond: (r) => w.upstream.push(r), relay: (r) => w.relayedUp.push(r) }, origin);
    },
  };
  w.core = new ProxyCore({
    clock,
    rng: new SeededRng(seed),
    t1: T1,
    ports: {
      send: (req, dest, branch) => void w.sent.push({ req, dest, branch }),
      cancel: (req, dest) => void w.cancels.push({ req, dest }),
      abandon: (req) => void w.abandoned.push(req),
    },
  });
  return w;
}

/** §16.6 steps 1, 3, 8 and §9.1, written out: the forwarded INVITE and the CANCEL that follows it. */
/** A MESSAGE context whose one branch answered `status`, that answer sent upstream (§16.7). */
async function answeredMessage(w: World, status: number, reason: string): Promise<{ rc: ProxyContext; b: string }> {
  const rc = w.open(invite('MESSAGE'));
  const p = rc.forward(invite('MESSAGE'), DEST);
  const [b] = w.branches;
  w.core.onResponse(down(b, status, reason, 'MESSAGE'));
  rc.respond(await p);
  return { rc, b };
}

const forwardedText = (branch: string, method = 'INVITE', mf = '69'): string => text(msg(inviteLines(method, mf, branch)));
function cancelText(branch: string): string {
  return text(
    msg([
      'CANCEL sip:bob@ims.lab SIP/2.0',
      `Via: SIP/2.0/UDP 0.0.0.0;branch=${branch}`,
      'Route: <sip:scscf.ims.lab;lr>',
      'Max-Forwards: 70',
      'From: <sip:alice@ims.lab>;tag=a1',
      'To: <sip:bob@ims.lab>',
      'Call-ID: call-1',
      'CSeq: 7 CANCEL',
    ]),
  );
}

describe('RFC 3261 §16.6–16.7: forwarding and response processing', () => {
  test('§16.6: one branch, the copy with Max-Forwards − 1 and our Via (fresh branch) on top; §16.7 step 5: 100 kept, 180 relayed without our Via, the 2xx resolves at once', async () => {
    const w = world();
    const rc = w.open();
    const p = rc.forward(invite(), DEST);
    assert.equal(w.sent.length, 1);
    const [b] = w.branches;
    assert.equal(w.sent[0].branch, b);
    assert.deepEqual(w.sent[0].dest, DEST);
    assert.equal(text(w.sent[0].req), forwardedText(b));
    assert.deepEqual(w.core.size, { contexts: 1, branches: 1 });

    assert.equal(w.core.onResponse(down(b, 100, 'Trying')), true);
    assert.equal(w.upstream.length, 0, '§16.7 step 5: "MUST NOT forward any 100 (Trying) response"');
    w.core.onResponse(down(b, 180, 'Ringing'));
    assert.deepEqual(w.upstream.map(text), [relayed(180, 'Ringing')]);
    w.core.onResponse(down(b, 200, 'OK'));
    const final = await p;
    assert.equal(text(final), relayed(200, 'OK'));
    rc.respond(final);
    assert.deepEqual(w.upstream.map(text), [relayed(180, 'Ringing'), relayed(200, 'OK')]);
    // A retransmitted 2xx (RFC 6026 §8.4) goes upstream at once, statelessly (§16.7 step 5, step 9).
    w.core.onResponse(down(b, 200, 'OK'));
    assert.deepEqual(w.relayedUp.map(text), [relayed(200, 'OK')]);
    // "MUST maintain the response context until all of its associated transactions have been terminated".
    assert.deepEqual(w.core.size, { contexts: 1, branches: 1 });
    w.core.onClientEnd(b);
    assert.deepEqual(w.core.size, { contexts: 1, branches: 0 }, 'the server transaction still lives');
    w.core.serverEnded('server-key');
    assert.deepEqual(w.core.size, { contexts: 0, branches: 0 });
    assert.equal(w.core.onResponse(down(b, 200, 'OK')), false, 'a branch that ended is no longer matched');
  });

  test('§16.7 step 5: exactly one final response goes upstream; after it nothing but a 2xx to an INVITE', async () => {
    const w = world();
    const rc = w.open(invite('MESSAGE'));
    const p = rc.forward(invite('MESSAGE'), DEST);
    const [b] = w.branches;
    assert.equal(text(w.sent[0].req), forwardedText(b, 'MESSAGE'));
    w.core.onResponse(down(b, 404, 'Not Found', 'MESSAGE'));
    rc.respond(await p);
    rc.respond(down(b, 500, 'Server Internal Error', 'MESSAGE'));
    rc.respond(down(b, 200, 'OK', 'MESSAGE'));
    rc.respond(down(b, 180, 'Ringing', 'MESSAGE'));
    assert.deepEqual(w.upstream.map((r) => r.status), [404], 'a non-INVITE gets one final response, 2xx included');
    assert.equal(w.core.onResponse(down(b, 404, 'Not Found', 'INVITE')), false, '§17.1.3: the CSeq method must match the branch');
  });

  test('§16.7 step 9: a non-INVITE context, its final response sent and its branch ended, is maintained until its server transaction ends but keeps no response; an INVITE context keeps its own (§16.10, RFC 6026 §8.4)', async () => {
    const w = world();
    const { rc, b } = await answeredMessage(w, 202, 'Accepted');
    assert.equal(rc.finals.length, 1, 'kept while its branch lives');
    w.core.onClientEnd(b);
    assert.deepEqual(w.core.size, { contexts: 1, branches: 0 }, '"MUST maintain the response context until all of its associated transactions have been terminated"');
    assert.equal(w.core.get('server-key'), rc);
    assert.equal(rc.finals.length, 0, 'nothing in it will be read again');
    rc.respond(down(b, 200, 'OK', 'MESSAGE'));
    assert.deepEqual(w.upstream.map((r) => r.status), [202], 'still one final response upstream');
    w.core.serverEnded('server-key');
    assert.deepEqual(w.core.size, { contexts: 0, branches: 0 });

    const v = world();
    const ic = v.open();
    const q = ic.forward(invite(), DEST);
    v.core.onResponse(down(v.branches[0], 200, 'OK'));
    ic.respond(await q);
    v.core.onClientEnd(v.branches[0]);
    assert.equal(ic.finals.length, 1, 'an INVITE context keeps its responses until its server transaction ends');
  });

  test('§16.7 step 5: a non-INVITE context that got a 6xx still answers a new forward with it after its branch ended', async () => {
    const w = world();
    const { rc, b } = await answeredMessage(w, 603, 'Decline');
    w.core.onClientEnd(b);
    assert.equal((await rc.forward(invite('MESSAGE'), DEST)).status, 603, '"it MUST NOT create any new branches in this context"');
    assert.equal(w.sent.length, 1);
  });

  test('§16.6 step 7 / §16.8: a branch that times out rejects with the transaction\'s error (the node answers 408); the context is cleaned', async () => {
    const w = world();
    const rc = w.open();
    const p = rc.forward(invite(), DEST);
    w.core.onClientEnd(w.branches[0], new SipTimeoutError('INVITE', 'B'));
    await assert.rejects(p, SipTimeoutError);
    rc.respond(msg(['SIP/2.0 408 Request Timeout', `Via: ${UP_VIA}`, 'To: <sip:bob@ims.lab>;tag=p', 'From: <sip:alice@ims.lab>;tag=a1', 'Call-ID: call-1', 'CSeq: 7 INVITE']) as SipResponse);
    assert.deepEqual(w.upstream.map((r) => r.status), [408]);
    w.core.serverEnded('server-key');
    assert.deepEqual(w.core.size, { contexts: 0, branches: 0 });
  });

  test('§16.3 step 3: Max-Forwards 0 is never forwarded — no branch, InvalidArgumentError (the node answers 483)', async () => {
    const w = world();
    const rc = w.open(invite('INVITE', '0'));
    await assert.rejects(rc.forward(invite('INVITE', '0'), DEST), InvalidArgumentError);
    assert.equal(w.sent.length, 0);
    assert.equal(w.core.size.branches, 0);
  });

  test('§16.7 step 5 and step 10: a 6xx on one branch of the set cancels the branch still ringing, and no new branch is made', async () => {
    const w = world();
    const rc = w.open();
    const first = rc.forward(invite(), DEST);
    const second = rc.forward(invite(), { address: '192.0.2.21', port: 5060 });
    const [a, b] = w.branches;
    assert.deepEqual(w.sent.map((s) => s.branch), [a, b], 'the context holds both branches');
    w.core.onResponse(down(a, 180, 'Ringing'));
    w.core.onResponse(down(b, 603, 'Decline', 'INVITE', 'b2'));
    assert.equal((await second).status, 603);
    assert.deepEqual(w.cancels.map((c) => text(c.req)), [cancelText(a)]);
    assert.deepEqual(w.cancels[0].dest, DEST, '§9.1: the CANCEL goes where the request went');
    assert.equal((await rc.forward(invite(), DEST)).status, 603, '"it MUST NOT create any new branches in this context"');
    assert.equal(w.sent.length, 2);
    w.core.onResponse(down(a, 487, 'Request Terminated'));
    assert.equal((await first).status, 487);
  });
});

describe('RFC 3261 §16.10 and §9.1: CANCEL', () => {
  test('§16.10: the matching context cancels its branch with the §9.1 CANCEL (same Request-URI, Call-ID, From, To, CSeq number, Route; one Via equal to the forwarded top Via; no Require); the 487 is relayed', async () => {
    const w = world();
    const rc = w.open();
    const p = rc.forward(invite(), DEST);
    const [b] = w.branches;
    w.core.onResponse(down(b, 180, 'Ringing'));
    assert.equal(w.core.find('server-key', 'udp|192.0.2.9:5060|192.0.2.5:5060'), undefined, 'a CANCEL from elsewhere matches nothing');
    const found = w.core.find('server-key', 'udp|192.0.2.1:5060|192.0.2.5:5060')!;
    assert.equal(found, rc);
    found.cancel();
    assert.equal(w.cancels.length, 1);
    assert.equal(text(w.cancels[0].req), cancelText(b));
    assert.equal(w.cancels[0].req.headers.getAll('via')[0], w.sent[0].req.headers.getAll('via')[0]);
    found.cancel();
    assert.equal(w.cancels.length, 1, '§16.7 step 10: a branch already cancelled is not cancelled again');
    w.core.onResponse(down(b, 487, 'Request Terminated'));
    const final = await p;
    assert.equal(text(final), relayed(487, 'Request Terminated'));
    rc.respond(final);
    assert.deepEqual(w.upstream.map((r) => r.status), [180, 487]);
    assert.equal(w.clock.timers, 0, 'the §9.1 wait ended with the final response');
    assert.equal((await rc.forward(invite(), DEST)).status, 487, 'a cancelled context makes no new branch');
    assert.equal(w.sent.length, 1);
    w.core.onClientEnd(b);
    assert.equal(w.core.find('server-key', 'udp|192.0.2.1:5060|192.0.2.5:5060'), rc, 'a late CANCEL still finds the context (§9.2: 200, no effect)');
    w.core.serverEnded('server-key');
    assert.deepEqual(w.core.size, { contexts: 0, branches: 0 });
  });

  test('§9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent"; it leaves with the first one, even a 100', () => {
    const w = world();
    const rc = w.open();
    void rc.forward(invite(), DEST);
    rc.cancel();
    assert.equal(w.cancels.length, 0);
    w.core.onResponse(down(w.branches[0], 100, 'Trying'));
    assert.deepEqual(w.cancels.map((c) => text(c.req)), [cancelText(w.branches[0])]);
    assert.equal(w.upstream.length, 0);
  });

  test('§9.1: no final response 64·T1 after the CANCEL: the branch ends as a 487 made here (the upstream request\'s Via), its client transaction is abandoned', async () => {
    const w = world();
    const rc = w.open();
    const p = rc.forward(invite(), DEST);
    const [b] = w.branches;
    w.core.onResponse(down(b, 183, 'Session Progress'));
    rc.cancel();
    w.clock.advance(64 * T1 - 1);
    assert.equal(w.abandoned.length, 0);
    w.clock.advance(1);
    const final = await p;
    assert.equal(final.status, 487);
    assert.equal(final.reason, 'Request Terminated');
    assert.deepEqual(final.headers.getAll('via'), [UP_VIA]);
    assert.equal(final.headers.get('call-id'), 'call-1');
    assert.equal(final.headers.get('cseq'), '7 INVITE');
    assert.match(final.headers.get('to')!, /^<sip:bob@ims\.lab>;tag=[0-9a-f]{16}$/);
    assert.deepEqual(w.abandoned.map(text), [text(w.sent[0].req)]);
    assert.equal(w.core.size.branches, 0);
    rc.respond(final);
    w.core.serverEnded('server-key');
    assert.deepEqual(w.core.size, { contexts: 0, branches: 0 });
    // A late answer from the given-up branch goes nowhere.
    assert.equal(w.core.onResponse(down(b, 487, 'Request Terminated')), false);
  });

  test('§16.7 step 10: forwarding a final response cancels the branches still pending', async () => {
    const w = world();
    const rc = w.open();
    void rc.forward(invite(), DEST);
    w.core.onResponse(down(w.branches[0], 180, 'Ringing'));
    rc.respond(msg(['SIP/2.0 480 Temporarily Unavailable', `Via: ${UP_VIA}`, 'To: <sip:bob@ims.lab>;tag=p', 'From: <sip:alice@ims.lab>;tag=a1', 'Call-ID: call-1', 'CSeq: 7 INVITE']) as SipResponse);
    assert.deepEqual(w.cancels.map((c) => text(c.req)), [cancelText(w.branches[0])]);
    w.core.clear();
    assert.equal(w.clock.timers, 0, 'clear() stops the §9.1 waits');
  });
});

describe('RFC 3261 §16.7 step 6: choosing the best response', () => {
  const r = (status: number): SipResponse => down('z9hG4bKx', status, 'X');
  test('6xx first, else the lowest class; 401/407/415/420/484 first within 4xx; 503 last within 5xx; ties to the earliest; none → undefined (the node sends 408)', () => {
    assert.equal(bestResponse([r(404), r(603), r(302)])?.status, 603);
    assert.equal(bestResponse([r(500), r(486), r(302)])?.status, 302);
    assert.equal(bestResponse([r(503), r(500)])?.status, 500);
    assert.equal(bestResponse([r(404), r(407), r(486)])?.status, 407);
    assert.equal(bestResponse([r(486), r(404)])?.status, 486);
    assert.equal(bestResponse([r(503)])?.status, 503);
    assert.equal(bestResponse([]), undefined);
    assert.ok(responseRank(600) < responseRank(300) && responseRank(484) < responseRank(400) && responseRank(502) < responseRank(503));
  });
});
