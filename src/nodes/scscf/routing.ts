/**
 * Routing of requests other than REGISTER through the S-CSCF (TS 24.229 §5.4.3), pure: it looks
 * at a request and the registrations and says where the request goes, as a value.
 *
 * 1. Max-Forwards 0 → 483 (RFC 3261 §16.3 step 3).
 * 2. A top Route naming this S-CSCF is removed (RFC 3261 §16.4); when it is the Service-Route
 *    entry (user `orig`), the request is originating (TS 24.229 §5.4.3.2).
 * 3. Route entries left: forward to the first one (loose routing, §16.6 step 7).
 * 4. Originating: the served user (P-Asserted-Identity, else From) must be registered here, else
 *    403; and when the previous hop is known, it must be the P-CSCF recorded in that registration's
 *    Path (else 403, see {@link fromServingProxy}). The target (Request-URI) registered here is served at once on the terminating side
 *    (step 5); otherwise the request goes to the I-CSCF (TS 24.229 §5.4.3.2 step 10, simplified:
 *    no ENUM, no BGCF), or 404 when none is configured.
 * 5. Terminating (TS 24.229 §5.4.3.3): the Request-URI identity must be registered here (else
 *    404); the Request-URI becomes the registered contact, the Route set its Path (towards the UE
 *    through its P-CSCF), P-Called-Party-ID keeps the original Request-URI.
 * A dialog-creating request gets this S-CSCF in Record-Route, so the dialog's later requests pass
 * here too.
 */
import { cloneMessage, type SipRequest } from '../../sip/message/index.js';
import { formatUri, maxForwardsOf, parsePAssertedIdentity, parseRoute, parseUri, routesOf, toTag, fromOf, formatRoute, type Uri } from '../../sip/headers/index.js';
import { canonicalAddress } from '../../sip/index.js';
import type { Destination } from '../../sip/transport/index.js';
import type { StoredBinding, StoredRegistration } from '../../store/index.js';
import { impuKey, resolveHost, resolveSipUri, type HostTable } from '../common/index.js';
import { preferredBinding } from './bindings.js';

export interface RoutingContext {
  /** Is this URI this S-CSCF (its host names, aliases, listen address)? */
  isLocal(uri: Uri): boolean;
  /** User part of the Service-Route URI (TS 24.229: "orig"). */
  origUser: string;
  /** The registration holding this identity key (impuKey), if any. */
  lookup(key: string): StoredRegistration | undefined;
  now: number;
  hosts: HostTable;
  /** The I-CSCF's SIP URI, or null. */
  icscf: string | null;
  /** This S-CSCF's Record-Route value, e.g. `<sip:scscf.ims.lab:6060;lr>`. */
  recordRoute: string;
  /** The previous hop's address (the datagram's source or the connection's remote address); absent: not checked. */
  from?: string;
}

export type RouteLeg = 'route' | 'terminating' | 'icscf' | 'dialog';

export type RouteDecision =
  | { kind: 'reject'; status: number; reason: string; headers?: [string, string][] }
  | { kind: 'forward'; request: SipRequest; dest: Destination; leg: RouteLeg; originating: boolean; binding?: StoredBinding }
  /** Addressed to the S-CSCF itself (Request-URI ours, no Route left): the caller answers. */
  | { kind: 'local'; originating: boolean };

const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);

function reject(status: number, reason: string, warning?: string): RouteDecision {
  return { kind: 'reject', status, reason, ...(warning ? { headers: [['Warning', `399 - "${warning}"`]] } : {}) };
}

/** The served user of an originating request: P-Asserted-Identity, else the From URI (TS 24.229 §5.4.3.2). */
export function servedUser(req: SipRequest): Uri | undefined {
  const pai = req.headers.get('p-asserted-identity');
  if (pai !== undefined) {
    try {
      const ids = parsePAssertedIdentity(pai);
      if (ids.length > 0) return ids[0].uri;
    } catch {
      return undefined;
    }
  }
  return fromOf(req)?.uri;
}

/**
 * Whether an originating request came from the P-CSCF that serves the registration (TS 24.229
 * §5.4.3.1: the originating case is the request that uses the originating information handed out
 * in Service-Route at registration, §5.4.1.2.2F — so only the P-CSCF that registration went
 * through, the one recorded in Path, RFC 3327 §5.3, may use it). The peer is compared by
 * address, never by port: the P-CSCF's TCP connections come from ephemeral ports. A binding
 * registered without Path (a UA attached directly) is compared with the address its REGISTER
 * came from.
 */
