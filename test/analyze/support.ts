/**
 * Test support for capture analysis: a builder of synthetic IMS registration captures made with the project's own
 * encoders (IP/UDP/TCP, ESP seal with Annex I keys, SIP text, Cx MAR/MAA), with faults to inject.
 */
import { digestResponse, buildAkaNonce } from '../../src/auth/digest/index.js';
import { LINKTYPE_RAW, PcapWriter } from '../../src/capture/index.js';
import { SeededRng } from '../../src/common/index.js';
import { akaAuthDataItem, buildMaa, buildMar, CxResult, encodeMessage } from '../../src/diameter/index.js';
import { encodeIpPacket, encodeTcpPacket, encodeUdp, encodeUdpPacket, IPPROTO_ESP, IPPROTO_UDP, TCP_ACK, TCP_PSH, TCP_SYN } from '../../src/ip/index.js';
import { deriveEspKeys, EspSa } from '../../src/ipsec/esp/index.js';

export const UE = '10.0.0.2';
export const PCSCF = '10.0.0.1';
export const PORTS = { ue: 5060, pcscf: 5060, uc: 31000, us: 31001, pc: 5100, ps: 6100 };
export const SPIS = { uc: 0x10001111, us: 0x10002222, pc: 0x20003333, ps: 0x20004444 };

const rng = new SeededRng('analyze-scenario');
const bytes = (n: number, b: number) => new Uint8Array(n).fill(b);
export const VECTOR = { rand: bytes(16, 0x11), autn: bytes(16, 0x22), xres: bytes(8, 0x33), ck: bytes(16, 0x44), ik: bytes(16, 0x55) };

export interface Faults {
  /** Security-Verify names another transform than the Security-Server sent (bid-down). */
  bidDown?: boolean;
  /** The protected REGISTER's Security-Client differs from the first one. */
  clientChanged?: boolean;
  /** The protected MESSAGE asserts an IMPU not registered on its SA. */
  impuSpoof?: boolean;
  /** The protected MESSAGE's ESP packet is sent again 2 s later. */
  replay?: boolean;
  /** One byte of the protected REGISTER's ICV is flipped. */
  wrongIcv?: boolean;
  /** The UE sends nothing after the 401. */
  silentAfter401?: boolean;
  /** The 401 to the UE still carries ck= and ik=. */
  keysToUe?: boolean;
  /** The UE answers an OPTIONS from the P-CSCF in the clear from its protected port. */
  clearOnProtected?: boolean;
  /** The UE reports a network authentication failure (empty response) with the same or a new Security-Client. */
  macFailure?: 'same-client' | 'new-client';
  /** The UE reports a synchronisation failure with a well-formed (14-byte) or a malformed AUTS. */
  syncFailure?: 'good' | 'bad';
  /** The protected REGISTER goes out on an SPI the sec-agree did not negotiate. */
  unknownSpi?: boolean;
  /** The answer to the 401 goes out in the clear. */
  answerInClear?: boolean;
  /** The P-CSCF forwards the protected REGISTER marked integrity-protected="yes" or "no". */
  forwardedIntegrity?: 'yes' | 'no';
  /** The protected MESSAGE travels on the port_uc → port_ps SA but from port_us. */
  wrongSaPorts?: boolean;
  /** The protected MESSAGE comes after the registration's expiry + 30 s (R-SA-7). */
  late?: boolean;
  /** A re-registration follows: by the rules, reusing the live set's SPIs, or moving port_ps. */
  reregister?: 'ok' | 'same-spis' | 'new-ps';
  /** After the re-registration, the UE still sends on the old set 40 s later (past 64·T1). */
  oldSetLate?: boolean;
  /** The whole scenario over IPv6. */
  ipv6?: boolean;
  /** The protected REGISTER comes from another address than the UE's, on the UE's SA. */
  spoofedSource?: boolean;
  /** The protected REGISTER names another IMPI (bob) on alice's SAs. */
  otherImpi?: boolean;
  /** Instead of a re-registration, a de-registration the network challenges (TS 24.229 §5.1.1.5.1): Expires 0 throughout. */
  challengedDeregister?: boolean;
  /** After the 200 OK the P-CSCF sends a reg-event NOTIFY with a shortened registration (R-RR-5). */
  shortened?: boolean;
  /** Another subscriber and UE address than alice at 10.0.0.2, the whole capture shifted in time. */
  user?: { name: string; address: string; offsetMs: number };
}

