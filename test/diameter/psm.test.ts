/**
 * The peer state machine of RFC 6733 §5.6 (pure step function), row by row, including the
 * election of §5.6.4 in both outcomes, and CER refusal with a Result-Code.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ResultCode,
  buildCea,
  buildCer,
  buildDpa,
  buildDpr,
  buildDwa,
  buildDwr,
  commonApplications,
  getValue,
  initialPsmState,
  psmStep,
  winsElection,
  type Capabilities,
  type DiameterMessage,
  type PsmAction,
  type PsmContext,
  type PsmEvent,
  type PsmState,
} from '../../src/diameter/index.js';

const caps = (host: string): Capabilities => ({
  originHost: host,
  originRealm: 'ims.lab',
  hostIpAddresses: ['127.0.0.1'],
  vendorId: 0,
  productName: 'test',
  supportedVendorIds: [10415],
  authApplicationIds: [],
  acctApplicationIds: [],
  vendorSpecificApplicationIds: [{ vendorId: 10415, authApplicationId: 16777216 }],
});

function ctxFor(localHost: string, peerHost: string): PsmContext {
  const local = caps(localHost);
  return {
    local,
    peerHost,
    ceaTimeoutMs: 5000,
    dpaTimeoutMs: 2000,
    lingerMs: 500,
    checkCer: (c) => {
      if (c.originHost !== peerHost) return { resultCode: ResultCode.DIAMETER_UNKNOWN_PEER };
      if (commonApplications(local, c).length === 0) return { resultCode: ResultCode.DIAMETER_NO_COMMON_APPLICATION };
      return { resultCode: ResultCode.DIAMETER_SUCCESS };
    },
  };
}

/** Runs events from `s`, returning the final state and every action. */
function run(ctx: PsmContext, events: PsmEvent[], s: PsmState = initialPsmState): { state: PsmState; actions: PsmAction[]; trail: string[] } {
  const actions: PsmAction[] = [];
  const trail: string[] = [s.name];
  for (const e of events) {
    const r = psmStep(s, e, ctx);
    s = r.state;
    actions.push(...r.actions);
    trail.push(s.name);
  }
  return { state: s, actions, trail };
}

const kinds = (a: PsmAction[]): string[] => a.map((x) => (x.kind === 'send' ? `send:${x.side}:${x.msg.commandCode}${x.msg.flags & 0x80 ? 'R' : 'A'}` : x.kind === 'disconnect' ? `disconnect:${x.side}` : x.kind));
const cea = (cer: DiameterMessage, from: string, rc = 2001): DiameterMessage => buildCea(cer, caps(from), rc);

