/**
 * Properties (fast-check, bounded runs) of what the UE reads from the network: whatever a 401, a
 * 200 or a reg-event body holds, the decisions return a value and never throw; whatever bytes
 * come out of the SAs, the protected transport hands up a message or counts a drop.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { buildAkaNonce, formatDigestChallenge } from '../../../src/auth/index.js';
import { ProtectedTransport, type CarrierMessageInfo, type ProtectedCarrier } from '../../../src/sip/transport/protected/index.js';
import { decodeReginfo, SipHeaders, SipResponse } from '../../../src/sip/index.js';
import { analyzeChallenge, decideGranted, decideOnNotify } from '../../../src/nodes/ue/index.js';
import { buildUeOffer } from '../../../src/secagree/index.js';
import { fcParams } from '../../support/fuzz.js';

const OFFER = buildUeOffer({ spiC: 0x80000101, spiS: 0x80000102, portC: 31000, portS: 31001, algs: ['hmac-sha-1-96', 'hmac-md5-96'], mods: ['UDP-enc-tun'] });
const NONCE = buildAkaNonce(new Uint8Array(16).fill(1), new Uint8Array(16).fill(2));
const headerText = fc.string({ maxLength: 120 });
const securityish = fc
  .record({
    alg: fc.constantFrom('hmac-sha-1-96', 'hmac-md5-96', 'aes-gmac', 'null', 'x'),
    ealg: fc.constantFrom('null', 'aes-cbc', 'des-ede3-cbc', 'aes-gcm', 'zz'),
    mod: fc.constantFrom('UDP-enc-tun', 'trans', 'tun'),
    spiC: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    spiS: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    portC: fc.integer({ min: 0, max: 65535 }),
    portS: fc.integer({ min: 0, max: 65535 }),
  })
  .map((m) => `ipsec-3gpp;alg=${m.alg};ealg=${m.ealg};prot=esp;mod=${m.mod};spi-c=${m.spiC};spi-s=${m.spiS};port-c=${m.portC};port-s=${m.portS}`);

describe('R-SM-5 / TS 24.229 §5.1.1.5.1: any 401 yields a decision', () => {
  test('[R-SM-5] arbitrary WWW-Authenticate and Security-Server never throw; an answer only for an offered transform with sane SPIs', () => {
    const isim = { authenticate: () => ({ result: 'ok' as const, res: new Uint8Array(8), ck: new Uint8Array(16), ik: new Uint8Array(16), sqn: 32, amf: 0x8000, state: null }) };
    fc.assert(
      fc.property(fc.oneof(headerText, fc.constant(formatDigestChallenge({ realm: 'ims.lab', nonce: NONCE, algorithm: 'AKAv1-MD5' }))), fc.oneof(headerText, securityish), (www, server) => {
        const r = new SipResponse(401, 'Unauthorized', new SipHeaders([['WWW-Authenticate', www], ['Security-Server', server]]));
        const d = analyzeChallenge(r, OFFER, isim);
        if (d.kind === 'answer') {
          const o = OFFER.find((m) => m.alg === d.security.alg && m.ealg === d.security.ealg && m.mod === d.security.mod);
          assert.ok(o, 'only an offered transform is accepted');
          assert.ok(d.security.pcscf.spiC >= 256 && d.security.pcscf.spiS >= 256 && d.security.pcscf.spiC !== d.security.pcscf.spiS);
          assert.ok(![0x80000101, 0x80000102].includes(d.security.pcscf.spiC) && ![0x80000101, 0x80000102].includes(d.security.pcscf.spiS));
        }
      }),
      fcParams(import.meta.url, 800),
    );
  });
});

describe('TS 24.229 §5.1.1.2.1: any 200 to REGISTER yields a grant', () => {
  test('arbitrary Contact / Expires / P-Associated-URI / Service-Route never throw; the default IMPU is always present', () => {
    fc.assert(
      fc.property(headerText, headerText, headerText, headerText, (contact, expires, pau, sr) => {
        const g = decideGranted(new SipResponse(200, 'OK', new SipHeaders([['Contact', contact], ['Expires', expires], ['P-Associated-URI', pau], ['Service-Route', sr]])), { address: '127.0.0.1', port: 5 }, 600, 'sip:a@b');
        assert.ok(g.impus.length >= 1);
        assert.ok(Number.isInteger(g.expires) && g.expires >= 0);
      }),
      fcParams(import.meta.url, 600),
    );
  });
});

describe('RFC 3680 reginfo: any decoded document yields a decision', () => {
  test('[R-RR-5] generated reginfo documents never make decideOnNotify throw', () => {
    const contact = fc.record({
      state: fc.constantFrom('active', 'terminated'),
      event: fc.constantFrom('registered', 'created', 'refreshed', 'shortened', 'expired', 'deactivated', 'probation', 'unregistered', 'rejected'),
      uri: fc.constantFrom('sip:127.0.0.1:5555', 'sip:127.0.0.1:5556', 'sip:[::1]:5555', 'tel:+1', 'sip:x'),
      expires: fc.option(fc.integer({ min: 0, max: 100000 }), { nil: undefined }),
    });
    const reg = fc.record({ aor: fc.constantFrom('sip:alice@ims.lab', 'sip:bob@ims.lab'), state: fc.constantFrom('init', 'active', 'terminated'), contacts: fc.array(contact, { maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(reg, { maxLength: 3 }), (regs) => {
        const xml = `<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="1" state="full">${regs
          .map((r, i) => `<registration aor="${r.aor}" id="r${i}" state="${r.state}">${r.contacts.map((c, j) => `<contact id="c${j}" state="${c.state}" event="${c.event}"${c.expires === undefined ? '' : ` expires="${c.expires}"`}><uri>${c.uri}</uri></contact>`).join('')}</registration>`)
          .join('')}</reginfo>`;
        const d = decideOnNotify(decodeReginfo(xml), ['sip:alice@ims.lab'], { address: '127.0.0.1', port: 5555 });
        assert.ok(['none', 'shortened', 'terminated'].includes(d.kind));
        if (d.kind !== 'none') assert.ok(regs.some((r) => r.aor === 'sip:alice@ims.lab'));
      }),
      fcParams(import.meta.url, 500),
    );
  });
});

describe('protected transport input', () => {
  test('[R-SA-5] arbitrary bytes from an SA are handed up or counted as a drop, never thrown', () => {
    let handler: ((sip: Uint8Array, info: CarrierMessageInfo) => void) | undefined;
    const carrier: ProtectedCarrier = { send: async () => undefined, onMessage: (h) => (handler = h) };
    const t = new ProtectedTransport({ carrier, address: '127.0.0.1', serverPort: 5001, clientPort: 5000 });
    let up = 0;
    t.onMessage(() => up++);
    const sipish = fc.constantFrom('MESSAGE sip:a@b SIP/2.0\r\n', 'SIP/2.0 200 OK\r\n', 'Via: SIP/2.0/UDP h;branch=z9hG4bKx\r\n', 'CSeq: 1 MESSAGE\r\n', '\r\n', 'Content-Length: 5\r\n');
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.array(sipish, { maxLength: 8 }).map((a) => new TextEncoder().encode(a.join('')))), (bytes) => {
        const before = up + t.counters.rejected + Object.values(t.counters.dropped).reduce((a, b) => a + b, 0);
        handler!(bytes, { local: { address: '127.0.0.1', port: 5001 }, remote: { address: '127.0.0.1', port: 6000 }, outer: { address: '127.0.0.1', port: 6000 }, spi: 300, saId: '1/uc-ps', setId: 1, seq: 1 });
        const after = up + t.counters.rejected + Object.values(t.counters.dropped).reduce((a, b) => a + b, 0);
        // Each datagram is accounted for exactly once, except a CR/LF keep-alive (RFC 5626 §3.5.1).
        const keepalive = bytes.length > 0 && bytes.every((b) => b === 13 || b === 10);
        assert.equal(after - before, keepalive ? 0 : 1);
      }),
      fcParams(import.meta.url, 1000),
    );
  });
});
