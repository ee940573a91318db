/**
 * Via (RFC 3261 §20.42, §25.1; rport RFC 3581).
 *
 *   Via               =  ( "Via" / "v" ) HCOLON via-parm *(COMMA via-parm)
 *   via-parm          =  sent-protocol LWS sent-by *( SEMI via-params )
 *   via-params        =  via-ttl / via-maddr / via-received / via-branch / via-extension
 *   sent-protocol     =  protocol-name SLASH protocol-version SLASH transport
 *   sent-by           =  host [ COLON port ]
 *   via-ttl           =  "ttl" EQUAL ttl              ; 0-255
 *   via-branch        =  "branch" EQUAL token
 *   response-port     =  "rport" [EQUAL 1*DIGIT]     ; RFC 3581 §3
 */
import { isDigits } from '../message/chars.js';
import { Scanner, parseList, parseOne } from './scanner.js';
import { SipParams } from './params.js';
import { formatHostPort } from './uri.js';

export interface Via {
  /** protocol-name, normally `SIP`. */
  protocol: string;
  /** protocol-version, normally `2.0`. */
  version: string;
  /** UDP, TCP, TLS, SCTP, WS... as written. */
  transport: string;
  /** sent-by host; an IPv6 address without brackets. */
  host: string;
  port?: number;
  /** branch, received, rport, maddr, ttl and extensions, in order. */
  params: SipParams;
}

/** RFC 3261 §8.1.1.7: branches of RFC 3261 transactions start with this magic cookie. */
export const BRANCH_MAGIC = 'z9hG4bK';

const HOSTCHARS = new Uint8Array(128);
for (const ch of '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-.') HOSTCHARS[ch.charCodeAt(0)] = 1;

export function scanVia(sc: Scanner, list: boolean): Via {
  sc.ws();
  const protocol = sc.token('protocol-name');
  sc.expect(0x2f, '/');
  const version = sc.token('protocol-version');
  sc.expect(0x2f, '/');
  const transport = sc.token('transport');
  if (sc.ws() === 0) sc.fail('expected white space before sent-by');
  let host: string;
  if (sc.peek() === 0x5b) {
    const close = sc.s.indexOf(']', sc.pos);
    if (close < 0) sc.fail('unterminated IPv6 reference');
    host = sc.s.slice(sc.pos + 1, close);
    if (!/^[0-9A-Fa-f:.]+$/.test(host)) sc.fail('bad IPv6 reference');
    sc.pos = close + 1;
  } else host = sc.take(HOSTCHARS, 'sent-by host');
  let port: number | undefined;
  if (sc.eat(0x3a)) {
    const at = sc.pos;
    const p = sc.take(HOSTCHARS, 'port');
    if (!isDigits(p) || p.length > 5 || +p > 65535) sc.fail('bad port', at);
    port = +p;
  }
  const params = sc.params(list);
  checkViaParams(sc, params);
  const via: Via = { protocol, version, transport, host, params };
  if (port !== undefined) via.port = port;
  return via;
}

function checkViaParams(sc: Scanner, params: SipParams): void {
  const ttl = params.get('ttl');
  if (ttl !== undefined && (ttl === null || !isDigits(ttl) || +ttl > 255)) sc.fail('bad ttl');
  const rport = params.get('rport');
  if (rport != null && (!isDigits(rport) || +rport > 65535)) sc.fail('bad rport');
  const branch = params.get('branch');
  if (branch === null || (branch !== undefined && branch.charCodeAt(0) === 0x22)) sc.fail('bad branch');
  const received = params.get('received');
  if (received === null || (received !== undefined && !/^[0-9A-Fa-f:.[\]]+$/.test(received))) sc.fail('bad received');
}

/** One via-parm. */
export function parseVia(value: string): Via {
  return parseOne(value, 'Via', (sc) => scanVia(sc, false));
}

/** Every via-parm of one Via field value. */
export function parseViaList(value: string): Via[] {
  return parseList(value, 'Via', (sc) => scanVia(sc, true));
}

/** Canonical form: `SIP/2.0/UDP host:port;branch=...`. */
export function formatVia(v: Via): string {
  return `${v.protocol}/${v.version}/${v.transport} ${formatHostPort(v.host, v.port)}${v.params.toString()}`;
}

export function formatViaList(vs: Via[]): string {
  return vs.map(formatVia).join(', ');
}

/** The branch parameter, if any. */
export function viaBranch(v: Via): string | undefined {
  return v.params.get('branch') ?? undefined;
}

/** rport: `true` when present without a value (a request asking for it), the port when filled in. */
export function viaRport(v: Via): number | true | undefined {
  const r = v.params.get('rport');
  return r === undefined ? undefined : r === null ? true : +r;
}

/** The received parameter (an IPv6 address may be given with or without brackets). */
export function viaReceived(v: Via): string | undefined {
  return v.params.get('received')?.replace(/^\[(.*)\]$/, '$1') ?? undefined;
}
