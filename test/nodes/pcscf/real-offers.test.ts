/**
 * A real phone's Security-Client (Samsung stock ROM on a commercial network,
 * ../shared/vectors/real/sip) sent to the P-CSCF as the first REGISTER (TS 24.229 §5.2.2.1,
 * R-SM-2): the offer is mod=trans only, so the kernel datapath accepts it (401 with a transport
 * mode Security-Server) and the userspace one (mod=UDP-enc-tun) refuses it with a 494 whose
 * Security-Server lists what it supports (RFC 3329 §2.3.1), creating no SA.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import type { XfrmRunner } from '../../../src/ipsec/index.js';
import { parseMessage, securityServerOf, type SipResponse } from '../../../src/sip/index.js';
import { needShared } from '../../support/shared.js';
import { RawPort, sipText } from '../../support/raw-esp.js';
import { HOST, StubCore, startPcscf } from './support.js';

function realOffer(path: string): string {
  const m = /Security-Client:\s*(ipsec-3gpp[^\n]*)/.exec(readFileSync(path, 'utf8'));
  assert.ok(m, 'the file holds a Security-Client');
  return m[1].trim();
}

async function firstRegister(offer: string, datapath: 'userspace' | 'xfrm'): Promise<{ resp: SipResponse; sets: number; stub: number }> {
  const clock = new ManualClock(0);
  const stub = await StubCore.start(clock);
  const runner: XfrmRunner = async () => ({ stdout: '', stderr: '' });
  // The host kernel has no ESP: `ip xfrm` is answered by a stub runner (the lab runs the real one).
  const node = await startPcscf(stub, clock, { datapath }, 'real', { xfrmRunner: runner });
  const plain = await RawPort.open(HOST);
  try {
    const a = node.address();
    await plain.send(sipText('REGISTER sip:ims.lab SIP/2.0', [
      ['Via', `SIP/2.0/UDP ${HOST}:${plain.port};branch=z9hG4bKreal1;rport`],
      ['Max-Forwards', '70'],
      ['From', '<sip:alice@ims.lab>;tag=r1'],
      ['To', '<sip:alice@ims.lab>'],
      ['Call-ID', 'real-offer-1'],
      ['CSeq', '1 REGISTER'],
      ['Contact', `<sip:${HOST}:${plain.port}>`],
      ['Expires', '600'],
      ['Authorization', 'Digest username="alice@ims.lab", realm="ims.lab", uri="sip:ims.lab", nonce="", response=""'],
      ['Security-Client', offer],
      ['Require', 'sec-agree'],
      ['Proxy-Require', 'sec-agree'],
      ['Supported', 'path, sec-agree'],
    ]), { address: a.sip.address, port: a.sip.port });
    let resp: SipResponse;
    do resp = parseMessage((await plain.next('the answer')).data) as SipResponse;
    while (resp.status < 200);
    return { resp, sets: node.sets().length, stub: stub.all('REGISTER').length };
  } finally {
    await plain.close();
    await node.stop();
    await stub.close();
  }
}

describe('TS 24.229 §5.2.2.1: a real phone\'s transport-mode offer at the P-CSCF', () => {
  test('[R-SM-2] [R-LAB-1] mod=trans only: the kernel datapath answers 401 with a transport-mode Security-Server; the userspace one 494 listing what it supports', async (t) => {
    const path = needShared(t, 'real', 'sip', 'gh_treble_2307_samsung_stock_rom_commercial_UQ_mobile.txt');
    if (!path) return;
    const offer = realOffer(path);
    const k = await firstRegister(offer, 'xfrm');
    assert.equal(k.resp.status, 401);
    const ss = securityServerOf(k.resp);
    assert.equal(ss.length, 1);
    assert.deepEqual([ss[0].mod, ss[0].alg, ss[0].ealg], ['trans', 'hmac-sha-1-96', 'null']);
    assert.equal(k.sets, 1);
    const u = await firstRegister(offer, 'userspace');
    assert.equal(u.resp.status, 494);
    const supported = securityServerOf(u.resp);
    assert.ok(supported.length > 0 && supported.every((m) => m.mod === 'UDP-enc-tun'), 'the 494 lists UDP-enc-tun transforms');
    assert.equal(u.sets, 0, 'no SA');
    assert.equal(u.stub, 0, 'nothing forwarded');
  });
});
