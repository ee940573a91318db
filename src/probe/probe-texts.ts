/**
 * The SIP the probe's UE writes, as text: a REGISTER (TS 24.229 §5.1.1.2.1, §5.1.1.4.2) and a
 * MESSAGE (RFC 3428) in which every header a check may change is an option. Pure: the caller
 * passes the dialog's state (Call-ID, tags, counters) and ports.
 */
import { formatDigestCredentials, type DigestCredentials } from '../auth/index.js';
import type { Endpoint } from '../ip/index.js';
import { formatSecurityMechanisms, type SecMechanism } from '../secagree/index.js';
import type { SipMessage } from '../sip/index.js';
import { sipText } from './hand-sa.js';

/** What a check may change in a REGISTER. */
export interface RegisterOptions {
  protectedVia: boolean;
  auth: DigestCredentials | string;
  client?: SecMechanism[] | string;
  verify?: SecMechanism[] | string;
  impu?: string;
  expires?: number;
}

/** What a check may change in a MESSAGE; `ppi: null` leaves P-Preferred-Identity out. */
export interface MessageOptions {
  to?: string;
  from?: string;
  ppi?: string | null;
  callId?: string;
  body?: string;
  via?: number;
}

/** The probe UE's side of one request: its address, the Via port and branch, its identity. */
interface Sender {
  local: string;
  viaPort: number;
  /** The Via branch after the magic cookie `z9hG4bK`. */
  branch: string;
  impu: string;
  tag: string;
  callId: string;
}

const bracket = (address: string): string => (address.includes(':') ? `[${address}]` : address);
const mechanisms = (m: SecMechanism[] | string): string => (typeof m === 'string' ? m : formatSecurityMechanisms(m));

/** A REGISTER with Contact on the Via port and `+sip.instance` (RFC 5626 §4.1). */
export function registerText(o: RegisterOptions, s: Sender & { cseq: number; instance: string; homeDomain: string }): string {
  const host = bracket(s.local);
  const impu = o.impu ?? s.impu;
  const h: [string, string][] = [
    ['Via', `SIP/2.0/UDP ${host}:${s.viaPort};branch=z9hG4bK${s.branch};rport`],
    ['Max-Forwards', '70'],
    ['From', `<${impu}>;tag=${s.tag}`],
    ['To', `<${impu}>`],
    ['Call-ID', s.callId],
    ['CSeq', `${s.cseq} REGISTER`],
    ['Contact', `<sip:${host}:${s.viaPort}>;+sip.instance="<${s.instance}>"`],
    ['Expires', String(o.expires ?? 600)],
    ['Authorization', typeof o.auth === 'string' ? o.auth : formatDigestCredentials(o.auth)],
  ];
  if (o.client !== undefined) h.push(['Security-Client', mechanisms(o.client)]);
  if (o.verify !== undefined) h.push(['Security-Verify', mechanisms(o.verify)]);
  h.push(['Require', 'sec-agree'], ['Proxy-Require', 'sec-agree'], ['Supported', 'path, sec-agree'], ['User-Agent', 'imsec-probe']);
  return sipText(`REGISTER sip:${s.homeDomain} SIP/2.0`, h);
}

/** A MESSAGE routed to the P-CSCF's port_ps and then the Service-Route (TS 24.229 §5.1.2A.1). */
export function messageText(o: MessageOptions, s: Sender & { ps: Endpoint; serviceRoute: readonly string[]; body: string }): string {
  const from = o.from ?? s.impu;
  const h: [string, string][] = [
    ['Via', `SIP/2.0/UDP ${bracket(s.local)}:${s.viaPort};branch=z9hG4bK${s.branch};rport`],
    ['Max-Forwards', '70'],
    ['Route', `<sip:${bracket(s.ps.address)}:${s.ps.port};lr>`],
    ...s.serviceRoute.map((r): [string, string] => ['Route', r]),
    ['From', `<${from}>;tag=${s.tag}`],
    ['To', `<${o.to ?? s.impu}>`],
    ['Call-ID', s.callId],
    ['CSeq', '1 MESSAGE'],
  ];
  const ppi = o.ppi === undefined ? from : o.ppi;
  if (ppi !== null) h.push(['P-Preferred-Identity', `<${ppi}>`]);
  h.push(['Content-Type', 'text/plain']);
  return sipText(`MESSAGE ${o.to ?? s.impu} SIP/2.0`, h, o.body);
}

/** The 200 to a request that reached the probe (RFC 3261 §8.2.6: Via, From, Call-ID, CSeq copied; a To tag added). */
export function okText(req: SipMessage): string {
  const copy = (n: string): [string, string][] => req.headers.getLines(n).map((v) => [n, v] as [string, string]);
  const to = req.headers.get('To') ?? '';
  return sipText('SIP/2.0 200 OK', [...copy('Via'), ...copy('From'), ['To', /;\s*tag=/i.test(to) ? to : `${to};tag=probe`], ...copy('Call-ID'), ...copy('CSeq')]);
}
