/**
 * The Via work of the transport layer: reading the top Via for response routing, writing the
 * sent-by a client transport must insert (RFC 3261 §18.1.1), and the received/rport a server
 * transport adds (§18.2.1, RFC 3581 §4). Only the first via-parm is touched; the other values
 * keep their text.
 */
import { formatVia, topVia, viaReceived, viaRport, type Via } from '../headers/index.js';
import type { SipMessage } from '../message/index.js';
import { canonicalAddress, stripBrackets } from './endpoint.js';
import type { ViaRoute } from './response-route.js';
import type { Endpoint } from './types.js';

/** The routing fields of the top Via, or undefined when it is missing or malformed. */
export function readTopVia(msg: SipMessage): ViaRoute | undefined {
  let v: Via | undefined;
  try {
    v = topVia(msg);
  } catch {
    return undefined;
  }
  if (!v) return undefined;
  const rport = viaRport(v);
  const maddr = v.params.get('maddr');
  return {
    transport: v.transport,
    host: v.host,
    port: v.port,
    received: viaReceived(v),
    rport: typeof rport === 'number' ? rport : undefined,
    maddr: maddr ?? undefined,
  };
}

/** RFC 3261 §18.1.1: writes sent-protocol transport and sent-by (host, port) into the top Via. */
export function setTopViaSentBy(msg: SipMessage, transport: string, host: string, port: number): void {
  const v = topVia(msg);
  if (!v) return;
  const h = stripBrackets(host);
  if (v.transport === transport && v.host === h && v.port === port) return;
  replaceTopVia(msg, { ...v, transport, host: h, port });
}

/**
 * RFC 3261 §18.2.1 and RFC 3581 §4, at a server transport receiving a request from `source`:
 * 1. If the sent-by host is a name, or an address other than the source address, add
 *    `received=<source address>`.
 * 2. If the top Via has `rport` without a value, set it to the source port and add `received`
 *    even when it equals the sent-by host.
 * Returns false (and leaves the message alone) when there is no parseable top Via.
 */
export function stampReceived(msg: SipMessage, source: Endpoint): boolean {
  let v: Via | undefined;
  try {
    v = topVia(msg);
  } catch {
    return false;
  }
  if (!v) return false;
  const src = canonicalAddress(source.address);
  const wantsRport = v.params.get('rport') === null;
  const differs = canonicalAddress(v.host) !== src;
  if (!differs && !wantsRport) return true;
  const params = v.params.clone();
  if (differs || wantsRport) params.set('received', src);
  if (wantsRport) params.set('rport', String(source.port));
  replaceTopVia(msg, { ...v, params });
  return true;
}

/** Replaces the first via-parm, keeping every other header field and its position. */
function replaceTopVia(msg: SipMessage, v: Via): void {
  msg.headers.replaceFirst('via', formatVia(v));
}
