/**
 * Half-open registrations (issue [O] §2): each initial REGISTER that is never answered holds a
 * temporary SA set for reg-await-auth. The P-CSCF keeps one attempt per IMPI, caps attempts per
 * UE address and in all, and answers beyond the caps with 503 and Retry-After (RFC 3261 §21.5.4),
 * never 500; protected ports are shared, so they run out for nobody; a registered UE's
 * re-registration goes over its SAs and is never refused because of others' attempts (R-AKA-7).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { buildUeOffer } from '../../../src/secagree/index.js';
import { parseMessage, securityServerOf, type SipResponse } from '../../../src/sip/index.js';
import { RawPort, sipText } from '../../support/raw-esp.js';
import { ScriptedUe, StubCore, startPcscf } from './support.js';

let n = 0;
function initialRegister(impi: string, from: RawPort, spi: number): string {
  n++;
  return sipText('REGISTER sip:ims.lab SIP/2.0', [
    ['Via', `SIP/2.0/UDP ${from.address}:${from.port};branch=z9hG4bKhalf${n};rport`],
    ['Max-Forwards', '70'],
    ['From', `<sip:${impi}>;tag=h${n}`],
    ['To', `<sip:${impi}>`],
    ['Call-ID', `half-open-${n}`],
    ['CSeq', '1 REGISTER'],
    ['Contact', `<sip:${from.address}:${from.port}>`],
    ['Authorization', `Digest username="${impi}", realm="ims.lab", uri="sip:ims.lab", nonce="", response=""`],
    ['Security-Client', `ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;mod=UDP-enc-tun;spi-c=${spi};spi-s=${spi + 1};port-c=${20000 + 2 * n};port-s=${20001 + 2 * n}`],
    ['Require', 'sec-agree'],
    ['Proxy-Require', 'sec-agree'],
  ]);
}

async function answer(port: RawPort): Promise<SipResponse> {
  for (;;) {
    const r = parseMessage((await port.next('an answer')).data) as SipResponse;
    if (r.status >= 200) return r;
  }
}

describe('issue [O] §2: overload without lock-out', () => {
  test('[R-AKA-7] [R-SA-6] half-open registrations: one per IMPI, capped per address and in all with 503 + Retry-After; a registered UE re-registers; the cap frees after reg-await-auth', async () => {
    const clock = new ManualClock(1_000_000);
    const stub = await StubCore.start(clock);
    const pcscf = await startPcscf(stub, clock, { overload: { attemptsPerAddress: 8, attemptsTotal: 12, retryAfterSeconds: 30 } });
    const a = pcscf.address();
    const ue = await ScriptedUe.create({ address: a.sip.address, port: a.sip.port }, clock);
    const attacker = await RawPort.open('127.0.0.2');
    const other = await RawPort.open('127.0.0.3');
    try {
      await ue.register(stub);
      const to = { address: a.sip.address, port: a.sip.port };
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        await attacker.send(initialRegister(`victim${i}@ims.lab`, attacker, 0x80000100 + 2 * i), to);
        const r = await answer(attacker);
        statuses.push(r.status);
        if (r.status === 503) assert.equal(r.headers.get('Retry-After'), '30');
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 401, 401, 503, 503], 'eight per address');
      // The same IMPI again replaces its own attempt: still eight temporary sets, not nine.
      await attacker.send(initialRegister('victim0@ims.lab', attacker, 0x80000200), to);
      assert.equal((await answer(attacker)).status, 401, 'the newer attempt takes the place of the older');
      const temporary = (): number => pcscf.sets().filter((s) => s.state === 'temporary').length;
      assert.equal(temporary(), 8, 'victim0\'s older temporary set went with the newer REGISTER');
      assert.equal(pcscf.sets().filter((s) => s.impi === 'victim0@ims.lab').length, 1);
      // Another address: room up to the total of twelve.
      const more: number[] = [];
      for (let i = 0; i < 6; i++) {
        await other.send(initialRegister(`other${i}@ims.lab`, other, 0x80000300 + 2 * i), to);
        more.push((await answer(other)).status);
      }
      assert.deepEqual(more, [401, 401, 401, 401, 503, 503], 'twelve in all');
      assert.equal(pcscf.counters().overloadRejected, 4);
      // The registered UE's re-registration goes over its SAs: never refused for the others.
      // R-RR-1: new SPIs and port_uc, the same port_us.
      const offer2 = buildUeOffer({ spiC: 0x80000777, spiS: 0x80000778, portC: ue.local.portC + 1, portS: ue.local.portS, algs: ['hmac-sha-1-96'], ealgs: ['null'], mods: ['UDP-enc-tun'] });
      const rr = await ue.sendProtected(ue.registerRequest({ verify: ue.accepted!.verify, securityClient: offer2 }));
      assert.equal(rr.status, 401);
      assert.equal(securityServerOf(rr).length, 1);
      // reg-await-auth (4 minutes) later the attempts are gone and the caps free again.
      clock.advance(240_000);
      assert.equal(temporary(), 0);
      await attacker.send(initialRegister('late@ims.lab', attacker, 0x80000400), to);
      assert.equal((await answer(attacker)).status, 401);
    } finally {
      await attacker.close();
      await other.close();
      await ue.close();
      await pcscf.stop();
      await stub.close();
    }
  });
});
