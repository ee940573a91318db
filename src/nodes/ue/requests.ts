/**
 * The requests the soft UE sends, as pure builders (no I/O, no randomness of their own): the
 * REGISTERs of TS 24.229 §5.1.1.2 (initial, unprotected), §5.1.1.5 (the protected answer to the
 * challenge, and the failure reports of §5.1.1.5.3), §5.1.1.4 (re-registration) and §5.1.1.6
 * (de-registration); the reg-event SUBSCRIBE of §5.1.1.3; and a MESSAGE (RFC 3428) routed per
 * §5.1.2A.1 (P-CSCF URI with its protected server port, then the Service-Route).
 */
import { InvalidArgumentError, toBase64, type Rng } from '../../common/index.js';
import {
  akaPassword,
  digestResponse,
  formatDigestCredentials,
  type DigestChallenge,
  type DigestCredentials,
} from '../../auth/index.js';
import { formatSecurityMechanisms, type SecMechanism } from '../../secagree/index.js';
import { SipHeaders, SipRequest, hostForHeader } from '../../sip/index.js';
import type { Endpoint } from '../../sip/transport/index.js';

/** Who the UE is (ISIM EF_IMPI, EF_IMPU, EF_DOMAIN). */
export interface UeIdentity {
  impi: string;
  impu: string;
  homeDomain: string;
}

/** The parts of a request that stay the same across a registration (RFC 3261 §10.2). */
export interface RequestIds {
  callId: string;
  fromTag: string;
  cseq: number;
}

export interface RegisterSpec extends RequestIds {
  id: UeIdentity;
  /** Contact: the protected server endpoint, or the unprotected one for an unprotected REGISTER (TS 24.229 §5.1.1.2.2). */
  contact: Endpoint;
  /** `+sip.instance` (RFC 5626 §4.1): the UE's instance URN, e.g. `urn:uuid:…` or `urn:gsma:imei:…`. */
  instanceId?: string;
  /** Seconds asked for; 0 de-registers. */
  expires: number;
  authorization: DigestCredentials;
  securityClient?: readonly SecMechanism[];
  securityVerify?: readonly SecMechanism[];
  userAgent?: string;
}

/** `+g.3gpp.icsi-ref` of MMTel (TS 24.173 §5.1, TS 24.229 §5.1.1.2.1): the service the UE registers for. */
export const MMTEL_ICSI = 'urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel';

/**
 * A REGISTER's Contact as phones send it (TS 24.229 §5.1.1.2.1/§5.1.1.2.2): the UE's URI, its
 * `+sip.instance` (RFC 5626 §4.1; GRUU and flow identity, TS 24.229 §5.1.1.2.1) and the MMTel
 * ICSI feature tag (RFC 3840 §9).
 */
export function registerContact(e: Endpoint, instanceId?: string): string {
  const instance = instanceId ? `;+sip.instance="<${instanceId}>"` : '';
  return `<${endpointUri(e)}>${instance};+g.3gpp.icsi-ref="${MMTEL_ICSI}"`;
}

/** `sip:<address>:<port>` for a Contact or Route. */
export function endpointUri(e: Endpoint, params = ''): string {
  return `sip:${hostForHeader(e.address)}:${e.port}${params}`;
}

/** The Authorization of an initial REGISTER: TS 24.229 §5.1.1.2.2 (nonce and response empty). */
export function initialCredentials(id: UeIdentity): DigestCredentials {
  return { username: id.impi, realm: id.homeDomain, nonce: '', uri: `sip:${id.homeDomain}`, response: '' };
}

/**
 * The answer to an AKA challenge (RFC 3310 §3.3 AKAv1, RFC 4169 §3 AKAv2): the digest response
 * with RES (v1) or the AKAv2 password, qop=auth with a cnonce when the challenge offers it.
 */
export function challengeResponse(id: UeIdentity, ch: DigestChallenge, version: 1 | 2, keys: { res: Uint8Array; ik: Uint8Array; ck: Uint8Array }, rng: Rng): DigestCredentials {
  const uri = `sip:${id.homeDomain}`;
  const qop = ch.qop?.includes('auth') ? ('auth' as const) : undefined;
  const cnonce = qop ? toBase64(rng.bytes(12)).replace(/[^A-Za-z0-9]/g, 'x') : undefined;
  const password = akaPassword(version, keys.res, keys.ik, keys.ck);
  const response = digestResponse({ algorithm: version === 1 ? 'AKAv1-MD5' : 'AKAv2-MD5', username: id.impi, realm: ch.realm, password, method: 'REGISTER', uri, nonce: ch.nonce, qop, nc: qop ? 1 : undefined, cnonce });
  return {
    username: id.impi,
    realm: ch.realm,
    nonce: ch.nonce,
    uri,
    response,
    algorithm: ch.algorithm,
    ...(ch.opaque !== undefined ? { opaque: ch.opaque } : {}),
    ...(qop ? { qop, nc: '00000001', cnonce } : {}),
  };
}

/**
 * Synchronisation failure (RFC 3310 §3.4, TS 24.229 §5.1.1.5.3, R-FAIL-3): the nonce of the
 * challenge, `auts`, and a response computed with an empty password.
 */
