/**
 * What the I-CSCF reads from a SIP request to query the HSS (TS 24.229 §5.3.1.2, §5.3.2.1;
 * TS 29.228 §6.1.1, §6.1.4). Pure; a request that lacks what the query needs gives a 400.
 */
import { parseDigestCredentials } from '../../auth/digest/index.js';
import { UserAuthorizationType } from '../../diameter/index.js';
import {
  contactExpires,
  contactsOf,
  expiresOf,
  formatUri,
  parsePVisitedNetworkId,
  parseUri,
  toOf,
  unescapeUri,
  type SipRequest,
  type Uri,
} from '../../sip/index.js';

/** The UAR inputs taken from a REGISTER. */
export interface RegisterQuery {
  /** Private user identity (User-Name). */
  impi: string;
  /** Public user identity being registered (Public-Identity): the To URI without parameters. */
  impu: string;
  /** Visited-Network-Identifier: the P-Visited-Network-ID value (or the configured default). */
  visitedNetwork: string;
  /** REGISTRATION or DE_REGISTRATION (TS 29.229 §6.3.24). */
  authorizationType: number;
}

/** A request the I-CSCF cannot query for: answered with `status`. */
export class RequestInfoError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * A public identity as the HSS stores it: a SIP URI as `scheme:user@host` (port, parameters and
 * headers removed), a tel URI as `tel:number` (TS 23.003 §13.4).
 */
export function publicIdentityOf(uri: Uri): string {
  if (uri.kind === 'sip') return uri.user === undefined ? `${uri.scheme}:${uri.host}` : `${uri.scheme}:${uri.user}@${uri.host}`;
  if (uri.kind === 'tel') return `tel:${uri.number}`;
  return formatUri(uri);
}

/**
 * TS 24.229 §5.3.1.2: derive the IMPI from the public identity being registered "by removing URI
 * scheme and the following parts of the URI if present: port number, URI parameters, and To header
 * field parameters".
 */
export function derivedImpi(uri: Uri): string {
  if (uri.kind === 'sip') return uri.user === undefined ? uri.host : `${unescapeUri(uri.user)}@${uri.host}`;
  if (uri.kind === 'tel') return uri.number;
  return uri.opaque;
}

/**
 * TS 24.229 §5.3.1.2: the UAR inputs of a REGISTER.
 * 1. Public-Identity from To.
 * 2. User-Name from the Authorization header's username (the one for a home realm first), else
 *    derived from To.
 * 3. Visited-Network-Identifier from P-Visited-Network-ID, else `defaultVisitedNetwork`.
 * 4. DE_REGISTRATION when Expires is 0, or when every Contact has expires=0 (or is `*`) and no
 *    non-zero Expires says otherwise; REGISTRATION otherwise.
 */
export function registerQuery(req: SipRequest, opts: { defaultVisitedNetwork: string; homeRealms?: readonly string[] }): RegisterQuery {
  let to;
  try {
    to = toOf(req);
  } catch {
    throw new RequestInfoError('bad To header');
  }
  if (!to) throw new RequestInfoError('missing To header');
  // 1.
  const impu = publicIdentityOf(to.uri);
  // 2.
  let impi: string | undefined;
  const creds = req.headers.getAll('authorization').flatMap((v) => {
    try {
      return [parseDigestCredentials(v)];
    } catch {
      return [];
    }
  });
  const realms = (opts.homeRealms ?? []).map((r) => r.toLowerCase());
  const home = creds.find((c) => realms.includes(c.realm.toLowerCase())) ?? creds[0];
  if (home && home.username !== '') impi = home.username;
  impi ??= derivedImpi(to.uri);
  // 3.
  let visitedNetwork = opts.defaultVisitedNetwork;
  const pvni = req.headers.getLines('p-visited-network-id');
  if (pvni.length > 0) {
    try {
      const v = pvni.flatMap(parsePVisitedNetworkId);
      if (v.length > 0) visitedNetwork = v[0].network;
    } catch {
      throw new RequestInfoError('bad P-Visited-Network-ID header');
    }
  }
  // 4.
  let dereg = false;
  try {
    const expires = expiresOf(req);
    const contacts = contactsOf(req);
    if (expires === 0) dereg = true;
    else if (contacts === '*') dereg = expires === undefined || expires === 0;
    else if (contacts.length > 0 && contacts.every((c) => contactExpires(c) === 0)) dereg = true;
  } catch {
    throw new RequestInfoError('bad Expires or Contact header');
  }
  return { impi, impu, visitedNetwork, authorizationType: dereg ? UserAuthorizationType.DE_REGISTRATION : UserAuthorizationType.REGISTRATION };
}

/** TS 24.229 §5.3.2.1: the public identity a request is for (LIR Public-Identity): the Request-URI. */
export function targetIdentity(req: SipRequest): string {
  let uri: Uri;
  try {
    uri = parseUri(req.uri, 'Request-URI');
  } catch {
    throw new RequestInfoError('bad Request-URI');
  }
  return publicIdentityOf(uri);
}
