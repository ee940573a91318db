/**
 * Proxy routing at the P-CSCF (RFC 3261 §16.4–§16.6, RFC 3327 Path, RFC 3608 Service-Route,
 * RFC 5658 double Record-Route, TS 24.229 §5.2.6.3): recognising its own URIs, popping its Route
 * entries, enforcing the Service-Route on originating requests and choosing the next hop. Pure.
 *
 * The P-CSCF has two faces: the unprotected SIP port the core reaches (and the UE's first
 * REGISTER), and the protected server port of each UE's SA set. A dialog it record-routes gets
 * one Record-Route entry per face (RFC 5658 §3.2): the face the request came from is pushed
 * first, the face it leaves by on top. Each end then uses the entry of its own side.
 */
import { resolveSipUri, type HostTable } from '../common/index.js';
import { formatUri, parseRoute, routesOf, type NameAddr, type SipRequest, type Uri, canonicalAddress, ipFamily } from '../../sip/index.js';
import type { Destination } from '../../sip/transport/index.js';

/** How the P-CSCF recognises itself in a URI. */
export interface SelfId {
  /** Its IP addresses (canonical form). */
  readonly addresses: readonly string[];
  /** Host names that mean it (compared case-insensitively). */
  readonly names: readonly string[];
  /** Whether a port is one of its SIP ports (the unprotected one or a live protected one). */
  isOwnPort(port: number): boolean;
}

/** Whether `uri` points at this P-CSCF (host one of its names or addresses, port one of its ports). */
export function isOwnUri(uri: Uri, self: SelfId): boolean {
  if (uri.kind !== 'sip') return false;
  const host = uri.host.replace(/^\[(.*)\]$/, '$1');
  const mine = ipFamily(host) !== 0 ? self.addresses.includes(canonicalAddress(host)) : self.names.some((n) => n.toLowerCase() === host.toLowerCase());
  return mine && self.isOwnPort(uri.port ?? 5060);
}

/** Route values of a request, top first. Throws SipParseError. */
export function routeList(req: SipRequest): NameAddr[] {
  return routesOf(req, 'Route');
}

function setRoutes(req: SipRequest, routes: readonly string[]): void {
  req.headers.remove('Route');
  if (routes.length > 0) req.headers.append('Route', routes.join(', '));
}

function formatRouteEntry(n: NameAddr): string {
  return `<${formatUri(n.uri)}>${n.params.toString()}`;
}

/**
 * RFC 3261 §16.4: removes the leading Route entries that are this P-CSCF (a UE's preloaded
 * outbound-proxy entry, or both of its double Record-Route entries). Returns how many went.
 */
export function popOwnRoutes(req: SipRequest, self: SelfId): number {
  const routes = routeList(req);
  let n = 0;
  while (n < routes.length && isOwnUri(routes[n].uri, self)) n++;
  if (n > 0) setRoutes(req, routes.slice(n).map(formatRouteEntry));
  return n;
}

/**
 * TS 24.229 §5.2.6.3.2: an initial request from the UE must follow the Service-Route learnt at
 * registration. After the P-CSCF's own entries are popped, the preloaded Route must start with
 * the Service-Route, URI by URI; otherwise it is replaced by the Service-Route (the UE's other
 * entries are kept after it only when the prefix matched). Returns whether it was replaced.
 */
export function enforceServiceRoute(req: SipRequest, serviceRoute: readonly string[]): boolean {
  if (serviceRoute.length === 0) return false;
  const routes = routeList(req);
  const sr = serviceRoute.map((s) => parseRoute(s)[0]);
  const prefix = sr.every((e, i) => routes[i] !== undefined && sameRouteUri(routes[i].uri, e.uri));
  if (prefix) return false;
  setRoutes(req, [...serviceRoute]);
  return true;
}

function sameRouteUri(a: Uri, b: Uri): boolean {
  if (a.kind !== 'sip' || b.kind !== 'sip') return formatUri(a) === formatUri(b);
  return a.host.toLowerCase() === b.host.toLowerCase() && (a.port ?? 5060) === (b.port ?? 5060) && (a.user ?? '') === (b.user ?? '');
}

/** RFC 5658 §3.2: pushes `inbound` (the face the request came from) then `outbound` on top. */
export function recordRouteTwice(req: SipRequest, inbound: string, outbound: string): void {
  req.headers.prepend('Record-Route', inbound);
  req.headers.prepend('Record-Route', outbound);
}

/** Methods that create a dialog (RFC 3261 §12, RFC 6665 §4.1, RFC 3515): record-routed. */
export const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);

/**
 * RFC 3261 §16.6 step 6–7 (loose routing only): the next hop is the top Route, else the
 * Request-URI, resolved through the static host table. Throws SipResolveError/SipParseError.
 */
export function nextHop(req: SipRequest, hosts: HostTable): Destination {
  const top = routeList(req)[0];
  return resolveSipUri(top ? top.uri : req.uri, hosts);
}

/** A SIP URI for one face of the P-CSCF: `<sip:[user@]host:port;lr>`. */
export function faceUri(host: string, port: number, user?: string): string {
  const h = ipFamily(host) === 6 ? `[${host}]` : host;
  return `<sip:${user ? `${user}@` : ''}${h}:${port};lr>`;
}