describe('RFC 6733 §5.6 peer state machine', () => {
  const ctx = ctxFor('scscf.ims.lab', 'hss.ims.lab');
  const ourCer = buildCer(ctx.local);
  const theirCer = buildCer(caps('hss.ims.lab'));

  test('[R-CX-1] initiator: Start → Wait-Conn-Ack → Wait-I-CEA → I-Open', () => {
    const r = run(ctx, [{ kind: 'Start' }, { kind: 'I-Rcv-Conn-Ack' }, { kind: 'I-Rcv', msg: cea(ourCer, 'hss.ims.lab') }]);
    assert.deepEqual(r.trail, ['Closed', 'Wait-Conn-Ack', 'Wait-I-CEA', 'I-Open']);
    assert.deepEqual(kinds(r.actions), ['connect', 'startTimer', 'send:I:257R', 'cancelTimer', 'open']);
    const sent = r.actions.find((a) => a.kind === 'send') as { msg: DiameterMessage };
    assert.equal(getValue(sent.msg.avps, 'Origin-Host'), 'scscf.ims.lab');
    assert.equal(getValue(sent.msg.avps, 'Host-IP-Address'), '127.0.0.1');
  });

  test('[R-CX-1] responder: R-Conn-CER in Closed → R-Accept, Process-CER, R-Snd-CEA → R-Open', () => {
    const r = run(ctx, [{ kind: 'R-Conn-CER', conn: 7, cer: theirCer }]);
    assert.equal(r.state.name, 'R-Open');
    assert.equal(r.state.rConn, 7);
    const send = r.actions[0] as { kind: string; conn: number; msg: DiameterMessage };
    assert.equal(send.conn, 7);
    assert.equal(getValue(send.msg.avps, 'Result-Code'), 2001);
  });

  test('CER with no common application is answered 5010 and the connection closed; state stays Closed', () => {
    const other = { ...caps('hss.ims.lab'), vendorSpecificApplicationIds: [{ vendorId: 10415, authApplicationId: 16777217 }] };
    const r = run(ctx, [{ kind: 'R-Conn-CER', conn: 3, cer: buildCer(other) }]);
    assert.equal(r.state.name, 'Closed');
    assert.deepEqual(kinds(r.actions), ['send:R:257A', 'disconnect:R']);
    assert.equal(getValue((r.actions[0] as { msg: DiameterMessage }).msg.avps, 'Result-Code'), 5010);
  });

  test('Wait-Conn-Ack: Nack → Closed; Timeout → Closed', () => {
    assert.deepEqual(run(ctx, [{ kind: 'Start' }, { kind: 'I-Rcv-Conn-Nack' }]).trail, ['Closed', 'Wait-Conn-Ack', 'Closed']);
    assert.deepEqual(run(ctx, [{ kind: 'Start' }, { kind: 'Timeout' }]).trail, ['Closed', 'Wait-Conn-Ack', 'Closed']);
  });

  test('Wait-I-CEA: a non-CEA message is an error → Closed; a refused CEA → Closed with its Result-Code', () => {
    assert.deepEqual(run(ctx, [{ kind: 'Start' }, { kind: 'I-Rcv-Conn-Ack' }, { kind: 'I-Rcv', msg: buildDwr('hss.ims.lab', 'ims.lab') }]).trail.at(-1), 'Closed');
    const r = run(ctx, [{ kind: 'Start' }, { kind: 'I-Rcv-Conn-Ack' }, { kind: 'I-Rcv', msg: cea(ourCer, 'hss.ims.lab', 3010) }]);
    assert.equal(r.state.name, 'Closed');
    const closed = r.actions.find((a) => a.kind === 'closed') as { resultCode?: number };
    assert.equal(closed.resultCode, 3010);
  });

  test('a CEA from another Origin-Host than configured is refused', () => {
    const r = run(ctx, [{ kind: 'Start' }, { kind: 'I-Rcv-Conn-Ack' }, { kind: 'I-Rcv', msg: cea(ourCer, 'evil.ims.lab') }]);
    assert.equal(r.state.name, 'Closed');
  });

  test('[R-CX-1] election won (§5.6.4, local Origin-Host higher): I-Disc, R-Snd-CEA → R-Open', () => {
    assert.ok(winsElection('scscf.ims.lab', 'hss.ims.lab'));
    const r = run(ctx, [{ kind: 'Start' }, { kind: 'I-Rcv-Conn-Ack' }, { kind: 'R-Conn-CER', conn: 9, cer: theirCer }]);
    assert.deepEqual(r.trail, ['Closed', 'Wait-Conn-Ack', 'Wait-I-CEA', 'R-Open']);
    assert.deepEqual(kinds(r.actions).slice(-4), ['disconnect:I', 'cancelTimer', 'send:R:257A', 'open']);
  });

  test('[R-CX-1] election lost (local Origin-Host lower): wait for our CEA, then R-Disc → I-Open', () => {
    const lctx = ctxFor('hss.ims.lab', 'scscf.ims.lab');
    assert.ok(!winsElection('hss.ims.lab', 'scscf.ims.lab'));
    const peerCer = buildCer(caps('scscf.ims.lab'));
    const ours = buildCer(lctx.local);
    const r = run(lctx, [{ kind: 'Start' }, { kind: 'I-Rcv-Conn-Ack' }, { kind: 'R-Conn-CER', conn: 4, cer: peerCer }, { kind: 'I-Rcv', msg: cea(ours, 'scscf.ims.lab') }]);
    assert.deepEqual(r.trail, ['Closed', 'Wait-Conn-Ack', 'Wait-I-CEA', 'Wait-Returns', 'I-Open']);
    assert.ok(kinds(r.actions).includes('disconnect:R'));
    assert.ok(!kinds(r.actions).includes('send:R:257A'), 'the loser sends no CEA on its R connection');
  });

  test('Wait-Conn-Ack/Elect: CER arrives before our connection completes; then Conn-Ack elects', () => {
    const r = run(ctx, [{ kind: 'Start' }, { kind: 'R-Conn-CER', conn: 2, cer: theirCer }, { kind: 'I-Rcv-Conn-Ack' }]);
    assert.deepEqual(r.trail, ['Closed', 'Wait-Conn-Ack', 'Wait-Conn-Ack/Elect', 'R-Open']);
    const n = run(ctx, [{ kind: 'Start' }, { kind: 'R-Conn-CER', conn: 2, cer: theirCer }, { kind: 'I-Rcv-Conn-Nack' }]);
    assert.deepEqual(n.trail.at(-1), 'R-Open');
    const d = run(ctx, [{ kind: 'Start' }, { kind: 'R-Conn-CER', conn: 2, cer: theirCer }, { kind: 'R-Peer-Disc', conn: 2 }]);
    assert.deepEqual(d.trail.at(-1), 'Wait-Conn-Ack');
  });

  test('[R-CX-1] open: DWR is answered with DWA; DWA and other messages reach the watchdog; CER on a new connection is rejected', () => {
    const open = run(ctx, [{ kind: 'R-Conn-CER', conn: 7, cer: theirCer }]).state;
    const dwr = { ...buildDwr('hss.ims.lab', 'ims.lab'), hopByHop: 3, endToEnd: 4 };
    const r1 = psmStep(open, { kind: 'R-Rcv', conn: 7, msg: dwr }, ctx);
    assert.deepEqual(kinds(r1.actions), ['watchdog', 'send:R:280A']);
    const dwa = (r1.actions[1] as { msg: DiameterMessage }).msg;
    assert.deepEqual([dwa.hopByHop, dwa.endToEnd, getValue(dwa.avps, 'Result-Code')], [3, 4, 2001]);
    assert.deepEqual(psmStep(open, { kind: 'R-Rcv', conn: 7, msg: buildDwa(dwr, 'hss.ims.lab', 'ims.lab') }, ctx).actions, [{ kind: 'watchdog', event: 'dwa' }]);
    assert.deepEqual(kinds(psmStep(open, { kind: 'R-Conn-CER', conn: 8, cer: theirCer }, ctx).actions), ['disconnect:R']);
  });

  test('[R-CX-1] Stop sends DPR → Closing; DPA → Closed; a received DPR is answered with DPA → Closed', () => {
    const open = run(ctx, [{ kind: 'Start' }, { kind: 'I-Rcv-Conn-Ack' }, { kind: 'I-Rcv', msg: cea(ourCer, 'hss.ims.lab') }]).state;
    const s = psmStep(open, { kind: 'Stop', disconnectCause: 0 }, ctx);
    assert.equal(s.state.name, 'Closing');
    const dpr = (s.actions[0] as { msg: DiameterMessage }).msg;
    assert.equal(getValue(dpr.avps, 'Disconnect-Cause'), 0);
    const c = psmStep(s.state, { kind: 'I-Rcv', msg: buildDpa(dpr, 'hss.ims.lab', 'ims.lab') }, ctx);
    assert.equal(c.state.name, 'Closed');
    assert.ok(kinds(c.actions).includes('disconnect:I'));
    const t = psmStep(s.state, { kind: 'Timeout' }, ctx);
    assert.equal(t.state.name, 'Closed');
    const p = psmStep(open, { kind: 'I-Rcv', msg: buildDpr('hss.ims.lab', 'ims.lab', 2) }, ctx);
    assert.equal(p.state.name, 'Closed');
    assert.deepEqual(kinds(p.actions).slice(0, 3), ['disconnecting', 'send:I:282A', 'disconnect:I']);
    assert.equal((p.actions[2] as { lingerMs?: number }).lingerMs, 500);
  });

  test('open: the peer closing the connection → Closed', () => {
    const open = run(ctx, [{ kind: 'R-Conn-CER', conn: 7, cer: theirCer }]).state;
    assert.equal(psmStep(open, { kind: 'R-Peer-Disc', conn: 7 }, ctx).state.name, 'Closed');
    assert.equal(psmStep(open, { kind: 'R-Peer-Disc', conn: 99 }, ctx).state.name, 'R-Open', 'another connection closing is ignored');
  });
});
