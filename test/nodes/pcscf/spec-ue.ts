/**
 * A UE scripted from the specification text, not imsec's UE (see spec-ue.test.ts): plain UDP
 * sockets on its unprotected port, port_uc and port_us, SAs held by hand and keyed by TS 33.203
 * Annex I, SIP written out as text; and its registration, step by step (TS 33.203 §7.2).
 */
import assert from 'node:assert/strict';
import { toHex } from '../../../src/common/index.js';
import { cseqOf, parseMessage, securityServerOf, wwwAuthenticateOf, type SipMessage, type SipResponse } from '../../../src/sip/index.js';
import type { SecMechanism } from '../../../src/secagree/index.js';
import type { Endpoint } from '../../../src/ip/index.js';
import { RawPort, handSa, openSip, sealSip, sipText, spiOf, type HandSa } from '../../support/raw-esp.js';
import { HOST, type StubCore } from './support.js';

export const IMPU = 'sip:alice@ims.lab';
export const IMPI = 'alice@ims.lab';

export function parse(bytes: Uint8Array | string): SipMessage {
  return parseMessage(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
}

export function mech(m: SecMechanism): string {
  return `ipsec-3gpp;alg=${m.alg};ealg=${m.ealg ?? 'null'};prot=esp;mod=${m.mod};spi-c=${m.spiC};spi-s=${m.spiS};port-c=${m.portC};port-s=${m.portS}`;
}

/** The UE's side of one SA set, held by hand (TS 33.203 §7.1). */
export interface HandSet {
  ucPs: HandSa;
  usPc: HandSa;
  pcUs: HandSa;
  psUc: HandSa;
  server: SecMechanism;
}

/** The scripted UE (see the module comment). */
export class SpecUe {
  cseq = 0;
  private branch = 0;
  constructor(
    readonly plain: RawPort,
    readonly us: RawPort,
    public uc: RawPort,
    readonly pcscf: Endpoint,
  ) {}

  offer(spiC: number, spiS: number): string {
    return `ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;prot=esp;mod=UDP-enc-tun;spi-c=${spiC};spi-s=${spiS};port-c=${this.uc.port};port-s=${this.us.port}`;
  }

  /** A REGISTER as TS 24.229 §5.1.1.2.2 / §5.1.1.4.2 writes it. */
  register(o: { viaPort: number; contactPort: number; auth: string; client: string; verify?: string; expires?: number }): string {
    const h: [string, string][] = [
      ['Via', `SIP/2.0/UDP ${HOST}:${o.viaPort};branch=z9hG4bKspec${++this.branch};rport`],
      ['Max-Forwards', '70'],
      ['From', `<${IMPU}>;tag=spec1`],
      ['To', `<${IMPU}>`],
      ['Call-ID', 'spec-ue-reg'],
      ['CSeq', `${++this.cseq} REGISTER`],
      ['Contact', `<sip:alice@${HOST}:${o.contactPort}>;+sip.instance="<urn:uuid:00000000-0000-5000-8000-000000000001>"`],
      ['Expires', String(o.expires ?? 600)],
      ['Authorization', o.auth],
      ['Security-Client', o.client],
      ['Require', 'sec-agree'],
      ['Proxy-Require', 'sec-agree'],
      ['Supported', 'path, sec-agree'],
    ];
    if (o.verify) h.push(['Security-Verify', o.verify]);
    return sipText('REGISTER sip:ims.lab SIP/2.0', h);
  }

  message(to: string, from = IMPU): string {
    return sipText(`MESSAGE ${to} SIP/2.0`, [
      ['Via', `SIP/2.0/UDP ${HOST}:${this.us.port};branch=z9hG4bKspec${++this.branch}`],
      ['Max-Forwards', '70'],
      ['Route', `<sip:${this.pcscf.address}:${this.pcscf.port};lr>`],
      ['From', `<${from}>;tag=m${this.branch}`],
      ['To', `<${to}>`],
      ['Call-ID', `spec-msg-${this.branch}`],
      ['CSeq', '1 MESSAGE'],
      ['P-Preferred-Identity', `<${from}>`],
      ['Content-Type', 'text/plain'],
    ], 'hi');
  }

  /** A 200 to a request it received: RFC 3261 §8.2.6 (Via, From, To, Call-ID, CSeq copied). */
  ok(req: SipMessage): string {
    const copy = (n: string): [string, string][] => req.headers.getLines(n).map((v) => [n, v] as [string, string]);
    return sipText('SIP/2.0 200 OK', [...copy('Via'), ...copy('From'), ['To', `${req.headers.get('To')};tag=ue1`], ...copy('Call-ID'), ...copy('CSeq')]);
  }
}

/** Reads the next final response on a plain port (a stateful proxy may send 100 first). */
export async function finalOn(port: RawPort, what: string): Promise<SipResponse> {
  for (;;) {
    const m = parse((await port.next(what)).data);
    assert.equal(m.kind, 'response', `${what}: expected a response`);
    if ((m).status >= 200) return m;
  }
}

/** Steps 1–2 of TS 33.203 §7.2: REGISTER → 401 (Security-Server) → protected REGISTER → 200. */
export async function registerBy(stub: StubCore, ue: SpecUe, spis: { c: number; s: number }, keysIndex: number, over?: HandSet): Promise<{ set: HandSet; r401: SipResponse }> {
  const client = ue.offer(spis.c, spis.s);
  const empty = `Digest username="${IMPI}", realm="ims.lab", uri="sip:ims.lab", nonce="", response=""`;
  let r401: SipResponse;
  if (!over) {
    await ue.plain.send(ue.register({ viaPort: ue.plain.port, contactPort: ue.plain.port, auth: empty, client }), ue.pcscf);
    r401 = await finalOn(ue.plain, '401');
  } else {
    // TS 24.229 §5.1.1.4.2: the re-REGISTER goes over the current SAs, Security-Verify = their Security-Server.
    await ue.uc.send(sealSip(over.ucPs, ue.register({ viaPort: ue.us.port, contactPort: ue.us.port, auth: empty, client, verify: mech(over.server) })), { address: HOST, port: over.server.portS! });
    const d = await ue.us.next('401 over the old set');
    assert.equal(d.from.port, over.server.portC, 'the 401 leaves from the old port_pc');
    assert.equal(spiOf(d.data), over.pcUs.spi, 'the 401 rides the old pc→us SA');
    r401 = parse(openSip(over.pcUs, d.data).text) as SipResponse;
  }
  assert.equal(r401.status, 401);
  assert.doesNotMatch(r401.headers.get('WWW-Authenticate')!, /\b(ik|ck)=/, 'R-AKA-6: ik/ck removed');
  const server = securityServerOf(r401);
  assert.equal(server.length, 1);
  const s = server[0];
  const { ik, ck } = stub.keys[keysIndex];
  const pc = { address: HOST, port: s.portC! };
  const ps = { address: HOST, port: s.portS! };
  const set: HandSet = {
    server: s,
    ucPs: handSa({ spi: s.spiS!, alg: s.alg!, ealg: s.ealg!, ik, ck, src: ue.uc.endpoint, dst: ps }),
    usPc: handSa({ spi: s.spiC!, alg: s.alg!, ealg: s.ealg!, ik, ck, src: ue.us.endpoint, dst: pc }),
    pcUs: handSa({ spi: spis.s, alg: s.alg!, ealg: s.ealg!, ik, ck, src: pc, dst: ue.us.endpoint }),
    psUc: handSa({ spi: spis.c, alg: s.alg!, ealg: s.ealg!, ik, ck, src: ps, dst: ue.uc.endpoint }),
  };
  const nonce = wwwAuthenticateOf(r401)[0].nonce;
  const answer = `Digest username="${IMPI}", realm="ims.lab", uri="sip:ims.lab", nonce="${nonce}", response="${toHex(new Uint8Array(16).fill(7))}", algorithm=AKAv1-MD5`;
  await ue.uc.send(sealSip(set.ucPs, ue.register({ viaPort: ue.us.port, contactPort: ue.us.port, auth: answer, client, verify: mech(s) })), ps);
  const d = await ue.us.next('200 to the protected REGISTER');
  assert.equal(d.from.port, s.portC, 'R-SA-3: the 200 leaves the P-CSCF from port_pc');
  assert.equal(spiOf(d.data), spis.s, 'R-SA-3: on the SA towards port_us (the UE\'s spi-s)');
  const opened = openSip(set.pcUs, d.data);
  assert.deepEqual([opened.src.port, opened.dst.port], [s.portC, ue.us.port]);
  const r200 = parse(opened.text) as SipResponse;
  assert.equal(r200.status, 200);
  assert.equal(cseqOf(r200)?.seq, ue.cseq);
  assert.equal(ue.uc.inbox.length, 0, 'nothing comes back to port_uc');
  return { set, r401 };
}