export function fromServingProxy(reg: StoredRegistration, from: string, hosts: HostTable, now: number): boolean {
  const peer = canonicalAddress(from);
  return reg.bindings.some((b) => {
    if (b.expiresAt <= now) return false;
    let address: string | undefined;
    try {
      const top = b.path.length > 0 ? parseRoute(b.path[0], 'Path')[0]?.uri : undefined;
      address = top === undefined ? b.received?.address : top.kind === 'sip' ? resolveHost(top.host, hosts) : undefined;
    } catch {
      address = undefined;
    }
    return address !== undefined && canonicalAddress(address) === peer;
  });
}

function destinationOf(uri: Uri | string, hosts: HostTable): Destination | RouteDecision {
  try {
    return resolveSipUri(uri, hosts);
  } catch (err) {
    return reject(404, 'Not Found', (err as Error).message);
  }
}

function isDecision(x: Destination | RouteDecision): x is RouteDecision {
  return 'kind' in x;
}

/** Decides where a request goes (see the module comment). Never throws for a well-formed request. */
export function routeRequest(req: SipRequest, ctx: RoutingContext): RouteDecision {
  // 1.
  let mf: number | undefined;
  try {
    mf = maxForwardsOf(req);
  } catch {
    return reject(400, 'Bad Request', 'bad Max-Forwards');
  }
  if (mf === 0) return reject(483, 'Too Many Hops');
  const out = cloneMessage(req);
  // 2.
  let originating = false;
  let routes;
  try {
    routes = routesOf(out, 'Route');
  } catch {
    return reject(400, 'Bad Request', 'bad Route');
  }
  if (routes.length > 0 && ctx.isLocal(routes[0].uri)) {
    const top = routes[0].uri;
    originating = top.kind === 'sip' && (top.user === ctx.origUser || top.params.has('orig'));
    routes.shift();
    out.headers.remove('route');
    if (routes.length > 0) out.headers.append('Route', formatRoute(routes));
  }
  const inDialog = toTag(out) !== undefined;
  const addRecordRoute = (): void => {
    if (!inDialog && DIALOG_CREATING.has(out.method)) out.headers.prepend('Record-Route', ctx.recordRoute);
  };
  // 3.
  if (routes.length > 0) {
    const d = destinationOf(routes[0].uri, ctx.hosts);
    if (isDecision(d)) return d;
    addRecordRoute();
    return { kind: 'forward', request: out, dest: d, leg: 'route', originating };
  }
  let target: Uri;
  try {
    target = parseUri(out.uri);
  } catch {
    return reject(400, 'Bad Request', 'bad Request-URI');
  }
  if (inDialog) {
    // A mid-dialog request routed here by our Record-Route: on to its remote target.
    if (ctx.isLocal(target)) return { kind: 'local', originating };
    const d = destinationOf(target, ctx.hosts);
    if (isDecision(d)) return d;
    return { kind: 'forward', request: out, dest: d, leg: 'dialog', originating };
  }
  // 4.
  if (originating) {
    const user = servedUser(out);
    const key = user ? impuKey(user) : undefined;
    const served = key === undefined ? undefined : ctx.lookup(key);
    if (served === undefined) return reject(403, 'Forbidden', 'served user not registered at this S-CSCF');
    if (ctx.from !== undefined && !fromServingProxy(served, ctx.from, ctx.hosts, ctx.now)) return reject(403, 'Forbidden', 'originating request not from the P-CSCF of the registration');
  }
  if (ctx.isLocal(target) && (target.kind !== 'sip' || target.user === undefined)) return { kind: 'local', originating };
  const targetKey = impuKey(target);
  const reg = targetKey !== undefined ? ctx.lookup(targetKey) : undefined;
  if (!reg) {
    if (!originating) return reject(404, 'Not Found', 'user not registered');
    if (ctx.icscf === null) return reject(404, 'Not Found', 'user not registered here and no I-CSCF configured');
    const d = destinationOf(ctx.icscf, ctx.hosts);
    if (isDecision(d)) return d;
    addRecordRoute();
    return { kind: 'forward', request: out, dest: d, leg: 'icscf', originating };
  }
  // 5.
  const b = preferredBinding(reg.bindings, ctx.now);
  if (!b) return reject(480, 'Temporarily Unavailable', 'no live contact');
  if (!out.headers.has('p-called-party-id')) out.headers.append('P-Called-Party-ID', `<${formatUri(target)}>`);
  out.uri = b.uri;
  for (const p of [...b.path].reverse()) out.headers.prepend('Route', p);
  addRecordRoute();
  const first = b.path.length > 0 ? routesOf(out, 'Route')[0].uri : parseUri(b.uri);
  const d = destinationOf(first, ctx.hosts);
  if (isDecision(d)) return d;
  return { kind: 'forward', request: out, dest: d, leg: 'terminating', originating, binding: b };
}