const CLIENT = `ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=${SPIS.uc};spi-s=${SPIS.us};port-c=${PORTS.uc};port-s=${PORTS.us}`;
const SERVER = `ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=${SPIS.pc};spi-s=${SPIS.ps};port-c=${PORTS.pc};port-s=${PORTS.ps}`;

function sip(lines: string[], body = ''): Uint8Array {
  return Buffer.from(`${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** The scenario's addresses (IPv4 by default, IPv6 with `Faults.ipv6`). */
interface Addresses {
  ue: string;
  pcscf: string;
  scscf: string;
  hss: string;
}

const V4: Addresses = { ue: UE, pcscf: PCSCF, scscf: '10.0.0.3', hss: '10.0.0.4' };
const V6: Addresses = { ue: '2001:db8::2', pcscf: '2001:db8::1', scscf: '2001:db8::3', hss: '2001:db8::4' };

interface Tools {
  add(name: string, packet: Uint8Array, dt: number): void;
  sa(spi: number): EspSa;
  protectedUdp(s: EspSa, from: string, to: string, sport: number, dport: number, payload: Uint8Array): Uint8Array;
  toPcscfPs: EspSa;
  toUeUs: EspSa;
  nonce: string;
  via(host: string, port: number, branch: string): string;
  common(cseq: number, method: string): string[];
}

/**
 * TS 33.203 §7.4 re-registration: over the old set, a new set from the 401, the answer on the new
 * set. With `deregister`, the same exchange with Expires 0 and a 200 that binds nothing: a
 * challenged de-registration (TS 24.229 §5.1.1.6, §5.1.1.5.1).
 */
function reregister(kind: 'ok' | 'same-spis' | 'new-ps', t: Tools, A: Addresses, deregister = false): void {
  const spi = { uc: SPIS.uc + 16, us: SPIS.us + 16, pc: kind === 'same-spis' ? SPIS.pc : SPIS.pc + 16, ps: kind === 'same-spis' ? SPIS.ps : SPIS.ps + 16 };
  const port = { uc: PORTS.uc + 2, us: PORTS.us, pc: PORTS.pc + 1, ps: kind === 'new-ps' ? PORTS.ps + 1 : PORTS.ps };
  const client = `ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=${spi.uc};spi-s=${spi.us};port-c=${port.uc};port-s=${port.us}`;
  const server = `ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=${spi.pc};spi-s=${spi.ps};port-c=${port.pc};port-s=${port.ps}`;
  const auth = (response: string) => `Authorization: Digest username="alice@ims.lab", realm="ims.lab", uri="sip:ims.lab", nonce="${t.nonce}", response="${response}", algorithm=AKAv1-MD5, qop=auth, nc=00000002, cnonce="c0ffee"`;
  const response = digestResponse({ algorithm: 'AKAv1-MD5', username: 'alice@ims.lab', realm: 'ims.lab', uri: 'sip:ims.lab', nonce: t.nonce, nc: '00000002', cnonce: 'c0ffee', qop: 'auth', password: VECTOR.xres, method: 'REGISTER' });
  const head = (cseq: number, via: string) => ['REGISTER sip:ims.lab SIP/2.0', via, ...t.common(cseq, 'REGISTER'), `Contact: <sip:alice@${A.ue}:${port.us}>`, `Expires: ${deregister ? 0 : 600}`];
  t.add('rereg', t.protectedUdp(t.toPcscfPs, A.ue, A.pcscf, PORTS.uc, PORTS.ps, sip([...head(3, t.via(A.ue, PORTS.uc, 'r4')), auth(response), `Security-Client: ${client}`, `Security-Verify: ${SERVER}`])), 1000);
  t.add('rechallenge', t.protectedUdp(t.toUeUs, A.pcscf, A.ue, PORTS.pc, PORTS.us, sip(['SIP/2.0 401 Unauthorized', t.via(A.ue, PORTS.uc, 'r4'), ...t.common(3, 'REGISTER'), `WWW-Authenticate: Digest realm="ims.lab", nonce="${t.nonce}", algorithm=AKAv1-MD5, qop="auth"`, `Security-Server: ${server}`])), 1010);
  t.add('reanswer', t.protectedUdp(t.sa(spi.ps), A.ue, A.pcscf, port.uc, port.ps, sip([...head(4, t.via(A.ue, port.uc, 'r5')), auth(response), `Security-Client: ${client}`, `Security-Verify: ${server}`])), 1020);
  t.add('reok', t.protectedUdp(t.sa(spi.us), A.pcscf, A.ue, port.pc, port.us, sip(['SIP/2.0 200 OK', t.via(A.ue, port.uc, 'r5'), ...t.common(4, 'REGISTER'), ...(deregister ? [] : [`Contact: <sip:alice@${A.ue}:${port.us}>;expires=600`]), 'P-Associated-URI: <sip:alice@ims.lab>'])), 1030);
}

/** The frame numbers of the interesting packets of a built capture. */
export interface Built {
  pcap: Uint8Array;
  frames: Record<string, number>;
}

/** A whole registration (REGISTER, MAR/MAA, 401, protected REGISTER, 200, protected MESSAGE) with faults. */
export function buildRegistration(f: Faults = {}): Built {
  const A = { ...(f.ipv6 ? V6 : V4), ...(f.user ? { ue: f.user.address } : {}) };
  const U = f.user?.name ?? 'alice';
  const w = new PcapWriter({ linktype: LINKTYPE_RAW });
  const frames: Record<string, number> = {};
  const t0 = 1_700_000_000_000 + (f.user?.offsetMs ?? 0);
  const add = (name: string, packet: Uint8Array, dt: number) => {
    w.add(packet, t0 + dt);
    frames[name] = w.count;
  };
  const keys = deriveEspKeys('hmac-sha-1-96', 'aes-cbc', VECTOR.ik, VECTOR.ck);
  const sa = (spi: number) => new EspSa({ spi, integrity: 'hmac-sha-1-96', encryption: 'aes-cbc', keys });
  const toPcscfPs = sa(SPIS.ps);
  const toUeUs = sa(SPIS.us);
  const protectedUdp = (s: EspSa, from: string, to: string, sport: number, dport: number, payload: Uint8Array): Uint8Array => {
    const udp = encodeUdp(sport, dport, payload, { src: from, dst: to });
    return encodeIpPacket({ src: from, dst: to, protocol: IPPROTO_ESP }, s.seal(udp, IPPROTO_UDP, rng));
  };
  const via = (host: string, port: number, branch: string) => `Via: SIP/2.0/UDP ${host}:${port};branch=z9hG4bK${branch}`;
  const common = (cseq: number, method: string) => [`From: <sip:${U}@ims.lab>;tag=a1`, `To: <sip:${U}@ims.lab>`, 'Call-ID: reg-1@10.0.0.2', `CSeq: ${cseq} ${method}`];

  // 1. The first REGISTER, in the clear, with Security-Client (TS 33.203 §7.2 SM1).
  add('register1', encodeUdpPacket({ address: A.ue, port: PORTS.ue }, { address: A.pcscf, port: PORTS.pcscf }, sip(['REGISTER sip:ims.lab SIP/2.0', via(A.ue, PORTS.ue, 'r1'), ...common(1, 'REGISTER'), `Contact: <sip:${U}@${A.ue}:${PORTS.ue}>`, 'Expires: 600', `Authorization: Digest username="${U}@ims.lab", realm="ims.lab", uri="sip:ims.lab", nonce="", response=""`, `Security-Client: ${CLIENT}`, 'Require: sec-agree', 'Proxy-Require: sec-agree'])), 0);
  // 2. MAR/MAA over one TCP connection (S-CSCF → A.hss), the MAA carrying the vector.
  const s = { address: A.scscf, port: 40000 };
  const h = { address: A.hss, port: 3868 };
  add('syn', encodeTcpPacket(s, h, { seq: 999, ack: 0, flags: TCP_SYN }, new Uint8Array(0)), 5);
  add('synack', encodeTcpPacket(h, s, { seq: 4999, ack: 1000, flags: TCP_SYN | TCP_ACK }, new Uint8Array(0)), 6);
  const mar = buildMar({ sessionId: 'scscf;1', originHost: 'scscf.ims.lab', originRealm: 'ims.lab', destinationRealm: 'ims.lab', userName: `${U}@ims.lab`, publicIdentity: `sip:${U}@ims.lab`, sipAuthDataItem: { scheme: 'Digest-AKAv1-MD5' }, sipNumberAuthItems: 1, serverName: 'sip:scscf.ims.lab' });
  add('mar', encodeTcpPacket(s, h, { seq: 1000, ack: 5000, flags: TCP_ACK | TCP_PSH }, encodeMessage(mar)), 10);
  const maa = encodeMessage(buildMaa(mar, { originHost: 'hss.ims.lab', originRealm: 'ims.lab', result: CxResult.SUCCESS, userName: `${U}@ims.lab`, sipNumberAuthItems: 1, sipAuthDataItems: [akaAuthDataItem(VECTOR, { itemNumber: 1 })] }));
  // The MAA in two segments, the second first (reassembly in order).
  const cut = 40;
  add('maa2', encodeTcpPacket(h, s, { seq: 5000 + cut, ack: 2000, flags: TCP_ACK | TCP_PSH }, maa.subarray(cut)), 19);
  add('maa', encodeTcpPacket(h, s, { seq: 5000, ack: 2000, flags: TCP_ACK }, maa.subarray(0, cut)), 20);
  // 3. The P-CSCF's 401: nonce = RAND‖AUTN, Security-Server, ck/ik removed (unless the fault).
  const nonce = buildAkaNonce(VECTOR.rand, VECTOR.autn);
  const www = `WWW-Authenticate: Digest realm="ims.lab", nonce="${nonce}", algorithm=AKAv1-MD5, qop="auth"${f.keysToUe ? `, ck="${Buffer.from(VECTOR.ck).toString('hex')}", ik="${Buffer.from(VECTOR.ik).toString('hex')}"` : ''}`;
  add('challenge', encodeUdpPacket({ address: A.pcscf, port: PORTS.pcscf }, { address: A.ue, port: PORTS.ue }, sip(['SIP/2.0 401 Unauthorized', via(A.ue, PORTS.ue, 'r1'), ...common(1, 'REGISTER'), www, `Security-Server: ${SERVER}`])), 30);
  if (f.macFailure) {
    const again = f.macFailure === 'same-client' ? CLIENT : CLIENT.replace(String(SPIS.uc), '268505361').replace(String(SPIS.us), '268505362').replace(`port-c=${PORTS.uc}`, 'port-c=31010');
    add('failure', encodeUdpPacket({ address: A.ue, port: PORTS.ue }, { address: A.pcscf, port: PORTS.pcscf }, sip(['REGISTER sip:ims.lab SIP/2.0', via(A.ue, PORTS.ue, 'r3'), ...common(2, 'REGISTER'), `Contact: <sip:${U}@${A.ue}:${PORTS.ue}>`, 'Expires: 600', `Authorization: Digest username="${U}@ims.lab", realm="ims.lab", uri="sip:ims.lab", nonce="${nonce}", response="", algorithm=AKAv1-MD5`, `Security-Client: ${again}`, 'Require: sec-agree', 'Proxy-Require: sec-agree'])), 90);
    return { pcap: w.toBytes(), frames };
  }
  if (f.syncFailure) {
    const auts = Buffer.alloc(f.syncFailure === 'good' ? 14 : 10, 0x5a).toString('base64');
    const fresh = CLIENT.replace(String(SPIS.uc), '268505361').replace(String(SPIS.us), '268505362').replace(`port-c=${PORTS.uc}`, 'port-c=31010');
    add('failure', encodeUdpPacket({ address: A.ue, port: PORTS.ue }, { address: A.pcscf, port: PORTS.pcscf }, sip(['REGISTER sip:ims.lab SIP/2.0', via(A.ue, PORTS.ue, 'r3'), ...common(2, 'REGISTER'), `Contact: <sip:${U}@${A.ue}:${PORTS.ue}>`, 'Expires: 600', `Authorization: Digest username="${U}@ims.lab", realm="ims.lab", uri="sip:ims.lab", nonce="${nonce}", response="", auts="${auts}", algorithm=AKAv1-MD5`, `Security-Client: ${fresh}`, 'Require: sec-agree', 'Proxy-Require: sec-agree'])), 90);
    return { pcap: w.toBytes(), frames };
  }
  if (f.silentAfter401) {
    add('keepalive', encodeUdpPacket({ address: A.pcscf, port: PORTS.pcscf }, { address: '10.0.0.9', port: 5060 }, sip(['OPTIONS sip:10.0.0.9 SIP/2.0', via(A.pcscf, 5060, 'o1'), 'From: <sip:pcscf@ims.lab>;tag=p', 'To: <sip:10.0.0.9>', 'Call-ID: ka@pcscf', 'CSeq: 1 OPTIONS'])), 60_000);
    return { pcap: w.toBytes(), frames };
  }
  // 4. The protected REGISTER (A.ue port_uc → P-CSCF port_ps), AKAv1-MD5 response with XRES.
  const cr = { username: f.otherImpi ? 'bob@ims.lab' : `${U}@ims.lab`, realm: 'ims.lab', uri: 'sip:ims.lab', nonce, nc: '00000001', cnonce: 'c0ffee', qop: 'auth' as const };
  const response = digestResponse({ algorithm: 'AKAv1-MD5', ...cr, password: VECTOR.xres, method: 'REGISTER' });
  const verify = f.bidDown ? SERVER.replace('hmac-sha-1-96', 'hmac-md5-96').replace('aes-cbc', 'null') : SERVER;
  const client = f.clientChanged ? CLIENT.replace('aes-cbc', 'null') : CLIENT;
  const reg2 = sip(['REGISTER sip:ims.lab SIP/2.0', via(A.ue, PORTS.uc, 'r2'), ...common(2, 'REGISTER'), `Contact: <sip:${U}@${A.ue}:${PORTS.us}>`, 'Expires: 600', `Authorization: Digest username="${cr.username}", realm="ims.lab", uri="sip:ims.lab", nonce="${nonce}", response="${response}", algorithm=AKAv1-MD5, qop=auth, nc=00000001, cnonce="c0ffee"`, `Security-Client: ${client}`, `Security-Verify: ${verify}`, 'Require: sec-agree', 'Proxy-Require: sec-agree']);
  if (f.answerInClear) {
    add('register2', encodeUdpPacket({ address: A.ue, port: PORTS.ue }, { address: A.pcscf, port: PORTS.pcscf }, reg2), 100);
    return { pcap: w.toBytes(), frames };
  }
  const p2 = protectedUdp(f.unknownSpi ? sa(0x30000001) : toPcscfPs, f.spoofedSource ? (f.ipv6 ? '2001:db8::66' : '10.0.0.66') : A.ue, A.pcscf, PORTS.uc, PORTS.ps, reg2);
  if (f.wrongIcv) p2[p2.length - 1] ^= 0xff;
  add('register2', p2, 100);
  if (f.wrongIcv || f.unknownSpi) return { pcap: w.toBytes(), frames };
  if (f.forwardedIntegrity) {
    const fwd = Buffer.from(reg2).toString('latin1').replace('REGISTER sip:ims.lab SIP/2.0\r\n', `REGISTER sip:ims.lab SIP/2.0\r\n${via(A.pcscf, PORTS.pcscf, 'f2')}\r\n`).replace('cnonce="c0ffee"', `cnonce="c0ffee", integrity-protected="${f.forwardedIntegrity}"`);
    add('forwarded', encodeUdpPacket({ address: A.pcscf, port: PORTS.pcscf }, { address: A.scscf, port: 6060 }, Buffer.from(fwd, 'latin1')), 110);
  }
  // 5. The 200 OK (P-CSCF port_pc → A.ue port_us over UDP, R-SA-3).
  add('ok', protectedUdp(toUeUs, A.pcscf, A.ue, PORTS.pc, PORTS.us, sip(['SIP/2.0 200 OK', via(A.ue, PORTS.uc, 'r2'), ...common(2, 'REGISTER'), `Contact: <sip:${U}@${A.ue}:${PORTS.us}>;expires=600`, `P-Associated-URI: <sip:${U}@ims.lab>, <tel:+15550101>`])), 150);
  if (f.shortened) {
    const body = `<?xml version="1.0"?><reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="1" state="partial"><registration aor="sip:${U}@ims.lab" id="a" state="active"><contact id="c" state="active" event="shortened" expires="30"><uri>sip:${U}@10.0.0.2</uri></contact></registration></reginfo>`;
    add('notify', protectedUdp(toUeUs, A.pcscf, A.ue, PORTS.pc, PORTS.us, sip([`NOTIFY sip:${U}@10.0.0.2 SIP/2.0`, via(A.pcscf, PORTS.pc, 'n1'), `From: <sip:${U}@ims.lab>;tag=s`, `To: <sip:${U}@ims.lab>;tag=a`, 'Call-ID: sub-1@10.0.0.2', 'CSeq: 2 NOTIFY', 'Event: reg', 'Subscription-State: active;expires=600', 'Content-Type: application/reginfo+xml'], body)), 170);
  }
  // 6. A protected MESSAGE from the UE.
  const from = f.impuSpoof ? 'sip:bob@ims.lab' : `sip:${U}@ims.lab`;
  const msg = protectedUdp(toPcscfPs, A.ue, A.pcscf, f.wrongSaPorts ? PORTS.us : PORTS.uc, PORTS.ps, sip(['MESSAGE sip:carol@ims.lab SIP/2.0', via(A.ue, PORTS.uc, 'm1'), `From: <${from}>;tag=m`, 'To: <sip:carol@ims.lab>', 'Call-ID: msg-1@10.0.0.2', 'CSeq: 1 MESSAGE', `P-Preferred-Identity: <${from}>`, 'Content-Type: text/plain'], 'hello'));
  add('message', msg, f.late ? 150 + 631_000 : 200);
  if (f.reregister || f.challengedDeregister) reregister(f.reregister ?? 'ok', { add, sa, protectedUdp, toPcscfPs, toUeUs, nonce, via, common }, A, f.challengedDeregister);
  if (f.oldSetLate) add('late', protectedUdp(toPcscfPs, A.ue, A.pcscf, PORTS.uc, PORTS.ps, sip(['MESSAGE sip:carol@ims.lab SIP/2.0', via(A.ue, PORTS.uc, 'm2'), `From: <sip:${U}@ims.lab>;tag=m`, 'To: <sip:carol@ims.lab>', 'Call-ID: msg-2@10.0.0.2', 'CSeq: 1 MESSAGE'], 'late')), 41_100);
  if (f.replay) add('replay', msg, 2200);
  if (f.clearOnProtected) {
    add('options', encodeUdpPacket({ address: A.pcscf, port: PORTS.pcscf }, { address: A.ue, port: PORTS.us }, sip([`OPTIONS sip:${U}@10.0.0.2 SIP/2.0`, via(A.pcscf, PORTS.pcscf, 'o2'), 'From: <sip:pcscf@ims.lab>;tag=p', `To: <sip:${U}@ims.lab>`, 'Call-ID: ka2@pcscf', 'CSeq: 1 OPTIONS'])), 3000);
  }
  return { pcap: w.toBytes(), frames };
}
