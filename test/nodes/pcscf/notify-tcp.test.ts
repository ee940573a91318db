/**
 * [O] (issue item 7) the S-CSCF's reg-event NOTIFY reaches the P-CSCF over TCP once the reginfo is
 * too large for UDP (RFC 3261 §18.1.1), from an ephemeral port: the P-CSCF must take it as the
 * core's (RFC 3680 §5.3, TS 24.229 §5.2.3) — trust by the peer's address and the dialog of its own
 * subscription, never by the source port — while everything else from that address on the
 * unprotected port stays refused (R-SA-5).
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { type Reginfo, SipHeaders, SipRequest, serializeMessage } from '../../../src/sip/index.js';
import { HOST, waitFor, world } from './support.js';

type World = Awaited<ReturnType<typeof world>>;

/** Sends `req` over a fresh TCP connection from an ephemeral port and resolves with the status line of its final response. */
async function overTcp(port: number, req: SipRequest): Promise<string> {
  const s = connect({ port, host: HOST });
  s.on('error', () => undefined);
  await new Promise<void>((r) => s.once('connect', () => r()));
  req.headers.prepend('Via', `SIP/2.0/TCP ${HOST}:${s.localPort};branch=z9hG4bKtcp${s.localPort}`);
  req.headers.set('Max-Forwards', '70');
  s.write(serializeMessage(req));
  let got = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no final response; got ${JSON.stringify(got)}`)), 3000);
      s.on('data', (d) => {
        got += d.toString('latin1');
        const m = /^SIP\/2\.0 ([2-6]\d\d)[^\r]*/m.exec(got);
        if (m) {
          clearTimeout(t);
          resolve(m[0]);
        }
      });
    });
  } finally {
    s.destroy();
  }
}

describe('[O] TS 24.229 §5.2.3 reg-event NOTIFY over TCP from the S-CSCF\'s ephemeral port', () => {
  let w: World;
  let sub: SipRequest;
  const at = (): { address: string; port: number } => ({ address: w.pcscf.address().sip.address, port: w.pcscf.address().sip.port });
  beforeEach(async () => {
    w = await world({ sip: { listen: `${HOST}:0`, protocols: ['udp', 'tcp'] }, regEvent: { subscribe: true, expires: 600000 } });
    await w.ue.register(w.stub);
    await waitFor(() => w.stub.subscribes.length === 1 && w.pcscf.registrations()[0]?.subscription === 'active', 'reg-event subscription');
    sub = w.stub.subscribes[0];
  });
  afterEach(async () => {
    await w.close();
  });

  test('[R-RR-5] [O] a 1,300+ byte NOTIFY "deactivated" over TCP is answered 200 and ends the registration', async () => {
    const uri = `sip:alice@${HOST}:${w.ue.local.portS}`;
    // Many contacts of other devices make the document as large as the ones seen under load.
    const others = Array.from({ length: 12 }, (_, i) => ({ id: `o${i}`, state: 'active' as const, event: 'registered' as const, uri: `sip:alice@192.0.2.${i + 1}:5060`, expires: 600 }));
    const doc: Reginfo = { version: 1, state: 'full', registrations: [{ aor: 'sip:alice@ims.lab', id: 'r1', state: 'terminated', contacts: [{ id: 'c1', state: 'terminated', event: 'deactivated', uri, expires: 0 }, ...others] }] };
    const req = w.stub.notifyRequest(sub, at(), doc, 'terminated;reason=deactivated');
    assert.ok(serializeMessage(req).length > 1300, 'past the UDP size rule');
    assert.match(await overTcp(w.pcscf.address().sip.port, req), /^SIP\/2\.0 200/);
    assert.equal(w.pcscf.registrations()[0]?.ending?.reason, 'deregistered');
  });

  test('[R-SA-5] [O] from the same address over TCP, a NOTIFY of no subscription of ours and a MESSAGE are still refused 403', async () => {
    const stranger = w.stub.notifyRequest(sub, at(), { version: 1, state: 'full', registrations: [] }, 'active;expires=600');
    stranger.headers.set('Call-ID', 'not-our-subscription');
    assert.match(await overTcp(w.pcscf.address().sip.port, stranger), /^SIP\/2\.0 403/);
    const msg = new SipRequest(
      'MESSAGE',
      `sip:alice@${HOST}:${w.ue.local.portS}`,
      new SipHeaders([
        ['Route', `<sip:${HOST}:${w.pcscf.address().sip.port};lr>`],
        ['From', '<sip:bob@ims.lab>;tag=b'],
        ['To', '<sip:alice@ims.lab>'],
        ['Call-ID', 'm-tcp'],
        ['CSeq', '1 MESSAGE'],
      ]),
    );
    assert.match(await overTcp(w.pcscf.address().sip.port, msg), /^SIP\/2\.0 403/);
    assert.equal(w.pcscf.registrations()[0]?.ending, undefined);
  });
});
