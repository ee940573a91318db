/**
 * The demo's ladder decoder and printer on hand-made packets: SIP built by B's serializer,
 * Diameter by D's Cx builders, ESP sealed by C's EspSa — none of them the code under test.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WirePacket } from '../../../src/capture/index.js';
import { SeededRng } from '../../../src/common/index.js';
import { buildDwr, buildMaa, buildMar, CxResult, encodeMessage } from '../../../src/diameter/index.js';
import { encodeUdp } from '../../../src/ip/index.js';
import { deriveEspKeys, EspSa } from '../../../src/ipsec/esp/index.js';
import type { SecurityAssociation } from '../../../src/ipsec/sa/index.js';
import { encapsulate } from '../../../src/ipsec/udp-encap/index.js';
import { formatLadder, formatSaTable, LadderDecoder } from '../../../src/nodes/demo/index.js';

const enc = new TextEncoder();
const UE = { address: '127.0.0.1', port: 40001 };
const PC = { address: '127.0.0.1', port: 5060 };
const UE_C = { address: '127.0.0.1', port: 41000 };
const PC_S = { address: '127.0.0.1', port: 5101 };
const SC = { address: '127.0.0.1', port: 45000 };
const HSS = { address: '127.0.0.1', port: 3868 };
const NAMES = new Map([
  [`${UE.port}`, 'alice'],
  [`${UE_C.port}`, 'alice'],
  [`${PC.port}`, 'P-CSCF'],
  [`${PC_S.port}`, 'P-CSCF'],
  [`${SC.port}`, 'S-CSCF'],
  [`${HSS.port}`, 'HSS'],
]);

let seq = 0;
function packet(kind: WirePacket['kind'], proto: WirePacket['proto'], from: typeof UE, to: typeof UE, bytes: Uint8Array): WirePacket {
  return { seq: ++seq, at: 1_700_000_000_000 + seq, kind, proto, from, to, bytes };
}

function sip(lines: string[], body = ''): Uint8Array {
  return enc.encode([...lines, `Content-Length: ${enc.encode(body).length}`, '', body].join('\r\n'));
}

const REGISTER = sip([
  'REGISTER sip:ims.lab SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:40001;branch=z9hG4bK-1',
  'From: <sip:alice@ims.lab>;tag=a',
  'To: <sip:alice@ims.lab>',
  'Call-ID: c1',
  'CSeq: 1 REGISTER',
  'Max-Forwards: 70',
  'Contact: <sip:127.0.0.1:40001>',
  'Require: sec-agree',
  'Security-Client: ipsec-3gpp;alg=hmac-sha-1-96;spi-c=3000000001;spi-s=3000000002;port-c=41000;port-s=41001',
  'Authorization: Digest username="alice@ims.lab",realm="ims.lab",uri="sip:ims.lab",nonce="",response=""',
]);

const CHALLENGE_WITH_KEYS = sip([
  'SIP/2.0 401 Unauthorized',
  'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-2',
  'From: <sip:alice@ims.lab>;tag=a',
  'To: <sip:alice@ims.lab>;tag=s',
  'Call-ID: c1',
  'CSeq: 1 REGISTER',
  'WWW-Authenticate: Digest realm="ims.lab",nonce="AAAA",algorithm=AKAv1-MD5,ik="0123456789abcdef0123456789abcdef",ck="fedcba9876543210fedcba9876543210"',
]);

function nameOf(e: { port: number }): string | undefined {
  return NAMES.get(`${e.port}`);
}

describe('LadderDecoder', () => {
  test('SIP over UDP: method, status and the sec-agree facts, named by endpoint', () => {
    const d = new LadderDecoder({ nameOf, saFor: () => undefined });
    const [reg] = d.decode(packet('sip', 'udp', UE, PC, REGISTER));
    assert.equal(reg.from, 'alice');
    assert.equal(reg.to, 'P-CSCF');
    assert.equal(reg.summary, 'REGISTER sip:ims.lab');
    assert.deepEqual(reg.sip, { method: 'REGISTER', cseqMethod: 'REGISTER' });
    assert.ok(reg.notes.includes('Security-Client'));
    assert.ok(reg.notes.includes('empty response (auth failure)') === false, 'nonce="" is an initial REGISTER, not a failure report');
    assert.equal(reg.esp, undefined);
    const [ch] = d.decode(packet('sip', 'udp', SC, PC, CHALLENGE_WITH_KEYS));
    assert.equal(ch.summary, '401 Unauthorized (REGISTER)');
    assert.deepEqual(ch.notes, ['AKAv1-MD5 challenge', 'ik+ck for the P-CSCF']);
    // [R-AKA-6] the keys themselves never reach a ladder line.
    assert.ok(!JSON.stringify(ch).includes('0123456789abcdef'));
  });

  test('an unnamed endpoint is shown as address:port; IPv6 in brackets', () => {
    const d = new LadderDecoder({ nameOf: () => undefined, saFor: () => undefined });
    const [e] = d.decode(packet('sip', 'udp', { address: '::1', port: 7 }, PC, REGISTER));
    assert.equal(e.from, '[::1]:7');
    assert.equal(e.to, '127.0.0.1:5060');
  });

  test('[R-CX-2] Diameter over TCP: a MAR split over two segments is one line; the MAA shows its result; base messages are hidden', () => {
    const d = new LadderDecoder({ nameOf, saFor: () => undefined });
    const mar = buildMar({
      sessionId: 'scscf;1',
      originHost: 'scscf.ims.lab',
      originRealm: 'ims.lab',
      destinationRealm: 'ims.lab',
      userName: 'alice@ims.lab',
      publicIdentity: 'sip:alice@ims.lab',
      sipAuthDataItem: { scheme: 'Digest-AKAv1-MD5' },
      sipNumberAuthItems: 2,
      serverName: 'sip:scscf.ims.lab:6060',
    });
    const bytes = encodeMessage(mar);
    assert.deepEqual(d.decode(packet('diameter', 'tcp', SC, HSS, bytes.subarray(0, 30))), []);
    const [m] = d.decode(packet('diameter', 'tcp', SC, HSS, bytes.subarray(30)));
    assert.equal(m.summary, 'MAR');
    assert.deepEqual(m.diameter, { command: 'MAR', request: true, code: 303 });
    assert.deepEqual(m.notes, ['2 vectors']);
    const maa = buildMaa(mar, { originHost: 'hss.ims.lab', originRealm: 'ims.lab', result: CxResult.SUCCESS, sipAuthDataItems: [] });
    const [a] = d.decode(packet('diameter', 'tcp', HSS, SC, encodeMessage(maa)));
    assert.equal(a.summary, 'MAA');
    assert.deepEqual(a.notes, ['DIAMETER_SUCCESS (2001)']);
    assert.deepEqual(a.diameter?.result, { code: 2001 });
    assert.deepEqual(d.decode(packet('diameter', 'tcp', SC, HSS, encodeMessage(buildDwr('scscf.ims.lab', 'ims.lab')))), []);
    const withBase = new LadderDecoder({ nameOf, saFor: () => undefined, diameterBase: true });
    assert.equal(withBase.decode(packet('diameter', 'tcp', SC, HSS, encodeMessage(buildDwr('scscf.ims.lab', 'ims.lab'))))[0].summary, 'DWR');
  });

  test('[R-SA-1] SIP inside ESP-in-UDP is opened with a copy of the SA: SPI and sequence number shown; a bad ICV is a problem, not a line', () => {
    const keys = deriveEspKeys('hmac-sha-1-96', 'aes-cbc', new Uint8Array(16).fill(7), new Uint8Array(16).fill(9));
    const sa = { id: '1/uc-ps', setId: 1, flow: 'uc-ps', direction: 'out', spi: 0x1234, src: UE_C, dst: PC_S, transports: ['udp', 'tcp'], integrity: 'hmac-sha-1-96', encryption: 'aes-cbc', mode: 'UDP-enc-tun', keys, impi: 'alice@ims.lab', impus: [], state: 'active' } as SecurityAssociation;
    const sender = new EspSa({ spi: 0x1234, integrity: 'hmac-sha-1-96', encryption: 'aes-cbc', keys });
    const rng = new SeededRng('ladder');
    const d = new LadderDecoder({ nameOf, saFor: (spi, to) => (spi === 0x1234 && to.port === PC_S.port ? sa : undefined) });
    const first = encapsulate(sender, UE_C, PC_S, REGISTER, rng);
    const [e] = d.decode(packet('esp', 'udp', UE_C, PC_S, first));
    assert.equal(e.summary, 'REGISTER sip:ims.lab');
    assert.deepEqual(e.esp, { spi: 0x1234, seq: 1 });
    const second = encapsulate(sender, UE_C, PC_S, REGISTER, rng);
    second[second.length - 1] ^= 1;
    assert.deepEqual(d.decode(packet('esp', 'udp', UE_C, PC_S, second)), []);
    assert.match(d.problems[0].reason, /icv/);
    assert.deepEqual(d.decode(packet('esp', 'udp', UE_C, { address: '127.0.0.1', port: 9 }, encapsulate(sender, UE_C, PC_S, REGISTER, rng))), []);
    assert.match(d.problems[1].reason, /no SA known/);
  });

  test('[R-SA-1] transport-mode ESP from a capture (Annex H mod=trans): the SA by SPI and destination address, the ports from the UDP inside, SPI and sequence number shown; a bad ICV or a TCP payload is a problem', () => {
    const keys = deriveEspKeys('hmac-md5-96', 'null', new Uint8Array(16).fill(3), new Uint8Array(16).fill(5));
    const sa = { id: '1/uc-ps', setId: 1, flow: 'uc-ps', direction: 'out', spi: 0x4321, src: UE_C, dst: PC_S, transports: ['udp', 'tcp'], integrity: 'hmac-md5-96', encryption: 'null', mode: 'trans', keys, impi: 'alice@ims.lab', impus: [], state: 'active' } as SecurityAssociation;
    const sender = new EspSa({ spi: 0x4321, integrity: 'hmac-md5-96', encryption: 'null', keys });
    const rng = new SeededRng('transport');
    const asked: { spi: number; port: number }[] = [];
    const d = new LadderDecoder({
      nameOf,
      saFor: (spi, to) => {
        asked.push({ spi, port: to.port });
        return spi === 0x4321 && to.address === PC_S.address ? sa : undefined;
      },
    });
    // RFC 4303 §3.1.1: transport mode seals the UDP datagram itself (Next Header 17).
    const udp = encodeUdp(UE_C.port, PC_S.port, REGISTER, { src: UE_C.address, dst: PC_S.address });
    const esp = (n: number) => ({ seq: n, at: 1_700_000_000_000 + n, src: UE_C.address, dst: PC_S.address, esp: sender.seal(udp, 17, rng) });
    const [e] = d.decodeTransportEsp(esp(1));
    assert.deepEqual([e.from, e.to, e.summary, e.proto], ['alice', 'P-CSCF', 'REGISTER sip:ims.lab', 'udp']);
    assert.deepEqual(e.esp, { spi: 0x4321, seq: 1 });
    assert.deepEqual(asked, [{ spi: 0x4321, port: 0 }], 'looked up by SPI and address: the ports are inside');
    const bad = esp(2);
    bad.esp[bad.esp.length - 1] ^= 1;
    assert.deepEqual(d.decodeTransportEsp(bad), []);
    assert.match(d.problems[0].reason, /icv/);
    assert.deepEqual(d.decodeTransportEsp({ ...esp(3), esp: sender.seal(udp, 6, rng) }), []);
    assert.match(d.problems[1].reason, /protocol 6, not UDP/);
    assert.deepEqual(d.decodeTransportEsp({ ...esp(4), esp: new Uint8Array(4) }), []);
    assert.match(d.problems[2].reason, /too short/);
  });

  test('garbage is reported as a problem, never thrown', () => {
    const d = new LadderDecoder({ nameOf, saFor: () => undefined });
    assert.deepEqual(d.decode(packet('sip', 'udp', UE, PC, enc.encode('not sip at all\r\n\r\n'))), []);
    assert.deepEqual(d.decode(packet('diameter', 'tcp', SC, HSS, new Uint8Array([9, 0, 0, 20, ...new Uint8Array(16)]))), []);
    assert.equal(d.problems.length, 2);
  });
});

describe('printing', () => {
  test('ladder lines: → in the clear, ⇒ inside ESP with SPI and sequence, Cx for Diameter; no ANSI unless asked', () => {
    const lines = formatLadder([
      { seq: 1, at: 0, from: 'alice', to: 'P-CSCF', kind: 'sip', proto: 'udp', summary: 'REGISTER sip:ims.lab', notes: ['Security-Client'] },
      { seq: 2, at: 0, from: 'S-CSCF', to: 'HSS', kind: 'diameter', proto: 'tcp', summary: 'MAR', notes: [] },
      { seq: 3, at: 0, from: 'alice', to: 'P-CSCF', kind: 'sip', proto: 'udp', summary: 'REGISTER sip:ims.lab', notes: [], esp: { spi: 0xc0ffee01, seq: 1 } },
    ]);
    assert.match(lines[0], /^ {4}1 {2}alice {2}→ P-CSCF {2}REGISTER sip:ims\.lab +\[no ESP\] Security-Client$/);
    assert.match(lines[1], /^ {4}2 {2}S-CSCF → HSS {5}Cx MAR +\[Diameter\/TCP\]$/);
    assert.match(lines[2], /alice {2}⇒ P-CSCF {2}REGISTER sip:ims\.lab +\[ESP spi 0xc0ffee01 seq 1\]$/);
    assert.ok(lines.every((l) => !l.includes('\x1b[')));
    assert.ok(formatLadder([{ seq: 1, at: 0, from: 'a', to: 'b', kind: 'sip', proto: 'udp', summary: 'X', notes: [] }], { color: true })[0].includes('\x1b['));
  });

  test('SA table: one row per SA ordered by set and flow, IMPI column on request; an empty table says so', () => {
    const sa = (setId: number, flow: SecurityAssociation['flow'], spi: number, state: SecurityAssociation['state']): SecurityAssociation =>
      ({ id: `${setId}/${flow}`, setId, flow, direction: 'in', spi, src: UE_C, dst: PC_S, transports: ['udp'], integrity: 'hmac-md5-96', encryption: 'null', mode: 'UDP-enc-tun', keys: { integrityKey: new Uint8Array(16), encryptionKey: new Uint8Array(0), salt: new Uint8Array(0) }, impi: 'alice@ims.lab', impus: [], state });
    const lines = formatSaTable('P-CSCF', [sa(2, 'us-pc', 0x300, 'active'), sa(1, 'uc-ps', 0x100, 'old'), sa(1, 'us-pc', 0x200, 'old')], { impi: true });
    assert.equal(lines[0], '  P-CSCF: 3 SAs in 2 sets (UDP-enc-tun)');
    assert.match(lines[1], /set +state +dir +SPI +selector \(src → dst\) +flow +alg\/ealg +IMPI/);
    assert.deepEqual(
      lines.slice(2).map((l) => l.trim().split(/\s+/).slice(0, 4)),
      [
        ['1', 'old', 'in', '0x00000100'],
        ['1', 'old', 'in', '0x00000200'],
        ['2', 'active', 'in', '0x00000300'],
      ],
    );
    assert.match(lines[2], /127\.0\.0\.1:41000 → 127\.0\.0\.1:5101 +UE port-c → P-CSCF port-s +hmac-md5-96\/null +alice@ims\.lab$/);
    assert.deepEqual(formatSaTable('alice', []), ['  alice: no SA']);
  });
});
