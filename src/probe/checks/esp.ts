/**
 * ESP checks (R-SA-8, R-SA-3, R-FAIL-1; RFC 4303 §2.1, §3.4.2–§3.4.4; TS 33.203 §7.1): a
 * replayed packet, a sequence number left of the window, the P-CSCF's own packet reflected back,
 * a wrong ICV and an unknown SPI are dropped; reserved SPIs are never agreed. The packets are
 * crafted in userspace (RFC 3948 ESP-in-UDP from the probe's own sockets).
 */
import { craftedSa, sealSip, withBadIcv } from '../hand-sa.js';
import { statusOf } from '../probe-ue.js';
import { describe, fail, pass, untestable, type CheckDef } from './check.js';

const NO_RAW = 'over kernel ESP (mod=trans) the packet must be crafted below the kernel: Node has no raw IP socket (AF_INET/SOCK_RAW, IPPROTO_ESP) to inject it';
/** Far beyond any anti-replay window in use (RFC 4303 §3.4.3: 32 minimum, 64 default; Linux at most 4096 with replay-esn). */
const JUMP = 10_000;

export const espChecks: CheckDef[] = [
  {
    id: 'esp.replay',
    title: 'replay of a captured packet',
    spec: ['R-SA-8'],
    clause: 'RFC 4303 §3.4.3 (anti-replay); TS 33.203 §7.1',
    xfrmReason: NO_RAW,
    async run(s) {
      const { ue, set } = await s.registeredUe('rep');
      const first = await ue.ping(set);
      s.note(first.frame, 'MESSAGE over the SA (the packet to replay)');
      if (statusOf(first.resp) === undefined) return untestable('the MESSAGE to replay was never answered');
      s.note(first.resp, `answered ${statusOf(first.resp)}`);
      // An accepted replay is a SIP retransmission: the proxy re-sends its final response (RFC 3261 §17.2.2).
      return s.mustDrop(ue, set, `the same ESP datagram again (SPI 0x${set.ucPs.spi.toString(16)}, same sequence number)`, async () => ({ frame: await ue.sendPlain(first.bytes, set.ps, ue.uc), callId: first.callId }));
    },
  },
  {
    id: 'esp.out-of-window',
    title: 'a sequence number left of the anti-replay window',
    spec: ['R-SA-8'],
    clause: 'RFC 4303 §3.4.3; TS 33.203 §7.1',
    xfrmReason: NO_RAW,
    async run(s) {
      const { ue, set } = await s.registeredUe('win');
      const low = set.ucPs;
      const high = craftedSa(low, { initialSeq: low.esp.lastSeq + JUMP });
      set.ucPs = high;
      const ahead = await ue.ping(set);
      s.note(ahead.frame, `MESSAGE with sequence number ${high.esp.lastSeq} (${JUMP} ahead: valid, moves the window)`);
      if (statusOf(ahead.resp) === undefined) return untestable('a valid packet ahead of the window was not answered');
      s.note(ahead.resp, `answered ${statusOf(ahead.resp)}`);
      return s.mustDrop(ue, set, `a new MESSAGE with sequence number ${low.esp.lastSeq + 1} (${JUMP - 1} left of the window's right edge)`, async () => {
        const m = ue.messageText({});
        return { frame: await ue.sendPlain(sealSip(low, m.text), set.ps, ue.uc), callId: m.callId };
      });
    },
  },
  {
    id: 'esp.reflection',
    title: 'the P-CSCF\'s own outbound packet reflected back to it',
    spec: ['R-SA-3'],
    clause: 'TS 33.203 §7.1 (uplink and downlink SAs never share an SPI; seed 001 reflection attack); RFC 4303 §3.4.2',
    xfrmReason: NO_RAW,
    async run(s) {
      const { ue, set } = await s.registeredUe('ref');
      const since = ue.received.length;
      const p = await ue.ping(set);
      const own = ue.received.slice(since).find((r) => r.callId === p.callId && r.msg?.kind === 'request' && r.spi !== undefined);
      if (!own) return untestable('no request of the P-CSCF arrived over the SA to reflect (the MESSAGE to self was not delivered)');
      s.note(own, `the P-CSCF's MESSAGE on SPI 0x${own.spi!.toString(16)} from port ${own.from.port}`);
      return s.mustDrop(ue, set, `that datagram sent back to its source ${own.from.address}:${own.from.port}`, async () => ({ frame: await ue.sendPlain(own.data, own.from, ue.us), callId: p.callId }));
    },
  },
  {
    id: 'esp.wrong-icv',
    title: 'a packet with a wrong ICV',
    spec: ['R-FAIL-1', 'R-SA-8'],
    clause: 'RFC 4303 §3.4.4 (ICV verification); TS 33.203 §6.2, §7.1',
    xfrmReason: `${NO_RAW}; a deliberately mis-keyed SA would start again at sequence number 1, so the receiver's anti-replay check (RFC 4303 §3.4.3, before the ICV) would drop it and the ICV check would never be reached`,
    async run(s) {
      const { ue, set } = await s.registeredUe('icv');
      return s.mustDrop(ue, set, 'a new MESSAGE on the right SA with one ICV bit flipped', async () => {
        const m = ue.messageText({});
        return { frame: await ue.sendPlain(withBadIcv(sealSip(set.ucPs, m.text)), set.ps, ue.uc), callId: m.callId };
      });
    },
  },
  {
    id: 'esp.unknown-spi',
    title: 'a packet on an SPI the P-CSCF never allocated',
    spec: ['R-SA-8'],
    clause: 'RFC 4303 §3.4.2 (no SA: discard); TS 33.203 §7.1',
    xfrmReason: NO_RAW,
    async run(s) {
      const { ue, set } = await s.registeredUe('spi');
      const taken = [set.server.spiC, set.server.spiS, set.pcUs.spi, set.psUc.spi];
      let spi = (set.ucPs.spi ^ 0x00a5a5a5) >>> 0;
      while (spi < 256 || taken.includes(spi)) spi = (spi + 0x1001) >>> 0;
      const forged = craftedSa(set.ucPs, { spi });
      return s.mustDrop(ue, set, `a new MESSAGE keyed like the right SA but on SPI 0x${spi.toString(16)}`, async () => {
        const m = ue.messageText({});
        return { frame: await ue.sendPlain(sealSip(forged, m.text), set.ps, ue.uc), callId: m.callId };
      });
    },
  },
  {
    id: 'esp.reserved-spi',
    title: 'SPIs in the reserved range 1–255 offered in Security-Client',
    spec: ['R-SA-3', 'R-SM-2'],
    clause: 'RFC 4303 §2.1 (SPI 1–255 reserved by IANA); TS 33.203 §7.1',
    async run(s) {
      const ue = await s.ue('rsv');
      const offer = ue.offer({ c: 1, s: 255 });
      const first = await ue.initial(offer);
      s.note(first.frame, 'initial REGISTER with spi-c=1 spi-s=255');
      const st = statusOf(first.resp);
      s.note(first.resp, `answer ${st}`);
      if (st === 401) {
        const c = ue.challenge(first.resp!);
        const chosen = ue.chosen(c.server, offer);
        if (chosen) return fail(`agreed SAs towards reserved SPIs: 401 with Security-Server ${describe(chosen)}`);
        return pass('challenged, but the Security-Server agreed no mechanism of the offer');
      }
      return pass(`refused (${st ?? 'no answer'})`);
    },
  },
];