export function syncFailureCredentials(id: UeIdentity, ch: DigestChallenge, auts: Uint8Array): DigestCredentials {
  const uri = `sip:${id.homeDomain}`;
  const response = digestResponse({ algorithm: ch.algorithm === 'AKAv2-MD5' ? 'AKAv2-MD5' : 'AKAv1-MD5', username: id.impi, realm: ch.realm, password: new Uint8Array(0), method: 'REGISTER', uri, nonce: ch.nonce });
  return { username: id.impi, realm: ch.realm, nonce: ch.nonce, uri, response, algorithm: ch.algorithm, auts, ...(ch.opaque !== undefined ? { opaque: ch.opaque } : {}) };
}

/**
 * Network authentication failure (TS 24.229 §5.1.1.5.3, R-FAIL-2): the nonce of the challenge,
 * an empty response and no `auts` tell the S-CSCF the challenge was deemed invalid.
 */
export function macFailureCredentials(id: UeIdentity, ch: DigestChallenge): DigestCredentials {
  return { username: id.impi, realm: ch.realm, nonce: ch.nonce, uri: `sip:${id.homeDomain}`, response: '', algorithm: ch.algorithm, ...(ch.opaque !== undefined ? { opaque: ch.opaque } : {}) };
}

function base(method: string, ids: RequestIds, from: string, to: string, userAgent?: string): SipHeaders {
  if (!Number.isInteger(ids.cseq) || ids.cseq < 1 || ids.cseq > 2 ** 31 - 1) throw new InvalidArgumentError('CSeq must be 1..2^31-1', 'cseq');
  const h = new SipHeaders();
  h.append('Max-Forwards', '70');
  h.append('From', `<${from}>;tag=${ids.fromTag}`);
  h.append('To', `<${to}>`);
  h.append('Call-ID', ids.callId);
  h.append('CSeq', `${ids.cseq} ${method}`);
  if (userAgent) h.append('User-Agent', userAgent);
  return h;
}

/**
 * A REGISTER (TS 24.229 §5.1.1.2.1/§5.1.1.2.2): Request-URI the home domain, From/To the IMPU,
 * Contact ({@link registerContact}), Expires, Authorization, Security-Client/-Verify with
 * Require and Proxy-Require `sec-agree` (RFC 3329 §2.3.1), Supported `path` and `sec-agree`.
 */
export function buildRegister(s: RegisterSpec): SipRequest {
  const h = base('REGISTER', s, s.id.impu, s.id.impu, s.userAgent);
  h.append('Contact', registerContact(s.contact, s.instanceId));
  h.append('Expires', String(s.expires));
  h.append('Authorization', formatDigestCredentials(s.authorization));
  const sec = (s.securityClient?.length ?? 0) > 0 || (s.securityVerify?.length ?? 0) > 0;
  if (s.securityClient && s.securityClient.length > 0) h.append('Security-Client', formatSecurityMechanisms([...s.securityClient]));
  if (s.securityVerify && s.securityVerify.length > 0) h.append('Security-Verify', formatSecurityMechanisms([...s.securityVerify]));
  if (sec) {
    h.append('Require', 'sec-agree');
    h.append('Proxy-Require', 'sec-agree');
  }
  h.append('Supported', sec ? 'path, sec-agree' : 'path');
  h.append('Allow', 'MESSAGE, NOTIFY, OPTIONS');
  return new SipRequest('REGISTER', `sip:${s.id.homeDomain}`, h);
}

export interface RoutedSpec extends RequestIds {
  id: UeIdentity;
  /** The preloaded Route set: P-CSCF URI (protected server port, `lr`), then the Service-Route. */
  route: readonly string[];
  contact: Endpoint;
  userAgent?: string;
}

/** The Route set of TS 24.229 §5.1.2A.1.1: the P-CSCF's protected URI, then Service-Route. */
export function routeSet(pcscf: Endpoint, serviceRoute: readonly string[]): string[] {
  return [`<${endpointUri(pcscf, ';lr')}>`, ...serviceRoute];
}

/**
 * The reg-event SUBSCRIBE (TS 24.229 §5.1.1.3, RFC 3680): to the IMPU, Event reg. A refresh
 * (RFC 6665 §4.1.2.1) is sent inside the dialog: the notifier's To tag, the next CSeq, the
 * dialog's remote target as Request-URI and its route set (RFC 3261 §12.2.1.1).
 */
export function buildSubscribe(s: RoutedSpec & { expires: number; toTag?: string; target?: string }): SipRequest {
  const h = base('SUBSCRIBE', s, s.id.impu, s.id.impu, s.userAgent);
  if (s.toTag !== undefined) h.set('To', `<${s.id.impu}>;tag=${s.toTag}`);
  for (const r of s.route) h.append('Route', r);
  h.append('Contact', `<${endpointUri(s.contact)}>`);
  h.append('Event', 'reg');
  h.append('Accept', 'application/reginfo+xml');
  h.append('Expires', String(s.expires));
  h.append('P-Preferred-Identity', `<${s.id.impu}>`);
  return new SipRequest('SUBSCRIBE', s.target ?? s.id.impu, h);
}

/** A page-mode MESSAGE (RFC 3428) from the UE's IMPU to `to`. */
export function buildMessage(s: RoutedSpec & { to: string; body: Uint8Array; contentType: string }): SipRequest {
  const h = base('MESSAGE', s, s.id.impu, s.to, s.userAgent);
  for (const r of s.route) h.append('Route', r);
  h.append('P-Preferred-Identity', `<${s.id.impu}>`);
  h.append('Content-Type', s.contentType);
  return new SipRequest('MESSAGE', s.to, h, s.body);
}
