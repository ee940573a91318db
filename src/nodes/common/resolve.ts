/**
 * Where a SIP URI points, without DNS: the IMS lab nodes resolve host names through a static
 * host table in their config (`hosts: { "scscf.ims.lab": "127.0.0.1" }`), and an IP literal
 * resolves to itself. The port defaults to 5060 (5061 for sips, RFC 3261 §19.1.2) and the
 * transport comes from the `transport` URI parameter (RFC 3263 §4.1 without the NAPTR/SRV steps:
 * udp when absent for sip:, tcp for sips:). A `maddr` parameter, when present, replaces the host
 * (RFC 3261 §19.1.1).
 */
import { ImsError } from '../../common/index.js';
import { parseUri, type Uri } from '../../sip/headers/index.js';
import { ipFamily } from '../../sip/index.js';
import type { Destination, TransportProtocol } from '../../sip/transport/index.js';

/** A static host table: host name (any case) → IPv4 or IPv6 address. */
export type HostTable = Readonly<Record<string, string>>;

/** A URI that cannot be turned into a destination (not SIP, unknown host, unsupported transport). */
export class SipResolveError extends ImsError {
  constructor(
    message: string,
    readonly uri: string,
  ) {
    super('SIP_RESOLVE', message);
  }
}

/** The address of a host name (table lookup, case-insensitive) or an IP literal; undefined when unknown. */
export function resolveHost(host: string, hosts: HostTable): string | undefined {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  if (ipFamily(h) !== 0) return h;
  const direct = hosts[h];
  if (direct !== undefined) return direct;
  const lower = h.toLowerCase();
  for (const [name, addr] of Object.entries(hosts)) if (name.toLowerCase() === lower) return addr;
  return undefined;
}

/**
 * The destination of a sip:/sips: URI. @throws SipResolveError for other schemes, a host not in
 * the table, or a transport other than udp/tcp.
 */
export function resolveSipUri(uri: string | Uri, hosts: HostTable): Destination {
  const text = typeof uri === 'string' ? uri : undefined;
  const u = typeof uri === 'string' ? parseUri(uri) : uri;
  const shown = () => text ?? (u.kind === 'sip' ? `${u.scheme}:${u.host}` : u.scheme);
  if (u.kind !== 'sip') throw new SipResolveError(`cannot route to a ${u.scheme}: URI`, shown());
  const maddr = u.params.get('maddr');
  const host = typeof maddr === 'string' && maddr !== '' ? maddr : u.host;
  const address = resolveHost(host, hosts);
  if (address === undefined) throw new SipResolveError(`host ${host} is not in the host table`, shown());
  const tp = u.params.get('transport');
  let transport: TransportProtocol = u.scheme === 'sips' ? 'tcp' : 'udp';
  if (typeof tp === 'string') {
    const t = tp.toLowerCase();
    if (t !== 'udp' && t !== 'tcp') throw new SipResolveError(`transport ${tp} is not supported`, shown());
    transport = t;
  }
  return { address, port: u.port ?? (u.scheme === 'sips' ? 5061 : 5060), transport };
}
